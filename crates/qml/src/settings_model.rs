//! `SettingsModel`: the update settings as the settings form edits them. Changes are kept as
//! pending edits until [`apply`](qobject::SettingsModel::apply), as in every System Settings
//! module (Apply, Reset, Defaults); then each goes to the helper, which asks polkit for an
//! administrator once. Mirror credentials go to the person's keyring, never to a file. It
//! follows the helper's `SettingsChanged` signal, so that the window and System Settings
//! agree.
//!
//! Each setting the form shows is a property, read through the client crate's typed
//! [`Settings`] from what the helper said with the pending edits over it: `automaticCheck`,
//! `automaticDownload`, `pausedUntil` (RFC 3339, empty when not paused), `restartBehaviour`
//! (`notify`, `quiet`), `instancesMax` (0 while unknown), `instancesMaxOverridden`, `source`
//! (empty: the definitions' own), `maxRateBytesPerSec` (0: no limit), `onFailure` (`wait`,
//! `reboot-previous`), `healthTimeoutSecs`, and where a delta update fetches its chunks:
//! `deltaStore` (the value: empty, `ranges`, `off`, a URL or a folder), `deltaStoreKind`
//! (`default`, `ranges`, `off`, `url`, `folder`) and `deltaStoreCustom` (the URL or folder of a
//! store of its own, empty otherwise). The update policy (`[Policy]`, docs/policies.md):
//! `policyAutomaticInstall`, `policyRestart` (`never`, `window`, `immediate`), `policyWindows`
//! (as written; the helper checks it when it is applied), `policyDownloadOnMetered`,
//! `policyMinBatteryPercent`, `policyWaitForSessions`, `policyWaitForGpuJobs`,
//! `policyBusyCommand`, `policyMaxPostponeHours` and `policyCheckIntervalHours`. Edits go in by
//! key (`set`).

use crate::bus;
use core::pin::Pin;
use cxx_qt::{CxxQtType, Threading};
use cxx_qt_lib::QString;
use std::collections::BTreeMap;
use update_center_client::credentials::{self, Credentials};
use update_center_client::settings::{self as keys, DeltaStore, Settings};

/// The bridge.
#[cxx_qt::bridge]
pub mod qobject {
    unsafe extern "C++" {
        include!("cxx-qt-lib/qstring.h");
        /// A string.
        type QString = cxx_qt_lib::QString;
    }

