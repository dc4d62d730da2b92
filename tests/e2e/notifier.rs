//! The tray notifier against the real helper (private system bus, real polkitd) and, on a
//! private session bus, two test doubles that follow their specifications: a
//! StatusNotifierWatcher (`TestWatcher`; KDE's watcher runs inside Plasma's kded, not in the dev
//! root) and a notification server (`TestNotificationServer`). It registers; its Status, icon,
//! tooltip and menu follow every state the helper goes through; notifications arrive once per
//! situation and version with the right actions, none while the window is open or before the
//! session settles, and "View Updates" runs the GUI's command.

// The test doubles' interfaces: zbus generates items without documentation.
#![allow(missing_docs)]

use futures_util::StreamExt;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testbed::bus::PrivateBus;
use testbed::world::{A, NEW, world};

const WAIT: Duration = Duration::from_secs(30);

/// A StatusNotifierWatcher as the specification describes it, for the test.
#[derive(Default, Clone)]
struct TestWatcher {
    items: Arc<Mutex<Vec<String>>>,
    registered: Arc<tokio::sync::Notify>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl TestWatcher {
    async fn register_status_notifier_item(
        &self,
        service: &str,
        #[zbus(header)] header: zbus::message::Header<'_>,
    ) {
        // A service may be a bus name or an object path on the caller's connection.
        let name = if service.starts_with('/') {
            header.sender().map(|s| s.to_string()).unwrap_or_default()
        } else {
            service.to_string()
        };
        self.items.lock().expect("lock").push(name);
        self.registered.notify_waiters();
        self.registered.notify_one();
    }
    fn register_status_notifier_host(&self, _service: &str) {}
    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items.lock().expect("lock").clone()
    }
    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }
    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

/// One notification as the server received it.
#[derive(Debug, Clone)]
struct Received {
    id: u32,
    summary: String,
    body: String,
    actions: Vec<String>,
}

/// A notification server as the Desktop Notifications specification describes it, for the test.
#[derive(Default, Clone)]
struct TestNotificationServer {
    received: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<tokio::sync::Notify>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl TestNotificationServer {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app_name: &str,
        _replaces_id: u32,
        _app_icon: &str,
        summary: &str,
        body: &str,
        actions: Vec<String>,
        _hints: std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut received = self.received.lock().expect("lock");
        let id = received.len() as u32 + 1;
        received.push(Received {
            id,
            summary: summary.into(),
            body: body.into(),
            actions,
        });
        self.arrived.notify_one();
        id
    }
    fn get_capabilities(&self) -> Vec<String> {
        vec!["actions".into(), "body".into()]
    }
    fn get_server_information(&self) -> (String, String, String, String) {
        ("test".into(), "test".into(), "1".into(), "1.2".into())
    }
    #[zbus(signal)]
    async fn action_invoked(
        emitter: &zbus::object_server::SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;
}

struct Desktop {
    session: PrivateBus,
    connection: zbus::Connection,
    watcher: TestWatcher,
    server: TestNotificationServer,
    state: tempfile::TempDir,
    fifo: std::path::PathBuf,
}

async fn desktop() -> Desktop {
    let session = PrivateBus::start_session().expect("session bus");
    let watcher = TestWatcher::default();
    let server = TestNotificationServer::default();
    let connection = zbus::connection::Builder::address(session.address.as_str())
        .expect("address")
        .name("org.kde.StatusNotifierWatcher")
        .expect("name")
        .name("org.freedesktop.Notifications")
        .expect("name")
        .serve_at("/StatusNotifierWatcher", watcher.clone())
        .expect("serve")
        .serve_at("/org/freedesktop/Notifications", server.clone())
        .expect("serve")
        .build()
        .await
        .expect("connect");
    let state = tempfile::tempdir().expect("tempdir");
    // The GUI's stand-in writes its arguments into a FIFO the test reads: no polling.
    let fifo = state.path().join("gui-started");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    let script = state.path().join("gui");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"started $*\" > {}\n", fifo.display()),
    )
    .expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    Desktop {
        session,
        connection,
        watcher,
        server,
        state,
        fifo,
    }
}

fn start_notifier(desktop: &Desktop, system: &PrivateBus, settle: u32) -> Child {
    Command::new(testbed::binary("update-center-notifier").expect("notifier"))
        .args(["--settle-secs", &settle.to_string()])
        .env("DBUS_SYSTEM_BUS_ADDRESS", &system.address)
        .env("DBUS_SESSION_BUS_ADDRESS", &desktop.session.address)
        .env("XDG_STATE_HOME", desktop.state.path())
        .env("UPDATE_CENTER_GUI", desktop.state.path().join("gui"))
        .env("LANGUAGE", "en_US")
        .spawn()
        .expect("start the notifier")
}

