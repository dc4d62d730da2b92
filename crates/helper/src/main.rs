//! `update-center-helper`: the privileged helper. Without a subcommand it serves
//! `org.kde.UpdateCenter1` on the system bus; `inspect` works offline on a mounted root.

mod cli;
mod fleet_cli;
mod fleet_sim;
mod journal;
mod render;
mod service;

use anyhow::Result;
use clap::Parser;
use cli::{Cli, Command, SystemArgs};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use update_center_engine::fleet::machine as fleet;
use update_center_engine::layout::Layout;
use update_center_engine::ops;
use update_center_engine::record::history;

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
    // Found on first use: the relay and `chunk` never look at a system.
    let layout = std::cell::LazyCell::new(|| cli.system.layout());
    // Unlocked handles: the service logs to stderr from other threads.
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    match cli
        .command
        .clone()
        .unwrap_or(Command::Serve { idle_exit: 300 })
    {
        Command::Serve { idle_exit } => {
            let options = service::Options {
                layout: (*layout).clone(),
                timeout: std::time::Duration::from_secs(cli.system.timeout_secs.max(1)),
                max_rate_bytes_per_sec: cli.system.max_rate_bytes_per_sec,
                idle_exit: (idle_exit > 0).then(|| std::time::Duration::from_secs(idle_exit)),
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(service::serve(options))
        }
        Command::Update { version, json } => {
            // Ctrl+C or a stop by the service manager cancels the download at the next chunk:
            // the temporaries are removed, the bytes so far kept for the next run.
            let cancel = Arc::new(AtomicBool::new(false));
            for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
                signal_hook::flag::register(signal, Arc::clone(&cancel))?;
            }
            let mut report = render::ops::UpdateReport::new(json);
            let mut failed_output = Ok(());
            let plan = ops::install(
                &layout,
                &fetcher(&cli.system),
                version.as_deref(),
                &cancel,
                &mut |event| {
                    if let Err(e) = report.event(&event, &mut out, &mut err) {
                        failed_output = Err(e);
                    }
                },
            )?;
            failed_output?;
            report.installed(&plan.version, &mut out)
        }
        Command::Vacuum { json } => render::ops::vacuum(&ops::vacuum(&layout)?, json, &mut out),
        Command::Recover => {
            writeln!(out, "{:?}", ops::recover(&layout)?)?;
            Ok(())
        }
        Command::Check { json } => {
            let never = AtomicBool::new(false);
            let check = ops::check(&layout, &fetcher(&cli.system), &never)?;
            if json {
                render::check_json(&check.state, &check.catalog, check.offer.as_ref(), &mut out)
            } else {
                render::check_text(&check.state, &check.catalog, check.offer.as_ref(), &mut out)
            }
        }
        Command::Rollback {
            version,
            once,
            json,
        } => render::ops::rollback(
            &ops::rollback(&layout, &version, once)?,
            once,
            json,
            &mut out,
        ),
        Command::Pin { version } | Command::Unpin { version } => {
            let pinned = matches!(cli.command, Some(Command::Pin { .. }));
            let changed = ops::pin(&layout, &version, pinned)?;
            render::ops::pin(&version, pinned, changed, &mut out)
        }
        Command::History {
            since,
            until,
            kinds,
            limit,
            json,
        } => {
            let query = history::Query {
                since: parse_time(since)?,
                until: parse_time(until)?,
                kinds,
                limit,
            };
            render::ops::history(&ops::history(&layout, &query), json, &mut out)
        }
        Command::HealthCheck {
            reboot_command,
            json,
        } => {
            let report = ops::run_health_checks(&layout)?;
            for w in &report.warnings {
                writeln!(err, "update-center-helper: warning: {w}")?;
            }
            settle_fleet_slot(&layout, &report, &mut err)?;
            render::ops::health(&report, json, &mut out)?;
            if report.passed {
                return Ok(());
            }
            if let Some(previous) = &report.fall_back_to {
                writeln!(
                    err,
                    "update-center-helper: a required health check failed: rebooting into {previous}"
                )?;
                reboot(&reboot_command)?;
            }
            anyhow::bail!("a required health check failed: this boot is not marked good")
        }
        Command::BootRecord { json } => {
            let state = update_center_engine::read_system(&layout)?;
            let report = update_center_engine::lifecycle::record_boot(&layout, &state)?;
            if let Err(e) = fleet::booted(&layout, report.version.as_deref()) {
                writeln!(
                    err,
                    "update-center-helper: warning: cannot note this boot for the fleet's restart slot: {e}"
                )?;
            }
            render::ops::boot_record(&report, json, &mut out)
        }
        Command::Changelog { from, to, json } => {
            let fetcher = fetcher(&cli.system);
            let offered = || {
                let never = AtomicBool::new(false);
                ops::check(&layout, &fetcher, &never)
                    .ok()
                    .and_then(|c| c.offer)
                    .map(|o| o.version)
            };
            let log = ops::changelog(&layout, &fetcher, from.as_deref(), to.as_deref(), offered)?;
            render::ops::changelog(&log, json, &mut out)
        }
        Command::FetchServer => {
            update_center_engine::source::relay::serve(
                std::io::stdin().lock(),
                std::io::stdout().lock(),
            )?;
            Ok(())
        }
        Command::Manpage => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .section("8")
                .render(&mut out)?;
            Ok(())
        }
        Command::Settings { key, value } => {
            match (key, value) {
                (Some(key), Some(value)) => ops::settings::set_setting(&layout, &key, &value)?,
                (None, None) => {}
                _ => anyhow::bail!("give a KEY and a VALUE to set, or neither to print"),
            }
            for (key, value) in ops::settings::settings_view(&layout)? {
                writeln!(out, "{key}={value}")?;
            }
            Ok(())
        }
        Command::AcknowledgeFallback => {
            if ops::acknowledge_fallback(&layout)? {
                writeln!(out, "Acknowledged.")?;
            } else {
                writeln!(out, "No failed boot to acknowledge.")?;
            }
            Ok(())
        }
        Command::Metrics { dir } => {
            let metrics = ops::read::metrics(&layout)?;
            match dir {
                Some(dir) => {
                    if !update_center_engine::record::metrics::write(&dir, &metrics)? {
                        anyhow::bail!("{} is not a directory", dir.display());
                    }
                }
                None => write!(out, "{}", metrics.render())?,
            }
            Ok(())
        }
        Command::Fleet {
            etcd,
            group,
            json,
            action,
        } => fleet_cli::run(&cli.system.root, &etcd, &group, json, action, &mut out),
        Command::Mirror {
            from,
            to,
            keep,
            json,
        } => {
            let cancel = Arc::new(AtomicBool::new(false));
            for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
                signal_hook::flag::register(signal, Arc::clone(&cancel))?;
            }
            let made =
                ops::mirror::mirror(&layout, &fetcher(&cli.system), &from, &to, keep, &cancel)?;
            if json {
                writeln!(out, "{}", serde_json::to_string(&made)?)?;
            } else {
                writeln!(
                    out,
                    "Mirrored {} ({} files, {} chunks) into {}; {} bytes downloaded, {} old files removed.",
                    made.versions.join(", "),
                    made.files,
                    made.chunks,
                    to.display(),
                    made.downloaded_bytes,
                    made.removed
                )?;
            }
            Ok(())
        }
        Command::Chunk {
            image,
            index,
            store,
            chunk_size,
        } => {
            let sizes = update_center_engine::delta::chunker::parse_sizes(&chunk_size)
                .map_err(anyhow::Error::msg)?;
            let made = update_center_engine::delta::store::publish(
                &image,
                &index,
                store.as_deref(),
                sizes,
            )?;
            writeln!(
                out,
                "{}: {} chunks ({} new in the store), index {}",
                image.display(),
                made.chunks,
                made.stored,
                index.display()
            )?;
            Ok(())
        }
        Command::Extract {
            index,
            out: target,
            store,
            image_url,
            seeds,
            jobs,
        } => {
            use update_center_engine::delta::index::{ChunkId, Index};
            use update_center_engine::delta::rebuild::{self, Remote};
            use update_center_engine::source::fetch::Location;
            let index = Index::parse(&std::fs::read(&index)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", index.display()))?;
            let seeds: Vec<rebuild::Seed> = seeds
                .iter()
                .filter_map(|s| rebuild::Seed::beside(s))
                .collect();
            let fetcher = fetcher(&cli.system);
            let store = store.unwrap_or_default();
            let location = store
                .starts_with("http")
                .then(|| Location::Http(format!("{}/", store.trim_end_matches('/'))));
            let from_store = |id: &ChunkId| match &location {
                Some(location) => fetcher
                    .get(location, &id.store_path(), 16 * 1024 * 1024)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| "the store does not have it".to_string()),
                None => std::fs::read(std::path::Path::new(&store).join(id.store_path()))
                    .map_err(|e| e.to_string()),
            };
            let url = image_url.clone().unwrap_or_default();
            let from_image = |start: u64, len: u64| {
                fetcher
                    .get_range(&url, start, len)
                    .map_err(|e| e.to_string())
            };
            let remote = match image_url {
                Some(_) => Remote::Ranges(&from_image),
                None => Remote::Store(&from_store),
            };
            let cancel = Arc::new(AtomicBool::new(false));
            for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
                signal_hook::flag::register(signal, Arc::clone(&cancel))?;
            }
            let sources =
                rebuild::rebuild(&index, &seeds, &target, remote, jobs, &cancel, &|_| {})?;
            render::ops::extracted(&sources, &mut out)
        }
        Command::Inspect { json } => {
            let state = update_center_engine::read_system(&layout)?;
            if json {
                render::inspect_json(&state, &mut out)
            } else {
                render::inspect_text(&state, &mut out)
            }
        }
    }
}

