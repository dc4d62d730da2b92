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
        "test" => env::run_inside(&args, &[], test),
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

/// The whole suite: build every target first (the end-to-end tests run the built binaries),
/// then run every test. The output ends with the test runner's summary.
fn test() -> Result<()> {
    status(cargo().args(["build", "--workspace", "--all-targets"]))?;
    status(cargo().args(["test", "--workspace", "--no-fail-fast"]))
}

/// Builds the binaries and hands over to the demo runner, which creates the demo system, starts
/// the private system bus with the helper and opens the GUI.
fn demo(args: &[String]) -> Result<()> {
    status(cargo().args(["build", "--workspace", "--bins"]))?;
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
