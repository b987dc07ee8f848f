//! Atomic file writes: key files (`identity new`) and chain files (`sigchain`).
//!
//! A file is written to a temporary file in the target's directory (created exclusively, with
//! its final mode), synced, then renamed or linked into place, so a crash never leaves a
//! partial file and an existing one is replaced only when the caller says so.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::output::Failure;

/// Puts `contents` at `path` atomically, with `mode`. Without `replace`, an existing entry
/// at `path` is an `exists` error and is left untouched.
pub(crate) fn install(
    path: &Path,
    contents: &[u8],
    replace: bool,
    mode: u32,
) -> Result<(), Failure> {
    let file_name = path
        .file_name()
        .ok_or_else(|| Failure::usage(format!("{}: not a file name", path.display())))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = TempFile::create(dir, file_name, mode)?;
    let write_err = |e: io::Error| Failure::io(format!("cannot write {}", tmp.path.display()), &e);
    (&tmp.file).write_all(contents).map_err(write_err)?;
    tmp.file.sync_all().map_err(write_err)?;
    let placed = if replace {
        fs::rename(&tmp.path, path)
    } else {
        // a hard link never replaces an existing file, unlike rename
        match fs::hard_link(&tmp.path, path) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(exists(path)),
            Err(_) if path.symlink_metadata().is_ok() => return Err(exists(path)),
            // file systems without hard links: fall back to rename after the check above
            Err(_) => fs::rename(&tmp.path, path),
            Ok(()) => Ok(()),
        }
    };
    placed.map_err(|e| Failure::io(format!("cannot create {}", path.display()), &e))?;
    // make the new directory entry durable too (not every platform can sync a directory)
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The `exists` error for a file that is not replaced without `--force`.
pub(crate) fn exists(path: &Path) -> Failure {
    Failure::exists(format!(
        "{} already exists (use --force to replace it)",
        path.display()
    ))
}

/// A temporary file next to the target, removed when dropped (after a rename or link it is
/// either gone already or a second name of the target).
struct TempFile {
    path: PathBuf,
    file: File,
}

impl TempFile {
    fn create(dir: &Path, name: &std::ffi::OsStr, mode: u32) -> Result<Self, Failure> {
        let pid = std::process::id();
        let mut last = None;
        for n in 0..100u32 {
            let mut tmp_name = std::ffi::OsString::from(".");
            tmp_name.push(name);
            tmp_name.push(format!(".{pid}.{n}.tmp"));
            let path = dir.join(tmp_name);
            // create_new: O_EXCL, so a pre-planted file or symlink is never followed
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(&path)
            {
                Ok(file) => {
                    let tmp = Self { path, file };
                    // the umask may have cleared bits; make the mode exact
                    tmp.file
                        .set_permissions(fs::Permissions::from_mode(mode))
                        .map_err(|e| {
                            Failure::io(
                                format!("cannot set the mode of {}", tmp.path.display()),
                                &e,
                            )
                        })?;
                    return Ok(tmp);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => {
                    return Err(Failure::io(
                        format!("cannot create a file in {}", dir.display()),
                        &e,
                    ));
                }
            }
        }
        let e = last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AlreadyExists));
        Err(Failure::io(
            format!("cannot create a temporary file in {}", dir.display()),
            &e,
        ))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
