//! `[Fleet]`: the restart slots and rollout waves a machine takes part in before it restarts
//! into a staged version by itself (docs/fleets.md). Without `Etcd=` and `FleetLock=` the
//! machine restarts by its own policy alone.

use std::time::Duration;

/// The `[Fleet]` settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FleetSettings {
    /// `Etcd=`: the client URLs of the site's etcd members (`http://host:2379`), tried in
    /// order: restart slots and rollout waves live there.
    pub etcd: Vec<String>,
    /// `FleetLock=`: a FleetLock server (airlock, a Kubernetes FleetLock server) that gives
    /// the restart slots instead of etcd; rollout waves still need `Etcd=`.
    pub fleetlock: Option<String>,
    /// `Group=`: the machines that share slots and waves.
    pub group: String,
    /// `LeaseSec=`: how long a slot outlives a machine that stops renewing it (it must cover a
    /// restart and the health checks after it).
    pub lease: Duration,
}

impl Default for FleetSettings {
    fn default() -> Self {
        Self {
            etcd: Vec::new(),
            fleetlock: None,
            group: "default".into(),
            lease: Duration::from_secs(1800),
        }
    }
}

impl FleetSettings {
    /// Whether the machine takes part in a fleet at all.
    pub fn enabled(&self) -> bool {
        !self.etcd.is_empty() || self.fleetlock.is_some()
    }

    /// The settings keys of this section with their values, in `KEYS` order.
    pub fn values(&self) -> [String; 4] {
        [
            self.etcd.join(","),
            self.fleetlock.clone().unwrap_or_default(),
            self.group.clone(),
            self.lease.as_secs().to_string(),
        ]
    }

    /// Reads `key` of `[Fleet]`; the message says what is allowed.
    pub fn parse(&mut self, key: &str, value: &str) -> Result<(), String> {
        let value = value.trim();
        match key {
            "Etcd" => {
                self.etcd = value
                    .split([',', ' '])
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .map(|u| url(u).map(|u| u.trim_end_matches('/').to_string()))
                    .collect::<Result<_, _>>()?;
            }
            "FleetLock" => {
                self.fleetlock = match value {
                    "" => None,
                    v => Some(url(v)?.trim_end_matches('/').to_string()),
                };
            }
            "Group" => {
                if !crate::fleet::semaphore::valid_group(value) {
                    return Err(
                        "expected a group name: 1 to 64 letters, digits, '-', '_' or '.'".into(),
                    );
                }
                self.group = value.to_string();
            }
            "LeaseSec" => {
                self.lease = Duration::from_secs(
                    value
                        .parse::<u64>()
                        .ok()
                        .filter(|s| (60..=86_400).contains(s))
                        .ok_or("expected whole seconds from 60 to 86400")?,
                );
            }
            _ => return Err("unknown setting".into()),
        }
        Ok(())
    }
}

/// A server's URL: plain `http://` (etcd's client certificates and TLS are not supported yet,
/// so an `https://` URL is refused rather than half-used).
fn url(text: &str) -> Result<&str, String> {
    let rest = text.strip_prefix("http://").ok_or_else(|| {
        format!("expected http://HOST:PORT, not {text:?} (TLS is not supported yet)")
    })?;
    if rest.is_empty()
        || rest
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#' || c == '@')
    {
        return Err(format!("expected http://HOST:PORT, not {text:?}"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_groups_and_leases_are_read_and_bad_ones_refused() {
        let mut fleet = FleetSettings::default();
        assert!(!fleet.enabled());
        fleet
            .parse("Etcd", "http://10.0.0.1:2379/, http://10.0.0.2:2379")
            .expect("members");
        assert_eq!(fleet.etcd, ["http://10.0.0.1:2379", "http://10.0.0.2:2379"]);
        assert!(fleet.enabled());
        fleet.parse("Group", "gpu-rack.3").expect("group");
        fleet.parse("LeaseSec", "900").expect("lease");
        assert_eq!(fleet.lease, Duration::from_secs(900));
        fleet
            .parse("FleetLock", "http://airlock:3333")
            .expect("fleetlock");
        assert_eq!(
            fleet.values(),
            [
                "http://10.0.0.1:2379,http://10.0.0.2:2379",
                "http://airlock:3333",
                "gpu-rack.3",
                "900"
            ]
        );
        for (key, bad, says) in [
            ("Etcd", "https://10.0.0.1:2379", "TLS is not supported yet"),
            ("Etcd", "10.0.0.1:2379", "expected http://"),
            ("Etcd", "http://user@host:2379", "expected http://"),
            ("FleetLock", "ftp://x", "expected http://"),
            ("Group", "a/b", "group name"),
            ("LeaseSec", "10", "60 to 86400"),
            ("Slots", "2", "unknown"),
        ] {
            let error = fleet.parse(key, bad).expect_err(bad);
            assert!(error.contains(says), "{key}={bad}: {error}");
        }
        fleet.parse("Etcd", "").expect("none");
        fleet.parse("FleetLock", "").expect("none");
        assert!(!fleet.enabled());
    }
}
