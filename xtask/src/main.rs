//! `cargo xtask`: the project's tasks.
//!
//! - `devroot`: build (or find) the Debian 13 root the GUI is built and tested in.
//! - `test`: the whole suite in the right environment.
//! - `demo [--screenshot FILE]`: a KDE Linux-shaped demo system, the helper on a private system
//!   bus and the GUI showing it.
//!
//! Every task but `devroot` runs in an environment with Qt >= 6.5 and KDE Frameworks 6: natively
//! when the host has them, otherwise inside the dev root through bwrap (see `env.rs`).

mod devroot;
mod env;
mod install;
mod vmimage;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  devroot                    build the Debian 13 dev root (cached; rebuilt when its package list changes)
  test                       build everything and run the whole test suite
  demo [--screenshot FILE]   run the GUI on a built-in demo system (FILE: render under Xvfb, write a PNG, exit)
  shell [COMMAND...]         run a command (default: bash) in the build environment
  bench [stage|api|gui|delta|fleet|all] [OPTIONS]  benchmarks with ratios against their baseline (default all; stage: --runs N --image-mb N --uki-mb N; delta: --mb N --tree DIR --changed-percent N --runs N; fleet: --machines N --slots N --wave PERCENT --restart-ms N --poll-ms N)
  fuzz [SECONDS]             run every cargo-fuzz target of fuzz/ for SECONDS each (default 600)
  vm-image                   build the systemd guest's Debian 13 OS image (cached; test and
                             vm-test build it when needed)
  vm-test [--all]            the scenarios with the real systemd-boot in qemu (also part of
                             test); --all adds the long ones (power cuts during staging)
  install --destdir DIR [--profile release|debug] [--no-build]
                             lay out binaries, data files, icon and docs under DIR
";

fn main() {
    if let Err(error) = run() {
        eprintln!("xtask: error: {error:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(task) = args.first() else {
        print!("{USAGE}");
        bail!("no task given");
    };
    let rest = &args[1..];
    match task.as_str() {
        "devroot" => {
            let root = devroot::ensure(&workspace_root()?)?;
            println!("{}", root.display());
            Ok(())
        }
        "test" => {
            guest_image()?;
            env::run_inside(&args, &[], test)
        }
        "vm-image" => {
            println!("{}", vmimage::ensure(&workspace_root()?)?.display());
            Ok(())
        }
        "demo" => {
            let (screenshot, extra) = parse_demo_args(rest)?;
            let binds: Vec<PathBuf> = screenshot
                .as_ref()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .into_iter()
                .collect();
            let mut forwarded = vec!["demo".to_string()];
            if let Some(path) = &screenshot {
                forwarded.push("--screenshot".into());
                forwarded.push(path.display().to_string());
            }
            forwarded.extend(extra);
            env::run_inside(&forwarded, &binds, || demo(&forwarded[1..]))
        }
        "shell" => env::run_inside(&args, &[], || {
            let (program, arguments) = match rest.split_first() {
                Some((p, a)) => (p.as_str(), a),
                None => ("bash", &[][..]),
            };
            status(Command::new(program).args(arguments))
        }),
        "vm-test" => {
            guest_image()?;
            env::run_inside(&args, &[], || {
                status(cargo().args([
                    "build",
                    "--workspace",
                    "--bins",
                    "--features",
                    DEV_FEATURES,
                ]))?;
                let mut test = cargo();
                test.args([
                    "test",
                    "--workspace",
                    "--features",
                    DEV_FEATURES,
                    "--test",
                    "machines",
                    "--",
                    "--nocapture",
                ]);
                // --all: also the long scenarios (the full set of power cuts), which `cargo
                // xtask test` leaves out.
                if rest.iter().any(|a| a == "--all") {
                    test.arg("--include-ignored");
                }
                status(&mut test)
            })
        }
        "fuzz" => fuzz(rest),
        "install" => {
            let options = install::options(rest)?;
            std::fs::create_dir_all(options.destdir())?;
            let binds = vec![options.destdir().to_path_buf()];
            let checkout = workspace_root()?;
            env::run_inside(&args, &binds, || install::install(&checkout, &options))
        }
        "bench" => env::run_inside(&args, &[], || bench(rest)),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            print!("{USAGE}");
            bail!("unknown task `{other}`")
        }
    }
}

/// Builds the benchmark and the helper in release mode and runs the benchmark.
fn bench(rest: &[String]) -> Result<()> {
    status(cargo().args([
        "build",
        "--release",
        "-p",
        "update-center-helper",
        "-p",
        "update-center-testbed",
        "--bin",
        "update-center-helper",
        "--bin",
        "update-center-bench",
    ]))?;
    if rest.is_empty() || rest.iter().any(|a| a == "gui" || a == "all") {
        // The GUI in release mode too.
        status(cargo().args([
            "build",
            "--release",
            "-p",
            "update-center",
            "--bin",
            "update-center",
        ]))?;
    }
    let runner = env::target_dir()?
        .join("release")
        .join("update-center-bench");
    status(Command::new(runner).args(rest))
}

/// The cargo-fuzz targets in `fuzz/`.
const FUZZ_TARGETS: [&str; 11] = [
    "ini",
    "pattern",
    "version",
    "sums",
    "metainfo",
    "manifest",
    "definitions",
    "osrelease",
    "compression",
    "signature",
    "caibx",
];

