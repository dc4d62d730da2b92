//! OpenPGP keys made by GnuPG for tests: a throw-away home directory, a key of the asked kind,
//! its public keyring export and detached signatures.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

/// Kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Ed25519 (what current GnuPG makes by default).
    Ed25519,
    /// RSA 3072.
    Rsa,
}

/// A GnuPG key in its own home directory.
pub struct GpgKey {
    home: tempfile::TempDir,
    /// The user id.
    pub uid: String,
    faked_time: Option<String>,
}

impl GpgKey {
    /// Generates a signing key valid for ten years.
    pub fn generate(kind: KeyKind, uid: &str) -> Result<Self> {
        Self::generate_at(kind, uid, None, "10y")
    }

    /// Generates a key that expired long ago: it is made, and later signs, at a faked time in
    /// 2020 with a validity of one day.
    pub fn generate_expired(kind: KeyKind, uid: &str) -> Result<Self> {
        Self::generate_at(kind, uid, Some("20200101T120000"), "1d")
    }

    fn generate_at(
        kind: KeyKind,
        uid: &str,
        faked_time: Option<&str>,
        expiry: &str,
    ) -> Result<Self> {
        let home = tempfile::Builder::new().prefix("uc-gpg-").tempdir()?;
        let key = Self {
            home,
            uid: uid.to_string(),
            faked_time: faked_time.map(str::to_string),
        };
        let algorithm = match kind {
            KeyKind::Ed25519 => "ed25519",
            KeyKind::Rsa => "rsa3072",
        };
        key.gpg(&["--quick-generate-key", uid, algorithm, "sign", expiry])?;
        Ok(key)
    }

    /// The Ed25519 key kept in `dir` (its secret key exported there), generated the first time:
    /// images signed once stay verifiable by the keyring they carry. Each use imports it into
    /// a throw-away GnuPG home (a home that outlives its agent is not reliable).
    pub fn kept_in(dir: &Path, uid: &str) -> Result<Self> {
        let secret = dir.join("secret-key.asc");
        if secret.exists() {
            let key = Self {
                home: tempfile::Builder::new().prefix("uc-gpg-").tempdir()?,
                uid: uid.to_string(),
                faked_time: None,
            };
            key.gpg(&["--import", &secret.to_string_lossy()])?;
            return Ok(key);
        }
        let key = Self::generate(KeyKind::Ed25519, uid)?;
        std::fs::create_dir_all(dir)?;
        let exported = key.gpg(&["--armor", "--export-secret-keys", uid])?;
        let partial = dir.join("secret-key.asc.partial");
        std::fs::write(&partial, exported)?;
        std::fs::rename(&partial, &secret)?;
        Ok(key)
    }

    /// Generates a signing key made `days` ago (valid for ten years), so that it can sign
    /// lists dated in the past.
    pub fn generate_days_ago(kind: KeyKind, uid: &str, days: i64) -> Result<Self> {
        let when = chrono::Utc::now() - chrono::Duration::days(days);
        let mut key = Self::generate_at(
            kind,
            uid,
            Some(&when.format("%Y%m%dT%H%M%S").to_string()),
            "10y",
        )?;
        key.faked_time = None;
        Ok(key)
    }

    /// Writes a detached signature of `file` to `signature` dated `days` ago.
    pub fn sign_detached_days_ago(&self, file: &Path, signature: &Path, days: i64) -> Result<()> {
        let when = chrono::Utc::now() - chrono::Duration::days(days);
        self.sign_at(
            file,
            signature,
            Some(&when.format("%Y%m%dT%H%M%S").to_string()),
        )
    }

    fn sign_at(&self, file: &Path, signature: &Path, faked_time: Option<&str>) -> Result<()> {
        let (file, signature) = (file.to_string_lossy(), signature.to_string_lossy());
        self.gpg_at(
            &[
                "--local-user",
                &self.uid,
                "--output",
                &signature,
                "--detach-sign",
                &file,
            ],
            faked_time,
        )?;
        Ok(())
    }

    fn gpg(&self, args: &[&str]) -> Result<Vec<u8>> {
        self.gpg_at(args, self.faked_time.as_deref())
    }

    fn gpg_at(&self, args: &[&str], faked_time: Option<&str>) -> Result<Vec<u8>> {
        let mut command = Command::new("gpg");
        command.arg("--homedir").arg(self.home.path()).args([
            "--batch",
            "--yes",
            "--quiet",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ]);
        if let Some(time) = faked_time {
            command.arg("--faked-system-time").arg(time);
        }
        let output = command
            .args(args)
            .output()
            .context("cannot run gpg (install gnupg)")?;
        if !output.status.success() {
            bail!(
                "gpg {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(output.stdout)
    }

    /// The public key as a binary keyring (what `/usr/lib/systemd/import-pubring.pgp` holds).
    pub fn public_keyring(&self) -> Result<Vec<u8>> {
        self.gpg(&["--export", &self.uid])
    }

    /// Writes a detached binary signature of `file` to `signature`.
    pub fn sign_detached(&self, file: &Path, signature: &Path) -> Result<()> {
        self.sign_at(file, signature, self.faked_time.as_deref())
    }

    /// Installs the public key as the root's keyring at `/usr/lib/systemd/import-pubring.pgp`.
    pub fn install_keyring(&self, root: &Path) -> Result<()> {
        let dir = root.join("usr/lib/systemd");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("import-pubring.pgp"), self.public_keyring()?)?;
        Ok(())
    }
}
