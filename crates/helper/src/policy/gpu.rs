//! GPU compute work that an automatic restart must not cut short: a training run, a render, a
//! simulation. A restart that would kill one waits.
//!
//! The work is found in four places, each reading under a root directory (`/` on the running
//! system, a fixture tree in tests):
//!
//! - AMD (ROCm, HSA): the kernel lists every process with a compute context in
//!   `/sys/class/kfd/kfd/proc/`, one directory named by its pid ([`amd_kfd`]).
//! - Any vendor: processes that hold a GPU device open, `/dev/nvidia*`, `/dev/kfd` or
//!   `/dev/dri/renderD*`, found by reading the links in `/proc/PID/fd/` ([`open_devices`]).
//!   Beware: on a desktop the compositor, Xwayland and most graphical programs hold a render
//!   node open too, so this finds them as well; the caller decides what to make of them.
//! - NVIDIA, through NVML (`libnvidia-ml.so.1`, loaded while running, so the helper does not
//!   need it to start) ([`nvml`]).
//! - NVIDIA, through `nvidia-smi`, when NVML cannot be loaded ([`nvidia_smi`]).
//!
//! [`detect`] asks all of them and collects what they find and what failed. NVIDIA is only
//! asked when its kernel module is loaded (`/sys/module/nvidia` exists): many systems ship
//! the NVIDIA libraries and tools without having an NVIDIA GPU, and there they would only fail.
//! NVML and `nvidia-smi` always ask the running driver, whatever the root.
//!
//! Process names come from `/proc/PID/comm`, which the kernel cuts to 15 characters.

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The device files whose holders are GPU work, as path prefixes: every `/dev/nvidia*` file,
/// AMD's compute device, and every DRM render node.
pub const DEVICE_PREFIXES: &[&str] = &["/dev/nvidia", "/dev/kfd", "/dev/dri/renderD"];

/// Where the AMD compute driver lists its processes, inside the root.
pub const KFD_PROC_DIR: &str = "sys/class/kfd/kfd/proc";

/// Present, inside the root, when the NVIDIA kernel module is loaded.
pub const NVIDIA_MODULE_DIR: &str = "sys/module/nvidia";

/// The NVML library, as the NVIDIA driver installs it.
pub const NVML_LIBRARY: &str = "libnvidia-ml.so.1";

/// The `nvidia-smi` arguments: one CSV line per compute process, without header or units.
pub const NVIDIA_SMI_ARGS: &[&str] = &[
    "--query-compute-apps=pid,process_name,used_memory",
    "--format=csv,noheader,nounits",
];

/// The PATH searched for `nvidia-smi` when the helper has none.
pub const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// How long `nvidia-smi` may take by default (it hangs when the driver does).
pub const DEFAULT_NVIDIA_SMI_TIMEOUT: Duration = Duration::from_secs(20);

/// How many pids [`describe`] lists before it only counts the rest.
const DESCRIBE_PIDS: usize = 10;

/// How much of a failing `nvidia-smi`'s output an error keeps, in characters.
const MESSAGE_CHARS: usize = 500;

/// Where a piece of GPU work was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// Listed by the AMD compute driver in `/sys/class/kfd/kfd/proc/`.
    AmdKfd,
    /// Holds a GPU device file open (seen in `/proc/PID/fd/`).
    OpenDevice,
    /// Listed by NVIDIA's management library, NVML.
    Nvml,
    /// Listed by `nvidia-smi`.
    NvidiaSmi,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AmdKfd => "AMD compute driver",
            Self::OpenDevice => "open GPU device",
            Self::Nvml => "NVML",
            Self::NvidiaSmi => "nvidia-smi",
        })
    }
}

/// One process doing GPU work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuWork {
    /// Its process id.
    pub pid: u32,
    /// Its name, when known (from `/proc/PID/comm`, or as `nvidia-smi` reports it).
    pub name: Option<String>,
    /// Where it was found.
    pub source: Source,
    /// What was seen, for a person: the devices it holds, the memory it uses.
    pub detail: String,
}

