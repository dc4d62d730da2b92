//! Differential tests against systemd-sysupdate 257: for every scenario of
//! `testbed::scenarios`, the same root and the same HTTP mirror on 127.0.0.1 must give the same
//! inventory, the same available versions and the same candidate as the oracle.
//!
//! Where this product deliberately says more than systemd-sysupdate, the comparison leaves it
//! out, and says so here:
//! - versions the mirror offers only in part are listed by the helper (as incomplete, so that a
//!   person sees why they are not offered); systemd-sysupdate does not list them;
//! - `protected` is compared for installed versions only: for versions that are not installed
//!   the helper does not report it (nothing can be removed that is not there).

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use testbed::mirror::HttpMirror;
use testbed::scenarios::{self, Scenario};

/// What one side says about one version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Flags {
    installed: bool,
    available: bool,
    incomplete: bool,
    obsolete: bool,
    protected: bool,
}

#[derive(Debug, PartialEq, Eq)]
struct View {
    versions: BTreeMap<String, Flags>,
    candidate: Option<String>,
}

fn oracle_command(root: &Path, args: &[&str]) -> Value {
    let mut with_json = args.to_vec();
    with_json.push("--json=short");
    let output = testbed::oracle::run(root, &with_json);
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("systemd-sysupdate printed no JSON ({e}): {stdout}"))
}

fn oracle(root: &Path) -> View {
    let list = oracle_command(root, &["list"]);
    let mut versions = BTreeMap::new();
    for version in list["all"]
        .as_array()
        .expect("all")
        .iter()
        .filter_map(Value::as_str)
    {
        let details = oracle_command(root, &["list", version]);
        let flag = |key: &str| details[key].as_bool().unwrap_or(false);
        let installed = flag("installed");
        versions.insert(
            version.to_string(),
            Flags {
                installed,
                available: flag("available"),
                incomplete: flag("incomplete"),
                obsolete: flag("obsolete"),
                protected: installed && flag("protected"),
            },
        );
    }
    let candidate = oracle_command(root, &["check-new"])["available"]
        .as_str()
        .map(str::to_string);
    View {
        versions,
        candidate,
    }
}

fn ours(root: &Path) -> View {
    let output = Command::new(testbed::binary("update-center-helper").expect("helper"))
        .args(["check", "--json", "--esp", "/efi", "--root"])
        .arg(root)
        .output()
        .expect("run the helper");
    assert!(
        output.status.success(),
        "helper check failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let mut versions: BTreeMap<String, Flags> = BTreeMap::new();
    for v in value["inventory"]["versions"]
        .as_array()
        .expect("installed")
    {
        let flags = versions
            .entry(v["version"].as_str().expect("version").to_string())
            .or_default();
        flags.installed = true;
        flags.incomplete = !v["complete"].as_bool().expect("complete");
        flags.obsolete = v["obsolete"].as_bool().expect("obsolete");
        flags.protected = v["protected"].as_bool().expect("protected");
    }
    for v in value["catalog"]["versions"].as_array().expect("available") {
        if !v["complete"].as_bool().expect("complete") {
            continue;
        }
        let flags = versions
            .entry(v["version"].as_str().expect("version").to_string())
            .or_default();
        flags.available = true;
        flags.obsolete |= v["obsolete"].as_bool().expect("obsolete");
    }
    let candidate = value["catalog"]["candidate"].as_str().map(str::to_string);
    View {
        versions,
        candidate,
    }
}

fn compare(scenario: &Scenario) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = None;
    let system = scenario
        .build(dir.path(), |mirror_dir| {
            let mirror = HttpMirror::serve(mirror_dir)?;
            let url = mirror.url.clone();
            server = Some(mirror);
            Ok(url)
        })
        .expect("scenario");
    let expected = oracle(&system.root);
    let actual = ours(&system.root);
    if expected.versions.is_empty() {
        return Err(format!(
            "{}: the oracle saw nothing; the scenario is broken",
            scenario.name
        ));
    }
    eprintln!("{}: {expected:?}", scenario.name);
    if expected == actual {
        Ok(())
    } else {
        Err(format!(
            "{}:\n  systemd-sysupdate: {expected:?}\n  update-center:     {actual:?}",
            scenario.name
        ))
    }
}

#[test]
fn the_helper_agrees_with_systemd_sysupdate_on_every_scenario() {
    let all = scenarios::all();
    assert!(all.len() >= 10);
    let failures: Vec<String> = all.iter().filter_map(|s| compare(s).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} scenarios differ:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
