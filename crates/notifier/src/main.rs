//! `update-center-notifier`: the tray icon of Update Center and its notifications.
//!
//! It follows the helper's signals on the system bus and never polls: it reads the status once
//! at start and after each signal, and not when the helper has just exited, so that it never
//! keeps the helper running. The tray item (a StatusNotifierItem) is passive when there is
//! nothing to do; notifications are sent at most once per situation and version (remembered in
//! `$XDG_STATE_HOME/update-center/notified`), not before the session has settled, and not while
//! the Update Center window is open.

mod appearance;

use appearance::{Appearance, appearance, notice};
use futures_util::StreamExt;
use ksni::TrayMethods;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;
use update_center_client::l10n::translate;
use update_center_client::status::Status;

/// What a person chose in the tray menu or a notification.
#[derive(Debug, Clone, Copy)]
enum Choice {
    Open,
    Check,
    /// A person's own download past what an automatic one waits for (a metered connection).
    Download,
    Restart,
    Pause,
    Resume,
}

struct UpdateTray {
    look: Appearance,
    paused: bool,
    choices: tokio::sync::mpsc::UnboundedSender<Choice>,
}

impl UpdateTray {
    fn item(&self, label: &str, icon: &str, choice: Choice) -> ksni::MenuItem<Self> {
        ksni::menu::StandardItem {
            label: translate(label, None),
            icon_name: icon.into(),
            activate: Box::new(move |tray: &mut Self| {
                let _ = tray.choices.send(choice);
            }),
            ..Default::default()
        }
        .into()
    }
}

impl ksni::Tray for UpdateTray {
    fn id(&self) -> String {
        "org.kde.updatecenter".into()
    }
    fn title(&self) -> String {
        translate("tray-title", None)
    }
    fn category(&self) -> ksni::Category {
        ksni::Category::SystemServices
    }
    fn status(&self) -> ksni::Status {
        self.look.status
    }
    fn icon_name(&self) -> String {
        self.look.icon.clone()
    }
    fn tool_tip(&self) -> ksni::ToolTip {
        ksni::ToolTip {
            icon_name: self.look.icon.clone(),
            icon_pixmap: Vec::new(),
            title: translate("tray-title", None),
            description: self.look.description.clone(),
        }
    }
    fn activate(&mut self, _x: i32, _y: i32) {
        let _ = self.choices.send(Choice::Open);
    }
    fn menu(&self) -> Vec<ksni::MenuItem<Self>> {
        let mut items = vec![
            self.item("tray-open", "org.kde.updatecenter", Choice::Open),
            self.item("tray-check", "view-refresh", Choice::Check),
        ];
        if self.look.download_anyway {
            items.push(self.item("tray-download-anyway", "download", Choice::Download));
        }
        if self.look.restart {
            items.push(self.item("tray-restart", "system-reboot", Choice::Restart));
        }
        items.push(if self.paused {
            self.item("tray-resume", "media-playback-start", Choice::Resume)
        } else {
            self.item("tray-pause", "media-playback-pause", Choice::Pause)
        });
        items
    }
}

/// Notification keys already sent, kept across logins.
struct Sent {
    path: Option<PathBuf>,
    /// Oldest first.
    keys: Vec<String>,
}

impl Sent {
    fn load() -> Self {
        let path = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
            .map(|d| d.join("update-center").join("notified"));
        let keys = path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|t| t.lines().map(str::to_string).collect())
            .unwrap_or_default();
        Self { path, keys }
    }

    /// Records `key`; false when it was sent before.
    fn first_time(&mut self, key: &str) -> bool {
        if self.keys.iter().any(|k| k == key) {
            return false;
        }
        self.keys.push(key.to_string());
        // The newest 200 are enough to never repeat one.
        if self.keys.len() > 200 {
            self.keys.drain(..self.keys.len() - 200);
        }
        if let Some(path) = &self.path {
            let text: String = self.keys.iter().map(|k| format!("{k}\n")).collect();
            let written = path
                .parent()
                .map(std::fs::create_dir_all)
                .transpose()
                .and_then(|_| std::fs::write(path, text));
            if let Err(e) = written {
                eprintln!("update-center-notifier: cannot remember notifications: {e}");
            }
        }
        true
    }
}

#[zbus::proxy(
    interface = "org.freedesktop.Notifications",
    default_service = "org.freedesktop.Notifications",
    default_path = "/org/freedesktop/Notifications",
    gen_blocking = false
)]
trait Notifications {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: &str,
        replaces_id: u32,
        app_icon: &str,
        summary: &str,
        body: &str,
        actions: &[&str],
        hints: std::collections::HashMap<&str, zbus::zvariant::Value<'_>>,
        expire_timeout: i32,
    ) -> zbus::Result<u32>;

    #[zbus(signal)]
    fn action_invoked(&self, id: u32, action_key: String) -> zbus::Result<()>;
}

struct Options {
    settle: Duration,
}

fn options() -> Result<Options, String> {
    let mut settle = Duration::from_secs(60);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--settle-secs" => {
                let value = args.next().unwrap_or_default();
                settle = Duration::from_secs(
                    value
                        .parse()
                        .map_err(|_| format!("--settle-secs expects seconds, not `{value}`"))?,
                );
            }
            "--help" | "-h" => {
                println!(
                    "update-center-notifier [--settle-secs N]\n\nThe Update Center tray icon. \
                     Notifications wait N seconds after start (default 60), so that none \
                     arrives while the session is still starting."
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (see --help)")),
        }
    }
    Ok(Options { settle })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("update-center-notifier: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(options).await {
        eprintln!("update-center-notifier: {e}");
        std::process::exit(1);
    }
}