    extern "RustQt" {
        #[qobject]
        #[qml_element]
        #[qproperty(bool, loaded)]
        #[qproperty(bool, busy)]
        #[qproperty(bool, automatic_check, cxx_name = "automaticCheck")]
        #[qproperty(bool, automatic_download, cxx_name = "automaticDownload")]
        #[qproperty(QString, paused_until, cxx_name = "pausedUntil")]
        #[qproperty(QString, restart_behaviour, cxx_name = "restartBehaviour")]
        #[qproperty(i32, instances_max, cxx_name = "instancesMax")]
        #[qproperty(bool, instances_max_overridden, cxx_name = "instancesMaxOverridden")]
        #[qproperty(QString, source)]
        #[qproperty(f64, max_rate_bytes_per_sec, cxx_name = "maxRateBytesPerSec")]
        #[qproperty(QString, on_failure, cxx_name = "onFailure")]
        #[qproperty(i32, health_timeout_secs, cxx_name = "healthTimeoutSecs")]
        #[qproperty(QString, delta_store, cxx_name = "deltaStore")]
        #[qproperty(QString, delta_store_kind, cxx_name = "deltaStoreKind")]
        #[qproperty(QString, delta_store_custom, cxx_name = "deltaStoreCustom")]
        #[qproperty(bool, policy_automatic_install, cxx_name = "policyAutomaticInstall")]
        #[qproperty(QString, policy_restart, cxx_name = "policyRestart")]
        #[qproperty(QString, policy_windows, cxx_name = "policyWindows")]
        #[qproperty(bool, policy_download_on_metered, cxx_name = "policyDownloadOnMetered")]
        #[qproperty(i32, policy_min_battery_percent, cxx_name = "policyMinBatteryPercent")]
        #[qproperty(bool, policy_wait_for_sessions, cxx_name = "policyWaitForSessions")]
        #[qproperty(bool, policy_wait_for_gpu_jobs, cxx_name = "policyWaitForGpuJobs")]
        #[qproperty(QString, policy_busy_command, cxx_name = "policyBusyCommand")]
        #[qproperty(i32, policy_max_postpone_hours, cxx_name = "policyMaxPostponeHours")]
        #[qproperty(
            i32,
            policy_check_interval_hours,
            cxx_name = "policyCheckIntervalHours"
        )]
        #[qproperty(bool, needs_save, cxx_name = "needsSave")]
        #[qproperty(bool, is_defaults, cxx_name = "isDefaults")]
        #[qproperty(QString, error_message, cxx_name = "errorMessage")]
        #[qproperty(QString, credential_user, cxx_name = "credentialUser")]
        #[qproperty(bool, has_password, cxx_name = "hasPassword")]
        type SettingsModel = super::SettingsRust;
    }

    impl cxx_qt::Threading for SettingsModel {}

    extern "RustQt" {
        /// Reads the settings from the helper (dropping pending edits) and follows its
        /// `SettingsChanged` signal from now on.
        #[qinvokable]
        fn load(self: Pin<&mut SettingsModel>);
        /// Edits one setting (`Section.Key`); nothing is sent before `apply`.
        #[qinvokable]
        fn set(self: Pin<&mut SettingsModel>, key: &QString, value: &QString);
        /// Edits the credentials for the mirror in `Updates.Source`; an empty user forgets them.
        #[qinvokable]
        #[cxx_name = "setCredentials"]
        fn set_credentials(self: Pin<&mut SettingsModel>, user: &QString, password: &QString);
        /// Sends every pending edit to the helper (and the credentials to the keyring).
        #[qinvokable]
        fn apply(self: Pin<&mut SettingsModel>);
        /// The same, returning when done: System Settings may close right after its Apply or
        /// OK button, and nothing must be lost.
        #[qinvokable]
        #[cxx_name = "applyNow"]
        fn apply_now(self: Pin<&mut SettingsModel>);
        /// Drops every pending edit.
        #[qinvokable]
        fn reset(self: Pin<&mut SettingsModel>);
        /// Edits every setting back to its default (sent on `apply`).
        #[qinvokable]
        fn defaults(self: Pin<&mut SettingsModel>);
        /// Opens the Update Center window (from System Settings).
        #[qinvokable]
        #[cxx_name = "openApplication"]
        fn open_application(self: &SettingsModel);
    }
}

/// The default of each setting the form shows, as the helper writes it. `Updates.InstancesMax`
/// and `Updates.Source` default to the empty value: "as the distribution's definitions say".
pub const DEFAULTS: [(&str, &str); 20] = [
    (keys::HEALTH_TIMEOUT_SEC, "60"),
    (keys::HEALTH_ON_FAILURE, "wait"),
    (keys::MAX_RATE_BYTES_PER_SEC, ""),
    (keys::INSTANCES_MAX, ""),
    (keys::SOURCE, ""),
    (keys::AUTOMATIC_CHECK, "yes"),
    (keys::AUTOMATIC_DOWNLOAD, "no"),
    (keys::PAUSED_UNTIL, ""),
    (keys::RESTART_BEHAVIOUR, "notify"),
    (keys::DELTA_STORE, ""),
    (keys::POLICY_AUTOMATIC_INSTALL, "yes"),
    (keys::POLICY_RESTART, "never"),
    (keys::POLICY_WINDOWS, ""),
    (keys::POLICY_DOWNLOAD_ON_METERED, "no"),
    (keys::POLICY_MIN_BATTERY_PERCENT, "30"),
    (keys::POLICY_WAIT_FOR_SESSIONS, "yes"),
    (keys::POLICY_WAIT_FOR_GPU_JOBS, "yes"),
    (keys::POLICY_BUSY_COMMAND, ""),
    (keys::POLICY_MAX_POSTPONE_HOURS, "72"),
    (keys::POLICY_CHECK_INTERVAL_HOURS, "24"),
];

