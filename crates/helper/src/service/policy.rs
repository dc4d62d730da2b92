//! The policy on the bus: the facts that live in other services (NetworkManager's metering and
//! connectivity, UPower's battery, logind's inhibitors and sessions), what the machine waits
//! for (`Waiting`), the automatic download and restart that the check timer asks for, and the
//! inhibitors the helper itself holds while it stages a version. A service that is absent
//! counts as unknown: a machine without NetworkManager is not metered, one without UPower is
//! not on battery.

use super::*;
use update_center_engine::fleet::machine as fleet;
use update_center_engine::policy::gates::{
    self, Connectivity, Environment, Inhibitor, Metered, Reason, RestartFacts, Session,
};

/// A reason as it travels on the bus: (kind, fields).
pub(super) type WireReason = (String, std::collections::HashMap<String, String>);

pub(super) fn to_wire(reasons: &[Reason]) -> Vec<WireReason> {
    reasons
        .iter()
        .map(|r| {
            (
                r.kind.clone(),
                r.fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )
        })
        .collect()
}

/// A proxy that asks every time (no property cache: the answers change under us).
async fn proxy<'a>(
    connection: &zbus::Connection,
    destination: &'static str,
    path: &'a str,
    interface: &'static str,
) -> Option<zbus::Proxy<'a>> {
    zbus::proxy::Builder::new(connection)
        .destination(destination)
        .ok()?
        .path(path)
        .ok()?
        .interface(interface)
        .ok()?
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .ok()
}

const NM: &str = "org.freedesktop.NetworkManager";
const NM_PATH: &str = "/org/freedesktop/NetworkManager";
const UPOWER: &str = "org.freedesktop.UPower";
const LOGIN1: &str = "org.freedesktop.login1";
const LOGIN1_PATH: &str = "/org/freedesktop/login1";
const LOGIN1_MANAGER: &str = "org.freedesktop.login1.Manager";

/// Network and power now.
pub(super) async fn environment(connection: &zbus::Connection) -> Environment {
    let mut env = Environment::default();
    if let Some(nm) = proxy(connection, NM, NM_PATH, NM).await {
        if let Ok(metered) = nm.get_property::<u32>("Metered").await {
            env.metered = Metered::from_nm(metered);
        }
        if let Ok(connectivity) = nm.get_property::<u32>("Connectivity").await {
            env.connectivity = Connectivity::from_nm(connectivity);
        }
    }
    if let Some(upower) = proxy(connection, UPOWER, "/org/freedesktop/UPower", UPOWER).await
        && let Ok(on_battery) = upower.get_property::<bool>("OnBattery").await
    {
        env.on_battery = on_battery;
        if let Some(device) = proxy(
            connection,
            UPOWER,
            "/org/freedesktop/UPower/devices/DisplayDevice",
            "org.freedesktop.UPower.Device",
        )
        .await
        {
            env.battery_percent = device.get_property::<f64>("Percentage").await.ok();
        }
    }
    env
}

/// logind's inhibitors.
async fn inhibitors(connection: &zbus::Connection) -> Vec<Inhibitor> {
    let Some(manager) = proxy(connection, LOGIN1, LOGIN1_PATH, LOGIN1_MANAGER).await else {
        return Vec::new();
    };
    let listed: Vec<(String, String, String, String, u32, u32)> = manager
        .call("ListInhibitors", &())
        .await
        .unwrap_or_default();
    listed
        .into_iter()
        .map(|(what, who, why, mode, _uid, pid)| Inhibitor {
            what,
            who,
            why,
            mode,
            pid,
        })
        .collect()
}

/// logind's sessions, with their class and whether they are remote.
async fn sessions(connection: &zbus::Connection) -> Vec<Session> {
    let Some(manager) = proxy(connection, LOGIN1, LOGIN1_PATH, LOGIN1_MANAGER).await else {
        return Vec::new();
    };
    let listed: Vec<(String, u32, String, String, OwnedObjectPath)> =
        manager.call("ListSessions", &()).await.unwrap_or_default();
    let mut out = Vec::new();
    for (id, _uid, user, _seat, path) in listed {
        let Some(session) = proxy(
            connection,
            LOGIN1,
            path.as_str(),
            "org.freedesktop.login1.Session",
        )
        .await
        else {
            continue;
        };
        out.push(Session {
            id,
            user,
            class: session
                .get_property::<String>("Class")
                .await
                .unwrap_or_else(|_| "user".into()),
            remote: session
                .get_property::<bool>("Remote")
                .await
                .unwrap_or(false),
        });
    }
    out
}

/// Takes a logind inhibitor (`what`, `mode`: block or delay) for as long as the returned
/// descriptor is open; none when logind is absent.
pub(super) async fn inhibit(
    connection: &zbus::Connection,
    what: &str,
    why: &str,
    mode: &str,
) -> Option<zbus::zvariant::OwnedFd> {
    let manager = proxy(connection, LOGIN1, LOGIN1_PATH, LOGIN1_MANAGER).await?;
    manager
        .call("Inhibit", &(what, "Update Center", why, mode))
        .await
        .ok()
}

