//! `update-center-helper`: the privileged helper. Without a subcommand it serves
//! `org.kde.UpdateCenter1` on the system bus; `inspect` works offline on a mounted root.

mod bin_facts;
mod render;
mod service;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use update_center_engine::inventory::Layout;

/// The Update Center helper.
#[derive(Parser)]
#[command(name = "update-center-helper", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    system: SystemArgs,
}

/// Which system to work on.
#[derive(clap::Args, Clone)]
struct SystemArgs {
    /// Root directory of the system.
    #[arg(long, global = true, default_value = "/")]
    root: PathBuf,
    /// Mount point of the EFI system partition inside the root (default: found at /efi, /boot
    /// or /boot/efi).
    #[arg(long, global = true)]
    esp: Option<PathBuf>,
    /// Mount point of the XBOOTLDR partition inside the root.
    #[arg(long, global = true)]
    xbootldr: Option<PathBuf>,
    /// Limit downloads to this many bytes per second (default: no limit).
    #[arg(long, global = true)]
    max_rate: Option<u64>,
    /// Network timeout in seconds for connecting to a mirror and for each answer.
    #[arg(long, global = true, default_value_t = update_center_engine::fetch::REQUEST_TIMEOUT_SECS)]
    timeout: u64,
    /// Accept a plain directory holding EFI/ or loader/ as the ESP (for roots that are not
    /// real systems); also set by SYSTEMD_RELAX_ESP_CHECKS=1, as for systemd-sysupdate.
    #[arg(long, global = true)]
    relax_esp_checks: bool,
}

impl SystemArgs {
    fn layout(&self) -> Layout {
        let relax = self.relax_esp_checks
            || std::env::var("SYSTEMD_RELAX_ESP_CHECKS")
                .is_ok_and(|v| matches!(v.as_str(), "1" | "yes" | "true"));
        Layout::detect(
            &self.root,
            self.esp.as_deref(),
            self.xbootldr.as_deref(),
            relax,
        )
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the D-Bus API on the system bus (the default).
    Serve,
    /// Print the definitions, warnings and installed versions of a root, without D-Bus.
    Inspect {
        /// Print JSON (stable, documented in docs/json.md) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Install the newest version the sources offer (or VERSION): plan, check room, download,
    /// verify, commit; removes old versions beyond InstancesMax first.
    Update {
        /// The version to install (default: the candidate).
        version: Option<String>,
        /// Print progress and the result as JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Finish or undo an update that was interrupted (power cut, killed process); `update`
    /// does this by itself first.
    Recover,
    /// Remove the oldest versions beyond InstancesMax (never the running or a protected one).
    Vacuum {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read what the update sources offer (verified by signature) and print the candidate,
    /// without D-Bus and without changing anything on disk.
    Check {
        /// Print JSON (stable, documented in docs/json.md) instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(error) = run(cli) {
        eprintln!("update-center-helper: error: {error:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let layout = cli.system.layout();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(service::serve(layout))
        }
        Command::Update { version, json } => {
            update(&layout, &fetcher(&cli.system), version.as_deref(), json)
        }
        Command::Vacuum { json } => vacuum(&layout, json),
        Command::Recover => {
            let state = update_center_engine::read_system(&layout)?;
            let recovery =
                update_center_engine::transaction::recover(&layout, &target_dirs(&state, &layout))?;
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

/// Every directory an update may write to, inside the root.
fn target_dirs(state: &update_center_engine::SystemState, layout: &Layout) -> Vec<PathBuf> {
    state
        .definitions
        .active()
        .filter_map(|t| layout.target_dir(t))
        .collect()
}

/// A fetcher with the timeouts asked for.
fn fetcher(system: &SystemArgs) -> update_center_engine::fetch::Fetcher {
    let request = std::time::Duration::from_secs(system.timeout.max(1));
    let connect = request.min(std::time::Duration::from_secs(
        update_center_engine::fetch::CONNECT_TIMEOUT_SECS,
    ));
    update_center_engine::fetch::Fetcher::with_timeouts(connect, request)
        .with_max_rate(system.max_rate)
}

fn update(
    layout: &Layout,
    fetcher: &update_center_engine::fetch::Fetcher,
    version: Option<&str>,
    json: bool,
) -> Result<()> {
    use update_center_engine::{catalog, plan, transaction};
    let state = update_center_engine::read_system(layout)?;
    let recovery = transaction::recover(layout, &target_dirs(&state, layout))?;
    let state = if recovery == transaction::Recovery::Clean {
        state
    } else {
        eprintln!("update-center-helper: recovered an interrupted update: {recovery:?}");
        update_center_engine::read_system(layout)?
    };
    let catalog = catalog::check(&state.definitions, &state.inventory, &layout.root, fetcher)?;
    let wanted = version
        .map(str::to_string)
        .or_else(|| catalog.candidate.clone());
    let offers: Vec<catalog::Offer> = catalog
        .versions
        .iter()
        .filter(|v| Some(&v.version) == wanted.as_ref())
        .flat_map(|v| v.files.clone())
        .collect();
    let sizes = bin_facts::sizes(fetcher, &offers)?;
    let plan = bin_facts::with_facts(layout, &sizes, |facts| {
        plan::plan(&state, &catalog, layout, version, facts)
    })?;
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
    // Ctrl+C or a stop by the service manager cancels the download at the next chunk: the
    // temporaries are removed, the bytes so far kept for the next run.
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, std::sync::Arc::clone(&cancel))?;
    }
    let mut last_percent = u64::MAX;
    transaction::execute(&plan, layout, fetcher, &cancel, &mut |p| match p {
        transaction::Progress::Downloading {
            done,
            total,
            rate_bytes_per_sec,
            eta_secs,
        } => {
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
        transaction::Progress::Committing => {
            if !json {
                eprintln!("\n  committing");
            }
        }
    })?;
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
