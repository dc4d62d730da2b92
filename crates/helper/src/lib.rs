//! The Update Center engine: reads a system's sysupdate.d definitions exactly as
//! systemd-sysupdate does and works out what is installed.
//!
//! It knows nothing about D-Bus or who calls it, and it works on any root directory: the running
//! system (`/`), a mounted system from a rescue shell, or a temporary directory in a test.
//!
//! Data flows one way: files under a root -> [`definitions::Definitions`] ->
//! [`inventory::Inventory`] -> [`catalog::Catalog`] (what the sources offer, verified by
//! signature). Every step is a value that can be printed and tested.

pub mod boot;
pub mod catalog;
pub mod changelog;
pub mod compression;
pub mod definitions;
pub mod error;
pub mod failpoint;
pub mod fetch;
pub mod freshness;
pub mod fsutil;
pub mod health;
pub mod history;
pub mod ini;
pub mod inventory;
pub mod layout;
pub mod lifecycle;
pub mod origin;
pub mod osrelease;
pub mod pattern;
pub mod plan;
pub mod relay;
pub mod settings;
pub mod signature;
pub mod statefile;
pub mod sums;
pub mod system;
pub mod transaction;
pub mod version;

pub use error::EngineError;

pub use system::{SystemState, read_system};

#[cfg(test)]
mod architecture {
    //! The engine's layering, checked: every module imports only from earlier layers (or from
    //! modules before it in its own layer), so the pipeline reads one way, from the file
    //! system up to the lifecycle operations. A new module must be given its place here.

    /// The layers, lowest first; in a layer, a module may use the modules listed before it.
    const LAYERS: &[(&str, &[&str])] = &[
        (
            "formats and utilities (pure, or one system call deep)",
            &[
                "fsutil",
                "failpoint",
                "journal",
                "origin",
                "relay",
                "compression",
                "ini",
                "pattern",
                "version",
                "sums",
                "osrelease",
                "signature",
                "health",
            ],
        ),
        ("where things are", &["layout"]),
        ("the helper's records", &["history", "statefile"]),
        ("errors", &["error"]),
        ("definitions", &["definitions"]),
        ("what is installed", &["inventory", "boot"]),
        ("the system snapshot", &["system"]),
        (
            "sources",
            &["fetch", "freshness", "settings", "catalog", "changelog"],
        ),
        ("the plan", &["plan"]),
        ("the transaction", &["transaction"]),
        ("the lifecycle", &["lifecycle"]),
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
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group
                    .split('}')
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(|p| p.trim().split("::").next().unwrap_or_default().trim())
                    .collect(),
                None => vec![
                    rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or_default(),
                ],
            };
            for name in names.into_iter().filter(|n| !n.is_empty() && *n != "self") {
                let module = ROOT_ITEMS
                    .iter()
                    .find(|(item, _)| *item == name)
                    .map_or(name, |(_, module)| *module);
                found.insert(module.to_string());
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

    /// The library's modules and their sources (a folder module with its files).
    fn library() -> Vec<(String, String)> {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
        lib.lines()
            .filter_map(|l| l.trim().strip_prefix("pub mod "))
            .map(|m| m.trim_end_matches(';').to_string())
            .map(|module| {
                let file = src.join(format!("{module}.rs"));
                let text = if file.exists() {
                    std::fs::read_to_string(&file).expect("module")
                } else {
                    let mut all = String::new();
                    let mut files: Vec<_> = std::fs::read_dir(src.join(&module))
                        .expect("module folder")
                        .flatten()
                        .map(|e| e.path())
                        .collect();
                    files.sort();
                    for f in files {
                        all.push_str(&std::fs::read_to_string(f).expect("file"));
                        all.push('\n');
                    }
                    all
                };
                (module, text)
            })
            .collect()
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
                "use crate::error::EngineError;\nfn f() { crate::transaction::STATE_DIR; }\n"
                    .to_string(),
            ),
            (
                "boot".to_string(),
                "use crate::{fsutil, inventory::Layout, lifecycle};\n".to_string(),
            ),
            ("newcomer".to_string(), String::new()),
            (
                "inventory".to_string(),
                "// crate::lifecycle in a comment is no import\n".to_string(),
            ),
        ];
        assert_eq!(
            violations(&sources),
            [
                "definitions (definitions) uses transaction (the transaction), a later layer",
                "boot (what is installed) uses lifecycle (the lifecycle), a later layer",
                "newcomer has no place in LAYERS",
            ]
        );
    }
}
