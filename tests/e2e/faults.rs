//! A hostile or broken mirror during `update-center-helper update`: each misbehaviour gives an
//! error naming the URL and changes nothing installed, and once the mirror is healthy the next
//! update succeeds. A connection that breaks off mid-file is resumed with a range request in
//! the same run.

use std::path::{Path, PathBuf};
use std::process::Command;
use testbed::mirror::{Fault, HttpMirror};
use testbed::setup::Built;
use testbed::system::KdeLinuxRoot;

const NEW: &str = "202611250800";
const PAYLOAD_BYTES: usize = 3 * 1024 * 1024;

struct Setup {
    built: Built,
    image: String,
}

impl Setup {
    fn server(&self) -> &HttpMirror {
        self.built.server()
    }

    fn system(&self) -> &KdeLinuxRoot {
        &self.built.system
    }
}

/// Versions A and B installed, B running; the mirror offers NEW.
fn setup() -> Setup {
    let image = format!("kde-linux_{NEW}_root-x86-64.erofs");
    let payload: Vec<u8> = (0..PAYLOAD_BYTES).map(|i| (i % 251) as u8).collect();
    let built = testbed::setup::Setup::new()
        .offering(NEW, vec![(image.clone(), payload)])
        .build();
    Setup { built, image }
}

fn update(root: &Path) -> (bool, String) {
    let output = Command::new(testbed::binary("update-center-helper").expect("helper"))
        .args(["update", "--timeout", "2", "--esp", "/efi", "--root"])
        .arg(root)
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

/// Every installed file (not the helper's state), with its size.
fn installed(root: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![root.join("system"), root.join("efi")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("list").flatten() {
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                out.push((entry.path(), meta.len()));
            }
        }
    }
    out.sort();
    out
}

/// Runs an update against the faulty mirror (it must fail naming the file's URL and change
/// nothing), heals the mirror, and updates again (it must succeed).
fn refused_then_healed(fault: Fault, expected: &str) {
    let s = setup();
    s.server().set_fault(&s.image, fault.clone());
    let before = installed(&s.system().root);
    let (ok, text) = update(&s.system().root);
    assert!(!ok, "{fault:?}: the update must fail:\n{text}");
    let url = format!("{}{}", s.server().url, s.image);
    assert!(
        text.contains(&url),
        "{fault:?}: the error names the URL {url}:\n{text}"
    );
    assert!(
        text.contains(expected),
        "{fault:?}: expected `{expected}` in:\n{text}"
    );
    assert_eq!(
        installed(&s.system().root),
        before,
        "{fault:?}: nothing installed may change"
    );
    s.server().clear_faults();
    let (ok, text) = update(&s.system().root);
    assert!(
        ok && text.contains(&format!("Installed {NEW}")),
        "{fault:?}: the healthy mirror must work:\n{text}"
    );
}

#[test]
fn a_file_the_mirror_lists_but_cannot_serve() {
    refused_then_healed(Fault::Status(404), "404");
}

#[test]
fn a_server_error_that_persists() {
    refused_then_healed(Fault::Status(500), "500");
}

#[test]
fn a_truncated_file() {
    refused_then_healed(Fault::Truncate(PAYLOAD_BYTES / 3), "ended after");
}

#[test]
fn a_mirror_that_stalls() {
    refused_then_healed(Fault::Stall, "cannot reach");
}

#[test]
fn a_mirror_that_stops_sending_mid_file_is_given_up_on_and_resumed() {
    let s = setup();
    s.server()
        .set_fault(&s.image, Fault::StallOnceAfter(PAYLOAD_BYTES / 2));
    let (ok, text) = update(&s.system().root);
    assert!(ok, "{text}");
    assert!(text.contains("resuming at byte"), "{text}");
    assert!(
        resumed(&s),
        "the stalled download resumes with a range request"
    );
}

/// Whether a range request asked for the image from a later byte than the first.
fn resumed(s: &Setup) -> bool {
    s.server()
        .ranges
        .lock()
        .expect("ranges")
        .iter()
        .any(|(name, start)| *name == s.image && *start > 0)
}

/// Hidden temporaries of ours left in the target directories.
fn temporaries(root: &Path) -> Vec<String> {
    ["system", "efi/EFI/Linux"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root.join(dir)).expect("list").flatten())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".#update-center."))
        .collect()
}

