//! Hostile sticks: links to root-only files, FIFOs, device nodes, a folder behind a link,
//! a file swapped for a link between two looks.

use super::*;

pub(super) fn stick() -> Stick {
    let payload: Vec<u8> = (0..PAYLOAD_BYTES).map(|i| (i % 253) as u8).collect();
    let Built {
        dir,
        system,
        mirror_dir: folder,
        ..
    } = running_root()
        .offering(NEW, vec![(image(), payload)])
        .local_source("/media/usb/kde-linux")
        .build();
    let secret = system.root.join("etc/shadow-of-this-root");
    std::fs::write(&secret, format!("root:{MARKER}:20000::::::\n")).expect("secret");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    Stick {
        _dir: dir,
        system,
        folder,
        secret,
    }
}

/// Every file and directory under the helper's state and cache that others could read or
/// write.
pub(super) fn readable_by_others(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![
        root.join("var/lib/update-center"),
        root.join("var/cache/update-center"),
    ];
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.permissions().mode() & 0o077 != 0 {
            found.push(format!(
                "{} {:o}",
                path.display(),
                meta.permissions().mode() & 0o777
            ));
        }
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).expect("list").flatten() {
                stack.push(entry.path());
            }
        }
    }
    found
}

/// The secret is in no file but itself, and the helper's own files are private.
fn nothing_leaked(s: &Stick, text: &str) {
    assert!(
        !text.contains(MARKER),
        "the helper printed the secret:\n{text}"
    );
    let holding = testbed::files_containing(&s.system.root, MARKER);
    assert_eq!(
        holding,
        vec![s.secret.display().to_string()],
        "the secret was copied"
    );
    assert_eq!(readable_by_others(&s.system.root), Vec::<String>::new());
}

/// Replaces the stick's image by `make` (a link, a FIFO, ...) and lists it in `SHA256SUMS`
/// as a hostile stick would (its list is unsigned: `Verify=no`).
fn plant(s: &Stick, make: impl FnOnce(&Path)) {
    let path = s.folder.join(image());
    std::fs::remove_file(&path).expect("remove");
    make(&path);
    let sums = s.folder.join("SHA256SUMS");
    let text = std::fs::read_to_string(&sums).expect("sums");
    let mut text: String = text
        .lines()
        .filter(|l| !l.ends_with(&image()))
        .map(|l| format!("{l}\n"))
        .collect();
    text.push_str(&format!("{}  {}\n", "ab".repeat(32), image()));
    std::fs::write(&sums, text).expect("sums");
}

#[test]
fn a_payload_that_is_a_link_to_a_root_only_file_is_never_read() {
    type Target = Box<dyn Fn(&Stick) -> PathBuf>;
    let links: [(&str, Target); 3] = [
        ("absolute", Box::new(|s: &Stick| s.secret.clone())),
        (
            "relative",
            Box::new(|_: &Stick| PathBuf::from("../../../etc/shadow-of-this-root")),
        ),
        (
            "chain",
            Box::new(|s: &Stick| {
                let hop = s.folder.join("hop");
                std::os::unix::fs::symlink(&s.secret, &hop).expect("hop");
                PathBuf::from("hop")
            }),
        ),
    ];
    for (kind, target) in links {
        let s = stick();
        let target = target(&s);
        plant(&s, |path| {
            std::os::unix::fs::symlink(&target, path).expect("link");
        });
        let (ok, _, text) = helper(&s.system.root, &["update"]);
        assert!(!ok, "{kind}: the update must fail:\n{text}");
        assert!(
            text.contains("symbolic link"),
            "{kind}: the error says why:\n{text}"
        );
        nothing_leaked(&s, &text);
    }
}

#[test]
fn manifests_that_are_links_are_not_read_into_the_cache() {
    let s = stick();
    for version in [RUNNING, NEW] {
        std::os::unix::fs::symlink(
            &s.secret,
            s.folder.join(format!("kde-linux_{version}.manifest")),
        )
        .expect("link");
    }
    let (ok, _, text) = helper(&s.system.root, &["changelog", RUNNING, NEW, "--json"]);
    assert!(ok, "a changelog without package lists still works:\n{text}");
    assert!(text.contains("symbolic link"), "{text}");
    nothing_leaked(&s, &text);
}

#[test]
fn a_fifo_or_a_device_node_is_refused_at_once() {
    let s = stick();
    plant(&s, |path| {
        rustix::fs::mkfifoat(rustix::fs::CWD, path, rustix::fs::Mode::RUSR).expect("fifo");
    });
    let (ok, code, text) = helper(&s.system.root, &["update"]);
    assert_ne!(code, Some(124), "the helper blocked on a FIFO:\n{text}");
    assert!(!ok && text.contains("a FIFO"), "{text}");
    nothing_leaked(&s, &text);

    let s = stick();
    plant(&s, |path| {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            path,
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::RUSR,
            rustix::fs::makedev(1, 3),
        )
        .expect("mknod (the tests run as root)");
    });
    let (ok, code, text) = helper(&s.system.root, &["update"]);
    assert_ne!(code, Some(124), "{text}");
    assert!(!ok && text.contains("a device node"), "{text}");
    nothing_leaked(&s, &text);
}

#[test]
fn a_source_folder_behind_a_link_is_refused() {
    let s = stick();
    // The stick's folder moves elsewhere; the configured path becomes a link to it.
    let real = s.system.root.join("srv/elsewhere");
    std::fs::create_dir_all(real.parent().expect("parent")).expect("mkdir");
    std::fs::rename(&s.folder, &real).expect("move");
    std::os::unix::fs::symlink(&real, &s.folder).expect("link");
    let (ok, _, text) = helper(&s.system.root, &["check"]);
    assert!(!ok, "{text}");
    assert!(text.contains("symbolic link"), "{text}");
}

#[test]
fn a_file_swapped_for_a_link_after_its_size_was_read_is_refused() {
    use std::sync::atomic::AtomicBool;
    use update_center_engine::source::fetch::{FetchError, Fetcher, Location};
    let s = stick();
    let location = Location::Dir {
        root: s.system.root.clone(),
        folder: PathBuf::from("media/usb/kde-linux"),
        shown: "/media/usb/kde-linux".into(),
    };
    let fetcher = Fetcher::new();
    let size = fetcher.size(&location, &image()).expect("size");
    assert_eq!(size, PAYLOAD_BYTES as u64);
    // Between the two looks, the file becomes a link to the secret.
    let path = s.folder.join(image());
    std::fs::remove_file(&path).expect("remove");
    std::os::unix::fs::symlink(&s.secret, &path).expect("link");
    let out_path = s.system.root.join("out");
    let mut out = std::fs::File::create(&out_path).expect("out");
    let error = fetcher
        .download(
            &location,
            &image(),
            &mut out,
            0,
            size,
            &AtomicBool::new(false),
            &mut |_| {},
        )
        .expect_err("refused");
    assert!(
        matches!(&error, FetchError::Local { reason, .. } if reason.contains("symbolic link")),
        "{error:?}"
    );
    assert_eq!(std::fs::read(&out_path).expect("out").len(), 0);
}
