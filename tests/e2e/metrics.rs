//! Metrics for Prometheus: after an update (a delta fell back to a whole image: the test
//! mirror's indexes are stand-ins) and a failed one, `update-center-helper metrics` writes the
//! textfile that `promtool check metrics` accepts and a real prometheus-node-exporter serves
//! through its textfile collector.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use testbed::mirror::MirrorVersion;
use testbed::setup::Setup;
use testbed::system::{Images, VersionSpec};

const NEW: &str = "202611250800";

fn helper(root: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    testbed::run(
        Command::new(testbed::binary("update-center-helper").expect("helper"))
            .args(args)
            .args(["--esp", "/efi", "--root"])
            .arg(root)
            .env("SYSTEMD_RELAX_ESP_CHECKS", "1"),
    )
}

/// GET `path` from 127.0.0.1:`port`, once something listens there.
fn get(port: u16, path: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut stream = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => break stream,
            Err(e) => {
                assert!(std::time::Instant::now() < deadline, "nothing listens: {e}");
                std::thread::yield_now();
            }
        }
    };
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    answer
}

#[test]
fn the_textfile_passes_promtool_and_node_exporter_serves_it() {
    let built = Setup::new()
        .installed([
            VersionSpec::complete("202611010800"),
            VersionSpec::complete("202611150800"),
        ])
        .booted(Some("202611150800"))
        .offering_versions([MirrorVersion::complete(NEW)], Images::Plain)
        .build();
    let root = &built.system.root;
    // A failure first (the mirror cuts the boot entry off), then the update.
    built.server().set_fault(
        &format!("kde-linux_{NEW}.efi"),
        testbed::mirror::Fault::Truncate(10),
    );
    let (ok, _, _) = helper(root, &["update"]);
    assert!(!ok, "the update failed on a cut-off file");
    built.server().clear_faults();
    let (ok, _, err) = helper(root, &["update"]);
    assert!(ok, "{err}");

    let dir = tempfile::tempdir().expect("textfile dir");
    let (ok, _, err) = helper(
        root,
        &["metrics", "--dir", &dir.path().display().to_string()],
    );
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(dir.path().join("update_center.prom")).expect("textfile");
    assert!(text.contains("update_center_reboot_required 1"), "{text}");
    assert!(
        text.contains(&format!("default=\"{NEW}\"")) && text.contains("running=\"202611150800\""),
        "{text}"
    );
    let full: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("update_center_image_bytes_total{source=\"full\"} "))
        .and_then(|n| n.parse().ok())
        .expect("full bytes");
    assert!(full > 0, "the image came whole: {text}");
    assert!(
        text.lines().any(
            |l| l.starts_with("update_center_failures_total{reason=\"network\"} ")
                && !l.ends_with(" 0")
        ),
        "{text}"
    );

    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    promtool
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("feed");
    let checked = promtool.wait_with_output().expect("promtool");
    assert!(
        checked.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let mut exporter = Command::new("prometheus-node-exporter")
        .args([
            "--collector.disable-defaults",
            "--collector.textfile",
            &format!("--collector.textfile.directory={}", dir.path().display()),
            &format!("--web.listen-address=127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node-exporter");
    let scraped = get(port, "/metrics");
    let _ = exporter.kill();
    let _ = exporter.wait();
    assert!(
        scraped.contains("update_center_reboot_required 1"),
        "{scraped}"
    );
    assert!(
        scraped.contains("node_textfile_scrape_error 0"),
        "node-exporter read the file without error: {scraped}"
    );
}