/// Why one place could not be asked about GPU work.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// A directory or file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// What could not be read.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `nvidia-smi` was found but could not be started.
    #[error("cannot run {}: {source}", program.display())]
    Spawn {
        /// The program.
        program: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `nvidia-smi` ran and failed.
    #[error("{} failed ({status}): {message}", program.display())]
    NvidiaSmiFailed {
        /// The program.
        program: PathBuf,
        /// How it ended, e.g. `exit status: 9`.
        status: String,
        /// What it printed, shortened.
        message: String,
    },
    /// `nvidia-smi` did not finish in time and was killed.
    #[error(
        "{} gave no answer within {} seconds and was stopped",
        program.display(),
        after.as_secs_f32()
    )]
    NvidiaSmiTimedOut {
        /// The program.
        program: PathBuf,
        /// How long it was given.
        after: Duration,
    },
    /// `nvidia-smi` printed a line this does not understand.
    #[error("nvidia-smi output line {line}: {problem}: {text:?}")]
    NvidiaSmiOutput {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The NVML library lacks a function this needs (a driver too old).
    #[error("{library} has no function {function}: {message}")]
    NvmlMissingFunction {
        /// The library.
        library: String,
        /// The function.
        function: &'static str,
        /// What the dynamic loader said.
        message: String,
    },
    /// An NVML call failed.
    #[error("NVML {function} failed: {} (error {code})", nvml_error_name(*code))]
    Nvml {
        /// The function.
        function: &'static str,
        /// Its `nvmlReturn_t`.
        code: i32,
    },
    /// NVML reports more of something than this reads.
    #[error("NVML {function} reports {count}, more than the {limit} this reads")]
    NvmlTooMany {
        /// The function.
        function: &'static str,
        /// What it reports.
        count: u32,
        /// The most this reads.
        limit: u32,
    },
}

/// The processes listed by the AMD compute driver under `root`. A root without the driver
/// (no `sys/class/kfd/kfd/proc`) has none; entries that are not pids are ignored.
pub fn amd_kfd(root: &Path) -> Result<Vec<GpuWork>, GpuError> {
    let dir = root.join(KFD_PROC_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(GpuError::Read { path: dir, source }),
    };
    let mut work: Vec<GpuWork> = entries
        .flatten()
        .filter_map(|entry| pid_of(&entry.file_name()))
        .map(|pid| GpuWork {
            pid,
            name: process_name(root, pid),
            source: Source::AmdKfd,
            detail: format!("has a compute context (listed in /{KFD_PROC_DIR})"),
        })
        .collect();
    work.sort_by_key(|w| w.pid);
    Ok(work)
}

/// The processes under `root` that hold a file open whose path starts with one of `prefixes`
/// (usually [`DEVICE_PREFIXES`]), found by reading the links in `ROOT/proc/PID/fd/`.
/// Prefixes compare as text: `/dev/nvidia` matches `/dev/nvidia0` and `/dev/nvidiactl`.
///
/// Processes whose descriptors cannot be read are skipped: they may have ended meanwhile,
/// or belong to another user when this does not run as root. Only an unreadable `ROOT/proc`
/// is an error.
pub fn open_devices<P: AsRef<Path>>(root: &Path, prefixes: &[P]) -> Result<Vec<GpuWork>, GpuError> {
    let proc_dir = root.join("proc");
    let entries = std::fs::read_dir(&proc_dir).map_err(|source| GpuError::Read {
        path: proc_dir.clone(),
        source,
    })?;
    let mut work = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = pid_of(&entry.file_name()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let held: BTreeSet<PathBuf> = fds
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .filter(|target| {
                prefixes.iter().any(|p| {
                    target
                        .as_os_str()
                        .as_bytes()
                        .starts_with(p.as_ref().as_os_str().as_bytes())
                })
            })
            .collect();
        if held.is_empty() {
            continue;
        }
        let devices: Vec<String> = held.iter().map(|p| p.display().to_string()).collect();
        work.push(GpuWork {
            pid,
            name: process_name(root, pid),
            source: Source::OpenDevice,
            detail: format!("holds {} open", devices.join(", ")),
        });
    }
    work.sort_by_key(|w| w.pid);
    Ok(work)
}

