//! `update-center`: the Update Center window, launched from Kickoff.

fn main() {
    std::process::exit(update_center::run());
}
