//! Everything the CLI prints besides errors: messages, sizes, the changelog, job phases, the
//! progress bar.

use super::*;

pub fn print_json(value: &serde_json::Value) {
    println!("{value}");
}

pub fn done(json: bool, message: &str) {
    if json {
        print_json(&serde_json::json!({ "ok": true, "message": message }));
    } else {
        println!("{message}");
    }
}

pub fn megabytes(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{:.1} kB", bytes as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", bytes as f64 / 1e6),
        _ => format!("{:.2} GB", bytes as f64 / 1e9),
    }
}

pub fn or_unknown(text: &str) -> &str {
    if text.is_empty() { "(unknown)" } else { text }
}

pub fn print_changelog(log: &serde_json::Value) {
    println!(
        "Changes from {} to {}",
        log["from"].as_str().unwrap_or_default(),
        log["to"].as_str().unwrap_or_default()
    );
    for release in log["releases"].as_array().into_iter().flatten() {
        println!();
        println!(
            "{}{}",
            release["version"].as_str().unwrap_or_default(),
            release["date"]
                .as_str()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        );
        for line in release["description"].as_array().into_iter().flatten() {
            println!("  {}", line.as_str().unwrap_or_default());
        }
    }
    for link in log["links"].as_array().into_iter().flatten() {
        println!("\nFull changelog: {}", link.as_str().unwrap_or_default());
    }
    let packages = &log["packages"];
    if packages.is_object() {
        let count = |k: &str| packages[k].as_array().map_or(0, Vec::len);
        println!(
            "\nPackages: {} upgraded, {} downgraded, {} added, {} removed",
            count("upgraded"),
            count("downgraded"),
            count("added"),
            count("removed")
        );
        for (kind, mark) in [("upgraded", "↑"), ("downgraded", "↓")] {
            for c in packages[kind].as_array().into_iter().flatten() {
                println!(
                    "  {mark} {} {} → {}",
                    c["name"].as_str().unwrap_or_default(),
                    c["from"].as_str().unwrap_or_default(),
                    c["to"].as_str().unwrap_or_default()
                );
            }
        }
        for (kind, mark) in [("added", "+"), ("removed", "-")] {
            for p in packages[kind].as_array().into_iter().flatten() {
                println!(
                    "  {mark} {} {}",
                    p["name"].as_str().unwrap_or_default(),
                    p["version"].as_str().unwrap_or_default()
                );
            }
        }
    }
    for note in log["notes"].as_array().into_iter().flatten() {
        println!("\nNote: {}", note.as_str().unwrap_or_default());
    }
}

pub fn describe_phase(phase: &str, version: &str) -> String {
    use update_center_client::state::ServiceState;
    match ServiceState::parse(phase) {
        Some(ServiceState::Checking) => "Checking the update sources…".into(),
        Some(ServiceState::Planning) => "Planning…".into(),
        Some(ServiceState::Downloading) => format!("Downloading {version}…"),
        Some(ServiceState::Installing) => format!("Installing {version}…"),
        _ => phase.to_string(),
    }
}

/// `[#########           ]  45%  12.3 MB/s  30 s left`
pub fn bar(done: u64, total: u64, rate: u64, eta: i64) -> String {
    let width = 30u64;
    let filled = (done * width).checked_div(total).unwrap_or(0).min(width);
    let percent = (done * 100).checked_div(total).unwrap_or(0);
    let eta = if eta >= 0 {
        format!(
            "  {}",
            format_duration(Duration::from_secs(eta.unsigned_abs()))
        )
    } else {
        String::new()
    };
    format!(
        "[{}{}] {percent:3}%  {:.1} MB/s{eta}",
        "#".repeat(filled as usize),
        " ".repeat((width - filled) as usize),
        rate as f64 / 1e6
    )
}

pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{} h {} min left", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{} min {} s left", s / 60, s % 60)
    } else {
        format!("{s} s left")
    }
}
