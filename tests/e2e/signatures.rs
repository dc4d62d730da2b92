//! Signatures made by GnuPG, checked by the engine: good Ed25519 and RSA signatures are
//! accepted; missing, corrupt, wrong-key, expired-key and altered ones are refused, each with
//! its own error. Then the same through `update-center-helper check` against a real HTTP mirror.

use std::path::Path;
use std::process::Command;
use testbed::gpg::{GpgKey, KeyKind};
use testbed::mirror::{HttpMirror, MirrorVersion};
use testbed::setup::Setup;
use testbed::system::Images;
use update_center_engine::source::signature::{SignatureError, parse_keyring, verify_detached};

struct Signed {
    _dir: tempfile::TempDir,
    data: Vec<u8>,
    signature: Vec<u8>,
}

fn signed_by(key: &GpgKey) -> Signed {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_path = dir.path().join("SHA256SUMS");
    std::fs::write(&data_path, format!("{}  kde-linux_1.efi\n", "a".repeat(64))).expect("write");
    let sig_path = dir.path().join("SHA256SUMS.gpg");
    key.sign_detached(&data_path, &sig_path).expect("sign");
    Signed {
        data: std::fs::read(&data_path).expect("read"),
        signature: std::fs::read(&sig_path).expect("read"),
        _dir: dir,
    }
}

fn keyring(key: &GpgKey) -> Vec<sequoia_openpgp::Cert> {
    parse_keyring(&key.public_keyring().expect("export")).expect("keyring")
}

#[test]
fn good_ed25519_and_rsa_signatures_are_accepted() {
    for kind in [KeyKind::Ed25519, KeyKind::Rsa] {
        let key = GpgKey::generate(kind, "Test Signing Key <sign@example.org>").expect("key");
        let signed = signed_by(&key);
        let certs = keyring(&key);
        let good = verify_detached(&certs, &signed.data, &signed.signature)
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(good.cert_fingerprint, certs[0].fingerprint().to_string());
    }
}

#[test]
fn a_signature_by_a_key_outside_the_keyring_is_refused() {
    let signer = GpgKey::generate(KeyKind::Ed25519, "Mallory <m@example.org>").expect("key");
    let trusted = GpgKey::generate(KeyKind::Ed25519, "Distribution <d@example.org>").expect("key");
    let signed = signed_by(&signer);
    let error =
        verify_detached(&keyring(&trusted), &signed.data, &signed.signature).expect_err("refused");
    assert!(matches!(error, SignatureError::UnknownKey(_)), "{error:?}");
}

#[test]
fn an_altered_file_is_refused() {
    let key = GpgKey::generate(KeyKind::Ed25519, "Distribution <d@example.org>").expect("key");
    let mut signed = signed_by(&key);
    signed.data[0] = b'b';
    let error =
        verify_detached(&keyring(&key), &signed.data, &signed.signature).expect_err("refused");
    assert_eq!(error, SignatureError::Mismatch);
}

#[test]
fn a_corrupt_signature_is_refused() {
    let key = GpgKey::generate(KeyKind::Rsa, "Distribution <d@example.org>").expect("key");
    let signed = signed_by(&key);
    for garbage in [
        b"not a signature at all".to_vec(),
        signed.signature[..signed.signature.len() / 2].to_vec(),
        Vec::new(),
    ] {
        let error = verify_detached(&keyring(&key), &signed.data, &garbage).expect_err("refused");
        assert!(matches!(error, SignatureError::Corrupt(_)), "{error:?}");
    }
}

#[test]
fn a_signature_by_an_expired_key_is_refused() {
    let key = GpgKey::generate_expired(KeyKind::Ed25519, "Old Key <old@example.org>").expect("key");
    let signed = signed_by(&key);
    let error =
        verify_detached(&keyring(&key), &signed.data, &signed.signature).expect_err("refused");
    assert!(
        matches!(error, SignatureError::ExpiredKey { .. }),
        "{error:?}"
    );
}

fn helper_check(root: &Path) -> (bool, String, String) {
    testbed::run(
        Command::new(testbed::binary("update-center-helper").expect("helper"))
            .env("SYSTEMD_RELAX_ESP_CHECKS", "1")
            .args(["check", "--root"])
            .arg(root),
    )
}

/// Every path and size under `dir`, to prove that a failed check changed nothing.
fn tree(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("list").flatten() {
            let path = entry.path();
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(path.clone());
            }
            out.push((path.display().to_string(), meta.len()));
        }
    }
    out.sort();
    out
}

