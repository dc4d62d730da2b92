//! What the tray shows and which notification is due, from the helper's status alone (no I/O,
//! so that every state is tested here).

use update_center_client::l10n::{FluentArgs, translate};
use update_center_client::status::Status;

/// The situations the tray tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Situation {
    /// Nothing to do: the icon is passive (Plasma hides it).
    UpToDate,
    /// A newer version is on offer.
    Available,
    /// A job downloads or installs.
    Working,
    /// A staged version waits for a restart.
    RestartDue,
    /// A new version failed to boot and the previous one runs.
    FellBack,
}

impl Situation {
    /// From the helper's status.
    pub fn of(status: &Status) -> Self {
        if !status.fallback_details.failed.is_empty() {
            return Self::FellBack;
        }
        use update_center_client::state::ServiceState;
        match ServiceState::parse(&status.state) {
            Some(ServiceState::ReadyToRestart) => Self::RestartDue,
            Some(state) if state.is_installing() => Self::Working,
            _ if !status.offer.version.is_empty() => Self::Available,
            _ => Self::UpToDate,
        }
    }

    /// Its name in the notification log (and in tests).
    pub fn name(self) -> &'static str {
        match self {
            Self::UpToDate => "up-to-date",
            Self::Available => "available",
            Self::Working => "working",
            Self::RestartDue => "restart-due",
            Self::FellBack => "fell-back",
        }
    }
}

/// What the tray item shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appearance {
    /// Passive (hidden), Active or NeedsAttention.
    pub status: ksni::Status,
    /// A Breeze icon name.
    pub icon: String,
    /// The tooltip's text.
    pub description: String,
    /// Whether "Restart to finish the update" is offered.
    pub restart: bool,
    /// Whether "Download the update anyway" is offered: an automatic download waits for
    /// something a person's own download goes past (a metered connection, a low battery).
    pub download_anyway: bool,
}

fn megabytes(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let mb = bytes as f64 / 1_000_000.0;
    if mb >= 10.0 {
        format!("{mb:.0} MB")
    } else {
        format!("{mb:.1} MB")
    }
}

fn tr(id: &str, pairs: &[(&str, String)]) -> String {
    let mut args = FluentArgs::new();
    for (k, v) in pairs {
        args.set(*k, v.clone());
    }
    translate(id, Some(&args))
}