/// The NVIDIA compute processes as `nvidia-smi` lists them, running the first `nvidia-smi`
/// found in `path` (a PATH value: folders separated by `:`) and stopping it after `timeout`.
///
/// `Ok(None)`: there is no `nvidia-smi` in `path`, so no NVIDIA information. A `nvidia-smi`
/// that fails (it does when the driver is not loaded or a GPU has fallen off the bus), hangs,
/// or prints something unexpected is an error.
pub fn nvidia_smi(path: &OsStr, timeout: Duration) -> Result<Option<Vec<GpuWork>>, GpuError> {
    let Some(program) = find_in_path("nvidia-smi", path) else {
        return Ok(None);
    };
    let output = run_with_timeout(&program, NVIDIA_SMI_ARGS, path, timeout)?;
    if !output.status.success() {
        let mut message = String::from_utf8_lossy(&output.stderr).trim().to_string();
        if message.is_empty() {
            // nvidia-smi prints most of its errors to standard output.
            message = String::from_utf8_lossy(&output.stdout).trim().to_string();
        }
        return Err(GpuError::NvidiaSmiFailed {
            program,
            status: output.status.to_string(),
            message: message.chars().take(MESSAGE_CHARS).collect(),
        });
    }
    parse_nvidia_smi(&String::from_utf8_lossy(&output.stdout)).map(Some)
}

/// Reads the output of `nvidia-smi` run with [`NVIDIA_SMI_ARGS`]: one line per process,
/// `pid, process name, used memory in MiB`. The name may itself contain commas; memory may be
/// `[N/A]` or another bracketed note when the driver does not say. Empty lines are skipped;
/// any other line that does not fit is an error.
pub fn parse_nvidia_smi(text: &str) -> Result<Vec<GpuWork>, GpuError> {
    let mut work = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        // Some driver versions say so in words instead of printing nothing.
        if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("No running processes found") {
            continue;
        }
        let fail = |problem| GpuError::NvidiaSmiOutput {
            line: index + 1,
            text: line.to_string(),
            problem,
        };
        let (Some((pid, rest)), Some((_, memory))) =
            (trimmed.split_once(','), trimmed.rsplit_once(','))
        else {
            return Err(fail("expected pid, process name and used memory"));
        };
        let Some((name, _)) = rest.rsplit_once(',') else {
            return Err(fail("expected pid, process name and used memory"));
        };
        let Some(pid) = parse_pid(pid.trim()) else {
            return Err(fail("the pid is not a positive number"));
        };
        let name = name.trim();
        let name = (!name.is_empty() && !is_note(name)).then(|| name.to_string());
        let memory = memory.trim();
        let detail = if is_note(memory) {
            "uses GPU memory (amount not reported)".to_string()
        } else if !memory.is_empty() && memory.bytes().all(|b| b.is_ascii_digit()) {
            let mib: u64 = memory
                .parse()
                .map_err(|_| fail("the used memory is too large"))?;
            format!("uses {mib} MiB of GPU memory")
        } else {
            return Err(fail("the used memory is not a number of MiB"));
        };
        work.push(GpuWork {
            pid,
            name,
            source: Source::NvidiaSmi,
            detail,
        });
    }
    Ok(work)
}

/// The NVIDIA compute processes as NVML lists them, loading `library` (usually
/// [`NVML_LIBRARY`]) while running. Names come from `ROOT/proc/PID/comm`.
///
/// `Ok(None)`: the library cannot be loaded, or it says the driver is not loaded, so no NVIDIA
/// information (then ask [`nvidia_smi`]). A failing call is an error.
///
/// This cannot be tested without an NVIDIA GPU and driver, so the project's tests only check
/// that a library that cannot be loaded gives `Ok(None)`.
pub fn nvml(library: &OsStr, root: &Path) -> Result<Option<Vec<GpuWork>>, GpuError> {
    let Some(processes) = nvml_ffi::compute_processes(library)? else {
        return Ok(None);
    };
    let mut work: Vec<GpuWork> = processes
        .into_iter()
        .map(|p| GpuWork {
            pid: p.pid,
            name: process_name(root, p.pid),
            source: Source::Nvml,
            detail: match p.used_memory {
                Some(bytes) => format!("uses {} MiB of GPU memory on GPU {}", bytes >> 20, p.gpu),
                None => format!("runs on GPU {}", p.gpu),
            },
        })
        .collect();
    work.sort_by_key(|w| w.pid);
    Ok(Some(work))
}