async fn run(options: Options) -> Result<(), String> {
    let system = zbus::Connection::system()
        .await
        .map_err(|e| format!("no system bus: {e}"))?;
    let session = zbus::Connection::session()
        .await
        .map_err(|e| format!("no session bus: {e}"))?;
    let center = update_center_client::UpdateCenterProxy::builder(&system)
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .map_err(|e| e.to_string())?;
    // Subscribed before the first read, so that no change falls between them.
    let mut signals = update_center_client::status::signals(&system)
        .await
        .map_err(|e| e.to_string())?;
    let notifications = NotificationsProxy::new(&session)
        .await
        .map_err(|e| e.to_string())?;
    let mut invoked = notifications
        .receive_action_invoked()
        .await
        .map_err(|e| e.to_string())?;

    let (choices, mut chosen) = tokio::sync::mpsc::unbounded_channel();
    let tray = UpdateTray {
        look: appearance(&Status::default()),
        paused: false,
        choices: choices.clone(),
    }
    .assume_sni_available(true)
    .spawn()
    .await
    .map_err(|e| format!("cannot show the tray icon: {e}"))?;

    let mut sent = Sent::load();
    let mut ours: BTreeSet<u32> = BTreeSet::new();
    let mut last: Option<(Status, bool)> = None;
    let settled = tokio::time::sleep(options.settle);
    tokio::pin!(settled);
    let mut has_settled = options.settle.is_zero();
    let mut read_now = true;
    let mut consider = false;
    loop {
        if read_now {
            read_now = false;
            if let Ok(status) = update_center_client::status::read(&center).await {
                let settings = update_center_client::settings::read(&center)
                    .await
                    .unwrap_or_default();
                let paused = settings.paused_at(chrono::Utc::now());
                let quiet = settings.restart_behaviour
                    == update_center_client::settings::RestartBehaviour::Quiet;
                let look = appearance(&status);
                tray.update(move |t| {
                    t.look = look;
                    t.paused = paused;
                })
                .await;
                last = Some((status, quiet));
                consider = true;
            }
        }
        if consider {
            consider = false;
            if has_settled
                && let Some((status, quiet)) = &last
                && let Some(n) = notice(status, *quiet)
                && !window_open(&session).await
                && sent.first_time(&n.key)
            {
                let actions: Vec<&str> = n
                    .actions
                    .iter()
                    .flat_map(|(id, label)| [id.as_str(), label.as_str()])
                    .collect();
                let mut hints = std::collections::HashMap::new();
                hints.insert(
                    "desktop-entry",
                    zbus::zvariant::Value::from("org.kde.updatecenter"),
                );
                match notifications
                    .notify(
                        translate("tray-title", None).as_str(),
                        0,
                        &n.icon,
                        &n.summary,
                        &n.body,
                        &actions,
                        hints,
                        -1,
                    )
                    .await
                {
                    Ok(id) => {
                        ours.insert(id);
                    }
                    Err(e) => eprintln!("update-center-notifier: cannot notify: {e}"),
                }
            }
        }
        tokio::select! {
            present = signals.next() => match present {
                Some(true) => read_now = true,
                Some(false) => {}
                None => return Err("the system bus closed".into()),
            },
            () = &mut settled, if !has_settled => {
                // What was seen while the session settled may be told now, without a new read.
                has_settled = true;
                consider = true;
            }
            signal = invoked.next() => {
                let Some(signal) = signal else { continue };
                let Ok(args) = signal.args() else { continue };
                if !ours.contains(&args.id) {
                    continue;
                }
                match args.action_key.as_str() {
                    "view" | "default" => choose(Choice::Open, &center).await,
                    "restart" => choose(Choice::Restart, &center).await,
                    _ => {}
                }
            }
            choice = chosen.recv() => {
                if let Some(choice) = choice {
                    choose(choice, &center).await;
                }
            }
        }
    }
}

/// Whether the Update Center window is open (it owns its name on the session bus).
async fn window_open(session: &zbus::Connection) -> bool {
    let Ok(dbus) = zbus::fdo::DBusProxy::new(session).await else {
        return false;
    };
    let Ok(name) = zbus::names::BusName::try_from(update_center_client::launch::WINDOW_BUS_NAME)
    else {
        return false;
    };
    dbus.name_has_owner(name).await.unwrap_or(false)
}

async fn choose(choice: Choice, center: &update_center_client::UpdateCenterProxy<'_>) {
    let result = match choice {
        Choice::Open => update_center_client::launch::open_application(&[])
            .map_err(|e| format!("cannot start update-center: {e}")),
        Choice::Check => {
            update_center_client::credentials::hand_over(center).await;
            center
                .check()
                .await
                .map(drop)
                .map_err(|e| update_center_client::describe_call_error(&e))
        }
        // The update on offer, as the window's Install: a person's own is never held.
        Choice::Download => {
            update_center_client::credentials::hand_over(center).await;
            center
                .install("")
                .await
                .map(drop)
                .map_err(|e| update_center_client::describe_call_error(&e))
        }
        Choice::Restart => update_center_client::launch::restart_prompt().await,
        Choice::Pause => {
            let until = (chrono::Utc::now() + chrono::Duration::days(1))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            center
                .set_setting("Updates.PausedUntil", &until)
                .await
                .map_err(|e| update_center_client::describe_call_error(&e))
        }
        Choice::Resume => center
            .set_setting("Updates.PausedUntil", "")
            .await
            .map_err(|e| update_center_client::describe_call_error(&e)),
    };
    if let Err(e) = result {
        eprintln!("update-center-notifier: {e}");
    }
}
