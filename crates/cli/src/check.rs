//! `update-center-cli check [--automatic]`: the sources asked; with `--automatic`, the check
//! timer's path (the settings and pause honoured, then download, stage and restart as the
//! policy allows, each wait said).

use super::*;

/// Runs `check`, or with `automatic` the timer's whole path.
pub(super) async fn run(
    proxy: &UpdateCenterProxy<'static>,
    automatic: bool,
    json: bool,
) -> Result<(), Failure> {
    let mut policy = None;
    if automatic {
        let settings = update_center_client::settings::read(proxy).await?;
        if !settings.automatic_check {
            done(
                json,
                "Automatic checks are off (Updates.AutomaticCheck=no).",
            );
            return Ok(());
        }
        if settings.paused_at(chrono::Utc::now()) {
            done(
                json,
                &format!(
                    "Automatic updates are paused until {}.",
                    settings.paused_until
                ),
            );
            return Ok(());
        }
        policy = Some(settings);
    }
    hand_over_systemd_credentials(proxy).await?;
    // The timer runs often, to catch maintenance windows; the sources are asked only
    // as often as the policy says.
    let due = match &policy {
        None => true,
        Some(settings) => {
            let last = proxy.last_check_time().await?;
            last <= 0
                || chrono::Utc::now().timestamp() - last
                    >= i64::try_from(settings.policy.check_interval_hours * 3600)
                        .unwrap_or(i64::MAX)
        }
    };
    if due {
        let job = proxy.check().await?;
        follow(proxy, job.as_str(), json, false).await?;
    }
    let offer = proxy.available_update().await?;
    if json {
        print_json(&serde_json::json!({
            "available": (!offer.version.is_empty()).then_some(&offer.version),
            "download_bytes": offer.download_bytes, "image_bytes": offer.image_bytes,
            "summary": offer.summary,
        }));
    } else if offer.version.is_empty() {
        println!("The system is up to date.");
    } else {
        println!(
            "Version {} is available ({}).{}",
            offer.version,
            offer_size(&offer),
            if offer.summary.is_empty() {
                String::new()
            } else {
                format!(" {}", offer.summary)
            }
        );
    }
    let Some(settings) = policy else {
        return Ok(());
    };
    if settings.automatic_download
        && !offer.version.is_empty()
        && proxy.state().await? != "ready-to-restart"
    {
        let (job, waiting) = proxy.download_automatically().await?;
        if job.as_str() == "/" {
            say_waiting(json, "download", &waiting);
            return Ok(());
        }
        follow(proxy, job.as_str(), json, true).await?;
    }
    // Asked on every run: with nothing staged the helper only settles a fleet's
    // restart slot from the last restart (gives it back once the version is well).
    let (restarting, waiting) = proxy.restart_automatically().await?;
    if restarting {
        done(
            json,
            "Restarting into the staged version, as the policy allows now.",
        );
    } else if !waiting.is_empty() {
        say_waiting(json, "restart", &waiting);
    }
    Ok(())
}

/// Says what an automatic step waits for.
fn say_waiting(json: bool, step: &str, waiting: &[update_center_client::WaitReason]) {
    if json {
        print_json(&serde_json::json!({
            "waiting": step,
            "reasons": waiting.iter().map(|(kind, fields)| serde_json::json!({
                "kind": kind, "fields": fields,
                "text": update_center_client::waiting::describe(kind, fields),
            })).collect::<Vec<_>>(),
        }));
    } else {
        let text: Vec<String> = waiting
            .iter()
            .map(|(kind, fields)| update_center_client::waiting::describe(kind, fields))
            .collect();
        println!("The automatic {step} waits: {}.", text.join("; "));
    }
}