/// Where [`detect`] looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The root the `proc` and `sys` trees are read under.
    pub root: PathBuf,
    /// The device path prefixes whose holders count as GPU work.
    pub device_prefixes: Vec<PathBuf>,
    /// The PATH that `nvidia-smi` is looked for in.
    pub path: OsString,
    /// The NVML library to load, or `None` to go straight to `nvidia-smi`.
    pub nvml_library: Option<OsString>,
    /// How long `nvidia-smi` may take.
    pub nvidia_smi_timeout: Duration,
}

impl Probe {
    /// The running system: root `/`, [`DEVICE_PREFIXES`], the helper's PATH (or
    /// [`DEFAULT_PATH`]), [`NVML_LIBRARY`] and [`DEFAULT_NVIDIA_SMI_TIMEOUT`].
    pub fn system() -> Self {
        Self {
            root: PathBuf::from("/"),
            device_prefixes: DEVICE_PREFIXES.iter().map(PathBuf::from).collect(),
            path: std::env::var_os("PATH").unwrap_or_else(|| DEFAULT_PATH.into()),
            nvml_library: Some(NVML_LIBRARY.into()),
            nvidia_smi_timeout: DEFAULT_NVIDIA_SMI_TIMEOUT,
        }
    }
}

/// What [`detect`] found, and where it could not look.
#[derive(Debug, Default)]
pub struct GpuReport {
    /// The GPU work, sorted by pid; a process found in several places is listed once for
    /// each.
    pub work: Vec<GpuWork>,
    /// The places that could not be asked. Work may be hiding there.
    pub errors: Vec<GpuError>,
    /// Where the NVIDIA information came from, or `None` when there was none (no NVIDIA
    /// driver, or neither NVML nor `nvidia-smi` available, or they failed).
    pub nvidia: Option<Source>,
}

impl GpuReport {
    /// The processes found, each once.
    pub fn pids(&self) -> BTreeSet<u32> {
        self.work.iter().map(|w| w.pid).collect()
    }

    /// One line for a person: the work, as [`describe`] puts it, and the places that could
    /// not be asked, if any.
    pub fn describe(&self) -> String {
        let mut line = describe(&self.work);
        if !self.errors.is_empty() {
            let errors: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
            line.push_str(&format!(
                "; {} GPU check{} failed: {}",
                self.errors.len(),
                if self.errors.len() == 1 { "" } else { "s" },
                errors.join("; ")
            ));
        }
        line
    }
}

/// Asks every place for GPU work: the AMD compute driver, the open device files, and, when
/// the NVIDIA module is loaded, NVML or else `nvidia-smi`. A place that fails does not stop
/// the others; its error is in the report.
pub fn detect(probe: &Probe) -> GpuReport {
    let mut report = GpuReport::default();
    for found in [
        amd_kfd(&probe.root),
        open_devices(&probe.root, &probe.device_prefixes),
    ] {
        match found {
            Ok(work) => report.work.extend(work),
            Err(e) => report.errors.push(e),
        }
    }
    if probe.root.join(NVIDIA_MODULE_DIR).exists() {
        let from_nvml = match &probe.nvml_library {
            Some(library) => nvml(library, &probe.root),
            None => Ok(None),
        };
        let nvidia = match from_nvml {
            Ok(Some(work)) => Ok(Some((Source::Nvml, work))),
            Ok(None) => nvidia_smi(&probe.path, probe.nvidia_smi_timeout)
                .map(|found| found.map(|work| (Source::NvidiaSmi, work))),
            Err(e) => Err(e),
        };
        match nvidia {
            Ok(Some((source, work))) => {
                report.nvidia = Some(source);
                report.work.extend(work);
            }
            Ok(None) => {}
            Err(e) => report.errors.push(e),
        }
    }
    report.work.sort_by_key(|w| (w.pid, w.source));
    report
}

