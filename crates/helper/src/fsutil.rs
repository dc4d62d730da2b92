//! The file-system rules every write of the helper and every read of an untrusted folder
//! follow (see docs/security.md):
//! - what the helper keeps for itself (state, cache, partial downloads, temporaries) is
//!   created `0600` in `0700` directories, whatever the umask;
//! - a file is replaced atomically: a temporary with a fresh name created with `O_EXCL` and
//!   `O_NOFOLLOW`, fsync, rename, fsync of the directory;
//! - a file of a local source (a USB stick, a share) is opened beneath its folder only, without
//!   following any symbolic link, and only when it is a regular file: a link to `/etc/shadow`,
//!   a FIFO that would block forever, or a device node is refused before a byte is read.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Mode of every file the helper keeps for itself.
pub const PRIVATE_FILE_MODE: u32 = 0o600;
/// Mode of every directory the helper creates for itself.
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// Bytes as lower-case hex digits.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 (hex) of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(bytes)).as_slice())
}

/// The SHA-256 (hex) of a file's bytes.
pub fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    std::io::copy(&mut File::open(path)?, &mut hasher)?;
    Ok(hex(sha2::Digest::finalize(hasher).as_slice()))
}

/// Creates `dir` and its missing parents as `0700` (existing ones keep their mode).
pub fn create_private_dir_all(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR_MODE)
        .create(dir)
}

/// Makes `dir`'s entries durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Renames `from` to `to` durably: the rename, then an fsync of the file under its new name,
/// then of the directory. FAT (the ESP) keeps a file's size and first cluster in its directory
/// entry, and Linux writes them into the new entry with the file's inode, not with the
/// directory: after a power cut that followed only a directory fsync, the new name is there
/// with no bytes (a power-cut test in the systemd guest showed it).
pub fn rename_durably(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::rename(from, to)?;
    File::open(to)?.sync_all()?;
    sync_dir(to.parent().unwrap_or(Path::new(".")))
}

/// Creates a new private file (`0600`) at `path`; fails if anything, a link included, is
/// there already.
pub fn create_private_file(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(PRIVATE_FILE_MODE)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
}

