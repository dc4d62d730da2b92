//! `StatusModel`: what the overview shows (up to date, an update on offer, a job's progress, a
//! restart due, a failed boot) and the requests a person makes (check, install, cancel, roll
//! back, pin, remove, dismiss). It follows the helper's signals: every signal the helper sends
//! makes it read the status again, off the GUI thread; it never polls.

use crate::backend::{self, Request, Status};
use core::pin::Pin;
use cxx_qt::{CxxQtType, Threading};
use cxx_qt_lib::QString;

/// The bridge.
#[cxx_qt::bridge]
pub mod qobject {
    unsafe extern "C++" {
        include!("cxx-qt-lib/qstring.h");
        /// A string.
        type QString = cxx_qt_lib::QString;
        include!("cxx-qt-lib/qstringlist.h");
        /// A list of strings.
        type QStringList = cxx_qt_lib::QStringList;
    }

    extern "RustQt" {
        #[qobject]
        #[qml_element]
        #[qproperty(bool, loaded)]
        #[qproperty(bool, busy)]
        #[qproperty(QString, state)]
        /// The state is ready-to-restart (read through the client's `ServiceState`).
        #[qproperty(bool, restart_pending, cxx_name = "restartPending")]
        /// A job runs (checking, planning, downloading or installing).
        #[qproperty(bool, job_running, cxx_name = "jobRunning")]
        /// The running job checks the sources.
        #[qproperty(bool, checking)]
        /// The running job downloads.
        #[qproperty(bool, downloading)]
        /// The running job writes the new version into place.
        #[qproperty(bool, installing)]
        #[qproperty(QString, running_version, cxx_name = "runningVersion")]
        #[qproperty(QString, default_version, cxx_name = "defaultVersion")]
        #[qproperty(QString, available_version, cxx_name = "availableVersion")]
        /// Bytes the update on offer downloads (less than its image with a delta).
        #[qproperty(f64, available_bytes, cxx_name = "availableBytes")]
        /// Bytes of the update on offer's files (the whole image).
        #[qproperty(f64, available_image_bytes, cxx_name = "availableImageBytes")]
        #[qproperty(QString, available_summary, cxx_name = "availableSummary")]
        #[qproperty(f64, last_check_ms, cxx_name = "lastCheckMs")]
        /// The last job's error (the helper's English: for kinds this client does not know).
        #[qproperty(QString, last_error, cxx_name = "lastError")]
        /// The last job's error as fields, which QML says through Fluent: the JSON of an
        /// `update_center_client::ErrorDetails` (`kind`, and `fields` by name), in one
        /// property, so that a kind never meets another kind's fields.
        #[qproperty(QString, last_error_details, cxx_name = "lastErrorDetails")]
        #[qproperty(QString, fallback_failed, cxx_name = "fallbackFailed")]
        #[qproperty(i32, fallback_tries, cxx_name = "fallbackTries")]
        #[qproperty(QString, fallback_running, cxx_name = "fallbackRunning")]
        /// Why the last request failed (English) ...
        #[qproperty(QString, error_message, cxx_name = "errorMessage")]
        /// ... and its kind, when the error names one (not authorised, busy, no service).
        #[qproperty(QString, error_kind, cxx_name = "errorKind")]
        /// Why the helper cannot be reached (English) ...
        #[qproperty(QString, connection_error, cxx_name = "connectionError")]
        /// ... and its kind (no system bus, no helper, no answer), said as `error-KIND`.
        #[qproperty(QString, connection_error_kind, cxx_name = "connectionErrorKind")]
        #[qproperty(QString, job_phase, cxx_name = "jobPhase")]
        #[qproperty(QString, job_version, cxx_name = "jobVersion")]
        #[qproperty(f64, done_bytes, cxx_name = "doneBytes")]
        #[qproperty(f64, total_bytes, cxx_name = "totalBytes")]
        #[qproperty(f64, rate_bytes_per_sec, cxx_name = "rateBytesPerSec")]
        #[qproperty(f64, eta_secs, cxx_name = "etaSecs")]
        /// How the running job's image comes: `delta`, `full`, or empty while unknown.
        #[qproperty(QString, download_method, cxx_name = "downloadMethod")]
        /// Why the running job downloads the whole image (the helper's English; empty
        /// otherwise).
        #[qproperty(QString, download_fallback, cxx_name = "downloadFallback")]
        /// The same as the JSON of an `ErrorDetails` (a kind of `FALLBACK_KINDS` and its
        /// fields), for the sentence in the person's language.
        #[qproperty(
            QString,
            download_fallback_details,
            cxx_name = "downloadFallbackDetails"
        )]
        /// What the machine waits for before it goes on by itself, one line each in the
        /// person's language (`Waiting`, said through Fluent; empty: nothing).
        #[qproperty(QStringList, waiting)]
        /// One of those holds an automatic download that a person's own may go past (a
        /// metered connection, a low battery, a captive portal): "Download anyway".
        #[qproperty(bool, waiting_download, cxx_name = "waitingDownload")]
        /// A staged version has waited longer than `Policy.MaxPostponeHours`: said loudly.
        #[qproperty(bool, overdue)]
        #[qproperty(i32, changes)]
        type StatusModel = super::StatusRust;
    }

    impl cxx_qt::Threading for StatusModel {}

    extern "RustQt" {
        /// Reads the status and follows the helper's signals from now on.
        #[qinvokable]
        fn start(self: Pin<&mut StatusModel>);
        /// Reads the status again.
        #[qinvokable]
        fn refresh(self: Pin<&mut StatusModel>);
        /// Asks the update sources.
        #[qinvokable]
        fn check(self: Pin<&mut StatusModel>);
        /// Installs the update on offer (empty `version`) or a named version.
        #[qinvokable]
        fn install(self: Pin<&mut StatusModel>, version: &QString);
        /// Cancels the running job.
        #[qinvokable]
        fn cancel(self: Pin<&mut StatusModel>);
        /// Makes `version` boot by default, or next time only (`once`).
        #[qinvokable]
        fn rollback(self: Pin<&mut StatusModel>, version: &QString, once: bool);
        /// Pins or unpins `version`.
        #[qinvokable]
        #[cxx_name = "setPinned"]
        fn set_pinned(self: Pin<&mut StatusModel>, version: &QString, pinned: bool);
        /// Removes `version`.
        #[qinvokable]
        fn remove(self: Pin<&mut StatusModel>, version: &QString);
        /// Opens the session's restart prompt (Plasma's), where the person confirms.
        #[qinvokable]
        fn restart(self: Pin<&mut StatusModel>);
        /// Dismisses the failed-boot notice.
        #[qinvokable]
        #[cxx_name = "acknowledgeFallback"]
        fn acknowledge_fallback(self: Pin<&mut StatusModel>);
        /// Clears the message of a request that failed.
        #[qinvokable]
        #[cxx_name = "clearError"]
        fn clear_error(self: Pin<&mut StatusModel>);
    }
}