/// One line for a person about the GPU work: `no GPU jobs running`, `1 GPU job running (pid
/// 1234)`, `2 GPU jobs running (pids 1234, 5678)`. A process counts once, however many places
/// found it; past ten pids the rest are only counted.
pub fn describe(work: &[GpuWork]) -> String {
    let pids: Vec<u32> = work
        .iter()
        .map(|w| w.pid)
        .collect::<BTreeSet<u32>>()
        .into_iter()
        .collect();
    let listed: Vec<String> = pids
        .iter()
        .take(DESCRIBE_PIDS)
        .map(u32::to_string)
        .collect();
    let more = pids.len().saturating_sub(DESCRIBE_PIDS);
    let list = if more > 0 {
        format!("{} and {more} more", listed.join(", "))
    } else {
        listed.join(", ")
    };
    match pids.len() {
        0 => "no GPU jobs running".to_string(),
        1 => format!("1 GPU job running (pid {list})"),
        n => format!("{n} GPU jobs running (pids {list})"),
    }
}

/// A directory name that is a pid.
fn pid_of(name: &OsStr) -> Option<u32> {
    parse_pid(name.to_str()?)
}

/// A pid written in decimal: digits only, more than zero.
fn parse_pid(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|pid| *pid > 0)
}

/// The process's name from `ROOT/proc/PID/comm`, if it can be read.
fn process_name(root: &Path, pid: u32) -> Option<String> {
    let text =
        std::fs::read_to_string(root.join("proc").join(pid.to_string()).join("comm")).ok()?;
    let name = text.trim_end_matches('\n');
    (!name.is_empty()).then(|| name.to_string())
}

/// `[N/A]`, `[Not Supported]`, `[Insufficient Permissions]`: nvidia-smi's way of saying it
/// does not know.
fn is_note(field: &str) -> bool {
    field.len() > 2 && field.starts_with('[') && field.ends_with(']')
}

/// The first executable file named `program` in the folders of `path`. Empty and relative
/// entries (which would mean the current folder) are skipped.
fn find_in_path(program: &str, path: &OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(program))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Runs `program` with `args` and `PATH=path`, collecting its output; after `timeout` it and
/// its process group are killed.
fn run_with_timeout(
    program: &Path,
    args: &[&str],
    path: &OsStr,
    timeout: Duration,
) -> Result<std::process::Output, GpuError> {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let child = Command::new(program)
        .args(args)
        .env("PATH", path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that a hanging one is killed with its children.
        .process_group(0)
        .spawn()
        .map_err(|source| GpuError::Spawn {
            program: program.to_path_buf(),
            source,
        })?;
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    // The thread ends when the program does; after a timeout that is once it is killed.
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match finished.recv_timeout(timeout) {
        Ok(output) => output.map_err(|source| GpuError::Spawn {
            program: program.to_path_buf(),
            source,
        }),
        Err(_) => {
            if let Some(group) = i32::try_from(pid)
                .ok()
                .and_then(rustix::process::Pid::from_raw)
            {
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            }
            Err(GpuError::NvidiaSmiTimedOut {
                program: program.to_path_buf(),
                after: timeout,
            })
        }
    }
}

/// The name of an NVML error code, as `nvml.h` spells it.
fn nvml_error_name(code: i32) -> &'static str {
    match code {
        1 => "NVML_ERROR_UNINITIALIZED",
        2 => "NVML_ERROR_INVALID_ARGUMENT",
        3 => "NVML_ERROR_NOT_SUPPORTED",
        4 => "NVML_ERROR_NO_PERMISSION",
        5 => "NVML_ERROR_ALREADY_INITIALIZED",
        6 => "NVML_ERROR_NOT_FOUND",
        7 => "NVML_ERROR_INSUFFICIENT_SIZE",
        8 => "NVML_ERROR_INSUFFICIENT_POWER",
        9 => "NVML_ERROR_DRIVER_NOT_LOADED",
        10 => "NVML_ERROR_TIMEOUT",
        11 => "NVML_ERROR_IRQ_ISSUE",
        12 => "NVML_ERROR_LIBRARY_NOT_FOUND",
        13 => "NVML_ERROR_FUNCTION_NOT_FOUND",
        14 => "NVML_ERROR_CORRUPTED_INFOROM",
        15 => "NVML_ERROR_GPU_IS_LOST",
        16 => "NVML_ERROR_RESET_REQUIRED",
        17 => "NVML_ERROR_OPERATING_SYSTEM",
        18 => "NVML_ERROR_LIB_RM_VERSION_MISMATCH",
        19 => "NVML_ERROR_IN_USE",
        20 => "NVML_ERROR_MEMORY",
        21 => "NVML_ERROR_NO_DATA",
        _ => "an unknown NVML error",
    }
}