/// A temporary name beside `path` that no other writer uses at the same time.
fn temporary_beside(path: &Path, attempt: u32) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    dir.join(format!(
        ".{name}.{}.{}.{nanos:x}{attempt}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Writes `bytes` to `path` atomically and privately (`0600`): a fresh temporary in the same
/// directory (created with `O_EXCL | O_NOFOLLOW`), fsync, rename, fsync of the file and of
/// the directory.
/// A missing directory is created `0700`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir_all(dir)?;
    let mut attempt = 0;
    let (temp, mut file) = loop {
        let temp = temporary_beside(path, attempt);
        match create_private_file(&temp) {
            Ok(file) => break (temp, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 16 => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    // The file again under its new name (FAT: see `rename_durably`), then the directory.
    file.sync_all()?;
    sync_dir(dir)
}

/// Why a file of a local source was not opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// There is no such file.
    #[error("there is no such file")]
    NotFound,
    /// A symbolic link on the way, or the file itself.
    #[error(
        "it is a symbolic link or lies behind one; files of a local source are read without following links"
    )]
    Link,
    /// The name leads out of the folder.
    #[error("it lies outside the source folder")]
    Outside,
    /// Not a regular file.
    #[error("it is {0}, not a regular file; refusing it")]
    NotRegular(&'static str),
    /// The file was replaced while it was being opened.
    #[error("it was replaced while it was being opened")]
    Replaced,
    /// Anything else.
    #[error("{0}")]
    Io(String),
}

impl From<rustix::io::Errno> for OpenError {
    fn from(errno: rustix::io::Errno) -> Self {
        use rustix::io::Errno;
        match errno {
            Errno::NOENT | Errno::NOTDIR => Self::NotFound,
            Errno::LOOP => Self::Link,
            Errno::XDEV => Self::Outside,
            Errno::NOSYS => Self::Io(
                "this kernel cannot open files beneath a folder safely (openat2, Linux 5.6 or newer, is needed)"
                    .into(),
            ),
            other => Self::Io(std::io::Error::from(other).to_string()),
        }
    }
}

fn kind_of(mode: u32) -> Option<&'static str> {
    use rustix::fs::FileType;
    match FileType::from_raw_mode(mode) {
        FileType::RegularFile => None,
        FileType::Directory => Some("a directory"),
        FileType::Symlink => Some("a symbolic link"),
        FileType::Fifo => Some("a FIFO"),
        FileType::Socket => Some("a socket"),
        FileType::CharacterDevice | FileType::BlockDevice => Some("a device node"),
        FileType::Unknown => Some("of an unknown kind"),
    }
}

/// Opens `name` in the folder `folder` (relative to `root`) for reading, never leaving the
/// folder, never following a symbolic link (in `folder` or `name`) and never opening anything
/// but a regular file. The file is looked at (`O_PATH`, `fstat`) before it is opened for
/// reading, and the two must be the same inode, so a file swapped for a FIFO or a link in
/// between is refused too.
pub fn open_beneath(root: &Path, folder: &Path, name: &str) -> Result<File, OpenError> {
    use rustix::fs::{Mode, OFlags, ResolveFlags, fstat, openat2};
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
    let root_fd = rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let folder = folder
        .strip_prefix("/")
        .unwrap_or(folder)
        .to_string_lossy()
        .into_owned();
    let dir_fd = if folder.is_empty() {
        root_fd
    } else {
        openat2(
            &root_fd,
            folder.as_str(),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
            resolve,
        )?
    };
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(OpenError::Outside);
    }
    let look = openat2(
        &dir_fd,
        name,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
        resolve | ResolveFlags::NO_XDEV,
    )?;
    let seen = fstat(&look)?;
    // O_PATH | O_NOFOLLOW opens a link itself rather than failing on it.
    if rustix::fs::FileType::from_raw_mode(seen.st_mode) == rustix::fs::FileType::Symlink {
        return Err(OpenError::Link);
    }
    if let Some(kind) = kind_of(seen.st_mode) {
        return Err(OpenError::NotRegular(kind));
    }
    // O_NONBLOCK: should the name have become a FIFO since, the open does not wait for a
    // writer; the inode comparison below then refuses it.
    let fd = openat2(
        &dir_fd,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
        resolve | ResolveFlags::NO_XDEV,
    )?;
    let opened = fstat(&fd)?;
    if opened.st_dev != seen.st_dev || opened.st_ino != seen.st_ino {
        return Err(OpenError::Replaced);
    }
    if let Some(kind) = kind_of(opened.st_mode) {
        return Err(OpenError::NotRegular(kind));
    }
    Ok(File::from(fd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_writes_are_private_and_replace_the_old_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("new").join("state.json");
        write_atomically(&path, b"one").expect("write");
        write_atomically(&path, b"two").expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().expect("parent")), 0o700);
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
            .expect("list")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary is left: {names:?}");
    }

    #[test]
    fn an_atomic_write_never_follows_a_planted_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").expect("victim");
        let path = dir.path().join("state.json");
        std::os::unix::fs::symlink(&victim, &path).expect("link");
        write_atomically(&path, b"new").expect("write");
        assert_eq!(std::fs::read(&victim).expect("read"), b"keep");
        assert!(
            !std::fs::symlink_metadata(&path)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn only_regular_files_beneath_the_folder_are_opened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let folder = root.join("stick");
        std::fs::create_dir_all(folder.join("sub")).expect("mkdir");
        std::fs::write(root.join("secret"), b"root only").expect("secret");
        std::fs::write(folder.join("good"), b"ok").expect("good");
        std::os::unix::fs::symlink(root.join("secret"), folder.join("link")).expect("link");
        std::os::unix::fs::symlink("good", folder.join("relative-link")).expect("link");
        rustix::fs::mkfifoat(rustix::fs::CWD, folder.join("fifo"), rustix::fs::Mode::RUSR)
            .expect("fifo");
        let open = |name: &str| open_beneath(root, Path::new("/stick"), name).map(|_| ());
        assert_eq!(open("good"), Ok(()));
        assert_eq!(open("link"), Err(OpenError::Link));
        assert_eq!(open("relative-link"), Err(OpenError::Link));
        assert_eq!(open("fifo"), Err(OpenError::NotRegular("a FIFO")));
        assert_eq!(open("sub"), Err(OpenError::NotRegular("a directory")));
        assert_eq!(open("../secret"), Err(OpenError::Outside));
        assert_eq!(open("missing"), Err(OpenError::NotFound));
        // A folder that is itself a link is not followed either.
        std::os::unix::fs::symlink(&folder, root.join("stick-link")).expect("link");
        assert_eq!(
            open_beneath(root, Path::new("stick-link"), "good").map(|_| ()),
            Err(OpenError::Link)
        );
    }
}
