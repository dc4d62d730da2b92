//! Match patterns of sysupdate.d (`MatchPattern=`): literals with `@` wildcards, parsed with
//! systemd's validity rules and matched the way systemd-sysupdate matches file names.

use std::fmt;

/// A wildcard of a match pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wildcard {
    /// `@v`: the version (required in every pattern).
    Version,
    /// `@u`: partition UUID.
    PartitionUuid,
    /// `@f`: GPT partition flags (hex).
    PartitionFlags,
    /// `@a`: the GPT no-auto flag (boolean).
    NoAuto,
    /// `@g`: the GPT grow-fs flag (boolean).
    GrowFs,
    /// `@r`: read-only (boolean).
    ReadOnly,
    /// `@t`: modification time in microseconds.
    Mtime,
    /// `@m`: access mode (octal).
    Mode,
    /// `@s`: size in bytes.
    Size,
    /// `@d`: boot tries done.
    TriesDone,
    /// `@l`: boot tries left.
    TriesLeft,
    /// `@h`: SHA-256 hash (64 hex digits).
    Sha256,
}

impl Wildcard {
    fn from_char(c: char) -> Option<Self> {
        Some(match c {
            'v' => Self::Version,
            'u' => Self::PartitionUuid,
            'f' => Self::PartitionFlags,
            'a' => Self::NoAuto,
            'g' => Self::GrowFs,
            'r' => Self::ReadOnly,
            't' => Self::Mtime,
            'm' => Self::Mode,
            's' => Self::Size,
            'd' => Self::TriesDone,
            'l' => Self::TriesLeft,
            'h' => Self::Sha256,
            _ => return None,
        })
    }

    fn letter(self) -> char {
        match self {
            Self::Version => 'v',
            Self::PartitionUuid => 'u',
            Self::PartitionFlags => 'f',
            Self::NoAuto => 'a',
            Self::GrowFs => 'g',
            Self::ReadOnly => 'r',
            Self::Mtime => 't',
            Self::Mode => 'm',
            Self::Size => 's',
            Self::TriesDone => 'd',
            Self::TriesLeft => 'l',
            Self::Sha256 => 'h',
        }
    }

    /// Whether `value` is a valid value for this wildcard.
    fn accepts(self, value: &str) -> bool {
        let decimal = |v: &str| !v.is_empty() && v.bytes().all(|c| c.is_ascii_digit());
        match self {
            Self::Version => is_valid_version(value),
            Self::PartitionUuid => {
                let hex: String = value.chars().filter(|c| *c != '-').collect();
                hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
            }
            Self::PartitionFlags => {
                let v = value.strip_prefix("0x").unwrap_or(value);
                !v.is_empty() && v.len() <= 16 && v.chars().all(|c| c.is_ascii_hexdigit())
            }
            Self::NoAuto | Self::GrowFs | Self::ReadOnly => {
                matches!(
                    value,
                    "0" | "1" | "yes" | "no" | "true" | "false" | "on" | "off"
                )
            }
            Self::Mtime | Self::Size | Self::TriesDone | Self::TriesLeft => {
                decimal(value) && value.parse::<u64>().is_ok()
            }
            Self::Mode => {
                !value.is_empty()
                    && value.bytes().all(|c| (b'0'..=b'7').contains(&c))
                    && u32::from_str_radix(value, 8).is_ok_and(|m| m <= 0o7777)
            }
            Self::Sha256 => value.len() == 64 && value.chars().all(|c| c.is_ascii_hexdigit()),
        }
    }
}

/// Whether `value` is a valid version: non-empty, made of `[A-Za-z0-9.,_+-]`.
pub fn is_valid_version(value: &str) -> bool {
    // As systemd's version_is_valid(): a valid file name (never `.` or `..`, which would name
    // a directory when put into a path) of these characters.
    !value.is_empty()
        && value != "."
        && value != ".."
        && value
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b',' | b'_' | b'+' | b'-'))
}

/// One piece of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// Text that must appear as it is.
    Literal(String),
    /// A wildcard.
    Wildcard(Wildcard),
}

/// A parsed match pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    tokens: Vec<Token>,
}