/// State behind the QObject.
#[derive(Default)]
pub struct StatusRust {
    loaded: bool,
    busy: bool,
    state: QString,
    restart_pending: bool,
    job_running: bool,
    checking: bool,
    downloading: bool,
    installing: bool,
    running_version: QString,
    default_version: QString,
    available_version: QString,
    available_bytes: f64,
    available_image_bytes: f64,
    available_summary: QString,
    last_check_ms: f64,
    last_error: QString,
    last_error_details: QString,
    fallback_failed: QString,
    fallback_tries: i32,
    fallback_running: QString,
    error_message: QString,
    error_kind: QString,
    connection_error: QString,
    connection_error_kind: QString,
    job_phase: QString,
    job_version: QString,
    done_bytes: f64,
    total_bytes: f64,
    rate_bytes_per_sec: f64,
    eta_secs: f64,
    download_method: QString,
    download_fallback: QString,
    download_fallback_details: QString,
    waiting: cxx_qt_lib::QStringList,
    waiting_download: bool,
    overdue: bool,
    changes: i32,
    watching: bool,
    reading: bool,
    read_again: bool,
}

/// Bytes as a QML number (a double: exact far beyond any disk).
#[allow(clippy::cast_precision_loss)]
fn number(value: u64) -> f64 {
    value as f64
}

