//! The ini syntax of systemd's unit-like files: `[Section]` headers, `Key=Value` assignments,
//! `#`/`;` comments, and a trailing backslash that continues a line (comment lines inside a
//! continuation are skipped, the backslash becomes a space), as in systemd's `config_parse()`.

use std::path::{Path, PathBuf};

/// One `Key=Value` assignment with the line it started on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Section the assignment is in.
    pub section: String,
    /// Key, trimmed.
    pub key: String,
    /// Value, trimmed; continuation lines joined with a space.
    pub value: String,
    /// File the assignment came from (a drop-in can differ from the main file).
    pub file: PathBuf,
    /// 1-based line number where the assignment starts.
    pub line: usize,
}

/// A syntax error with the place it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct SyntaxError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses one file's text into assignments, in order. `file` is only used in messages.
pub fn parse(file: &Path, text: &str) -> Result<Vec<Assignment>, SyntaxError> {
    let error = |line: usize, message: String| SyntaxError {
        file: file.to_path_buf(),
        line,
        message,
    };
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    let mut continuation: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = raw.trim();
        if continuation.is_some() && (trimmed.starts_with('#') || trimmed.starts_with(';')) {
            continue;
        }
        let (start, mut logical) = match continuation.take() {
            Some((start, mut joined)) => {
                joined.push_str(trimmed);
                (start, joined)
            }
            None => (number, trimmed.to_string()),
        };
        if let Some(stripped) = logical.strip_suffix('\\') {
            logical = format!("{stripped} ");
            continuation = Some((start, logical));
            continue;
        }
        let logical = logical.trim();
        if logical.is_empty() || logical.starts_with('#') || logical.starts_with(';') {
            continue;
        }
        if let Some(rest) = logical.strip_prefix('[') {
            let Some(name) = rest.strip_suffix(']') else {
                return Err(error(start, format!("invalid section header `{logical}`")));
            };
            if name.is_empty() || name.contains(['[', ']']) {
                return Err(error(start, format!("invalid section header `{logical}`")));
            }
            section = Some(name.to_string());
            continue;
        }
        let Some((key, value)) = logical.split_once('=') else {
            return Err(error(
                start,
                format!("missing `=` in `{logical}` (expected Key=Value)"),
            ));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(error(
                start,
                format!("missing key before `=` in `{logical}`"),
            ));
        }
        let Some(section) = &section else {
            return Err(error(
                start,
                format!("assignment `{key}=` outside of any section"),
            ));
        };
        out.push(Assignment {
            section: section.clone(),
            key: key.to_string(),
            value: value.trim().to_string(),
            file: file.to_path_buf(),
            line: start,
        });
    }
    if let Some((start, joined)) = continuation {
        // systemd accepts a continuation at the end of the file as the last line.
        let logical = joined.trim();
        if !logical.is_empty() {
            return Err(error(
                start,
                format!("file ends inside a continued line `{logical}`"),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Vec<Assignment>, SyntaxError> {
        parse(Path::new("t.transfer"), text)
    }

    #[test]
    fn sections_keys_comments_and_continuations() {
        let parsed = p("# c\n[Transfer]\n; c\nProtectVersion=%A\n\n[Target]\nMatchPattern=a_@v \\\n  # skipped\n  b_@v\nMode = 0644 \n")
            .expect("valid");
        let triples: Vec<_> = parsed
            .iter()
            .map(|a| (a.section.as_str(), a.key.as_str(), a.value.as_str(), a.line))
            .collect();
        assert_eq!(
            triples,
            vec![
                ("Transfer", "ProtectVersion", "%A", 4),
                ("Target", "MatchPattern", "a_@v  b_@v", 7),
                ("Target", "Mode", "0644", 10),
            ]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e = p("[Transfer]\nnonsense\n").expect_err("invalid");
        assert_eq!(e.line, 2);
        assert!(
            e.to_string().starts_with("t.transfer:2: missing `=`"),
            "{e}"
        );
        assert_eq!(p("Key=1\n").expect_err("outside").line, 1);
        assert_eq!(p("[Bad\n").expect_err("header").line, 1);
        assert_eq!(p("[S]\n=v\n").expect_err("no key").line, 2);
    }
}