/// NVML, NVIDIA's management library, called through a library loaded while running.
///
/// THIS IS THE ONLY UNSAFE CODE IN THE MODULE, and it is not tested: it needs an NVIDIA GPU
/// with its driver, which the project's test machines do not have. It is kept small: five
/// functions, every return code checked, every count bounded, `nvmlShutdown` always called
/// after a successful `nvmlInit_v2`.
#[allow(unsafe_code)]
mod nvml_ffi {
    use super::GpuError;
    use std::ffi::{OsStr, c_int, c_uint, c_void};

    /// `nvmlReturn_t`.
    type NvmlReturn = c_int;
    /// `nvmlDevice_t`: an opaque handle.
    type Device = *mut c_void;

    const NVML_SUCCESS: NvmlReturn = 0;
    const NVML_ERROR_INSUFFICIENT_SIZE: NvmlReturn = 7;
    const NVML_ERROR_DRIVER_NOT_LOADED: NvmlReturn = 9;
    /// `NVML_VALUE_NOT_AVAILABLE`: the memory is not known.
    const NOT_AVAILABLE: u64 = u64::MAX;

    /// The most GPUs read.
    const MAX_DEVICES: c_uint = 64;
    /// The most processes read per GPU.
    const MAX_PROCESSES: c_uint = 4096;
    /// How many times the process list is asked for again when it grew meanwhile.
    const ATTEMPTS: usize = 4;

    /// `nvmlProcessInfo_t`, as `nvmlDeviceGetComputeRunningProcesses_v3` fills it.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, Default)]
    struct ProcessInfo {
        pid: c_uint,
        used_gpu_memory: u64,
        gpu_instance_id: c_uint,
        compute_instance_id: c_uint,
    }

    /// One compute process on one GPU.
    pub(super) struct Process {
        /// The GPU's index.
        pub gpu: u32,
        /// The process.
        pub pid: u32,
        /// Its GPU memory in bytes, when NVML knows it.
        pub used_memory: Option<u64>,
    }

    type Init = unsafe extern "C" fn() -> NvmlReturn;
    type Shutdown = unsafe extern "C" fn() -> NvmlReturn;
    type GetCount = unsafe extern "C" fn(*mut c_uint) -> NvmlReturn;
    type GetHandle = unsafe extern "C" fn(c_uint, *mut Device) -> NvmlReturn;
    type GetProcesses = unsafe extern "C" fn(Device, *mut c_uint, *mut ProcessInfo) -> NvmlReturn;

    /// Calls `nvmlShutdown` when dropped.
    struct Session(Shutdown);

    impl Drop for Session {
        fn drop(&mut self) {
            // SAFETY: nvmlInit_v2 succeeded; the library is still loaded (it outlives this).
            let _ = unsafe { (self.0)() };
        }
    }

    fn check(function: &'static str, code: NvmlReturn) -> Result<(), GpuError> {
        if code == NVML_SUCCESS {
            Ok(())
        } else {
            Err(GpuError::Nvml { function, code })
        }
    }

    /// The function `name` of the loaded library, as the function type `T`. The pointer is
    /// valid while `lib` is loaded.
    fn function<T: Copy>(
        lib: &libloading::Library,
        library: &str,
        name: &'static str,
    ) -> Result<T, GpuError> {
        // SAFETY: every caller names as T the function type nvml.h declares for `name`.
        unsafe { lib.get::<T>(name.as_bytes()) }
            .map(|symbol| *symbol)
            .map_err(|e| GpuError::NvmlMissingFunction {
                library: library.to_string(),
                function: name,
                message: e.to_string(),
            })
    }