/// A pending change of the mirror credentials.
#[derive(Clone, PartialEq, Eq)]
enum CredentialEdit {
    Store(Credentials),
    Forget,
}

/// State behind the QObject.
#[derive(Default)]
pub struct SettingsRust {
    loaded: bool,
    busy: bool,
    automatic_check: bool,
    automatic_download: bool,
    paused_until: QString,
    restart_behaviour: QString,
    instances_max: i32,
    instances_max_overridden: bool,
    source: QString,
    max_rate_bytes_per_sec: f64,
    on_failure: QString,
    health_timeout_secs: i32,
    delta_store: QString,
    delta_store_kind: QString,
    delta_store_custom: QString,
    policy_automatic_install: bool,
    policy_restart: QString,
    policy_windows: QString,
    policy_download_on_metered: bool,
    policy_min_battery_percent: i32,
    policy_wait_for_sessions: bool,
    policy_wait_for_gpu_jobs: bool,
    policy_busy_command: QString,
    policy_max_postpone_hours: i32,
    policy_check_interval_hours: i32,
    needs_save: bool,
    is_defaults: bool,
    error_message: QString,
    credential_user: QString,
    has_password: bool,
    /// What the helper said.
    stored: BTreeMap<String, String>,
    /// Edits not sent yet.
    pending: BTreeMap<String, String>,
    credential_edit: Option<CredentialEdit>,
    /// Whether `SettingsChanged` is followed.
    watching: bool,
}

/// The value of `key` with the pending edits over what the helper said.
fn effective(
    stored: &BTreeMap<String, String>,
    pending: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut all = stored.clone();
    all.extend(pending.clone());
    all
}

/// Whether `values` are the defaults (a retention of the definitions' own count counts as the
/// default: the helper reports the effective count).
fn are_defaults(values: &BTreeMap<String, String>, instances_overridden: bool) -> bool {
    DEFAULTS.iter().all(|(key, default)| {
        let value = values.get(*key).map(String::as_str).unwrap_or("");
        if *key == keys::INSTANCES_MAX {
            !instances_overridden || value.is_empty()
        } else {
            value == *default
        }
    })
}

impl qobject::SettingsModel {
    fn publish(mut self: Pin<&mut Self>) {
        let values = effective(&self.stored, &self.pending);
        let overridden = self
            .stored
            .get(keys::INSTANCES_MAX_OVERRIDDEN)
            .is_some_and(|v| v == "yes")
            || self.pending.contains_key(keys::INSTANCES_MAX);
        let defaults = are_defaults(&values, overridden);
        let needs_save = !self.pending.is_empty() || self.credential_edit.is_some();
        self.as_mut().show_values(&values);
        self.as_mut().set_is_defaults(defaults);
        self.as_mut().set_needs_save(needs_save);
        let (user, has_password) = match &self.credential_edit {
            Some(CredentialEdit::Store(c)) => (c.user.clone(), !c.password.is_empty()),
            Some(CredentialEdit::Forget) => (String::new(), false),
            None => (self.credential_user.to_string(), self.has_password),
        };
        self.as_mut().set_credential_user(QString::from(&user));
        self.set_has_password(has_password);
    }

