//! The invariants of architecture.md, checked on a root through `update-center-helper inspect
//! --json`: a problem each, empty when all hold.

use std::path::Path;
use std::process::Command;

/// Every broken invariant of the system under `root`.
pub fn broken(root: &Path) -> Vec<String> {
    let helper = match crate::binary("update-center-helper") {
        Ok(path) => path,
        Err(e) => return vec![e.to_string()],
    };
    let output = match Command::new(helper)
        .env("SYSTEMD_RELAX_ESP_CHECKS", "1")
        .args(["inspect", "--json", "--root"])
        .arg(root)
        .output()
    {
        Ok(output) => output,
        Err(e) => return vec![format!("cannot run inspect: {e}")],
    };
    if !output.status.success() {
        return vec![format!(
            "inspect failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )];
    }
    let value: serde_json::Value = match serde_json::from_slice(&output.stdout) {
        Ok(value) => value,
        Err(e) => return vec![format!("inspect printed no JSON: {e}")],
    };
    let mut problems = Vec::new();
    let versions = value["inventory"]["versions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let complete = |version: &serde_json::Value| {
        versions
            .iter()
            .any(|v| &v["version"] == version && v["complete"] == true)
    };
    // 1. Every boot entry has every file of its version.
    for v in &versions {
        let has_uki = v["instances"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|i| i["transfer"] == "60-esp");
        if has_uki && v["complete"] != true {
            problems.push(format!(
                "boot entry of {} without all its files: {}",
                v["version"], v["missing_transfers"]
            ));
        }
    }
    // 2. The booted version is there, whole; the default entry is a complete version.
    let booted = &value["inventory"]["booted"];
    if !booted.is_null() && !complete(booted) {
        problems.push(format!("the booted version {booted} lost files"));
    }
    let default = &value["boot"]["default"];
    if !default.is_null() {
        let entry = value["boot"]["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| &e["id"] == default);
        match entry.map(|e| &e["version"]) {
            Some(version) if complete(version) => {}
            other => problems.push(format!(
                "the default boot entry {default} is not a complete version ({other:?})"
            )),
        }
    }
    // 4. Pinned versions are still there.
    for pinned in value["lifecycle"]["pinned"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if !complete(pinned) {
            problems.push(format!("pinned version {pinned} lost files"));
        }
    }
    // 5. The history is readable; only the last record may be torn (by a kill).
    let history =
        std::fs::read(root.join("var/lib/update-center/history.jsonl")).unwrap_or_default();
    let lines: Vec<&[u8]> = history
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    for (n, line) in lines.iter().enumerate() {
        if serde_json::from_slice::<serde_json::Value>(line).is_err() && n + 1 != lines.len() {
            problems.push(format!(
                "history record {n} unreadable: {}",
                String::from_utf8_lossy(line)
            ));
        }
    }
    problems
}
