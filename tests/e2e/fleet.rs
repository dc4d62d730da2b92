//! Fleets against a real three-member etcd cluster on 127.0.0.1 (`testbed::etcd`): machines
//! simulated by the helper binary on roots of their own (each with its `/etc/machine-id`)
//! take and give back restart slots; what etcd recorded, read back revision by revision, shows
//! that no more machines ever held slots than the group allows. A machine that dies holding a
//! slot frees it when its lease runs out; a member down changes nothing; with every member
//! down no machine gets a slot, and each says why. Rollout waves stop themselves when the
//! failures the machines report reach the threshold. A FleetLock stand-in for airlock, backed
//! by the same etcd, answers the protocol's client.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use testbed::etcd::EtcdCluster;
use update_center_engine::fleet::etcd::Etcd;
use update_center_engine::fleet::fleetlock::{Answer, FleetLock};
use update_center_engine::fleet::rollout::{Decision, Rollout, Rollouts, bucket};
use update_center_engine::fleet::semaphore::{Semaphore, group_prefix};

/// A simulated machine: a root with a machine id.
struct Machine {
    root: tempfile::TempDir,
}

impl Machine {
    fn new(n: usize) -> Self {
        let root = tempfile::tempdir().expect("root");
        std::fs::create_dir_all(root.path().join("etc")).expect("etc");
        std::fs::write(
            root.path().join("etc/machine-id"),
            format!("{:032x}\n", 0xa11ce_u128 * 1_000 + n as u128),
        )
        .expect("machine-id");
        Self { root }
    }

    fn path(&self) -> &Path {
        self.root.path()
    }
}

/// Runs `update-center-helper --root ROOT fleet --etcd E --group G ARGS`.
fn fleet(root: &Path, etcd: &str, group: &str, args: &[&str]) -> (bool, String, String) {
    testbed::run(
        Command::new(testbed::binary("update-center-helper").expect("helper"))
            .arg("--root")
            .arg(root)
            .args(["fleet", "--etcd", etcd, "--group", group])
            .args(args),
    )
}

fn id_of(machine: &Machine, etcd: &str) -> String {
    let (ok, out, err) = fleet(machine.path(), etcd, "x", &["id"]);
    assert!(ok, "{err}");
    out.trim().to_string()
}

/// The most slots held at once at any revision of the group, and every machine that held one.
fn history_of_slots(etcd: &Etcd, group: &str) -> (usize, std::collections::BTreeSet<String>) {
    let prefix = format!("{}slots/", group_prefix(group));
    let (_, newest) = etcd.range_prefix(&prefix, 0).expect("range");
    let mut most = 0;
    let mut holders = std::collections::BTreeSet::new();
    for revision in 1..=newest {
        let (kvs, _) = etcd
            .range_prefix(&prefix, revision)
            .expect("range at a revision");
        most = most.max(kvs.len());
        holders.extend(kvs.into_iter().map(|kv| kv.value));
    }
    (most, holders)
}

