//! `update-center-bench fleet`: a fleet of lightweight simulated machines (threads of
//! `update-center-helper fleet simulate`, doing what the helper does around a restart) rolls
//! one version through a group on a real three-member etcd on this machine, in waves of a few
//! percent with a few restart slots. The baseline is the ideal schedule: every wave restarting
//! its machines slot-full after slot-full, back to back, with no time lost to asking.

use anyhow::{Context, Result, bail};

struct Options {
    machines: usize,
    slots: u32,
    wave: u8,
    restart_ms: u64,
    poll_ms: u64,
}

fn options() -> Result<Options> {
    let mut o = Options {
        machines: 1000,
        slots: 10,
        wave: 5,
        restart_ms: 1000,
        poll_ms: 2000,
    };
    let mut args = std::env::args().skip(2);
    while let Some(arg) = args.next() {
        let mut value = || args.next().context("a value must follow");
        match arg.as_str() {
            "--machines" => o.machines = value()?.parse()?,
            "--slots" => o.slots = value()?.parse()?,
            "--wave" => o.wave = value()?.parse()?,
            "--restart-ms" => o.restart_ms = value()?.parse()?,
            "--poll-ms" => o.poll_ms = value()?.parse()?,
            other => bail!("unknown option `{other}`"),
        }
    }
    Ok(o)
}

/// The timer of a real machine asks every 15 minutes.
const TIMER_SECS: f64 = 900.0;

pub fn fleet() -> Result<()> {
    let o = options()?;
    let cluster = testbed::etcd::EtcdCluster::start(3)?;
    let output = std::process::Command::new(testbed::binary("update-center-helper")?)
        .args([
            "fleet",
            "--etcd",
            &cluster.endpoint_list(),
            "--group",
            "bench",
        ])
        .args(["simulate", "--machines", &o.machines.to_string()])
        .args([
            "--slots",
            &o.slots.to_string(),
            "--wave",
            &o.wave.to_string(),
        ])
        .args(["--restart-ms", &o.restart_ms.to_string()])
        .args(["--poll-ms", &o.poll_ms.to_string()])
        .output()
        .context("run update-center-helper fleet simulate")?;
    if !output.status.success() {
        bail!(
            "the simulation failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let r: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let num = |key: &str| r[key].as_f64().unwrap_or(0.0);
    let (through, ideal) = (num("roll_through_secs"), num("ideal_secs"));
    let per_decision = num("requests_per_decision");
    println!(
        "fleet: {} machines, {} slots, {} % waves, restarts of {:.1} s, a waiting machine asks every {:.1} s (3-member etcd on 127.0.0.1)",
        o.machines,
        o.slots,
        o.wave,
        o.restart_ms as f64 / 1000.0,
        o.poll_ms as f64 / 1000.0
    );
    println!("| measure | ours | baseline | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| time for the fleet to roll through | {through:.1} s | {ideal:.1} s (ideal schedule) | {:.2} |",
        through / ideal.max(f64::EPSILON)
    );
    println!(
        "| most slots held at once (etcd's history, {} revisions) | {} | {} (the slots) | {:.2} |",
        num("revisions"),
        num("most_slots_held"),
        o.slots,
        num("most_slots_held") / f64::from(o.slots.max(1))
    );
    println!("| etcd requests per decision | {per_decision:.2} | | |");
    println!(
        "| requests per waiting machine per hour (15-minute timer) | {:.1} | | |",
        per_decision * 3600.0 / TIMER_SECS
    );
    println!(
        "| decision latency p50 / p99 | {:.1} / {:.1} ms | | |",
        num("decision_ms_p50"),
        num("decision_ms_p99")
    );
    println!(
        "| decisions / requests in all / errors | {} / {} / {} | | |",
        num("decisions"),
        num("requests_total"),
        num("errors")
    );
    Ok(())
}
