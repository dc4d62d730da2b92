//! `update-center-cli`: the Update Center for headless servers and scripts. It talks to the
//! privileged helper over the system bus, exactly like the GUI; polkit decides what the caller
//! may do, and prompts on the terminal when a password is needed.

mod args;
mod check;
mod render;
mod systemd_credentials;

use args::{Cli, Command};
use render::*;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::time::Duration;
use update_center_client::{Error, JobProxy, UpdateCenterProxy, describe_call_error};

/// An error with the exit status it maps to.
struct Failure {
    code: i32,
    message: String,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let code = match &error {
            Error::NotAuthorized(_) => 3,
            Error::Busy(_) => 4,
            Error::ZBus(_) => 5,
            Error::Refused(_) | Error::InvalidArgument(_) => 6,
            Error::NoRoom(_) => 7,
            Error::Cancelled(_) => 130,
            _ => 1,
        };
        Self {
            code,
            message: describe_call_error(&error),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self {
            code: 1,
            message: format!("{error:#}"),
        }
    }
}

impl From<zbus::Error> for Failure {
    fn from(error: zbus::Error) -> Self {
        Error::ZBus(error).into()
    }
}

/// Becomes the helper's `fleet` command with `args` (the helper beside this program in a
/// build, else where packages install it); returns only when that cannot start.
fn fleet(args: &[String]) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("update-center-helper")))
        .filter(|path| path.is_file());
    let helper =
        beside.unwrap_or_else(|| std::path::PathBuf::from("/usr/libexec/update-center-helper"));
    let error = std::process::Command::new(&helper)
        .arg("fleet")
        .args(args)
        .exec();
    std::io::Error::new(
        error.kind(),
        format!("cannot run {}: {error}", helper.display()),
    )
}

fn main() {
    let cli = Cli::parse();
    // Generated from the argument definitions themselves, so they never drift from --help.
    match cli.command {
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut command = Cli::command();
            clap_complete::generate(
                shell,
                &mut command,
                "update-center-cli",
                &mut std::io::stdout(),
            );
            return;
        }
        Command::Fleet { args } => {
            let error = fleet(&args);
            eprintln!("update-center-cli: {error}");
            std::process::exit(1);
        }
        Command::Manpage => {
            use clap::CommandFactory;
            if let Err(e) = clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                eprintln!("update-center-cli: {e}");
                std::process::exit(1);
            }
            return;
        }
        _ => {}
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("update-center-cli: {e}");
            std::process::exit(1);
        }
    };
    let agent = TextAgent::start();
    let result = runtime.block_on(run(cli));
    drop(agent);
    if let Err(failure) = result {
        if !failure.message.is_empty() {
            eprintln!("update-center-cli: {}", failure.message);
        }
        std::process::exit(failure.code);
    }
}

/// polkit's text agent (`pkttyagent`) for this process, while it runs on a terminal, so that
/// an administrator's password can be asked for. Stopped when dropped.
struct TextAgent(Option<std::process::Child>);

