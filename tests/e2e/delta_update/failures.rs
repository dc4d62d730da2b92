//! Deltas that fail, are killed, limited or cancelled: every way ends in a whole image or a
//! delta by other means, the invariants hold, and no chunk is fetched twice.

use super::*;

/// A copy of the world's mirror, changed by `change`, in a new folder.
fn changed_mirror(world: &World, name: &str, change: impl FnOnce(&Path)) -> PathBuf {
    let mirror = world.pair.work.join(name);
    run(Command::new("cp").arg("-a").arg(&world.mirror).arg(&mirror));
    change(&mirror);
    testbed::mirror::write_sums(&mirror).expect("sums");
    mirror
}

/// A chunk of the new image that the old one lacks, by its path in the store.
fn new_chunk(world: &World, mirror: &Path) -> PathBuf {
    let old = chunk_sizes(
        &std::fs::read(world.pair.work.join("old.caibx")).unwrap_or_else(|_| {
            run(helper()
                .args(["chunk", "--chunk-size", SIZES, "--index"])
                .arg(world.pair.work.join("old.caibx"))
                .arg(&world.pair.old));
            std::fs::read(world.pair.work.join("old.caibx")).expect("old index")
        }),
    );
    let new = chunk_sizes(
        &std::fs::read(mirror.join(format!("kde-linux_{NEW}_root-x86-64.caibx"))).expect("index"),
    );
    let id = new
        .keys()
        .find(|id| !old.contains_key(*id))
        .expect("a changed chunk");
    mirror
        .join("store")
        .join(&id[..4])
        .join(format!("{id}.cacnk"))
}

