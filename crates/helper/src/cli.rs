//! The helper's command line: its subcommands and the options that say which system it works
//! on (clap definitions; `main.rs` runs them).

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use update_center_engine::installed::inventory::Layout;

/// The Update Center helper.
#[derive(Parser)]
#[command(name = "update-center-helper", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub system: SystemArgs,
}

/// Which system to work on.
#[derive(clap::Args, Clone)]
pub struct SystemArgs {
    /// Root directory of the system.
    #[arg(long, global = true, default_value = "/")]
    pub root: PathBuf,
    /// Mount point of the EFI system partition inside the root (default: found at /efi, /boot
    /// or /boot/efi).
    #[arg(long, global = true)]
    pub esp: Option<PathBuf>,
    /// Mount point of the XBOOTLDR partition inside the root.
    #[arg(long, global = true)]
    pub xbootldr: Option<PathBuf>,
    /// Limit downloads to this many bytes per second (default: no limit).
    #[arg(long = "max-rate", global = true)]
    pub max_rate_bytes_per_sec: Option<u64>,
    /// Network timeout in seconds for connecting to a mirror and for each answer.
    #[arg(long = "timeout", global = true, default_value_t = update_center_engine::source::fetch::REQUEST_TIMEOUT_SECS)]
    pub timeout_secs: u64,
    /// Accept a plain directory holding EFI/ or loader/ as the ESP (for roots that are not
    /// real systems); also set by SYSTEMD_RELAX_ESP_CHECKS=1, as for systemd-sysupdate.
    #[arg(long, global = true)]
    pub relax_esp_checks: bool,
}

