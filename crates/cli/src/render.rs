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

/// An offer's size: what it downloads, and the whole image's size when a delta takes the rest
/// from the installed versions (`123.0 MB to download (a 5.20 GB image)`).
pub fn offer_size(offer: &update_center_client::UpdateOffer) -> String {
    if offer.download_bytes < offer.image_bytes {
        format!(
            "{} to download (a {} image)",
            megabytes(offer.download_bytes),
            megabytes(offer.image_bytes)
        )
    } else {
        megabytes(offer.download_bytes)
    }
}

pub fn or_unknown(text: &str) -> &str {
    if text.is_empty() { "(unknown)" } else { text }
}

pub fn print_changelog(log: &update_center_client::changelog::Changelog) {
    println!("Changes from {} to {}", log.from, log.to);
    for release in &log.releases {
        println!();
        println!(
            "{}{}",
            release.version,
            release
                .date
                .as_ref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        );
        for line in &release.description {
            println!("  {line}");
        }
    }
    for link in &log.links {
        println!("\nFull changelog: {link}");
    }
    if let Some(packages) = &log.packages {
        println!(
            "\nPackages: {} upgraded, {} downgraded, {} added, {} removed",
            packages.upgraded.len(),
            packages.downgraded.len(),
            packages.added.len(),
            packages.removed.len()
        );
        for (list, mark) in [(&packages.upgraded, "↑"), (&packages.downgraded, "↓")] {
            for c in list {
                println!("  {mark} {} {} → {}", c.name, c.from, c.to);
            }
        }
        for (list, mark) in [(&packages.added, "+"), (&packages.removed, "-")] {
            for p in list {
                println!("  {mark} {} {}", p.name, p.version);
            }
        }
    }
    for note in &log.notes {
        println!("\nNote: {note}");
    }
}

/// One history record on one line: the time, the kind and the event's other fields as JSON
/// (health-check results left out).
pub fn print_record(record: &update_center_client::history::Record) {
    let mut fields = serde_json::to_value(&record.event).unwrap_or_default();
    if let Some(map) = fields.as_object_mut() {
        map.remove("event");
        map.remove("checks");
    }
    println!("{}  {:<22} {fields}", record.time, record.event.kind());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offer_says_both_sizes_only_when_a_delta_downloads_less() {
        let offer = |download_bytes, image_bytes| update_center_client::UpdateOffer {
            version: "2".into(),
            download_bytes,
            image_bytes,
            summary: String::new(),
        };
        assert_eq!(
            offer_size(&offer(123_000_000, 5_200_000_000)),
            "123.0 MB to download (a 5.20 GB image)"
        );
        assert_eq!(offer_size(&offer(5_200_000_000, 5_200_000_000)), "5.20 GB");
        // A helper that does not say the image's size (0): the download alone, as before.
        assert_eq!(offer_size(&offer(1_500_000, 0)), "1.5 MB");
    }
}
