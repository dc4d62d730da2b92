//! Renders what `inspect` prints: text for people, JSON for scripts. Pure functions over the
//! engine's values writing to any `impl Write`.

use anyhow::Result;
use serde_json::json;
use std::io::Write;
use update_center_engine::SystemState;

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
                None => writeln!(out, "  {}", w.message)?,
            }
        }
    }
    writeln!(out, "Installed versions:")?;
    if state.inventory.versions.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for v in &state.inventory.versions {
        let mut badges = Vec::new();
        if v.booted {
            badges.push("running".to_string());
        }
        if !v.complete {
            badges.push(format!(
                "incomplete: missing {}",
                v.missing_transfers.join(", ")
            ));
        }
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
    Ok(())
}

/// JSON for scripts (see docs/json.md).
pub fn inspect_json(state: &SystemState, out: &mut impl Write) -> Result<()> {
    let value = json!({
        "format": JSON_FORMAT_VERSION,
        "definitions": state.definitions,
        "inventory": state.inventory,
    });
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)?;
    Ok(())
}