    /// Every GPU's compute processes, or `None` when NVML cannot be loaded or finds no driver.
    pub(super) fn compute_processes(library: &OsStr) -> Result<Option<Vec<Process>>, GpuError> {
        // SAFETY: loading runs the library's initialisers; libnvidia-ml's do not touch this
        // process's state.
        let Ok(lib) = (unsafe { libloading::Library::new(library) }) else {
            return Ok(None);
        };
        let name = library.to_string_lossy();
        let init: Init = function(&lib, &name, "nvmlInit_v2")?;
        let shutdown: Shutdown = function(&lib, &name, "nvmlShutdown")?;
        let get_count: GetCount = function(&lib, &name, "nvmlDeviceGetCount_v2")?;
        let get_handle: GetHandle = function(&lib, &name, "nvmlDeviceGetHandleByIndex_v2")?;
        let get_processes: GetProcesses =
            function(&lib, &name, "nvmlDeviceGetComputeRunningProcesses_v3")?;

        // SAFETY: no arguments.
        let code = unsafe { init() };
        if code == NVML_ERROR_DRIVER_NOT_LOADED {
            return Ok(None);
        }
        check("nvmlInit_v2", code)?;
        let _session = Session(shutdown);

        let mut count: c_uint = 0;
        // SAFETY: count is a valid place for one unsigned int.
        check("nvmlDeviceGetCount_v2", unsafe { get_count(&mut count) })?;
        if count > MAX_DEVICES {
            return Err(GpuError::NvmlTooMany {
                function: "nvmlDeviceGetCount_v2",
                count,
                limit: MAX_DEVICES,
            });
        }
        let mut found = Vec::new();
        for index in 0..count {
            let mut device: Device = std::ptr::null_mut();
            // SAFETY: device is a valid place for one handle.
            check("nvmlDeviceGetHandleByIndex_v2", unsafe {
                get_handle(index, &mut device)
            })?;
            for info in device_processes(get_processes, device)? {
                found.push(Process {
                    gpu: index,
                    pid: info.pid,
                    used_memory: (info.used_gpu_memory != NOT_AVAILABLE)
                        .then_some(info.used_gpu_memory),
                });
            }
        }
        Ok(Some(found))
    }

    /// One GPU's compute processes: asked with room for some, and again with room for as
    /// many as NVML says there are when that was too few.
    fn device_processes(
        get_processes: GetProcesses,
        device: Device,
    ) -> Result<Vec<ProcessInfo>, GpuError> {
        const FUNCTION: &str = "nvmlDeviceGetComputeRunningProcesses_v3";
        let mut room: c_uint = 32;
        for _ in 0..ATTEMPTS {
            let mut infos = vec![ProcessInfo::default(); room as usize];
            let mut count = room;
            // SAFETY: infos has room for `count` entries; device came from NVML.
            let code = unsafe { get_processes(device, &mut count, infos.as_mut_ptr()) };
            if code == NVML_ERROR_INSUFFICIENT_SIZE {
                if count > MAX_PROCESSES {
                    return Err(GpuError::NvmlTooMany {
                        function: FUNCTION,
                        count,
                        limit: MAX_PROCESSES,
                    });
                }
                // A little more, for processes starting meanwhile.
                room = count.saturating_add(8).min(MAX_PROCESSES);
                continue;
            }
            check(FUNCTION, code)?;
            infos.truncate(count.min(room) as usize);
            return Ok(infos);
        }
        Err(GpuError::Nvml {
            function: FUNCTION,
            code: NVML_ERROR_INSUFFICIENT_SIZE,
        })
    }
}

#[cfg(test)]
mod tests {
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
        std::os::unix::fs::symlink(target, link)
            .unwrap_or_else(|e| panic!("{}: {e}", link.display()));
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
        let text =
            "1234, /usr/bin/python3, 512\n\n5678, render, final, [N/A]\r\n99, [Not Found], 0\n";
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
}
