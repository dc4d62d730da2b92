//! The health checks: pass, fail, skip, hang, `/etc` overrides and masks, reboot into the
//! previous version, and the example checks (GPUs, units).

use super::*;

fn script(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write");
    let mut perms = std::fs::metadata(path).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(path, perms).expect("chmod");
}

fn health(root: &Path, extra: &[&str]) -> (bool, serde_json::Value, String) {
    let mut args = vec!["health-check", "--json"];
    args.extend_from_slice(extra);
    let (ok, out, err) = offline(root, &args);
    let value = serde_json::from_str(out.lines().last().unwrap_or("null")).unwrap_or_default();
    (ok, value, err)
}

fn outcome<'a>(results: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    results["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {results}"))
}

#[test]
fn health_checks_pass_fail_skip_hang_and_are_overridden_from_etc() {
    let (_dir, system) = retained(false);
    let root = &system.root;
    let vendor = root.join("usr/lib/update-center/health.d");
    let admin = root.join("etc/update-center/health.d");
    script(&vendor.join("10-pass.required"), "echo all good");
    script(
        &vendor.join("20-slow-disk.wanted"),
        "echo disk is slow; exit 3",
    );
    script(&vendor.join("30-not-here.required"), "exit 77");
    script(&vendor.join("40-broken.required"), "echo broken; exit 1");
    script(&admin.join("40-broken.required"), "echo fixed by the admin");
    script(&vendor.join("50-masked.required"), "exit 1");
    std::os::unix::fs::symlink("/dev/null", admin.join("50-masked.required")).expect("mask");
    std::fs::write(vendor.join("notes.txt"), "not a check").expect("write");

    let (ok, results, err) = health(root, &[]);
    assert!(ok, "only a wanted check failed: {results} {err}");
    assert_eq!(results["passed"], true);
    assert_eq!(
        results["checks"].as_array().map(Vec::len),
        Some(4),
        "{results}"
    );
    assert_eq!(outcome(&results, "10-pass.required")["outcome"], "passed");
    let slow = outcome(&results, "20-slow-disk.wanted");
    assert_eq!(slow["outcome"], "failed");
    assert_eq!(slow["status"], 3);
    assert!(
        slow["output"]
            .as_str()
            .unwrap_or_default()
            .contains("disk is slow")
    );
    assert_eq!(
        outcome(&results, "30-not-here.required")["outcome"],
        "skipped"
    );
    let fixed = outcome(&results, "40-broken.required");
    assert_eq!(fixed["outcome"], "passed");
    assert!(
        fixed["output"]
            .as_str()
            .unwrap_or_default()
            .contains("fixed by the admin")
    );
    assert!(
        err.contains("notes.txt") && err.contains("ignored"),
        "{err}"
    );

    // A required check that hangs is killed at its timeout, and fails the boot.
    std::fs::write(
        root.join("etc/update-center/update-center.conf"),
        "[Health]\nTimeoutSec=1\n",
    )
    .expect("settings");
    script(
        &admin.join("60-hangs.required"),
        "echo waiting; exec sleep 600",
    );
    let (ok, results, err) = health(root, &[]);
    assert!(!ok, "{results}");
    assert!(err.contains("not marked good"), "{err}");
    let hung = outcome(&results, "60-hangs.required");
    assert_eq!(hung["outcome"], "timed-out");
    assert!(
        hung["output"]
            .as_str()
            .unwrap_or_default()
            .contains("waiting")
    );
    let (_, history, _) = offline(root, &["history", "--kind", "health-checked", "--json"]);
    let records: serde_json::Value = serde_json::from_str(&history).expect("JSON");
    assert_eq!(records[0]["passed"], false, "newest first");
    assert_eq!(records[1]["passed"], true);
    assert!(
        history.contains("fixed by the admin"),
        "output is kept in the history"
    );
}

