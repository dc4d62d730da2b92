//! `update-center-helper`: the privileged helper. Without a subcommand it serves
//! `org.kde.UpdateCenter1` on the system bus; `inspect` works offline on a mounted root.

mod bin_facts;
mod cli;
mod journal;
mod render;
mod service;
mod stage;

use anyhow::Result;
use clap::Parser;
use cli::{Cli, Command, SystemArgs};
use update_center_engine::inventory::Layout;

/// What the helper does for itself before anything else, whoever started it: everything it
/// creates is private unless it sets another mode (the unit's `UMask=0077`, also when run by
/// hand), and no core dump or ptrace of another user may read the mirror credentials it holds.
fn harden_process() {
    use rustix::process::{DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit};
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let _ = set_dumpable_behavior(DumpableBehavior::NotDumpable);
    let _ = setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
}

fn main() {
    harden_process();
    let cli = Cli::parse();
    if let Err(error) = run(cli) {
        eprintln!("update-center-helper: error: {error:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let layout = cli.system.layout();
    match cli
        .command
        .clone()
        .unwrap_or(Command::Serve { idle_exit: 300 })
    {
        Command::Serve { idle_exit } => {
            let options = service::Options {
                layout: layout.clone(),
                timeout: std::time::Duration::from_secs(cli.system.timeout.max(1)),
                max_rate: cli.system.max_rate,
                idle_exit: (idle_exit > 0).then(|| std::time::Duration::from_secs(idle_exit)),
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(service::serve(options))
        }
        Command::Update { version, json } => {
            update(&layout, &fetcher(&cli.system), version.as_deref(), json)
        }
        Command::Vacuum { json } => vacuum(&layout, json),
        Command::Recover => {
            let state = update_center_engine::read_system(&layout)?;
            let recovery = update_center_engine::transaction::recover(
                &layout,
                &stage::target_dirs(&state, &layout),
            )?;
            println!("{recovery:?}");
            Ok(())
        }
        Command::Check { json } => {
            let state = update_center_engine::read_system(&layout)?;
            let fetcher = fetcher(&cli.system);
            let catalog = update_center_engine::catalog::check(
                &state.definitions,
                &state.inventory,
                &layout.root,
                &fetcher,
            )?;
            let mut out = std::io::stdout().lock();
            if json {
                render::check_json(&state, &catalog, &mut out)
            } else {
                render::check_text(&state, &catalog, &mut out)
            }
        }
        Command::Rollback {
            version,
            once,
            json,
        } => {
            let state = update_center_engine::read_system(&layout)?;
            let done = update_center_engine::lifecycle::rollback(&layout, &state, &version, once)?;
            if json {
                println!("{}", serde_json::to_string(&done)?);
            } else if once {
                println!(
                    "Version {} boots next time, once (entry {}).",
                    done.version, done.entry
                );
            } else {
                println!(
                    "Version {} is now the default boot entry ({}, written to {}).",
                    done.version, done.entry, done.written_to
                );
                if !done.held_back.is_empty() {
                    println!(
                        "Held back from automatic updates: {}.",
                        done.held_back.join(", ")
                    );
                }
            }
            Ok(())
        }
        Command::Pin { version } | Command::Unpin { version } => {
            let pin = matches!(cli.command, Some(Command::Pin { .. }));
            let state = update_center_engine::read_system(&layout)?;
            let changed =
                update_center_engine::lifecycle::set_pinned(&layout, &state, &version, pin)?;
            let what = if pin { "pinned" } else { "unpinned" };
            if changed {
                println!("Version {version} is {what}.");
            } else {
                println!("Version {version} was {what} already.");
            }
            Ok(())
        }
        Command::History {
            since,
            until,
            kinds,
            limit,
            json,
        } => history(&layout, since, until, kinds, limit, json),
        Command::HealthCheck {
            reboot_command,
            json,
        } => health_check(&layout, &reboot_command, json),
        Command::BootRecord { json } => {
            let state = update_center_engine::read_system(&layout)?;
            let report = update_center_engine::lifecycle::record_boot(&layout, &state)?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                let version = report.version.as_deref().unwrap_or("(unknown)");
                let how = if report.good {
                    "blessed as good".to_string()
                } else {
                    match (report.tries_left, report.tries_done) {
                        (Some(left), done) => {
                            format!("on trial: {left} tries left, {} done", done.unwrap_or(0))
                        }
                        _ => "entry unknown".to_string(),
                    }
                };
                println!("Booted {version} ({how}).");
                if let Some(fallback) = &report.fallback {
                    println!("Attention: {}.", fallback.message());
                }
            }
            Ok(())
        }
        Command::Changelog { from, to, json } => {
            changelog(&layout, &fetcher(&cli.system), from, to, json)
        }
        Command::FetchServer => {
            update_center_engine::relay::serve(std::io::stdin().lock(), std::io::stdout().lock())?;
            Ok(())
        }
        Command::Manpage => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .section("8")
                .render(&mut std::io::stdout())?;
            Ok(())
        }
        Command::Settings { key, value } => {
            let settings = match (key, value) {
                (Some(key), Some(value)) => {
                    update_center_engine::settings::set(&layout.root, &key, &value)?
                }
                (None, None) => update_center_engine::settings::load(&layout.root)?,
                _ => anyhow::bail!("give a KEY and a VALUE to set, or neither to print"),
            };
            for (key, value) in settings.to_map() {
                println!("{key}={value}");
            }
            Ok(())
        }
        Command::AcknowledgeFallback => {
            if update_center_engine::lifecycle::acknowledge_fallback(&layout)? {
                println!("Acknowledged.");
            } else {
                println!("No failed boot to acknowledge.");
            }
            Ok(())
        }
        Command::Inspect { json } => {
            let state = update_center_engine::read_system(&layout)?;
            let mut out = std::io::stdout().lock();
            if json {
                render::inspect_json(&state, &mut out)
            } else {
                render::inspect_text(&state, &mut out)
            }
        }
    }
}

/// A fetcher with the timeouts asked for.
fn fetcher(system: &SystemArgs) -> update_center_engine::fetch::Fetcher {
    let request = std::time::Duration::from_secs(system.timeout.max(1));
    // The administrator's settings apply offline too (bandwidth limit, download limits).
    update_center_engine::settings::load(&system.layout().root)
        .unwrap_or_default()
        .fetcher(request, system.max_rate)
}

fn update(
    layout: &Layout,
    fetcher: &update_center_engine::fetch::Fetcher,
    version: Option<&str>,
    json: bool,
) -> Result<()> {
    use update_center_engine::transaction::Progress;
    // Ctrl+C or a stop by the service manager cancels the download at the next chunk: the
    // temporaries are removed, the bytes so far kept for the next run.
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, std::sync::Arc::clone(&cancel))?;
    }
    let mut last_percent = u64::MAX;
    let plan = stage::run(
        layout,
        fetcher,
        version,
        &cancel,
        &mut |event| match event {
            stage::Event::Recovered(recovery) => {
                eprintln!("update-center-helper: recovered an interrupted update: {recovery:?}");
            }
            stage::Event::Planned(plan) => {
                if json {
                    println!("{}", serde_json::json!({ "event": "plan", "plan": plan }));
                } else {
                    eprintln!(
                        "Installing {} ({} bytes to download)",
                        plan.version, plan.download_bytes
                    );
                    for r in &plan.removals {
                        eprintln!("  removing version {} first", r.version);
                    }
                }
            }
            stage::Event::Progress(Progress::Downloading {
                done,
                total,
                rate_bytes_per_sec,
                eta_secs,
            }) => {
                let percent = (done * 100).checked_div(total).unwrap_or(100);
                if percent != last_percent {
                    last_percent = percent;
                    if json {
                        println!(
                            "{}",
                            serde_json::json!({
                                "event": "download", "done_bytes": done, "total_bytes": total,
                                "rate_bytes_per_sec": rate_bytes_per_sec, "eta_secs": eta_secs
                            })
                        );
                    } else {
                        let eta = eta_secs
                            .map(|s| format!(", {s} s left"))
                            .unwrap_or_default();
                        let rate = rate_bytes_per_sec as f64 / 1e6;
                        eprint!(
                            "\r  downloading: {percent:3}% ({done} of {total} bytes, {rate:.1} MB/s{eta})"
                        );
                    }
                }
            }
            stage::Event::Progress(Progress::Committing) => {
                if !json {
                    eprintln!("\n  committing");
                }
            }
        },
    )?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "event": "installed", "version": plan.version })
        );
    } else {
        println!(
            "Installed {}. It boots next time (on trial until it is blessed).",
            plan.version
        );
    }
    Ok(())
}

