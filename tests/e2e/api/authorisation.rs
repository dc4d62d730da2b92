//! Who may call what: every mutating method refused to a denied caller with nothing changed,
//! and allowed to an allowed one; refusals in the journal; mirror credentials handed over and
//! kept by nobody; a session user's pause; password prompts only when the caller allows one.

use super::*;

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
