//! NVML, NVIDIA's management library, called through a library loaded while running.
//!
//! THIS IS THE ONLY UNSAFE CODE IN THE MODULE, and it is not tested: it needs an NVIDIA GPU
//! with its driver, which the project's test machines do not have. It is kept small: five
//! functions, every return code checked, every count bounded, `nvmlShutdown` always called
//! after a successful `nvmlInit_v2`.

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
