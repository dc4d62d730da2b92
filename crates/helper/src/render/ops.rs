//! What the operations print: text for people, JSON lines for scripts.

use anyhow::Result;
use serde_json::json;
use std::io::Write;
use update_center_engine::health::{CheckResult, Outcome};
use update_center_engine::lifecycle::{BootReport, Rollback};
use update_center_engine::ops::{self, HealthReport};
use update_center_engine::record::history::Record;
use update_center_engine::source::changelog::Changelog;
use update_center_engine::update::plan::Plan;
use update_center_engine::update::transaction::Progress;

/// Reports an `update` as it goes: the plan and the end on `out`, progress on `err` (a
/// percentage that rewrites its line), or every event as a JSON line on `out`.
pub struct UpdateReport {
    json: bool,
    last_percent: Option<u64>,
}

impl UpdateReport {
    /// A report in text, or in JSON lines.
    pub fn new(json: bool) -> Self {
        Self {
            json,
            last_percent: None,
        }
    }

    /// One event of the operation.
    pub fn event(
        &mut self,
        event: &ops::Event<'_>,
        out: &mut impl Write,
        err: &mut impl Write,
    ) -> Result<()> {
        match event {
            ops::Event::Recovered(recovery) => writeln!(
                err,
                "update-center-helper: recovered an interrupted update: {recovery:?}"
            )?,
            ops::Event::Planned(plan) => self.planned(plan, out, err)?,
            ops::Event::Progress(Progress::Downloading {
                done_bytes,
                total_bytes,
                rate_bytes_per_sec,
                eta_secs,
            }) => {
                let percent = (done_bytes * 100).checked_div(*total_bytes).unwrap_or(100);
                if self.last_percent == Some(percent) {
                    return Ok(());
                }
                self.last_percent = Some(percent);
                if self.json {
                    writeln!(
                        out,
                        "{}",
                        json!({
                            "event": "download", "done_bytes": done_bytes,
                            "total_bytes": total_bytes,
                            "rate_bytes_per_sec": rate_bytes_per_sec, "eta_secs": eta_secs
                        })
                    )?;
                } else {
                    let eta = eta_secs
                        .map(|s| format!(", {s} s left"))
                        .unwrap_or_default();
                    let rate = *rate_bytes_per_sec as f64 / 1e6;
                    write!(
                        err,
                        "\r  downloading: {percent:3}% ({done_bytes} of {total_bytes} bytes, {rate:.1} MB/s{eta})"
                    )?;
                }
            }
            ops::Event::Progress(Progress::Method {
                file,
                delta,
                fallback,
            }) => {
                if self.json {
                    writeln!(
                        out,
                        "{}",
                        json!({
                            "event": "method", "file": file, "delta": delta,
                            "fallback": fallback.text, "fallback_details": fallback.details,
                        })
                    )?;
                } else if *delta {
                    writeln!(
                        err,
                        "\n  {file}: rebuilt from the installed versions and the chunks that changed"
                    )?;
                } else {
                    writeln!(
                        err,
                        "\n  {file}: downloading the whole image: {}",
                        fallback.text
                    )?;
                }
            }
            ops::Event::Progress(Progress::Committing) => {
                if !self.json {
                    writeln!(err, "\n  committing")?;
                }
            }
        }
        Ok(())
    }

    fn planned(&self, plan: &Plan, out: &mut impl Write, err: &mut impl Write) -> Result<()> {
        if self.json {
            writeln!(out, "{}", json!({ "event": "plan", "plan": plan }))?;
            return Ok(());
        }
        if plan.fetch_bytes < plan.download_bytes {
            writeln!(
                err,
                "Installing {} ({} bytes to download as a delta; {} bytes in all)",
                plan.version, plan.fetch_bytes, plan.download_bytes
            )?;
        } else {
            writeln!(
                err,
                "Installing {} ({} bytes to download)",
                plan.version, plan.download_bytes
            )?;
        }
        for r in &plan.removals {
            writeln!(err, "  removing version {} first", r.version)?;
        }
        Ok(())
    }

    /// The end: `version` is installed.
    pub fn installed(&self, version: &str, out: &mut impl Write) -> Result<()> {
        if self.json {
            writeln!(
                out,
                "{}",
                json!({ "event": "installed", "version": version })
            )?;
        } else {
            writeln!(
                out,
                "Installed {version}. It boots next time (on trial until it is blessed)."
            )?;
        }
        Ok(())
    }
}

/// A rollback done.
pub fn rollback(done: &Rollback, once: bool, json: bool, out: &mut impl Write) -> Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string(done)?)?;
    } else if once {
        writeln!(
            out,
            "Version {} boots next time, once (entry {}).",
            done.version, done.entry
        )?;
    } else {
        writeln!(
            out,
            "Version {} is now the default boot entry ({}, written to {}).",
            done.version, done.entry, done.written_to
        )?;
        if !done.held_back.is_empty() {
            writeln!(
                out,
                "Held back from automatic updates: {}.",
                done.held_back.join(", ")
            )?;
        }
    }
    Ok(())
}