/// A dbusmenu layout node: (id, properties, children).
type MenuNode = (
    i32,
    std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
    Vec<zbus::zvariant::OwnedValue>,
);

/// The tray item as the host sees it.
#[derive(Debug, Default)]
struct Item {
    status: String,
    icon: String,
    tooltip: String,
    menu: Vec<String>,
}

async fn registered_item(desktop: &Desktop) -> String {
    loop {
        let notified = desktop.watcher.registered.notified();
        if let Some(name) = desktop.watcher.items.lock().expect("lock").first().cloned() {
            return name;
        }
        tokio::time::timeout(WAIT, notified)
            .await
            .expect("the notifier registers its item");
    }
}

async fn read_item(connection: &zbus::Connection, service: &str) -> Item {
    let props = zbus::fdo::PropertiesProxy::builder(connection)
        .destination(service.to_string())
        .expect("dest")
        .path("/StatusNotifierItem")
        .expect("path")
        .build()
        .await
        .expect("proxy");
    let iface = zbus::names::InterfaceName::try_from("org.kde.StatusNotifierItem").expect("iface");
    let all = props.get_all(iface).await.expect("item properties");
    let text = |key: &str| {
        all.get(key)
            .and_then(|v| String::try_from(v.try_clone().expect("clone")).ok())
            .unwrap_or_default()
    };
    let tooltip = all
        .get("ToolTip")
        .and_then(|v| {
            <(String, Vec<(i32, i32, Vec<u8>)>, String, String)>::try_from(
                v.try_clone().expect("clone"),
            )
            .ok()
        })
        .map(|t| t.3)
        .unwrap_or_default();
    let (_, (_, _, children)): (u32, MenuNode) = connection
        .call_method(
            Some(service),
            "/MenuBar",
            Some("com.canonical.dbusmenu"),
            "GetLayout",
            &(0i32, -1i32, Vec::<String>::new()),
        )
        .await
        .expect("menu layout")
        .body()
        .deserialize()
        .expect("layout");
    let menu = children
        .into_iter()
        .filter_map(|child| {
            let (id, props, _): MenuNode = zbus::zvariant::Value::from(child).try_into().ok()?;
            let label = props
                .get("label")
                .and_then(|v| String::try_from(v.try_clone().ok()?).ok())?;
            Some(format!("{id}:{label}"))
        })
        .collect();
    Item {
        status: text("Status"),
        icon: text("IconName"),
        tooltip,
        menu,
    }
}

/// Waits, woken by the item's own signals, until `wanted` holds.
async fn item_until(
    connection: &zbus::Connection,
    service: &str,
    what: &str,
    wanted: impl Fn(&Item) -> bool,
) -> Item {
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender(service.to_string())
        .expect("sender")
        .build();
    let mut signals = zbus::MessageStream::for_match_rule(rule, connection, None)
        .await
        .expect("subscribe");
    loop {
        let item = read_item(connection, service).await;
        if wanted(&item) {
            return item;
        }
        tokio::time::timeout(WAIT, signals.next())
            .await
            .unwrap_or_else(|_| panic!("the tray never showed {what}; last: {item:?}"));
    }
}

async fn notifications_until(desktop: &Desktop, count: usize) -> Vec<Received> {
    loop {
        let arrived = desktop.server.arrived.notified();
        let received = desktop.server.received.lock().expect("lock").clone();
        if received.len() >= count {
            return received;
        }
        tokio::time::timeout(WAIT, arrived)
            .await
            .unwrap_or_else(|_| panic!("notification {count} never came; got {received:?}"));
    }
}

fn menu_id(menu: &[String], label: &str) -> i32 {
    menu.iter()
        .find_map(|m| {
            m.split_once(':')
                .filter(|(_, l)| *l == label)
                .map(|(id, _)| id.parse().expect("id"))
        })
        .unwrap_or_else(|| panic!("no menu item {label} in {menu:?}"))
}

