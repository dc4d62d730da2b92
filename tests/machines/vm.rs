//! The promise proven with the real boot chain (OVMF, systemd-boot, UKIs made by ukify, qemu):
//! the helper stages a new version whose health check fails; the real systemd-boot tries it
//! twice, counting down the boot counter in the entry's name on the FAT ESP, and falls back to
//! the previous version; the helper reads what systemd-boot left and records "version X failed
//! to boot 2 times; running Y". A rollback written to `loader.conf` is what the real
//! systemd-boot boots, and so is rolling forward again. With the helper inside the guest: it
//! stages an update from a local mirror, the new version boots on trial and its good boot is
//! blessed on the FAT ESP (the helper's health checks gate systemd-bless-boot). Run alone with
//! `cargo xtask vm-test`.

use testbed::setup::{Built, Setup};
use testbed::system::VersionSpec;
use testbed::vm::{Esp, Guests, StateDisk, boot, boot_system};

const OLD: &str = "202611010800";
const NEW: &str = "202611250800";

#[test]
fn a_failed_update_falls_back_through_the_real_systemd_boot_and_is_recorded() {
    // The guest parts first: the new version's UKI is what the mirror offers.
    let parts = tempfile::tempdir().expect("tempdir");
    let guests = Guests::new(parts.path()).expect("guest parts");
    // A local folder inside the root (as a USB stick would be) offers a new version whose
    // health check fails.
    let bad = std::fs::read(guests.uki(NEW, false).expect("uki")).expect("read");
    let built = Setup::new()
        .only(OLD)
        .offering(NEW, vec![(format!("kde-linux_{NEW}.efi"), bad)])
        .local_source("/srv/mirror/")
        .build();
    let (dir, root) = (&built.dir, &built.system.root);
    let entries = root.join("efi/EFI/Linux");
    // The installed version's boot entry is a real, healthy UKI.
    std::fs::copy(
        guests.uki(OLD, true).expect("uki"),
        entries.join(format!("kde-linux_{OLD}.efi")),
    )
    .expect("copy");
    let (ok, out, err) = testbed::offline(root, &["update"]);
    assert!(ok, "{out}{err}");
    assert!(
        entries.join(format!("kde-linux_{NEW}+2-0.efi")).exists(),
        "staged on trial"
    );

    // The real boot loader runs the ESP the helper wrote.
    let esp = Esp::create(&dir.path().join("esp.img"), &entries).expect("esp");
    let started = std::time::Instant::now();
    let serial = boot(&esp, dir.path(), 300).expect("boot");
    let took = started.elapsed();
    let boots: Vec<&str> = serial
        .lines()
        .filter(|l| l.contains("uc: booted version"))
        .collect();
    assert_eq!(
        boots,
        vec![
            format!("uc: booted version {NEW}, health bad").as_str(),
            format!("uc: booted version {NEW}, health bad").as_str(),
            format!("uc: booted version {OLD}, health good").as_str(),
        ],
        "two tries of the new version, then the old one:\n{serial}"
    );
    assert_eq!(
        esp.entries().expect("entries"),
        vec![
            format!("kde-linux_{OLD}.efi"),
            format!("kde-linux_{NEW}+0-2.efi")
        ],
        "systemd-boot counted the tries down on the ESP"
    );

    // What systemd-boot left is what the helper reads at the next boot.
    esp.copy_entries_to(&entries).expect("copy back");
    let (ok, out, err) = testbed::offline(root, &["boot-record", "--json"]);
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(report["version"], OLD);
    assert_eq!(report["fallback"]["failed"], NEW, "{out}");
    assert_eq!(report["fallback"]["tries"], 2);
    let (_, text, _) = testbed::offline(root, &["inspect"]);
    assert!(
        text.contains(&format!(
            "Attention: version {NEW} failed to boot 2 times; running {OLD}"
        )),
        "{text}"
    );
    assert!(testbed::invariants::broken(root).is_empty());
    eprintln!("vm: the fallback scenario booted three times in {took:?}");
}

