//! Compressed payloads (`.xz`, `.gz`, `.zst`, made by the real xz, gzip and zstd tools) on a
//! real HTTP mirror on 127.0.0.1: each is verified as downloaded, unpacked into its target and
//! sized before anything is written; the result equals what systemd-sysupdate 257 installs from
//! the same mirror; files that lie about their format or their size are refused and change
//! nothing.

use std::path::Path;
use std::process::Command;
use testbed::mirror;
use testbed::setup::Built;
use testbed::system::installed_files;

const NEW: &str = "202611250800";
const PAYLOAD_BYTES: usize = 3 * 1024 * 1024;
const TRANSFER: &str = "usr/lib/sysupdate.d/50-root-x86-64-erofs.transfer";

fn payload() -> Vec<u8> {
    (0..PAYLOAD_BYTES).map(|i| ((i * 7) % 253) as u8).collect()
}

/// A system with two versions, and a mirror offering a third whose image is compressed by
/// `compress` (a command line, the file's name appended) into a file with `suffix`.
fn setup(compress: &[&str], suffix: &str) -> Built {
    let image = format!("kde-linux_{NEW}_root-x86-64.erofs");
    let compress: Vec<String> = compress.iter().map(|c| c.to_string()).collect();
    let compressed = format!("{image}{suffix}");
    let built = testbed::setup::Setup::new()
        .offering(NEW, vec![(image.clone(), payload())])
        .prepare_mirror(move |mirror_dir| {
            let status = Command::new(&compress[0])
                .args(&compress[1..])
                .arg(mirror_dir.join(&image))
                .status()
                .expect("run the compressor");
            assert!(status.success(), "{compress:?}");
            let _ = std::fs::remove_file(mirror_dir.join(&image));
            assert!(mirror_dir.join(&compressed).exists());
            mirror::write_sums(mirror_dir).expect("sums");
        })
        .build();
    let transfer = built.system.root.join(TRANSFER);
    let text = std::fs::read_to_string(&transfer).expect("transfer");
    let source = "MatchPattern=kde-linux_@v_root-x86-64.erofs\n";
    assert!(text.contains(source));
    std::fs::write(
        &transfer,
        text.replace(
            source,
            &format!("MatchPattern=kde-linux_@v_root-x86-64.erofs{suffix}\n"),
        ),
    )
    .expect("write");
    built
}

/// Files left in the download cache and hidden temporaries in the target directories.
fn leftovers(root: &Path) -> Vec<String> {
    ["var/lib/update-center/partial", "system", "efi/EFI/Linux"]
        .iter()
        .filter_map(|dir| std::fs::read_dir(root.join(dir)).ok())
        .flat_map(|entries| entries.flatten())
        .map(|e| e.path().display().to_string())
        .filter(|p| p.contains("/partial/") || p.contains(".#update-center."))
        .collect()
}

fn installs_unpacked(compress: &[&str], suffix: &str, kind: &str) {
    let s = setup(compress, suffix);
    let (ok, out, err) = testbed::offline(&s.system.root, &["update", "--json"]);
    assert!(ok, "{suffix}: {err}");
    let plan: serde_json::Value = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "plan")
        .expect("a plan event")["plan"]
        .clone();
    let image = plan["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["compression"] == kind)
        .unwrap_or_else(|| panic!("{suffix}: the plan names the compression: {plan}"))
        .clone();
    assert_eq!(image["size_bytes"], PAYLOAD_BYTES as u64, "{image}");
    assert!(
        image["download_bytes"].as_u64() < Some(PAYLOAD_BYTES as u64 / 2),
        "{image}"
    );
    let installed = s.system.root.join(format!("system/kde-linux_{NEW}.erofs"));
    assert!(
        std::fs::read(&installed).expect("installed") == payload(),
        "{suffix}: the installed image is the unpacked payload"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&installed).expect("meta").permissions(),
    );
    assert_eq!(mode & 0o222, 0, "ReadOnly=yes holds for unpacked files");
    assert!(leftovers(&s.system.root).is_empty(), "{suffix}");
}

#[test]
fn an_xz_image_in_several_blocks_is_unpacked_into_its_target() {
    installs_unpacked(&["xz", "-T2", "--block-size=1MiB"], ".xz", "xz");
}

#[test]
fn a_gzip_image_is_unpacked_into_its_target() {
    installs_unpacked(&["gzip", "-1"], ".gz", "gzip");
}

#[test]
fn a_zstd_image_is_unpacked_into_its_target() {
    installs_unpacked(&["zstd", "-q", "--rm", "-1"], ".zst", "zstd");
}

#[test]
fn the_unpacked_files_equal_those_systemd_sysupdate_installs() {
    let ours = setup(&["xz", "-T2", "--block-size=1MiB"], ".xz");
    let theirs = setup(&["xz", "-T2", "--block-size=1MiB"], ".xz");
    let (ok, _, err) = testbed::offline(&ours.system.root, &["update"]);
    assert!(ok, "{err}");
    testbed::oracle::run(&theirs.system.root, &["update"]);
    let new = |root: &Path| -> Vec<(String, u64, String, u32)> {
        installed_files(root)
            .into_iter()
            .filter(|f| f.0.contains(NEW))
            .collect()
    };
    let mine = new(&ours.system.root);
    assert_eq!(mine.len(), 3, "{mine:?}");
    assert_eq!(mine, new(&theirs.system.root));
}

/// Runs an update that must be refused with `expected`, leaving nothing behind.
fn refused(s: &Built, expected: &str) {
    let before = installed_files(&s.system.root);
    let (ok, _, err) = testbed::offline(&s.system.root, &["update"]);
    assert!(!ok, "the update must fail");
    assert!(err.contains(expected), "expected `{expected}` in:\n{err}");
    assert!(
        err.contains(&s.server().url),
        "the error names the URL:\n{err}"
    );
    assert_eq!(installed_files(&s.system.root), before, "nothing changed");
    assert!(leftovers(&s.system.root).is_empty());
}

#[test]
fn a_gzip_file_that_unpacks_to_more_than_it_says_is_refused() {
    // Two gzip members: the trailer of the last one records only its own size.
    let s = setup(&["gzip", "-1"], ".gz");
    let image = s
        .server()
        .dir
        .join(format!("kde-linux_{NEW}_root-x86-64.erofs.gz"));
    let mut bytes = std::fs::read(&image).expect("read");
    let mut small = gzip_member(b"a little more");
    bytes.append(&mut small);
    std::fs::write(&image, bytes).expect("write");
    mirror::write_sums(&s.server().dir).expect("sums");
    refused(&s, "unpacks to more than");
}

#[test]
fn a_file_named_xz_that_is_not_xz_is_refused_before_any_download() {
    let s = setup(&["gzip", "-1"], ".gz");
    let dir = &s.server().dir;
    let gz = dir.join(format!("kde-linux_{NEW}_root-x86-64.erofs.gz"));
    std::fs::rename(&gz, gz.with_extension("xz")).expect("rename");
    mirror::write_sums(dir).expect("sums");
    let transfer = s.system.root.join(TRANSFER);
    let text = std::fs::read_to_string(&transfer).expect("transfer");
    std::fs::write(&transfer, text.replace(".erofs.gz", ".erofs.xz")).expect("write");
    refused(&s, "named .xz but does not start like one");
}

/// One gzip member, made by the real gzip.
fn gzip_member(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(data)
        .expect("write");
    child.wait_with_output().expect("gzip").stdout
}
