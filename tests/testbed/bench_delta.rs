//! `update-center-bench delta`: two versions of a realistic image (a `/usr` tree of Debian
//! packages, the second with a few percent of its files changed, as one daily build differs
//! from the next), EROFS made as KDE Linux makes it, served by nginx. At casync's default chunk
//! sizes and at KDE's 1/2/4 MiB it compares, in one run: the full download (curl), `casync
//! extract --seed` from casync's store, and ours (`update-center-helper extract`) from our
//! store. Bytes fetched are counted by nginx (its access log), never by the tools themselves.

use crate::{Sample, measure, median};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Options {
    tree: PathBuf,
    mb: u64,
    changed_percent: u64,
    runs: usize,
}

fn options() -> Result<Options> {
    let mut o = Options {
        tree: PathBuf::from("/usr"),
        mb: 1024,
        changed_percent: 3,
        runs: 3,
    };
    let mut args = std::env::args().skip(2);
    while let Some(arg) = args.next() {
        let mut value = || args.next().context("a value must follow");
        match arg.as_str() {
            "--tree" => o.tree = PathBuf::from(value()?),
            "--mb" => o.mb = value()?.parse()?,
            "--changed-percent" => o.changed_percent = value()?.parse()?,
            "--runs" => o.runs = value()?.parse()?,
            other => bail!("unknown option `{other}`"),
        }
    }
    Ok(o)
}

/// Regular files under `dir`, sorted, with their sizes.
fn files(dir: &Path, out: &mut Vec<(PathBuf, u64)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            files(&entry.path(), out);
        } else if kind.is_file()
            && let Ok(meta) = entry.metadata()
        {
            out.push((entry.path(), meta.len()));
        }
    }
}

/// Copies the first `mb` MiB of files of `from` into `old`, and into `new` with every
/// `100 / percent`-th file changed (its bytes rotated and a version line appended, as an
/// upgraded package changes its files).
fn trees(from: &Path, mb: u64, percent: u64, old: &Path, new: &Path) -> Result<(u64, u64)> {
    let mut all = Vec::new();
    files(from, &mut all);
    let (mut total, mut changed) = (0u64, 0u64);
    let every = (100 / percent.max(1)).max(1) as usize;
    for (n, (path, size)) in all.iter().enumerate() {
        if total >= mb * 1024 * 1024 {
            break;
        }
        let relative = path.strip_prefix(from)?;
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        for (root, change) in [(old, false), (new, n % every == 0)] {
            let target = root.join(relative);
            std::fs::create_dir_all(target.parent().context("parent")?)?;
            if change {
                let mut bytes = bytes.clone();
                let third = bytes.len() / 3;
                bytes.rotate_left(third);
                bytes.extend_from_slice(b"\nversion 2\n");
                std::fs::write(&target, bytes)?;
            } else {
                std::fs::write(&target, &bytes)?;
            }
        }
        total += size;
        if n % every == 0 {
            changed += size;
        }
    }
    Ok((total, changed))
}

