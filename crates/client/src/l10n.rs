//! Translations with Fluent, shared by every part a person sees (the window, System Settings,
//! the tray): the `.ftl` files under `i18n/<locale>/` are built in, and the best locale is chosen
//! from the environment (`LANGUAGE`, `LC_ALL`, `LC_MESSAGES`, `LANG`).

pub use fluent_bundle::{FluentArgs, FluentValue};
use fluent_bundle::{FluentBundle, FluentResource};
use std::cell::RefCell;
use unic_langid::LanguageIdentifier;

/// Every translation built in: (locale, Fluent source).
const TRANSLATIONS: &[(&str, &str)] = &[
    (
        "en-US",
        include_str!("../../../i18n/en-US/update-center.ftl"),
    ),
    ("de", include_str!("../../../i18n/de/update-center.ftl")),
];
/// The locale used when nothing better matches; its file has every message.
const FALLBACK: &str = "en-US";

thread_local! {
    // Fluent bundles are not thread-safe; QML only calls from the GUI thread.
    static BUNDLES: RefCell<Option<Vec<FluentBundle<FluentResource>>>> = const { RefCell::new(None) };
}

/// Locales the user asked for, most wanted first, from the usual environment variables.
fn requested_locales() -> Vec<LanguageIdentifier> {
    let mut wanted = Vec::new();
    for key in ["LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"] {
        let Ok(value) = std::env::var(key) else {
            continue;
        };
        for item in value.split(':') {
            // "de_DE.UTF-8@euro" -> "de-DE"
            let base = item
                .split(['.', '@'])
                .next()
                .unwrap_or("")
                .replace('_', "-");
            if base.is_empty() || base == "C" || base == "POSIX" {
                continue;
            }
            if let Ok(id) = base.parse::<LanguageIdentifier>() {
                wanted.push(id);
            }
        }
    }
    wanted
}

fn available_locales() -> Vec<LanguageIdentifier> {
    TRANSLATIONS
        .iter()
        .filter_map(|(locale, _)| locale.parse().ok())
        .collect()
}

/// The locale the person gets: the first requested one that is built in, else English.
pub fn chosen_locale() -> LanguageIdentifier {
    let fallback: LanguageIdentifier = FALLBACK.parse().unwrap_or_default();
    let available = available_locales();
    fluent_langneg::negotiate_languages(
        &requested_locales(),
        &available,
        Some(&fallback),
        fluent_langneg::NegotiationStrategy::Filtering,
    )
    .first()
    .map_or(fallback.clone(), |l| (*l).clone())
}

/// Bundles in order of preference: the chosen locale, then the fallback.
fn build_bundles() -> Vec<FluentBundle<FluentResource>> {
    let chosen = chosen_locale().to_string();
    let mut order = vec![chosen.as_str()];
    if chosen != FALLBACK {
        order.push(FALLBACK);
    }
    order
        .into_iter()
        .filter_map(|locale| {
            let (_, source) = TRANSLATIONS.iter().find(|(l, _)| *l == locale)?;
            let id: LanguageIdentifier = locale.parse().ok()?;
            let resource = match FluentResource::try_new((*source).to_string()) {
                Ok(resource) => resource,
                Err((resource, errors)) => {
                    eprintln!("update-center: translation errors in {locale}: {errors:?}");
                    resource
                }
            };
            let mut bundle = FluentBundle::new(vec![id]);
            // Qt lays out bidirectional text itself; isolation marks would show up in tests
            // and accessibility names.
            bundle.set_use_isolating(false);
            if let Err(errors) = bundle.add_resource(resource) {
                eprintln!("update-center: duplicate messages in {locale}: {errors:?}");
            }
            Some(bundle)
        })
        .collect()
}

/// The pseudo-locale `en-XA` (`LANGUAGE=en_XA`): English, every message marked with `⟦…⟧`
/// and its letters accented, so that a test (and a person) sees at once which text did not
/// come through Fluent, and which layout breaks with longer words.
pub const PSEUDO_LOCALE: &str = "en-XA";

