//! A machine's slot across boots: what is noted, when it is given back, and for what.

use super::*;

fn layout() -> (tempfile::TempDir, Layout) {
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = Layout::detect(dir.path(), None, None, true);
    (dir, layout)
}

fn held(version: &str, boot: &str) -> Held {
    Held {
        group: "g".into(),
        id: "id".into(),
        version: version.into(),
        etcd: Vec::new(),
        fleetlock: None,
        lease: 0,
        booted_into: None,
        health_passed: None,
        failure_reported: false,
        taken_at: now(),
        lease_secs: 600,
        boot_id: Some(boot.into()),
        noted_at: 0,
    }
}

/// The root's machine is in boot `id`.
fn boot(layout: &Layout, id: &str) {
    let file = layout.root.join("proc/sys/kernel/random/boot_id");
    std::fs::create_dir_all(file.parent().expect("parent")).expect("proc");
    std::fs::write(file, format!("{id}\n")).expect("boot id");
}

#[test]
fn boots_and_health_checks_are_noted_for_the_version_the_slot_was_taken_for() {
    let (_dir, layout) = layout();
    // Nothing held: nothing noted, nothing written.
    boot(&layout, "b1");
    booted(&layout, Some("2")).expect("booted");
    assert!(load(&layout).is_none());
    save(&layout, &held("2", "b1")).expect("save");
    // Checks and records of the boot that took the slot (version 1, before the restart)
    // do not count.
    health_checked(&layout, Some("1"), true, false).expect("checked");
    booted(&layout, Some("1")).expect("booted");
    let before = load(&layout).expect("held");
    assert_eq!((before.booted_into, before.health_passed), (None, None));
    assert_eq!(settle(&layout, None, None), Ok(Settled::Waiting));
    // The next boot, a trial of version 2: its checks run before the boot record, fail,
    // and it falls back at once.
    boot(&layout, "b2");
    health_checked(&layout, Some("2"), false, true).expect("checked");
    let after = load(&layout).expect("held");
    assert_eq!(after.health_passed, Some(false));
    assert_eq!(
        after.booted_into, None,
        "what it comes up in is said next boot"
    );
    booted(&layout, Some("2")).expect("a boot record after the checks");
    // Version 1 again: the fallback is what is noted.
    boot(&layout, "b3");
    health_checked(&layout, Some("1"), true, false).expect("checked");
    booted(&layout, Some("1")).expect("booted");
    let after = load(&layout).expect("held");
    assert_eq!(after.booted_into.as_deref(), Some("1"));
    assert_eq!(after.health_passed, Some(false), "the verdict stays");
    assert_eq!(
        settle(&layout, Some("1"), None),
        Ok(Settled::Released {
            version: "2".into(),
            failed: Some("version 2 failed its health checks".into())
        })
    );
}

#[test]
fn a_boot_whose_checks_never_come_gives_the_slot_back_after_the_lease() {
    let (_dir, layout) = layout();
    boot(&layout, "b1");
    save(&layout, &held("2", "b1")).expect("save");
    // The next boot: the helper starts before anything noted it; it notes what runs.
    boot(&layout, "b2");
    assert_eq!(settle(&layout, Some("2"), None), Ok(Settled::Waiting));
    let mut noted = load(&layout).expect("held");
    assert_eq!(noted.booted_into.as_deref(), Some("2"));
    // A version that cannot be told is not noted.
    booted(&layout, None).expect("booted");
    assert_eq!(load(&layout).expect("held"), noted);
    // No health checks within the lease (a boot that is not on trial runs none).
    noted.noted_at -= 601;
    save(&layout, &noted).expect("save");
    assert_eq!(
        settle(&layout, Some("2"), None),
        Ok(Settled::Expired {
            version: "2".into(),
            why: "its health checks did not run within LeaseSec=".into()
        })
    );
    assert!(load(&layout).is_none());
}

#[test]
fn a_trial_boot_whose_checks_pass_before_the_boot_record_is_well() {
    let (_dir, layout) = layout();
    boot(&layout, "b1");
    save(&layout, &held("2", "b1")).expect("save");
    boot(&layout, "b2");
    health_checked(&layout, Some("2"), true, false).expect("checked");
    booted(&layout, Some("2")).expect("the boot record after it keeps the outcome");
    let after = load(&layout).expect("held");
    assert_eq!(
        (after.booted_into.as_deref(), after.health_passed),
        (Some("2"), Some(true))
    );
    // No servers: the slot of this (serverless) record is given back at once.
    assert_eq!(
        settle(&layout, None, None),
        Ok(Settled::Released {
            version: "2".into(),
            failed: None
        })
    );
    assert!(load(&layout).is_none());
}

#[test]
fn a_restart_that_never_came_gives_the_slot_back_after_its_lease() {
    let (_dir, layout) = layout();
    boot(&layout, "b1");
    let mut old = held("2", "b1");
    old.taken_at -= 601;
    save(&layout, &old).expect("save");
    assert_eq!(
        settle(&layout, None, None),
        Ok(Settled::Expired {
            version: "2".into(),
            why: "the restart did not come within LeaseSec=".into()
        })
    );
    assert!(load(&layout).is_none());
    // A file that cannot be read is said and removed.
    std::fs::write(path(&layout), "{").expect("garbage");
    let error = settle(&layout, None, None).expect_err("unreadable");
    assert!(error.contains("cannot be read"), "{error}");
    assert!(!path(&layout).exists());
}

#[test]
fn a_machine_without_a_machine_id_waits_and_says_so() {
    let (_dir, layout) = layout();
    let fleet = FleetSettings {
        etcd: vec!["http://127.0.0.1:9".into()],
        ..FleetSettings::default()
    };
    match before_restart(&layout, &fleet, "2", None) {
        Gate::Wait(reasons, detail) => {
            assert_eq!(reasons[0].kind, "no-machine-id");
            assert!(detail.contains("machine-id"), "{detail}");
        }
        Gate::Go(_) => panic!("no machine id, no slot"),
    }
}
