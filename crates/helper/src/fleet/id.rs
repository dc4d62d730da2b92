//! The name a machine has in its fleet: `/etc/machine-id` hashed with this application's id,
//! as systemd's `sd_id128_get_machine_app_specific()` does (HMAC-SHA256 keyed with the machine
//! id, over the application id, cut to 128 bits and marked as a version 4 UUID). The raw
//! machine id never leaves the machine: it identifies it to every other program that reads it.

use sha2::{Digest, Sha256};

/// This application's id for `sd_id128_get_machine_app_specific()`.
pub const APP_ID: [u8; 16] = [
    0x6b, 0x3e, 0x1a, 0x57, 0x0c, 0x9d, 0x4f, 0x21, 0x8e, 0x44, 0x2b, 0x7a, 0x91, 0xd0, 0x5c, 0x13,
];

/// Why a machine id cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    /// The file is not 32 hexadecimal digits (and a newline).
    #[error(
        "{0} is not a machine id (32 hexadecimal digits); see machine-id(5), or run systemd-machine-id-setup"
    )]
    Malformed(String),
    /// The id is all zeros or `uninitialized`: the system has not finished its first boot.
    #[error(
        "the machine id is not set yet ({0}); it is written at the end of the first boot (machine-id(5))"
    )]
    Unset(String),
}

/// The fleet name of the machine whose `/etc/machine-id` holds `text`: 32 lowercase hex digits.
pub fn fleet_id(text: &str) -> Result<String, IdError> {
    let raw = text.trim();
    if raw == "uninitialized" || (raw.len() == 32 && raw.bytes().all(|b| b == b'0')) {
        return Err(IdError::Unset(raw.to_string()));
    }
    if raw.len() != 32 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(IdError::Malformed(raw.chars().take(40).collect()));
    }
    let mut key = [0u8; 16];
    for (n, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&raw[2 * n..2 * n + 2], 16)
            .map_err(|_| IdError::Malformed(raw.to_string()))?;
    }
    let mut id: [u8; 16] = hmac_sha256(&key, &APP_ID)[..16]
        .try_into()
        .unwrap_or([0; 16]);
    // A version 4, variant 1 UUID, as systemd marks it.
    id[6] = (id[6] & 0x0f) | 0x40;
    id[8] = (id[8] & 0x3f) | 0x80;
    Ok(crate::fsutil::hex(&id))
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key` (a key up to one block long).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| -> Vec<u8> { block.iter().map(|b| b ^ byte).collect() };
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231, test case 2.
        assert_eq!(
            crate::fsutil::hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_fleet_id_is_stable_hides_the_machine_id_and_is_a_uuid() {
        let machine = "0123456789abcdef0123456789abcdef\n";
        let id = fleet_id(machine).expect("id");
        assert_eq!(id, fleet_id(machine.trim()).expect("id"));
        assert_eq!(id.len(), 32);
        assert!(!id.contains("0123456789abcdef"));
        assert_eq!(&id[12..13], "4", "version 4");
        assert!(matches!(&id[16..17], "8" | "9" | "a" | "b"), "variant 1");
        assert_ne!(
            id,
            fleet_id("0123456789abcdef0123456789abcdee").expect("id")
        );
        // The upper-case spelling of the same id is the same machine.
        assert_eq!(id, fleet_id(&machine.to_uppercase()).expect("id"));
    }

    #[test]
    fn unset_and_malformed_ids_are_refused() {
        assert!(matches!(
            fleet_id("uninitialized\n"),
            Err(IdError::Unset(_))
        ));
        assert!(matches!(
            fleet_id("00000000000000000000000000000000"),
            Err(IdError::Unset(_))
        ));
        assert!(matches!(fleet_id("xyz"), Err(IdError::Malformed(_))));
        assert!(matches!(
            fleet_id("0123456789abcdef0123456789abcdeg"),
            Err(IdError::Malformed(_))
        ));
    }
}
