//! Named errors of the helper API. Each variant travels as
//! `org.kde.UpdateCenter1.Error.<Variant>` with a message that says what failed and what to do.

/// An error returned by the helper, or by the bus on the way to it.
#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.kde.UpdateCenter1.Error")]
pub enum Error {
    /// The bus itself failed (no bus, no helper, access denied, ...).
    #[zbus(error)]
    ZBus(zbus::Error),
    /// No update definitions (sysupdate.d) were found under the system root.
    NoDefinitions(String),
    /// An update definition file is unreadable or malformed; the message names file, line and key.
    InvalidDefinition(String),
    /// Reading the installed files failed.
    Io(String),
    /// polkit did not authorise the caller for this operation.
    NotAuthorized(String),
    /// Another job is running; the message names it.
    Busy(String),
    /// An argument is malformed (a version string, a settings key or value, a time).
    InvalidArgument(String),
    /// The operation is not possible on this system as it is (an incomplete or unknown
    /// version, a held-back candidate, nothing to update); the message says why and what to do.
    Refused(String),
    /// A file system lacks room; the message says how much and what to remove.
    NoRoom(String),
    /// A mirror could not be reached or misbehaved; the message names the URL.
    Network(String),
    /// The job was cancelled; nothing of it is left.
    Cancelled(String),
    /// Anything else that failed; the message says what.
    Failed(String),
}

/// A sentence for a person: what went wrong when calling the helper, and what to do.
///
/// Named helper errors carry their own message; bus failures are translated into the situations
/// people actually meet (no helper running, no system bus).
pub fn describe_call_error(error: &Error) -> String {
    match error {
        Error::NoDefinitions(m)
        | Error::InvalidDefinition(m)
        | Error::Io(m)
        | Error::NotAuthorized(m)
        | Error::Busy(m)
        | Error::InvalidArgument(m)
        | Error::Refused(m)
        | Error::NoRoom(m)
        | Error::Network(m)
        | Error::Cancelled(m)
        | Error::Failed(m) => m.clone(),
        Error::ZBus(zbus::Error::MethodError(name, message, _)) => match name.as_str() {
            "org.freedesktop.DBus.Error.ServiceUnknown"
            | "org.freedesktop.DBus.Error.NameHasNoOwner" => format!(
                "The Update Center service ({}) is not running on the system bus. \
                 Start it with `systemctl start update-center-helper` or ask your administrator.",
                crate::BUS_NAME
            ),
            "org.freedesktop.DBus.Error.AccessDenied" => format!(
                "The system bus refused access to the Update Center service: {}",
                message.as_deref().unwrap_or("access denied")
            ),
            _ => format!(
                "The Update Center service answered with an error ({name}): {}",
                message.as_deref().unwrap_or("no details")
            ),
        },
        // The same errors as the bus says them when a property is read.
        Error::ZBus(zbus::Error::FDO(e))
            if matches!(
                **e,
                zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_)
            ) =>
        {
            format!(
                "The Update Center service ({}) is not running on the system bus. \
                 Start it with `systemctl start update-center-helper` or ask your administrator.",
                crate::BUS_NAME
            )
        }
        Error::ZBus(zbus::Error::FDO(e)) if matches!(**e, zbus::fdo::Error::AccessDenied(_)) => {
            format!("The system bus refused access to the Update Center service: {e}")
        }
        Error::ZBus(zbus::Error::InputOutput(e)) => {
            format!("Cannot reach the system bus ({e}). Is D-Bus running?")
        }
        Error::ZBus(e) => format!("Talking to the Update Center service failed: {e}"),
    }
}

/// A sentence for a person when the system bus itself cannot be reached.
pub fn describe_connect_error(error: &Error) -> String {
    match error {
        Error::ZBus(e) => format!(
            "Cannot connect to the system bus ({e}). Is D-Bus running? \
             Update Center needs it to reach its service."
        ),
        other => describe_call_error(other),
    }
}