/// The arguments that say an offer's size: what it downloads (`size`) and, when a delta takes
/// the rest from the installed versions (`delta`: yes), the whole image's size (`image`).
fn offer_size(offer: &update_center_client::UpdateOffer) -> [(&'static str, String); 3] {
    let delta = offer.download_bytes < offer.image_bytes;
    [
        ("size", megabytes(offer.download_bytes)),
        ("image", megabytes(offer.image_bytes)),
        ("delta", if delta { "yes" } else { "no" }.to_string()),
    ]
}

/// The fallback's fields in a sentence of the person's language (the count as a number, for
/// Fluent's plural forms).
fn fallback_details(status: &Status) -> String {
    let details = &status.fallback_details;
    let mut args = FluentArgs::new();
    args.set("failed", details.failed.clone());
    args.set("tries", f64::from(details.tries));
    args.set("running", details.running.clone());
    translate("fallback-details", Some(&args))
}

/// The arguments of the messages about an offer: its version and size.
fn available_args(status: &Status) -> Vec<(&'static str, String)> {
    let mut args = vec![("version", status.offer.version.clone())];
    args.extend(offer_size(&status.offer));
    args
}

/// The version a status is about: the job's, the staged one, or the offered one.
fn version(status: &Status) -> String {
    [&status.job_version, &status.offer.version, &status.default]
        .into_iter()
        .find(|v| !v.is_empty())
        .cloned()
        .unwrap_or_default()
}

/// The tray item for `status`.
pub fn appearance(status: &Status) -> Appearance {
    let situation = Situation::of(status);
    let (state, icon, description) = match situation {
        Situation::UpToDate => (
            ksni::Status::Passive,
            "update-none",
            tr("tray-up-to-date", &[]),
        ),
        Situation::Available => (
            ksni::Status::Active,
            "update-low",
            tr("tray-available", &available_args(status)),
        ),
        Situation::Working => {
            let percent = (status.done_bytes * 100)
                .checked_div(status.total_bytes)
                .unwrap_or(0);
            let installing = update_center_client::state::ServiceState::parse(&status.job_phase)
                == Some(update_center_client::state::ServiceState::Installing);
            let id = if installing {
                "tray-installing"
            } else {
                "tray-downloading"
            };
            (
                ksni::Status::Active,
                "update-medium",
                tr(
                    id,
                    &[
                        ("version", version(status)),
                        ("percent", percent.to_string()),
                        ("done", megabytes(status.done_bytes)),
                        ("total", megabytes(status.total_bytes)),
                    ],
                ),
            )
        }
        Situation::RestartDue => (
            ksni::Status::Active,
            "system-reboot",
            tr("tray-restart-due", &[("version", status.default.clone())]),
        ),
        Situation::FellBack => (
            ksni::Status::NeedsAttention,
            "dialog-warning",
            tr("tray-fell-back", &[("details", fallback_details(status))]),
        ),
    };
    // What the machine waits for before it goes on by itself, below: one line each.
    let waits = matches!(situation, Situation::Available | Situation::RestartDue)
        && !status.waiting.is_empty();
    let description = if waits {
        let mut lines = vec![description, translate("waiting-title", None)];
        lines.extend(
            update_center_client::waiting::lines(&status.waiting)
                .into_iter()
                .map(|line| format!("• {line}")),
        );
        lines.join("\n")
    } else {
        description
    };
    Appearance {
        status: state,
        icon: icon.to_string(),
        description,
        restart: situation == Situation::RestartDue,
        download_anyway: situation == Situation::Available
            && update_center_client::waiting::download_overridable(&status.waiting),
    }
}

/// A notification to send: the same key is never sent twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// `situation version`.
    pub key: String,
    /// The headline.
    pub summary: String,
    /// The sentence.
    pub body: String,
    /// (action id, label) pairs: "view" opens Update Center, "restart" the restart prompt.
    pub actions: Vec<(String, String)>,
    /// The icon.
    pub icon: String,
}

