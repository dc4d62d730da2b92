//! Crash injection: `update-center-helper update` is killed with SIGKILL at 100 points spread
//! over its whole run (planning, download, removal, commit). After every kill, before and after
//! recovery, the invariants of architecture.md hold: every boot entry's version has all its
//! files, the booted version is still there, the history is readable; and the next update
//! succeeds.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use testbed::mirror::{self, HttpMirror};
use testbed::system::{Images, KdeLinuxRoot, VersionSpec};

/// Timed kills, on top of one kill at every pass of every fail point.
const TIMED_KILLS: usize = 90;
/// Kills that must land inside an update in all.
const MIN_KILLS: usize = 100;
/// Bound on timed rounds when many kills come too late.
const MAX_TIMED_ROUNDS: usize = 200;
const NEW: &str = "202611260800";
const BOOTED: &str = "202611150800";

fn helper() -> Command {
    let mut command = Command::new(testbed::binary("update-center-helper").expect("helper"));
    command.env("SYSTEMD_RELAX_ESP_CHECKS", "1");
    command
}

fn build(dir: &Path, url: &str) -> KdeLinuxRoot {
    let versions = [
        VersionSpec::complete("202610010800"),
        VersionSpec::complete("202611010800"),
        VersionSpec::complete(BOOTED),
        VersionSpec::complete("202611200930"),
    ];
    let system = KdeLinuxRoot::create(dir, &versions, Some(BOOTED), Images::Plain).expect("root");
    system.use_source(url, false).expect("source");
    system
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// How one round ends the update.
enum Kill {
    /// SIGKILL after this long.
    After(Duration),
    /// Abort at a fail point (`NAME:N`).
    At(String),
}

/// Runs one update, kills it, checks the invariants before and after recovery and that the
/// next update succeeds. Returns whether the kill landed before the update ended.
fn round(dir: &Path, url: &str, label: &str, kill: &Kill, failures: &mut Vec<String>) -> bool {
    let system = build(dir, url);
    let mut command = helper();
    command
        .args(["update", "--root"])
        .arg(&system.root)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let killed = match kill {
        Kill::After(delay) => {
            let mut child = command.spawn().expect("spawn");
            let deadline = Instant::now() + *delay;
            while Instant::now() < deadline && child.try_wait().expect("wait").is_none() {
                std::thread::yield_now();
            }
            let running = child.try_wait().expect("wait").is_none();
            let _ = child.kill();
            let _ = child.wait();
            running
        }
        Kill::At(point) => {
            use std::os::unix::process::ExitStatusExt;
            let status = command
                .env("UPDATE_CENTER_FAILPOINT", point)
                .status()
                .expect("run");
            status.signal() == Some(6)
        }
    };
    for problem in testbed::invariants::broken(&system.root) {
        failures.push(format!("{label}, before recovery: {problem}"));
    }
    let recovered = helper()
        .args(["recover", "--root"])
        .arg(&system.root)
        .output()
        .expect("recover");
    if !recovered.status.success() {
        failures.push(format!(
            "{label}: recover failed: {}",
            String::from_utf8_lossy(&recovered.stderr)
        ));
    }
    for problem in testbed::invariants::broken(&system.root) {
        failures.push(format!("{label}, after recovery: {problem}"));
    }
    let again = helper()
        .args(["update", "--root"])
        .arg(&system.root)
        .output()
        .expect("update");
    let text = String::from_utf8_lossy(&again.stdout).into_owned()
        + &String::from_utf8_lossy(&again.stderr);
    if !again.status.success()
        && !text.contains("is installed already")
        && !text.contains("up to date")
    {
        failures.push(format!("{label}: the next update failed: {text}"));
    }
    for problem in testbed::invariants::broken(&system.root) {
        failures.push(format!("{label}, after the next update: {problem}"));
    }
    let _ = std::fs::remove_dir_all(dir);
    killed
}

/// Fail points of the engine (`update_center_engine::failpoint::ALL`) and how often each is
/// passed in one update of this fixture (at most).
const FAIL_POINTS: [(&str, u32); 7] = [
    ("before-removal", 1),
    ("after-removing-a-file", 3),
    ("during-download", 4),
    ("after-download", 3),
    ("after-journal", 1),
    ("after-rename", 3),
    ("before-journal-removal", 1),
];

#[test]
fn killing_an_update_anywhere_never_breaks_the_invariants() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mirror_dir = dir.path().join("mirror");
    // Payloads large enough that downloading and syncing take a while.
    let payloads = [
        (
            format!("kde-linux_{NEW}_root-x86-64.erofs"),
            vec![7u8; 8 * 1024 * 1024],
        ),
        (format!("kde-linux_{NEW}.efi"), vec![7u8; 8 * 1024 * 1024]),
    ];
    mirror::with_payloads(&mirror_dir, NEW, &payloads).expect("mirror");
    let server = HttpMirror::serve(&mirror_dir).expect("serve");
    assert_eq!(
        FAIL_POINTS.map(|(name, _)| name),
        update_center_engine::failpoint::ALL,
        "every fail point of the engine is exercised"
    );

    let mut failures = Vec::new();
    // Deterministic kills at every fail point, each pass of it.
    let mut at_points = 0;
    for (name, passes) in FAIL_POINTS {
        for n in 1..=passes {
            let label = format!("fail point {name}:{n}");
            if round(
                &dir.path().join(format!("{name}-{n}")),
                &server.url,
                &label,
                &Kill::At(format!("{name}:{n}")),
                &mut failures,
            ) {
                at_points += 1;
            }
        }
    }
    assert!(
        at_points >= FAIL_POINTS.len(),
        "only {at_points} fail points fired: build the helper with the `failpoints` feature (cargo xtask test does)"
    );

    // Timed kills spread over an undisturbed update's duration (the shorter of two probes, so
    // that kills land inside the update even when the machine gets faster).
    let mut full = Duration::MAX;
    for probe_run in 0..2 {
        let probe = build(&dir.path().join(format!("probe-{probe_run}")), &server.url);
        let started = Instant::now();
        let output = helper()
            .args(["update", "--root"])
            .arg(&probe.root)
            .output()
            .expect("update");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        full = full.min(started.elapsed());
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut timed = 0;
    let mut n = 0;
    // Until enough kills landed inside an update, within a bound.
    while (at_points + timed < MIN_KILLS || n < TIMED_KILLS) && n < MAX_TIMED_ROUNDS {
        let delay =
            Duration::from_micros(rng.next() % u64::try_from(full.as_micros()).unwrap_or(1).max(1));
        let label = format!("timed kill {n} after {delay:?}");
        if round(
            &dir.path().join(format!("timed-{n}")),
            &server.url,
            &label,
            &Kill::After(delay),
            &mut failures,
        ) {
            timed += 1;
        }
        n += 1;
    }
    let kills = at_points + timed;
    eprintln!(
        "crash test: {kills} kills ({at_points} at fail points, {timed} timed over {full:?}), {} broken invariants",
        failures.len()
    );
    assert!(
        kills >= MIN_KILLS,
        "only {kills} kills landed inside an update"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