/// A warning about the update definitions in the person's language (`definition-warning-KIND`
/// with its fields), after its file and line; a kind this client has no message for in the
/// helper's English.
pub fn say_warning(warning: &crate::DefinitionWarning) -> String {
    let id = format!("definition-warning-{}", warning.kind);
    let text = if warning.kind.is_empty() || !has_message(&id) {
        warning.message.clone()
    } else {
        let mut args = FluentArgs::new();
        for (name, value) in &warning.fields {
            match value.parse::<f64>() {
                Ok(number) if name == "days" => args.set(name.clone(), number),
                _ => args.set(name.clone(), value.clone()),
            }
        }
        translate(&id, Some(&args))
    };
    match warning.line {
        0 => format!("{}: {text}", warning.file),
        line => format!("{}:{line}: {text}", warning.file),
    }
}

/// Why the helper refused the value of setting `key` (its `InvalidArgument`), in the person's
/// language: what that setting takes (`error-setting-refused`). The helper's English, which
/// may name the exact fault, is for the log.
pub fn say_setting_refused(key: &str) -> String {
    use crate::settings as keys;
    let which = match key {
        keys::SOURCE => "source",
        keys::DELTA_STORE => "delta-store",
        keys::POLICY_WINDOWS => "windows",
        keys::POLICY_BUSY_COMMAND => "busy-command",
        _ => "other",
    };
    let mut args = FluentArgs::new();
    args.set("setting", key.to_string());
    args.set("which", which);
    translate("error-setting-refused", Some(&args))
}

/// Whether the pseudo-locale is in use.
pub fn pseudo_locale() -> bool {
    thread_local! {
        static PSEUDO: bool = requested_locales()
            .first()
            .is_some_and(|l| *l == PSEUDO_LOCALE);
    }
    PSEUDO.with(|p| *p)
}

/// Where an argument's value begins and ends inside a formatted message (private-use
/// characters, replaced before anyone sees the text).
const ARG_START: char = '\u{E000}';
const ARG_END: char = '\u{E001}';

/// Marks and accents `text`. The values of arguments (between [`ARG_START`] and [`ARG_END`])
/// are not accented but shown in `‹…›`: a value that is a sentence in English (a helper's
/// message passed through as data, instead of fields for a sentence of the person's language)
/// then stands out, and a test finds it.
pub fn pseudo(text: &str) -> String {
    let mut depth = 0usize;
    let accented: String = text
        .chars()
        .map(|c| match c {
            ARG_START => {
                depth += 1;
                '‹'
            }
            ARG_END => {
                depth = depth.saturating_sub(1);
                '›'
            }
            c if depth > 0 => c,
            'a' => 'á',
            'e' => 'é',
            'i' => 'í',
            'o' => 'ó',
            'u' => 'ú',
            'A' => 'Á',
            'E' => 'É',
            'O' => 'Ó',
            'c' => 'ç',
            'n' => 'ñ',
            other => other,
        })
        .collect();
    format!("⟦{accented}⟧")
}

