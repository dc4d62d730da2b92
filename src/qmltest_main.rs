//! `update-center-qmltest [DIR]`: the QML component tests (default `qml/tests` of the checkout).

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/qml/tests").to_string());
    std::process::exit(update_center::qmltest::run(&dir));
}
