//! The Flatpak manifest of the GUI: it parses, builds on the KDE runtime with the Rust SDK
//! extension, offline from vendored crates, and asks only for what the GUI needs: the helper on
//! the system bus, notifications, the tray watcher, the Secret Service, Plasma's restart
//! prompt, and the display. The helper itself is never in the Flatpak.

#[test]
fn the_manifest_asks_only_for_what_the_gui_needs() {
    let path = testbed::checkout().join("flatpak/org.kde.updatecenter.json");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("manifest")).expect("JSON");
    assert_eq!(manifest["id"], "org.kde.updatecenter");
    assert_eq!(manifest["runtime"], "org.kde.Platform");
    assert_eq!(manifest["sdk"], "org.kde.Sdk");
    assert!(
        manifest["sdk-extensions"]
            .to_string()
            .contains("rust-stable")
    );
    assert_eq!(
        manifest["build-options"]["env"]["CARGO_NET_OFFLINE"],
        "true"
    );
    let args: Vec<String> = manifest["finish-args"]
        .as_array()
        .expect("finish-args")
        .iter()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    let expected = [
        "--share=ipc",
        "--socket=wayland",
        "--socket=fallback-x11",
        "--device=dri",
        "--system-talk-name=org.kde.UpdateCenter1",
        "--talk-name=org.freedesktop.Notifications",
        "--talk-name=org.kde.StatusNotifierWatcher",
        "--talk-name=org.freedesktop.secrets",
        "--talk-name=org.kde.LogoutPrompt",
    ];
    assert_eq!(args, expected, "exactly these permissions");
    for broad in [
        "--filesystem",
        "--socket=system-bus",
        "--socket=session-bus",
        "--share=network",
    ] {
        assert!(!args.iter().any(|a| a.starts_with(broad)), "{broad}");
    }
    let text = manifest.to_string();
    assert!(
        !text.contains("update-center-helper"),
        "the helper is part of the OS image"
    );
    assert!(text.contains("cargo-sources.json"), "crates come vendored");
}

#[test]
fn flatpak_builder_accepts_the_manifest() {
    // cargo-sources.json is generated from Cargo.lock before a build (see the README); its
    // last entry (the cargo configuration the generator writes) stands in for it here, so
    // that flatpak-builder reads everything else.
    let dir = tempfile::tempdir().expect("tempdir");
    let flatpak = dir.path().join("flatpak");
    std::fs::create_dir_all(&flatpak).expect("mkdir");
    let manifest = flatpak.join("org.kde.updatecenter.json");
    std::fs::copy(
        testbed::checkout().join("flatpak/org.kde.updatecenter.json"),
        &manifest,
    )
    .expect("copy");
    let sources = serde_json::json!([{
        "type": "inline",
        "contents": "[source.crates-io]\nreplace-with = \"vendored-sources\"\n",
        "dest": "cargo",
        "dest-filename": "config"
    }]);
    std::fs::write(flatpak.join("cargo-sources.json"), sources.to_string()).expect("sources");
    // flatpak-builder keeps its state (.flatpak-builder/) in the working directory: the
    // temporary one, never the checkout.
    let output = std::process::Command::new("flatpak-builder")
        .current_dir(dir.path())
        .arg("--show-manifest")
        .arg(&manifest)
        .output()
        .expect("flatpak-builder (in the dev root)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("WARNING"), "{stderr}");
    let shown: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("flatpak-builder printed JSON");
    assert_eq!(shown["id"], "org.kde.updatecenter");
    assert_eq!(shown["command"], "update-center");
    assert!(
        shown["finish-args"]
            .to_string()
            .contains("--system-talk-name=org.kde.UpdateCenter1"),
        "{shown}"
    );
}
