//! The helper's D-Bus API on a private system bus (dbus-daemon with the project's policy) with a
//! real polkitd (the project's actions, rules that allow the user `daemon` and refuse everybody
//! else): every mutating method refused to a denied caller with nothing changed on disk or in
//! the history, and allowed to an allowed one; callers run as other users through `setpriv`.
//! Jobs: one at a time (a second caller is told which one runs), progress and `Finished` seen
//! by every client, cancel leaves no trace, a helper killed mid-job recovers on its next start.
//! Hostile arguments get invalid-argument errors and the helper stays up.

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use testbed::bus::PrivateBus;
use testbed::system::installed_files;
use update_center_client::{Error, JobProxy, UpdateCenterProxy};

use testbed::world::{A, NEW, PAYLOAD_BYTES, world};
/// The user the rules allow, and one they refuse.
const ALLOWED_UID: u32 = 1; // daemon
const DENIED_UID: u32 = 65534; // nobody

/// Calls a method as `uid` with dbus-send; (succeeded, what it printed).
fn call_as(bus: &PrivateBus, uid: u32, method: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new("setpriv")
        .args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
            "dbus-send",
            "--system",
            "--print-reply",
            "--dest=org.kde.UpdateCenter1",
            "/org/kde/UpdateCenter1",
            &format!("org.kde.UpdateCenter1.{method}"),
        ])
        .args(args)
        .env("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)
        .output()
        .expect("setpriv dbus-send");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

/// Waits for a job's `Finished` signal (or its result, if it finished already).
async fn finished(proxy: &UpdateCenterProxy<'static>, job: &str) -> (bool, String, String) {
    use futures_util::StreamExt;
    // Uncached: phase and result are read straight from the helper (the signal stream does
    // not need the cache).
    let job = JobProxy::builder(proxy.inner().connection())
        .path(job.to_string())
        .expect("path")
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .expect("job proxy");
    let mut signals = job.receive_finished().await.expect("subscribe");
    // The phase first: once it says finished, the result is in place.
    if job.phase().await.expect("phase") == "finished" {
        return job.result().await.expect("result");
    }
    let signal = tokio::time::timeout(Duration::from_secs(60), signals.next())
        .await
        .expect("the job finishes within a minute")
        .expect("a Finished signal");
    let args = signal.args().expect("args");
    (args.success, args.error, args.message)
}

/// Starts installing the update and returns once at least `bytes` are downloaded.
async fn install_until(
    proxy: &UpdateCenterProxy<'static>,
    bytes: u64,
) -> (zbus::zvariant::OwnedObjectPath, JobProxy<'static>) {
    use futures_util::StreamExt;
    let job_path = proxy.install("").await.expect("install");
    let job = JobProxy::builder(proxy.inner().connection())
        .path(job_path.clone())
        .expect("path")
        .build()
        .await
        .expect("job");
    let mut progress = job.receive_done_bytes_changed().await;
    loop {
        let change = tokio::time::timeout(Duration::from_secs(30), progress.next())
            .await
            .expect("progress")
            .expect("a change");
        if change.get().await.expect("value") >= bytes {
            return (job_path, job);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_mutating_method_is_refused_to_a_denied_user_and_allowed_to_an_allowed_one() {
    let w = world(None);
    let calls: [(&str, Vec<String>); 12] = [
        ("Check", vec![]),
        ("Install", vec!["string:".into()]),
        ("Install", vec![format!("string:{NEW}")]),
        (
            "Rollback",
            vec![format!("string:{A}"), "boolean:false".into()],
        ),
        ("Pin", vec![format!("string:{A}")]),
        ("Unpin", vec![format!("string:{A}")]),
        ("Vacuum", vec![]),
        (
            "SetSetting",
            vec!["string:Health.TimeoutSec".into(), "string:5".into()],
        ),
        ("AcknowledgeFallback", vec![]),
        ("Changelog", vec!["string:".into(), "string:".into()]),
        (
            "History",
            vec!["int64:0".into(), "int64:0".into(), "uint32:0".into()],
        ),
        (
            "UseSourceCredentials",
            vec![
                "string:https://mirror.example/".into(),
                "string:ops".into(),
                "string:secret".into(),
            ],
        ),
    ];
    let before = w.fingerprint();
    for (method, args) in &calls {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, text) = call_as(&w.bus, DENIED_UID, method, &args);
        assert!(!ok, "{method} must be refused to nobody: {text}");
        assert!(
            text.contains("org.kde.UpdateCenter1.Error.NotAuthorized"),
            "{method}: {text}"
        );
        assert_eq!(w.fingerprint(), before, "{method}: nothing may change");
    }
    let (ok, text) = call_as(
        &w.bus,
        DENIED_UID,
        "RemoveVersion",
        &[&format!("string:{A}")],
    );
    assert!(!ok && text.contains("NotAuthorized"), "{text}");
    assert_eq!(w.fingerprint(), before);
    // Reading the installed versions, warnings and settings is open to everybody.
    for method in ["ListVersions", "ListWarnings", "GetSettings"] {
        let (ok, text) = call_as(&w.bus, DENIED_UID, method, &[]);
        assert!(ok, "{method}: {text}");
    }

    // The allowed user: each works.
    let proxy = w.proxy().await;
    for (method, args) in &calls {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, text) = call_as(&w.bus, ALLOWED_UID, method, &args);
        // Authorised: it ran, or was refused for a reason of its own (credentials for a
        // mirror that is not the update source).
        assert!(
            ok || text.contains("Error.Refused")
                || text.contains("Error.Busy")
                || (*method == "UseSourceCredentials"
                    && text.contains("not for the update source")),
            "{method} by daemon: {text}"
        );
        if let Some(path) = text
            .split_whitespace()
            .find(|w| w.starts_with("\"/org/kde/UpdateCenter1/job/"))
        {
            let (success, _, message) = finished(&proxy, path.trim_matches('"')).await;
            assert!(
                success || message.contains("installed already"),
                "{method}: {message}"
            );
        }
    }
    assert_ne!(w.fingerprint(), before, "the allowed calls changed things");
    let versions = proxy.list_versions().await.expect("list");
    assert!(versions.iter().any(|v| v.version == NEW && v.complete));
    assert!(
        versions.iter().any(|v| v.version == A && v.is("default")),
        "rolled back to A: {versions:?}"
    );
    let settings = proxy.get_settings().await.expect("settings");
    assert_eq!(settings["Health.TimeoutSec"], "5");
    let history = proxy.history(0, 0, 0).await.expect("history");
    for kind in ["committed", "rolled-back", "pinned", "unpinned"] {
        assert!(history.contains(kind), "{kind}: {history}");
    }
    assert!(testbed::invariants::broken(&w.system.root).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn one_job_at_a_time_and_every_client_sees_it_finish() {
    use futures_util::StreamExt;
    let w = world(Some(1_000_000));
    let (first, second) = (w.proxy().await, w.proxy().await);
    let mut changes_first = first.receive_versions_changed().await.expect("subscribe");
    let mut changes_second = second.receive_versions_changed().await.expect("subscribe");
    let job = first.install("").await.expect("install");
    match second.install("").await {
        Err(Error::Busy(message)) => assert!(message.contains(job.as_str()), "{message}"),
        other => panic!("expected Busy, got {other:?}"),
    }
    match second.rollback(A, false).await {
        Err(Error::Busy(_)) => {}
        other => panic!("expected Busy, got {other:?}"),
    }
    assert_eq!(
        second.current_job().await.expect("job").as_str(),
        job.as_str()
    );
    let (a, b) = tokio::join!(
        finished(&first, job.as_str()),
        finished(&second, job.as_str())
    );
    assert!(a.0, "{a:?}");
    assert_eq!(a, b, "both see the same result");
    for stream in [&mut changes_first, &mut changes_second] {
        tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("VersionsChanged reaches every client")
            .expect("signal");
    }
    assert_eq!(first.state().await.expect("state"), "ready-to-restart");
    assert_eq!(first.current_job().await.expect("job").as_str(), "/");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_download_leaves_no_trace() {
    let w = world(Some(200_000));
    let before = installed_files(&w.system.root);
    let proxy = w.proxy().await;
    let (job_path, job) = install_until(&proxy, 1).await;
    assert_eq!(job.phase().await.expect("phase"), "downloading");
    proxy.cancel(&job_path.as_ref()).await.expect("cancel");
    let (success, name, message) = finished(&proxy, job_path.as_str()).await;
    assert!(!success);
    assert_eq!(name, "org.kde.UpdateCenter1.Error.Cancelled", "{message}");
    assert_eq!(installed_files(&w.system.root), before);
    let leftovers: Vec<_> = ["system", "efi/EFI/Linux"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(w.system.root.join(d))
                .expect("list")
                .flatten()
        })
        .filter(|e| e.file_name().to_string_lossy().starts_with(".#"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(
        proxy
            .last_error()
            .await
            .expect("error")
            .contains("cancelled")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_helper_killed_during_a_job_recovers_and_says_so() {
    let mut w = world(Some(200_000));
    let before = installed_files(&w.system.root);
    {
        let proxy = w.proxy().await;
        install_until(&proxy, PAYLOAD_BYTES as u64 / 4).await;
    }
    // SIGKILL: no chance to clean up.
    w.helper = None;
    let visible = |root: &Path| -> Vec<(String, u64, String, u32)> {
        installed_files(root)
            .into_iter()
            .filter(|f| !f.0.contains("/.#"))
            .collect()
    };
    assert_eq!(
        visible(&w.system.root),
        before,
        "nothing half-installed is visible"
    );
    w.start_helper(None);
    assert_eq!(
        installed_files(&w.system.root),
        before,
        "the new helper removed the temporaries"
    );
    let proxy = w.proxy().await;
    let notice = proxy.last_error().await.expect("last error");
    assert!(
        notice.contains("stopped during an update"),
        "the new helper says what happened: {notice}"
    );
    assert_eq!(proxy.state().await.expect("state"), "error");
    let job = proxy.install("").await.expect("install");
    let (success, _, message) = finished(&proxy, job.as_str()).await;
    assert!(success, "{message}");
    assert!(testbed::invariants::broken(&w.system.root).is_empty());
    let _ = &w.server;
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_arguments_get_invalid_argument_errors_and_the_helper_stays_up() {
    let w = world(None);
    let proxy = w.proxy().await;
    let huge = "9".repeat(1 << 20);
    for bad in [huge.as_str(), "../../etc/passwd", "", "1 2", "v\u{1F600}"] {
        match proxy.pin(bad).await {
            Err(Error::InvalidArgument(message)) => assert!(message.len() < 300, "{message}"),
            other => panic!(
                "pin({:?}): expected InvalidArgument, got {other:?}",
                &bad[..bad.len().min(20)]
            ),
        }
        match proxy.rollback(bad, true).await {
            Err(Error::InvalidArgument(_)) => {}
            other => panic!("rollback: expected InvalidArgument, got {other:?}"),
        }
    }
    match proxy.set_setting("Health.Colour", "red").await {
        Err(Error::InvalidArgument(message)) => assert!(message.contains("not a setting")),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    match proxy.set_setting("Health.TimeoutSec", "forever").await {
        Err(Error::InvalidArgument(message)) => assert!(message.contains("whole seconds")),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    match proxy.history(i64::MAX, 0, 0).await {
        Err(Error::InvalidArgument(_)) => {}
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    match proxy.rollback("209901010000", false).await {
        Err(Error::Refused(message)) => assert!(message.contains("not installed")),
        other => panic!("expected Refused, got {other:?}"),
    }
    // Wrong types never reach the code: the bus layer answers with an error.
    let (ok, text) = call_as(&w.bus, 0, "Pin", &["int32:5"]);
    assert!(!ok && text.contains("Signature mismatch"), "{text}");
    let (ok, text) = call_as(&w.bus, 0, "Rollback", &["string:x"]);
    assert!(!ok && text.contains("Signature mismatch"), "{text}");
    assert_eq!(proxy.list_versions().await.expect("still up").len(), 2);
    let _ = &w.server;
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_and_jobs_reach_the_journal_with_fields() {
    let mut w = world(None);
    // A datagram socket standing where the journal's would be, speaking its protocol.
    let dir = tempfile::tempdir().expect("tempdir");
    let socket_path = dir.path().join("journal.socket");
    let journal = std::os::unix::net::UnixDatagram::bind(&socket_path).expect("bind");
    journal
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    w.start_helper_with(None, &[("UPDATE_CENTER_JOURNAL_SOCKET", &socket_path)]);
    let (ok, _) = call_as(&w.bus, 65534, "Pin", &[&format!("string:{A}")]);
    assert!(!ok);
    let mut buffer = vec![0u8; 65536];
    let n = journal.recv(&mut buffer).expect("a record");
    let record = String::from_utf8_lossy(&buffer[..n]).into_owned();
    assert!(record.contains("PRIORITY=4\n"), "{record}");
    assert!(
        record.contains("UPDATE_CENTER_ACTION=org.kde.updatecenter.pin\n"),
        "{record}"
    );
    assert!(record.contains("SYSLOG_IDENTIFIER=update-center-helper\n"));
    let proxy = w.proxy().await;
    let job = proxy.install("").await.expect("install");
    finished(&proxy, job.as_str()).await;
    let n = journal.recv(&mut buffer).expect("a record");
    let record = String::from_utf8_lossy(&buffer[..n]).into_owned();
    assert!(
        record.contains(&format!("UPDATE_CENTER_JOB={}\n", job.as_str())),
        "{record}"
    );
    assert!(record.contains("PRIORITY=6\n"), "{record}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mirror_that_wants_credentials_opens_with_those_handed_over_and_nothing_keeps_them() {
    const PASSWORD: &str = "PASSWORD-MARKER-api";
    let w = world(None);
    w.server.require_basic_auth("ops", PASSWORD);
    let p = w.proxy().await;
    p.set_setting("Updates.Source", &w.server.url)
        .await
        .expect("source");

    // Without credentials the mirror answers 401, and the helper says what to do.
    let job = p.check().await.expect("check");
    let (ok, _, message) = finished(&p, job.as_str()).await;
    assert!(!ok);
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(message.contains("user name and password"), "{message}");

    // Wrong ones are refused the same way.
    p.use_source_credentials(&w.server.url, "ops", "wrong")
        .await
        .expect("hand over");
    let job = p.check().await.expect("check");
    assert!(!finished(&p, job.as_str()).await.0);

    // The right ones open it: check and install.
    p.use_source_credentials(&w.server.url, "ops", PASSWORD)
        .await
        .expect("hand over");
    let job = p.check().await.expect("check");
    let (ok, _, message) = finished(&p, job.as_str()).await;
    assert!(ok, "{message}");
    assert_eq!(p.available_update().await.expect("offer").version, NEW);
    let job = p.install("").await.expect("install");
    let (ok, _, message) = finished(&p, job.as_str()).await;
    assert!(ok, "{message}");

    // Malformed ones are refused.
    assert!(
        p.use_source_credentials(&w.server.url, "a:b", "x")
            .await
            .is_err()
    );
    // Credentials for another origin, or for plain http to another machine, are refused.
    let elsewhere = w.server.url.replace("127.0.0.1", "127.0.0.2");
    let e = p
        .use_source_credentials(&elsewhere, "ops", PASSWORD)
        .await
        .expect_err("another origin");
    assert!(e.to_string().contains("not for the update source"), "{e}");
    let e = p
        .use_source_credentials("http://mirror.example/", "ops", PASSWORD)
        .await
        .expect_err("plain http");
    assert!(e.to_string().contains("unencrypted"), "{e}");

    // The password is in no file of the system and not in the helper's log.
    let log = w.helper.as_ref().map(|h| h.log.text()).unwrap_or_default();
    assert!(!log.contains(PASSWORD), "the helper logged the password");
    let found = testbed::files_containing(&w.system.root, PASSWORD);
    assert!(found.is_empty(), "the password is in {found:?}");
}

/// The `State` property read straight from the helper (no cache), and how long that took.
async fn timed_state(connection: &zbus::Connection) -> Duration {
    let started = std::time::Instant::now();
    let proxy = zbus::fdo::PropertiesProxy::builder(connection)
        .destination(update_center_client::BUS_NAME)
        .expect("destination")
        .path(update_center_client::OBJECT_PATH)
        .expect("path")
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .expect("properties");
    let interface =
        zbus::names::InterfaceName::from_static_str_unchecked(update_center_client::INTERFACE);
    proxy.get(interface, "State").await.expect("State");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_reads_from_many_users_stalls_neither_the_status_nor_a_job() {
    const CALLS_PER_USER: usize = 100;
    // daemon (allowed), nobody and eight other system users (denied by the test rules).
    const UIDS: [u32; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 10, 65534];
    // About 2 s of download: the flood runs while the job does.
    let w = world(Some((PAYLOAD_BYTES / 2) as u64));
    let proxy = w.proxy().await;
    let job = proxy.install("").await.expect("install");
    let helper_pid = w.helper.as_ref().expect("helper").pid();
    // Each user fires all its calls at once over one connection: every read method,
    // authorised or not.
    let flood = testbed::binary("update-center-flood").expect("flood");
    let mut floods = Vec::new();
    for uid in UIDS {
        floods.push(
            Command::new("setpriv")
                .args([
                    &format!("--reuid={uid}"),
                    &format!("--regid={uid}"),
                    "--clear-groups",
                ])
                .arg(&flood)
                .arg(CALLS_PER_USER.to_string())
                .env("DBUS_SYSTEM_BUS_ADDRESS", &w.bus.address)
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("flood"),
        );
    }
    // The status, read as a tray would, for as long as the flood lasts.
    let connection = proxy.inner().connection().clone();
    let mut latencies = Vec::new();
    while floods
        .iter_mut()
        .any(|f| f.try_wait().expect("wait").is_none())
    {
        latencies.push(timed_state(&connection).await);
    }
    for mut flood in floods {
        assert!(flood.wait().expect("wait").success());
    }
    latencies.sort();
    let p99 = latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)];
    let peak_kb: u64 = std::fs::read_to_string(format!("/proc/{helper_pid}/status"))
        .expect("status")
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmHWM");
    let (ok, _, message) = finished(&proxy, job.as_str()).await;
    assert!(ok, "the job finishes despite the flood: {message}");
    let cache = w.system.root.join("var/cache/update-center/metadata");
    let cached: Vec<u64> = std::fs::read_dir(&cache)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .collect()
        })
        .unwrap_or_default();
    eprintln!(
        "flood: {} calls from {} users; State read {} times, p99 {:?}, max {:?}; helper peak RSS {} MB; cache {} files, {} bytes",
        CALLS_PER_USER * UIDS.len(),
        UIDS.len(),
        latencies.len(),
        p99,
        latencies.last().expect("a reading"),
        peak_kb / 1024,
        cached.len(),
        cached.iter().sum::<u64>()
    );
    assert!(
        latencies.len() >= 10,
        "the status was read during the flood"
    );
    assert!(p99 < Duration::from_millis(50), "State p99 {p99:?}");
    assert!(peak_kb < 64 * 1024, "helper peak RSS {peak_kb} kB");
    assert!(
        cached.len() <= update_center_engine::changelog::CACHE_MAX_FILES
            && cached.iter().sum::<u64>() <= update_center_engine::changelog::CACHE_MAX_BYTES
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_check_against_a_source_that_never_answers_is_cancelled_at_once() {
    let w = world(None);
    // The mirror accepts the request for the list and never answers.
    w.server
        .set_fault("SHA256SUMS", testbed::mirror::Fault::Stall);
    let proxy = w.proxy().await;
    let job = proxy.check().await.expect("check");
    proxy.cancel(&job.as_ref()).await.expect("cancel");
    let (success, name, message) = finished(&proxy, job.as_str()).await;
    assert!(!success);
    assert_eq!(name, "org.kde.UpdateCenter1.Error.Cancelled", "{message}");
    // The slot is free at once (the stalled request has not timed out yet): the source's
    // silence does not hold it.
    w.server.clear_faults();
    let next = proxy.check().await.expect("the next job starts");
    let (success, _, message) = finished(&proxy, next.as_str()).await;
    assert!(success, "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_that_stopped_publishing_is_a_warning_for_every_client() {
    use testbed::gpg::{GpgKey, KeyKind};
    let w = world(None);
    let key = GpgKey::generate_days_ago(KeyKind::Ed25519, "KDE Linux <kde@example.org>", 60)
        .expect("key");
    w.sign_mirror_days_ago(&key, 40);
    let proxy = w.proxy().await;
    let job = proxy.check().await.expect("check");
    let (ok, _, message) = finished(&proxy, job.as_str()).await;
    assert!(ok, "a stale source does not block the check: {message}");
    assert_eq!(proxy.available_update().await.expect("offer").version, NEW);
    let listed = proxy.list_warnings().await.expect("warnings");
    assert!(
        listed
            .iter()
            .any(|w| w.message.contains("40 days old") && w.file.starts_with("http://127.0.0.1")),
        "{listed:?}"
    );
    let property = proxy.warnings().await.expect("property");
    assert!(
        property.iter().any(|w| w.message.contains("40 days old")),
        "{property:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_user_may_pause_once_but_not_renew_the_pause_forever() {
    // daemon is an active-session user here: it may check (and so pause for up to a week),
    // but is no administrator.
    let rules = "polkit.addRule(function(action, subject) {\n  if (action.id.indexOf(\"org.kde.updatecenter.\") == 0) {\n    if (subject.user == \"daemon\" && action.id == \"org.kde.updatecenter.check\") return polkit.Result.YES;\n    return polkit.Result.NO;\n  }\n});\n";
    let w = testbed::world::world_with_rules(None, rules);
    let at = |days: i64| {
        (chrono::Utc::now() + chrono::Duration::days(days))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let set = |value: String| {
        call_as(
            &w.bus,
            ALLOWED_UID,
            "SetSetting",
            &["string:Updates.PausedUntil", &format!("string:{value}")],
        )
    };
    let (ok, text) = set(at(1));
    assert!(ok, "a pause of a day: {text}");
    let (ok, text) = set(at(7));
    assert!(
        !ok && text.contains("NotAuthorized"),
        "renewing a running pause: {text}"
    );
    let (ok, text) = set(String::new());
    assert!(ok, "ending the pause: {text}");
    let (ok, text) = set(at(8));
    assert!(
        !ok && text.contains("NotAuthorized"),
        "more than a week: {text}"
    );
}

/// A polkit authentication agent that declines every request and notes which action it was
/// asked about: polkitd asks an agent only when the caller allowed interaction.
struct DecliningAgent {
    asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

#[zbus::interface(name = "org.freedesktop.PolicyKit1.AuthenticationAgent")]
impl DecliningAgent {
    async fn begin_authentication(
        &self,
        action_id: &str,
        _message: &str,
        _icon_name: &str,
        _details: std::collections::HashMap<String, String>,
        _cookie: &str,
        _identities: Vec<(
            String,
            std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
        )>,
    ) -> zbus::fdo::Result<()> {
        self.asked.lock().expect("lock").push(action_id.to_string());
        Err(zbus::fdo::Error::Failed("the test's agent declines".into()))
    }

    async fn cancel_authentication(&self, _cookie: &str) {}
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_prompt_is_asked_for_only_when_the_callers_message_allows_one() {
    // daemon must authenticate as an administrator to change a setting.
    let rules = "polkit.addRule(function(action, subject) {\n  if (action.id == \"org.kde.updatecenter.settings\" && subject.user == \"daemon\") return polkit.Result.AUTH_ADMIN;\n});\n";
    let w = testbed::world::world_with_rules(None, rules);
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let agent = zbus::connection::Builder::address(w.bus.address.as_str())
        .expect("address")
        .serve_at(
            "/org/kde/UpdateCenterTest/Agent",
            DecliningAgent {
                asked: asked.clone(),
            },
        )
        .expect("serve")
        .build()
        .await
        .expect("connect");
    for interactive in [false, true] {
        // The caller waits for a line before it calls, so that the agent is registered for
        // its process first (the process keeps its pid and start time across exec).
        let mut caller = Command::new("setpriv")
            .args([
                &format!("--reuid={ALLOWED_UID}"),
                &format!("--regid={ALLOWED_UID}"),
                "--clear-groups",
                "sh",
                "-c",
                &format!(
                    "read go; exec busctl --address={} call --allow-interactive-authorization={interactive} \
                     org.kde.UpdateCenter1 /org/kde/UpdateCenter1 org.kde.UpdateCenter1 SetSetting ss Health.TimeoutSec 90",
                    w.bus.address
                ),
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("caller");
        let pid = caller.id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
        // Field 22 (start time), counted after the command name's closing parenthesis.
        let start_time: u64 = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(19))
            .and_then(|t| t.parse().ok())
            .expect("start time");
        let mut details = std::collections::HashMap::new();
        details.insert("pid", zbus::zvariant::Value::U32(pid));
        details.insert("start-time", zbus::zvariant::Value::U64(start_time));
        details.insert("uid", zbus::zvariant::Value::I32(ALLOWED_UID as i32));
        agent
            .call_method(
                Some("org.freedesktop.PolicyKit1"),
                "/org/freedesktop/PolicyKit1/Authority",
                Some("org.freedesktop.PolicyKit1.Authority"),
                "RegisterAuthenticationAgent",
                &(
                    ("unix-process", details),
                    "C",
                    "/org/kde/UpdateCenterTest/Agent",
                ),
            )
            .await
            .expect("register the agent for the caller's process");
        {
            use std::io::Write;
            caller
                .stdin
                .take()
                .expect("stdin")
                .write_all(b"go\n")
                .expect("go");
        }
        let output = caller.wait_with_output().expect("caller");
        let text = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!output.status.success(), "the agent declined: {text}");
        let seen = asked.lock().expect("lock").clone();
        if interactive {
            assert_eq!(
                seen,
                ["org.kde.updatecenter.settings"],
                "the caller allowed a prompt: polkit asked the agent ({text})"
            );
        } else {
            assert!(
                seen.is_empty(),
                "the caller did not allow a prompt, yet the agent was asked: {seen:?}"
            );
            assert!(text.contains("not authorised"), "{text}");
        }
    }
}