#[test]
fn an_update_cancelled_mid_download_leaves_no_trace_and_the_next_run_resumes() {
    use std::io::BufRead;
    let s = setup();
    let before = installed(&s.system().root);
    // A slow download, so that the cancel lands in the middle of it.
    let mut child = Command::new(testbed::binary("update-center-helper").expect("helper"))
        .args([
            "update",
            "--json",
            "--max-rate",
            "500000",
            "--esp",
            "/efi",
            "--root",
        ])
        .arg(&s.system().root)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let started = lines.by_ref().map_while(Result::ok).any(|line| {
        let event: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        event["event"] == "download"
            && event["done_bytes"].as_u64() > Some(PAYLOAD_BYTES as u64 / 4)
    });
    assert!(started, "the download reports progress before it ends");
    // The image is the largest file: a quarter of it means it is being downloaded.
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::INT,
    )
    .expect("SIGINT");
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a cancelled update fails");
    assert!(stderr.contains("was cancelled"), "{stderr}");
    assert_eq!(
        installed(&s.system().root),
        before,
        "nothing installed changed"
    );
    assert!(temporaries(&s.system().root).is_empty());
    let history =
        std::fs::read_to_string(s.system().root.join("var/lib/update-center/history.jsonl"))
            .expect("history");
    assert!(history.contains("cancelled"), "{history}");
    let (ok, text) = update(&s.system().root);
    assert!(ok, "{text}");
    assert!(resumed(&s), "the next run resumes the kept bytes");
}

#[test]
fn a_connection_dropped_mid_file_is_resumed_in_the_same_run() {
    let s = setup();
    s.server()
        .set_fault(&s.image, Fault::DropAfter(PAYLOAD_BYTES / 2));
    let (ok, text) = update(&s.system().root);
    assert!(ok, "{text}");
    assert!(text.contains("resuming at byte"), "{text}");
    assert!(
        resumed(&s),
        "a range request must resume the file: {:?}",
        s.server().ranges.lock().expect("ranges")
    );
    let installed_image = s
        .system()
        .root
        .join(format!("system/kde-linux_{NEW}.erofs"));
    assert_eq!(
        std::fs::metadata(installed_image).expect("installed").len(),
        PAYLOAD_BYTES as u64
    );
}

#[test]
fn a_mirror_without_ranges_is_read_again_from_the_start() {
    let s = setup();
    // The resume request is answered with the whole file (200): the download must start over,
    // not append the whole file to the half it has.
    s.server()
        .set_fault(&s.image, Fault::DropThenIgnoreRanges(PAYLOAD_BYTES / 2));
    let (ok, text) = update(&s.system().root);
    assert!(ok, "{text}");
    let installed_image = s
        .system()
        .root
        .join(format!("system/kde-linux_{NEW}.erofs"));
    assert_eq!(
        std::fs::metadata(installed_image).expect("installed").len(),
        PAYLOAD_BYTES as u64
    );
}

#[test]
fn a_download_cut_off_for_good_is_resumed_by_the_next_run() {
    let s = setup();
    s.server()
        .set_fault(&s.image, Fault::DropThenStatus(PAYLOAD_BYTES / 2, 503));
    let before = installed(&s.system().root);
    let (ok, text) = update(&s.system().root);
    assert!(!ok, "the mirror keeps failing: {text}");
    assert!(
        text.contains(&format!("{}{}", s.server().url, s.image)) && text.contains("503"),
        "{text}"
    );
    assert_eq!(
        installed(&s.system().root),
        before,
        "nothing installed changed"
    );
    let kept: Vec<u64> = std::fs::read_dir(s.system().root.join("var/lib/update-center/partial"))
        .expect("a partial download is kept")
        .flatten()
        .map(|e| e.metadata().expect("metadata").len())
        .collect();
    assert!(kept.contains(&((PAYLOAD_BYTES / 2) as u64)), "{kept:?}");
    s.server().clear_faults();
    let (ok, text) = update(&s.system().root);
    assert!(ok, "{text}");
    let ranges = s.server().ranges.lock().expect("ranges").clone();
    assert!(
        ranges.contains(&(s.image.clone(), (PAYLOAD_BYTES / 2) as u64)),
        "the second run asks only for the rest: {ranges:?}"
    );
    let installed_image = s
        .system()
        .root
        .join(format!("system/kde-linux_{NEW}.erofs"));
    let expected: Vec<u8> = (0..PAYLOAD_BYTES).map(|i| (i % 251) as u8).collect();
    assert_eq!(std::fs::read(installed_image).expect("installed"), expected);
}