    /// Sets the properties of the settings to `values` (what the helper said with the edits).
    fn show_values(mut self: Pin<&mut Self>, values: &BTreeMap<String, String>) {
        let typed = Settings::from_lookup(|key| values.get(key).map(String::as_str));
        let int = |n: Option<u64>| n.map_or(0, |n| i32::try_from(n).unwrap_or(i32::MAX));
        self.as_mut().set_automatic_check(typed.automatic_check);
        self.as_mut()
            .set_automatic_download(typed.automatic_download);
        self.as_mut()
            .set_paused_until(QString::from(&typed.paused_until));
        self.as_mut()
            .set_restart_behaviour(QString::from(typed.restart_behaviour.as_str()));
        self.as_mut().set_instances_max(int(typed.instances_max));
        self.as_mut()
            .set_instances_max_overridden(typed.instances_max_overridden);
        self.as_mut().set_source(QString::from(&typed.source));
        // Bytes per second as a QML number: a double, exact far beyond any link.
        #[allow(clippy::cast_precision_loss)]
        self.as_mut()
            .set_max_rate_bytes_per_sec(typed.max_rate_bytes_per_sec.unwrap_or(0) as f64);
        self.as_mut()
            .set_on_failure(QString::from(typed.on_failure.as_str()));
        self.as_mut()
            .set_health_timeout_secs(int(Some(typed.health_timeout_secs)));
        let store = &typed.delta_store;
        self.as_mut().set_delta_store(QString::from(store.value()));
        self.as_mut()
            .set_delta_store_kind(QString::from(store.kind()));
        // One property for the store of its own: QML need not pair the value with the kind
        // while the two change one after the other.
        let custom = match store {
            DeltaStore::Url(text) | DeltaStore::Folder(text) => text.as_str(),
            _ => "",
        };
        self.as_mut().set_delta_store_custom(QString::from(custom));
        let policy = &typed.policy;
        self.as_mut()
            .set_policy_automatic_install(policy.automatic_install);
        self.as_mut()
            .set_policy_restart(QString::from(policy.restart.as_str()));
        self.as_mut()
            .set_policy_windows(QString::from(&policy.windows));
        self.as_mut()
            .set_policy_download_on_metered(policy.download_on_metered);
        self.as_mut()
            .set_policy_min_battery_percent(int(Some(policy.min_battery_percent)));
        self.as_mut()
            .set_policy_wait_for_sessions(policy.wait_for_sessions);
        self.as_mut()
            .set_policy_wait_for_gpu_jobs(policy.wait_for_gpu_jobs);
        self.as_mut()
            .set_policy_busy_command(QString::from(&policy.busy_command));
        self.as_mut()
            .set_policy_max_postpone_hours(int(Some(policy.max_postpone_hours)));
        self.set_policy_check_interval_hours(int(Some(policy.check_interval_hours)));
    }

    /// Reads the settings from the helper and starts watching for changes.
    pub fn load(mut self: Pin<&mut Self>) {
        self.as_mut().watch();
        let qt_thread = self.qt_thread();
        bus::spawn(async move {
            let result = bus::with_timeout(async {
                let p = bus::center().await?;
                let map = p.get_settings().await.map_err(bus::describe)?;
                Ok::<_, bus::Failure>(map.into_iter().collect::<BTreeMap<String, String>>())
            })
            .await;
            // The keyring is asked off the runtime's threads: its store blocks.
            let source = result
                .as_ref()
                .ok()
                .and_then(|m| m.get(keys::SOURCE).cloned())
                .unwrap_or_default();
            let stored_credentials = tokio::task::spawn_blocking(move || {
                if source.starts_with("http") {
                    credentials::load_for(&source).ok().flatten()
                } else {
                    None
                }
            })
            .await
            .ok()
            .flatten();
            let _ = qt_thread.queue(move |mut model| {
                match result {
                    Ok(map) => {
                        let mut rust = model.as_mut().rust_mut();
                        rust.stored = map;
                        rust.pending.clear();
                        rust.credential_edit = None;
                        rust.credential_user = QString::from(
                            &stored_credentials
                                .as_ref()
                                .map(|c| c.user.clone())
                                .unwrap_or_default(),
                        );
                        rust.has_password =
                            stored_credentials.is_some_and(|c| !c.password.is_empty());
                        model.as_mut().set_error_message(QString::default());
                        model.as_mut().publish();
                        // After the values: whoever waits for `loaded` sees them.
                        model.as_mut().set_loaded(true);
                    }
                    Err(failure) => {
                        eprintln!("update-center: {failure}");
                        model
                            .as_mut()
                            .set_error_message(QString::from(&failure.said()));
                        model.publish();
                    }
                }
            });
        });
    }