impl TextAgent {
    fn start() -> Self {
        if !std::io::stdin().is_terminal() {
            return Self(None);
        }
        // pkttyagent closes the notify descriptor once it is registered: wait for that, so
        // that the first call already has an agent.
        let Ok((mut reader, writer)) = std::io::pipe() else {
            return Self(None);
        };
        use std::os::fd::AsRawFd;
        let fd = writer.as_raw_fd();
        let _ = rustix::io::fcntl_setfd(&writer, rustix::io::FdFlags::empty());
        let child = std::process::Command::new("pkttyagent")
            .args([
                "--process",
                &std::process::id().to_string(),
                "--notify-fd",
                &fd.to_string(),
                "--fallback",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .ok();
        drop(writer);
        if child.is_some() {
            let _ = std::io::Read::read_to_end(&mut reader, &mut Vec::new());
        }
        Self(child)
    }
}

impl Drop for TextAgent {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn connect() -> Result<UpdateCenterProxy<'static>, Failure> {
    let connection = zbus::Connection::system().await.map_err(|e| Failure {
        code: 5,
        message: update_center_client::describe_connect_error(&Error::ZBus(e)),
    })?;
    Ok(UpdateCenterProxy::new(&connection).await?)
}

fn parse_time(text: Option<String>) -> Result<i64, Failure> {
    match text {
        None => Ok(0),
        Some(t) => chrono::DateTime::parse_from_rfc3339(&t)
            .map(|t| t.timestamp())
            .map_err(|e| Failure {
                code: 2,
                message: format!("{t}: not an RFC 3339 time ({e}); e.g. 2026-11-01T00:00:00Z"),
            }),
    }
}

/// Hands the mirror credentials systemd gave this process (a server's check service) to the
/// helper, for the mirror in `Updates.Source`; nothing when there are none.
async fn hand_over_systemd_credentials(proxy: &UpdateCenterProxy<'_>) -> Result<(), Failure> {
    let given = systemd_credentials::read()
        .map_err(|message| Failure::from(Error::InvalidArgument(message)))?;
    let Some((user, password)) = given else {
        return Ok(());
    };
    let source = update_center_client::settings::read(proxy).await?.source;
    proxy
        .use_source_credentials(&source, &user, &password)
        .await?;
    Ok(())
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let proxy = connect().await?;
    let json = cli.json;
    match cli.command {
        // Answered in main, without a bus.
        Command::Completions { .. } | Command::Manpage | Command::Fleet { .. } => Ok(()),
        Command::Status => status(&proxy, json).await,
        Command::Check { automatic } => check::run(&proxy, automatic, json).await,
        Command::Update { version } => {
            hand_over_systemd_credentials(&proxy).await?;
            let job = proxy.install(version.as_deref().unwrap_or("")).await?;
            follow(&proxy, job.as_str(), json, true).await
        }
        Command::Rollback { version, once } => {
            proxy.rollback(&version, once).await?;
            done(
                json,
                &if once {
                    format!("Version {version} boots next time, once.")
                } else {
                    format!("Version {version} is now the version that boots.")
                },
            );
            Ok(())
        }
        Command::Pin { version } => {
            proxy.pin(&version).await?;
            done(json, &format!("Version {version} is pinned."));
            Ok(())
        }
        Command::Unpin { version } => {
            proxy.unpin(&version).await?;
            done(json, &format!("Version {version} is no longer pinned."));
            Ok(())
        }
        Command::Remove { version } => {
            proxy.remove_version(&version).await?;
            done(json, &format!("Version {version} is removed."));
            Ok(())
        }
        Command::Vacuum => {
            let removed = proxy.vacuum().await?;
            if json {
                print_json(&serde_json::json!({ "removed": removed }));
            } else if removed.is_empty() {
                println!("Nothing to remove.");
            } else {
                println!("Removed {}.", removed.join(", "));
            }
            Ok(())
        }
        Command::History {
            since,
            until,
            limit,
        } => {
            let text = proxy
                .history(parse_time(since)?, parse_time(until)?, limit)
                .await?;
            if json {
                println!("{text}");
                return Ok(());
            }
            let records =
                update_center_client::history::parse(&text).map_err(anyhow::Error::from)?;
            if records.is_empty() {
                println!("No history.");
            }
            for record in &records {
                print_record(record);
            }
            Ok(())
        }
        Command::Changelog { from, to } => {
            let text = proxy
                .changelog(from.as_deref().unwrap_or(""), to.as_deref().unwrap_or(""))
                .await?;
            if json {
                println!("{text}");
                return Ok(());
            }
            let log = update_center_client::changelog::parse(&text).map_err(anyhow::Error::from)?;
            print_changelog(&log);
            Ok(())
        }
        Command::Settings { key, value } => {
            if let (Some(key), Some(value)) = (&key, &value) {
                proxy.set_setting(key, value).await?;
            }
            let settings = proxy.get_settings().await?;
            let mut keys: Vec<&String> = settings.keys().collect();
            keys.sort();
            if json {
                print_json(&serde_json::json!(settings));
                return Ok(());
            }
            for k in keys {
                if key.as_ref().is_none_or(|wanted| wanted == k) {
                    let v = &settings[k];
                    println!("{k}={}", if v.is_empty() { "(default)" } else { v });
                }
            }
            Ok(())
        }
        Command::AcknowledgeFallback => {
            proxy.acknowledge_fallback().await?;
            done(json, "Acknowledged.");
            Ok(())
        }
    }
}

async fn status(proxy: &UpdateCenterProxy<'static>, json: bool) -> Result<(), Failure> {
    let versions = proxy.list_versions().await?;
    let offer = proxy.available_update().await?;
    let (state, running, default) = (
        proxy.state().await?,
        proxy.running_version().await?,
        proxy.default_version().await?,
    );
    let (last_check, last_error, fallback) = (
        proxy.last_check_time().await?,
        proxy.last_error().await?,
        proxy.fallback().await?,
    );
    let job = proxy.current_job().await?;
    let warnings = proxy.warnings().await?;
    // An older helper has no Waiting: nothing is waited for, as far as it says.
    let waiting = proxy.waiting().await.unwrap_or_default();
    let checked = (last_check > 0)
        .then(|| chrono::DateTime::from_timestamp(last_check, 0))
        .flatten()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    if json {
        print_json(&serde_json::json!({
            "state": state, "running": running, "default": default,
            "available": (!offer.version.is_empty()).then_some(&offer),
            "last_check": checked, "last_error": last_error, "fallback": fallback,
            "job": (job.as_str() != "/").then_some(job.as_str()),
            "versions": versions, "warnings": warnings,
            "waiting": waiting.iter().map(|(kind, fields)| serde_json::json!({
                "kind": kind, "fields": fields,
                "text": update_center_client::waiting::describe(kind, fields),
            })).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    println!("State:        {state}");
    println!("Running:      {}", or_unknown(&running));
    println!("Boots next:   {}", or_unknown(&default));
    match (&offer.version, &checked) {
        (v, _) if !v.is_empty() => println!(
            "Update:       {v} ({}){}",
            offer_size(&offer),
            if offer.summary.is_empty() {
                String::new()
            } else {
                format!(": {}", offer.summary)
            }
        ),
        (_, Some(t)) => println!("Update:       none (checked {t})"),
        (_, None) => println!("Update:       not checked yet (run `update-center-cli check`)"),
    }
    if job.as_str() != "/" {
        println!("Job:          {}", job.as_str());
    }
    if !fallback.is_empty() {
        println!(
            "Attention:    {fallback} (dismiss with `update-center-cli acknowledge-fallback`)"
        );
    }
    if !last_error.is_empty() {
        println!("Last error:   {last_error}");
    }
    for (n, (kind, fields)) in waiting.iter().enumerate() {
        println!(
            "{}{}",
            if n == 0 {
                "Waiting:      "
            } else {
                "              "
            },
            update_center_client::waiting::describe(kind, fields)
        );
    }
    println!("Versions:");
    for v in &versions {
        let states: Vec<&str> = v.states.iter().map(|(_, words)| words.as_str()).collect();
        let states = if states.is_empty() {
            "installed".to_string()
        } else {
            states.join(", ")
        };
        println!("  {}  {states}", v.version);
    }
    for w in &warnings {
        println!("Warning: {}:{}: {}", w.file, w.line, w.message);
    }
    Ok(())
}

/// Follows a job to its end: a progress bar on a terminal (or JSON lines), Ctrl+C cancels it.
async fn follow(
    proxy: &UpdateCenterProxy<'static>,
    path: &str,
    json: bool,
    print_result: bool,
) -> Result<(), Failure> {
    use futures_util::StreamExt;
    // The cached proxy feeds the change streams; the uncached one reads phase and result
    // straight from the helper, so that they are read together.
    let job = JobProxy::builder(proxy.inner().connection())
        .path(path.to_string())?
        .build()
        .await?;
    let fresh = JobProxy::builder(proxy.inner().connection())
        .path(path.to_string())?
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await?;
    let mut finished = job.receive_finished().await?;
    let mut progress = job.receive_done_bytes_changed().await;
    let mut phases = job.receive_phase_changed().await;
    let terminal = std::io::stderr().is_terminal();
    let mut cancelled = false;
    let mut last_line = String::new();
    // The phase it is in already (the job may have moved on before the subscription).
    let mut shown_phase = String::new();
    let mut show_phase = |phase: &str, version: &str, last_line: &mut String| {
        if phase == shown_phase || phase == "finished" {
            return;
        }
        shown_phase = phase.to_string();
        if json {
            print_json(&serde_json::json!({ "event": "phase", "phase": phase }));
        } else {
            if !last_line.is_empty() {
                eprintln!();
                last_line.clear();
            }
            eprintln!("{}", describe_phase(phase, version));
        }
    };
    let (phase, version) = (fresh.phase().await?, fresh.version().await?);
    show_phase(&phase, &version, &mut last_line);
    let outcome = loop {
        if fresh.phase().await? == "finished" {
            break fresh.result().await?;
        }
        tokio::select! {
            signal = finished.next() => {
                let Some(signal) = signal else { break fresh.result().await? };
                let args = signal.args()?;
                break (args.success, args.error.clone(), args.message.clone());
            }
            Some(_) = progress.next() => {
                let (done, total, rate, eta) = (
                    job.done_bytes().await?,
                    job.total_bytes().await?,
                    job.rate_bytes_per_sec().await?,
                    job.eta_secs().await?,
                );
                if json {
                    print_json(&serde_json::json!({
                        "event": "progress", "done_bytes": done, "total_bytes": total,
                        "rate_bytes_per_sec": rate, "eta_secs": (eta >= 0).then_some(eta),
                    }));
                } else if terminal {
                    let line = bar(done, total, rate, eta);
                    if line != last_line {
                        eprint!("\r{line}");
                        last_line = line;
                    }
                }
            }
            Some(change) = phases.next() => {
                let phase = change.get().await?;
                let version = job.version().await.unwrap_or_default();
                show_phase(&phase, &version, &mut last_line);
            }
            _ = tokio::signal::ctrl_c(), if !cancelled => {
                cancelled = true;
                eprintln!("\nCancelling…");
                proxy.cancel(&zbus::zvariant::ObjectPath::try_from(path).map_err(zbus::Error::from)?).await?;
            }
        }
    };
    if !last_line.is_empty() {
        eprintln!();
    }
    let (success, error, message) = outcome;
    if json {
        print_json(&serde_json::json!({
            "event": "finished", "success": success,
            "error": (!error.is_empty()).then_some(&error), "message": message,
        }));
    } else if success && print_result {
        println!("{message}");
    }
    if success {
        return Ok(());
    }
    let code = match error.rsplit('.').next().unwrap_or_default() {
        "NotAuthorized" => 3,
        "Busy" => 4,
        "Refused" | "InvalidArgument" => 6,
        "NoRoom" => 7,
        "Cancelled" => 130,
        _ => 1,
    };
    Err(Failure {
        code,
        message: if json { String::new() } else { message },
    })
}
