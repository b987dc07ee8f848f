//! `kez identity new|show`: key files (SPEC.md §3.3).
//!
//! A new key file is written to a temporary file in the target's directory (created exclusively,
//! mode 0600), synced, then linked into place, so a crash never leaves a partial key file and an
//! existing one is replaced only with `--force`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use kez_core::{Alg, KeyRef, SecretKey, parse_keyfile, write_keyfile};

use crate::cli::{IdentityNew, IdentityShow, KeyAlg};
use crate::input::{hex32, random32, read_input};
use crate::output::{self, Done, Failure};

/// Key files are private to their owner.
const KEYFILE_MODE: u32 = 0o600;
/// Random BIP-340 candidates tried before giving up (each fails with probability ~2^-128).
const KEYGEN_TRIES: usize = 8;

pub(super) fn new(args: &IdentityNew, json: bool) -> Result<Done, Failure> {
    let alg = match args.alg {
        KeyAlg::Nostr => Alg::Bip340,
        KeyAlg::Ed25519 => Alg::Ed25519,
    };
    let key = match &args.seed {
        Some(seed) => SecretKey::from_bytes(alg, &hex32("--seed", seed)?)?,
        None => generate(alg)?,
    };
    if !args.force && args.out.symlink_metadata().is_ok() {
        return Err(exists(&args.out));
    }
    // room for the whole file up front, so no reallocation leaves a copy of the secret behind
    let mut text = Vec::with_capacity(512);
    let written = write_keyfile(&key, &mut text).map_err(Failure::from);
    let result = written.and_then(|()| install(&args.out, &text, args.force));
    // best effort: do not leave the secret lying around in freed memory
    text.fill(0);
    std::hint::black_box(&text);
    result?;
    Ok(Done::yes(key_line(key.public(), json)))
}

pub(super) fn show(args: &IdentityShow, json: bool) -> Result<Done, Failure> {
    let key = load(&args.key)?;
    Ok(Done::yes(key_line(key.public(), json)))
}

/// Reads and parses a key file (shared with `claim create`).
pub(super) fn load(path: &Path) -> Result<SecretKey, Failure> {
    let mut text = read_input(path)?;
    let key = parse_keyfile(&text).map_err(|e| Failure::from(e).context(path.display()));
    text.fill(0);
    std::hint::black_box(&text);
    key
}

fn generate(alg: Alg) -> Result<SecretKey, Failure> {
    for _ in 0..KEYGEN_TRIES {
        // a BIP-340 scalar must be in [1, n); retry on the rare miss
        if let Ok(key) = SecretKey::from_bytes(alg, &random32()?) {
            return Ok(key);
        }
    }
    Err(Failure::io_msg("OS randomness keeps giving invalid keys"))
}

fn key_line(key: &KeyRef, json: bool) -> Vec<u8> {
    let key = key.to_string();
    if json {
        output::canonical_line(&output::object_text(&[
            ("alg", alg_name(&key)),
            ("key", &key),
        ]))
    } else {
        format!("{key}\n").into_bytes()
    }
}

/// `nostr` or `ed25519`: the key reference's own prefix.
fn alg_name(keyref: &str) -> &str {
    keyref.split_once(':').map_or(keyref, |(prefix, _)| prefix)
}

fn exists(path: &Path) -> Failure {
    Failure::exists(format!(
        "{} already exists (use --force to replace it)",
        path.display()
    ))
}

/// Puts `contents` at `path` atomically, with mode 0600.
fn install(path: &Path, contents: &[u8], force: bool) -> Result<(), Failure> {
    let file_name = path
        .file_name()
        .ok_or_else(|| Failure::usage("--out: not a file name"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = TempFile::create(dir, file_name)?;
    let write_err = |e: io::Error| Failure::io(format!("cannot write {}", tmp.path.display()), &e);
    (&tmp.file).write_all(contents).map_err(write_err)?;
    tmp.file.sync_all().map_err(write_err)?;
    let placed = if force {
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

/// A temporary file next to the target, removed when dropped (after a rename or link it is
/// either gone already or a second name of the target).
struct TempFile {
    path: PathBuf,
    file: File,
}

impl TempFile {
    fn create(dir: &Path, name: &std::ffi::OsStr) -> Result<Self, Failure> {
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
                .mode(KEYFILE_MODE)
                .open(&path)
            {
                Ok(file) => {
                    let tmp = Self { path, file };
                    // the umask may have cleared bits; make the mode exact
                    tmp.file
                        .set_permissions(fs::Permissions::from_mode(KEYFILE_MODE))
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