impl UpdateCenter {
    /// The facts of a restart now (the slow ones on a worker thread).
    async fn restart_facts(&self, connection: &zbus::Connection) -> RestartFacts {
        let root = self.shared.options.layout.root.clone();
        let layout = self.shared.options.layout.clone();
        let next = lock(&self.shared.snapshot).next.clone();
        let policy = update_center_engine::settings::load(&root)
            .map(|s| s.policy)
            .unwrap_or_default();
        let (logind_windows, gpu, busy, staged_at) = tokio::task::spawn_blocking(move || {
            let (windows, warning) = ops::policy::logind_windows(&root);
            let (gpu, errors) = if policy.wait_for_gpu_jobs {
                ops::policy::gpu_work(&root)
            } else {
                (Vec::new(), Vec::new())
            };
            for line in warning.into_iter().chain(errors) {
                crate::journal::log(crate::journal::Priority::Warning, &line, &[]);
            }
            let busy = policy.busy_command.as_deref().map(ops::policy::busy);
            (windows, gpu, busy, ops::policy::staged_at(&layout, &next))
        })
        .await
        .unwrap_or_default();
        RestartFacts {
            now: update_center_engine::failpoint::now(),
            logind_windows,
            inhibitors: inhibitors(connection).await,
            sessions: sessions(connection).await,
            gpu,
            busy,
            staged_at,
        }
    }

    /// What the machine waits for now: with a staged version, its restart; with an update on
    /// offer and automatic downloads on, the download; otherwise nothing.
    pub(super) async fn waiting_reasons(&self, connection: &zbus::Connection) -> Vec<Reason> {
        let settings = update_center_engine::settings::load(&self.shared.options.layout.root)
            .unwrap_or_default();
        if self.shared.state() == "ready-to-restart" {
            let facts = self.restart_facts(connection).await;
            let reasons = gates::restart_reasons(&settings.policy, &facts);
            if reasons.is_empty() && settings.fleet.enabled() {
                // What the fleet said at the last try for the version staged now.
                let next = lock(&self.shared.snapshot).next.clone();
                let (version, said) = lock(&self.shared.fleet_waiting).clone();
                return if version == next { said } else { Vec::new() };
            }
            return reasons;
        }
        if settings.automatic_download && !lock(&self.shared.available).version.is_empty() {
            let env = environment(connection).await;
            return gates::download_reasons(&settings.policy, &env, false);
        }
        Vec::new()
    }

    /// The automatic download: what it waits for, or its job. While it runs, a switch to a
    /// metered connection (or below the battery threshold) cancels it; the bytes so far stay in
    /// the cache for the next run.
    pub(super) async fn do_download_automatically(
        &self,
        header: zbus::message::Header<'_>,
        connection: &zbus::Connection,
    ) -> Result<(OwnedObjectPath, Vec<WireReason>), Error> {
        self.authorize(connection, &header, action::INSTALL).await?;
        let settings = update_center_engine::settings::load(&self.shared.options.layout.root)
            .unwrap_or_default();
        let env = environment(connection).await;
        let reasons = gates::download_reasons(&settings.policy, &env, false);
        if !reasons.is_empty() {
            log_waiting("download", &reasons);
            return Ok((root_path(), to_wire(&reasons)));
        }
        let path = self
            .do_install_or_download(header, connection, "", settings.policy.automatic_install)
            .await?;
        let cancel = lock(&self.shared.job)
            .as_ref()
            .filter(|j| j.path == path)
            .map(|j| j.cancel.clone());
        if let Some(cancel) = cancel {
            let (conn, shared, policy) = (connection.clone(), self.shared.clone(), settings.policy);
            let job_path = path.clone();
            tokio::spawn(async move {
                watch_download(&conn, &shared, &policy, &job_path, &cancel).await;
            });
        }
        Ok((path, Vec::new()))
    }

