//! Deltas as the update path: a system running an EROFS image made as KDE Linux makes them,
//! with its casync index beside it, updates to a new image of which 5 % of the files changed.
//! The mirror is nginx (or a server that ignores `Range`), the chunk store beside the images,
//! in a folder on a stick, or absent. What was fetched is read from nginx's log, the result is
//! judged by `testbed::judge` (which never asks the helper), and every way a delta can fail ends
//! in a full download with the reason in the history, never in a failed update.

use super::delta::{Pair, pair, run};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use testbed::judge::{Judge, Moment};
use testbed::nginx::Nginx;
use testbed::setup::{Built, Setup};

const OLD: &str = "202611100800";
const NEW: &str = "202611300800";
/// casync's default sizes: small chunks keep the images of these tests small.
const SIZES: &str = "16384:65536:262144";

fn helper() -> Command {
    let mut command = Command::new(testbed::binary("update-center-helper").expect("helper"));
    command.env("SYSTEMD_RELAX_ESP_CHECKS", "1");
    command
}

fn image_name() -> String {
    format!("kde-linux_{NEW}_root-x86-64.erofs")
}

/// Two images and a mirror folder offering the new one: the image, its index, its chunk
/// store (`store/`, beside the images as KDE Linux publishes it) and a UKI.
struct World {
    pair: Pair,
    mirror: PathBuf,
}

fn world(files: usize) -> World {
    let pair = pair(files);
    let mirror = pair.work.join("mirror");
    publish(&pair, &mirror);
    World { pair, mirror }
}

/// Writes the mirror of `pair`'s new image into `mirror`.
fn publish(pair: &Pair, mirror: &Path) {
    std::fs::create_dir_all(mirror).expect("mirror");
    let image = mirror.join(image_name());
    std::fs::copy(&pair.new, &image).expect("image");
    run(helper()
        .args(["chunk", "--chunk-size", SIZES, "--index"])
        .arg(mirror.join(format!("kde-linux_{NEW}_root-x86-64.caibx")))
        .arg("--store")
        .arg(mirror.join("store"))
        .arg(&image));
    std::fs::write(
        mirror.join(format!("kde-linux_{NEW}.efi")),
        format!("MZ UKI stand-in {NEW}\n"),
    )
    .expect("uki");
    testbed::mirror::write_sums(mirror).expect("sums");
}

/// A system running OLD, whose image is the pair's old one with its real index beside it,
/// updating from `url`; `delta_store` is `[Delta] Store=` (None: the default).
fn system(world: &World, url: &str, delta_store: Option<&str>) -> Built {
    let old = world.pair.old.clone();
    let built = Setup::new()
        .only(OLD)
        .prepare_system(move |system| {
            let image = system.root.join(format!("system/kde-linux_{OLD}.erofs"));
            std::fs::copy(&old, &image).expect("old image");
            run(helper()
                .args(["chunk", "--chunk-size", SIZES, "--index"])
                .arg(
                    system
                        .root
                        .join(format!("system/kde-linux_{OLD}.erofs.caibx")),
                )
                .arg(&image));
        })
        .build();
    built.system.use_source(url, false).expect("source");
    if let Some(store) = delta_store {
        let conf = built
            .system
            .root
            .join("etc/update-center/update-center.conf");
        std::fs::create_dir_all(conf.parent().expect("parent")).expect("etc");
        std::fs::write(conf, format!("[Delta]\nStore={store}\n")).expect("settings");
    }
    built
}

/// What `update --json` printed, line by line, and whether it succeeded.
struct Updated {
    events: Vec<serde_json::Value>,
    stderr: String,
    ok: bool,
}

impl Updated {
    fn event(&self, name: &str) -> &serde_json::Value {
        self.events
            .iter()
            .find(|e| e["event"] == name)
            .unwrap_or_else(|| panic!("no {name} event in {:?}; {}", self.events, self.stderr))
    }

    /// The last event called `name`.
    fn last(&self, name: &str) -> &serde_json::Value {
        self.events
            .iter()
            .rfind(|e| e["event"] == name)
            .unwrap_or_else(|| panic!("no {name} event in {:?}; {}", self.events, self.stderr))
    }

