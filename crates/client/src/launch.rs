//! Starting the Update Center window from elsewhere (System Settings, the tray), and Plasma's
//! restart prompt.

/// The command that opens the window: `update-center`, or `UPDATE_CENTER_GUI` when set (the
/// tests point it at a recorder, the Flatpak at its wrapper).
pub fn command() -> String {
    std::env::var("UPDATE_CENTER_GUI")
        .ok()
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "update-center".to_string())
}

/// Starts the window with `args` (for example `--page versions`) without waiting for it.
pub fn open_application(args: &[&str]) -> std::io::Result<()> {
    let mut child = std::process::Command::new(command())
        .args(args)
        .stdin(std::process::Stdio::null())
        .spawn()?;
    // Reaped by a thread so that no zombie stays behind while the caller runs.
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// Opens Plasma's restart prompt (`org.kde.LogoutPrompt.promptReboot` on the session bus); the
/// person confirms there. `Err` is a sentence saying what to do instead.
pub async fn restart_prompt() -> Result<(), String> {
    let unavailable = |e: zbus::Error| {
        format!(
            "Cannot open the restart prompt ({e}); restart the computer from the application launcher."
        )
    };
    let session = zbus::Connection::session().await.map_err(unavailable)?;
    session
        .call_method(
            Some("org.kde.LogoutPrompt"),
            "/LogoutPrompt",
            Some("org.kde.LogoutPrompt"),
            "promptReboot",
            &(),
        )
        .await
        .map(drop)
        .map_err(unavailable)
}

/// The name the Update Center window owns on the session bus while it is open: the tray sends
/// no notification then.
pub const WINDOW_BUS_NAME: &str = "org.kde.updatecenter";