/// Clicks the menu item `label`, as the tray host does (dbusmenu `Event`).
async fn click(connection: &zbus::Connection, service: &str, menu: &[String], label: &str) {
    connection
        .call_method(
            Some(service),
            "/MenuBar",
            Some("com.canonical.dbusmenu"),
            "Event",
            &(
                menu_id(menu, label),
                "clicked",
                zbus::zvariant::Value::from(0i32),
                0u32,
            ),
        )
        .await
        .expect("click");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_follows_the_helper_and_notifies_once_per_situation() {
    let w = world(None);
    let desktop = desktop().await;
    let mut notifier = start_notifier(&desktop, &w.bus, 0);
    let service = registered_item(&desktop).await;
    let c = &desktop.connection;

    let item = item_until(c, &service, "passive", |i| i.status == "Passive").await;
    assert!(
        item.menu.iter().any(|m| m.ends_with(":Check for Updates")),
        "{item:?}"
    );
    assert!(
        !item
            .menu
            .iter()
            .any(|m| m.ends_with(":Restart to Finish the Update"))
    );

    // Check now, from the tray menu: the helper finds NEW.
    click(c, &service, &item.menu, "Check for Updates").await;
    let item = item_until(c, &service, "the update", |i| {
        i.status == "Active" && i.tooltip.contains(NEW)
    })
    .await;
    assert_eq!(item.icon, "update-low");
    let got = notifications_until(&desktop, 1).await;
    assert_eq!(got[0].summary, "System update available");
    assert!(got[0].body.contains(NEW), "{got:?}");
    assert_eq!(got[0].actions, ["view", "View Updates"]);

    // "View Updates" runs the GUI's command.
    let fifo = desktop.fifo.clone();
    let reader = tokio::task::spawn_blocking(move || std::fs::read_to_string(fifo));
    TestNotificationServer::action_invoked(
        &zbus::object_server::SignalEmitter::new(c, "/org/freedesktop/Notifications")
            .expect("emitter"),
        got[0].id,
        "view",
    )
    .await
    .expect("invoke");
    let line = tokio::time::timeout(WAIT, reader)
        .await
        .expect("the GUI starts")
        .expect("join")
        .expect("read");
    assert_eq!(line.trim(), "started", "the command the notifier ran");

    // Install: the tray follows to "restart due" and offers the restart.
    let proxy = w.proxy().await;
    proxy.install("").await.expect("install");
    let item = item_until(c, &service, "restart due", |i| i.icon == "system-reboot").await;
    assert_eq!(item.status, "Active");
    assert!(item.tooltip.contains(NEW), "{item:?}");
    assert!(
        item.menu
            .iter()
            .any(|m| m.ends_with(":Restart to Finish the Update")),
        "{item:?}"
    );
    let got = notifications_until(&desktop, 2).await;
    assert_eq!(got[1].summary, "Restart to finish the update");
    assert_eq!(
        got[1].actions,
        ["restart", "Restart Now", "view", "View Updates"]
    );

    // Pause from the menu: the helper stores it (SettingsChanged), the menu offers Resume. The
    // same situation read again is not notified twice.
    click(c, &service, &item.menu, "Pause Automatic Updates for a Day").await;
    item_until(c, &service, "Resume", |i| {
        i.menu
            .iter()
            .any(|m| m.ends_with(":Resume Automatic Updates"))
    })
    .await;
    let paused = proxy.get_settings().await.expect("settings")["Updates.PausedUntil"].clone();
    assert!(!paused.is_empty(), "the pause reached the helper");
    assert_eq!(
        desktop.server.received.lock().expect("lock").len(),
        2,
        "no repeat"
    );

    // While the window is open (it owns its name), a new situation is shown but not notified.
    let window = zbus::connection::Builder::address(desktop.session.address.as_str())
        .expect("address")
        .name("org.kde.updatecenter")
        .expect("name")
        .build()
        .await
        .expect("window");
    proxy.rollback(A, false).await.expect("rollback");
    item_until(c, &service, "the rollback", |i| i.tooltip.contains(A)).await;
    assert_eq!(
        desktop.server.received.lock().expect("lock").len(),
        2,
        "window open: no notification"
    );
    drop(window);

    let _ = notifier.kill();
    let _ = notifier.wait();
    // Remembered across logins: a new notifier does not repeat the restart notice.
    let log =
        std::fs::read_to_string(desktop.state.path().join("update-center/notified")).expect("log");
    assert!(log.contains(&format!("available {NEW}")), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_notified_before_the_session_settles() {
    let w = world(None);
    let desktop = desktop().await;
    let mut notifier = start_notifier(&desktop, &w.bus, 3600);
    let service = registered_item(&desktop).await;
    w.proxy().await.check().await.expect("check");
    let item = item_until(&desktop.connection, &service, "the update", |i| {
        i.tooltip.contains(NEW)
    })
    .await;
    assert_eq!(item.status, "Active", "the tray shows it at once");
    assert!(
        desktop.server.received.lock().expect("lock").is_empty(),
        "but no notification yet"
    );
    let _ = notifier.kill();
    let _ = notifier.wait();
}
