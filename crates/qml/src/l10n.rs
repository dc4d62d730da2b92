//! The `L10n` QML singleton: QML reads every string through it, `L10n.tr("id", { name: value })`,
//! from the shared Fluent translations (`update_center_client::l10n`).

use cxx_qt_lib::{QMap, QMapPair_QString_QVariant, QString};
use update_center_client::l10n::{FluentArgs, FluentValue, chosen_locale, has_message, translate};

/// The bridge.
#[cxx_qt::bridge]
pub mod qobject {
    unsafe extern "C++" {
        include!("cxx-qt-lib/qstring.h");
        /// A string.
        type QString = cxx_qt_lib::QString;
        include!("cxx-qt-lib/qmap.h");
        /// Arguments from a JavaScript object.
        type QMap_QString_QVariant = cxx_qt_lib::QMap<cxx_qt_lib::QMapPair_QString_QVariant>;
    }

    extern "RustQt" {
        #[qobject]
        #[qml_element]
        #[qml_singleton]
        #[qproperty(QString, locale)]
        #[qproperty(bool, pseudo)]
        type L10n = super::L10nRust;

        /// The translated message `id` with `args` (a JavaScript object) filled in.
        #[qinvokable]
        fn tr(self: &L10n, id: &QString, args: &QMap_QString_QVariant) -> QString;

        /// Whether message `id` exists: a sentence formed from a kind the helper sent falls
        /// back to the helper's English for a kind this client does not know.
        #[qinvokable]
        fn has(self: &L10n, id: &QString) -> bool;
    }
}
/// State behind the singleton.
pub struct L10nRust {
    locale: QString,
    pseudo: bool,
}

impl Default for L10nRust {
    fn default() -> Self {
        Self {
            locale: QString::from(&chosen_locale().to_string()),
            pseudo: update_center_client::l10n::pseudo_locale(),
        }
    }
}

impl qobject::L10n {
    /// The message `id` of the Fluent bundle in the current language, with its arguments.
    pub fn tr(&self, id: &QString, args: &QMap<QMapPair_QString_QVariant>) -> QString {
        let mut fluent_args = FluentArgs::new();
        for (key, value) in args.iter() {
            // Numbers arrive as their text; Fluent needs numbers for plural selection.
            let text = value
                .value::<QString>()
                .map(|s| s.to_string())
                .unwrap_or_default();
            let value = match text.parse::<f64>() {
                Ok(number) => FluentValue::from(number),
                Err(_) => FluentValue::from(text),
            };
            fluent_args.set(key.to_string(), value);
        }
        let args = (!args.is_empty()).then_some(&fluent_args);
        QString::from(&translate(&id.to_string(), args))
    }

    /// Whether message `id` exists in the chosen locale or the fallback.
    pub fn has(&self, id: &QString) -> bool {
        has_message(&id.to_string())
    }
}
