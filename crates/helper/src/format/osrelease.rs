//! os-release of a root (`/etc/os-release`, else `/usr/lib/os-release`) and the systemd
//! specifiers (`%A`, `%M`, ...) that sysupdate.d values may contain.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The fields of an os-release file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsRelease {
    /// The file the fields were read from, if any.
    pub path: Option<PathBuf>,
    fields: BTreeMap<String, String>,
}

impl OsRelease {
    /// Reads the root's os-release. A root without one gives empty fields (every specifier
    /// that needs a field then expands to nothing, as in systemd).
    pub fn load(root: &Path) -> std::io::Result<Self> {
        for candidate in ["etc/os-release", "usr/lib/os-release"] {
            let path = root.join(candidate);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    return Ok(Self {
                        path: Some(path),
                        fields: parse(&text),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(Self::default())
    }

    /// Builds one from text (tests, images).
    pub fn from_text(text: &str) -> Self {
        Self {
            path: None,
            fields: parse(text),
        }
    }

    /// A field, e.g. `IMAGE_VERSION`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// `IMAGE_VERSION`: the version the root runs (specifier `%A`).
    pub fn image_version(&self) -> Option<&str> {
        self.get("IMAGE_VERSION").filter(|v| !v.is_empty())
    }
}

/// Parses `KEY=value` lines with shell-like quoting, as os-release(5) describes.
fn parse(text: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            continue;
        }
        fields.insert(key.to_string(), unquote(raw.trim()));
    }
    fields
}

fn unquote(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            (_, c) => out.push(c),
        }
    }
    out
}

/// Values for the specifiers of sysupdate.d.
#[derive(Debug, Clone, Default)]
pub struct Specifiers {
    os: OsRelease,
    machine_id: String,
    boot_id: String,
    hostname: String,
}

/// An unknown or incomplete `%` specifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecifierError {
    /// `%x` with an unknown letter.
    #[error("unknown specifier `%{0}`")]
    Unknown(char),
    /// A lone `%` at the end.
    #[error("lone `%` at the end (write `%%` for a percent sign)")]
    Trailing,
}

impl Specifiers {
    /// Specifiers of a root: os-release fields, its machine id and host name.
    pub fn for_root(root: &Path, os: OsRelease) -> Self {
        let read = |p: &str| {
            std::fs::read_to_string(root.join(p))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        Self {
            os,
            machine_id: read("etc/machine-id"),
            boot_id: std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .map(|s| s.trim().replace('-', ""))
                .unwrap_or_default(),
            hostname: read("etc/hostname"),
        }
    }

    /// Expands every specifier in `text`.
    pub fn expand(&self, text: &str) -> Result<String, SpecifierError> {
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let letter = chars.next().ok_or(SpecifierError::Trailing)?;
            let field = |key: &str| self.os.get(key).unwrap_or("").to_string();
            let value = match letter {
                '%' => "%".to_string(),
                'A' => field("IMAGE_VERSION"),
                'M' => field("IMAGE_ID"),
                'w' => field("VERSION_ID"),
                'W' => field("VARIANT_ID"),
                'B' => field("BUILD_ID"),
                'o' => field("ID"),
                'a' => architecture().to_string(),
                'm' => self.machine_id.clone(),
                'b' => self.boot_id.clone(),
                'H' => self.hostname.clone(),
                'T' => "/tmp".to_string(),
                'V' => "/var/tmp".to_string(),
                other => return Err(SpecifierError::Unknown(other)),
            };
            out.push_str(&value);
        }
        Ok(out)
    }
}

/// The architecture name systemd uses for this machine (`%a`).
pub fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x86-64",
        "x86" => "x86",
        "aarch64" => "arm64",
        "arm" => "arm",
        "riscv64" => "riscv64",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        "loongarch64" => "loongarch64",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_specifiers() {
        let os = OsRelease::from_text(
            "ID=kde-linux\nIMAGE_ID=\"kde-linux\"\nIMAGE_VERSION='202603211640'\n# c\nPRETTY_NAME=\"KDE \\\"Linux\\\"\"\n",
        );
        assert_eq!(os.image_version(), Some("202603211640"));
        assert_eq!(os.get("PRETTY_NAME"), Some("KDE \"Linux\""));
        let s = Specifiers {
            os,
            ..Specifiers::default()
        };
        assert_eq!(
            s.expand("%M_%A 100%%").as_deref(),
            Ok("kde-linux_202603211640 100%")
        );
        assert_eq!(s.expand("%q"), Err(SpecifierError::Unknown('q')));
        assert_eq!(s.expand("50%"), Err(SpecifierError::Trailing));
        assert_eq!(s.expand("%w"), Ok(String::new()));
    }
}
