//! The product on a real systemd system: the systemd guest (see `testbed::guest`) booted by
//! OVMF and systemd-boot under qemu, the helper started by the bus under its own unit, polkit
//! deciding through the shipped policy and a site rule, systemd-bless-boot blessing good boots.
//! Every verdict on the disks comes from the independent judge (`testbed::judge`), which never
//! asks the helper.

use testbed::guest::{self, BAD, GuestOs, Machine, NEW, OLD};
use testbed::judge::{Judge, Moment};

/// The lines of the boot that began with "booted version `version`" (the `n`th such boot).
fn boot_of<'a>(log: &'a str, version: &str, n: usize) -> Vec<&'a str> {
    log.split("uc: booted version ")
        .skip(1)
        .filter(|b| b.starts_with(version))
        .nth(n)
        .map(|b| b.lines().filter(|l| l.starts_with("uc: ")).collect())
        .unwrap_or_default()
}

/// The judge, taught what was installed before and what the mirror published.
fn judge(machine: &Machine) -> Judge {
    Judge::new(
        &machine.installed_before(),
        &[&machine.mirror.dir.join("SHA256SUMS")],
    )
    .expect("judge")
}

#[test]
fn an_administrator_updates_through_polkit_and_the_new_version_boots_blessed() {
    let os = GuestOs::get().expect("guest OS");
    let dir = tempfile::tempdir().expect("tempdir");
    let machine = os.machine(dir.path(), &[OLD], &[NEW]).expect("machine");
    let source = machine.source();
    let actions = vec![
        // bob is no administrator: polkit refuses him (exit 3), with no agent to ask.
        format!(
            "as_user update-center-cli settings Updates.Source {source}; \
             as_admin update-center-cli settings Updates.Source {source} && \
             as_admin update-center-cli check && as_admin update-center-cli update && then_reboot; \
             echo relay connections $(systemctl show -P NAccepted update-center-fetch.socket)"
        ),
        "as_admin update-center-cli status; as_admin update-center-cli history".to_string(),
    ];
    let started = std::time::Instant::now();
    let log = machine.boot(&actions, 900).expect("boot");
    let took = started.elapsed();
    eprintln!("{log}");
    assert_eq!(guest::booted(&log), [OLD, NEW], "{log}");
    let first = boot_of(&log, OLD, 0);
    let refused = first
        .iter()
        .position(|l| l.contains("uc: | exit"))
        .map(|i| first[i]);
    assert_eq!(refused, Some("uc: | exit 3"), "bob was refused:\n{log}");
    assert!(
        first.iter().filter(|l| **l == "uc: | exit 0").count() >= 3,
        "alice set the source, checked and updated:\n{log}"
    );
    // The helper has no network of its own: every request went through the relay.
    let relayed: usize = first
        .iter()
        .find_map(|l| l.strip_prefix("uc: | relay connections "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(relayed >= 3, "{relayed} relay connections:\n{log}");
    let second = boot_of(&log, NEW, 0);
    for wanted in [
        "uc: unit update-center-health-check active success",
        "uc: unit systemd-bless-boot active success",
        "uc: unit update-center-boot-record inactive success",
    ] {
        assert!(second.contains(&wanted), "{wanted}:\n{log}");
    }
    assert!(
        second
            .iter()
            .any(|l| l.starts_with("uc: boot-complete.target reached at ")),
        "{log}"
    );
    // The history, through the CLI: the new version booted from its blessed entry, after its
    // health checks passed.
    let booted_new = second
        .iter()
        .position(|l| l.contains(" booted ") && l.contains(&format!("\"version\":\"{NEW}\"")))
        .map(|i| second[i]);
    assert!(
        booted_new.is_some_and(|l| l.contains("\"good\":true")
            && l.contains(&format!("\"entry\":\"kde-linux_{NEW}.efi\""))),
        "the history says booted and blessed:\n{log}"
    );
    // systemd-bless-boot renamed the entry: no counter left.
    assert_eq!(
        machine.esp.entries().expect("entries"),
        [
            format!("kde-linux_{OLD}.efi"),
            format!("kde-linux_{NEW}.efi")
        ],
        "{log}"
    );
    let after = dir.path().join("after");
    machine.extract(&after, NEW).expect("extract");
    let problems = judge(&machine).verdict(&after, Moment::Settled);
    assert!(problems.is_empty(), "{problems:#?}\n{log}");
    eprintln!("update, reboot and bless: {:.0} s", took.as_secs_f64());
}

#[test]
fn a_version_whose_required_check_fails_falls_back_and_the_old_version_records_it() {
    let os = GuestOs::get().expect("guest OS");
    let dir = tempfile::tempdir().expect("tempdir");
    let machine = os.machine(dir.path(), &[OLD], &[BAD]).expect("machine");
    let source = machine.source();
    let actions = vec![
        format!(
            "as_admin update-center-cli settings Updates.Source {source} && \
             as_admin update-center-cli update && then_reboot"
        ),
        // The boots of BAD consume no action: the harness reboots them unblessed.
        "as_admin update-center-cli status; as_admin update-center-cli history".to_string(),
    ];
    let started = std::time::Instant::now();
    let log = machine.boot(&actions, 1200).expect("boot");
    let took = started.elapsed();
    // Two tries (TriesLeft=2), then systemd-boot's fallback to the old version.
    assert_eq!(guest::booted(&log), [OLD, BAD, BAD, OLD], "{log}");
    for n in 0..2 {
        let boot = boot_of(&log, BAD, n);
        assert!(
            boot.iter()
                .any(|l| l.starts_with("uc: unit update-center-health-check failed")),
            "try {n}: the required check failed:\n{log}"
        );
        assert!(
            boot.iter()
                .all(|l| !l.starts_with("uc: unit systemd-bless-boot active")),
            "try {n}: not blessed:\n{log}"
        );
    }
    assert_eq!(
        machine.esp.entries().expect("entries"),
        [
            format!("kde-linux_{OLD}.efi"),
            format!("kde-linux_{BAD}+0-2.efi")
        ],
        "systemd-boot counted both tries:\n{log}"
    );
    let last = boot_of(&log, OLD, 1);
    assert!(
        last.iter()
            .any(|l| l.starts_with("uc: | Attention:") && l.contains(BAD)),
        "the status says {BAD} failed to boot:\n{log}"
    );
    assert!(
        last.iter()
            .any(|l| l.contains("fallback-detected") && l.contains(BAD)),
        "the history has the fallback:\n{log}"
    );
    let after = dir.path().join("after");
    machine.extract(&after, OLD).expect("extract");
    let problems = judge(&machine).verdict(&after, Moment::Settled);
    assert!(problems.is_empty(), "{problems:#?}\n{log}");
    eprintln!(
        "update, two failed tries and fallback: {:.0} s",
        took.as_secs_f64()
    );
}

#[test]
fn a_machine_takes_a_restart_slot_in_etcd_and_its_units_give_it_back_once_the_new_version_is_well()
{
    // The site's etcd on the host (qemu's user network: 10.0.2.2 inside), one slot, the
    // rollout open to every machine.
    let cluster = testbed::etcd::EtcdCluster::start(1).expect("etcd");
    let etcd = update_center_engine::fleet::etcd::Etcd::new(&cluster.endpoints());
    let group = "guests";
    update_center_engine::fleet::semaphore::Semaphore::new(&etcd, group)
        .set_slots(1)
        .expect("slots");
    let rollouts = update_center_engine::fleet::rollout::Rollouts::new(&etcd, group);
    let first = update_center_engine::fleet::rollout::Rollout::default();
    rollouts
        .update(NEW, &first, |r| r.share_percent = 100)
        .expect("rollout");
    let members = cluster.endpoint_list().replace("127.0.0.1", "10.0.2.2");
    let os = GuestOs::get().expect("guest OS");
    let dir = tempfile::tempdir().expect("tempdir");
    let machine = os.machine(dir.path(), &[OLD], &[NEW]).expect("machine");
    let source = machine.source();
    let mut setup = String::new();
    for (key, value) in [
        ("Updates.Source", source.as_str()),
        ("Updates.AutomaticDownload", "yes"),
        ("Policy.Restart", "immediate"),
        ("Policy.WaitForSessions", "no"),
        ("Fleet.Etcd", members.as_str()),
        ("Fleet.Group", group),
    ] {
        setup.push_str(&format!(
            "as_admin update-center-cli settings {key} {value} >/dev/null && "
        ));
    }
    let actions = vec![
        // The check timer's command, as its unit runs it (root): it stages the version, takes
        // the slot in etcd and has logind restart the machine. (The harness would power off
        // after the action: it reboots too, as logind does.)
        format!("{setup} update-center-cli check --automatic; then_reboot"),
        // In the new version the health-check unit gave the slot back through the relay.
        "journalctl -b -u update-center-health-check -o cat --no-pager | grep -i slot".to_string(),
    ];
    let log = machine.boot(&actions, 900).expect("boot");
    assert_eq!(guest::booted(&log), [OLD, NEW], "{log}");
    let second = boot_of(&log, NEW, 0);
    assert!(
        second.iter().any(|l| l.contains(&format!(
            "version {NEW} is well: gave the restart slot back"
        ))),
        "the health-check unit gave the slot back:\n{log}"
    );
    // What etcd holds, read on the host: the machine started the version (it held the slot
    // for it), holds no slot now, and reported no failure.
    let state = rollouts.state(NEW, &first).expect("rollout state");
    assert_eq!((state.started, state.failed.len()), (1, 0), "{log}");
    assert!(
        update_center_engine::fleet::semaphore::Semaphore::new(&etcd, group)
            .holders()
            .expect("holders")
            .is_empty(),
        "{log}"
    );
    let (_, newest) = etcd
        .range_prefix(&format!("/update-center/fleet/{group}/slots/"), 0)
        .expect("range");
    let held_once = (1..=newest).any(|revision| {
        etcd.range_prefix(&format!("/update-center/fleet/{group}/slots/"), revision)
            .is_ok_and(|(kvs, _)| !kvs.is_empty())
    });
    assert!(held_once, "a slot was held during the restart:\n{log}");
}

#[test]
fn rollback_and_boot_once_go_through_the_firmwares_variables() {
    let os = GuestOs::get().expect("guest OS");
    let dir = tempfile::tempdir().expect("tempdir");
    let machine = os.machine(dir.path(), &[OLD, NEW], &[]).expect("machine");
    let actions: Vec<String> = [
        format!("as_admin update-center-cli rollback {OLD} && then_reboot"),
        format!("as_admin update-center-cli rollback --once {NEW} && then_reboot"),
        "as_admin update-center-cli status && then_reboot".to_string(),
        "as_admin update-center-cli status".to_string(),
    ]
    .to_vec();
    let started = std::time::Instant::now();
    let log = machine.boot(&actions, 1200).expect("boot");
    let took = started.elapsed();
    // The newest first; the rollback; the one boot of NEW; the default again.
    assert_eq!(guest::booted(&log), [NEW, OLD, NEW, OLD], "{log}");
    let once = boot_of(&log, NEW, 1);
    assert!(
        once.contains(&format!("uc: | Boots next:   {OLD}").as_str()),
        "after the one boot, the default again:\n{log}"
    );
    let after = dir.path().join("after");
    machine.extract(&after, OLD).expect("extract");
    assert_eq!(
        testbed::firmware::read_var(&after, "LoaderEntryDefault").as_deref(),
        Some(format!("kde-linux_{OLD}.efi").as_str()),
        "the rollback is in the firmware's variable store"
    );
    let problems = judge(&machine).verdict(&after, Moment::Settled);
    assert!(problems.is_empty(), "{problems:#?}\n{log}");
    eprintln!("rollback and boot once: {:.0} s", took.as_secs_f64());
}

/// Every key `update-center-cli settings` takes, with a value that is not its default.
const SETTINGS: [(&str, &str); 12] = [
    ("Health.TimeoutSec", "120"),
    ("Health.OnFailure", "reboot-previous"),
    ("Updates.MaxRateBytesPerSec", "1000000"),
    ("Updates.InstancesMax", "3"),
    ("Updates.Source", "/media/usb/kde-linux"),
    ("Updates.AutomaticCheck", "no"),
    ("Updates.AutomaticDownload", "yes"),
    ("Updates.PausedUntil", "2026-12-24T09:00:00Z"),
    ("Restart.Behaviour", "quiet"),
    ("Download.StallTimeoutSec", "45"),
    ("Download.MinRateBytesPerSec", "2048"),
    ("Download.DeadlineSec", "7200"),
];

#[test]
fn every_setting_works_under_the_shipped_unit_and_its_exposure_is_measured_inside() {
    let os = GuestOs::get().expect("guest OS");
    let dir = tempfile::tempdir().expect("tempdir");
    let machine = os.machine(dir.path(), &[OLD], &[]).expect("machine");
    let mut action = String::new();
    for (key, value) in SETTINGS {
        action.push_str(&format!(
            "as_admin update-center-cli settings {key} {value}; "
        ));
    }
    action.push_str("as_admin update-center-cli settings; ");
    for (key, _) in SETTINGS {
        action.push_str(&format!("as_admin update-center-cli settings {key} ''; "));
    }
    action.push_str(
        "for u in update-center-helper update-center-fetch@0 update-center-boot-record update-center-health-check update-center-check; do \
         systemd-analyze security --no-pager $u.service | tail -n 1; done",
    );
    let log = machine.boot(&[action], 600).expect("boot");
    let lines = guest::said(&log);
    // Each key was set (exit 0), then the list shows every value, then each reset.
    let sets = lines.iter().filter(|l| **l == "uc: | exit 0").count();
    assert_eq!(sets, 2 * SETTINGS.len() + 1, "{log}");
    for (key, value) in SETTINGS {
        assert!(
            lines.contains(&format!("uc: | {key}={value}").as_str()),
            "{key}={value} under the unit:\n{log}"
        );
    }
    // systemd-analyze on the running system, as an administrator would measure it.
    for (unit, budget) in testbed::EXPOSURE_BUDGETS {
        let score = testbed::exposure_score(&lines.join("\n"), unit)
            .unwrap_or_else(|| panic!("no exposure of {unit}:\n{log}"));
        eprintln!("{unit}: exposure {score} in the guest");
        assert!(score <= budget, "{unit}: {score} > {budget}");
    }
}

/// Where the power is cut: after which line of the update (the CLI's progress, through the
/// harness) and within how many milliseconds of it.
const PHASES: [(&str, &str, u64); 3] = [
    ("downloading", "uc: | Downloading ", 7_000),
    ("installing", "uc: | Installing ", 2_000),
    // The shutdown's own sync comes about a second later: a cut after it proves nothing.
    ("installed, before the reboot", "uc: | Version ", 800),
];

/// `wanted` power cuts while an administrator updates (phases in turn, moments from a seed
/// printed for replay). After each cut the judge reads the disks as the cut left them (the
/// journal replayed as the next mount would); every invariant must hold. Then, from the last
/// cut's state, one uninterrupted update must bring the new version up, blessed.
fn power_cuts(wanted: usize) {
    let os = GuestOs::get().expect("guest OS");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut seed: u64 = std::env::var("UC_POWER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x2545_f491_4f6c_dd1d);
    eprintln!("power cuts with seed {seed} (UC_POWER_SEED replays them)");
    let started = std::time::Instant::now();
    let mut machines = 0;
    let mut machine: Option<Machine> = None;
    let mut cuts: Vec<String> = Vec::new();
    let mut recovered = 0;
    while cuts.len() < wanted {
        assert!(
            machines <= wanted,
            "too many fresh machines: the update finished before the cuts"
        );
        let current = match machine.take() {
            Some(m) => m,
            None => {
                machines += 1;
                let work = dir.path().join(format!("machine-{machines}"));
                std::fs::create_dir_all(&work).expect("mkdir");
                os.machine(&work, &[OLD], &[NEW]).expect("machine")
            }
        };
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let (phase, marker, window) = PHASES[cuts.len() % PHASES.len()];
        let after = std::time::Duration::from_millis(seed % window);
        let action = format!(
            "as_admin update-center-cli settings Updates.Source {} && \
             as_admin update-center-cli update && then_reboot; \
             journalctl -b -u update-center-helper -o cat | grep -E 'recovered|The helper stopped'",
            current.source()
        );
        let (log, cut) = current
            .boot_and_cut(&[action], marker, after, 600)
            .expect("boot");
        assert!(cut, "the power was never cut ({phase}):\n{log}");
        assert!(
            guest::said(&log)
                .iter()
                .any(|l| l.starts_with("uc: writeback every 0 cs")
                    && l.contains("commit=600")
                    && l.contains("noauto_da_alloc")),
            "only what is fsynced survives:\n{log}"
        );
        recovered += guest::said(&log)
            .iter()
            .filter(|l| l.contains("recovered:") || l.contains("The helper stopped"))
            .count();
        let booted = *guest::booted(&log).last().expect("a version booted");
        let view = current.work.join("after");
        if view.exists() {
            std::fs::remove_dir_all(&view).expect("rm");
        }
        current.extract(&view, booted).expect("extract");
        let judge = judge(&current);
        let problems = judge.verdict(&view, Moment::AfterCrash);
        assert!(
            problems.is_empty(),
            "after a power cut {} ms into {phase}: {problems:#?}\n{log}",
            after.as_millis()
        );
        let complete = judge.complete(&view).expect("complete");
        eprintln!(
            "cut {}: {} ms into {phase}; complete afterwards: {complete:?}",
            cuts.len() + 1,
            after.as_millis()
        );
        cuts.push(format!("{phase} +{} ms", after.as_millis()));
        // Once the new version is whole, this machine has nothing left to cut short (but the
        // last one is kept for the final update).
        if !complete.contains(NEW) || cuts.len() == wanted {
            machine = Some(current);
        }
    }
    // The next update works, from whatever the last cut left.
    let machine = machine.expect("a machine");
    let log = machine
        .boot(
            &[
                format!(
                    "as_admin update-center-cli settings Updates.Source {}; \
                     as_admin update-center-cli update; then_reboot",
                    machine.source()
                ),
                "as_admin update-center-cli status".to_string(),
            ],
            900,
        )
        .expect("boot");
    assert_eq!(guest::booted(&log).last(), Some(&NEW), "{log}");
    assert!(
        guest::said(&log).contains(&"uc: unit systemd-bless-boot active success"),
        "{log}"
    );
    let view = machine.work.join("after");
    if view.exists() {
        std::fs::remove_dir_all(&view).expect("rm");
    }
    machine.extract(&view, NEW).expect("extract");
    let problems = judge(&machine).verdict(&view, Moment::Settled);
    assert!(problems.is_empty(), "{problems:#?}\n{log}");
    eprintln!(
        "{} power cuts ({}) on {machines} machine(s), {recovered} recoveries, in {:.0} s",
        cuts.len(),
        cuts.join(", "),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn three_power_cuts_while_updating_lose_nothing_that_was_promised() {
    power_cuts(3);
}

#[test]
#[ignore = "about twenty minutes: run with `cargo xtask vm-test --all`"]
fn thirty_power_cuts_while_updating_lose_nothing_that_was_promised() {
    power_cuts(30);
}

#[test]
#[ignore = "a measurement (about three minutes): run with `cargo xtask vm-test --all`"]
fn boot_time_to_boot_complete_target() {
    // NEW on trial five times: each boot's action puts its boot counter back (as a fresh
    // update would) after systemd-bless-boot blessed it.
    let os = GuestOs::get().expect("guest OS");
    let dir = tempfile::tempdir().expect("tempdir");
    let machine = os.machine(dir.path(), &[OLD, NEW], &[]).expect("machine");
    let retry = format!(
        "mv /efi/EFI/Linux/kde-linux_{NEW}.efi /efi/EFI/Linux/kde-linux_{NEW}+3-0.efi && then_reboot"
    );
    // The first boot (of the blessed NEW) only puts the counter on.
    let mut actions = vec![retry.clone(); 5];
    actions.push("true".to_string());
    let started = std::time::Instant::now();
    let log = machine.boot(&actions, 1200).expect("boot");
    let mut reached: Vec<f64> = log
        .lines()
        .filter_map(|l| l.split("uc: boot-complete.target reached at ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter_map(|us| us.parse::<f64>().ok())
        .map(|us| us / 1e6)
        .collect();
    assert_eq!(reached.len(), 5, "{log}");
    reached.sort_by(f64::total_cmp);
    eprintln!(
        "boot-complete.target after {reached:?} s of kernel uptime (sorted); median {:.1} s; \
         six boots (firmware and shutdown included) in {:.0} s",
        reached[2],
        started.elapsed().as_secs_f64()
    );
}
