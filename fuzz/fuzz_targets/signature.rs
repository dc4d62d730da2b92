//! OpenPGP signatures of SHA256SUMS from a hostile mirror (first byte 0) and keyrings
//! (first byte 1): never panics; with no keyring nothing verifies; a signature accepted over
//! SHA256SUMS names a key of the certificate that was given and does not verify an altered
//! SHA256SUMS; a keyring that parses holds a certificate, and the fuzz key's own signature is
//! only ever accepted as made by that key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sequoia_openpgp::Cert;
use std::sync::OnceLock;
use update_center_engine::source::signature::{parse_keyring, verify_detached};

/// A throw-away Ed25519 key made with GnuPG for this target (no expiry).
const KEYRING: &str = "\
-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEaw1dzhYJKwYBBAHaRw8BAQdADcJZr2DduRqgA+KK8rfN+ip6/rJ1/rE4mz4E
oHxf1sa0JVVwZGF0ZSBDZW50ZXIgZnV6eiBrZXkgPGZ1enpAaW52YWxpZD6IkAQT
FggAOBYhBPzekwnBIcsMt+nXPFO3lc/La//6BQJrDV3OAhsDBQsJCAcCBhUKCQgL
AgQWAgMBAh4BAheAAAoJEFO3lc/La//6/QEA/RbKDOON7e9xGPKWFJmqckoNDUfc
yI9NM2DxN3oqKlH3AQCj6AE7rsklzQSjN5eFoN5ZsQEsijcR3pDBIfIbL1WnDQ==
=eUcD
-----END PGP PUBLIC KEY BLOCK-----
";

/// The SHA256SUMS that [`SIGNATURE`] signs.
const SUMS: &[u8] = b"\
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  kde-linux_202611260800.efi
bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb  kde-linux_202611260800.erofs
";

/// A detached signature of [`SUMS`] by the key of [`KEYRING`].
const SIGNATURE: &str = "\
-----BEGIN PGP SIGNATURE-----

iIMEABYIACsWIQT83pMJwSHLDLfp1zxTt5XPy2v/+gUCaw1dzg0cZnV6ekBpbnZh
bGlkAAoJEFO3lc/La//68JIA/j+8XBgh5sXZ4TqwQAVfsuHF6iRNW8K+z/V7D4xS
X9l6APwKU//06pObKX+s3ONLijseGcDaw29l0FrezHsp6kP4CQ==
=z65O
-----END PGP SIGNATURE-----
";

struct Fixture {
    certs: Vec<Cert>,
    key: String,
    altered: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let certs = parse_keyring(KEYRING.as_bytes()).expect("the fuzz keyring");
        let good = verify_detached(&certs, SUMS, SIGNATURE.as_bytes()).expect("the fuzz signature");
        let mut altered = SUMS.to_vec();
        altered[0] = b'c';
        Fixture {
            certs,
            key: good.key_fingerprint,
            altered,
        }
    })
}

/// Whether `key` is a (sub)key of the certificate named `cert` in `certs`.
fn key_of(certs: &[Cert], cert: &str, key: &str) -> bool {
    certs.iter().any(|c| {
        c.fingerprint().to_string() == cert
            && c.keys().any(|k| k.key().fingerprint().to_string() == key)
    })
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    match data.split_first() {
        Some((0, signature)) => {
            assert!(verify_detached(&[], SUMS, signature).is_err());
            if let Ok(good) = verify_detached(&fixture.certs, SUMS, signature) {
                assert!(key_of(
                    &fixture.certs,
                    &good.cert_fingerprint,
                    &good.key_fingerprint
                ));
                assert!(verify_detached(&fixture.certs, &fixture.altered, signature).is_err());
            }
        }
        Some((1, keyring)) => {
            if let Ok(certs) = parse_keyring(keyring) {
                assert!(!certs.is_empty());
                if let Ok(good) = verify_detached(&certs, SUMS, SIGNATURE.as_bytes()) {
                    assert!(key_of(
                        &certs,
                        &good.cert_fingerprint,
                        &good.key_fingerprint
                    ));
                    assert_eq!(good.key_fingerprint, fixture.key);
                }
            }
        }
        _ => {}
    }
});
