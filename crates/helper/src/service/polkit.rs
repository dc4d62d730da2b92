//! Authorisation: polkit is asked on every call that needs it, for the calling bus name.

use super::*;

impl UpdateCenter {
    /// Asks polkit whether the caller may do `action`.
    pub(super) async fn authorize(
        &self,
        connection: &zbus::Connection,
        header: &zbus::message::Header<'_>,
        action: &str,
    ) -> Result<(), Error> {
        use zbus_polkit::policykit1::{AuthorityProxy, CheckAuthorizationFlags, Subject};
        self.shared.touch();
        let interactive = header
            .primary()
            .flags()
            .contains(zbus::message::Flags::AllowInteractiveAuth);
        let subject = Subject::new_for_message_header(header)
            .map_err(|e| Error::NotAuthorized(format!("cannot identify the caller: {e}")))?;
        let unreachable = |e: zbus::Error| {
            Error::NotAuthorized(format!(
                "cannot ask polkit whether this is allowed ({e}); is polkitd running?"
            ))
        };
        let authority = AuthorityProxy::new(connection).await.map_err(unreachable)?;
        let result = authority
            .check_authorization(
                &subject,
                action,
                &std::collections::HashMap::new(),
                // A password prompt only when the caller's message allows one (a script with
                // --no-ask-password, the tray's background calls): otherwise refused at once.
                if interactive {
                    CheckAuthorizationFlags::AllowUserInteraction.into()
                } else {
                    Default::default()
                },
                "",
            )
            .await
            .map_err(unreachable)?;
        if result.is_authorized {
            return Ok(());
        }
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        crate::journal::log(
            crate::journal::Priority::Warning,
            &format!("{sender} is not authorised for {action}"),
            &[
                ("UPDATE_CENTER_ACTION", action),
                ("UPDATE_CENTER_CALLER", &sender),
            ],
        );
        Err(Error::NotAuthorized(format!(
            "not authorised to {}: polkit refused action {action}{}",
            describe_action(action),
            if result.is_challenge {
                " (authentication was needed and did not happen)"
            } else {
                ""
            }
        )))
    }
}

/// The Unix user of the connection that sent a call, as the bus daemon knows it.
pub(super) async fn caller_uid(
    connection: &zbus::Connection,
    header: &zbus::message::Header<'_>,
) -> Option<u32> {
    let sender = header.sender()?;
    let proxy = zbus::fdo::DBusProxy::new(connection).await.ok()?;
    proxy
        .get_connection_unix_user(sender.clone().into())
        .await
        .ok()
}

pub(super) fn describe_action(action: &str) -> &'static str {
    match action {
        action::CHECK => "check for updates",
        action::INSTALL => "install updates",
        action::INSTALL_VERSION => "install a chosen version",
        action::ROLLBACK => "choose the version that boots",
        action::PIN => "pin or unpin versions",
        action::REMOVE => "remove a version",
        action::VACUUM => "remove old versions",
        action::SETTINGS => "change the update settings",
        action::ACKNOWLEDGE => "acknowledge a failed boot",
        action::CANCEL_ANY => "cancel another user's job",
        action::READ => "read the history and changelogs",
        _ => "do this",
    }
}
