//! Stand-ins for NetworkManager, UPower and logind on a private test bus: the real services
//! cannot run here (no network devices to manage, no battery, no seat). Each answers the few
//! properties and methods the helper asks (`Metered`, `Connectivity`; `OnBattery`, the display
//! device's `Percentage`; `ListInhibitors`, `ListSessions`, a session's `Class` and `Remote`,
//! `Inhibit`, `Reboot`) with values a test sets, and records what it was asked to do.

use anyhow::Result;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use zbus::zvariant::OwnedObjectPath;

/// What the stand-ins answer, and what they were asked.
#[derive(Debug, Default)]
pub struct State {
    /// NetworkManager's `Metered` (1 yes, 2 no, 3 guess-yes, 4 guess-no).
    pub metered: u32,
    /// NetworkManager's `Connectivity` (1 none, 2 portal, 3 limited, 4 full).
    pub connectivity: u32,
    /// UPower's `OnBattery`.
    pub on_battery: bool,
    /// The display device's `Percentage`.
    pub percentage: f64,
    /// logind's inhibitors: (what, who, why, mode, uid, pid).
    pub inhibitors: Vec<(String, String, String, String, u32, u32)>,
    /// logind's sessions: (id, uid, user, class, remote).
    pub sessions: Vec<(String, u32, String, String, bool)>,
    /// `Reboot` calls.
    pub reboots: u32,
    /// `Reboot` is refused (as logind refuses a caller polkit does not allow).
    pub refuse_reboot: bool,
    /// `Inhibit` calls: (what, who, why, mode), with the stand-in's end of the descriptor.
    pub inhibit_calls: Vec<(String, String, String, String, UnixStream)>,
}

/// The running stand-ins; gone (their names released) when dropped.
pub struct StandIns {
    /// What they answer and what they were asked.
    pub state: Arc<Mutex<State>>,
    _connection: zbus::Connection,
    runtime: tokio::runtime::Runtime,
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

struct NetworkManager(Arc<Mutex<State>>);

#[zbus::interface(name = "org.freedesktop.NetworkManager")]
impl NetworkManager {
    #[zbus(property)]
    fn metered(&self) -> u32 {
        lock(&self.0).metered
    }

    #[zbus(property)]
    fn connectivity(&self) -> u32 {
        lock(&self.0).connectivity
    }
}

struct UPower(Arc<Mutex<State>>);

#[zbus::interface(name = "org.freedesktop.UPower")]
impl UPower {
    #[zbus(property)]
    fn on_battery(&self) -> bool {
        lock(&self.0).on_battery
    }
}

struct Battery(Arc<Mutex<State>>);

#[zbus::interface(name = "org.freedesktop.UPower.Device")]
impl Battery {
    #[zbus(property)]
    fn percentage(&self) -> f64 {
        lock(&self.0).percentage
    }
}

struct Manager(Arc<Mutex<State>>);

#[zbus::interface(name = "org.freedesktop.login1.Manager")]
impl Manager {
    fn list_inhibitors(&self) -> Vec<(String, String, String, String, u32, u32)> {
        lock(&self.0).inhibitors.clone()
    }

    fn list_sessions(&self) -> Vec<(String, u32, String, String, OwnedObjectPath)> {
        lock(&self.0)
            .sessions
            .iter()
            .map(|(id, uid, user, _, _)| {
                (
                    id.clone(),
                    *uid,
                    user.clone(),
                    "seat0".to_string(),
                    OwnedObjectPath::try_from(format!("/org/freedesktop/login1/session/{id}"))
                        .unwrap_or_default(),
                )
            })
            .collect()
    }

