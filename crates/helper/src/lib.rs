//! The Update Center engine: reads a system's sysupdate.d definitions exactly as
//! systemd-sysupdate does and works out what is installed.
//!
//! It knows nothing about D-Bus or who calls it, and it works on any root directory: the running
//! system (`/`), a mounted system from a rescue shell, or a temporary directory in a test.
//!
//! Data flows one way, and the folders follow it (the `architecture` test below checks every
//! import against this order):
//!
//! - [`layout`], [`fsutil`]: where things are, and writing them durably;
//! - [`format`]: the file formats, pure and fuzzed;
//! - [`delta`]: casync chunk indexes and the chunker that makes them;
//! - [`record`]: what the helper keeps (history, the state file);
//! - [`definitions`]: the sysupdate.d transfers, read as systemd-sysupdate reads them;
//! - [`installed`]: the installed versions and the boot entries;
//! - [`system`]: all of the above read together, one snapshot;
//! - [`source`]: what the mirrors offer, fetched and verified ([`source::catalog::Catalog`]);
//! - [`update`]: the plan (a value made from facts) and the atomic transaction;
//! - [`lifecycle`]: trial boots, blessing, fallback, rollback, pins;
//! - [`ops`]: each operation written once, called by the CLI and the D-Bus service alike;
//! - [`policy`]: when the helper may act on its own (maintenance windows) and what it must
//!   wait for (GPU compute work);
//! - [`fleet`]: restart slots and rollout waves shared with the other machines of a site,
//!   in its etcd or through its FleetLock server.
//!
//! Every step is a value that can be printed and tested.

pub mod definitions;
pub mod delta;
pub mod error;
pub mod failpoint;
pub mod fleet;
pub mod format;
pub mod fsutil;
pub mod health;
pub mod installed;
pub mod layout;
pub mod lifecycle;
pub mod ops;
pub mod policy;
pub mod record;
pub mod settings;
pub mod source;
pub mod system;
pub mod update;

pub use error::EngineError;

pub use system::{SystemState, read_system};

#[cfg(test)]
mod architecture {
    //! The engine's layering, checked: every module imports only from earlier layers (or from
    //! modules before it in its own layer), so the pipeline reads one way, from the file
    //! system up to the lifecycle operations. A new module must be given its place here.

    /// Folders that only group modules: `crate::format::ini` is the module `format::ini`.
    const GROUPS: &[&str] = &[
        "format",
        "record",
        "installed",
        "source",
        "update",
        "ops",
        "delta",
        "policy",
        "fleet",
    ];

    /// The layers, lowest first; in a layer, a module may use the modules listed before it.
    const LAYERS: &[(&str, &[&str])] = &[
        (
            "formats and utilities (pure, or one system call deep)",
            &[
                "fsutil",
                "failpoint",
                "source::origin",
                "source::relay",
                "source::compression",
                "format::ini",
                "format::pattern",
                "format::version",
                "format::sums",
                "format::osrelease",
                "delta::index",
                "delta::chunker",
                "delta::store",
                "delta::rebuild",
                "source::signature",
                "health",
                "policy::window",
                "policy::gpu",
                "policy::gates",
            ],
        ),
        ("where things are", &["layout"]),
        (
            "the helper's records",
            &["record::history", "record::statefile", "record::metrics"],
        ),
        ("errors", &["error"]),
        ("definitions", &["definitions"]),
        (
            "what is installed",
            &["installed::inventory", "installed::boot"],
        ),
        ("the system snapshot", &["system"]),
        (
            "fleets",
            &[
                "fleet::id",
                "fleet::etcd",
                "fleet::semaphore",
                "fleet::rollout",
                "fleet::fleetlock",
            ],
        ),
        (
            "sources",
            &[
                "source::fetch",
                "source::freshness",
                "settings",
                "source::catalog",
                "source::changelog",
            ],
        ),
        ("a machine in its fleet", &["fleet::machine"]),
        ("the plan", &["update::plan", "update::delta"]),
        ("the transaction", &["update::transaction"]),
        ("the lifecycle", &["lifecycle"]),
        (
            "operations",
            &[
                "ops::error",
                "ops::facts",
                "ops::check",
                "ops::install",
                "ops::mirror",
                "ops::policy",
                "ops::versions",
                "ops::read",
                "ops::settings",
                "ops::health",
            ],
        ),
    ];

    /// Items the crate root re-exports, by the module that defines them.
    const ROOT_ITEMS: &[(&str, &str)] = &[
        ("SystemState", "system"),
        ("read_system", "system"),
        ("EngineError", "error"),
    ];

    /// (layer, position in the whole order) of a module.
    fn place(module: &str) -> Option<(usize, usize)> {
        let mut position = 0;
        for (layer, (_, modules)) in LAYERS.iter().enumerate() {
            for m in *modules {
                if *m == module {
                    return Some((layer, position));
                }
                position += 1;
            }
        }
        None
    }

