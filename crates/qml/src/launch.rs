//! Starting the Update Center window from elsewhere (System Settings, the tray).

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