impl qobject::StatusModel {
    /// Reads the status and starts following the helper's signals.
    pub fn start(mut self: Pin<&mut Self>) {
        self.as_mut().refresh();
        if self.watching {
            return;
        }
        self.as_mut().rust_mut().watching = true;
        let qt_thread = self.qt_thread();
        backend::spawn(async move {
            let notify = qt_thread.clone();
            let result = backend::watch(move || {
                let _ = notify.queue(|model| model.refresh());
            })
            .await;
            if let Err(failure) = result {
                let _ = qt_thread.queue(move |mut model| {
                    model.as_mut().rust_mut().watching = false;
                    model.as_mut().set_connection_failed(&failure);
                });
            }
        });
    }

    /// Reads the status again. Reads coalesce: while one runs, another is queued at most once.
    pub fn refresh(mut self: Pin<&mut Self>) {
        if self.reading {
            self.as_mut().rust_mut().read_again = true;
            return;
        }
        self.as_mut().rust_mut().reading = true;
        let qt_thread = self.qt_thread();
        backend::spawn(async move {
            let result = backend::status().await;
            let _ = qt_thread.queue(move |model| model.apply(result));
        });
    }

    fn apply(mut self: Pin<&mut Self>, result: Result<Status, backend::Failure>) {
        self.as_mut().rust_mut().reading = false;
        match result {
            Ok(s) => {
                self.as_mut().set_state(QString::from(&s.state));
                // QML decides on these, read as the client's state type, never on the words.
                use update_center_client::state::ServiceState;
                self.as_mut().set_restart_pending(
                    ServiceState::parse(&s.state) == Some(ServiceState::ReadyToRestart),
                );
                let phase = ServiceState::parse(&s.job_phase);
                self.as_mut()
                    .set_job_running(phase.is_some_and(ServiceState::is_busy));
                self.as_mut()
                    .set_checking(phase == Some(ServiceState::Checking));
                self.as_mut()
                    .set_downloading(phase == Some(ServiceState::Downloading));
                self.as_mut()
                    .set_installing(phase == Some(ServiceState::Installing));
                self.as_mut().set_running_version(QString::from(&s.running));
                self.as_mut().set_default_version(QString::from(&s.default));
                self.as_mut()
                    .set_available_version(QString::from(&s.offer.version));
                self.as_mut()
                    .set_available_bytes(number(s.offer.download_bytes));
                self.as_mut()
                    .set_available_image_bytes(number(s.offer.image_bytes));
                self.as_mut()
                    .set_available_summary(QString::from(&s.offer.summary));
                #[allow(clippy::cast_precision_loss)]
                self.as_mut()
                    .set_last_check_ms(s.last_check as f64 * 1000.0);
                self.as_mut().set_last_error(QString::from(&s.last_error));
                // Fields, which QML says through Fluent; the English above for other kinds.
                self.as_mut().set_last_error_details(QString::from(
                    &serde_json::to_string(&s.last_error_details).unwrap_or_default(),
                ));
                // Fields, not the helper's English sentence: QML says it through Fluent.
                let details = &s.fallback_details;
                self.as_mut()
                    .set_fallback_failed(QString::from(&details.failed));
                self.as_mut()
                    .set_fallback_tries(i32::try_from(details.tries).unwrap_or(i32::MAX));
                self.as_mut()
                    .set_fallback_running(QString::from(&details.running));
                self.as_mut().set_job_phase(QString::from(&s.job_phase));
                self.as_mut().set_job_version(QString::from(&s.job_version));
                self.as_mut().set_done_bytes(number(s.done_bytes));
                self.as_mut().set_total_bytes(number(s.total_bytes));
                self.as_mut()
                    .set_rate_bytes_per_sec(number(s.rate_bytes_per_sec));
                #[allow(clippy::cast_precision_loss)]
                self.as_mut().set_eta_secs(s.eta_secs as f64);
                self.as_mut().set_download_method(QString::from(&s.method));
                self.as_mut()
                    .set_download_fallback(QString::from(&s.method_fallback));
                self.as_mut().set_download_fallback_details(QString::from(
                    &serde_json::to_string(&s.method_fallback_details).unwrap_or_default(),
                ));
                // Said here, on the GUI thread (Fluent's bundles live there), in the local time.
                use update_center_client::waiting;
                let lines: cxx_qt_lib::QList<QString> = waiting::lines(&s.waiting)
                    .iter()
                    .map(QString::from)
                    .collect();
                self.as_mut()
                    .set_waiting(cxx_qt_lib::QStringList::from(&lines));
                self.as_mut()
                    .set_waiting_download(waiting::download_overridable(&s.waiting));
                self.as_mut()
                    .set_overdue(s.waiting.iter().any(|(kind, _)| kind == "overdue"));
                self.as_mut()
                    .set_connection_failed(&backend::Failure::default());
            }
            Err(failure) => {
                eprintln!("update-center: {failure}");
                self.as_mut().set_connection_failed(&failure);
            }
        }
        let changes = self.changes.wrapping_add(1);
        self.as_mut().set_changes(changes);
        self.as_mut().set_loaded(true);
        if std::mem::take(&mut self.as_mut().rust_mut().read_again) {
            self.refresh();
        }
    }

