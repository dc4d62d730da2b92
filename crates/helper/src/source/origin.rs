//! Where a request may go: the origin of a URL (what credentials are bound to) and the
//! redirects the helper follows itself (never from `https` to plain `http`).

/// Most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 5;

/// The origin of a URL: scheme, host (lower case) and port, as browsers compare them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// The host, lower case (an IPv6 address keeps its brackets).
    pub host: String,
    /// The port (the scheme's default when none is written).
    pub port: u16,
}

impl Origin {
    /// The origin of an `http://` or `https://` URL; `None` for anything else, and for a URL
    /// with a user name or password in it.
    pub fn of(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let authority = rest.split(['/', '?', '#']).next()?;
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, port.parse().ok()?),
            _ => (authority, default_port),
        };
        Some(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// Traffic to this origin never leaves the machine.
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// A password may be sent here: over TLS, or to this machine itself.
    pub fn may_carry_password(&self) -> bool {
        self.scheme == "https" || self.is_loopback()
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// The target of a redirect from `from`: an absolute URL, or a path on the same origin.
fn redirect_target(from: &str, location: &str) -> Option<String> {
    if location.starts_with("https://") || location.starts_with("http://") {
        return Some(location.to_string());
    }
    let (scheme, rest) = from.split_once("://")?;
    let authority = rest.split('/').next()?;
    if let Some(path) = location.strip_prefix('/') {
        if path.starts_with('/') {
            return None; // A scheme-relative URL: not followed.
        }
        return Some(format!("{scheme}://{authority}/{path}"));
    }
    let dir = &from[..from.rfind('/')? + 1];
    Some(format!("{dir}{location}"))
}

/// Where a redirect from `from` to `location` leads, or why it is not followed: never from
/// `https` to plain `http` (a network attacker could then read and change what follows), and
/// only to `http(s)` URLs.
pub fn follow_redirect(from: &str, location: &str) -> Result<String, &'static str> {
    let next = redirect_target(from, location).ok_or("not a URL this helper follows")?;
    if from.starts_with("https://") && !next.starts_with("https://") {
        return Err("from https to plain http");
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::{Origin, follow_redirect, redirect_target};

    #[test]
    fn redirects_never_go_from_https_to_http() {
        assert_eq!(
            follow_redirect("https://m.example/a", "http://m.example/a"),
            Err("from https to plain http")
        );
        assert_eq!(
            follow_redirect("https://m.example/a", "https://cdn.example/a").as_deref(),
            Ok("https://cdn.example/a")
        );
        assert_eq!(
            follow_redirect("http://m.example/a", "https://m.example/a").as_deref(),
            Ok("https://m.example/a")
        );
        // Anything but an http(s) URL is a name on the same mirror, never another scheme.
        assert!(
            follow_redirect("https://m.example/a", "file:///etc/shadow")
                .is_ok_and(|u| u.starts_with("https://m.example/"))
        );
    }
    #[test]
    fn origins_compare_scheme_host_and_port() {
        let o = |u: &str| Origin::of(u);
        assert_eq!(
            o("https://Mirror.example/a/b"),
            o("https://mirror.example:443/c")
        );
        assert_ne!(o("https://mirror.example/"), o("http://mirror.example/"));
        assert_ne!(
            o("https://mirror.example/"),
            o("https://mirror.example:8443/")
        );
        assert_ne!(
            o("https://mirror.example/"),
            o("https://mirror.example.evil/")
        );
        assert_eq!(o("https://user:pw@mirror.example/"), None);
        assert_eq!(o("ftp://mirror.example/"), None);
        assert!(
            o("http://127.0.0.1:8080/")
                .expect("origin")
                .may_carry_password()
        );
        assert!(
            o("http://[::1]:8080/")
                .expect("origin")
                .may_carry_password()
        );
        assert!(
            !o("http://mirror.example/")
                .expect("origin")
                .may_carry_password()
        );
        assert!(
            o("https://mirror.example/")
                .expect("origin")
                .may_carry_password()
        );
    }

    #[test]
    fn redirect_targets_resolve_against_the_request() {
        let from = "https://m.example/v2/SHA256SUMS";
        assert_eq!(
            redirect_target(from, "/other/x").as_deref(),
            Some("https://m.example/other/x")
        );
        assert_eq!(
            redirect_target(from, "x.gpg").as_deref(),
            Some("https://m.example/v2/x.gpg")
        );
        assert_eq!(
            redirect_target(from, "http://evil.example/").as_deref(),
            Some("http://evil.example/")
        );
        assert_eq!(redirect_target(from, "//evil.example/x"), None);
    }
}