    fn inhibit(
        &self,
        what: &str,
        who: &str,
        why: &str,
        mode: &str,
    ) -> zbus::fdo::Result<zbus::zvariant::OwnedFd> {
        let (ours, theirs) =
            UnixStream::pair().map_err(|e| zbus::fdo::Error::Failed(e.to_string()))?;
        ours.set_nonblocking(true)
            .map_err(|e| zbus::fdo::Error::Failed(e.to_string()))?;
        lock(&self.0).inhibit_calls.push((
            what.to_string(),
            who.to_string(),
            why.to_string(),
            mode.to_string(),
            ours,
        ));
        Ok(zbus::zvariant::OwnedFd::from(std::os::fd::OwnedFd::from(
            theirs,
        )))
    }

    fn reboot(&self, _interactive: bool) -> zbus::fdo::Result<()> {
        let mut state = lock(&self.0);
        if state.refuse_reboot {
            return Err(zbus::fdo::Error::AccessDenied(
                "Interactive authentication required.".into(),
            ));
        }
        state.reboots += 1;
        Ok(())
    }
}

struct LoginSession {
    state: Arc<Mutex<State>>,
    id: String,
}

#[zbus::interface(name = "org.freedesktop.login1.Session")]
impl LoginSession {
    #[zbus(property)]
    fn class(&self) -> String {
        lock(&self.state)
            .sessions
            .iter()
            .find(|s| s.0 == self.id)
            .map(|s| s.3.clone())
            .unwrap_or_default()
    }

    #[zbus(property)]
    fn remote(&self) -> bool {
        lock(&self.state)
            .sessions
            .iter()
            .find(|s| s.0 == self.id)
            .is_some_and(|s| s.4)
    }
}

impl StandIns {
    /// Owns the three names on the bus at `address`: not metered, full connectivity, on mains
    /// power, no inhibitors, no sessions.
    pub fn start(address: &str) -> Result<Self> {
        let state = Arc::new(Mutex::new(State {
            metered: 4,
            connectivity: 4,
            percentage: 100.0,
            ..State::default()
        }));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let connection = runtime.block_on(async {
            let connection = zbus::connection::Builder::address(address)?
                .serve_at(
                    "/org/freedesktop/NetworkManager",
                    NetworkManager(state.clone()),
                )?
                .serve_at("/org/freedesktop/UPower", UPower(state.clone()))?
                .serve_at(
                    "/org/freedesktop/UPower/devices/DisplayDevice",
                    Battery(state.clone()),
                )?
                .serve_at("/org/freedesktop/login1", Manager(state.clone()))?
                .name("org.freedesktop.NetworkManager")?
                .name("org.freedesktop.UPower")?
                .name("org.freedesktop.login1")?
                .build()
                .await?;
            anyhow::Ok(connection)
        })?;
        Ok(Self {
            state,
            _connection: connection,
            runtime,
        })
    }

    /// Changes what they answer.
    pub fn set(&self, change: impl FnOnce(&mut State)) {
        change(&mut lock(&self.state));
    }

    /// Adds a logind session (its object too).
    pub fn add_session(&self, id: &str, user: &str, class: &str, remote: bool) -> Result<()> {
        lock(&self.state).sessions.push((
            id.to_string(),
            1000,
            user.to_string(),
            class.to_string(),
            remote,
        ));
        let object = LoginSession {
            state: self.state.clone(),
            id: id.to_string(),
        };
        let path = format!("/org/freedesktop/login1/session/{id}");
        self.runtime.block_on(async {
            self._connection.object_server().at(path, object).await?;
            anyhow::Ok(())
        })
    }

    /// How often `Reboot` was called.
    pub fn reboots(&self) -> u32 {
        lock(&self.state).reboots
    }

    /// The `Inhibit` calls so far: (what, mode, why, still held).
    pub fn inhibit_calls(&self) -> Vec<(String, String, String, bool)> {
        let mut state = lock(&self.state);
        state
            .inhibit_calls
            .iter_mut()
            .map(|(what, _, why, mode, ours)| {
                let mut byte = [0u8; 1];
                // The holder's end closed: end of file. Still open: nothing to read yet.
                let held = !matches!(ours.read(&mut byte), Ok(0));
                (what.clone(), mode.clone(), why.clone(), held)
            })
            .collect()
    }
}