    /// Follows `SettingsChanged`: reads again unless the person is editing.
    fn watch(mut self: Pin<&mut Self>) {
        if self.watching {
            return;
        }
        self.as_mut().rust_mut().watching = true;
        let qt_thread = self.qt_thread();
        bus::spawn(async move {
            use futures_util::StreamExt;
            let Ok(p) = bus::center().await else {
                return;
            };
            let Ok(mut changes) = p.receive_settings_changed().await else {
                return;
            };
            while changes.next().await.is_some() {
                let queued = qt_thread.queue(|model| {
                    if !model.needs_save && !model.busy {
                        model.load();
                    }
                });
                if queued.is_err() {
                    break;
                }
            }
        });
    }

    /// Changes one setting in the pending edits (applied by `apply`).
    pub fn set(mut self: Pin<&mut Self>, key: &QString, value: &QString) {
        let (key, value) = (key.to_string(), value.to_string());
        let mut rust = self.as_mut().rust_mut();
        if rust.stored.get(&key) == Some(&value) {
            rust.pending.remove(&key);
        } else {
            rust.pending.insert(key, value);
        }
        self.publish();
    }

    /// Stores (or, empty, forgets) the mirror credentials in the pending edits.
    pub fn set_credentials(mut self: Pin<&mut Self>, user: &QString, password: &QString) {
        let edit = if user.is_empty() {
            CredentialEdit::Forget
        } else {
            CredentialEdit::Store(Credentials {
                user: user.to_string(),
                password: password.to_string(),
            })
        };
        self.as_mut().rust_mut().credential_edit = Some(edit);
        self.publish();
    }

    /// Drops the pending edits: the form shows what the helper has.
    pub fn reset(mut self: Pin<&mut Self>) {
        let mut rust = self.as_mut().rust_mut();
        rust.pending.clear();
        rust.credential_edit = None;
        self.as_mut().set_error_message(QString::default());
        self.publish();
    }

    /// Fills the pending edits with every default.
    pub fn defaults(mut self: Pin<&mut Self>) {
        for (key, default) in DEFAULTS {
            let current = self.stored.get(key).cloned().unwrap_or_default();
            let overridden = key != keys::INSTANCES_MAX
                || self
                    .stored
                    .get(keys::INSTANCES_MAX_OVERRIDDEN)
                    .is_some_and(|v| v == "yes");
            let mut rust = self.as_mut().rust_mut();
            if current != default && overridden {
                rust.pending.insert(key.to_string(), default.to_string());
            } else {
                rust.pending.remove(key);
            }
        }
        self.publish();
    }

    /// Opens the Update Center application.
    pub fn open_application(&self) {
        if let Err(e) = update_center_client::launch::open_application(&[]) {
            eprintln!("update-center: {e}");
        }
    }

    /// What `apply` sends: the pending edits, the credential edit, and the source they are for.
    fn outgoing(&self) -> (Vec<(String, String)>, Option<CredentialEdit>, String) {
        let source = effective(&self.stored, &self.pending)
            .get(keys::SOURCE)
            .cloned()
            .unwrap_or_default();
        (
            self.pending.clone().into_iter().collect(),
            self.credential_edit.clone(),
            source,
        )
    }

    /// Takes what was sent out of the pending edits; reads the settings again when all went.
    fn applied(mut self: Pin<&mut Self>, outcome: Outcome) {
        let mut rust = self.as_mut().rust_mut();
        for key in &outcome.sent {
            rust.pending.remove(key);
        }
        if outcome.credentials_done {
            rust.credential_edit = None;
        }
        self.as_mut().set_busy(false);
        match outcome.failure {
            // Keep what was not sent, so that the person can fix it and apply again.
            Some(failure) => {
                eprintln!("update-center: {failure}");
                self.as_mut()
                    .set_error_message(QString::from(&failure.said()));
                self.publish();
            }
            None => self.load(),
        }
    }

