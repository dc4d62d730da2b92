//! Restart slots: a counting semaphore of a group of machines in etcd. A machine takes a slot
//! before it restarts into a new version and gives it back once that version has booted and
//! passed its health checks (or has fallen back). Each slot is a key bound to the holder's
//! lease: a machine that dies holding one frees it when its lease runs out, never later (the
//! lock held forever by a node that is gone is the most reported bug of kured).
//!
//! Keys, under `/update-center/fleet/GROUP/`: `config` (JSON: `{"slots": N}`, written by
//! `update-center-helper fleet slots`; 1 when absent) and `slots/N`, holding the fleet id of
//! the machine in slot N.

use super::etcd::{Compare, Etcd, EtcdError, KeyValue, Op};

/// The most slots a group has (a larger number in etcd counts as this many).
pub const MAX_SLOTS: u32 = 1024;

/// The prefix of a group's keys.
pub fn group_prefix(group: &str) -> String {
    format!("/update-center/fleet/{group}/")
}

/// A group's restart slots.
#[derive(Debug, Clone)]
pub struct Semaphore<'a> {
    etcd: &'a Etcd,
    group: String,
}

/// Who holds a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The slot's number.
    pub slot: u32,
    /// The holder's fleet id.
    pub id: String,
    /// The lease the slot is bound to.
    pub lease: i64,
}

/// A group name: what may stand in a key (letters, digits, `-`, `_`, `.`), 1 to 64 of them.
pub fn valid_group(group: &str) -> bool {
    (1..=64).contains(&group.len())
        && group
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && group != "."
        && group != ".."
}

impl<'a> Semaphore<'a> {
    /// The slots of `group` (see [`valid_group`]).
    pub fn new(etcd: &'a Etcd, group: &str) -> Self {
        Self {
            etcd,
            group: group.to_string(),
        }
    }

    fn slots_prefix(&self) -> String {
        format!("{}slots/", group_prefix(&self.group))
    }

    fn config_key(&self) -> String {
        format!("{}config", group_prefix(&self.group))
    }

    /// How many machines of the group may restart at once.
    pub fn slots(&self) -> Result<u32, EtcdError> {
        let config = self.etcd.get(&self.config_key())?;
        Ok(config
            .and_then(|kv| serde_json::from_str::<serde_json::Value>(&kv.value).ok())
            .and_then(|v| v.get("slots").and_then(serde_json::Value::as_u64))
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(1)
            // A hostile or mistaken record must not make a machine try billions of keys.
            .min(MAX_SLOTS))
    }

    /// Sets how many machines of the group may restart at once (at least 1).
    pub fn set_slots(&self, slots: u32) -> Result<(), EtcdError> {
        self.etcd.put(
            &self.config_key(),
            &serde_json::json!({ "slots": slots.clamp(1, MAX_SLOTS) }).to_string(),
            0,
        )
    }

    /// Who holds which slot now.
    pub fn holders(&self) -> Result<Vec<Holder>, EtcdError> {
        let prefix = self.slots_prefix();
        let (kvs, _) = self.etcd.range_prefix(&prefix, 0)?;
        Ok(holders_of(&prefix, &kvs))
    }

    /// Takes a slot for machine `id` bound to `lease`: the slot it got (or already held), or
    /// `None` when every slot is taken.
    pub fn acquire(&self, id: &str, lease: i64) -> Result<Option<u32>, EtcdError> {
        let held = self.holders()?;
        if let Some(mine) = held.iter().find(|h| h.id == id) {
            return Ok(Some(mine.slot));
        }
        let slots = self.slots()?;
        for slot in 0..slots {
            if held.iter().any(|h| h.slot == slot) {
                continue;
            }
            let key = format!("{}{slot}", self.slots_prefix());
            let put = Op::Put {
                key: key.clone(),
                value: id.to_string(),
                lease,
            };
            if self.etcd.txn(&[Compare::Absent(key)], &[put])? {
                return Ok(Some(slot));
            }
        }
        Ok(None)
    }

    /// Gives back the slot machine `id` holds; whether it held one.
    pub fn release(&self, id: &str) -> Result<bool, EtcdError> {
        let mut released = false;
        for holder in self.holders()?.into_iter().filter(|h| h.id == id) {
            let key = format!("{}{}", self.slots_prefix(), holder.slot);
            released |= self.etcd.txn(
                &[Compare::ValueIs(key.clone(), id.to_string())],
                &[Op::Delete(key)],
            )?;
        }
        Ok(released)
    }
}

/// The holders among the keys under `prefix`.
pub fn holders_of(prefix: &str, kvs: &[KeyValue]) -> Vec<Holder> {
    kvs.iter()
        .filter_map(|kv| {
            let slot = kv.key.strip_prefix(prefix)?.parse().ok()?;
            Some(Holder {
                slot,
                id: kv.value.clone(),
                lease: kv.lease,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_stay_inside_their_keys() {
        assert!(valid_group("gpu-nodes"));
        assert!(valid_group("rack_7.a"));
        for bad in ["", "a/b", "..", ".", "a b", &"x".repeat(65)] {
            assert!(!valid_group(bad), "{bad:?}");
        }
    }

    #[test]
    fn holders_are_read_from_their_keys() {
        let kv = |key: &str, value: &str| KeyValue {
            key: key.into(),
            value: value.into(),
            create_revision: 1,
            mod_revision: 1,
            lease: 7,
        };
        let prefix = "/update-center/fleet/g/slots/";
        let holders = holders_of(
            prefix,
            &[
                kv(&format!("{prefix}0"), "a"),
                kv(&format!("{prefix}x"), "b"),
            ],
        );
        assert_eq!(
            holders,
            [Holder {
                slot: 0,
                id: "a".into(),
                lease: 7
            }]
        );
    }
}
