//! End-to-end: the helper on a real private system bus (dbus-daemon with the project's policy),
//! called through the typed client, compared with the fixture it serves.

use std::path::Path;
use std::process::Command;
use testbed::bus::PrivateBus;
use testbed::process::Helper;
use testbed::setup::{Built, Setup};
use testbed::system::{Images, KdeLinuxRoot, VersionSpec};
use update_center_client::{Error, InstalledFile, UpdateCenterProxy, VersionInfo};

/// The uid/gid the unprivileged tests run as.
const NOBODY: &str = "65534";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

async fn proxy(bus: &PrivateBus) -> UpdateCenterProxy<'static> {
    let connection = zbus::connection::Builder::address(bus.address.as_str())
        .expect("address")
        .build()
        .await
        .expect("connect to the private bus");
    UpdateCenterProxy::new(&connection).await.expect("proxy")
}

/// What the helper must report for a fixture, computed from the fixture's description and the
/// files on disk, not from the engine.
fn expected(system: &KdeLinuxRoot) -> Vec<VersionInfo> {
    let mut versions: Vec<VersionInfo> = system
        .versions
        .iter()
        .map(|spec| VersionInfo {
            version: spec.version.clone(),
            complete: spec.missing().is_empty(),
            booted: system.booted.as_deref() == Some(spec.version.as_str()),
            files: spec
                .files()
                .into_iter()
                .map(|(transfer, path)| InstalledFile {
                    transfer: transfer.to_string(),
                    size_bytes: std::fs::metadata(
                        system.root.join(path.strip_prefix("/").unwrap_or(&path)),
                    )
                    .expect("fixture file")
                    .len(),
                    path: path.display().to_string(),
                })
                .collect(),
            missing_transfers: spec.missing().into_iter().map(str::to_string).collect(),
            // Compared on their own below.
            states: Vec::new(),
        })
        .collect();
    // Versions in the fixtures are timestamps of equal length: text order is version order.
    versions.sort_by(|a, b| b.version.cmp(&a.version));
    versions
}

/// Four versions, Erofs images: a legacy name, the running one, one on trial, one without its
/// UKI.
fn four_versions() -> Built {
    let mut on_trial = VersionSpec::complete("202611251200");
    on_trial.counter = Some((1, 1));
    let mut legacy = VersionSpec::complete("202510010800");
    legacy.legacy_name = true;
    let mut incomplete = VersionSpec::complete("202611261000");
    incomplete.uki = false;
    let versions = [
        legacy,
        VersionSpec::complete("202611200930"),
        on_trial,
        incomplete,
    ];
    Setup::new()
        .installed(versions)
        .booted(Some("202611200930"))
        .images(Images::Erofs)
        .build()
}

#[test]
fn list_versions_over_the_system_bus_matches_the_fixture() {
    let built = four_versions();
    let system = &built.system;
    let bus = PrivateBus::start().expect("bus");
    let _helper = Helper::start(&bus, &system.root, Some(Path::new("/efi"))).expect("helper");
    let versions = runtime()
        .block_on(async { proxy(&bus).await.list_versions().await })
        .expect("ListVersions");
    let without_states: Vec<VersionInfo> = versions
        .iter()
        .cloned()
        .map(|mut v| {
            v.states.clear();
            v
        })
        .collect();
    assert_eq!(without_states, expected(system));
    assert_eq!(versions.len(), 4);
    let states = |version: &str| -> Vec<String> {
        versions
            .iter()
            .find(|v| v.version == version)
            .map(|v| v.states.iter().map(|(n, _)| n.clone()).collect())
            .unwrap_or_default()
    };
    assert!(states("202611200930").contains(&"running".to_string()));
    assert!(states("202611251200").contains(&"on-trial".to_string()));
    assert_eq!(states("202611261000")[0], "incomplete");
    let trial = versions
        .iter()
        .find(|v| v.version == "202611251200")
        .expect("on trial");
    assert!(
        trial
            .states
            .iter()
            .any(|(_, words)| words == "on trial: 1 tries left, 1 done"),
        "{trial:?}"
    );
    assert!(!versions[0].complete, "the newest version lacks its UKI");
    assert_eq!(versions[0].missing_transfers, vec!["60-esp".to_string()]);
    assert!(versions.iter().filter(|v| v.booted).count() == 1);
}

#[test]
fn an_empty_system_lists_no_versions() {
    let built = Setup::new().empty().build();
    let system = &built.system;
    let bus = PrivateBus::start().expect("bus");
    let _helper = Helper::start(&bus, &system.root, None).expect("helper");
    let versions = runtime()
        .block_on(async { proxy(&bus).await.list_versions().await })
        .expect("ListVersions");
    assert!(versions.is_empty(), "{versions:?}");
}