    /// The automatic restart into the staged version: what it waits for, or the restart.
    pub(super) async fn do_restart_automatically(
        &self,
        header: zbus::message::Header<'_>,
        connection: &zbus::Connection,
    ) -> Result<(bool, Vec<WireReason>), Error> {
        self.authorize(connection, &header, action::INSTALL).await?;
        let settings = update_center_engine::settings::load(&self.shared.options.layout.root)
            .unwrap_or_default();
        settle_fleet_slot(&self.shared).await;
        if self.shared.state() != "ready-to-restart" {
            return Ok((false, Vec::new()));
        }
        let facts = self.restart_facts(connection).await;
        let reasons = gates::restart_reasons(&settings.policy, &facts);
        if !reasons.is_empty() {
            log_waiting("restart", &reasons);
            return Ok((false, to_wire(&reasons)));
        }
        let next = lock(&self.shared.snapshot).next.clone();
        if settings.fleet.enabled() {
            let (layout, fleet, version) = (
                self.shared.options.layout.clone(),
                settings.fleet.clone(),
                next.clone(),
            );
            let gate = tokio::task::spawn_blocking(move || {
                fleet::before_restart(&layout, &fleet, &version, relay())
            })
            .await
            .map_err(|e| Error::Failed(format!("the fleet's check stopped: {e}")))?;
            match gate {
                fleet::Gate::Wait(reasons, detail) => {
                    log_waiting("restart", &reasons);
                    crate::journal::log(
                        crate::journal::Priority::Info,
                        &format!("the fleet holds the restart: {detail}"),
                        &[],
                    );
                    *lock(&self.shared.fleet_waiting) = (next.clone(), reasons.clone());
                    return Ok((false, to_wire(&reasons)));
                }
                fleet::Gate::Go(held) => {
                    *lock(&self.shared.fleet_waiting) = Default::default();
                    crate::journal::log(
                        crate::journal::Priority::Info,
                        &format!(
                            "took a restart slot of group {} for version {}",
                            held.group, held.version
                        ),
                        &[("UPDATE_CENTER_VERSION", &held.version)],
                    );
                }
            }
        }
        crate::journal::log(
            crate::journal::Priority::Info,
            &format!("restarting into version {next}, as the policy allows now"),
            &[("UPDATE_CENTER_VERSION", &next)],
        );
        let rebooted = match proxy(connection, LOGIN1, LOGIN1_PATH, LOGIN1_MANAGER).await {
            None => Err(Error::Failed("cannot reach logind to restart".into())),
            Some(manager) => manager
                .call::<_, _, ()>("Reboot", &(false,))
                .await
                .map_err(|e| Error::Failed(format!("logind refused the restart: {e}"))),
        };
        if let Err(error) = rebooted {
            // No restart: the slot goes back to the group at once, not after its lease.
            if settings.fleet.enabled() {
                let layout = self.shared.options.layout.clone();
                let given =
                    tokio::task::spawn_blocking(move || fleet::give_up(&layout, relay())).await;
                if let Ok(Err(e)) = given {
                    crate::journal::log(
                        crate::journal::Priority::Warning,
                        &format!(
                            "cannot give the restart slot back (it frees itself when its lease runs out): {e}"
                        ),
                        &[],
                    );
                }
            }
            return Err(error);
        }
        Ok((true, Vec::new()))
    }
}

/// Gives back the fleet slot held for a restart once the new version is well (or reports that
/// it failed), or keeps its lease alive meanwhile; said in the journal. A server that cannot be
/// reached is tried again at the next run of the timer (and when the helper starts).
pub(super) async fn settle_fleet_slot(shared: &Shared) {
    let layout = shared.options.layout.clone();
    let running = lock(&shared.snapshot).running.clone();
    let settled = tokio::task::spawn_blocking(move || {
        fleet::settle(
            &layout,
            Some(running.as_str()).filter(|r| !r.is_empty()),
            relay(),
        )
    })
    .await;
    let (warning, text) = match settled {
        Ok(Ok(settled)) => match settled.said() {
            Some(said) => said,
            None => return,
        },
        Ok(Err(e)) => (
            true,
            format!("cannot settle the restart slot yet (tried again at the next check): {e}"),
        ),
        Err(e) => (true, e.to_string()),
    };
    let priority = if warning {
        crate::journal::Priority::Warning
    } else {
        crate::journal::Priority::Info
    };
    crate::journal::log(priority, &text, &[]);
}

/// The download relay's socket, when the helper runs under its unit.
fn relay() -> Option<std::path::PathBuf> {
    std::env::var_os(update_center_engine::source::relay::SOCKET_ENV).map(std::path::PathBuf::from)
}

/// `/`: no job.
fn root_path() -> OwnedObjectPath {
    OwnedObjectPath::try_from("/").unwrap_or_default()
}

/// Says in the journal what an automatic step waits for; loudly when a restart is overdue.
fn log_waiting(step: &str, reasons: &[Reason]) {
    let overdue = reasons.iter().any(|r| r.kind == "overdue");
    let text = reasons
        .iter()
        .map(Reason::describe)
        .collect::<Vec<_>>()
        .join("; ");
    crate::journal::log(
        if overdue {
            crate::journal::Priority::Warning
        } else {
            crate::journal::Priority::Info
        },
        &format!("the automatic {step} waits: {text}"),
        &[(
            "UPDATE_CENTER_WAITING",
            &reasons
                .iter()
                .map(|r| r.kind.as_str())
                .collect::<Vec<_>>()
                .join(","),
        )],
    );
}

/// Cancels the automatic download at `job` when the download gates close (a switch to a
/// metered connection, the battery running low), keeping the bytes so far. NetworkManager and
/// UPower are asked twice a second while the job runs.
async fn watch_download(
    connection: &zbus::Connection,
    shared: &Arc<Shared>,
    policy: &gates::Policy,
    job: &OwnedObjectPath,
    cancel: &Arc<AtomicBool>,
) {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let still_running = lock(&shared.job).as_ref().is_some_and(|j| &j.path == job);
        if !still_running {
            return;
        }
        let env = environment(connection).await;
        let reasons = gates::download_reasons(policy, &env, false);
        if !reasons.is_empty() {
            log_waiting("download", &reasons);
            cancel.store(true, Ordering::SeqCst);
            return;
        }
    }
}