#[test]
fn a_failed_required_check_can_reboot_into_the_previous_version_at_once() {
    let mut on_trial = VersionSpec::complete(C);
    on_trial.counter = Some((1, 1));
    let built = Setup::new()
        .installed([VersionSpec::complete(B), on_trial])
        .booted(Some(C))
        .prepare_system(|system| {
            firmware::enable_efivars(&system.root).expect("efivars");
            running(&system.root, C).expect("running");
        })
        .build();
    let (dir, root) = (&built.dir, &built.system.root);
    script(
        &root.join("etc/update-center/health.d/10-fails.required"),
        "echo the database did not start; exit 1",
    );
    std::fs::write(
        root.join("etc/update-center/update-center.conf"),
        "[Health]\nOnFailure=reboot-previous\n",
    )
    .expect("settings");
    // Rebooting cannot happen here: a test double records that it was asked to.
    let marker = dir.path().join("rebooted");
    let reboot = dir.path().join("reboot-test-double");
    script(&reboot, &format!("touch '{}'", marker.display()));
    let reboot_command = reboot.display().to_string();
    let (ok, _, err) = health(root, &["--reboot-command", &reboot_command]);
    assert!(!ok);
    assert!(err.contains(&format!("rebooting into {B}")), "{err}");
    assert!(marker.exists(), "the reboot command ran");
    assert_eq!(
        counter(root, C),
        Some((0, 1)),
        "marked bad as systemd-bless-boot does"
    );
    assert_eq!(
        read_var(root, "LoaderEntryOneShot"),
        Some(format!("kde-linux_{B}.efi"))
    );
    assert_eq!(next_boot(root), format!("kde-linux_{B}.efi"));
    assert_invariants(root, "falling back at once");
}

/// The shipped example checks, run directly.
fn run_example(name: &str, root: &Path, path_dirs: &[&Path]) -> (i32, String) {
    let script = testbed::checkout().join("data/health.d").join(name);
    let path = std::env::join_paths(
        path_dirs
            .iter()
            .copied()
            .chain([Path::new("/usr/bin"), Path::new("/bin")]),
    )
    .expect("PATH");
    let output = std::process::Command::new(script)
        .env("UPDATE_CENTER_ROOT", root)
        .env("PATH", path)
        .output()
        .expect("run");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn the_gpu_check_counts_what_nvidia_smi_sees_and_skips_without_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("etc/update-center")).expect("mkdir");
    let (status, out) = run_example("50-nvidia-gpus.wanted", &root, &[]);
    assert_eq!(status, 77, "no nvidia-smi here: skipped; {out}");
    // nvidia-smi cannot run without a GPU: a test double prints what it prints for two.
    let bin = dir.path().join("bin");
    script(
        &bin.join("nvidia-smi"),
        "echo 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)'; echo 'GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-1)'",
    );
    let (status, out) = run_example("50-nvidia-gpus.wanted", &root, &[&bin]);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("sees 2 GPU(s)"), "{out}");
    std::fs::write(root.join("etc/update-center/expected-gpus"), "4\n").expect("write");
    let (status, out) = run_example("50-nvidia-gpus.wanted", &root, &[&bin]);
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("sees 2 GPU(s); 4 expected"), "{out}");
    script(
        &bin.join("nvidia-smi"),
        "echo 'NVIDIA-SMI has failed'; exit 9",
    );
    let (status, out) = run_example("50-nvidia-gpus.wanted", &root, &[&bin]);
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("nvidia-smi failed"), "{out}");
}

#[test]
fn the_units_check_names_a_unit_that_is_not_active() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let (status, out) = run_example("10-units-active.required", &root, &[]);
    assert_eq!(status, 0, "nothing listed, nothing to check: {out}");
    std::fs::create_dir_all(root.join("etc/update-center")).expect("mkdir");
    std::fs::write(
        root.join("etc/update-center/required-units"),
        "# the model server\nupdate-center-test-unit.service\n",
    )
    .expect("write");
    let (status, out) = run_example("10-units-active.required", &root, &[]);
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains("update-center-test-unit.service:") && out.contains("(expected active)"),
        "{out}"
    );
}
