//! The helper's own restart slots: machines running the real helper (each with its dbus-daemon,
//! polkitd, a root of its own with its `/etc/machine-id`, and logind as a stand-in that counts
//! restarts) share a group in a real three-member etcd cluster through `[Fleet]` settings.
//! The check timer's command restarts a machine only when its rollout wave has come and it got
//! a slot; the boot record and the health checks (run offline, as their units run them) give
//! the slot back once the new version is well, or report its failure, which stops the
//! rollout for the machines after it. Each helper has no network of its own, as under its
//! unit: its downloads and its calls to etcd or the FleetLock server go through a download
//! relay served as systemd serves it. What etcd holds is read back directly, not through our
//! client's answers to the helper.

use std::collections::HashMap;
use std::path::Path;
use testbed::etcd::EtcdCluster;
use testbed::firmware;
use testbed::standins::StandIns;
use testbed::world::{B, NEW, World, world};
use update_center_engine::fleet::etcd::Etcd;
use update_center_engine::fleet::id::fleet_id;
use update_center_engine::fleet::rollout::{Rollout, Rollouts, bucket};
use update_center_engine::fleet::semaphore::Semaphore;

const GROUP: &str = "rack-7";

struct Machine {
    world: World,
    standins: StandIns,
    id: String,
    /// Requests the machine's relay served.
    relayed: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    _relay_dir: tempfile::TempDir,
}

/// A machine whose fleet id falls in a bucket at `min_bucket` or above (so that the first
/// wave, 5 %, does not include it), set up for immediate automatic restarts in the group with
/// the `[Fleet]` lines `fleet`.
fn machine(n: u128, min_bucket: u8, fleet: &str) -> Machine {
    let mut w = world(None);
    let standins = StandIns::start(&w.bus.address).expect("stand-ins");
    let (text, id) = (n * 1_000..)
        .map(|k| {
            let text = format!("{:032x}\n", 0xf1ee7_u128 << 64 | k);
            let id = fleet_id(&text).expect("fleet id");
            (text, id)
        })
        .find(|(_, id)| bucket(id, GROUP) >= min_bucket)
        .expect("a machine id in a later wave");
    std::fs::write(w.system.root.join("etc/machine-id"), text).expect("machine-id");
    let conf = w.system.root.join("etc/update-center/update-center.conf");
    std::fs::create_dir_all(conf.parent().expect("parent")).expect("etc");
    std::fs::write(
        conf,
        format!(
            "[Updates]\nAutomaticDownload=yes\n[Policy]\nRestart=immediate\n\
             [Fleet]\n{fleet}Group={GROUP}\nLeaseSec=600\n"
        ),
    )
    .expect("settings");
    let relay_dir = tempfile::tempdir().expect("relay dir");
    let socket = relay_dir.path().join("fetch.socket");
    let relayed = super::update::relay(&socket);
    w.start_helper_with(
        None,
        &[(update_center_engine::source::relay::SOCKET_ENV, &socket)],
    );
    Machine {
        world: w,
        standins,
        id,
        relayed,
        _relay_dir: relay_dir,
    }
}

/// The check timer's command on machine `m` (it succeeds whether the machine restarts or
/// waits); what it printed.
fn check(m: &Machine) -> String {
    let (ok, out, err) = m.world.cli(&["check", "--automatic"]);
    assert!(ok, "{out}{err}");
    out
}

/// The `Waiting` property.
fn waiting(w: &World) -> Vec<(String, HashMap<String, String>)> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async { w.proxy().await.waiting().await.expect("Waiting") })
}

fn kinds(w: &World) -> Vec<String> {
    waiting(w).into_iter().map(|(kind, _)| kind).collect()
}

/// The machine comes up in `version` (systemd-boot tries its entry) and runs its health checks
/// and its boot record in the order of their units on a trial boot (the checks before
/// boot-complete.target, the record after systemd-bless-boot): whether the checks passed, and
/// what both said.
fn boot(root: &Path, version: &str) -> (bool, String) {
    let _ = firmware::try_boot(root, version);
    firmware::running(root, version).expect("running");
    let (passed, out, err) = testbed::offline(root, &["health-check"]);
    let (ok, record, record_err) = testbed::offline(root, &["boot-record"]);
    assert!(ok, "{record}{record_err}");
    (passed, format!("{out}{err}"))
}

fn holders(etcd: &Etcd) -> Vec<String> {
    Semaphore::new(etcd, GROUP)
        .holders()
        .expect("holders")
        .into_iter()
        .map(|h| h.id)
        .collect()
}

