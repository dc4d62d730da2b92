//! Hostile mirrors: GET only, trickling bytes, redirects with credentials, replayed and
//! stale signed lists, sizes only the mirror vouches for, `MinVersion=`, retired keys.

use super::*;

/// A system running `RUNNING`, and an HTTP mirror offering `NEW` (unsigned).
struct Remote {
    _dir: tempfile::TempDir,
    system: KdeLinuxRoot,
    server: HttpMirror,
}

fn remote() -> Remote {
    let payload: Vec<u8> = (0..PAYLOAD_BYTES).map(|i| (i % 251) as u8).collect();
    let Built {
        dir,
        system,
        server,
        ..
    } = running_root()
        .offering(NEW, vec![(image(), payload)])
        .build();
    Remote {
        _dir: dir,
        system,
        server: server.expect("the mirror"),
    }
}

#[test]
fn a_mirror_that_answers_get_only_works() {
    for status in [405, 501] {
        let r = remote();
        r.server.refuse_head(status);
        let (ok, _, text) = helper(&r.system.root, &["update"]);
        assert!(
            ok && text.contains(&format!("Installed {NEW}")),
            "HEAD answered {status}: the update must still work, as with systemd-sysupdate:\n{text}"
        );
        let requests = r.server.requests.lock().expect("requests").clone();
        assert!(
            requests
                .iter()
                .any(|(m, n, _)| m == "HEAD" && *n == image()),
            "HEAD was tried first: {requests:?}"
        );
        // A whole update leaves the helper's own files private too.
        assert_eq!(readable_by_others(&r.system.root), Vec::<String>::new());
    }
}

#[test]
fn a_mirror_trickling_bytes_cannot_hold_the_download() {
    let r = remote();
    // One byte every 20 ms: far below the minimum rate, but never a stall.
    r.server.set_fault(&image(), Fault::Trickle(20));
    std::fs::create_dir_all(r.system.root.join("etc/update-center")).expect("mkdir");
    std::fs::write(
        r.system.root.join("etc/update-center/update-center.conf"),
        "[Download]\nStallTimeoutSec=1\nMinRateBytesPerSec=4096\n",
    )
    .expect("settings");
    let (ok, code, text) = helper(&r.system.root, &["update"]);
    assert_ne!(code, Some(124), "the trickle held the helper:\n{text}");
    assert!(!ok, "{text}");
    assert!(text.contains("less than the minimum"), "{text}");
    // Healed, the same update works.
    r.server.clear_faults();
    let (ok, _, text) = helper(&r.system.root, &["update"]);
    assert!(ok, "{text}");
}

#[test]
fn credentials_never_follow_a_redirect_to_another_origin() {
    use update_center_engine::source::fetch::{Fetcher, Location};
    let dir = tempfile::tempdir().expect("tempdir");
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(side)).expect("mkdir");
        std::fs::write(dir.path().join(side).join("SHA256SUMS"), side).expect("file");
    }
    let a = HttpMirror::serve(&dir.path().join("a")).expect("a");
    let b = HttpMirror::serve(&dir.path().join("b")).expect("b");
    a.set_fault(
        "SHA256SUMS",
        Fault::Redirect(format!("{}SHA256SUMS", b.url)),
    );
    let fetcher = Fetcher::new().with_credentials(&a.url, "ops", "PASSWORD");
    let bytes = fetcher
        .get(&Location::Http(a.url.clone()), "SHA256SUMS", 1024)
        .expect("followed")
        .expect("found");
    assert_eq!(bytes, b"b");
    let seen_a = a.requests.lock().expect("a").clone();
    let seen_b = b.requests.lock().expect("b").clone();
    assert!(seen_a.iter().all(|(_, _, auth)| *auth), "{seen_a:?}");
    assert!(
        !seen_b.is_empty() && seen_b.iter().all(|(_, _, auth)| !auth),
        "{seen_b:?}"
    );
    // Credentials for plain http to another machine are never used at all.
    let plain = Fetcher::new().with_credentials("http://mirror.example/", "ops", "PASSWORD");
    let _ = plain.get(&Location::Http(b.url.clone()), "SHA256SUMS", 1024);
    assert!(
        b.requests
            .lock()
            .expect("b")
            .iter()
            .all(|(_, _, auth)| !auth)
    );
}

