//! `kez identity new|show`: key files (SPEC.md §3.3).
//!
//! A new key file appears atomically with mode 0600 (see [`crate::files`]): a crash never leaves
//! a partial key file, and an existing one is replaced only with `--force`.

use std::path::Path;

use kez_core::{Alg, KeyRef, SecretKey, parse_keyfile, write_keyfile};

use crate::cli::{IdentityNew, IdentityShow, KeyAlg};
use crate::files::{self, exists};
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
    let result = written.and_then(|()| files::install(&args.out, &text, args.force, KEYFILE_MODE));
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