#[test]
fn every_way_a_delta_fails_ends_in_a_whole_image_or_a_delta_by_other_means() {
    let world = world(400);
    struct Case {
        name: &'static str,
        mirror: PathBuf,
        store: Option<&'static str>,
        no_ranges: bool,
        corrupt_seed: bool,
        delta: bool,
        says: &'static [&'static str],
        /// The kind of `fallback_details` (one of `FALLBACK_KINDS`; empty for a delta).
        kind: &'static str,
    }
    let no_store = changed_mirror(&world, "no-store", |m| {
        std::fs::remove_dir_all(m.join("store")).expect("no store");
    });
    let corrupt_chunk = changed_mirror(&world, "corrupt-chunk", |m| {
        let chunk = new_chunk(&world, m);
        std::fs::write(chunk, b"\x28\xb5\x2f\xfd not a chunk").expect("corrupt");
    });
    let missing_chunk = changed_mirror(&world, "missing-chunk", |m| {
        std::fs::remove_file(new_chunk(&world, m)).expect("missing");
    });
    let bad_index = changed_mirror(&world, "bad-index", |m| {
        std::fs::write(
            m.join(format!("kde-linux_{NEW}_root-x86-64.caibx")),
            b"caibx? no",
        )
        .expect("bad index");
    });
    let cases = [
        Case {
            name: "a store that answers 404: range requests",
            mirror: no_store.clone(),
            store: None,
            no_ranges: false,
            corrupt_seed: false,
            delta: true,
            says: &["is not in the store"],
            kind: "",
        },
        Case {
            name: "no store and a server that ignores Range: the whole image",
            mirror: no_store,
            store: None,
            no_ranges: true,
            corrupt_seed: false,
            delta: false,
            says: &["is not in the store", "does not answer range requests"],
            kind: "ranges",
        },
        Case {
            name: "a corrupt chunk in the store: range requests for the rest",
            mirror: corrupt_chunk,
            store: None,
            no_ranges: false,
            corrupt_seed: false,
            delta: true,
            says: &["damaged"],
            kind: "",
        },
        Case {
            name: "a missing chunk: range requests for the rest",
            mirror: missing_chunk,
            store: None,
            no_ranges: false,
            corrupt_seed: false,
            delta: true,
            says: &["is not in the store"],
            kind: "",
        },
        Case {
            name: "an index that does not read: the whole image",
            mirror: bad_index,
            store: None,
            no_ranges: false,
            corrupt_seed: false,
            delta: false,
            says: &["chunk index cannot be read"],
            kind: "index",
        },
        Case {
            name: "a corrupt installed image: its bad chunks are fetched",
            mirror: world.mirror.clone(),
            store: None,
            no_ranges: false,
            corrupt_seed: true,
            delta: true,
            says: &[],
            kind: "",
        },
        Case {
            name: "deltas off: the whole image",
            mirror: world.mirror.clone(),
            store: Some("off"),
            no_ranges: false,
            corrupt_seed: false,
            delta: false,
            says: &["deltas are off"],
            kind: "off",
        },
    ];
    let mut failures = Vec::new();
    for case in cases {
        // nginx honours ranges; the test's own server can refuse them.
        let (nginx, http);
        let url = if case.no_ranges {
            http = testbed::mirror::HttpMirror::serve(&case.mirror).expect("serve");
            http.set_fault(&image_name(), testbed::mirror::Fault::NoRanges);
            http.url.clone()
        } else {
            nginx = Nginx::serve(&case.mirror).expect("nginx");
            nginx.url.clone()
        };
        let built = system(&world, &url, case.store);
        if case.corrupt_seed {
            let image = built
                .system
                .root
                .join(format!("system/kde-linux_{OLD}.erofs"));
            let mut bytes = std::fs::read(&image).expect("old");
            let middle = bytes.len() / 2;
            for b in &mut bytes[middle..middle + 64] {
                *b ^= 0x5a;
            }
            std::fs::write(&image, bytes).expect("corrupt the seed");
        }
        let judge =
            Judge::new(&built.system.root, &[&case.mirror.join("SHA256SUMS")]).expect("judge");
        let updated = update(&built.system.root);
        if !updated.ok {
            failures.push(format!(
                "{}: the update failed: {}",
                case.name, updated.stderr
            ));
            continue;
        }
        let record = fetched_record(&built.system.root);
        let fallback = record["fallback"].as_str().unwrap_or_default();
        let whole = record["full_bytes"].as_u64().unwrap_or_default() > 0;
        if whole == case.delta {
            failures.push(format!(
                "{}: delta expected {}: {record}",
                case.name, case.delta
            ));
        }
        if updated.last("method")["delta"] != case.delta {
            failures.push(format!(
                "{}: the progress said {}",
                case.name,
                updated.last("method")
            ));
        }
        let kind = record["fallback_details"]["kind"]
            .as_str()
            .unwrap_or_default();
        if kind != case.kind {
            failures.push(format!(
                "{}: the fallback's kind is {kind:?}, not {:?}: {record}",
                case.name, case.kind
            ));
        }
        if let Some((_, fields)) = update_center_client::FALLBACK_KINDS
            .iter()
            .find(|(k, _)| *k == kind)
        {
            for field in fields.iter() {
                if record["fallback_details"]["fields"][field]
                    .as_str()
                    .is_none_or(str::is_empty)
                {
                    failures.push(format!("{}: no {field} in {record}", case.name));
                }
            }
        }
        for words in case.says {
            if !fallback.contains(words) {
                failures.push(format!(
                    "{}: the history does not say {words:?}: {record}",
                    case.name
                ));
            }
        }
        let problems = judged(&judge, &built.system.root, Moment::Settled);
        if !problems.is_empty()
            || !judge
                .complete(&built.system.root)
                .expect("judge")
                .contains(NEW)
        {
            failures.push(format!("{}: {problems:?}", case.name));
        }
        if std::fs::read(
            built
                .system
                .root
                .join(format!("system/kde-linux_{NEW}.erofs")),
        )
        .expect("image")
            != std::fs::read(&world.pair.new).expect("new")
        {
            failures.push(format!(
                "{}: the installed image is not the new image",
                case.name
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn fifty_kills_during_delta_updates_keep_the_invariants_and_fetch_no_chunk_twice() {
    const KILLS: usize = 50;
    const WORKERS: usize = 8;
    let world = world(500);
    // A slow mirror: each chunk takes a while, so that kills land while chunks are fetched.
    let nginx = Nginx::serve_limited(&world.mirror, Some("96k")).expect("nginx");
    let mut built = system(&world, &nginx.url, None);
    let mut judge = judge_of(&world, &built);
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let (mut kills, mut kills_this_round, mut whole_rounds) = (0, 0, 0);
    // Kills after which a rebuild was under way (its file in the cache).
    let mut during_delta = 0;
    let mut failures = Vec::new();
    // Ends a round: the new version is whole, and no chunk came twice but those in flight
    // at the kills of this round.
    let finish = |built: &Built, judge: &Judge, kills: usize, failures: &mut Vec<String>| {
        let ids = store_ids(&nginx.take_requests().expect("log"));
        let again = ids.len() - ids.iter().collect::<BTreeSet<_>>().len();
        if again > kills * WORKERS {
            failures.push(format!("{again} chunks fetched again after {kills} kills"));
        }
        let problems = judged(judge, &built.system.root, Moment::Settled);
        if !problems.is_empty() {
            failures.push(format!("after the round: {problems:?}"));
        }
        match judge.complete(&built.system.root) {
            Ok(complete) if complete.contains(NEW) => {}
            other => failures.push(format!("{NEW} is not whole after the round: {other:?}")),
        }
    };
    nginx.take_requests().expect("log");
    while kills < KILLS {
        let mut child = helper()
            .args(["update", "--root"])
            .arg(&built.system.root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("update");
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let after = std::time::Duration::from_millis(30 + state % 400);
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                if !status.success() {
                    failures.push("an update between kills failed".into());
                }
                finish(&built, &judge, kills_this_round, &mut failures);
                kills_this_round = 0;
                whole_rounds += 1;
                built = system(&world, &nginx.url, None);
                judge = judge_of(&world, &built);
                break;
            }
            if started.elapsed() >= after {
                child.kill().expect("kill -9");
                child.wait().expect("reaped");
                kills += 1;
                kills_this_round += 1;
                let cache = built.system.root.join("var/lib/update-center/partial");
                if std::fs::read_dir(&cache).is_ok_and(|d| {
                    d.flatten()
                        .any(|e| e.file_name().to_string_lossy().ends_with(".delta"))
                }) {
                    during_delta += 1;
                }
                let problems = judged(&judge, &built.system.root, Moment::AfterCrash);
                if !problems.is_empty() {
                    failures.push(format!("after kill {kills}: {problems:?}"));
                }
                break;
            }
            std::thread::yield_now();
        }
    }
    let last = update(&built.system.root);
    if !last.ok {
        failures.push(format!("the last update failed: {}", last.stderr));
    }
    finish(&built, &judge, kills_this_round, &mut failures);
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        whole_rounds < KILLS / 2 && during_delta >= KILLS / 2,
        "{whole_rounds} rounds ended between kills, {during_delta} kills found a rebuild under way: the kills came too late"
    );
}

#[test]
fn the_bandwidth_limit_holds_for_range_requests() {
    let world = world(500);
    let nginx = Nginx::serve(&world.mirror).expect("nginx");
    let built = system(&world, &nginx.url, Some("ranges"));
    nginx.take_requests().expect("log");
    let limit: u64 = 300_000;
    let started = std::time::Instant::now();
    let output = helper()
        .args(["update", "--max-rate", &limit.to_string(), "--root"])
        .arg(&built.system.root)
        .output()
        .expect("update");
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sent: u64 = nginx
        .take_requests()
        .expect("log")
        .iter()
        .filter(|(_, status, _)| *status == 206)
        .map(|(bytes, _, _)| bytes)
        .sum();
    assert!(sent > limit, "too little fetched to measure: {sent} bytes");
    assert!(
        sent as f64 / elapsed <= limit as f64 * 1.05,
        "{sent} bytes of ranges in {elapsed:.2} s over a limit of {limit} B/s"
    );
}

#[test]
fn a_cancelled_delta_keeps_its_chunks_and_the_next_run_fetches_only_the_rest() {
    let world = world(500);
    let nginx = Nginx::serve_limited(&world.mirror, Some("64k")).expect("nginx");
    let built = system(&world, &nginx.url, None);
    let judge = judge_of(&world, &built);
    let root = &built.system.root;
    nginx.take_requests().expect("log");
    let mut child = helper()
        .args(["update", "--root"])
        .arg(root)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("update");
    // Cancelled (SIGINT, as Ctrl+C) once the rebuild has written a chunk it fetched.
    let cache = root.join("var/lib/update-center/partial");
    let chunk_fetched = || {
        nginx
            .take_requests()
            .map(|r| store_ids(&r).len())
            .unwrap_or(0)
    };
    let mut before_cancel = 0;
    while before_cancel == 0 {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the update ended first"
        );
        before_cancel += chunk_fetched();
        std::thread::yield_now();
    }
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::INT,
    )
    .expect("SIGINT");
    let output = child.wait_with_output().expect("ended");
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("cancelled"), "{err}");
    before_cancel += chunk_fetched();
    let kept: Vec<_> = std::fs::read_dir(&cache)
        .expect("cache")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".delta"))
        .collect();
    assert_eq!(kept.len(), 1, "the rebuild is kept for the next run");
    assert_eq!(judged(&judge, root, Moment::Settled), Vec::<String>::new());

    let updated = update(root);
    assert!(updated.ok, "{}", updated.stderr);
    let after: Vec<String> = store_ids(&nginx.take_requests().expect("log"));
    let record = fetched_record(root);
    assert!(record["seed_bytes"].as_u64().expect("seed") > 0, "{record}");
    // Chunks fetched before the cancel come again only when they were in flight.
    let sizes = chunk_sizes(
        &std::fs::read(
            world
                .mirror
                .join(format!("kde-linux_{NEW}_root-x86-64.caibx")),
        )
        .expect("index"),
    );
    let distinct: BTreeSet<&String> = after.iter().collect();
    assert!(distinct.iter().all(|id| sizes.contains_key(*id)));
    let old =
        std::fs::read(root.join(format!("system/kde-linux_{OLD}.erofs.caibx"))).expect("old index");
    let old = chunk_sizes(&old);
    let total_needed = sizes.keys().filter(|id| !old.contains_key(*id)).count();
    assert!(
        after.len() <= total_needed - before_cancel + 8,
        "{} chunks fetched after the cancel; {before_cancel} before, {total_needed} needed",
        after.len()
    );
    assert_installed(&world, &built, &judge);
}
