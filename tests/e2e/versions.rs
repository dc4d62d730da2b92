//! The engine's version order against `systemd-analyze compare-versions` (systemd 257) on
//! thousands of generated pairs: realistic shapes (timestamps, dotted releases, `~rc`, `-rel`,
//! `^patch`, letters, leading zeros) and noise characters systemd skips.

use std::cmp::Ordering;
use std::process::Command;
use update_center_engine::format::version::compare;

/// Pairs compared per run.
const PAIRS: usize = 4000;

/// A small deterministic generator (xorshift64*), so that a failure can be reproduced.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn segment(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => format!("{}", rng.below(20)),
        1 => format!("{:0width$}", rng.below(1000), width = rng.below(4) + 1),
        2 => rng
            .pick(&["a", "b", "rc", "alpha", "beta", "A", "Z", "git"])
            .to_string(),
        3 => format!("{}{}", rng.below(10), rng.pick(&["a", "b", "rc1", "x"])),
        4 => format!(
            "2026{:02}{:02}{:02}{:02}",
            rng.below(12) + 1,
            rng.below(28) + 1,
            rng.below(24),
            rng.below(60)
        ),
        _ => String::new(),
    }
}

fn version(rng: &mut Rng) -> String {
    let mut out = segment(rng);
    for _ in 0..rng.below(4) {
        out.push_str(rng.pick(&[".", ".", "-", "~", "^", "_", "+", ","]));
        out.push_str(&segment(rng));
    }
    if out.is_empty() { "0".to_string() } else { out }
}

/// A pair that is often close: the second is a small edit of the first.
fn pair(rng: &mut Rng) -> (String, String) {
    let a = version(rng);
    let b = match rng.below(4) {
        0 => version(rng),
        1 => format!("{a}{}{}", rng.pick(&[".", "~", "-", "^", ""]), segment(rng)),
        2 => a.replacen(
            rng.pick(&["1", "0", "."]),
            rng.pick(&["2", "00", "-", "~"]),
            1,
        ),
        _ => a.clone(),
    };
    (a, b)
}

fn systemd_order(a: &str, b: &str) -> Ordering {
    let output = Command::new("systemd-analyze")
        .args(["compare-versions", "--", a, b])
        .output()
        .expect("systemd-analyze (from the systemd package)");
    let text = String::from_utf8_lossy(&output.stdout);
    let operator = text
        .trim()
        .strip_prefix(a)
        .and_then(|rest| rest.strip_suffix(b))
        .map(str::trim)
        .unwrap_or_else(|| panic!("unexpected output for {a:?} {b:?}: {text:?}"));
    match operator {
        "<" => Ordering::Less,
        "==" => Ordering::Equal,
        ">" => Ordering::Greater,
        other => panic!("unexpected operator {other:?} for {a:?} {b:?}"),
    }
}

#[test]
fn version_order_matches_systemd_analyze() {
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    let pairs: Vec<(String, String)> = (0..PAIRS).map(|_| pair(&mut rng)).collect();
    let kinds = pairs
        .iter()
        .map(|(a, b)| compare(a, b))
        .fold([0usize; 3], |mut acc, o| {
            acc[(o as i8 + 1) as usize] += 1;
            acc
        });
    assert!(
        kinds.iter().all(|k| *k > PAIRS / 20),
        "the generator is lopsided: {kinds:?}"
    );
    let (first, second) = pairs.split_at(PAIRS / 2);
    let check = |chunk: &[(String, String)]| -> Vec<String> {
        chunk
            .iter()
            .filter_map(|(a, b)| {
                let expected = systemd_order(a, b);
                let actual = compare(a, b);
                (expected != actual)
                    .then(|| format!("{a:?} vs {b:?}: systemd {expected:?}, engine {actual:?}"))
            })
            .collect()
    };
    let mismatches: Vec<String> = std::thread::scope(|scope| {
        let other = scope.spawn(|| check(second));
        let mut mine = check(first);
        mine.extend(other.join().expect("thread"));
        mine
    });
    assert!(
        mismatches.is_empty(),
        "{} of {PAIRS} pairs differ:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