/// Runs every fuzz target for a while. Runs on the host: the engine needs no Qt. cargo-fuzz
/// needs unstable compiler flags, which `RUSTC_BOOTSTRAP=1` allows on the stable toolchain.
fn fuzz(rest: &[String]) -> Result<()> {
    let seconds: u64 = match rest.first() {
        Some(s) => s.parse().context("SECONDS must be a number")?,
        None => 600,
    };
    let fuzz_dir = workspace_root()?.join("fuzz");
    let installed = Command::new("cargo").args(["fuzz", "--version"]).output();
    if !matches!(installed, Ok(o) if o.status.success()) {
        status(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    for target in FUZZ_TARGETS {
        let corpus = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        eprintln!("xtask: fuzzing {target} for {seconds} s");
        status(
            Command::new("cargo")
                .current_dir(&fuzz_dir)
                .env("RUSTC_BOOTSTRAP", "1")
                .args(["fuzz", "run", "--sanitizer", "none", target])
                .arg(&corpus)
                .arg("--")
                .arg(format!("-max_total_time={seconds}"))
                .arg("-print_final_stats=1"),
        )?;
    }
    Ok(())
}

/// Makes the screenshot path absolute (relative to where the user ran the command), so that it
/// still names the same file inside the dev root.
fn parse_demo_args(rest: &[String]) -> Result<(Option<PathBuf>, Vec<String>)> {
    let mut screenshot = None;
    let mut extra = Vec::new();
    let mut iter = rest.iter();
    while let Some(arg) = iter.next() {
        if arg == "--screenshot" {
            let file = iter.next().context("--screenshot needs a file name")?;
            let path = PathBuf::from(file);
            let absolute = if path.is_absolute() {
                path
            } else {
                std::env::current_dir()?.join(path)
            };
            screenshot = Some(absolute);
        } else {
            extra.push(arg.clone());
        }
    }
    Ok((screenshot, extra))
}

/// The systemd guest's OS image, built on the host before the dev root is entered (mmdebstrap
/// runs there); inside the dev root it is taken as it is.
fn guest_image() -> Result<()> {
    if env::inside() {
        return Ok(());
    }
    vmimage::ensure(&workspace_root()?).map(|_| ())
}

/// Features of development builds: the same for tests and the demo, so that switching between
/// them does not rebuild the Qt bindings.
const DEV_FEATURES: &str = "update-center/qml-tests,update-center-helper/failpoints";

/// The whole suite: build every target first (the end-to-end tests run the built binaries),
/// then run every test. The output ends with the test runner's summary.
fn test() -> Result<()> {
    // Formatting is checked first: it takes a second and names every file that drifted.
    status(cargo().args(["fmt", "--all", "--check"]))?;
    status(cargo().args([
        "build",
        "--workspace",
        "--all-targets",
        "--features",
        DEV_FEATURES,
    ]))?;
    // Lints after the build, which leaves clippy little to compile again.
    status(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--features",
        DEV_FEATURES,
        "--",
        "--deny",
        "warnings",
    ]))?;
    let mut child = cargo()
        .args([
            "test",
            "--workspace",
            "--no-fail-fast",
            "--features",
            DEV_FEATURES,
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("cannot run cargo test")?;
    let stdout = child.stdout.take().context("cargo test has no stdout")?;
    let mut totals = Totals::default();
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
        let line = line?;
        println!("{line}");
        totals.add(&line);
    }
    let result = child.wait()?;
    // One closing line for the whole suite (cargo prints one summary per test binary).
    println!(
        "summary: {} passed, {} failed, {} skipped",
        totals.passed, totals.failed, totals.ignored
    );
    if !result.success() || totals.failed > 0 {
        bail!("tests failed");
    }
    if totals.passed == 0 {
        bail!("no test ran");
    }
    Ok(())
}

/// Sums of cargo test's `test result:` lines.
#[derive(Default)]
struct Totals {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl Totals {
    fn add(&mut self, line: &str) {
        let Some(rest) = line.strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match label {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                "ignored" => self.ignored += count,
                _ => {}
            }
        }
    }
}

/// Builds the binaries and hands over to the demo runner, which creates the demo system, starts
/// the private system bus with the helper and opens the GUI.
fn demo(args: &[String]) -> Result<()> {
    status(cargo().args(["build", "--workspace", "--bins", "--features", DEV_FEATURES]))?;
    let runner = env::target_dir()?.join("debug").join("update-center-demo");
    status(Command::new(runner).args(args))
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(workspace_root().unwrap_or_else(|_| PathBuf::from(".")));
    command
}

/// Runs a command, failing with its exit status.
fn status(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot start {:?}", command.get_program()))?;
    if !status.success() {
        bail!("{:?} failed ({status})", command.get_program());
    }
    Ok(())
}

/// The checkout this xtask belongs to.
fn workspace_root() -> Result<PathBuf> {
    // `cargo run` sets CARGO_MANIFEST_DIR at run time: prefer it, so that a binary built into a
    // target directory shared between checkouts still finds the checkout it was started from.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .context("xtask has no parent directory")
}

#[cfg(test)]
mod tests {
    use super::Totals;

    #[test]
    fn sums_the_summaries_of_every_test_binary() {
        let mut totals = Totals::default();
        totals.add("test result: ok. 8 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.00s");
        totals.add("test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s");
        totals.add("test foo ... ok");
        assert_eq!((totals.passed, totals.failed, totals.ignored), (11, 1, 2));
    }
}