fn vacuum(layout: &Layout, json: bool) -> Result<()> {
    use update_center_engine::{plan, transaction};
    let state = update_center_engine::read_system(layout)?;
    let removals = bin_facts::with_facts(layout, &[], |facts| plan::vacuum(&state, facts));
    transaction::remove_versions(&removals, layout)?;
    let removed: Vec<&str> = removals.iter().map(|r| r.version.as_str()).collect();
    if json {
        println!("{}", serde_json::json!({ "removed": removed }));
    } else if removed.is_empty() {
        println!("Nothing to remove.");
    } else {
        println!("Removed {}.", removed.join(", "));
    }
    Ok(())
}

fn parse_time(text: Option<String>) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    text.map(|t| {
        chrono::DateTime::parse_from_rfc3339(&t)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|e| {
                anyhow::anyhow!("{t}: not an RFC 3339 time ({e}); e.g. 2026-11-01T00:00:00Z")
            })
    })
    .transpose()
}

fn history(
    layout: &Layout,
    since: Option<String>,
    until: Option<String>,
    kinds: Vec<String>,
    limit: Option<usize>,
    json: bool,
) -> Result<()> {
    use update_center_engine::history;
    let query = history::Query {
        since: parse_time(since)?,
        until: parse_time(until)?,
        kinds,
        limit,
    };
    let dir = layout.state_dir();
    let records = history::query(&dir, &query);
    if json {
        println!("{}", serde_json::to_string_pretty(&records)?);
        return Ok(());
    }
    if records.is_empty() {
        println!("No history.");
    }
    for record in records {
        let mut fields = serde_json::to_value(&record.event)?;
        if let Some(map) = fields.as_object_mut() {
            map.remove("event");
            map.remove("checks");
        }
        println!("{}  {:<22} {}", record.time, record.event.kind(), fields);
    }
    Ok(())
}