/// A signed mirror whose key was made `key_age_days` ago.
struct Signed {
    _dir: tempfile::TempDir,
    system: KdeLinuxRoot,
    mirror_dir: PathBuf,
    key: GpgKey,
}

fn signed(key_age_days: i64) -> Signed {
    let key = GpgKey::generate_days_ago(
        KeyKind::Ed25519,
        "KDE Linux <kde@example.org>",
        key_age_days,
    )
    .expect("key");
    let Built {
        dir,
        system,
        mirror_dir,
        key,
        ..
    } = Setup::new()
        .only(RUNNING)
        .offering_versions(
            [
                MirrorVersion::complete(RUNNING),
                MirrorVersion::complete(NEW),
            ],
            Images::Plain,
        )
        .signed_by(key)
        .local_source("/media/usb/kde-linux")
        .build();
    Signed {
        _dir: dir,
        system,
        mirror_dir,
        key: key.expect("the key"),
    }
}

impl Signed {
    fn sign_days_ago(&self, days: i64) {
        self.key
            .sign_detached_days_ago(
                &self.mirror_dir.join("SHA256SUMS"),
                &self.mirror_dir.join("SHA256SUMS.gpg"),
                days,
            )
            .expect("sign");
    }
}

#[test]
fn a_replayed_older_signed_list_is_refused() {
    let s = signed(20);
    s.sign_days_ago(1);
    let (ok, _, text) = helper(&s.system.root, &["check"]);
    assert!(
        ok && text.contains(&format!("Update available: {NEW}")),
        "{text}"
    );
    // The mirror serves the list it signed five days ago again.
    s.sign_days_ago(5);
    let (ok, _, text) = helper(&s.system.root, &["check"]);
    assert!(!ok, "a replayed list must be refused:\n{text}");
    assert!(text.contains("older than the one seen"), "{text}");
    // A newer list is welcome.
    s.sign_days_ago(0);
    let (ok, _, text) = helper(&s.system.root, &["check"]);
    assert!(ok, "{text}");
    let record = s.system.root.join("var/lib/update-center/freshness.json");
    let mode = std::fs::metadata(&record)
        .expect("record")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_source_that_stopped_publishing_is_reported_without_blocking() {
    let s = signed(60);
    s.sign_days_ago(40);
    let (ok, _, text) = helper(&s.system.root, &["check"]);
    assert!(ok, "a stale source is reported, not refused:\n{text}");
    assert!(text.contains("40 days old"), "{text}");
    s.sign_days_ago(2);
    let (ok, _, text) = helper(&s.system.root, &["check"]);
    assert!(ok && !text.contains("days old"), "{text}");
}

#[test]
fn the_planner_removes_no_version_first_for_a_size_only_the_mirror_vouches_for() {
    use update_center_engine::source::catalog;
    use update_center_engine::source::fetch::FileSizes;
    use update_center_engine::update::plan::{self, Facts, PlanError};
    let s = stick();
    s.system.set_instances_max(2).expect("retention");
    let layout = update_center_engine::installed::inventory::Layout::detect(
        &s.system.root,
        Some(Path::new("/efi")),
        None,
        true,
    );
    let state = update_center_engine::read_system(&layout).expect("state");
    let catalog = catalog::check(
        &state.definitions,
        &state.inventory,
        &layout.root,
        &update_center_engine::source::fetch::Fetcher::new(),
    )
    .expect("catalog");
    let installed_image = state
        .inventory
        .versions
        .iter()
        .flat_map(|v| &v.instances)
        .filter(|i| i.transfer == "50-root-x86-64-erofs")
        .map(|i| i.size_bytes)
        .max()
        .expect("an installed image");
    let plan_with = |claimed: u64, available: u64| {
        let size_of = |offer: &catalog::Offer| {
            Some(if offer.transfer == "50-root-x86-64-erofs" {
                FileSizes {
                    download: claimed,
                    installed: claimed,
                }
            } else {
                FileSizes {
                    download: 100,
                    installed: 100,
                }
            })
        };
        // One file system, with `available` bytes free; every installed file is 1 GB.
        let file_system_of = |_: &PathBuf| Some((1, available));
        let installed_size = |_: &PathBuf| 1_000_000_000;
        plan::make(
            &state,
            &catalog,
            &layout,
            None,
            &Facts {
                size_of: &size_of,
                file_system_of: &file_system_of,
                installed_size: &installed_size,
            },
        )
    };
    // A plausible size that fits only once OLD is gone: OLD goes first.
    let plausible = installed_image + 4096;
    let p = plan_with(plausible, plausible / 2).expect("plan");
    assert!(p.needs_room_first());
    assert_eq!(p.removals.len(), 1);
    assert_eq!(p.removals[0].version, OLD);
    // An inflated size (the mirror's HEAD is not signed): no version is removed for it.
    let inflated = installed_image * 2 + 65 * 1024 * 1024;
    match plan_with(inflated, inflated / 2) {
        Err(PlanError::ImplausibleSize { claimed_bytes, .. }) => {
            assert_eq!(claimed_bytes, inflated)
        }
        other => panic!("expected ImplausibleSize, got {other:?}"),
    }
    // With room to spare, the inflated size costs nothing up front either: the download
    // fails on its hash or length before any removal.
    let p = plan_with(inflated, inflated * 4).expect("plan");
    assert!(!p.needs_room_first());
}

#[test]
fn a_version_below_min_version_is_not_installed_even_by_name() {
    let s = stick();
    let definition = s
        .system
        .root
        .join("usr/lib/sysupdate.d/50-root-x86-64-erofs.transfer");
    let text = std::fs::read_to_string(&definition).expect("definition");
    std::fs::write(
        &definition,
        text.replace("[Transfer]\n", "[Transfer]\nMinVersion=202611300000\n"),
    )
    .expect("definition");
    let (ok, _, text) = helper(&s.system.root, &["update", NEW]);
    assert!(!ok, "{text}");
    assert!(text.contains("MinVersion"), "{text}");
    assert!(
        !s.system
            .root
            .join(format!("system/kde-linux_{NEW}_root-x86-64.erofs"))
            .exists()
    );
}

#[test]
fn a_retired_signing_key_signs_nothing_even_with_a_backdated_signature() {
    use openpgp::cert::prelude::*;
    use openpgp::policy::StandardPolicy;
    use openpgp::serialize::stream::{Message, Signer};
    use openpgp::types::ReasonForRevocation;
    use sequoia_openpgp as openpgp;
    use std::io::Write;
    use std::time::{Duration, SystemTime};
    let day = Duration::from_secs(86_400);
    let now = SystemTime::now();
    let policy = StandardPolicy::new();
    let (cert, _) = CertBuilder::new()
        .set_creation_time(now - 20 * day)
        .add_userid("KDE Linux <kde@example.org>")
        .add_signing_subkey()
        .generate()
        .expect("cert");
    let data = b"0123  kde-linux_1.efi\n";
    // A signature the holder of the retired key backdates to before the retirement.
    let sign = |cert: &Cert| {
        let keypair = cert
            .keys()
            .with_policy(&policy, now - 10 * day)
            .secret()
            .for_signing()
            .next()
            .expect("signing key")
            .key()
            .clone()
            .into_keypair()
            .expect("keypair");
        let mut sink = Vec::new();
        let message = Message::new(&mut sink);
        let mut signer = Signer::new(message, keypair)
            .expect("signer")
            .detached()
            .creation_time(now - 10 * day)
            .build()
            .expect("build");
        signer.write_all(data).expect("write");
        signer.finalize().expect("finalize");
        sink
    };
    let signature = sign(&cert);
    let public = |cert: &Cert| vec![cert.clone().strip_secret_key_material()];
    assert!(
        update_center_engine::source::signature::verify_detached(&public(&cert), data, &signature)
            .is_ok(),
        "before the retirement the signature is good"
    );
    // The vendor retires the signing subkey a day ago.
    let mut primary = cert
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .expect("secret")
        .into_keypair()
        .expect("keypair");
    let subkey = cert.keys().subkeys().next().expect("subkey");
    let revocation = SubkeyRevocationBuilder::new()
        .set_reason_for_revocation(ReasonForRevocation::KeyRetired, b"retired")
        .expect("reason")
        .set_signature_creation_time(now - day)
        .expect("time")
        .build(&mut primary, &cert, subkey.key(), None)
        .expect("revocation");
    let (retired, _) = cert.insert_packets(revocation).expect("insert");
    let error = update_center_engine::source::signature::verify_detached(
        &public(&retired),
        data,
        &signature,
    )
    .expect_err("a retired key signs nothing");
    assert!(error.to_string().contains("revoked"), "{error}");
}
