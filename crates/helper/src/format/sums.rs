//! `SHA256SUMS`: the list of files a source offers with their SHA-256, parsed strictly. Every
//! line is `<64 hex digits><space><space or *><file name>`; the name must be a plain file name
//! (no `/`, not `.` or `..`, no control characters). Anything else is refused with the line
//! number, because the file comes from a mirror that may be hostile.

/// Largest `SHA256SUMS` accepted, in bytes. KDE Linux's has a few hundred lines.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;
/// Longest file name accepted (Linux's NAME_MAX).
const MAX_NAME_BYTES: usize = 255;

/// One file a source offers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// The file name.
    pub name: String,
    /// Its SHA-256, 64 lowercase hex digits.
    pub sha256: String,
}

/// Why a `SHA256SUMS` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SumsError {
    /// Bigger than [`MAX_BYTES`].
    #[error("is larger than {max} bytes", max = MAX_BYTES)]
    TooLarge,
    /// Not UTF-8 text.
    #[error("line {line}: is not UTF-8 text")]
    NotText {
        /// 1-based line.
        line: usize,
    },
    /// Shorter than a hash, a separator and a name.
    #[error("line {line}: too short for a SHA-256 digest and a file name")]
    TooShort {
        /// 1-based line.
        line: usize,
    },
    /// The digest is not 64 hex digits.
    #[error("line {line}: the digest is not 64 hexadecimal digits")]
    BadDigest {
        /// 1-based line.
        line: usize,
    },
    /// No `"  "` or `" *"` between digest and name.
    #[error("line {line}: expected two spaces (or a space and `*`) after the digest")]
    BadSeparator {
        /// 1-based line.
        line: usize,
    },
    /// The name is not a plain file name.
    #[error("line {line}: refusing the file name {name:?}: {reason}")]
    BadName {
        /// 1-based line.
        line: usize,
        /// The name, as far as it is printable.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The same name twice.
    #[error("line {line}: {name:?} is listed twice")]
    Duplicate {
        /// 1-based line.
        line: usize,
        /// The name.
        name: String,
    },
}

fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name == "." || name == ".." {
        Some("it names a directory")
    } else if name.contains('/') {
        Some("it contains `/` (a path, not a file name)")
    } else if name.len() > MAX_NAME_BYTES {
        Some("it is longer than 255 bytes")
    } else if name.chars().any(char::is_control) {
        Some("it contains control characters")
    } else {
        None
    }
}

/// Parses the contents of a `SHA256SUMS` file.
pub fn parse(bytes: &[u8]) -> Result<Vec<Entry>, SumsError> {
    if bytes.len() > MAX_BYTES {
        return Err(SumsError::TooLarge);
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = index + 1;
        if raw.is_empty() {
            continue;
        }
        let text = std::str::from_utf8(raw).map_err(|_| SumsError::NotText { line })?;
        if text.len() < 64 + 2 + 1 {
            return Err(SumsError::TooShort { line });
        }
        // Checked on bytes first: splitting the text at 64 is only safe once those are ASCII.
        if !text.as_bytes()[..64].iter().all(u8::is_ascii_hexdigit) {
            return Err(SumsError::BadDigest { line });
        }
        let (digest, rest) = text.split_at(64);
        let name = rest
            .strip_prefix("  ")
            .or_else(|| rest.strip_prefix(" *"))
            .ok_or(SumsError::BadSeparator { line })?;
        if let Some(reason) = name_problem(name) {
            let printable: String = name
                .chars()
                .map(|c| if c.is_control() { '?' } else { c })
                .take(80)
                .collect();
            return Err(SumsError::BadName {
                line,
                name: printable,
                reason,
            });
        }
        if !seen.insert(name.to_string()) {
            return Err(SumsError::Duplicate {
                line,
                name: name.to_string(),
            });
        }
        entries.push(Entry {
            name: name.to_string(),
            sha256: digest.to_ascii_lowercase(),
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

    #[test]
    fn accepts_text_and_binary_markers() {
        let text = format!("{A}  kde-linux_1.efi\n{B} *kde-linux_1_root-x86-64.erofs\n\n");
        let entries = parse(text.as_bytes()).expect("valid");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].name, "kde-linux_1_root-x86-64.erofs");
        assert_eq!(entries[1].sha256, B.to_ascii_lowercase());
    }

    #[test]
    fn refuses_hostile_input_naming_the_line() {
        let cases: Vec<(String, SumsError)> = vec![
            (
                format!("{A}  ../etc/passwd\n"),
                SumsError::BadName {
                    line: 1,
                    name: "../etc/passwd".into(),
                    reason: "it contains `/` (a path, not a file name)",
                },
            ),
            (
                format!("{A}  /etc/passwd\n"),
                SumsError::BadName {
                    line: 1,
                    name: "/etc/passwd".into(),
                    reason: "it contains `/` (a path, not a file name)",
                },
            ),
            (
                format!("{A}  ..\n"),
                SumsError::BadName {
                    line: 1,
                    name: "..".into(),
                    reason: "it names a directory",
                },
            ),
            (
                format!("{A}  ok\n{A}  bad\u{7}name\n"),
                SumsError::BadName {
                    line: 2,
                    name: "bad?name".into(),
                    reason: "it contains control characters",
                },
            ),
            (
                format!("{A}  x\n{B}  x\n"),
                SumsError::Duplicate {
                    line: 2,
                    name: "x".into(),
                },
            ),
            (
                format!("{}g  x\n", &A[..63]),
                SumsError::BadDigest { line: 1 },
            ),
            (format!("{A} x\n"), SumsError::TooShort { line: 1 }),
            (format!("{A}\tx1\n"), SumsError::BadSeparator { line: 1 }),
            ("short\n".to_string(), SumsError::TooShort { line: 1 }),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text.as_bytes()), Err(expected), "{text:?}");
        }
        assert_eq!(
            parse(&[0xff, 0xfe, 0x00, b'\n']),
            Err(SumsError::NotText { line: 1 })
        );
        assert_eq!(parse(&vec![b'a'; MAX_BYTES + 1]), Err(SumsError::TooLarge));
        let long = format!("{A}  {}\n", "x".repeat(256));
        assert!(matches!(
            parse(long.as_bytes()),
            Err(SumsError::BadName {
                reason: "it is longer than 255 bytes",
                ..
            })
        ));
    }
}