impl SystemArgs {
    pub fn layout(&self) -> Layout {
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

#[derive(Subcommand, Clone)]
pub enum Command {
    /// Serve the D-Bus API on the system bus (the default).
    Serve {
        /// Exit after this many seconds without a call or a job (0: never); the bus starts
        /// the helper again when it is needed.
        #[arg(long, default_value_t = 300)]
        idle_exit: u64,
    },
    /// Cut IMAGE into chunks where `casync make` cuts and write its index (and the chunks into
    /// a store), so that a site publishes deltas of its own images; the index is byte for byte
    /// the one casync makes.
    Chunk {
        /// The file to cut (an EROFS image).
        image: PathBuf,
        /// Where to write the index (`.caibx`).
        #[arg(long)]
        index: PathBuf,
        /// A chunk store to add the chunks to (`<first 4 hex>/<id>.cacnk`, zstd).
        #[arg(long)]
        store: Option<PathBuf>,
        /// Chunk sizes in bytes, MIN:AVG:MAX, or AVG alone (MIN AVG/4, MAX 4×AVG, as casync's
        /// --chunk-size); the default is KDE Linux's 1/2/4 MiB.
        #[arg(long, default_value = "1048576:2097152:4194304")]
        chunk_size: String,
    },
    /// Write the metrics for Prometheus (node-exporter's textfile collector format) from the
    /// history and the installed versions: to DIR/update_center.prom, or to standard output.
    Metrics {
        /// The textfile collector's directory.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Copy the newest versions a source offers into a folder, verified on the way in (the
    /// signed SHA256SUMS by the system's keyring, every file by its hash, every chunk of the
    /// store beside the images by its id), for an air-gapped site: served by any static web
    /// server, or used as a local folder source. An interrupted run resumes; nothing is
    /// published unless all of it is verified.
    Mirror {
        /// The source: an http(s) URL, or a folder inside the root.
        from: String,
        /// The folder to write (created when missing).
        to: PathBuf,
        /// How many of the newest complete versions to keep.
        #[arg(long, default_value_t = 2)]
        keep: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Coordinate a group of machines through the site's etcd (docs/fleets.md): restart slots
    /// that a machine holds from before its restart until the new version is well, and
    /// rollout waves that stop themselves when too many machines report failures.
    Fleet {
        /// The client URLs of the etcd members, comma-separated (tried in this order).
        #[arg(long, value_delimiter = ',', required = true)]
        etcd: Vec<String>,
        /// The group of machines (letters, digits, `-`, `_`, `.`).
        #[arg(long, default_value = "default")]
        group: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        action: FleetAction,
    },
    /// Rebuild the file an index describes (as `casync extract`): chunks found in the seeds or
    /// already in OUT (an interrupted run) are copied and verified, the rest fetched from the
    /// store, or as range requests of the image, several at once.
    Extract {
        /// The index (`.caibx`).
        index: PathBuf,
        /// The file to write.
        out: PathBuf,
        /// The chunk store: a folder, or an http(s) URL.
        #[arg(long, required_unless_present = "image_url")]
        store: Option<String>,
        /// Without a store: the image itself on the mirror, read by range requests.
        #[arg(long, conflicts_with = "store")]
        image_url: Option<String>,
        /// A file to copy chunks from, with its index beside it (`FILE.caibx`); repeatable.
        #[arg(long = "seed")]
        seeds: Vec<PathBuf>,
        /// Chunks fetched at once.
        #[arg(long, default_value_t = 8)]
        jobs: usize,
    },
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
    /// Make an installed version the default boot entry (roll back, or forward); newer
    /// versions stay installed but are held back from automatic updates.
    Rollback {
        /// The version.
        version: String,
        /// Boot it once, next time only (needs EFI variables).
        #[arg(long)]
        once: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Pin a version: it is never removed by updates or vacuum.
    Pin {
        /// The version.
        version: String,
    },
    /// Unpin a version.
    Unpin {
        /// The version.
        version: String,
    },
    /// Print the deployment history, newest first.
    History {
        /// Only records at or after this time (RFC 3339, e.g. 2026-11-01T00:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// Only records before this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Only records of this kind (started, committed, failed, removed, recovered, pinned,
        /// unpinned, rolled-back, booted, fallback-detected, fallback-acknowledged,
        /// health-checked); may be given more than once.
        #[arg(long = "kind")]
        kinds: Vec<String>,
        /// At most this many records.
        #[arg(long)]
        limit: Option<usize>,
        /// Export as a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Run the health checks of this boot (health.d); fails when a required check fails.
    HealthCheck {
        /// The command that reboots, for `OnFailure=reboot-previous`.
        #[arg(long, default_value = "systemctl reboot")]
        reboot_command: String,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record this boot in the history and detect an automatic fallback (run at every boot).
    BootRecord {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Clear the flag that says a version failed to boot.
    AcknowledgeFallback,
    /// What changes between two versions: release notes, links, package diff. FROM defaults
    /// to the running version, TO to the update on offer (or the newest installed version).
    Changelog {
        /// The older version.
        from: Option<String>,
        /// The newer version.
        to: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print every setting, or set KEY to VALUE (empty: the default), without D-Bus: the same
    /// files and checks as the SetSetting method (for servers without a bus, and images being
    /// built).
    Settings {
        /// The setting, as Section.Key.
        key: Option<String>,
        /// Its new value.
        value: Option<String>,
    },
    /// Print the manual page (roff), as installed to man8.
    #[command(hide = true)]
    Manpage,
    /// The download relay: make one HTTP request read from standard input and write the answer
    /// to standard output (started by update-center-fetch.socket for each connection of the
    /// helper, as an unprivileged user with network access).
    #[command(hide = true)]
    FetchServer,
}

/// What `fleet` does.
#[derive(Subcommand, Clone)]
pub enum FleetAction {
    /// Who holds the group's restart slots, and how the rollout of VERSION stands.
    Status {
        /// A version whose rollout to show.
        version: Option<String>,
    },
    /// Set how many machines of the group may restart at once.
    Slots {
        /// At least 1.
        count: u32,
    },
    /// Let a larger share of the machines start VERSION.
    Advance {
        /// The version.
        version: String,
        /// The share of machines, in percent (1-100).
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100))]
        share: u8,
    },
    /// Stop further machines from starting VERSION.
    Pause {
        /// The version.
        version: String,
    },
    /// Let machines start VERSION again (failures still stop it: clear them by advancing
    /// after a fix, as a new version).
    Resume {
        /// The version.
        version: String,
    },
    /// Take a restart slot for this machine (maintenance by hand), bound to a new lease of TTL
    /// seconds that frees it when it is not kept alive; prints the slot and the lease.
    Acquire {
        /// Seconds the slot stays taken without a keep-alive.
        #[arg(long, default_value_t = 900)]
        ttl: u64,
        /// Act as the machine with this fleet id (default: this machine's).
        #[arg(long)]
        id: Option<String>,
    },
    /// Keep a lease alive for another TTL.
    KeepAlive {
        /// The lease, as `acquire` printed it.
        lease: i64,
    },
    /// Give this machine's restart slot back (and end its lease, when given).
    Release {
        /// The lease to end.
        #[arg(long)]
        lease: Option<i64>,
        /// Act as the machine with this fleet id (default: this machine's).
        #[arg(long)]
        id: Option<String>,
    },
    /// Print this machine's fleet id (its machine id hashed with the application's id).
    Id,
    /// Roll one version through the group with many simulated machines (threads, not
    /// helpers) and print what it took, as JSON (`cargo xtask bench fleet`).
    #[command(hide = true)]
    Simulate {
        /// Machines in the group.
        #[arg(long, default_value_t = 1000)]
        machines: usize,
        /// Restart slots.
        #[arg(long, default_value_t = 10)]
        slots: u32,
        /// The share of machines each wave adds, in percent.
        #[arg(long, default_value_t = 5)]
        wave: u8,
        /// Milliseconds a restart takes.
        #[arg(long, default_value_t = 1000)]
        restart_ms: u64,
        /// Milliseconds between a waiting machine's questions.
        #[arg(long, default_value_t = 2000)]
        poll_ms: u64,
        /// Threads the machines are spread over.
        #[arg(long, default_value_t = 16)]
        workers: usize,
    },
}
