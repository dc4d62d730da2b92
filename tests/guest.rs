//! The product on a real systemd system: the systemd guest (see `testbed::guest`) booted by
//! OVMF and systemd-boot under qemu, the helper started by the bus under its own unit, polkit
//! deciding through the shipped policy and a site rule, systemd-bless-boot blessing good boots.
//! Every verdict on the disks comes from the independent judge (`testbed::judge`), which never
//! asks the helper.

use testbed::guest::{self, GuestOs, Machine, NEW, OLD};
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
    let machine = os.machine(dir.path(), &[NEW]).expect("machine");
    let source = machine.source();
    let actions = vec![
        // bob is no administrator: polkit refuses him (exit 3), with no agent to ask.
        format!(
            "as_user update-center-cli settings Updates.Source {source}; \
             as_admin update-center-cli settings Updates.Source {source} && \
             as_admin update-center-cli check && as_admin update-center-cli update && then_reboot"
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
