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

// NVML through a library loaded while running: the only unsafe code of the module (see the
// module's own documentation).
#[allow(unsafe_code)]
mod nvml_ffi;

#[cfg(test)]
mod tests;