/// 202611200930 installed and running, the keyring installed; the mirror offers it and
/// 202611251200, its list signed.
fn signed_mirror_setup() -> Setup {
    let key = GpgKey::generate(KeyKind::Ed25519, "KDE Linux <kde-linux@example.org>").expect("key");
    Setup::new()
        .only("202611200930")
        .offering_versions(
            [
                MirrorVersion::complete("202611200930"),
                MirrorVersion::complete("202611251200"),
            ],
            Images::Plain,
        )
        .signed_by(key)
}

#[test]
fn check_over_http_finds_the_signed_candidate() {
    let setup = signed_mirror_setup().build();
    let (ok, out, err) = helper_check(&setup.system.root);
    assert!(ok, "{err}");
    assert!(out.contains("Update available: 202611251200"), "{out}");
    assert!(out.contains("signed by"), "{out}");
}

#[test]
fn check_refuses_a_tampered_list_and_changes_nothing() {
    let setup = signed_mirror_setup()
        .prepare_mirror(|mirror_dir| {
            let sums = mirror_dir.join("SHA256SUMS");
            let text = std::fs::read_to_string(&sums).expect("read");
            std::fs::write(&sums, text.replacen('0', "1", 1)).expect("tamper");
        })
        .build();
    let server = setup.server();
    let before = tree(&setup.system.root);
    let (ok, _, err) = helper_check(&setup.system.root);
    assert!(!ok);
    assert!(
        err.contains(&server.url) && err.contains("does not match SHA256SUMS"),
        "{err}"
    );
    assert_eq!(tree(&setup.system.root), before);
}

/// Removes the list's signature from the mirror.
fn unsign(mirror_dir: &Path) {
    std::fs::remove_file(mirror_dir.join("SHA256SUMS.gpg")).expect("remove");
}

#[test]
fn check_refuses_a_mirror_without_signature() {
    let setup = signed_mirror_setup().prepare_mirror(unsign).build();
    let (ok, _, err) = helper_check(&setup.system.root);
    assert!(!ok);
    assert!(
        err.contains("offers no signature (SHA256SUMS.gpg)"),
        "{err}"
    );
}

#[test]
fn verify_no_is_reported_as_unverified() {
    let setup = signed_mirror_setup()
        .prepare_mirror(unsign)
        .verify(false)
        .build();
    let (ok, out, err) = helper_check(&setup.system.root);
    assert!(ok, "{err}");
    assert!(out.contains("UNVERIFIED (Verify=no)"), "{out}");
}

#[test]
fn a_mirror_that_is_down_gives_an_error_with_its_url() {
    let mut setup = signed_mirror_setup().build();
    let url = setup.server().url.clone();
    // The server is gone: nothing listens on its port any more.
    drop(setup.server.take());
    let before = tree(&setup.system.root);
    let (ok, _, err) = helper_check(&setup.system.root);
    assert!(!ok);
    assert!(
        err.contains(&format!("cannot reach {url}SHA256SUMS")),
        "{err}"
    );
    assert_eq!(tree(&setup.system.root), before);
}

#[test]
fn a_local_folder_works_for_air_gapped_machines() {
    let setup = signed_mirror_setup()
        .local_source("/media/usb/kde-linux")
        .build();
    let (ok, out, err) = helper_check(&setup.system.root);
    assert!(ok, "{err}");
    assert!(out.contains("/media/usb/kde-linux  signed by"), "{out}");
    assert!(out.contains("Update available: 202611251200"), "{out}");
}

#[test]
fn a_mirror_that_never_answers_times_out_with_its_url() {
    use update_center_engine::source::fetch::{FetchError, Fetcher, Location};
    // Accepts connections and never answers a byte.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let url = format!(
        "http://127.0.0.1:{}/",
        listener.local_addr().expect("address").port()
    );
    let fetcher = Fetcher::with_timeouts(
        std::time::Duration::from_secs(2),
        std::time::Duration::from_secs(1),
    );
    let error = fetcher
        .get(&Location::Http(url.clone()), "SHA256SUMS", 1024)
        .expect_err("times out");
    match error {
        FetchError::Unreachable {
            url: failed,
            reason,
        } => {
            assert_eq!(failed, format!("{url}SHA256SUMS"));
            assert!(
                reason.to_lowercase().contains("timeout")
                    || reason.to_lowercase().contains("timed out"),
                "{reason}"
            );
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    drop(listener);
}

#[test]
fn an_oversized_list_is_refused_with_its_url() {
    use update_center_engine::source::fetch::{FetchError, Fetcher, Location};
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("SHA256SUMS"), vec![b'a'; 5000]).expect("write");
    let server = HttpMirror::serve(dir.path()).expect("serve");
    let error = Fetcher::new()
        .get(&Location::Http(server.url.clone()), "SHA256SUMS", 4096)
        .expect_err("too large");
    assert_eq!(
        error,
        FetchError::TooLarge {
            url: format!("{}SHA256SUMS", server.url),
            max_bytes: 4096
        }
    );
}
