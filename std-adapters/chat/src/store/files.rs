//! The store's files on disk: saving a received file under a fresh name, copying a file to
//! send, with no half-written file ever visible under its final name.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest as _, Sha256};

use super::error::{StoreError, io};
use crate::sanitize;

/// How many names [`save_unique`] tries (`a.txt`, `a (1).txt`, … `a (999).txt`).
const MAX_NAME_TRIES: u32 = 1000;

/// Temporary files older than this are left over from a crash and removed when a store opens.
pub(super) const STALE_TEMP: Duration = Duration::from_secs(24 * 3600);

/// Creates `dir` (and its parents) if missing; a directory the store creates is private to the
/// user on Unix, as it holds decrypted messages.
pub(super) fn create_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(io("creating the directory", dir))
}

/// Makes a rename or link in `dir` durable. Directories cannot be opened for syncing on every
/// platform; there the rename is as durable as the platform makes it.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io("syncing the directory", dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A fresh random name for a temporary file.
fn temp_name() -> Result<String, StoreError> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Io {
        what: "drawing a temporary name",
        path: PathBuf::new(),
        source: io::Error::other(e.to_string()),
    })?;
    Ok(format!(".tmp-{}", hex(&bytes)))
}

/// Lowercase hex of `bytes`.
pub(super) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A temporary file in the store's `tmp/` directory, removed when dropped unless it was moved.
struct Temp {
    path: PathBuf,
}

impl Temp {
    /// Creates a new, empty temporary file in `dir`.
    fn create(dir: &Path) -> Result<(Self, File), StoreError> {
        let path = dir.join(temp_name()?);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io("creating a temporary file", &path))?;
        Ok((Self { path }, file))
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        // Gone already when it was renamed into place; a failure here leaves a file that the
        // next open removes (see `remove_stale_temps`).
        let _ = fs::remove_file(&self.path);
    }
}

/// Writes `bytes` to a new file in `files_dir` named after `suggested` (sanitized), adding
/// ` (1)`, ` (2)`, … before the extension while the name is taken. The bytes are written and
/// synced in `tmp_dir` first and only then linked under the final name, which never replaces an
/// existing file (another process saving at the same moment included).
pub(super) fn save_unique(
    tmp_dir: &Path,
    files_dir: &Path,
    suggested: &str,
    bytes: &[u8],
) -> Result<PathBuf, StoreError> {
    let name = sanitize::filename(suggested);
    let (temp, mut file) = Temp::create(tmp_dir)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io("writing a temporary file", &temp.path))?;
    drop(file);
    for k in 0..MAX_NAME_TRIES {
        let target = files_dir.join(candidate(&name, k));
        // A hard link fails when the target exists, so no existing file is ever replaced.
        match fs::hard_link(&temp.path, &target) {
            Ok(()) => {
                sync_dir(files_dir)?;
                return Ok(target);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(_) => {
                // A file system without hard links: check, then rename (a narrow race with
                // another process saving the same name remains there).
                if fs::symlink_metadata(&target).is_ok() {
                    continue;
                }
                fs::rename(&temp.path, &target).map_err(io("moving a file into place", &target))?;
                sync_dir(files_dir)?;
                return Ok(target);
            }
        }
    }
    Err(StoreError::NoFreeName(name))
}

/// The `k`-th name tried for `name`: `name` itself, then `stem (k).ext`, shortened to stay
/// within [`sanitize::MAX_BYTES`].
fn candidate(name: &str, k: u32) -> String {
    if k == 0 {
        return name.to_owned();
    }
    let suffix = format!(" ({k})");
    let (stem, ext) = sanitize::split_extension(name);
    let room = sanitize::MAX_BYTES - suffix.len() - ext.len();
    let stem = sanitize::shorten(stem, room);
    format!("{stem}{suffix}{ext}")
}

/// Copies `source` to `target` through a temporary file, checking on the way that it has
/// exactly `size` bytes and the SHA-256 `sha256`.
pub(super) fn copy_checked(
    tmp_dir: &Path,
    source: &Path,
    target: &Path,
    size: u64,
    sha256: &[u8; 32],
) -> Result<(), StoreError> {
    let mut input = File::open(source).map_err(io("opening the file to send", source))?;
    let (temp, mut out) = Temp::create(tmp_dir)?;
    let mut hasher = Sha256::new();
    let mut copied: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let read = input
            .read(&mut buf)
            .map_err(io("reading the file to send", source))?;
        if read == 0 {
            break;
        }
        copied += read as u64;
        if copied > size {
            return Err(StoreError::SourceMismatch {
                path: source.to_path_buf(),
            });
        }
        let chunk = buf.get(..read).unwrap_or_default();
        hasher.update(chunk);
        out.write_all(chunk)
            .map_err(io("writing a temporary file", &temp.path))?;
    }
    if copied != size || hasher.finalize()[..] != sha256[..] {
        return Err(StoreError::SourceMismatch {
            path: source.to_path_buf(),
        });
    }
    out.sync_all()
        .map_err(io("writing a temporary file", &temp.path))?;
    drop(out);
    fs::rename(&temp.path, target).map_err(io("moving a file into place", target))?;
    if let Some(parent) = target.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Removes a file, treating "already gone" as done.
pub(super) fn remove_if_exists(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::Io {
            what: "removing a file",
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

/// Removes temporary files older than `age` from `tmp_dir` (left by a crash); best effort.
pub(super) fn remove_stale_temps(tmp_dir: &Path, age: Duration) {
    let Ok(entries) = fs::read_dir(tmp_dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|d| d > age);
        if old && entry.file_name().to_string_lossy().starts_with(".tmp-") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_add_a_counter_before_the_extension() {
        assert_eq!(candidate("a.txt", 0), "a.txt");
        assert_eq!(candidate("a.txt", 1), "a (1).txt");
        assert_eq!(candidate("a.tar.gz", 12), "a.tar (12).gz");
        assert_eq!(candidate("noext", 3), "noext (3)");
        let long = format!("{}.txt", "x".repeat(251));
        let c = candidate(&long, 999);
        assert!(c.len() <= sanitize::MAX_BYTES);
        assert!(c.ends_with("x (999).txt"));
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }
}
