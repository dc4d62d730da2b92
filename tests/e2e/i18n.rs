//! Every string a person sees comes from Fluent: the QML files assign no literal text to a
//! visible property, every message id they use (static, or built from a known set of states and
//! events) exists in every locale, and the German translation is complete.

use std::collections::BTreeSet;

/// Properties whose value a person reads or hears.
const VISIBLE: [&str; 11] = [
    "text:",
    "title:",
    "subtitle:",
    "heading:",
    "explanation:",
    "detail:",
    "placeholderText:",
    "Accessible.name:",
    "Accessible.description:",
    "ToolTip.text:",
    "label:",
];

/// Every QML file a person sees: the application's, the shared settings module's and the
/// System Settings module's.
fn qml_files() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in ["qml", "crates/qml/qml", "crates/kcm/qml"] {
        let Ok(entries) = std::fs::read_dir(testbed::checkout().join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "qml") {
                out.push((
                    format!("{dir}/{}", e.file_name().to_string_lossy()),
                    std::fs::read_to_string(e.path()).expect("read"),
                ));
            }
        }
    }
    out.sort();
    assert!(out.len() > 8, "QML files not found: {}", out.len());
    out
}

fn message_ids(locale: &str) -> BTreeSet<String> {
    let path = testbed::checkout().join(format!("i18n/{locale}/update-center.ftl"));
    std::fs::read_to_string(&path)
        .expect("ftl")
        .lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim().to_string()))
        .collect()
}

