//! The command line: subcommands, options and the exit statuses the help lists (clap
//! definitions; `main.rs` runs them).

use super::*;

pub const EXIT_CODES: &str = "\
Exit status:
  0    success
  1    the operation failed (the message says why)
  2    wrong usage
  3    not authorised (polkit refused)
  4    busy: another job is running
  5    the Update Center service or the system bus cannot be reached
  6    refused as the system is (unknown or incomplete version, nothing to update, ...) or
       an invalid argument
  7    no room on a file system
  130  cancelled";

/// Keeps an image-based system up to date and gets it back when an update goes wrong.
#[derive(Parser)]
#[command(name = "update-center-cli", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print JSON instead of text (one object per line for `update` and `check` progress).
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum Command {
    /// What runs, what boots next, what is on offer, and every installed version.
    Status,
    /// Print the completion script for SHELL (bash, zsh, fish, ...); distributions install it.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), as installed to man1.
    #[command(hide = true)]
    Manpage,
    /// Coordinate a group of machines through the site's etcd: `fleet --etcd URLS --group G
    /// status [VERSION] | slots N | advance VERSION --share P | pause VERSION | resume VERSION`
    /// (docs/fleets.md). Runs the helper's `fleet` command, which talks to etcd directly with
    /// the caller's own access to it; no D-Bus.
    #[command(disable_help_flag = true)]
    Fleet {
        /// The helper's `fleet` arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Ask the update sources what they offer.
    Check {
        /// Run as the daily timer does: do nothing when automatic checks are off or paused,
        /// and download and stage what is found when automatic download is on.
        #[arg(long)]
        automatic: bool,
    },
    /// Install the newest version, or VERSION; Ctrl+C cancels and leaves nothing behind.
    Update {
        /// The version to install (default: the newest on offer).
        version: Option<String>,
    },
    /// Make VERSION the version that boots (roll back, or forward again).
    Rollback {
        /// An installed, complete version.
        version: String,
        /// Boot it once, next time only.
        #[arg(long)]
        once: bool,
    },
    /// Never remove VERSION.
    Pin {
        /// An installed version.
        version: String,
    },
    /// Allow VERSION to be removed again.
    Unpin {
        /// A pinned version.
        version: String,
    },
    /// Remove an installed version (never the running, default or a pinned one).
    Remove {
        /// The version.
        version: String,
    },
    /// Remove the oldest versions beyond the configured number of instances.
    Vacuum,
    /// What happened: installs, failures, rollbacks, boots, health checks; newest first.
    History {
        /// Only records at or after this time (RFC 3339, e.g. 2026-11-01T00:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// Only records before this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// At most this many records.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Release notes and package changes between two versions (default: the running one and
    /// the update on offer).
    Changelog {
        /// The older version.
        from: Option<String>,
        /// The newer version.
        to: Option<String>,
    },
    /// Show the settings, or one; set one with KEY VALUE (an empty VALUE restores the default).
    Settings {
        /// Section.Key, e.g. Health.TimeoutSec.
        key: Option<String>,
        /// The new value.
        value: Option<String>,
    },
    /// Dismiss the notice that a version failed to boot.
    AcknowledgeFallback,
}