    /// Says that the helper cannot be reached, and why (a default failure: it can again).
    fn set_connection_failed(mut self: Pin<&mut Self>, failure: &backend::Failure) {
        self.as_mut()
            .set_connection_error_kind(QString::from(&failure.kind));
        self.set_connection_error(QString::from(&failure.message));
    }

    fn send(mut self: Pin<&mut Self>, request: Request) {
        self.as_mut().set_busy(true);
        self.as_mut().set_error_message(QString::default());
        self.as_mut().set_error_kind(QString::default());
        let qt_thread = self.qt_thread();
        backend::spawn(async move {
            let result = backend::request(request).await;
            let _ = qt_thread.queue(move |mut model| {
                model.as_mut().set_busy(false);
                if let Err(refusal) = result {
                    eprintln!("update-center: {}", refusal.message);
                    model.as_mut().set_error_kind(QString::from(&refusal.kind));
                    model
                        .as_mut()
                        .set_error_message(QString::from(&refusal.message));
                }
                model.refresh();
            });
        });
    }

    /// Starts a check of the sources.
    pub fn check(self: Pin<&mut Self>) {
        self.send(Request::Check);
    }

    /// Starts installing `version` (the candidate when empty).
    pub fn install(self: Pin<&mut Self>, version: &QString) {
        self.send(Request::Install(version.to_string()));
    }

    /// Cancels the running job.
    pub fn cancel(self: Pin<&mut Self>) {
        self.send(Request::Cancel);
    }

    /// Makes `version` the default boot entry (or the next boot's only, with `once`).
    pub fn rollback(self: Pin<&mut Self>, version: &QString, once: bool) {
        self.send(Request::Rollback(version.to_string(), once));
    }

    /// Pins or unpins `version`.
    pub fn set_pinned(self: Pin<&mut Self>, version: &QString, pinned: bool) {
        self.send(Request::Pin(version.to_string(), pinned));
    }

    /// Removes the installed `version`.
    pub fn remove(self: Pin<&mut Self>, version: &QString) {
        self.send(Request::Remove(version.to_string()));
    }

    /// Opens the session's restart prompt, where the person confirms.
    pub fn restart(self: Pin<&mut Self>) {
        self.send(Request::Restart);
    }

    /// Acknowledges the failed boot the overview shows.
    pub fn acknowledge_fallback(self: Pin<&mut Self>) {
        self.send(Request::AcknowledgeFallback);
    }

    /// Hides the error message.
    pub fn clear_error(mut self: Pin<&mut Self>) {
        self.as_mut().set_error_kind(QString::default());
        self.set_error_message(QString::default());
    }
}
