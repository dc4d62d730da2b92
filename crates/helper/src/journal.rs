//! Logging for the service: structured records to the systemd journal (its native protocol:
//! one datagram per record, `KEY=value` lines, the binary form for values with new lines) when
//! the helper runs under systemd, plain lines on stderr otherwise. Fields carry what a fleet's
//! log search needs: the version, the job, the polkit action, the caller.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;

/// Priorities, as syslog numbers them.
#[derive(Debug, Clone, Copy)]
pub enum Priority {
    /// Something failed.
    Error = 3,
    /// Something was refused or looks wrong.
    Warning = 4,
    /// What happened.
    Info = 6,
}

/// Where records go.
fn socket() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("UPDATE_CENTER_JOURNAL_SOCKET") {
        return Some(PathBuf::from(path));
    }
    // Started by systemd: the journal is there.
    std::env::var_os("INVOCATION_ID").map(|_| PathBuf::from("/run/systemd/journal/socket"))
}

/// Encodes one record in the journal's native protocol.
pub fn encode(priority: Priority, message: &str, fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut field = |key: &str, value: &str| {
        if value.contains('\n') {
            out.extend_from_slice(key.as_bytes());
            out.push(b'\n');
            out.extend_from_slice(&(value.len() as u64).to_le_bytes());
            out.extend_from_slice(value.as_bytes());
            out.push(b'\n');
        } else {
            out.extend_from_slice(format!("{key}={value}\n").as_bytes());
        }
    };
    field("PRIORITY", &(priority as u8).to_string());
    field("SYSLOG_IDENTIFIER", "update-center-helper");
    field("MESSAGE", message);
    for (key, value) in fields {
        field(key, value);
    }
    out
}

/// Logs a record; `fields` are extra journal fields (upper-case names, `UPDATE_CENTER_*`).
pub fn log(priority: Priority, message: &str, fields: &[(&str, &str)]) {
    if let Some(path) = socket()
        && let Ok(socket) = UnixDatagram::unbound()
        && socket
            .send_to(&encode(priority, message, fields), &path)
            .is_ok()
    {
        return;
    }
    eprintln!("update-center-helper: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_use_the_native_protocol() {
        let record = encode(
            Priority::Warning,
            "two\nlines",
            &[("UPDATE_CENTER_JOB", "/j/1")],
        );
        let text = String::from_utf8_lossy(&record);
        assert!(text.starts_with("PRIORITY=4\nSYSLOG_IDENTIFIER=update-center-helper\nMESSAGE\n"));
        assert!(
            record
                .windows(9)
                .any(|w| w == [9, 0, 0, 0, 0, 0, 0, 0, b't'])
        );
        assert!(text.ends_with("UPDATE_CENTER_JOB=/j/1\n"));
    }
}