/// Why a pattern is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// `@` at the end of the pattern.
    #[error("the pattern ends with a lone `@`")]
    TrailingAt,
    /// `@` followed by an unknown letter.
    #[error("unknown wildcard `@{0}`")]
    UnknownWildcard(char),
    /// A wildcard used twice.
    #[error("wildcard `@{0}` appears more than once")]
    Repeated(char),
    /// Two wildcards with nothing between them.
    #[error("wildcards `@{0}` and `@{1}` need literal text between them")]
    Adjacent(char, char),
    /// No `@v`.
    #[error("the pattern has no version wildcard `@v`")]
    NoVersion,
    /// A character that is not allowed.
    #[error("the pattern contains the invalid character {0:?}")]
    InvalidCharacter(char),
    /// Nothing at all.
    #[error("the pattern is empty")]
    Empty,
}

/// Values a pattern extracted from a name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    /// `@v`.
    pub version: String,
    /// `@l`, when the pattern has it.
    pub tries_left: Option<u64>,
    /// `@d`, when the pattern has it.
    pub tries_done: Option<u64>,
    /// `@h`, when the pattern has it.
    pub sha256: Option<String>,
    /// `@s`, when the pattern has it.
    pub size_bytes: Option<u64>,
}

impl Pattern {
    /// Parses a pattern (specifiers already expanded).
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        if text.is_empty() {
            return Err(PatternError::Empty);
        }
        let mut tokens: Vec<Token> = Vec::new();
        let mut seen: Vec<Wildcard> = Vec::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c.is_control() || !c.is_ascii() || "$*?[]!\\|".contains(c) {
                return Err(PatternError::InvalidCharacter(c));
            }
            if c != '@' {
                push_literal(&mut tokens, c);
                continue;
            }
            let Some(letter) = chars.next() else {
                return Err(PatternError::TrailingAt);
            };
            if letter == '@' {
                push_literal(&mut tokens, '@');
                continue;
            }
            let wildcard =
                Wildcard::from_char(letter).ok_or(PatternError::UnknownWildcard(letter))?;
            if seen.contains(&wildcard) {
                return Err(PatternError::Repeated(letter));
            }
            if let Some(Token::Wildcard(previous)) = tokens.last() {
                return Err(PatternError::Adjacent(previous.letter(), letter));
            }
            seen.push(wildcard);
            tokens.push(Token::Wildcard(wildcard));
        }
        if !seen.contains(&Wildcard::Version) {
            return Err(PatternError::NoVersion);
        }
        Ok(Self {
            text: text.to_string(),
            tokens,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The pieces of the pattern.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// Whether the pattern has the given wildcard.
    pub fn has(&self, wildcard: Wildcard) -> bool {
        self.tokens.contains(&Token::Wildcard(wildcard))
    }

    /// Matches a whole name. A wildcard takes everything up to the first occurrence of the next
    /// literal (or up to a `/`, or the end); the whole name must be consumed.
    pub fn matches(&self, name: &str) -> Option<Fields> {
        let mut fields = Fields::default();
        let mut rest = name;
        let mut iter = self.tokens.iter().peekable();
        while let Some(token) = iter.next() {
            match token {
                Token::Literal(literal) => rest = rest.strip_prefix(literal.as_str())?,
                Token::Wildcard(wildcard) => {
                    let end = match iter.peek() {
                        Some(Token::Literal(next)) => rest.find(next.as_str())?,
                        _ => rest.find('/').unwrap_or(rest.len()),
                    };
                    let value = &rest[..end];
                    if !wildcard.accepts(value) {
                        return None;
                    }
                    match wildcard {
                        Wildcard::Version => fields.version = value.to_string(),
                        Wildcard::TriesLeft => fields.tries_left = value.parse().ok(),
                        Wildcard::TriesDone => fields.tries_done = value.parse().ok(),
                        Wildcard::Sha256 => fields.sha256 = Some(value.to_ascii_lowercase()),
                        Wildcard::Size => fields.size_bytes = value.parse().ok(),
                        _ => {}
                    }
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(fields)
    }

    /// The name for a version: every wildcard filled in. `None` when a wildcard other than
    /// `@v`, `@l` and `@d` is needed (this helper writes files, not partitions).
    pub fn format(
        &self,
        version: &str,
        tries_left: Option<u64>,
        tries_done: Option<u64>,
    ) -> Option<String> {
        let mut out = String::new();
        for token in &self.tokens {
            match token {
                Token::Literal(l) => out.push_str(l),
                Token::Wildcard(Wildcard::Version) => out.push_str(version),
                Token::Wildcard(Wildcard::TriesLeft) => out.push_str(&tries_left?.to_string()),
                Token::Wildcard(Wildcard::TriesDone) => out.push_str(&tries_done?.to_string()),
                Token::Wildcard(_) => return None,
            }
        }
        Some(out)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn push_literal(tokens: &mut Vec<Token>, c: char) {
    if let Some(Token::Literal(text)) = tokens.last_mut() {
        text.push(c);
    } else {
        tokens.push(Token::Literal(c.to_string()));
    }
}

/// Matches `name` against patterns in order: the first that matches wins.
pub fn match_first(patterns: &[Pattern], name: &str) -> Option<Fields> {
    patterns.iter().find_map(|p| p.matches(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(text: &str) -> Pattern {
        Pattern::parse(text).expect("valid pattern")
    }

    #[test]
    fn dot_and_dot_dot_are_no_versions() {
        assert!(!is_valid_version("."));
        assert!(!is_valid_version(".."));
        assert!(!is_valid_version(""));
        assert!(!is_valid_version("1/2"));
        assert!(is_valid_version("1.2"));
        assert!(is_valid_version("..1"));
        // `kde-linux_...erofs` names no version `..` either.
        assert!(match_first(&[pat("kde-linux_@v.erofs")], "kde-linux_...erofs").is_none());
    }

    #[test]
    fn kde_linux_uki_names() {
        let patterns = [
            pat("kde-linux_@v+@l-@d.efi"),
            pat("kde-linux_@v+@l.efi"),
            pat("kde-linux_@v.efi"),
        ];
        let f = match_first(&patterns, "kde-linux_202603211640+2-0.efi").expect("match");
        assert_eq!(
            (f.version.as_str(), f.tries_left, f.tries_done),
            ("202603211640", Some(2), Some(0))
        );
        let f = match_first(&patterns, "kde-linux_202603211640.efi").expect("match");
        assert_eq!((f.version.as_str(), f.tries_left), ("202603211640", None));
        let f = match_first(&patterns, "kde-linux_1.2+3.efi").expect("match");
        assert_eq!((f.version.as_str(), f.tries_left), ("1.2", Some(3)));
        assert!(match_first(&patterns, "kdeos_1.efi").is_none());
        assert!(match_first(&patterns, "kde-linux_1.efi.bak").is_none());
    }

    #[test]
    fn a_wildcard_stops_at_the_first_occurrence_of_the_next_literal() {
        let erofs = pat("kde-linux_@v.erofs");
        assert_eq!(
            erofs.matches("kde-linux_5.erofs").map(|f| f.version),
            Some("5".into())
        );
        assert!(erofs.matches("kde-linux_5.erofs.caibx").is_none());
        assert!(erofs.matches("kde-linux_.erofs").is_none(), "empty version");
        assert!(
            erofs.matches("kde-linux_a b.erofs").is_none(),
            "invalid version character"
        );
    }

    #[test]
    fn invalid_patterns_are_refused_with_the_reason() {
        assert_eq!(
            Pattern::parse("a_@v@l"),
            Err(PatternError::Adjacent('v', 'l'))
        );
        assert_eq!(Pattern::parse("a_@v_@v"), Err(PatternError::Repeated('v')));
        assert_eq!(Pattern::parse("a_@v_@"), Err(PatternError::TrailingAt));
        assert_eq!(
            Pattern::parse("a_@x"),
            Err(PatternError::UnknownWildcard('x'))
        );
        assert_eq!(Pattern::parse("plain"), Err(PatternError::NoVersion));
        assert_eq!(
            Pattern::parse("a*_@v"),
            Err(PatternError::InvalidCharacter('*'))
        );
        assert_eq!(Pattern::parse(""), Err(PatternError::Empty));
        assert_eq!(
            pat("a@@_@v").matches("a@_1").map(|f| f.version),
            Some("1".into())
        );
    }

    #[test]
    fn format_fills_in_the_first_pattern() {
        let p = pat("kde-linux_@v+@l-@d.efi");
        assert_eq!(
            p.format("7", Some(2), Some(0)).as_deref(),
            Some("kde-linux_7+2-0.efi")
        );
        assert_eq!(p.format("7", None, None), None);
    }
}
