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

mod authorisation;

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
    let details = proxy.last_error_details().await.expect("details");
    assert_eq!(
        (details.kind.as_str(), details.field("job")),
        ("cancelled", "install")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_job_says_its_error_as_fields_beside_the_english() {
    let w = world(None);
    // The mirror serves other bytes of the same length: only the SHA-256 tells.
    let image = w
        .server
        .dir
        .join(format!("kde-linux_{NEW}_root-x86-64.erofs"));
    let original = std::fs::read(&image).expect("read the image");
    let mut wrong = original.clone();
    wrong[0] ^= 0xff;
    std::fs::write(&image, &wrong).expect("write");
    let proxy = w.proxy().await;
    let job_path = proxy.install("").await.expect("install");
    let (success, name, message) = finished(&proxy, job_path.as_str()).await;
    assert!(!success);
    assert_eq!(name, "org.kde.UpdateCenter1.Error.Network", "{message}");
    let job = JobProxy::builder(proxy.inner().connection())
        .path(job_path.clone())
        .expect("path")
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .expect("job");
    let details = job.error_details().await.expect("ErrorDetails");
    assert_eq!(details.kind, "hash-mismatch", "{message}");
    assert_eq!(
        details.field("url"),
        format!("{}kde-linux_{NEW}_root-x86-64.erofs", w.server.url)
    );
    assert_eq!(details.field("job"), "install");
    assert_eq!(
        proxy.last_error_details().await.expect("LastErrorDetails"),
        details
    );
    // The English message stays beside the fields, for logs, scripts and older clients.
    assert_eq!(proxy.last_error().await.expect("LastError"), message);
    assert!(message.contains("does not match its SHA-256"), "{message}");

    // A job that succeeds clears both.
    std::fs::write(&image, &original).expect("write");
    let job_path = proxy.install("").await.expect("install");
    let (success, _, message) = finished(&proxy, job_path.as_str()).await;
    assert!(success, "{message}");
    assert_eq!(
        proxy.last_error_details().await.expect("LastErrorDetails"),
        update_center_client::ErrorDetails::default()
    );
    assert_eq!(proxy.last_error().await.expect("LastError"), "");
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
    // And as fields, for clients to say in the person's language.
    let details = proxy.last_error_details().await.expect("details");
    assert_eq!(details.kind, "recovered-discarded", "{notice}");
    assert!(
        details.field("files").parse::<u32>().is_ok_and(|n| n > 0),
        "{details:?}"
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
        cached.len() <= update_center_engine::source::changelog::CACHE_MAX_FILES
            && cached.iter().sum::<u64>()
                <= update_center_engine::source::changelog::CACHE_MAX_BYTES
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