#[test]
fn no_visible_property_gets_literal_text() {
    let mut found = Vec::new();
    for (name, text) in qml_files() {
        for (n, line) in text.lines().enumerate() {
            let t = line.trim();
            for property in VISIBLE {
                let Some(value) = t
                    .strip_prefix(property)
                    .or_else(|| t.split_once(&format!(" {property}")).map(|(_, v)| v))
                else {
                    continue;
                };
                let value = value.trim();
                // A literal with a letter in it, outside L10n.tr(...).
                if let Some(rest) = value.strip_prefix('"')
                    && rest.chars().any(char::is_alphabetic)
                {
                    found.push(format!("{name}:{}: {t}", n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "text not from Fluent:\n{}",
        found.join("\n")
    );
}

/// Message ids built at run time from a prefix and a known set of values.
fn dynamic_ids() -> Vec<String> {
    let mut ids = Vec::new();
    for state in [
        "running",
        "default",
        "next-boot-once",
        "on-trial",
        "failed",
        "pinned",
        "protected",
        "held-back",
        "incomplete",
        "obsolete",
    ] {
        ids.push(format!("badge-{state}"));
    }
    for event in [
        "started",
        "downloaded",
        "committed",
        "failed",
        "removed",
        "recovered",
        "pinned",
        "unpinned",
        "rolled-back",
        "booted",
        "fallback-detected",
        "fallback-acknowledged",
        "health-checked",
        "checked",
    ] {
        ids.push(format!("history-{event}"));
    }
    for kind in ["upgraded", "downgraded", "added", "removed"] {
        ids.push(format!("package-{kind}"));
    }
    // A failure said from the helper's fields: one message per kind it sends.
    for (kind, _) in update_center_client::ERROR_KINDS {
        ids.push(format!("error-{kind}"));
    }
    // Warnings about the update definitions, said from the helper's kinds.
    for (kind, _) in update_center_client::WARNING_KINDS {
        ids.push(format!("definition-warning-{kind}"));
    }
    // What the machine waits for, said from the helper's kinds (by the window and the tray).
    for kind in update_center_client::waiting::KINDS {
        ids.push(format!("waiting-{kind}"));
    }
    for what in ["boot", "once", "remove", "pin", "unpin"] {
        for part in ["title", "text", "button"] {
            ids.push(format!("confirm-{what}-{part}"));
        }
    }
    ids
}

#[test]
fn every_message_used_exists_in_every_locale() {
    let mut used: BTreeSet<String> = dynamic_ids().into_iter().collect();
    for (_, text) in qml_files() {
        for piece in text.split("L10n.tr(\"").skip(1) {
            let id: String = piece
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
                .collect();
            // `"badge-" + state` and the like are covered by dynamic_ids().
            if !piece[id.len()..].starts_with('"') || id.ends_with('-') {
                continue;
            }
            used.insert(id);
        }
    }
    assert!(used.len() > 60, "only {} ids found", used.len());
    for locale in ["en-US", "de"] {
        let ids = message_ids(locale);
        let missing: Vec<&String> = used.iter().filter(|id| !ids.contains(*id)).collect();
        assert!(missing.is_empty(), "{locale} lacks {missing:?}");
    }
    // And the event kinds above are all the helper knows.
    let history = std::fs::read_to_string(testbed::checkout().join("crates/client/src/history.rs"))
        .expect("history.rs");
    for kind in history
        .split("=> \"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
    {
        assert!(
            used.contains(&format!("history-{kind}")),
            "no message for history event {kind}"
        );
    }
}

#[test]
fn german_is_complete() {
    let (english, german) = (message_ids("en-US"), message_ids("de"));
    let missing: Vec<&String> = english.difference(&german).collect();
    assert!(missing.is_empty(), "de lacks {missing:?}");
    let extra: Vec<&String> = german.difference(&english).collect();
    assert!(extra.is_empty(), "de has ids English lacks: {extra:?}");
}

/// Texts Kirigami itself shows (translated by Kirigami's own catalogue, not ours).
const KIRIGAMI_OWN: [&str; 2] = ["Close Sidebar", "Open Sidebar"];

/// Runs the demo in the pseudo-locale, prepared as `prepare`, on `page`, and returns every
/// text its settled window reported.
fn pseudo_texts(prepare: &str, page: &str) -> Vec<String> {
    pseudo_texts_of(&["--prepare", prepare], prepare, page)
}

/// The same for the demo run with `args`, named `name`.
fn pseudo_texts_of(args: &[&str], name: &str, page: &str) -> Vec<String> {
    let prepare = name;
    let output = std::process::Command::new(testbed::binary("update-center-demo").expect("demo"))
        .args(["--lang", "en_XA"])
        .args(args)
        .args(["--page", page, "--screenshot"])
        .arg(std::env::temp_dir().join(format!("update-center-pseudo-{prepare}-{page}.png")))
        .output()
        .expect("run the demo");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{prepare} {page}: {log}");
    let texts: Vec<String> = log
        .lines()
        .filter_map(|l| {
            l.split_once("update-center: text ")
                .map(|(_, t)| t.to_string())
        })
        .collect();
    assert!(
        texts.len() > 3,
        "{prepare} {page}: the window reported no texts:\n{log}"
    );
    texts
}

#[test]
fn in_the_pseudo_locale_every_visible_text_is_marked() {
    for page in ["overview", "whatsnew", "versions", "history", "settings"] {
        let texts = pseudo_texts("check", page);
        assert!(texts.len() > 5, "{page}: too few texts: {texts:?}");
        let unmarked: Vec<&String> = texts
            .iter()
            .filter(|t| t.chars().any(char::is_alphabetic))
            .filter(|t| !t.contains('⟦'))
            .filter(|t| !KIRIGAMI_OWN.contains(&t.replace('&', "").as_str()))
            .collect();
        assert!(
            unmarked.is_empty(),
            "{page}: text that did not come through Fluent: {unmarked:?}"
        );
    }
}

/// Units in sizes the clients format (Qt's, the same in every language here).
const UNITS: [&str; 6] = ["bytes", "byte", "KiB", "MiB", "GiB", "TiB"];

/// Words of three or more plain letters inside `‹…›` (an argument's value, left as it came
/// in the pseudo-locale): a sentence passed in as data rather than said through Fluent. URLs,
/// paths and hexadecimal numbers (key fingerprints) in a value are data, not words; so is a
/// value of one word (a name: a settings key, a section, a user).
fn english_in_arguments(text: &str) -> Vec<String> {
    let data = |token: &str| {
        token.contains("://")
            || token.starts_with('/')
            // A file name: a name, a dot and a suffix, with digits or `_` in it.
            || (token.contains('.')
                && !token.ends_with('.')
                && token.chars().any(|c| c.is_ascii_digit() || c == '_'))
            || (token.len() >= 16 && token.chars().all(|c| c.is_ascii_hexdigit()))
    };
    let mut found = Vec::new();
    for piece in text.split('‹').skip(1) {
        let value = piece.split('›').next().unwrap_or_default();
        if value.split_whitespace().count() < 2 {
            continue;
        }
        found.extend(
            value
                .split_whitespace()
                .filter(|token| !data(token))
                .flat_map(|token| token.split(|c: char| !c.is_ascii_alphabetic()))
                .filter(|w| w.len() >= 3 && !UNITS.contains(w))
                .map(|w| format!("{w} (in ‹{value}›)")),
        );
    }
    found
}

#[test]
fn no_sentence_from_the_helper_reaches_the_overview_untranslated() {
    // The overview's messages take versions, sizes, counts and times as arguments, never
    // words: a helper's English sentence inside one (the failed-boot notice once was) is found.
    assert!(
        !english_in_arguments("⟦Vérsíóñ ‹202611250800› rúñs⟧")
            .iter()
            .any(|_| true)
    );
    assert!(!english_in_arguments("⟦x ‹version 2 failed to boot›⟧").is_empty());
    // A URL or a path is data; the helper's English around one is not.
    assert!(english_in_arguments("⟦ñó ‹http://127.0.0.1:9/kde-linux/SHA256SUMS›⟧").is_empty());
    assert!(english_in_arguments("⟦ñó ‹/efi/EFI/Linux›⟧").is_empty());
    // So is a file's name and a size in Qt's units; a sentence ending in a full stop is not.
    assert!(english_in_arguments("⟦ñó ‹kde-linux_202611261200.erofs› ‹0 bytes›⟧").is_empty());
    assert!(!english_in_arguments("⟦x ‹nothing was installed.›⟧").is_empty());
    // A name (a settings key, a user) is one word; a sentence has more.
    assert!(english_in_arguments("⟦ñó ‹TriesLeft› ‹Target›⟧").is_empty());
    assert!(!english_in_arguments("⟦ñó ‹ignored by systemd›⟧").is_empty());
    assert!(
        !english_in_arguments("⟦x ‹cannot reach http://127.0.0.1:9/kde-linux/: refused›⟧")
            .is_empty()
    );
    // `waiting`: what the machine waits for (a metered connection), said from the helper's
    // kinds and fields.
    for prepare in ["fallback", "check", "install", "waiting"] {
        let texts = pseudo_texts(prepare, "overview");
        if prepare == "waiting" {
            for said in ["⟦Wáítíñg fór:⟧", "ñót météréd", "⟦Dówñlóád Áñywáy⟧"]
            {
                assert!(
                    texts.iter().any(|t| t.contains(said)),
                    "{prepare}: no {said}:\n{texts:?}"
                );
            }
        }
        if prepare == "fallback" {
            // The notice is said through Fluent (accented), from the helper's fields.
            assert!(
                texts.iter().any(|t| t.contains("fáíléd tó bóót 2 tímés")),
                "{prepare}: no failed-boot notice:\n{texts:?}"
            );
        }
        let english: Vec<String> = texts.iter().flat_map(|t| english_in_arguments(t)).collect();
        assert!(
            english.is_empty(),
            "{prepare}: words from outside Fluent inside a message: {english:?}"
        );
    }
}

#[test]
fn warnings_about_the_definitions_are_said_through_fluent() {
    // The demo's definitions carry a key systemd-sysupdate does not know.
    let texts = pseudo_texts("warnings", "versions");
    assert!(
        texts
            .iter()
            .any(|t| t.contains("‹Frobnicate›") && t.contains("ñót kñówñ")),
        "no translated warning:\n{texts:?}"
    );
    let english: Vec<String> = texts.iter().flat_map(|t| english_in_arguments(t)).collect();
    assert!(english.is_empty(), "{english:?}");
    assert!(
        !texts.iter().any(|t| t.contains("unknown setting")),
        "the helper's English reached the window:\n{texts:?}"
    );
}

#[test]
fn whats_new_sums_up_the_package_changes_calls_out_kernel_and_plasma_and_links_the_notes() {
    // The demo's update upgrades Plasma and the kernel, adds one package and removes one.
    let texts = pseudo_texts("check", "whatsnew");
    for expected in [
        "⟦4 páçkágés çháñgé: 2 úpgrádéd, 1 áddéd, 1 rémóvéd⟧",
        "⟦Kérñél ‹6.17.8-1› → ‹6.17.9-1›⟧",
        "⟦Plásmá ‹6.5.3-1› → ‹6.6.0-1›⟧",
        // The release's link, as a button.
        "⟦Ópéñ ‹https://kde.org/linux/releases/",
        // The packages, grouped by kind with their counts.
        "⟦⟦Upgrádéd⟧ (2)⟧",
        "⟦⟦Rémóvéd⟧ (1)⟧",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(expected)),
            "no {expected}:\n{texts:?}"
        );
    }
}

#[test]
fn a_failed_check_and_a_failed_update_are_said_through_fluent() {
    // A mirror that is down (the check fails) and one that serves wrong bytes (the update
    // fails): the overview says why from the helper's fields, in the person's language, with
    // the URL as data; the helper's English sentence inside the message would be found.
    for (prepare, said) in [
        ("error", "çáññót bé réáçhéd"),
        ("failed-update", "dóés ñót mátçh íts çhéçksúm"),
    ] {
        let texts = pseudo_texts(prepare, "overview");
        let notice = texts
            .iter()
            .find(|t| t.contains("díd ñót súççééd"))
            .unwrap_or_else(|| panic!("{prepare}: no failure notice:\n{texts:?}"));
        let english: Vec<String> = texts.iter().flat_map(|t| english_in_arguments(t)).collect();
        assert!(
            english.is_empty(),
            "{prepare}: words from the helper inside a message: {english:?}"
        );
        assert!(
            notice.contains(said),
            "{prepare}: the failure is not said through Fluent: {notice}"
        );
    }
    // The history keeps the failure's kind and fields: its row says it the same way, where it
    // once showed the helper's English sentence inside a translated one.
    let texts = pseudo_texts("failed-update", "history");
    let row = texts
        .iter()
        .find(|t| t.contains("dóés ñót mátçh íts çhéçksúm"))
        .unwrap_or_else(|| panic!("no failed update said through Fluent:\n{texts:?}"));
    assert!(row.contains("202611261200"), "{row}");
    let english: Vec<String> = texts.iter().flat_map(|t| english_in_arguments(t)).collect();
    assert!(
        english.is_empty(),
        "history: words from the helper inside a message: {english:?}"
    );
}

#[test]
fn without_the_helper_the_overview_says_so_through_fluent() {
    // The helper's name is not on the bus: the banner says it from the kind (`no-service`),
    // not with the client crate's English sentence (which stays in the log).
    let texts = pseudo_texts_of(&["--no-helper"], "no-helper", "overview");
    let banner = texts
        .iter()
        .find(|t| t.contains("ñót rúññíñg"))
        .unwrap_or_else(|| panic!("no banner said through Fluent:\n{texts:?}"));
    assert!(banner.starts_with('⟦'), "{banner}");
    let english: Vec<String> = texts.iter().flat_map(|t| english_in_arguments(t)).collect();
    assert!(
        english.is_empty(),
        "words from outside Fluent inside a message: {english:?}"
    );
    assert!(
        !texts
            .iter()
            .any(|t| t.contains("is not running on the system bus")),
        "the English sentence is shown:\n{texts:?}"
    );
}

#[test]
fn a_value_the_helper_refuses_is_said_by_what_the_setting_takes() {
    // The real helper refuses each value with InvalidArgument and an English detail; the
    // windows (which map exactly that error to a refused setting) say what the setting takes
    // through Fluent instead.
    use update_center_client::Error;
    let w = testbed::world::world(None);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for (key, value, says) in [
        (
            "Policy.Windows",
            "Sat 25:00 3h UTC",
            "the maintenance windows were not saved",
        ),
        (
            "Updates.Source",
            "ftp://mirror.example/",
            "the update source was not saved",
        ),
        (
            "Policy.BusyCommand",
            "busy",
            "the busy command was not saved",
        ),
        ("Delta.Store", "../store", "the chunk store was not saved"),
        (
            "Health.TimeoutSec",
            "forever",
            "the setting Health.TimeoutSec was not saved",
        ),
    ] {
        let refused = runtime.block_on(async { w.proxy().await.set_setting(key, value).await });
        let Err(Error::InvalidArgument(english)) = refused else {
            panic!("{key}={value}: expected InvalidArgument, got {refused:?}");
        };
        let said = update_center_client::l10n::say_setting_refused(key);
        assert!(said.contains(says), "{key}: {said}");
        assert!(!said.contains(&english), "{key}: {said}");
    }
}