    /// Sends the pending edits to the helper.
    pub fn apply(mut self: Pin<&mut Self>) {
        if self.busy {
            return;
        }
        let (pending, credential_edit, source) = self.outgoing();
        self.as_mut().set_busy(true);
        self.as_mut().set_error_message(QString::default());
        let qt_thread = self.qt_thread();
        bus::spawn(async move {
            let outcome = send(pending, credential_edit, source).await;
            let _ = qt_thread.queue(move |model| model.applied(outcome));
        });
    }

    /// Sends the pending edits and waits for the answer (System Settings saves synchronously).
    pub fn apply_now(mut self: Pin<&mut Self>) {
        if self.busy {
            return;
        }
        let (pending, credential_edit, source) = self.outgoing();
        self.as_mut().set_busy(true);
        let outcome = bus::runtime().block_on(send(pending, credential_edit, source));
        self.applied(outcome);
    }
}

/// What came of sending the edits.
struct Outcome {
    sent: Vec<String>,
    credentials_done: bool,
    failure: Option<bus::Failure>,
}

/// Sends `pending` to the helper (the source first: a refused mirror URL must not get
/// credentials; the maintenance windows before `Policy.Restart`: refused windows must not leave
/// a restart policy that waits for them), then the credential edit to the keyring; stops at
/// the first refusal.
async fn send(
    pending: Vec<(String, String)>,
    credential_edit: Option<CredentialEdit>,
    source: String,
) -> Outcome {
    let mut outcome = Outcome {
        sent: Vec::new(),
        credentials_done: false,
        failure: None,
    };
    let mut ordered = pending;
    ordered.sort_by_key(|(k, _)| (k != keys::SOURCE, k != keys::POLICY_WINDOWS));
    for (key, value) in ordered {
        let result = bus::with_timeout(async {
            let p = bus::center().await?;
            p.set_setting(&key, &value)
                .await
                .map_err(|e| bus::Failure::of_setting(&key, e))
        })
        .await;
        match result {
            Ok(()) => outcome.sent.push(key),
            Err(failure) => {
                outcome.failure = Some(failure);
                return outcome;
            }
        }
    }
    if let Some(edit) = credential_edit {
        // The keyring store blocks on the bus: off the runtime's threads.
        let result = tokio::task::spawn_blocking(move || match edit {
            CredentialEdit::Store(c) => credentials::store_for(&source, &c),
            CredentialEdit::Forget => credentials::forget_for(&source),
        })
        .await;
        match result {
            Ok(Ok(())) => outcome.credentials_done = true,
            Ok(Err(e)) => outcome.failure = Some(e.to_string().into()),
            Err(e) => outcome.failure = Some(e.to_string().into()),
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_recognised_with_and_without_a_retention_override() {
        let mut values: BTreeMap<String, String> = DEFAULTS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        values.insert("Updates.InstancesMax".into(), "4".into());
        assert!(are_defaults(&values, false), "the definitions' own count");
        assert!(!are_defaults(&values, true), "an override");
        values.insert("Restart.Behaviour".into(), "quiet".into());
        assert!(!are_defaults(&values, false));
    }

    #[test]
    fn the_policy_defaults_read_as_the_clients_defaults() {
        let typed =
            Settings::from_lookup(|key| DEFAULTS.iter().find(|(k, _)| *k == key).map(|(_, v)| *v));
        assert_eq!(typed.policy, Settings::default().policy);
        let mut values: BTreeMap<String, String> = DEFAULTS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        values.insert(keys::POLICY_RESTART.into(), "window".into());
        assert!(!are_defaults(&values, false), "a policy edit is no default");
    }
}