fn call_error(root: &Path) -> Error {
    let bus = PrivateBus::start().expect("bus");
    let _helper = Helper::start(&bus, root, None).expect("helper");
    runtime()
        .block_on(async { proxy(&bus).await.list_versions().await })
        .expect_err("the call must fail")
}

#[test]
fn a_root_without_sysupdate_d_gets_a_named_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    match call_error(dir.path()) {
        Error::NoDefinitions(message) => {
            assert!(message.contains("/usr/lib/sysupdate.d"), "{message}");
        }
        other => panic!("expected NoDefinitions, got {other:?}"),
    }
}

#[test]
fn a_malformed_definition_gets_a_named_error_with_file_and_line() {
    let built = Setup::new().only("1").build();
    let system = &built.system;
    let file = system.root.join("usr/lib/sysupdate.d/60-esp.transfer");
    let text = std::fs::read_to_string(&file)
        .expect("read")
        .replace("TriesLeft=2", "TriesLeft=two");
    std::fs::write(&file, text).expect("write");
    match call_error(&system.root) {
        Error::InvalidDefinition(message) => {
            assert!(
                message.starts_with("/usr/lib/sysupdate.d/60-esp.transfer:"),
                "{message}"
            );
            assert!(message.contains("TriesLeft="), "{message}");
            assert!(
                message.contains("`two` is not a non-negative number"),
                "{message}"
            );
        }
        other => panic!("expected InvalidDefinition, got {other:?}"),
    }
}

#[test]
fn an_unreadable_definition_gets_a_named_error_naming_the_file() {
    let built = Setup::new().empty().build();
    let system = &built.system;
    // Tests run as root, which reads any file whatever its mode: bytes that are not text make
    // the file unreadable as a definition instead.
    let etc = system.root.join("etc/sysupdate.d");
    std::fs::create_dir_all(&etc).expect("mkdir");
    std::fs::write(etc.join("70-broken.transfer"), [0xff, 0xfe, 0x00, 0x9c]).expect("write");
    match call_error(&system.root) {
        Error::InvalidDefinition(message) => {
            assert!(
                message.contains("/etc/sysupdate.d/70-broken.transfer"),
                "{message}"
            );
            assert!(message.contains("not valid UTF-8"), "{message}");
        }
        other => panic!("expected InvalidDefinition, got {other:?}"),
    }
}

#[test]
fn the_committed_introspection_matches_the_served_interface() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bus = PrivateBus::start().expect("bus");
    let _helper = Helper::start(&bus, dir.path(), None).expect("helper");
    let xml: String = runtime().block_on(async {
        let connection = zbus::connection::Builder::address(bus.address.as_str())
            .expect("address")
            .build()
            .await
            .expect("connect");
        let proxy = zbus::fdo::IntrospectableProxy::builder(&connection)
            .destination(update_center_client::BUS_NAME)
            .expect("destination")
            .path(update_center_client::OBJECT_PATH)
            .expect("path")
            .build()
            .await
            .expect("proxy");
        proxy.introspect().await.expect("Introspect")
    });
    let served = interface_block(&xml).expect("the served XML has the interface");
    let committed_path = testbed::checkout().join("data/dbus/org.kde.UpdateCenter1.xml");
    let committed = std::fs::read_to_string(&committed_path).expect("committed XML");
    let committed = interface_block(&committed).expect("the committed XML has the interface");
    assert_eq!(
        normalise(&committed),
        normalise(&served),
        "data/dbus/org.kde.UpdateCenter1.xml is out of date; the helper serves:\n{served}"
    );
}

/// The `<interface name="org.kde.UpdateCenter1">` element of an introspection document.
fn interface_block(xml: &str) -> Option<String> {
    let start = xml.find("<interface name=\"org.kde.UpdateCenter1\"")?;
    let end = xml[start..].find("</interface>")? + start + "</interface>".len();
    Some(xml[start..end].to_string())
}

/// Drops comments, documentation annotations' whitespace differences and blank lines.
fn normalise(block: &str) -> Vec<String> {
    let mut without_comments = String::new();
    let mut rest = block;
    while let Some(start) = rest.find("<!--") {
        without_comments.push_str(&rest[..start]);
        rest = rest[start..]
            .find("-->")
            .map_or("", |end| &rest[start + end + 3..]);
    }
    without_comments.push_str(rest);
    without_comments
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn setpriv_nobody() -> Command {
    let mut command = Command::new("setpriv");
    command.args(["--reuid", NOBODY, "--regid", NOBODY, "--clear-groups", "--"]);
    command
}

#[test]
fn only_root_may_own_the_bus_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bus = PrivateBus::start().expect("bus");
    let mut command = setpriv_nobody();
    command.arg(testbed::binary("update-center-helper").expect("helper binary"));
    let result = Helper::start_with(command, &bus, dir.path(), None);
    let Err(error) = result else {
        panic!("an unprivileged helper must not own org.kde.UpdateCenter1");
    };
    let text = format!("{error:#}");
    assert!(text.contains("cannot own org.kde.UpdateCenter1"), "{text}");
}