/// The arguments with every text value that is not itself a translated message (marked
/// `⟦…⟧`) set between [`ARG_START`] and [`ARG_END`], for [`pseudo`].
fn delimit_arguments(args: &FluentArgs<'_>) -> FluentArgs<'static> {
    let mut out = FluentArgs::new();
    for (key, value) in args.iter() {
        let value = match value {
            fluent_bundle::FluentValue::String(text) if !text.starts_with('⟦') => {
                fluent_bundle::FluentValue::from(format!("{ARG_START}{text}{ARG_END}"))
            }
            other => other.clone().into_owned(),
        };
        out.set(key.to_string(), value);
    }
    out
}

/// Whether message `id` exists (in the chosen locale or the fallback): a client that forms a
/// sentence from a kind the helper sent asks first, and shows the helper's English for a kind
/// it does not know.
pub fn has_message(id: &str) -> bool {
    BUNDLES.with(|cell| {
        let mut cell = cell.borrow_mut();
        let bundles = cell.get_or_insert_with(build_bundles);
        bundles.iter().any(|bundle| bundle.has_message(id))
    })
}

/// Formats message `id` with `args`; a missing message shows its id (and says so on stderr).
pub fn translate(id: &str, args: Option<&FluentArgs>) -> String {
    BUNDLES.with(|cell| {
        let mut cell = cell.borrow_mut();
        let bundles = cell.get_or_insert_with(build_bundles);
        for bundle in bundles.iter() {
            let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
                continue;
            };
            let mut errors = Vec::new();
            if pseudo_locale() {
                let delimited = args.map(delimit_arguments);
                let text = bundle.format_pattern(pattern, delimited.as_ref(), &mut errors);
                return pseudo(&text);
            }
            let text = bundle.format_pattern(pattern, args, &mut errors);
            if !errors.is_empty() {
                eprintln!("update-center: translation of `{id}` has errors: {errors:?}");
            }
            return text.into_owned();
        }
        eprintln!("update-center: no translation for `{id}`");
        id.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pseudo_locale_shows_argument_values_as_they_came() {
        let text = format!("Version {ARG_START}went back to an old one{ARG_END} runs");
        assert_eq!(pseudo(&text), "⟦Vérsíóñ ‹went back to an old one› rúñs⟧");
        let mut args = FluentArgs::new();
        args.set("details", "an English sentence");
        args.set("inner", "⟦áçç⟧");
        args.set("count", 2);
        let delimited = delimit_arguments(&args);
        let get = |key: &str| match delimited.get(key) {
            Some(fluent_bundle::FluentValue::String(s)) => s.to_string(),
            Some(fluent_bundle::FluentValue::Number(n)) => n.value.to_string(),
            _ => String::new(),
        };
        assert_eq!(
            get("details"),
            format!("{ARG_START}an English sentence{ARG_END}")
        );
        assert_eq!(get("inner"), "⟦áçç⟧", "a translated message is not data");
        assert_eq!(get("count"), "2");
    }

    #[test]
    fn plural_and_arguments() {
        let mut args = FluentArgs::new();
        args.set("size", "4 KiB");
        args.set("count", 1);
        assert_eq!(
            translate("version-summary", Some(&args)),
            "4 KiB in one file"
        );
        args.set("count", FluentValue::from(3.0));
        assert_eq!(
            translate("version-summary", Some(&args)),
            "4 KiB in 3 files"
        );
        assert_eq!(translate("no-such-message", None), "no-such-message");
    }

    #[test]
    fn every_error_kind_has_a_message_that_uses_its_fields() {
        assert!(!has_message("no-such-message"));
        for (kind, fields) in crate::ERROR_KINDS {
            let id = format!("error-{kind}");
            for (locale, source) in TRANSLATIONS {
                let resource = FluentResource::try_new((*source).to_string()).expect("Fluent");
                let mut bundle = FluentBundle::new(vec![locale.parse().expect("locale")]);
                bundle.add_resource(resource).expect("resource");
                let message = bundle.get_message(&id);
                assert!(message.is_some(), "{locale} has no {id}");
                // Each field is said (sizes without their `_bytes`), or is there for clients
                // that want more (the sizes beside what is missing).
                // The message's lines: up to the next message.
                let all = source
                    .split(&format!("\n{id} ="))
                    .nth(1)
                    .map(|rest| {
                        rest.lines()
                            .take_while(|l| !l.starts_with(|c: char| c.is_ascii_lowercase()))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default();
                for field in fields.iter() {
                    let name = field.trim_end_matches("_bytes");
                    let optional = matches!(*field, "needed_bytes" | "available_bytes");
                    assert!(
                        optional || all.contains(&format!("${name}")),
                        "{locale} {id} does not say ${name}:\n{all}"
                    );
                }
            }
        }
    }

    /// Every kind of `kinds` has a message `PREFIX-KIND` in every locale whose first line says
    /// each of its fields.
    fn assert_messages_say_their_fields(prefix: &str, kinds: &[(&str, &[&str])]) {
        for (kind, fields) in kinds {
            let id = format!("{prefix}{kind}");
            for (locale, source) in TRANSLATIONS {
                let line = source
                    .lines()
                    .find(|l| l.starts_with(&format!("{id} =")))
                    .unwrap_or_else(|| panic!("{locale} has no {id}"));
                for field in fields.iter() {
                    assert!(
                        line.contains(&format!("${field}")),
                        "{locale} {id} does not say ${field}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_delta_fallback_kind_has_a_message_that_uses_its_fields() {
        assert_messages_say_their_fields("delta-fallback-", &crate::FALLBACK_KINDS);
    }

    #[test]
    fn a_refused_setting_says_what_the_setting_takes() {
        for (key, says) in [
            ("Updates.Source", "the update source was not saved"),
            ("Delta.Store", "the chunk store was not saved"),
            ("Policy.Windows", "Sat,Sun 02:00 3h Europe/Berlin"),
            ("Policy.BusyCommand", "absolute path of a program"),
            ("Health.TimeoutSec", "Health.TimeoutSec was not saved"),
        ] {
            let said = say_setting_refused(key);
            assert!(said.contains(says), "{key}: {said}");
        }
    }

    #[test]
    fn every_definition_warning_kind_has_a_message_that_uses_its_fields() {
        assert_messages_say_their_fields("definition-warning-", &crate::WARNING_KINDS);
        let warning = crate::DefinitionWarning {
            file: "/usr/lib/sysupdate.d/50-root.transfer".into(),
            line: 7,
            message: "unknown setting Foo= in [Target], ignored".into(),
            kind: "unknown-key".into(),
            fields: [
                ("key".into(), "Foo".into()),
                ("section".into(), "Target".into()),
            ]
            .into(),
        };
        let said = say_warning(&warning);
        assert!(
            said.starts_with("/usr/lib/sysupdate.d/50-root.transfer:7: "),
            "{said}"
        );
        assert!(
            said.contains("Foo") && !said.contains(&warning.message),
            "{said}"
        );
        let unknown = crate::DefinitionWarning {
            kind: "from-a-newer-helper".into(),
            line: 0,
            ..warning.clone()
        };
        assert_eq!(
            say_warning(&unknown),
            format!("{}: {}", unknown.file, unknown.message)
        );
    }

    #[test]
    fn every_waiting_kind_has_a_message_that_uses_its_fields() {
        let kinds: Vec<&str> = crate::waiting::FIELDS.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            kinds,
            crate::waiting::KINDS,
            "FIELDS lists every kind, in order"
        );
        for (kind, fields) in crate::waiting::FIELDS {
            let id = format!("waiting-{kind}");
            for (locale, source) in TRANSLATIONS {
                let resource = FluentResource::try_new((*source).to_string()).expect("Fluent");
                let mut bundle = FluentBundle::new(vec![locale.parse().expect("locale")]);
                bundle.add_resource(resource).expect("resource");
                assert!(bundle.has_message(&id), "{locale} has no {id}");
                // The message's lines: up to the next line that starts a message or comment.
                let all = source
                    .split(&format!("\n{id} ="))
                    .nth(1)
                    .map(|rest| {
                        rest.lines()
                            .take_while(|l| {
                                !l.starts_with(|c: char| c.is_ascii_lowercase() || c == '#')
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default();
                for field in fields.iter() {
                    assert!(
                        all.contains(&format!("${field}")),
                        "{locale} {id} does not say ${field}:\n{all}"
                    );
                }
            }
        }
        for id in ["waiting-title", "waiting-time", "waiting-download-anyway"] {
            assert!(has_message(id), "no {id}");
        }
    }

    #[test]
    fn every_locale_parses_and_has_every_message_of_the_fallback() {
        let fallback_ids = message_ids(TRANSLATIONS[0].1);
        for (locale, source) in TRANSLATIONS {
            let ids = message_ids(source);
            for id in &fallback_ids {
                assert!(ids.contains(id), "{locale} lacks `{id}`");
            }
        }
    }

    /// Message ids: lines that start with an identifier followed by `=`.
    fn message_ids(source: &str) -> Vec<String> {
        assert!(
            FluentResource::try_new(source.to_string()).is_ok(),
            "invalid Fluent"
        );
        source
            .lines()
            .filter_map(|line| line.split_once(" ="))
            .map(|(id, _)| id)
            .filter(|id| {
                id.starts_with(|c: char| c.is_ascii_lowercase())
                    && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            .map(str::to_string)
            .collect()
    }
}