    /// The plan's prediction for the image (None: no delta was predicted).
    fn predicted(&self) -> Option<u64> {
        self.event("plan")["plan"]["files"]
            .as_array()
            .expect("files")
            .iter()
            .find(|f| f["final_name"] == format!("kde-linux_{NEW}.erofs"))
            .and_then(|f| f["delta"]["to_fetch_bytes"].as_u64())
    }
}

fn update(root: &Path) -> Updated {
    let output = helper()
        .args(["update", "--json", "--root"])
        .arg(root)
        .output()
        .expect("update");
    Updated {
        events: String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        ok: output.status.success(),
    }
}

/// The history's `fetched` record of the new image.
fn fetched_record(root: &Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(root.join("var/lib/update-center/history.jsonl")).expect("history");
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .rfind(|r| r["event"] == "fetched")
        .unwrap_or_else(|| panic!("no fetched record in {text}"))
}

/// The chunk sizes of an index, by id (hex).
pub(crate) fn chunk_sizes(index: &[u8]) -> BTreeMap<String, u64> {
    let mut start = 0;
    index[64..index.len() - 40]
        .chunks(40)
        .map(|item| {
            let end = u64::from_le_bytes(item[..8].try_into().expect("8 bytes"));
            let size = end - start;
            start = end;
            let id: String = item[8..].iter().map(|b| format!("{b:02x}")).collect();
            (id, size)
        })
        .collect()
}

/// Ids of the chunks nginx sent whole from the store.
fn store_ids(requests: &[(u64, u16, String)]) -> Vec<String> {
    requests
        .iter()
        .filter(|(bytes, status, path)| *status == 200 && *bytes > 0 && path.contains("/store/"))
        .filter_map(|(_, _, path)| {
            path.rsplit('/')
                .next()
                .and_then(|n| n.strip_suffix(".cacnk"))
                .map(str::to_string)
        })
        .collect()
}

/// What the judge finds wrong, the helper's own report included.
fn judged(judge: &Judge, root: &Path, moment: Moment) -> Vec<String> {
    let mut problems = judge.verdict(root, moment);
    let output = helper()
        .args(["inspect", "--json", "--root"])
        .arg(root)
        .output()
        .expect("inspect");
    match serde_json::from_slice(&output.stdout) {
        Ok(report) => problems.extend(judge.judge_report(root, &report)),
        Err(e) => problems.push(format!("inspect printed no JSON: {e}")),
    }
    problems
}

/// The new version is installed whole (by the judge) and its image is the new image.
fn assert_installed(world: &World, built: &Built, judge: &Judge) {
    let root = &built.system.root;
    assert_eq!(judged(judge, root, Moment::Settled), Vec::<String>::new());
    let complete = judge.complete(root).expect("judge");
    assert!(complete.contains(NEW), "{complete:?}");
    assert!(
        std::fs::read(root.join(format!("system/kde-linux_{NEW}.erofs"))).expect("image")
            == std::fs::read(&world.pair.new).expect("new"),
        "the installed image is not the new image"
    );
    let partial = root.join("var/lib/update-center/partial");
    let left: Vec<_> = std::fs::read_dir(&partial)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left in the cache: {left:?}");
}

fn judge_of(world: &World, built: &Built) -> Judge {
    Judge::new(&built.system.root, &[&world.mirror.join("SHA256SUMS")]).expect("judge")
}