#[test]
fn twenty_four_machines_restart_two_at_a_time_and_a_member_down_changes_nothing() {
    let mut cluster = EtcdCluster::start(3).expect("etcd");
    let endpoints = cluster.endpoint_list();
    let admin = Machine::new(999);
    let (ok, _, err) = fleet(admin.path(), &endpoints, "gpu", &["slots", "2"]);
    assert!(ok, "{err}");
    let machines: Vec<Machine> = (0..24).map(Machine::new).collect();
    let ids: std::collections::BTreeSet<String> =
        machines.iter().map(|m| id_of(m, &endpoints)).collect();
    assert_eq!(ids.len(), 24, "every machine has its own fleet id");

    // Each machine: take a slot (trying again while all are taken), restart (a keep-alive of
    // its lease stands for the boot), give the slot back. Half-way, the first member (the one
    // every machine asks first) goes down.
    let run = |machine: &Machine| {
        let mut refused = 0u32;
        loop {
            let (ok, out, err) = fleet(
                machine.path(),
                &endpoints,
                "gpu",
                &["--json", "acquire", "--ttl", "60"],
            );
            if ok {
                let got: serde_json::Value = serde_json::from_str(&out).expect("JSON");
                let lease = got["lease"].as_str().expect("lease").to_string();
                let (ok, _, err) =
                    fleet(machine.path(), &endpoints, "gpu", &["keep-alive", &lease]);
                assert!(ok, "{err}");
                let (ok, out, err) = fleet(
                    machine.path(),
                    &endpoints,
                    "gpu",
                    &["release", "--lease", &lease],
                );
                assert!(ok && out.contains("is free again"), "{out}{err}");
                return refused;
            }
            assert!(
                err.contains("every restart slot of group gpu is taken"),
                "{err}"
            );
            refused += 1;
            assert!(refused < 2_000, "never got a slot");
            // A machine waits a moment before it asks again, as the helper's timer would.
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let (first, second) = machines.split_at(12);
    let refusals: u32 = std::thread::scope(|scope| {
        let handles: Vec<_> = first.iter().map(|m| scope.spawn(move || run(m))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("machine"))
            .sum()
    });
    cluster.stop(0);
    let more: u32 = std::thread::scope(|scope| {
        let handles: Vec<_> = second.iter().map(|m| scope.spawn(move || run(m))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("machine"))
            .sum()
    });
    assert!(
        refusals + more > 0,
        "the machines never had to wait: the test proves nothing"
    );

    // What etcd recorded, revision by revision.
    let etcd = Etcd::new(&cluster.endpoints());
    let (most, holders) = history_of_slots(&etcd, "gpu");
    assert_eq!(
        most, 2,
        "at some moment more (or never two) machines held a slot"
    );
    assert_eq!(holders, ids, "every machine held a slot once");
    assert!(
        Semaphore::new(&etcd, "gpu")
            .holders()
            .expect("holders")
            .is_empty(),
        "every slot was given back"
    );
    // The member that was down catches up when it comes back.
    cluster.restart(0).expect("member back");
    let first_member = Etcd::new(&cluster.endpoints()[..1]);
    assert_eq!(history_of_slots(&first_member, "gpu").1, ids);
}

#[test]
fn a_machine_that_dies_holding_a_slot_frees_it_when_its_lease_runs_out() {
    let cluster = EtcdCluster::start(3).expect("etcd");
    let endpoints = cluster.endpoint_list();
    let (dead, waiting) = (Machine::new(1), Machine::new(2));
    // The machine takes the only slot with a lease of 4 s and is gone (nothing keeps the
    // lease alive).
    let (ok, _, err) = fleet(dead.path(), &endpoints, "lease", &["acquire", "--ttl", "4"]);
    assert!(ok, "{err}");
    let taken = Instant::now();
    let (ok, _, err) = fleet(
        waiting.path(),
        &endpoints,
        "lease",
        &["acquire", "--ttl", "60"],
    );
    assert!(!ok && err.contains("every restart slot"), "{err}");
    // The other one gets it once the lease has run out, not never.
    let got = loop {
        let (ok, out, err) = fleet(
            waiting.path(),
            &endpoints,
            "lease",
            &["acquire", "--ttl", "60"],
        );
        if ok {
            break out;
        }
        assert!(err.contains("every restart slot"), "{err}");
        assert!(
            taken.elapsed() < Duration::from_secs(30),
            "the slot of a dead machine is held forever"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(got.contains(&id_of(&waiting, &endpoints)), "{got}");
}

#[test]
fn with_every_member_down_no_machine_gets_a_slot_and_each_says_why() {
    let mut cluster = EtcdCluster::start(3).expect("etcd");
    let endpoints = cluster.endpoint_list();
    for n in 0..3 {
        cluster.stop(n);
    }
    for n in 0..3 {
        let machine = Machine::new(n);
        let (ok, out, err) = fleet(machine.path(), &endpoints, "gpu", &["acquire"]);
        assert!(!ok, "a slot without etcd: {out}");
        assert!(err.contains("no etcd member answered"), "{err}");
        for endpoint in cluster.endpoints() {
            assert!(err.contains(&endpoint), "{endpoint} not named: {err}");
        }
    }
}

#[test]
fn a_bad_version_stops_its_rollout_and_later_waves_never_start_it() {
    let cluster = EtcdCluster::start(3).expect("etcd");
    let endpoints = cluster.endpoint_list();
    let etcd = Etcd::new(&cluster.endpoints());
    let rollouts = Rollouts::new(&etcd, "wave");
    let ids: Vec<String> = (0..100).map(|n| format!("{:032x}", n + 7)).collect();
    // Stopped by the count of failures here (two); the share is tested beside the record.
    let first = Rollout {
        max_failure_percent: 0,
        ..Rollout::default()
    };
    let decide = |id: &str, version: &str| rollouts.decide(id, version, &first).expect("decide");

    // The first wave (5 %): exactly the machines whose bucket is below 5.
    let wave: Vec<&String> = ids.iter().filter(|id| bucket(id, "wave") < 5).collect();
    assert!(
        wave.len() >= 2,
        "too few machines in the first wave: {}",
        wave.len()
    );
    for id in &ids {
        let expected = bucket(id, "wave") < 5;
        assert_eq!(decide(id, "bad") == Decision::Go, expected, "{id}");
    }
    // The version fails its health checks on two of them: the rollout stops.
    for id in &wave {
        rollouts.report_started(id, "bad").expect("started");
    }
    rollouts
        .report_failed(wave[0], "bad", "health check gpu-smoke failed")
        .expect("failed");
    assert_eq!(
        decide(wave[1], "bad"),
        Decision::Go,
        "one failure is below the threshold"
    );
    rollouts
        .report_failed(wave[1], "bad", "fell back after 3 tries")
        .expect("failed");
    // The admin advances the rollout to every machine: still nobody starts it, and the
    // status says why.
    let admin = Machine::new(0);
    let (ok, _, err) = fleet(
        admin.path(),
        &endpoints,
        "wave",
        &["advance", "bad", "--share", "100"],
    );
    assert!(ok, "{err}");
    for id in &ids {
        let decision = decide(id, "bad");
        assert!(
            matches!(decision, Decision::Halted { failures: 2, .. }),
            "{id}: {decision:?}"
        );
        assert!(
            decision.to_string().contains("the rollout stopped"),
            "{decision}"
        );
    }
    // The administrator's command line, as `update-center-cli fleet`.
    let (ok, out, err) = testbed::run(
        Command::new(testbed::binary("update-center-cli").expect("cli"))
            .args(["fleet", "--etcd", &endpoints, "--group", "wave", "--json"])
            .args(["status", "bad"]),
    );
    assert!(ok, "{err}");
    let status: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(status["rollout"]["halted"], true, "{status}");
    assert_eq!(status["rollout"]["share_percent"], 100, "{status}");
    assert_eq!(
        status["rollout"]["failed"].as_array().map(Vec::len),
        Some(2)
    );

    // A good version: advance lets more machines in, pause holds them all, resume lets them go.
    let good_before = ids
        .iter()
        .filter(|id| decide(id, "good") == Decision::Go)
        .count();
    let (ok, _, err) = fleet(
        admin.path(),
        &endpoints,
        "wave",
        &["advance", "good", "--share", "50"],
    );
    assert!(ok, "{err}");
    let good_after = ids
        .iter()
        .filter(|id| decide(id, "good") == Decision::Go)
        .count();
    assert!(good_after > good_before, "{good_before} → {good_after}");
    let (ok, _, err) = fleet(admin.path(), &endpoints, "wave", &["pause", "good"]);
    assert!(ok, "{err}");
    assert!(ids.iter().all(|id| decide(id, "good") == Decision::Paused));
    let (ok, _, err) = fleet(admin.path(), &endpoints, "wave", &["resume", "good"]);
    assert!(ok, "{err}");
    assert_eq!(
        ids.iter()
            .filter(|id| decide(id, "good") == Decision::Go)
            .count(),
        good_after
    );
}

/// A FleetLock server backed by etcd, standing in for airlock (which Debian does not package):
/// the protocol's two calls on a semaphore of the same etcd.
pub(crate) struct FleetLockStandIn {
    pub(crate) url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FleetLockStandIn {
    pub(crate) fn serve(endpoints: Vec<String>) -> Self {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let etcd = Etcd::new(&endpoints);
            while !stopping.load(std::sync::atomic::Ordering::SeqCst) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                stream.set_nonblocking(false).expect("blocking");
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                reader.read_line(&mut line).expect("request line");
                let path = line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                let (mut length, mut protocol) = (0usize, false);
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).expect("header");
                    let header = header.trim().to_ascii_lowercase();
                    if header.is_empty() {
                        break;
                    }
                    if let Some(v) = header.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    protocol |= header == "fleet-lock-protocol: true";
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).expect("body");
                let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let id = request["client_params"]["id"].as_str().unwrap_or_default();
                let group = request["client_params"]["group"]
                    .as_str()
                    .unwrap_or_default();
                let slots = Semaphore::new(&etcd, group);
                let refused = |kind: &str, value: &str| {
                    (
                        409,
                        serde_json::json!({"kind": kind, "value": value}).to_string(),
                    )
                };
                let (status, answer) = if !protocol {
                    refused("missing_header", "fleet-lock-protocol: true is required")
                } else if path == "/v1/pre-reboot" {
                    let lease = etcd.grant(600).expect("lease");
                    match slots.acquire(id, lease).expect("acquire") {
                        Some(_) => (200, String::new()),
                        None => {
                            etcd.revoke(lease).expect("revoke");
                            refused("failed_lock", "all semaphore slots are taken")
                        }
                    }
                } else if path == "/v1/steady-state" {
                    slots.release(id).expect("release");
                    (200, String::new())
                } else {
                    (404, String::new())
                };
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        Self {
            url,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for FleetLockStandIn {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn the_fleetlock_client_takes_and_gives_back_slots_of_a_stand_in_for_airlock() {
    let cluster = EtcdCluster::start(3).expect("etcd");
    let etcd = Etcd::new(&cluster.endpoints());
    Semaphore::new(&etcd, "workers")
        .set_slots(2)
        .expect("slots");
    let server = FleetLockStandIn::serve(cluster.endpoints());
    let client = FleetLock::new(&server.url, Duration::from_secs(10));
    let ids: Vec<String> = (0..4).map(|n| format!("{:032x}", n + 1)).collect();
    let ask = |n: usize| client.pre_reboot(&ids[n], "workers").expect("ask");
    assert_eq!(ask(0), Answer::Granted);
    assert_eq!(ask(1), Answer::Granted);
    // Asking again for a slot it holds is granted again (a machine that restarted mid-way).
    assert_eq!(ask(1), Answer::Granted);
    let refused = ask(2);
    assert!(
        matches!(&refused, Answer::Refused { kind, .. } if kind == "failed_lock"),
        "{refused:?}"
    );
    let given_back = client.steady_state(&ids[0], "workers").expect("give back");
    assert_eq!(given_back, Answer::Granted);
    assert_eq!(ask(2), Answer::Granted);
    let holders: Vec<String> = Semaphore::new(&etcd, "workers")
        .holders()
        .expect("holders")
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(holders.len(), 2);
    assert!(
        holders.contains(&ids[1]) && holders.contains(&ids[2]),
        "{holders:?}"
    );
    // A server that is gone is an error that names it, not a slot.
    drop(server);
    let gone = FleetLock::new("http://127.0.0.1:9", Duration::from_secs(2));
    let error = gone
        .pre_reboot(&ids[3], "workers")
        .expect_err("nothing answers");
    assert!(
        error
            .to_string()
            .contains("http://127.0.0.1:9/v1/pre-reboot"),
        "{error}"
    );
}
