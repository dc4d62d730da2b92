//! All terminal output of the helper's commands: text for people, JSON for scripts. Pure
//! functions over the engine's values writing to any `impl Write`; `inspect` and `check` here,
//! the operations in [`ops`].

use anyhow::Result;
use serde_json::json;
use std::io::Write;
use update_center_engine::SystemState;
use update_center_engine::source::catalog::{Catalog, Verification};

pub mod ops;
#[cfg(test)]
mod tests;

/// Version of the JSON layout printed by `inspect --json`; raised on incompatible changes.
pub const JSON_FORMAT_VERSION: u32 = 1;

/// Text for a person.
pub fn inspect_text(state: &SystemState, out: &mut impl Write) -> Result<()> {
    writeln!(out, "Transfers:")?;
    for t in &state.definitions.transfers {
        let status = if t.enabled {
            ""
        } else {
            " (disabled: feature off)"
        };
        writeln!(out, "  {}{status}  {}", t.name, t.file.display())?;
    }
    if !state.definitions.warnings.is_empty() {
        writeln!(out, "Warnings:")?;
        for w in &state.definitions.warnings {
            match w.line {
                Some(line) => writeln!(out, "  {}:{line}: {}", w.file.display(), w.message)?,
                None => writeln!(out, "  {}: {}", w.file.display(), w.message)?,
            }
        }
    }
    writeln!(out, "Installed versions:")?;
    if state.inventory.versions.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for v in &state.inventory.versions {
        let badges: Vec<String> = update_center_engine::lifecycle::states(state, v)
            .iter()
            .map(|s| s.describe())
            .collect();
        let badges = if badges.is_empty() {
            String::new()
        } else {
            format!("  [{}]", badges.join("; "))
        };
        writeln!(out, "  {}{badges}", v.version)?;
        for i in &v.instances {
            writeln!(out, "      {}  {} bytes", i.path.display(), i.size_bytes)?;
        }
    }
    if let Some(fallback) = &state.lifecycle.fallback {
        writeln!(
            out,
            "Attention: {} (since {}).",
            fallback.message(),
            fallback.time
        )?;
    }
    Ok(())
}

/// JSON for scripts (see docs/json.md).
pub fn inspect_json(state: &SystemState, out: &mut impl Write) -> Result<()> {
    let value = json!({
        "format": JSON_FORMAT_VERSION,
        "definitions": state.definitions,
        "inventory": state.inventory,
        "states": state
            .inventory
            .versions
            .iter()
            .map(|v| (v.version.clone(), update_center_engine::lifecycle::states(state, v)))
            .collect::<std::collections::BTreeMap<_, _>>(),
        "boot": state.boot,
        "lifecycle": state.lifecycle,
    });
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)?;
    Ok(())
}

/// Text for a person: sources, versions offered, and the candidate.
pub fn check_text(
    state: &SystemState,
    catalog: &Catalog,
    offer: Option<&crate::ops::check::Offer>,
    out: &mut impl Write,
) -> Result<()> {
    writeln!(out, "Sources:")?;
    for source in &catalog.sources {
        let how = match &source.verification {
            Verification::Verified(good) => format!("signed by {}", good.cert_fingerprint),
            Verification::Unverified => "UNVERIFIED (Verify=no)".to_string(),
        };
        writeln!(out, "  {}  {how}", source.location)?;
        if let Some(days) = source.stale_days {
            writeln!(
                out,
                "    warning: its newest signed list is {days} days old; the source may have stopped publishing"
            )?;
        }
    }
    writeln!(out, "Available versions:")?;
    if catalog.versions.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for v in &catalog.versions {
        let installed = state
            .inventory
            .versions
            .iter()
            .any(|i| i.version == v.version);
        let mut notes = Vec::new();
        if installed {
            notes.push("installed".to_string());
        }
        if v.obsolete {
            notes.push("obsolete".to_string());
        }
        if !v.complete {
            notes.push(format!(
                "incomplete on the mirror: missing {}",
                v.missing_transfers.join(", ")
            ));
        }
        if catalog.candidate.as_deref() == Some(v.version.as_str()) {
            notes.push("candidate".to_string());
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!("  [{}]", notes.join("; "))
        };
        writeln!(out, "  {}{notes}", v.version)?;
    }
    match &catalog.candidate {
        Some(v) => writeln!(out, "Update available: {v}")?,
        None => writeln!(out, "No update available.")?,
    }
    if let Some(offer) = offer.filter(|o| o.image_bytes > 0) {
        if offer.download_bytes < offer.image_bytes {
            writeln!(
                out,
                "  {} bytes to download as a delta (the new version's files are {} bytes; the rest is in the installed versions)",
                offer.download_bytes, offer.image_bytes
            )?;
        } else {
            writeln!(out, "  {} bytes to download", offer.download_bytes)?;
        }
    }
    Ok(())
}

/// JSON for scripts (see docs/json.md).
pub fn check_json(
    state: &SystemState,
    catalog: &Catalog,
    offer: Option<&crate::ops::check::Offer>,
    out: &mut impl Write,
) -> Result<()> {
    let value = json!({
        "format": JSON_FORMAT_VERSION,
        "inventory": state.inventory,
        "warnings": state.definitions.warnings,
        "catalog": catalog,
        "offer": offer.map(|o| json!({
            "version": o.version,
            "download_bytes": o.download_bytes,
            "image_bytes": o.image_bytes,
            "summary": o.summary,
        })),
    });
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)?;
    Ok(())
}
