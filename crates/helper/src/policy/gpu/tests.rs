//! GPU work found in each source: NVML, nvidia-smi, AMD's KFD, DRM clients.

use super::*;
use std::process::Command;

fn mkdir(path: &Path) {
    std::fs::create_dir_all(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn write(path: &Path, text: &str) {
    mkdir(path.parent().expect("parent"));
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn link(target: &str, link: &Path) {
    mkdir(link.parent().expect("parent"));
    std::os::unix::fs::symlink(target, link).unwrap_or_else(|e| panic!("{}: {e}", link.display()));
}

/// Writes an executable script through a shell, so that this process never holds it open
/// for writing: a program another test thread starts at that moment would inherit the
/// descriptor, and running the script would then fail with "Text file busy".
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    mkdir(dir);
    let path = dir.join(name);
    let status = Command::new("/bin/sh")
        .arg("-c")
        .arg(r#"printf '%s\n' "$1" > "$2" && chmod 755 "$2""#)
        .arg("sh")
        .arg(format!("#!/bin/sh\n{body}"))
        .arg(&path)
        .status()
        .expect("sh");
    assert!(status.success(), "writing {}", path.display());
    path
}

/// A PATH with `dir` first, then the system's folders.
fn path_with(dir: &Path) -> OsString {
    format!("{}:/usr/bin:/bin", dir.display()).into()
}

/// A fake `nvidia-smi` that checks its arguments and prints `lines`.
const FAKE_SMI: &str = r#"
[ "$1" = "--query-compute-apps=pid,process_name,used_memory" ] || exit 3
[ "$2" = "--format=csv,noheader,nounits" ] || exit 4
[ $# -eq 2 ] || exit 5
printf '1234, /usr/bin/python3, 512\n5678, render, final, [N/A]\n'"#;

fn work(pid: u32, name: Option<&str>, source: Source, detail: &str) -> GpuWork {
    GpuWork {
        pid,
        name: name.map(str::to_string),
        source,
        detail: detail.to_string(),
    }
}

/// A proc tree: 100 holds two NVIDIA devices, 200 a render node, 300 only a card node
/// (display, not compute), 400 the AMD compute device, 500 has no readable fds; `self`
/// and `sys` are not processes.
fn proc_fixture(root: &Path) {
    let proc = root.join("proc");
    write(&proc.join("100/comm"), "python3\n");
    link("/dev/null", &proc.join("100/fd/0"));
    link("/dev/nvidia0", &proc.join("100/fd/3"));
    link("/dev/nvidiactl", &proc.join("100/fd/4"));
    link("/dev/nvidia0", &proc.join("100/fd/5"));
    write(&proc.join("200/comm"), "blender\n");
    link("/dev/dri/renderD128", &proc.join("200/fd/7"));
    link("socket:[12345]", &proc.join("200/fd/8"));
    link("/dev/dri/card0", &proc.join("300/fd/1"));
    link("/dev/kfd", &proc.join("400/fd/9"));
    write(&proc.join("500/comm"), "ghost\n");
    link("100", &proc.join("self"));
    mkdir(&proc.join("sys/fd"));
}

#[test]
fn amd_compute_processes_are_read_from_kfd() {
    let root = tempfile::tempdir().expect("tempdir");
    let kfd = root.path().join(KFD_PROC_DIR);
    mkdir(&kfd.join("4242"));
    mkdir(&kfd.join("77"));
    mkdir(&kfd.join("notapid"));
    write(&root.path().join("proc/4242/comm"), "hipcc-run\n");
    let detail = "has a compute context (listed in /sys/class/kfd/kfd/proc)";
    assert_eq!(
        amd_kfd(root.path()).expect("kfd"),
        [
            work(77, None, Source::AmdKfd, detail),
            work(4242, Some("hipcc-run"), Source::AmdKfd, detail),
        ]
    );
}

#[test]
fn no_amd_driver_means_no_amd_work() {
    let root = tempfile::tempdir().expect("tempdir");
    assert_eq!(amd_kfd(root.path()).expect("kfd"), []);
}

#[test]
fn an_unreadable_kfd_list_is_an_error() {
    let root = tempfile::tempdir().expect("tempdir");
    write(&root.path().join(KFD_PROC_DIR), "not a folder");
    let error = amd_kfd(root.path()).expect_err("a file, not a folder");
    assert!(
        matches!(&error, GpuError::Read { path, .. } if path.ends_with("kfd/proc")),
        "{error:?}"
    );
}

#[test]
fn holders_of_gpu_devices_are_found_in_proc() {
    let root = tempfile::tempdir().expect("tempdir");
    proc_fixture(root.path());
    assert_eq!(
        open_devices(root.path(), DEVICE_PREFIXES).expect("scan"),
        [
            work(
                100,
                Some("python3"),
                Source::OpenDevice,
                "holds /dev/nvidia0, /dev/nvidiactl open"
            ),
            work(
                200,
                Some("blender"),
                Source::OpenDevice,
                "holds /dev/dri/renderD128 open"
            ),
            work(400, None, Source::OpenDevice, "holds /dev/kfd open"),
        ]
    );
    // Other prefixes find other holders.
    let cards = open_devices(root.path(), &["/dev/dri/card"]).expect("scan");
    assert_eq!(cards.iter().map(|w| w.pid).collect::<Vec<_>>(), [300]);
}

#[test]
fn a_root_without_proc_is_an_error() {
    let root = tempfile::tempdir().expect("tempdir");
    let error = open_devices(root.path(), DEVICE_PREFIXES).expect_err("no proc");
    assert!(matches!(error, GpuError::Read { .. }), "{error:?}");
}

#[test]
fn the_scanner_finds_a_file_this_test_holds_open_in_the_real_proc() {
    let dir = tempfile::tempdir().expect("tempdir");
    let held = dir.path().join("fake-gpu-device");
    let file = std::fs::File::create(&held).expect("create");
    let me = std::process::id();
    let found = open_devices(Path::new("/"), &[&held]).expect("scan /proc");
    let mine = found.iter().find(|w| w.pid == me).expect("this process");
    assert_eq!(mine.detail, format!("holds {} open", held.display()));
    assert_eq!(mine.source, Source::OpenDevice);
    // A file nobody holds is found nowhere.
    let never = dir.path().join("never-opened");
    assert_eq!(open_devices(Path::new("/"), &[&never]).expect("scan"), []);
    drop(file);
}

#[test]
fn nvidia_smi_output_is_read() {
    let text = "1234, /usr/bin/python3, 512\n\n5678, render, final, [N/A]\r\n99, [Not Found], 0\n";
    assert_eq!(
        parse_nvidia_smi(text).expect("valid"),
        [
            work(
                1234,
                Some("/usr/bin/python3"),
                Source::NvidiaSmi,
                "uses 512 MiB of GPU memory"
            ),
            work(
                5678,
                Some("render, final"),
                Source::NvidiaSmi,
                "uses GPU memory (amount not reported)"
            ),
            work(99, None, Source::NvidiaSmi, "uses 0 MiB of GPU memory"),
        ]
    );
    assert_eq!(parse_nvidia_smi("").expect("empty"), []);
    assert_eq!(
        parse_nvidia_smi("No running processes found\n").expect("said in words"),
        []
    );
}

#[test]
fn unexpected_nvidia_smi_output_is_an_error() {
    let cases = [
        ("garbage", 1, "expected pid, process name and used memory"),
        (
            "1234, python",
            1,
            "expected pid, process name and used memory",
        ),
        ("abc, python, 5", 1, "the pid is not a positive number"),
        ("0, python, 5", 1, "the pid is not a positive number"),
        ("-1, python, 5", 1, "the pid is not a positive number"),
        ("1, python, 5\n12, python, 5 MiB", 2, "not a number of MiB"),
        ("12, python, ", 1, "not a number of MiB"),
        ("12, python, 99999999999999999999999", 1, "too large"),
    ];
    for (text, line_number, problem_text) in cases {
        match parse_nvidia_smi(text) {
            Err(GpuError::NvidiaSmiOutput { line, problem, .. }) => {
                assert_eq!(line, line_number, "{text:?}");
                assert!(problem.contains(problem_text), "{text:?}: {problem}");
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn nvidia_smi_is_run_from_the_given_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("bin");
    script(&bin, "nvidia-smi", FAKE_SMI);
    let found = nvidia_smi(&path_with(&bin), Duration::from_secs(30))
        .expect("runs")
        .expect("found");
    assert_eq!(
        found
            .iter()
            .map(|w| (w.pid, w.name.as_deref()))
            .collect::<Vec<_>>(),
        [
            (1234, Some("/usr/bin/python3")),
            (5678, Some("render, final"))
        ]
    );
}

#[test]
fn a_missing_nvidia_smi_means_no_nvidia_information() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Not executable, and in folders a PATH search must not use.
    write(&dir.path().join("bin/nvidia-smi"), "#!/bin/sh\nexit 0\n");
    let path = format!("{}::relative/bin", dir.path().join("bin").display());
    assert!(matches!(
        nvidia_smi(OsStr::new(&path), Duration::from_secs(30)),
        Ok(None)
    ));
    assert!(matches!(
        nvidia_smi(OsStr::new(""), Duration::from_secs(30)),
        Ok(None)
    ));
}

#[test]
fn a_failing_nvidia_smi_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    script(
        dir.path(),
        "nvidia-smi",
        "echo \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA \
         driver.\"\nexit 9",
    );
    match nvidia_smi(&path_with(dir.path()), Duration::from_secs(30)) {
        Err(error @ GpuError::NvidiaSmiFailed { .. }) => {
            let text = error.to_string();
            assert!(text.contains("exit status: 9"), "{text}");
            assert!(text.contains("couldn't communicate"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn nvidia_smi_printing_nonsense_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    script(dir.path(), "nvidia-smi", "echo 'pid, name, memory'");
    assert!(matches!(
        nvidia_smi(&path_with(dir.path()), Duration::from_secs(30)),
        Err(GpuError::NvidiaSmiOutput { line: 1, .. })
    ));
}

#[test]
fn a_hanging_nvidia_smi_is_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    // It stops itself: it never finishes until it is killed.
    script(dir.path(), "nvidia-smi", "kill -STOP $$");
    let timeout = Duration::from_millis(300);
    match nvidia_smi(&path_with(dir.path()), timeout) {
        Err(GpuError::NvidiaSmiTimedOut { after, .. }) => assert_eq!(after, timeout),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nvml_that_cannot_be_loaded_gives_no_information() {
    let root = tempfile::tempdir().expect("tempdir");
    assert!(matches!(
        nvml(OsStr::new("libnvidia-ml-absent-in-tests.so.1"), root.path()),
        Ok(None)
    ));
}

/// A probe of a fixture root, with `bin` first on its PATH and an NVML that cannot load.
fn probe(root: &Path, bin: &Path) -> Probe {
    Probe {
        root: root.to_path_buf(),
        device_prefixes: DEVICE_PREFIXES.iter().map(PathBuf::from).collect(),
        path: path_with(bin),
        nvml_library: Some("libnvidia-ml-absent-in-tests.so.1".into()),
        nvidia_smi_timeout: Duration::from_secs(30),
    }
}

#[test]
fn detect_asks_every_place_and_falls_back_to_nvidia_smi() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    proc_fixture(&root);
    mkdir(&root.join(KFD_PROC_DIR).join("400"));
    mkdir(&root.join(NVIDIA_MODULE_DIR));
    let bin = dir.path().join("bin");
    script(&bin, "nvidia-smi", FAKE_SMI);
    let report = detect(&probe(&root, &bin));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.nvidia, Some(Source::NvidiaSmi));
    assert_eq!(
        report
            .work
            .iter()
            .map(|w| (w.pid, w.source))
            .collect::<Vec<_>>(),
        [
            (100, Source::OpenDevice),
            (200, Source::OpenDevice),
            (400, Source::AmdKfd),
            (400, Source::OpenDevice),
            (1234, Source::NvidiaSmi),
            (5678, Source::NvidiaSmi),
        ]
    );
    assert_eq!(report.pids(), BTreeSet::from([100, 200, 400, 1234, 5678]));
    assert_eq!(
        report.describe(),
        "5 GPU jobs running (pids 100, 200, 400, 1234, 5678)"
    );
}

#[test]
fn detect_leaves_nvidia_alone_without_its_driver() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    mkdir(&root.join("proc"));
    let bin = dir.path().join("bin");
    // Would fail if it were run.
    script(&bin, "nvidia-smi", "exit 9");
    let report = detect(&probe(&root, &bin));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.nvidia, None);
    assert_eq!(report.work, []);
    assert_eq!(report.describe(), "no GPU jobs running");
}

#[test]
fn detect_reports_what_failed_and_keeps_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    proc_fixture(&root);
    mkdir(&root.join(NVIDIA_MODULE_DIR));
    let bin = dir.path().join("bin");
    script(&bin, "nvidia-smi", "echo 'No devices were found'\nexit 6");
    let report = detect(&probe(&root, &bin));
    assert_eq!(report.nvidia, None);
    assert_eq!(report.pids(), BTreeSet::from([100, 200, 400]));
    assert!(
        matches!(report.errors.as_slice(), [GpuError::NvidiaSmiFailed { .. }]),
        "{:?}",
        report.errors
    );
    let line = report.describe();
    assert!(
        line.starts_with("3 GPU jobs running (pids 100, 200, 400); 1 GPU check failed: "),
        "{line}"
    );
    assert!(line.contains("No devices were found"), "{line}");
}

#[test]
fn work_is_described_in_one_line() {
    let job = |pid| work(pid, None, Source::OpenDevice, "");
    let many: Vec<GpuWork> = (1..=12).map(job).collect();
    let cases = [
        (vec![], "no GPU jobs running"),
        (vec![job(1234)], "1 GPU job running (pid 1234)"),
        (
            vec![job(5678), job(1234), work(1234, None, Source::Nvml, "")],
            "2 GPU jobs running (pids 1234, 5678)",
        ),
        (
            many,
            "12 GPU jobs running (pids 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more)",
        ),
    ];
    for (list, line) in cases {
        assert_eq!(describe(&list), line);
    }
}