/// A fetcher with the timeouts asked for.
fn fetcher(system: &SystemArgs) -> update_center_engine::source::fetch::Fetcher {
    let request = std::time::Duration::from_secs(system.timeout_secs.max(1));
    // The administrator's settings apply offline too (bandwidth limit, download limits).
    update_center_engine::settings::load(&system.layout().root)
        .unwrap_or_default()
        .fetcher(request, system.max_rate_bytes_per_sec)
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

/// Runs the reboot command (a command line, split at white space).
fn reboot(command: &str) -> Result<()> {
    let mut words = command.split_whitespace();
    let program = words
        .next()
        .ok_or_else(|| anyhow::anyhow!("empty reboot command"))?;
    let status = std::process::Command::new(program).args(words).status()?;
    if !status.success() {
        anyhow::bail!("`{command}` failed ({status})");
    }
    Ok(())
}

/// After the health checks: notes their outcome for the fleet's restart slot and, unless the
/// machine falls back now, gives the slot back (or reports the failure); a server that cannot
/// be reached now is tried again by the check timer. Never fails the health check itself.
fn settle_fleet_slot(
    layout: &Layout,
    report: &ops::HealthReport,
    err: &mut impl Write,
) -> std::io::Result<()> {
    let falls_back = report.fall_back_to.is_some();
    let running = update_center_engine::read_system(layout)
        .ok()
        .and_then(|state| state.inventory.booted);
    if let Err(e) = fleet::health_checked(layout, running.as_deref(), report.passed, falls_back) {
        writeln!(
            err,
            "update-center-helper: warning: cannot note the health checks for the fleet's restart slot: {e}"
        )?;
    }
    if falls_back {
        return Ok(());
    }
    // Through the download relay where the unit names one: no HTTP parsed in this process.
    let relay = std::env::var_os(update_center_engine::source::relay::SOCKET_ENV)
        .map(std::path::PathBuf::from);
    match fleet::settle(layout, running.as_deref(), relay) {
        Ok(settled) => match settled.said() {
            Some((_, text)) => writeln!(err, "update-center-helper: {text}"),
            None => Ok(()),
        },
        Err(e) => writeln!(
            err,
            "update-center-helper: warning: cannot give the restart slot back yet (the check timer tries again): {e}"
        ),
    }
}
