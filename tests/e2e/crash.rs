//! Crash injection: `update-center-helper update` is killed with SIGKILL at 100 points spread
//! over its whole run (planning, download, removal, commit), and at every pass of every fail
//! point (each must fire); recovery itself is killed mid-commit too. After every kill, before
//! and after recovery, an independent judge (testbed::judge: it reads the files and hashes them
//! against the mirror's SHA256SUMS, never asking the helper) finds every invariant of
//! architecture.md intact and the helper's own report truthful; and after the next update the
//! judge finds the new version installed whole.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use testbed::judge::{Judge, Moment};
use testbed::mirror::{self, HttpMirror};
use testbed::setup::{Built, Setup};
use testbed::system::VersionSpec;

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

/// Four versions installed, BOOTED running, the source at `url`.
fn build(url: &str) -> Built {
    let built = Setup::new()
        .installed([
            VersionSpec::complete("202610010800"),
            VersionSpec::complete("202611010800"),
            VersionSpec::complete(BOOTED),
            VersionSpec::complete("202611200930"),
        ])
        .booted(Some(BOOTED))
        .build();
    built.system.use_source(url, false).expect("source");
    built
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

/// The helper's own report of a root (`inspect --json`), for the judge to check.
fn report(root: &Path) -> Result<serde_json::Value, String> {
    let output = helper()
        .args(["inspect", "--json", "--root"])
        .arg(root)
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "inspect failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("inspect printed no JSON: {e}"))
}

/// What the judge finds wrong with `root` at `moment`, the helper's report included.
fn judged(judge: &Judge, root: &Path, moment: Moment) -> Vec<String> {
    let mut problems = judge.verdict(root, moment);
    match report(root) {
        Ok(report) => problems.extend(judge.judge_report(root, &report)),
        Err(e) => problems.push(e),
    }
    problems
}

/// Runs one update, kills it, judges the root before and after recovery (recovery itself
/// killed first when `kill_recover` says where), and that the next update installs `NEW`.
/// Returns whether the kill landed before the update ended.
fn round(
    mirror: &Mirror,
    label: &str,
    kill: &Kill,
    kill_recover: Option<&str>,
    failures: &mut Vec<String>,
) -> bool {
    let built = build(&mirror.url);
    let system = &built.system;
    let judge = Judge::new(&system.root, &[&mirror.sums]).expect("the judge learns the bytes");
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
        Kill::At(point) => aborted(command.env("UPDATE_CENTER_FAILPOINT", point)),
    };
    let mut note = |moment: &str, problems: Vec<String>| {
        failures.extend(
            problems
                .into_iter()
                .map(|p| format!("{label}, {moment}: {p}")),
        );
    };
    note(
        "after the kill",
        judged(&judge, &system.root, Moment::AfterCrash),
    );
    if let Some(point) = kill_recover {
        let mut recover = helper();
        recover
            .args(["recover", "--root"])
            .arg(&system.root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .env("UPDATE_CENTER_FAILPOINT", point);
        if aborted(&mut recover) {
            note(
                "after recovery was killed",
                judged(&judge, &system.root, Moment::AfterCrash),
            );
        }
    }
    let recovered = helper()
        .args(["recover", "--root"])
        .arg(&system.root)
        .output()
        .expect("recover");
    if !recovered.status.success() {
        note(
            "recover",
            vec![String::from_utf8_lossy(&recovered.stderr).into_owned()],
        );
    }
    note(
        "after recovery",
        judged(&judge, &system.root, Moment::Settled),
    );
    let _ = helper()
        .args(["update", "--root"])
        .arg(&system.root)
        .output()
        .expect("update");
    // Whatever the helper says of it, the judge decides whether the next update worked.
    let mut problems = judged(&judge, &system.root, Moment::Settled);
    match judge.complete(&system.root) {
        Ok(complete) if complete.contains(NEW) => {}
        Ok(complete) => problems.push(format!("{NEW} is not installed whole: {complete:?}")),
        Err(e) => problems.push(e),
    }
    note("after the next update", problems);
    killed
}

/// Runs `command` (with a fail point set); whether it aborted there.
fn aborted(command: &mut Command) -> bool {
    use std::os::unix::process::ExitStatusExt;
    command.status().expect("run").signal() == Some(6)
}

/// The test's mirror: its URL and its `SHA256SUMS`.
struct Mirror {
    url: String,
    sums: std::path::PathBuf,
}

/// Fail points of the engine (`update_center_engine::failpoint::ALL`) and how often each is
/// passed in one update of this fixture (at most).
const FAIL_POINTS: [(&str, u32); 7] = [
    ("before-removal", 1),
    ("after-removing-a-file", 3),
    ("during-download", 4),
    ("after-download", 3),
    ("after-intent", 1),
    ("after-rename", 3),
    ("before-intent-removal", 1),
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

    let mirror = Mirror {
        url: server.url.clone(),
        sums: mirror_dir.join("SHA256SUMS"),
    };
    let mut failures = Vec::new();
    // Deterministic kills at every fail point, each pass of it.
    let mut at_points = 0;
    let mut fired = std::collections::BTreeSet::new();
    for (name, passes) in FAIL_POINTS {
        for n in 1..=passes {
            let label = format!("fail point {name}:{n}");
            if round(
                &mirror,
                &label,
                &Kill::At(format!("{name}:{n}")),
                None,
                &mut failures,
            ) {
                at_points += 1;
                fired.insert(name);
            }
        }
    }
    let silent: Vec<&str> = FAIL_POINTS
        .map(|(name, _)| name)
        .into_iter()
        .filter(|name| !fired.contains(name))
        .collect();
    assert!(
        silent.is_empty(),
        "fail points that never fired: {silent:?} (build the helper with the `failpoints` feature, as cargo xtask test does)"
    );
    // Recovery killed too: the update stops once its intent is recorded, and recovery is
    // killed after each rename of its commit; the next recovery must still finish the job.
    for n in 1..=3 {
        let label = format!("recovery killed at after-rename:{n}");
        round(
            &mirror,
            &label,
            &Kill::At("after-intent:1".into()),
            Some(&format!("after-rename:{n}")),
            &mut failures,
        );
    }

    // Timed kills spread over an undisturbed update's duration (the shorter of two probes, so
    // that kills land inside the update even when the machine gets faster).
    let mut full = Duration::MAX;
    for _ in 0..2 {
        let probe = build(&mirror.url);
        let started = Instant::now();
        let output = helper()
            .args(["update", "--root"])
            .arg(&probe.system.root)
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
        if round(&mirror, &label, &Kill::After(delay), None, &mut failures) {
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