fn slot_file(root: &Path) -> std::path::PathBuf {
    root.join("var/lib/update-center/fleet-slot.json")
}

#[test]
fn machines_restart_by_their_own_slots_and_a_failed_version_stops_the_waves_after_it() {
    let mut cluster = EtcdCluster::start(3).expect("etcd");
    let endpoints = cluster.endpoint_list();
    let etcd = Etcd::new(&cluster.endpoints());
    Semaphore::new(&etcd, GROUP).set_slots(1).expect("slots");
    let fleet = format!("Etcd={endpoints}\n");
    let machines: Vec<Machine> = (1..=4).map(|n| machine(n, 5, &fleet)).collect();
    let [a, b, c, d] = &machines[..] else {
        unreachable!()
    };

    // The first wave (5 %) does not include machine a: it stages the version and waits.
    let out = check(a);
    assert!(
        out.contains(&format!(
            "The automatic restart waits: the rollout of {NEW} has reached 5% of the machines"
        )),
        "{out}"
    );
    assert_eq!(kinds(&a.world), ["rollout-wave"]);
    assert_eq!(a.standins.reboots(), 0);
    assert!(holders(&etcd).is_empty());
    // Its question went through its relay: the record of the first wave is in etcd.
    let before = a.relayed.load(std::sync::atomic::Ordering::SeqCst);
    assert!(before > 0);
    assert_eq!(
        Rollouts::new(&etcd, GROUP)
            .record(NEW)
            .expect("record")
            .map(|(r, _)| r.share_percent),
        Some(5)
    );

    // The administrator widens the rollout to every machine; two failures stop it.
    let rollouts = Rollouts::new(&etcd, GROUP);
    rollouts
        .update(NEW, &Rollout::default(), |r| {
            r.share_percent = 100;
            r.max_failures = 2;
            r.max_failure_percent = 0;
        })
        .expect("advance");

    // a takes the only slot and restarts; its slot is written down before the restart and
    // bound to a lease that etcd keeps.
    let out = check(a);
    assert!(out.contains("Restarting into the staged version"), "{out}");
    assert_eq!(a.standins.reboots(), 1);
    assert_eq!(holders(&etcd), [a.id.as_str()]);
    assert!(a.relayed.load(std::sync::atomic::Ordering::SeqCst) > before);
    let slot = Semaphore::new(&etcd, GROUP).holders().expect("holders")[0].clone();
    assert!(slot.lease != 0, "the slot is bound to a lease");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(slot_file(&a.world.system.root)).expect("slot"))
            .expect("JSON");
    assert_eq!(written["lease"], slot.lease);
    assert_eq!(written["version"], NEW);

    // b stages the version too, but waits for the slot.
    let out = check(b);
    assert!(
        out.contains(&format!(
            "every restart slot of group {GROUP} is taken by machines restarting now"
        )),
        "{out}"
    );
    assert_eq!(kinds(&b.world), ["no-slot"]);
    assert_eq!(b.standins.reboots(), 0);

    // a comes up in the new version; its health checks pass and it gives the slot back (and
    // its lease with it).
    let (ok, said) = boot(&a.world.system.root, NEW);
    assert!(ok, "{said}");
    assert!(said.contains("gave the restart slot back"), "{said}");
    assert!(holders(&etcd).is_empty());
    assert!(!slot_file(&a.world.system.root).exists());
    assert!(
        etcd.keep_alive(slot.lease).map_or(true, |ttl| ttl <= 0),
        "the lease was revoked"
    );

    // Now b restarts; in the new version a required health check fails: it reports the
    // failure to the rollout and gives the slot back.
    let out = check(b);
    assert!(out.contains("Restarting into the staged version"), "{out}");
    assert_eq!(b.standins.reboots(), 1);
    assert_eq!(holders(&etcd), [b.id.as_str()]);
    let gpus = b
        .world
        .system
        .root
        .join("etc/update-center/health.d/50-gpus.required");
    std::fs::create_dir_all(gpus.parent().expect("parent")).expect("health.d");
    std::fs::write(&gpus, "#!/bin/sh\necho 'one GPU is missing'\nexit 1\n").expect("check");
    std::fs::set_permissions(&gpus, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("mode");
    let (ok, said) = boot(&b.world.system.root, NEW);
    assert!(!ok, "a required check failed: {said}");
    assert!(
        said.contains(&format!(
            "reported to the rollout: version {NEW} failed its health checks"
        )),
        "{said}"
    );
    assert!(holders(&etcd).is_empty());
    let state = rollouts.state(NEW, &Rollout::default()).expect("state");
    assert_eq!(state.started, 2);
    assert_eq!(
        state.failed,
        [(
            b.id.clone(),
            format!("version {NEW} failed its health checks")
        )]
    );
    assert!(!state.halted(), "one failure of two allowed");

    // c restarts too, but the new version never comes up: systemd-boot spends its tries and
    // falls back to the version before. The boot record finds the fallback; the failure is
    // reported and the slot given back.
    let out = check(c);
    assert!(out.contains("Restarting into the staged version"), "{out}");
    assert_eq!(holders(&etcd), [c.id.as_str()]);
    let root = &c.world.system.root;
    while firmware::try_boot(root, NEW).is_ok() {}
    firmware::running(root, B).expect("running the version before");
    let (ok, out, err) = testbed::offline(root, &["health-check"]);
    assert!(ok, "{out}{err}");
    let (ok, record, record_err) = testbed::offline(root, &["boot-record"]);
    assert!(ok, "{record}{record_err}");
    assert!(
        err.contains(&format!(
            "reported to the rollout: version {NEW} fell back to {B}"
        )),
        "{err}"
    );
    assert!(holders(&etcd).is_empty());
    let state = rollouts.state(NEW, &Rollout::default()).expect("state");
    assert_eq!((state.started, state.failed.len()), (3, 2));
    assert!(state.halted(), "two failures stop it");

    // With every etcd member down, d stages the version but cannot get a slot: no restart,
    // and it names the servers it tried.
    for n in 0..3 {
        cluster.stop(n);
    }
    let out = check(d);
    assert!(
        out.contains("the fleet's servers cannot be reached") && out.contains(&endpoints[..20]),
        "{out}"
    );
    assert_eq!(kinds(&d.world), ["fleet-unreachable"]);
    assert_eq!(d.standins.reboots(), 0);

    // The members are back: the rollout stopped, so d never starts the failed version.
    cluster.restart_all().expect("members back");
    let out = check(d);
    assert!(
        out.contains(&format!(
            "the rollout of {NEW} stopped: 2 of the 3 machines that started it reported a failure"
        )),
        "{out}"
    );
    let reasons = waiting(&d.world);
    assert_eq!(reasons.len(), 1);
    assert_eq!(reasons[0].0, "rollout-halted");
    assert_eq!(reasons[0].1["failures"], "2");
    assert_eq!(reasons[0].1["started"], "3");
    assert_eq!(d.standins.reboots(), 0);
    assert!(holders(&etcd).is_empty());
}

