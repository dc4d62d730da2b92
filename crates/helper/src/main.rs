//! `update-center-helper`: the privileged helper. Without a subcommand it serves
//! `org.kde.UpdateCenter1` on the system bus; `inspect` works offline on a mounted root.

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
        Command::Check { json } => {
            let state = update_center_engine::read_system(&layout)?;
            let fetcher = update_center_engine::fetch::Fetcher::new();
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