    /// A path below `crate::` (`format::ini::Section`, `lifecycle`) as the module it names.
    fn module_of(path: &str) -> Option<String> {
        let mut parts = path.split("::").map(str::trim).filter(|p| !p.is_empty());
        let first = parts.next()?;
        if first == "self" {
            return None;
        }
        if GROUPS.contains(&first) {
            return Some(format!("{first}::{}", parts.next()?));
        }
        Some(
            ROOT_ITEMS
                .iter()
                .find(|(item, _)| *item == first)
                .map_or(first, |(_, module)| *module)
                .to_string(),
        )
    }

    /// Splits `a, b::{c, d}, e` at the commas outside braces.
    fn split_top(list: &str) -> Vec<&str> {
        let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
        for (i, c) in list.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&list[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&list[start..]);
        parts
    }

    /// `prefix::{a, b::c}` (or a plain path) as the paths it names.
    fn expand(path: &str) -> Vec<String> {
        match path.find('{') {
            None => vec![path.trim().to_string()],
            Some(open) => {
                let close = path.rfind('}').unwrap_or(path.len());
                let prefix = &path[..open];
                split_top(&path[open + 1..close])
                    .into_iter()
                    .flat_map(expand)
                    .map(|p| format!("{prefix}{p}"))
                    .collect()
            }
        }
    }

    /// The modules a source file names through `crate::`, outside comments and tests.
    fn imports(source: &str) -> std::collections::BTreeSet<String> {
        let code: String = source
            .split("#[cfg(test)]")
            .next()
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut found = std::collections::BTreeSet::new();
        let mut rest = code.as_str();
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            // The path runs to the end of its braces, or to the first character no path has.
            let mut depth = 0;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' if depth > 0 => depth -= 1,
                        _ if depth > 0 => {}
                        c if c.is_alphanumeric() || c == '_' || c == ':' => {}
                        _ => return true,
                    }
                    false
                })
                .map_or(rest.len(), |(i, _)| i);
            let path: String = rest[..end].split_whitespace().collect();
            for named in expand(&path) {
                if let Some(module) = module_of(&named) {
                    found.insert(module);
                }
            }
        }
        found
    }

    /// Every import that goes against the layering, as a sentence.
    fn violations(sources: &[(String, String)]) -> Vec<String> {
        let mut problems = Vec::new();
        for (module, source) in sources {
            let Some((layer, position)) = place(module) else {
                problems.push(format!("{module} has no place in LAYERS"));
                continue;
            };
            for used in imports(source) {
                if used == *module {
                    continue;
                }
                match place(&used) {
                    None => problems.push(format!("{module} uses {used}, which has no place")),
                    Some((used_layer, used_position)) => {
                        if used_layer > layer || (used_layer == layer && used_position > position) {
                            problems.push(format!(
                                "{module} ({}) uses {used} ({}), a later layer",
                                LAYERS[layer].0, LAYERS[used_layer].0
                            ));
                        }
                    }
                }
            }
        }
        problems
    }

    /// The library's modules and their sources: a file is the module of its path, a folder
    /// module with its files one module, a group folder's `mod.rs` (declarations only) none.
    fn library() -> Vec<(String, String)> {
        fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("folder").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, files);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
        let top: Vec<String> = lib
            .lines()
            .filter_map(|l| l.trim().strip_prefix("pub mod "))
            .map(|m| m.trim_end_matches(';').to_string())
            .collect();
        let mut files = Vec::new();
        walk(&src, &mut files);
        files.sort();
        let mut modules: std::collections::BTreeMap<String, String> = Default::default();
        for file in files {
            let relative = file.strip_prefix(&src).expect("inside src");
            let parts: Vec<String> = relative
                .with_extension("")
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if !top.contains(&parts[0]) {
                continue; // the binary's modules
            }
            let id = if GROUPS.contains(&parts[0].as_str()) {
                match parts.get(1) {
                    Some(name) if name != "mod" => format!("{}::{name}", parts[0]),
                    _ => continue,
                }
            } else {
                parts[0].clone()
            };
            let text = std::fs::read_to_string(&file).expect("module");
            let entry = modules.entry(id).or_default();
            entry.push_str(&text);
            entry.push('\n');
        }
        modules.into_iter().collect()
    }

    #[test]
    fn every_import_follows_the_layering() {
        let sources = library();
        assert!(sources.len() >= 20, "{} modules found", sources.len());
        let problems = violations(&sources);
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn an_import_against_the_layering_is_caught() {
        // The definitions reaching up into the transaction (as the state paths once did), and
        // a module nobody placed.
        let sources = vec![
            (
                "definitions".to_string(),
                "use crate::error::EngineError;\nfn f() { crate::update::transaction::STATE_DIR; }\n"
                    .to_string(),
            ),
            (
                "installed::boot".to_string(),
                "use crate::{fsutil, installed::{inventory::Layout}, lifecycle};\n".to_string(),
            ),
            ("newcomer".to_string(), String::new()),
            (
                "installed::inventory".to_string(),
                "// crate::lifecycle in a comment is no import\n".to_string(),
            ),
        ];
        assert_eq!(
            violations(&sources),
            [
                "definitions (definitions) uses update::transaction (the transaction), a later layer",
                "installed::boot (what is installed) uses lifecycle (the lifecycle), a later layer",
                "newcomer has no place in LAYERS",
            ]
        );
    }
}