#[test]
fn any_user_may_call_the_helper() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Plain).expect("fixture");
    let bus = PrivateBus::start().expect("bus");
    let _helper = Helper::start(&bus, &system.root, Some(Path::new("/efi"))).expect("helper");
    let output = setpriv_nobody()
        .args([
            "dbus-send",
            "--system",
            "--print-reply",
            "--dest=org.kde.UpdateCenter1",
        ])
        .args([
            "/org/kde/UpdateCenter1",
            "org.kde.UpdateCenter1.ListVersions",
        ])
        .env("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)
        .output()
        .expect("dbus-send");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for spec in &system.versions {
        assert!(stdout.contains(&spec.version), "{stdout}");
    }
}

#[test]
fn a_missing_helper_is_reported_as_not_running() {
    let bus = PrivateBus::start().expect("bus");
    let error = runtime()
        .block_on(async { proxy(&bus).await.list_versions().await })
        .expect_err("nobody serves the name");
    let message = update_center_client::describe_call_error(&error);
    assert!(message.contains("is not running"), "{message}");
}

#[test]
fn definition_warnings_reach_the_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Plain).expect("fixture");
    std::fs::write(
        system.root.join("usr/lib/sysupdate.d/70-old.conf"),
        "[Source]\n",
    )
    .expect("write");
    let bus = PrivateBus::start().expect("bus");
    let helper = Helper::start(&bus, &system.root, Some(Path::new("/efi"))).expect("helper");
    let warnings = runtime()
        .block_on(async { proxy(&bus).await.list_warnings().await })
        .expect("ListWarnings");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].file, "/usr/lib/sysupdate.d/70-old.conf");
    assert!(
        warnings[0]
            .message
            .contains("is ignored because *.transfer files exist"),
        "{:?}",
        warnings[0]
    );
    // The same as a kind, for clients to say in the person's language.
    assert_eq!(warnings[0].kind, "legacy-ignored");
    assert!(warnings[0].fields.is_empty());
    // The helper logs before it answers, but our reader thread may not have caught up yet.
    assert!(
        helper.log.wait_for(
            "warning: /usr/lib/sysupdate.d/70-old.conf",
            std::time::Duration::from_secs(10)
        ),
        "the helper's log must carry the warning too:\n{}",
        helper.log.text()
    );
}

#[test]
fn an_idle_helper_exits_and_gives_its_name_back() {
    let built = four_versions();
    let system = &built.system;
    let bus = PrivateBus::start().expect("bus");
    let mut command =
        std::process::Command::new(testbed::binary("update-center-helper").expect("helper"));
    command.args(["serve", "--idle-exit", "1"]);
    let mut helper =
        Helper::start_with(command, &bus, &system.root, Some(Path::new("/efi"))).expect("helper");
    // A call is activity; then a second without any, and it leaves.
    let versions = runtime()
        .block_on(async { proxy(&bus).await.list_versions().await })
        .expect("ListVersions");
    assert_eq!(versions.len(), 4);
    assert!(
        helper
            .log
            .wait_for("idle, exiting", std::time::Duration::from_secs(30)),
        "{}",
        helper.log.text()
    );
    assert!(helper.wait().expect("wait").success());
    let gone = runtime().block_on(async { proxy(&bus).await.list_versions().await });
    let message = update_center_client::describe_call_error(&gone.expect_err("no helper"));
    assert!(message.contains("not running"), "{message}");
}

#[test]
fn reads_do_not_keep_an_idle_helper_alive() {
    let built = four_versions();
    let system = &built.system;
    let bus = PrivateBus::start().expect("bus");
    let mut command =
        std::process::Command::new(testbed::binary("update-center-helper").expect("helper"));
    command.args(["serve", "--idle-exit", "2"]);
    let mut helper =
        Helper::start_with(command, &bus, &system.root, Some(Path::new("/efi"))).expect("helper");
    // Anyone may read, as fast as it likes: that is no reason to stay (a read of the status or
    // the versions costs nothing to start again on the next call).
    let reads = runtime().block_on(async {
        let proxy = proxy(&bus).await;
        let mut reads = 0u64;
        // Bounded, so that a helper that never leaves fails the test instead of hanging it.
        while reads < 200_000 && proxy.list_versions().await.is_ok() {
            reads += 1;
        }
        reads
    });
    assert!(reads > 0);
    assert!(
        helper.log.text().contains("idle, exiting"),
        "{}",
        helper.log.text()
    );
    assert!(helper.wait().expect("wait").success());
}
