//! Version order of the UAPI version format, exactly as `systemd-analyze compare-versions`
//! (systemd's `strverscmp_improved`).

use std::cmp::Ordering;

fn is_valid_version_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'~' | b'-' | b'^' | b'.')
}

/// Compares two version strings: `Less` means `a` is older than `b`.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.is_empty() || b.is_empty() {
        return a.cmp(b);
    }
    let (mut i, mut j) = (0usize, 0usize);
    let at = |s: &[u8], k: usize| s.get(k).copied().unwrap_or(0);
    loop {
        while i < a.len() && !is_valid_version_char(a[i]) {
            i += 1;
        }
        while j < b.len() && !is_valid_version_char(b[j]) {
            j += 1;
        }
        // '~' marks a pre-release: it sorts before everything, even the end of the string.
        for marker in [b'~'] {
            if at(a, i) == marker || at(b, j) == marker {
                let r = (at(a, i) != marker).cmp(&(at(b, j) != marker));
                if r != Ordering::Equal {
                    return r;
                }
                i += 1;
                j += 1;
            }
        }
        // At the end of either string the longer one is newer.
        if i >= a.len() || j >= b.len() {
            return a[i.min(a.len())..].cmp(&b[j.min(b.len())..]);
        }
        // '-' (release), '^' (patch) and '.' (point release): the string that has the separator
        // here is older than the one that goes on with a segment.
        for marker in [b'-', b'^', b'.'] {
            if at(a, i) == marker || at(b, j) == marker {
                let r = (at(a, i) != marker).cmp(&(at(b, j) != marker));
                if r != Ordering::Equal {
                    return r;
                }
                i += 1;
                j += 1;
            }
        }
        if at(a, i).is_ascii_digit() || at(b, j).is_ascii_digit() {
            let digits = |s: &[u8], k: usize| {
                s[k.min(s.len())..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count()
            };
            let (ea, eb) = (i + digits(a, i), j + digits(b, j));
            // A numeric segment is newer than a non-numeric one (e.g. "0" > "a").
            let r = (ea != i).cmp(&(eb != j));
            if r != Ordering::Equal {
                return r;
            }
            // Leading zeros do not count: 00123 == 123.
            while at(a, i) == b'0' {
                i += 1;
            }
            while at(b, j) == b'0' {
                j += 1;
            }
            let r = (ea - i).cmp(&(eb - j));
            if r != Ordering::Equal {
                return r;
            }
            let r = a[i..ea].cmp(&b[j..eb]);
            if r != Ordering::Equal {
                return r;
            }
            i = ea;
            j = eb;
        } else {
            let ea = i + a[i.min(a.len())..]
                .iter()
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
            let eb = j + b[j.min(b.len())..]
                .iter()
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
            let n = (ea - i).min(eb - j);
            let r = a[i..i + n].cmp(&b[j..j + n]);
            if r != Ordering::Equal {
                return r;
            }
            let r = (ea - i).cmp(&(eb - j));
            if r != Ordering::Equal {
                return r;
            }
            i = ea;
            j = eb;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering::{Equal, Greater, Less};

    #[test]
    fn orders_like_the_uapi_specification() {
        let cases = [
            ("1", "2", Less),
            ("202603211640", "202603211639", Greater),
            ("1.0", "1.0", Equal),
            ("001", "1", Equal),
            ("1~rc1", "1", Less),
            ("1~rc1", "1~rc2", Less),
            ("1", "1.1", Less),
            ("1-2", "1.1", Less),
            ("1^1", "1", Greater),
            ("1^1", "1.1", Less),
            ("a", "b", Less),
            ("A", "a", Less),
            ("abc", "abcd", Less),
            ("1a", "1", Greater),
            ("1", "1a", Less),
            ("123", "abc", Greater),
            ("0", "a", Greater),
            ("alpha", "0a", Less),
            ("", "1", Less),
            ("_1", "1", Equal),
        ];
        for (a, b, expected) in cases {
            assert_eq!(compare(a, b), expected, "{a} vs {b}");
            assert_eq!(compare(b, a), expected.reverse(), "{b} vs {a}");
        }
    }
}