fn run(command: &mut Command) -> Result<()> {
    let output = command.output().with_context(|| format!("{command:?}"))?;
    if !output.status.success() {
        bail!("{command:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

/// One row of the table.
struct Row {
    what: String,
    bytes: u64,
    sample: Sample,
}

/// Runs the delta benchmark and prints its table.
pub fn delta() -> Result<()> {
    let o = options()?;
    let helper = testbed::binary("update-center-helper")?;
    let work = tempfile::tempdir_in("/var/tmp").context("a work folder")?;
    let w = work.path();
    let (total, changed) = trees(
        &o.tree,
        o.mb,
        o.changed_percent,
        &w.join("old"),
        &w.join("new"),
    )?;
    println!(
        "tree: {} MB of {} ({} MB in changed files)",
        total / 1_000_000,
        o.tree.display(),
        changed / 1_000_000
    );
    for name in ["old", "new"] {
        testbed::system::kde_linux_erofs(&w.join(name), &w.join(format!("{name}.erofs")))?;
    }
    let image_bytes = std::fs::metadata(w.join("new.erofs"))?.len();
    println!("image: {} MB", image_bytes / 1_000_000);
    let nginx = testbed::nginx::Nginx::serve(w)?;
    let mut rows: Vec<Row> = Vec::new();
    let mut full = Vec::new();
    for _ in 0..o.runs {
        let out = w.join("full.erofs");
        full.push(measure(
            Command::new("curl")
                .args(["-sf", "-o"])
                .arg(&out)
                .arg(format!("{}new.erofs", nginx.url)),
        )?);
        std::fs::remove_file(out)?;
    }
    let (sent, _) = nginx.take_sent()?;
    rows.push(Row {
        what: "full download (curl)".into(),
        bytes: sent / o.runs as u64,
        sample: fold(&full),
    });
    for (label, sizes) in [
        ("casync default 16/64/256 KiB", "16384:65536:262144"),
        ("KDE Linux 1/2/4 MiB", "1048576:2097152:4194304"),
    ] {
        let dir = w.join(sizes.replace(':', "-"));
        std::fs::create_dir_all(&dir)?;
        for name in ["old", "new"] {
            run(Command::new(&helper)
                .args(["chunk", "--chunk-size", sizes, "--index"])
                .arg(dir.join(format!("{name}.ours.caibx")))
                .arg("--store")
                .arg(dir.join("our-store"))
                .arg(w.join(format!("{name}.erofs"))))?;
            run(Command::new("casync")
                .arg("make")
                .arg(format!("--chunk-size={sizes}"))
                .arg(format!("--store={}", dir.join("casync-store").display()))
                .arg(dir.join(format!("{name}.casync.caibx")))
                .arg(w.join(format!("{name}.erofs"))))?;
        }
        let seed = dir.join("old.erofs");
        std::fs::copy(w.join("old.erofs"), &seed)?;
        std::fs::copy(dir.join("old.ours.caibx"), dir.join("old.erofs.caibx"))?;
        let store_url = |store: &str| {
            format!(
                "{}{}/{store}",
                nginx.url,
                dir.file_name().unwrap_or_default().to_string_lossy()
            )
        };
        nginx.take_sent()?;
        let expected = std::fs::read(w.join("new.erofs"))?;
        let mut theirs = Vec::new();
        let mut ours = Vec::new();
        for _ in 0..o.runs {
            let out = dir.join("casync-out.erofs");
            theirs.push(measure(
                Command::new("casync")
                    .arg("extract")
                    .arg(format!("--store={}", store_url("casync-store")))
                    .arg(format!("--seed={}", seed.display()))
                    .arg(dir.join("new.casync.caibx"))
                    .arg(&out),
            )?);
            check(&out, &expected, "casync")?;
        }
        let (casync_sent, _) = nginx.take_sent()?;
        for _ in 0..o.runs {
            let out = dir.join("our-out.erofs");
            ours.push(measure(
                Command::new(&helper)
                    .arg("extract")
                    .arg(dir.join("new.ours.caibx"))
                    .arg(&out)
                    .args(["--store", &store_url("our-store"), "--seed"])
                    .arg(&seed),
            )?);
            check(&out, &expected, "update-center")?;
        }
        let (our_sent, _) = nginx.take_sent()?;
        // No store: merged range requests of the image itself, as with a mirror without one.
        let mut ranges = Vec::new();
        for _ in 0..o.runs {
            let out = dir.join("our-ranges-out.erofs");
            ranges.push(measure(
                Command::new(&helper)
                    .arg("extract")
                    .arg(dir.join("new.ours.caibx"))
                    .arg(&out)
                    .arg("--image-url")
                    .arg(format!("{}new.erofs", nginx.url))
                    .arg("--seed")
                    .arg(&seed),
            )?);
            check(&out, &expected, "update-center (ranges)")?;
        }
        let (ranges_sent, _) = nginx.take_sent()?;
        rows.push(Row {
            what: format!("casync extract --seed, {label}"),
            bytes: casync_sent / o.runs as u64,
            sample: fold(&theirs),
        });
        rows.push(Row {
            what: format!("update-center, {label}"),
            bytes: our_sent / o.runs as u64,
            sample: fold(&ours),
        });
        rows.push(Row {
            what: format!("update-center ranges, {label}"),
            bytes: ranges_sent / o.runs as u64,
            sample: fold(&ranges),
        });
    }
    println!(
        "\n{:<50} {:>12} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "delta (median of runs)",
        "bytes",
        "×casync",
        "wall s",
        "×casync",
        "CPU s",
        "×casync",
        "RSS MB"
    );
    for (i, row) in rows.iter().enumerate() {
        // Each of our rows is compared with the casync row before it.
        let base = if row.what.starts_with("update-center") {
            rows[..i]
                .iter()
                .rev()
                .find(|r| r.what.starts_with("casync"))
        } else {
            None
        };
        let ratio =
            |a: f64, b: f64| base.map_or("".to_string(), |_| format!("{:.2}", a / b.max(1e-9)));
        println!(
            "{:<50} {:>12} {:>8} {:>8.2} {:>8} {:>8.2} {:>8} {:>8.1}",
            row.what,
            row.bytes,
            ratio(row.bytes as f64, base.map_or(1.0, |b| b.bytes as f64)),
            row.sample.wall,
            ratio(row.sample.wall, base.map_or(1.0, |b| b.sample.wall)),
            row.sample.cpu,
            ratio(row.sample.cpu, base.map_or(1.0, |b| b.sample.cpu)),
            row.sample.rss_mb
        );
    }
    Ok(())
}

fn check(out: &Path, expected: &[u8], who: &str) -> Result<()> {
    if std::fs::read(out)? != expected {
        bail!("{who} rebuilt a different image");
    }
    std::fs::remove_file(out)?;
    Ok(())
}

fn fold(samples: &[Sample]) -> Sample {
    Sample {
        wall: median(samples.iter().map(|s| s.wall).collect()),
        cpu: median(samples.iter().map(|s| s.cpu).collect()),
        rss_mb: median(samples.iter().map(|s| s.rss_mb).collect()),
    }
}