#[test]
fn a_rollback_is_what_the_real_systemd_boot_boots() {
    let built = both_installed();
    let (dir, root) = (&built.dir, &built.system.root);
    let guests = Guests::new(dir.path()).expect("guest parts");
    let entries = root.join("efi/EFI/Linux");
    for version in [OLD, NEW] {
        std::fs::copy(
            guests.uki(version, true).expect("uki"),
            entries.join(format!("kde-linux_{version}.efi")),
        )
        .expect("copy");
    }
    let booted = |label: &str| -> String {
        let conf = std::fs::read_to_string(root.join("efi/loader/loader.conf")).unwrap_or_default();
        let esp = Esp::create_with(&dir.path().join(format!("{label}.img")), &entries, &conf)
            .expect("esp");
        let serial = boot(&esp, dir.path(), 300).expect("boot");
        serial
            .lines()
            .find_map(|l| l.split("uc: booted version ").nth(1))
            .and_then(|rest| rest.split(',').next())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(booted("before"), NEW, "the newest version boots by default");
    // No EFI variables here: the rollback goes to loader.conf.
    let (ok, out, err) = testbed::offline(root, &["rollback", OLD]);
    assert!(ok && out.contains("loader.conf"), "{out}{err}");
    assert_eq!(
        booted("rolled-back"),
        OLD,
        "systemd-boot follows the rollback"
    );
    let (ok, _, err) = testbed::offline(root, &["rollback", NEW]);
    assert!(ok, "{err}");
    assert_eq!(booted("forward"), NEW, "and rolling forward again");
}

/// A system guest's disks on the host, before it boots: OLD installed and running (a real,
/// healthy UKI on the ESP), NEW offered by a local mirror inside the root (as a USB stick would
/// be), and one required health check `check` with the shell script `script`.
fn prepared_system(check: &str, script: &str) -> Built {
    let guests = Guests::system().expect("guest parts");
    let next = std::fs::read(guests.uki(NEW, true).expect("uki")).expect("read");
    let built = Setup::new()
        .only(OLD)
        .offering(NEW, vec![(format!("kde-linux_{NEW}.efi"), next)])
        .local_source("/srv/mirror/")
        .build();
    let root = &built.system.root;
    std::fs::copy(
        guests.uki(OLD, true).expect("uki"),
        root.join(format!("efi/EFI/Linux/kde-linux_{OLD}.efi")),
    )
    .expect("copy");
    let checks = root.join("usr/lib/update-center/health.d");
    std::fs::create_dir_all(&checks).expect("mkdir");
    let check = checks.join(check);
    std::fs::write(&check, script).expect("check");
    std::fs::set_permissions(&check, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    built
}

/// OLD and NEW installed, NEW running.
fn both_installed() -> Built {
    Setup::new()
        .installed([VersionSpec::complete(OLD), VersionSpec::complete(NEW)])
        .booted(Some(NEW))
        .build()
}

#[test]
fn the_helper_in_the_guest_stages_an_update_that_boots_and_is_blessed() {
    // A required health check that passes, run by the helper in the guest.
    let built = prepared_system(
        "10-boots.required",
        "#!/bin/sh\necho the system came up\nexit 0\n",
    );
    let (dir, root) = (&built.dir, &built.system.root);
    let entries = root.join("efi/EFI/Linux");
    std::fs::write(root.join("uc-actions"), "stage\n").expect("actions");

    let esp = Esp::create(&dir.path().join("esp.img"), &entries).expect("esp");
    let state = StateDisk::create(&dir.path().join("state.img"), root).expect("state disk");
    let started = std::time::Instant::now();
    let serial = boot_system(&esp, &state, dir.path(), 600).expect("boot");
    let took = started.elapsed();
    let uc: Vec<&str> = serial.lines().filter(|l| l.starts_with("uc: ")).collect();
    let booted: Vec<&&str> = uc.iter().filter(|l| l.starts_with("uc: booted")).collect();
    assert_eq!(
        booted,
        [
            &format!("uc: booted version {OLD}").as_str(),
            &format!("uc: booted version {NEW}").as_str()
        ],
        "the old version, then the staged one:\n{serial}"
    );
    assert!(
        uc.iter()
            .any(|l| l.starts_with("uc: update: ") && l.contains(NEW)),
        "the helper staged the update in the guest:\n{serial}"
    );
    assert!(
        uc.contains(&format!("uc: esp: kde-linux_{NEW}+2-0.efi").as_str()),
        "staged on trial on the FAT ESP:\n{serial}"
    );
    assert_eq!(uc.last(), Some(&"uc: poweroff"), "{serial}");
    assert!(
        uc.iter()
            .any(|l| l.starts_with("uc: bless-boot: ") || l.contains("health-check")),
        "{serial}"
    );
    assert!(!serial.contains("uc: cannot"), "{serial}");

    // systemd-boot counted one try (+1-1), the helper blessed the good boot: no counter left.
    assert_eq!(
        esp.entries().expect("entries"),
        vec![
            format!("kde-linux_{OLD}.efi"),
            format!("kde-linux_{NEW}.efi")
        ],
        "{serial}"
    );
    // The state the guest wrote back: the history says so, offline on the host.
    let after = dir.path().join("after");
    state.extract(&after).expect("extract");
    esp.copy_entries_to(&after.join("efi/EFI/Linux"))
        .expect("copy back");
    let (ok, out, err) = testbed::offline(&after, &["history", "--json"]);
    assert!(ok, "{err}");
    let history: Vec<serde_json::Value> = serde_json::from_str(&out).expect("JSON");
    let events: Vec<(String, String)> = history
        .iter()
        .rev()
        .map(|r| {
            (
                r["event"].as_str().unwrap_or_default().to_string(),
                r["version"].as_str().unwrap_or_default().to_string(),
            )
        })
        .filter(|(e, _)| e != "health-checked")
        .collect();
    let wanted: Vec<(String, String)> = [
        ("booted", OLD),
        ("started", NEW),
        // The guest's mirror carries a stand-in index: the image comes whole, and says why.
        ("fetched", NEW),
        ("committed", NEW),
        ("booted", NEW),
    ]
    .iter()
    .map(|(e, v)| (e.to_string(), v.to_string()))
    .collect();
    assert_eq!(events, wanted, "{out}");
    assert!(testbed::invariants::broken(&after).is_empty());
    eprintln!("update and bless in the guest: {:.1} s", took.as_secs_f64());
}

#[test]
fn rollback_and_boot_once_through_ovmf_efi_variables_with_the_helper_in_the_guest() {
    let guests = Guests::system().expect("guest parts");
    let built = both_installed();
    let (dir, root) = (&built.dir, &built.system.root);
    let entries = root.join("efi/EFI/Linux");
    for version in [OLD, NEW] {
        std::fs::copy(
            guests.uki(version, true).expect("uki"),
            entries.join(format!("kde-linux_{version}.efi")),
        )
        .expect("copy");
    }
    // One action per boot, each done by the helper in the guest, which writes systemd-boot's
    // EFI variables (LoaderEntryDefault, LoaderEntryOneShot) into OVMF's variable store.
    std::fs::write(
        root.join("uc-actions"),
        format!("rollback {OLD}\nrollback {NEW}\nrollback --once {OLD}\nreboot\n"),
    )
    .expect("actions");
    let esp = Esp::create(&dir.path().join("esp.img"), &entries).expect("esp");
    let state = StateDisk::create(&dir.path().join("state.img"), root).expect("state disk");
    let started = std::time::Instant::now();
    let serial = boot_system(&esp, &state, dir.path(), 600).expect("boot");
    let took = started.elapsed();
    let booted: Vec<&str> = serial
        .lines()
        .filter_map(|l| l.strip_prefix("uc: booted version "))
        .collect();
    assert_eq!(
        booted,
        [NEW, OLD, NEW, OLD, NEW],
        "newest first; rollback to OLD; forward to NEW; OLD once; NEW again:\n{serial}"
    );
    assert!(!serial.contains("uc: cannot"), "{serial}");
    assert!(
        !serial
            .lines()
            .any(|l| l.starts_with("uc: rollback: ") && l.contains("rror")),
        "{serial}"
    );
    // Nothing was deleted: both entries are still there, blessed.
    assert_eq!(
        esp.entries().expect("entries"),
        vec![
            format!("kde-linux_{OLD}.efi"),
            format!("kde-linux_{NEW}.efi")
        ]
    );
    let after = dir.path().join("after");
    state.extract(&after).expect("extract");
    let (ok, out, err) = testbed::offline(&after, &["history", "--json"]);
    assert!(ok, "{err}");
    let history: Vec<serde_json::Value> = serde_json::from_str(&out).expect("JSON");
    let rollbacks: Vec<(String, bool)> = history
        .iter()
        .rev()
        .filter(|r| r["event"] == "rolled-back")
        .map(|r| {
            (
                r["version"].as_str().unwrap_or_default().to_string(),
                r["once"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(
        rollbacks,
        [
            (OLD.to_string(), false),
            (NEW.to_string(), false),
            (OLD.to_string(), true)
        ],
        "{out}"
    );
    eprintln!(
        "rollback, forward and once in the guest: {:.1} s",
        took.as_secs_f64()
    );
}

#[test]
fn a_failed_update_falls_back_and_the_helper_in_the_guest_records_it() {
    // A required check that fails on the new version (it reads the booted image's command
    // line), as when a new version's services do not come up.
    let built = prepared_system(
        "10-services.required",
        &format!(
            "#!/bin/sh\nif grep -q uc.version={NEW} /proc/cmdline; then echo the services did not start; exit 1; fi\nexit 0\n"
        ),
    );
    let (dir, root) = (&built.dir, &built.system.root);
    let entries = root.join("efi/EFI/Linux");
    std::fs::write(root.join("uc-actions"), "stage\n").expect("actions");

    let esp = Esp::create(&dir.path().join("esp.img"), &entries).expect("esp");
    let state = StateDisk::create(&dir.path().join("state.img"), root).expect("state disk");
    let started = std::time::Instant::now();
    let serial = boot_system(&esp, &state, dir.path(), 600).expect("boot");
    let took = started.elapsed();
    let booted: Vec<&str> = serial
        .lines()
        .filter_map(|l| l.strip_prefix("uc: booted version "))
        .collect();
    assert_eq!(
        booted,
        [OLD, NEW, NEW, OLD],
        "the old version stages the new one; it fails twice; systemd-boot falls back:\n{serial}"
    );
    // The helper in the guest said it at the boot after the fallback.
    let record = serial
        .lines()
        .rfind(|l| l.starts_with("uc: boot-record: "))
        .unwrap_or_default();
    assert!(
        record.contains(&format!(
            "version {NEW} failed to boot 2 times; running {OLD}"
        )),
        "{serial}"
    );
    assert_eq!(
        esp.entries().expect("entries"),
        vec![
            format!("kde-linux_{OLD}.efi"),
            format!("kde-linux_{NEW}+0-2.efi")
        ],
        "systemd-boot counted the tries down on the FAT ESP"
    );
    // The flag, in the state the guest wrote back, through `inspect --json`.
    let after = dir.path().join("after");
    state.extract(&after).expect("extract");
    esp.copy_entries_to(&after.join("efi/EFI/Linux"))
        .expect("copy back");
    let report = testbed::inspect(&after);
    // The record itself, not just its key (which every report has).
    assert_eq!(report["lifecycle"]["fallback"]["failed"], NEW, "{report:#}");
    assert_eq!(
        report["lifecycle"]["fallback"]["running"], OLD,
        "{report:#}"
    );
    assert!(testbed::invariants::broken(&after).is_empty());
    eprintln!(
        "failed update and fallback in the guest: {:.1} s",
        took.as_secs_f64()
    );
}
