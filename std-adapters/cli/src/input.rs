//! What the commands take from the environment: bounded input files, the clock, OS randomness
//! and hex arguments.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::output::Failure;

/// Largest input read from a file or stdin, in bytes. Every claim encoding is far smaller
/// (SPEC.md limits: 65536-byte claims, 90112-character compact strings).
pub(crate) const MAX_INPUT: usize = 1 << 20;

/// Largest sigchain bundle read, in bytes: about 100,000 links of typical size (each line is at
/// most 16384 bytes, SPEC.md §14.1).
pub(crate) const MAX_BUNDLE: usize = 64 << 20;

/// Reads `path` (`-` is stdin), at most [`MAX_INPUT`] bytes.
pub(crate) fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    read_input_up_to(path, MAX_INPUT)
}

/// Reads `path` (`-` is stdin), at most `limit` bytes.
pub(crate) fn read_input_up_to(path: &Path, limit: usize) -> Result<Vec<u8>, Failure> {
    if path == Path::new("-") {
        return read_bounded(io::stdin().lock(), "stdin", limit);
    }
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| Failure::io(format!("cannot read {name}"), &e))?;
    read_bounded(file, &name, limit)
}

/// Reads one byte past the limit to tell "exactly at the limit" from "over it", and never
/// buffers more than that.
fn read_bounded(reader: impl Read, name: &str, limit: usize) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Failure::io(format!("cannot read {name}"), &e))?;
    if buf.len() > limit {
        return Err(Failure::from(kez_core::Error::TooLarge { limit }).context(name));
    }
    Ok(buf)
}

/// The system clock, Unix seconds.
pub(crate) fn now() -> Result<u64, Failure> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|_| Failure::io_msg("the system clock is before 1970; pass the time explicitly"))
}

/// 32 bytes of OS randomness.
pub(crate) fn random32() -> Result<[u8; 32], Failure> {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).map_err(|e| Failure::io_msg(format!("no OS randomness: {e}")))?;
    Ok(buf)
}

/// Decodes hex (either case) of any even length. The value is not echoed in the error: it
/// may be a secret.
pub(crate) fn hex(flag: &str, text: &str) -> Result<Vec<u8>, Failure> {
    let bad = || Failure::usage(format!("{flag}: expected hex digits"));
    if text.len() % 2 != 0 {
        return Err(bad());
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| match pair {
            [h, l] => Ok((nibble(*h).ok_or_else(bad)? << 4) | nibble(*l).ok_or_else(bad)?),
            _ => Err(bad()),
        })
        .collect()
}

/// Decodes exactly 64 hex digits.
pub(crate) fn hex32(flag: &str, text: &str) -> Result<[u8; 32], Failure> {
    let bad = || Failure::usage(format!("{flag}: expected 64 hex digits"));
    let bytes = hex(flag, text).map_err(|_| bad())?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| bad())
}

fn nibble(d: u8) -> Option<u8> {
    match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        b'A'..=b'F' => Some(d - b'A' + 10),
        _ => None,
    }
}