#[test]
fn machines_take_their_slots_from_a_fleetlock_server_and_give_them_back_when_well() {
    let cluster = EtcdCluster::start(3).expect("etcd");
    let etcd = Etcd::new(&cluster.endpoints());
    Semaphore::new(&etcd, GROUP).set_slots(1).expect("slots");
    let server = super::fleet::FleetLockStandIn::serve(cluster.endpoints());
    let fleet = format!("FleetLock={}\n", server.url);
    let (a, b) = (machine(4, 0, &fleet), machine(5, 0, &fleet));

    // logind refuses a's restart: the slot it took goes back at once.
    a.standins.set(|s| s.refuse_reboot = true);
    let (ok, out, err) = a.world.cli(&["check", "--automatic"]);
    assert!(
        !ok && err.contains("logind refused the restart"),
        "{out}{err}"
    );
    assert!(holders(&etcd).is_empty());
    assert!(!slot_file(&a.world.system.root).exists());
    a.standins.set(|s| s.refuse_reboot = false);

    let out = check(&a);
    assert!(out.contains("Restarting into the staged version"), "{out}");
    assert_eq!(holders(&etcd), [a.id.as_str()]);
    let out = check(&b);
    assert!(out.contains("every restart slot of group"), "{out}");
    assert_eq!(kinds(&b.world), ["no-slot"]);
    assert_eq!(b.standins.reboots(), 0);

    // a is well in the new version: steady-state gives the slot back, and b goes.
    let (ok, said) = boot(&a.world.system.root, NEW);
    assert!(ok && said.contains("gave the restart slot back"), "{said}");
    assert!(holders(&etcd).is_empty());
    let out = check(&b);
    assert!(out.contains("Restarting into the staged version"), "{out}");
    assert_eq!((a.standins.reboots(), b.standins.reboots()), (1, 1));
    assert_eq!(holders(&etcd), [b.id.as_str()]);
}