/// A pin or unpin done (`changed`: false when it was so already).
pub fn pin(version: &str, pinned: bool, changed: bool, out: &mut impl Write) -> Result<()> {
    let what = if pinned { "pinned" } else { "unpinned" };
    if changed {
        writeln!(out, "Version {version} is {what}.")?;
    } else {
        writeln!(out, "Version {version} was {what} already.")?;
    }
    Ok(())
}

/// Versions removed by a vacuum.
pub fn vacuum(removed: &[String], json: bool, out: &mut impl Write) -> Result<()> {
    if json {
        writeln!(out, "{}", json!({ "removed": removed }))?;
    } else if removed.is_empty() {
        writeln!(out, "Nothing to remove.")?;
    } else {
        writeln!(out, "Removed {}.", removed.join(", "))?;
    }
    Ok(())
}

/// This boot, as recorded.
pub fn boot_record(report: &BootReport, json: bool, out: &mut impl Write) -> Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string(report)?)?;
        return Ok(());
    }
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
    writeln!(out, "Booted {version} ({how}).")?;
    if let Some(fallback) = &report.fallback {
        writeln!(out, "Attention: {}.", fallback.message())?;
    }
    Ok(())
}

/// History records, one line each.
pub fn history(records: &[Record], json: bool, out: &mut impl Write) -> Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(records)?)?;
        return Ok(());
    }
    if records.is_empty() {
        writeln!(out, "No history.")?;
    }
    for record in records {
        let mut fields = serde_json::to_value(&record.event)?;
        if let Some(map) = fields.as_object_mut() {
            map.remove("event");
            map.remove("checks");
        }
        writeln!(
            out,
            "{}  {:<22} {}",
            record.time,
            record.event.kind(),
            fields
        )?;
    }
    Ok(())
}

/// How one health check ended, in words.
fn outcome(result: &CheckResult) -> String {
    match &result.outcome {
        Outcome::Passed => "passed".to_string(),
        Outcome::Skipped => "skipped (does not apply here)".to_string(),
        Outcome::Failed { status: Some(s) } => format!("FAILED (exit status {s})"),
        Outcome::Failed { status: None } => "FAILED (killed by a signal)".to_string(),
        Outcome::TimedOut { after_secs } => format!("FAILED (no answer in {after_secs} s)"),
        Outcome::NotRun { reason } => format!("FAILED (cannot run: {reason})"),
    }
}

/// The health checks of this boot.
pub fn health(report: &HealthReport, json: bool, out: &mut impl Write) -> Result<()> {
    if json {
        writeln!(
            out,
            "{}",
            json!({ "passed": report.passed, "checks": report.results })
        )?;
        return Ok(());
    }
    for r in &report.results {
        writeln!(
            out,
            "{:<40} {:<9} {}",
            r.name,
            format!("{:?}", r.kind).to_lowercase(),
            outcome(r)
        )?;
        if r.failed() {
            for line in r.output.lines().take(20) {
                writeln!(out, "    {line}")?;
            }
        }
    }
    if report.results.is_empty() {
        writeln!(out, "No health checks are installed.")?;
    }
    Ok(())
}

/// A changelog.
pub fn changelog(log: &Changelog, json: bool, out: &mut impl Write) -> Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(log)?)?;
        return Ok(());
    }
    writeln!(out, "Changes from {} to {}", log.from, log.to)?;
    for release in &log.releases {
        writeln!(out)?;
        match &release.date {
            Some(date) => writeln!(out, "{} ({date})", release.version)?,
            None => writeln!(out, "{}", release.version)?,
        }
        for line in &release.description {
            writeln!(out, "  {line}")?;
        }
        for url in &release.urls {
            writeln!(out, "  {url}")?;
        }
    }
    if log.releases.is_empty() {
        writeln!(out, "\nNo release notes.")?;
    }
    for link in &log.links {
        writeln!(out, "\nFull changelog: {link}")?;
    }
    if let Some(p) = &log.packages {
        writeln!(
            out,
            "\nPackages: {} upgraded, {} downgraded, {} added, {} removed",
            p.upgraded.len(),
            p.downgraded.len(),
            p.added.len(),
            p.removed.len()
        )?;
        for c in &p.upgraded {
            writeln!(out, "  ↑ {} {} → {}", c.name, c.from, c.to)?;
        }
        for c in &p.downgraded {
            writeln!(out, "  ↓ {} {} → {}", c.name, c.from, c.to)?;
        }
        for a in &p.added {
            writeln!(out, "  + {} {}", a.name, a.version)?;
        }
        for r in &p.removed {
            writeln!(out, "  - {} {}", r.name, r.version)?;
        }
    }
    for note in &log.notes {
        writeln!(out, "\nNote: {note}")?;
    }
    Ok(())
}

/// Where a rebuilt file's bytes came from.
pub fn extracted(
    sources: &update_center_engine::delta::rebuild::Sources,
    out: &mut impl Write,
) -> Result<()> {
    writeln!(
        out,
        "{} bytes from seeds, {} already in place, {} fetched in {} chunks ({} bytes on the wire){}",
        sources.from_seeds_bytes,
        sources.from_target_bytes,
        sources.fetched_bytes,
        sources.fetched_chunks,
        sources.fetched_wire_bytes,
        if sources.bad_seed_chunks > 0 {
            format!("; {} damaged seed chunks skipped", sources.bad_seed_chunks)
        } else {
            String::new()
        }
    )?;
    Ok(())
}