fn health_check(layout: &Layout, reboot_command: &str, json: bool) -> Result<()> {
    use update_center_engine::{health, history, lifecycle, settings};
    let settings = settings::load(&layout.root)?;
    let (checks, warnings) = health::discover(&layout.root);
    for w in &warnings {
        eprintln!("update-center-helper: warning: {w}");
    }
    let results = health::run_all(&checks, &layout.root, settings.health_timeout);
    let passed = !results
        .iter()
        .any(|r| r.kind == health::Kind::Required && r.failed());
    let dir = layout.state_dir();
    history::append(
        &dir,
        &history::Event::HealthChecked {
            passed,
            checks: results.clone(),
        },
    );
    if json {
        println!(
            "{}",
            serde_json::json!({ "passed": passed, "checks": results })
        );
    } else {
        for r in &results {
            let outcome = match &r.outcome {
                health::Outcome::Passed => "passed".to_string(),
                health::Outcome::Skipped => "skipped (does not apply here)".to_string(),
                health::Outcome::Failed { status: Some(s) } => format!("FAILED (exit status {s})"),
                health::Outcome::Failed { status: None } => {
                    "FAILED (killed by a signal)".to_string()
                }
                health::Outcome::TimedOut { after_secs } => {
                    format!("FAILED (no answer in {after_secs} s)")
                }
                health::Outcome::NotRun { reason } => format!("FAILED (cannot run: {reason})"),
            };
            println!(
                "{:<40} {:<9} {outcome}",
                r.name,
                format!("{:?}", r.kind).to_lowercase()
            );
            if r.failed() {
                for line in r.output.lines().take(20) {
                    println!("    {line}");
                }
            }
        }
        if checks.is_empty() {
            println!("No health checks are installed.");
        }
    }
    if passed {
        return Ok(());
    }
    if settings.on_failure == settings::OnFailure::RebootPrevious {
        let state = update_center_engine::read_system(layout)?;
        let previous = lifecycle::fall_back_now(layout, &state)?;
        eprintln!(
            "update-center-helper: a required health check failed: rebooting into {previous}"
        );
        let mut words = reboot_command.split_whitespace();
        let program = words
            .next()
            .ok_or_else(|| anyhow::anyhow!("empty reboot command"))?;
        let status = std::process::Command::new(program).args(words).status()?;
        if !status.success() {
            anyhow::bail!("`{reboot_command}` failed ({status})");
        }
    }
    anyhow::bail!("a required health check failed: this boot is not marked good")
}

fn changelog(
    layout: &Layout,
    fetcher: &update_center_engine::fetch::Fetcher,
    from: Option<String>,
    to: Option<String>,
    json: bool,
) -> Result<()> {
    use update_center_engine::{catalog, changelog};
    let state = update_center_engine::read_system(layout)?;
    let from = from
        .or_else(|| state.inventory.booted.clone())
        .ok_or_else(|| {
            anyhow::anyhow!("the running version is unknown (no IMAGE_VERSION): name FROM")
        })?;
    let to = match to {
        Some(to) => to,
        None => {
            let offered =
                catalog::check(&state.definitions, &state.inventory, &layout.root, fetcher)
                    .ok()
                    .and_then(|c| c.candidate);
            offered
                .or_else(|| state.inventory.versions.first().map(|v| v.version.clone()))
                .ok_or_else(|| anyhow::anyhow!("no newer version is known: name TO"))?
        }
    };
    let log = changelog::between(&state.definitions, &layout.root, fetcher, &from, &to);
    if json {
        println!("{}", serde_json::to_string_pretty(&log)?);
        return Ok(());
    }
    println!("Changes from {} to {}", log.from, log.to);
    for release in &log.releases {
        println!();
        match &release.date {
            Some(date) => println!("{} ({date})", release.version),
            None => println!("{}", release.version),
        }
        for line in &release.description {
            println!("  {line}");
        }
        for url in &release.urls {
            println!("  {url}");
        }
    }
    if log.releases.is_empty() {
        println!("\nNo release notes.");
    }
    for link in &log.links {
        println!("\nFull changelog: {link}");
    }
    if let Some(p) = &log.packages {
        println!(
            "\nPackages: {} upgraded, {} downgraded, {} added, {} removed",
            p.upgraded.len(),
            p.downgraded.len(),
            p.added.len(),
            p.removed.len()
        );
        for c in &p.upgraded {
            println!("  ↑ {} {} → {}", c.name, c.from, c.to);
        }
        for c in &p.downgraded {
            println!("  ↓ {} {} → {}", c.name, c.from, c.to);
        }
        for a in &p.added {
            println!("  + {} {}", a.name, a.version);
        }
        for r in &p.removed {
            println!("  - {} {}", r.name, r.version);
        }
    }
    for note in &log.notes {
        println!("\nNote: {note}");
    }
    Ok(())
}
