//! Mirror credentials on a server without a keyring: systemd hands them to the check service
//! as a credential (`ImportCredential=update-center-mirror`, from `/etc/credstore` or, encrypted
//! with `systemd-creds`, `/etc/credstore.encrypted`), and this process hands them to the helper
//! the way the GUI hands over what the keyring holds. They are read from
//! `$CREDENTIALS_DIRECTORY`, kept in wiped memory, and never written or logged.

use zeroize::Zeroizing;

/// The credential's name: one line `USER:PASSWORD` for the mirror in `Updates.Source`.
pub const NAME: &str = "update-center-mirror";

/// A user name and password, wiped from memory when dropped.
pub type UserPassword = (Zeroizing<String>, Zeroizing<String>);

/// The user name and password systemd gave this process; none when it gave none.
pub fn read() -> Result<Option<UserPassword>, String> {
    read_from(
        std::env::var_os("CREDENTIALS_DIRECTORY")
            .as_deref()
            .map(std::path::Path::new),
    )
}

/// [`read`] from the credentials directory `dir`.
fn read_from(dir: Option<&std::path::Path>) -> Result<Option<UserPassword>, String> {
    let Some(dir) = dir else {
        return Ok(None);
    };
    let bytes = match std::fs::read(dir.join(NAME)) {
        Ok(bytes) => Zeroizing::new(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read the systemd credential {NAME}: {e}")),
    };
    let malformed = || format!("the systemd credential {NAME} is not one line USER:PASSWORD");
    let text = std::str::from_utf8(&bytes).map_err(|_| malformed())?;
    let line = text.lines().next().unwrap_or_default();
    match line.split_once(':') {
        Some((user, password)) if !user.is_empty() => Ok(Some((
            Zeroizing::new(user.to_string()),
            Zeroizing::new(password.to_string()),
        ))),
        _ => Err(malformed()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_credential_is_one_line_user_colon_password() {
        let dir = tempfile::tempdir().expect("tempdir");
        let read = || super::read_from(Some(dir.path()));
        assert_eq!(read(), Ok(None), "no credential given");
        assert_eq!(super::read_from(None), Ok(None), "no credentials directory");
        std::fs::write(dir.path().join(super::NAME), "ops:pa:ss\n").expect("write");
        let (user, password) = read().expect("read").expect("given");
        assert_eq!((user.as_str(), password.as_str()), ("ops", "pa:ss"));
        std::fs::write(dir.path().join(super::NAME), "no colon").expect("write");
        let error = read().expect_err("malformed");
        assert!(
            !error.contains("no colon"),
            "the secret is never in a message"
        );
    }
}