#[test]
fn an_update_fetches_only_the_changed_chunks_from_the_store_beside_the_images() {
    let world = world(600);
    let nginx = Nginx::serve(&world.mirror).expect("nginx");
    let built = system(&world, &nginx.url, None);
    let root = &built.system.root;
    let judge = judge_of(&world, &built);
    let image_bytes = std::fs::metadata(&world.pair.new).expect("new").len();

    let check: serde_json::Value =
        serde_json::from_str(&run(helper().args(["check", "--json", "--root"]).arg(root)))
            .expect("check JSON");
    let offer = &check["offer"];
    let (download, whole) = (
        offer["download_bytes"].as_u64().expect("download_bytes"),
        offer["image_bytes"].as_u64().expect("image_bytes"),
    );
    assert!(whole > image_bytes, "{offer}");
    assert!(
        download < image_bytes / 5,
        "5 % of the files changed; the offer says {download} of {whole} bytes: {offer}"
    );
    nginx.take_requests().expect("log");

    let updated = update(root);
    assert!(updated.ok, "{}", updated.stderr);
    let requests = nginx.take_requests().expect("log");
    assert!(
        !requests
            .iter()
            .any(|(bytes, _, p)| *bytes > 0 && p.ends_with(".erofs")),
        "the image itself was requested: {requests:?}"
    );
    let sizes = chunk_sizes(
        &std::fs::read(
            world
                .mirror
                .join(format!("kde-linux_{NEW}_root-x86-64.caibx")),
        )
        .expect("index"),
    );
    let ids = store_ids(&requests);
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a chunk was fetched twice");
    let fetched: u64 = unique.iter().map(|id| sizes[*id]).sum();
    let predicted = updated.predicted().expect("a delta was predicted");
    assert!(
        fetched.abs_diff(predicted) * 100 <= predicted,
        "predicted {predicted} bytes, fetched {fetched}"
    );
    assert!(fetched > 0 && fetched < image_bytes / 5, "{fetched}");
    assert_eq!(updated.last("method")["delta"], true);
    assert_eq!(
        updated.event("plan")["plan"]["fetch_bytes"].as_u64(),
        Some(download),
        "the offer and the plan disagree"
    );

    let record = fetched_record(root);
    assert!(
        record["seed_bytes"].as_u64().expect("seed") > image_bytes / 2,
        "{record}"
    );
    assert!(
        record["store_bytes"].as_u64().expect("store") > 0,
        "{record}"
    );
    assert_eq!(record["range_bytes"], 0, "{record}");
    assert_eq!(record["full_bytes"], 0, "{record}");
    assert_eq!(record["fallback"], "", "{record}");
    assert_installed(&world, &built, &judge);
}

#[test]
fn without_a_store_the_changed_chunks_come_as_range_requests() {
    let world = world(500);
    let nginx = Nginx::serve(&world.mirror).expect("nginx");
    let built = system(&world, &nginx.url, Some("ranges"));
    let judge = judge_of(&world, &built);
    let image_bytes = std::fs::metadata(&world.pair.new).expect("new").len();
    nginx.take_requests().expect("log");
    let updated = update(&built.system.root);
    assert!(updated.ok, "{}", updated.stderr);
    let requests = nginx.take_requests().expect("log");
    assert!(store_ids(&requests).is_empty(), "{requests:?}");
    let image: Vec<_> = requests
        .iter()
        .filter(|(bytes, _, p)| *bytes > 0 && p.ends_with(&image_name()))
        .collect();
    assert!(!image.is_empty());
    assert!(
        image.iter().all(|(_, status, _)| *status == 206),
        "{image:?}"
    );
    let sent: u64 = image.iter().map(|(bytes, _, _)| bytes).sum();
    assert!(sent < image_bytes / 5, "{sent} of {image_bytes} bytes");
    let record = fetched_record(&built.system.root);
    assert_eq!(record["range_bytes"].as_u64(), Some(sent), "{record}");
    assert_eq!(record["full_bytes"], 0, "{record}");
    assert_installed(&world, &built, &judge);
}

#[test]
fn a_store_on_a_stick_serves_the_chunks_and_the_mirror_sends_none() {
    let world = world(500);
    let nginx = Nginx::serve(&world.mirror).expect("nginx");
    let built = system(&world, &nginx.url, Some("/media/stick/store"));
    let stick = built.system.root.join("media/stick");
    std::fs::create_dir_all(&stick).expect("stick");
    run(Command::new("cp")
        .arg("-a")
        .arg(world.mirror.join("store"))
        .arg(&stick));
    let judge = judge_of(&world, &built);
    nginx.take_requests().expect("log");
    let updated = update(&built.system.root);
    assert!(updated.ok, "{}", updated.stderr);
    let requests = nginx.take_requests().expect("log");
    assert!(
        !requests.iter().any(
            |(bytes, _, p)| *bytes > 0 && (p.contains("/store/") || p.ends_with(&image_name()))
        ),
        "{requests:?}"
    );
    let record = fetched_record(&built.system.root);
    assert!(
        record["store_bytes"].as_u64().expect("store") > 0,
        "{record}"
    );
    assert_eq!(record["fallback"], "", "{record}");
    assert_installed(&world, &built, &judge);
}

mod failures;