/// The notification `status` calls for, if any. `restart_quietly` is `Restart.Behaviour=quiet`.
pub fn notice(status: &Status, restart_quietly: bool) -> Option<Notice> {
    let situation = Situation::of(status);
    let view = ("view".to_string(), tr("notify-action-view", &[]));
    let (summary, body, actions) = match situation {
        Situation::UpToDate | Situation::Working => return None,
        Situation::Available => (
            tr("notify-available-title", &[]),
            tr("notify-available-body", &available_args(status)),
            vec![view],
        ),
        Situation::RestartDue if restart_quietly => return None,
        Situation::RestartDue => (
            tr("notify-restart-title", &[]),
            tr(
                "notify-restart-body",
                &[("version", status.default.clone())],
            ),
            vec![
                ("restart".to_string(), tr("notify-action-restart", &[])),
                view,
            ],
        ),
        Situation::FellBack => (
            tr("notify-fell-back-title", &[]),
            tr("tray-fell-back", &[("details", fallback_details(status))]),
            vec![view],
        ),
    };
    let version = match situation {
        Situation::FellBack => status.fallback_details.failed.clone(),
        Situation::RestartDue => status.default.clone(),
        _ => status.offer.version.clone(),
    };
    Some(Notice {
        key: format!("{} {version}", situation.name()),
        summary,
        body,
        actions,
        icon: appearance(status).icon,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use update_center_client::UpdateOffer;

    fn status(state: &str) -> Status {
        Status {
            state: state.into(),
            running: "1".into(),
            default: "1".into(),
            eta_secs: -1,
            ..Status::default()
        }
    }

    #[test]
    fn every_situation_has_its_icon_tooltip_and_notice() {
        let idle = status("idle");
        assert_eq!(appearance(&idle).status, ksni::Status::Passive);
        assert_eq!(notice(&idle, false), None);

        let mut available = status("idle");
        available.offer = UpdateOffer {
            version: "2".into(),
            download_bytes: 1_500_000_000,
            image_bytes: 1_500_000_000,
            summary: String::new(),
        };
        let a = appearance(&available);
        assert_eq!(a.status, ksni::Status::Active);
        assert!(
            a.description.contains('2') && a.description.contains("1500 MB"),
            "{a:?}"
        );
        assert!(!a.description.contains("image"), "a whole image: {a:?}");
        let n = notice(&available, false).expect("notice");
        assert_eq!(n.key, "available 2");
        assert_eq!(n.actions[0].0, "view");

        let mut downloading = available.clone();
        downloading.state = "downloading".into();
        downloading.job_phase = "downloading".into();
        downloading.job_version = "2".into();
        downloading.done_bytes = 250;
        downloading.total_bytes = 1000;
        let d = appearance(&downloading);
        assert!(d.description.contains("25"), "{d:?}");
        assert_eq!(notice(&downloading, false), None, "no notice while working");

        let mut ready = status("ready-to-restart");
        ready.default = "2".into();
        let r = appearance(&ready);
        assert!(r.restart);
        let n = notice(&ready, false).expect("notice");
        assert_eq!(n.actions[0].0, "restart");
        assert_eq!(notice(&ready, true), None, "Restart.Behaviour=quiet");

        let mut fell_back = status("idle");
        fell_back.fallback_details = update_center_client::FallbackDetails {
            failed: "3".into(),
            tries: 2,
            running: "2".into(),
        };
        let f = appearance(&fell_back);
        assert_eq!(f.status, ksni::Status::NeedsAttention);
        // The sentence is the tray's own (Fluent), from the helper's fields.
        assert!(f.description.contains("failed to boot 2 times"), "{f:?}");
        fell_back.fallback_details.tries = 1;
        assert!(
            appearance(&fell_back)
                .description
                .contains("failed to boot once")
        );
        assert!(
            notice(&fell_back, false)
                .expect("notice")
                .key
                .starts_with("fell-back")
        );
    }

    #[test]
    fn the_tooltip_says_what_the_machine_waits_for_and_a_download_may_go_past_it() {
        let mut available = status("idle");
        available.offer = UpdateOffer {
            version: "2".into(),
            download_bytes: 1_000_000,
            image_bytes: 1_000_000,
            summary: String::new(),
        };
        let plain = appearance(&available);
        assert!(!plain.description.contains("Waiting"), "{plain:?}");
        assert!(!plain.download_anyway);
        available.waiting = vec![(
            "metered".into(),
            [("guess".to_string(), "no".to_string())].into(),
        )];
        let held = appearance(&available);
        assert_eq!(
            held.description,
            format!(
                "{}\nWaiting for:\n• a connection that is not metered",
                plain.description
            )
        );
        assert!(held.download_anyway);
        // No network: a download would not come either.
        available.waiting = vec![("offline".into(), Default::default())];
        let offline = appearance(&available);
        assert!(
            offline.description.ends_with("• a network connection"),
            "{offline:?}"
        );
        assert!(!offline.download_anyway);
        // A staged version outside the windows: said, and nothing to download.
        let mut ready = status("ready-to-restart");
        ready.default = "2".into();
        ready.waiting = vec![("outside-window".into(), Default::default())];
        let r = appearance(&ready);
        assert!(r.restart && !r.download_anyway);
        assert!(
            r.description
                .ends_with("Waiting for:\n• a maintenance window (none is set)"),
            "{r:?}"
        );
    }

    #[test]
    fn a_delta_offer_says_what_it_downloads_and_how_big_the_image_is() {
        let mut available = status("idle");
        available.offer = update_center_client::UpdateOffer {
            version: "2".into(),
            download_bytes: 123_000_000,
            image_bytes: 5_200_000_000,
            summary: String::new(),
        };
        let a = appearance(&available);
        assert!(
            a.description.contains("123 MB to download")
                && a.description.contains("a 5200 MB image"),
            "{a:?}"
        );
        let n = notice(&available, false).expect("notice");
        assert!(
            n.body.contains("123 MB") && n.body.contains("5200 MB"),
            "{n:?}"
        );
        // No delta: the size as before, once.
        available.offer.download_bytes = available.offer.image_bytes;
        let whole = appearance(&available).description;
        assert!(
            whole.contains("(5200 MB)") && !whole.contains("image"),
            "{whole}"
        );
    }
}
