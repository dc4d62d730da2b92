//! The GUI under Xvfb, through the same entry point as `cargo xtask demo --screenshot`: the
//! window must render the demo system with the Kirigami/Breeze style, print no QML warning, and
//! say so when the helper is not running instead of hanging.

use std::path::{Path, PathBuf};
use std::process::Command;

const WIDTH: u32 = 1024;
const HEIGHT: u32 = 640;

/// A screenshot the demo wrote, and what it printed.
struct Shot {
    _dir: tempfile::TempDir,
    file: PathBuf,
    stderr: String,
}

/// Runs `update-center-demo FLAGS --screenshot FILE`; the demo must succeed (it fails by itself
/// on any QML warning).
fn screenshot(flags: &[&str]) -> Shot {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("shot.png");
    let output = Command::new(testbed::binary("update-center-demo").expect("demo binary"))
        .args(flags)
        .arg("--screenshot")
        .arg(&file)
        .output()
        .expect("run update-center-demo");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "the demo failed:\n{stderr}");
    Shot {
        _dir: dir,
        file,
        stderr,
    }
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(file: &Path) -> (u32, u32) {
    let bytes = std::fs::read(file).expect("read PNG");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// RGB pixels of an image (decoded by ImageMagick).
fn pixels(file: &Path) -> Vec<[u8; 3]> {
    let output = Command::new("convert")
        .arg(file)
        .args(["-depth", "8", "rgb:-"])
        .output()
        .expect("convert");
    assert!(output.status.success());
    output
        .stdout
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect()
}

struct Colours {
    distinct: usize,
    /// Clearly green pixels (the "Running" badge).
    green: usize,
    /// Clearly red pixels (an error message).
    red: usize,
}

fn colours(file: &Path) -> Colours {
    let pixels = pixels(file);
    let mut distinct: Vec<[u8; 3]> = pixels.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let rgb = |p: &[u8; 3]| (i32::from(p[0]), i32::from(p[1]), i32::from(p[2]));
    let count = |keep: fn(i32, i32, i32) -> bool| {
        pixels
            .iter()
            .filter(|p| {
                let (r, g, b) = rgb(p);
                keep(r, g, b)
            })
            .count()
    };
    Colours {
        distinct: distinct.len(),
        green: count(|r, g, b| g > r + 80 && g > b + 40),
        // Breeze's negative red; its orange (a warning badge) has far more green.
        red: count(|r, g, b| r > g + 100 && r > b + 80 && g < 100),
    }
}

#[test]
fn the_demo_renders_the_versions_with_the_running_badge() {
    let run = screenshot(&["--page", "versions"]);
    let file = &run.file;
    assert!(!run.stderr.contains("QML"), "{}", run.stderr);
    assert_eq!(png_size(file), (WIDTH, HEIGHT));
    let c = colours(file);
    assert!(
        c.distinct > 20,
        "the screenshot is blank ({} colours)",
        c.distinct
    );
    assert!(
        c.green > 30,
        "no Running badge in the screenshot ({} green pixels)",
        c.green
    );
    assert!(
        c.red < 10,
        "an error is shown ({} red pixels):\n{}",
        c.red,
        run.stderr
    );
}

#[test]
fn without_the_helper_the_gui_says_it_is_not_running() {
    let run = screenshot(&["--no-helper"]);
    let file = &run.file;
    assert!(
        run.stderr
            .contains("The Update Center service (org.kde.UpdateCenter1) is not running"),
        "{}",
        run.stderr
    );
    let c = colours(file);
    assert!(
        c.red > 200,
        "no error message on screen ({} red pixels)",
        c.red
    );
    assert!(c.green < 10, "a version is shown although nothing answered");
}

#[test]
fn qml_warnings_are_recognised_in_the_log() {
    let log: Vec<String> = [
        "qt.qpa.xcb: could not connect to display",
        "qrc:/qt/qml/org/kde/updatecenter/qml/Main.qml:12:5: ReferenceError: foo is not defined",
        "file:///usr/lib/qml/Foo.qml:3: TypeError: Cannot read property 'x' of null",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(testbed::process::qml_problems(&log), log[1..].to_vec());
}

#[test]
fn ignored_legacy_definitions_are_shown_as_a_warning() {
    let run = screenshot(&["--legacy-conf", "--page", "versions"]);
    let file = &run.file;
    let pixels = pixels(file);
    // Breeze's neutral (warning) colour is orange: strong red, medium green, little blue.
    let orange = pixels
        .iter()
        .filter(|p| p[0] > 200 && (90..190).contains(&p[1]) && p[2] < 80)
        .count();
    assert!(
        orange > 100,
        "no warning message on screen ({orange} orange pixels)"
    );
    let c = colours(file);
    assert!(c.green > 30, "the versions are still listed");
}

#[test]
fn the_overview_shows_each_state_of_the_demo() {
    let states = [
        (&["--prepare", "check"][..], "card available"),
        (&["--prepare", "install"][..], "card restart"),
        (&["--prepare", "fallback"][..], "card unchecked"),
        (&["--prepare", "downloading"][..], "card progress"),
        (&["--prepare", "error"][..], "card unchecked"),
        // The update failed: the offer stays, the reason above it.
        (&["--prepare", "failed-update"][..], "card available"),
        // Before the first check the overview says that nothing is known yet.
        (&[][..], "card unchecked"),
        // Without the helper nothing can be checked: no "Check Now", only "Try Again".
        (&["--no-helper"][..], "card unreachable"),
    ];
    // Every state, in English and German, wide and narrow (Kirigami's mobile layout).
    let mut runs = Vec::new();
    for (flags, card) in states {
        for lang in ["en-US", "de"] {
            for size in ["1280x800", "400x800"] {
                let mut all = flags.to_vec();
                all.extend(["--lang", lang, "--size", size]);
                runs.push((all, card));
            }
        }
    }
    for (flags, card) in runs {
        let flags = &flags[..];
        let run = screenshot(flags);
        assert!(run.stderr.contains(card), "{flags:?}: {}", run.stderr);
        let c = colours(&run.file);
        assert!(c.distinct > 20, "{flags:?}: blank");
        if flags.contains(&"error") || flags.contains(&"failed-update") {
            // The failed check or update is said at the top, in Breeze's warning orange.
            let orange = pixels(&run.file)
                .iter()
                .filter(|p| p[0] > 200 && (90..190).contains(&p[1]) && p[2] < 80)
                .count();
            assert!(
                orange > 100,
                "no message about the failed check ({orange} orange pixels)"
            );
        } else if flags.contains(&"fallback") || flags.contains(&"--no-helper") {
            // The failed boot, or the missing service, is said in red at the top.
            assert!(c.red > 200, "no failed-boot message ({} red pixels)", c.red);
        } else {
            assert!(c.red < 10, "{flags:?}: an error is shown");
        }
    }
}

#[test]
fn the_history_page_lists_what_happened() {
    let run = screenshot(&["--prepare", "install", "--page", "history"]);
    let c = colours(&run.file);
    assert!(c.distinct > 20, "blank");
    assert!(c.red < 10, "an error is shown:\n{}", run.stderr);
}

#[test]
fn every_page_renders_in_english_and_german_wide_and_narrow() {
    for lang in ["en-US", "de"] {
        for size in ["1280x800", "400x800"] {
            for (page, prepare) in [
                ("overview", "check"),
                ("whatsnew", "check"),
                ("versions", "install"),
                ("history", "install"),
                ("settings", "check"),
            ] {
                let run = screenshot(&[
                    "--lang",
                    lang,
                    "--size",
                    size,
                    "--page",
                    page,
                    "--prepare",
                    prepare,
                ]);
                let (w, h) = png_size(&run.file);
                assert_eq!(format!("{w}x{h}"), size);
                let c = colours(&run.file);
                assert!(c.distinct > 20, "{lang} {size} {page}: blank");
                assert!(
                    c.red < 10,
                    "{lang} {size} {page}: an error is shown:\n{}",
                    run.stderr
                );
            }
        }
    }
}

#[test]
fn the_overview_says_what_the_machine_waits_for() {
    // A policy holds the automatic download (a metered connection: "Download anyway" beside
    // it) or the restart into a staged version (outside the maintenance window, a person
    // logged in); below the card, in English and German, wide and narrow.
    let states = [
        (
            "waiting",
            "card available",
            [
                &["a connection that is not metered (this one probably is)"][..],
                &["eine nicht getaktete Verbindung (diese ist wahrscheinlich getaktet)"][..],
            ],
        ),
        (
            "waiting-restart",
            "card restart",
            [
                &[
                    "the next maintenance window, tomorrow at ",
                    "one person to log out (ana)",
                ][..],
                &[
                    "das nächste Wartungsfenster, morgen um ",
                    "die Abmeldung einer angemeldeten Person (ana)",
                ][..],
            ],
        ),
    ];
    for (prepare, card, said) in states {
        for (lang, said) in ["en-US", "de"].into_iter().zip(said) {
            for size in ["1280x800", "400x800"] {
                let flags = ["--prepare", prepare, "--lang", lang, "--size", size];
                let run = screenshot(&flags);
                assert!(run.stderr.contains(card), "{flags:?}: {}", run.stderr);
                let line = run
                    .stderr
                    .lines()
                    .find_map(|l| l.split_once("update-center: waiting for ").map(|(_, w)| w))
                    .unwrap_or_else(|| panic!("{flags:?}: nothing said to wait:\n{}", run.stderr));
                for part in said {
                    assert!(line.contains(part), "{flags:?}: {line}");
                }
                let c = colours(&run.file);
                assert!(c.distinct > 20, "{flags:?}: blank");
                assert!(c.red < 10, "{flags:?}: an error is shown");
            }
        }
    }
}
