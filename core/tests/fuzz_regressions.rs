//! Fuzz inputs replayed on stable (STYLE.md rule 10, after ruzstd).
//!
//! Every file under `fuzz/regressions/<target>/` (inputs that once crashed a cargo-fuzz target,
//! kept forever) and `fuzz/seeds/<target>/` (the committed seed corpus) goes through the very
//! check its fuzz target runs: `fuzz/src/lib.rs`, included below. A check fails by panicking:
//! on a panic in kez-core, or when an accepted input breaks the target's property (JCS
//! idempotence, subject normalization idempotence, key reference round trip, ...). The
//! directories of kez-nostr's targets (`checks::NOSTR_TARGETS`) are left to
//! `std-adapters/nostr/tests/fuzz_seeds.rs`.
#![cfg(all(feature = "alloc", feature = "nip44"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::panic::catch_unwind;
use std::path::{Path, PathBuf};

#[path = "../../fuzz/src/lib.rs"]
pub mod checks;

fn fuzz_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fuzz")
        .join(sub)
}

/// One replayed file: target, file path, and whether the decoder accepted it.
struct Outcome {
    target: &'static str,
    file: PathBuf,
    accepted: bool,
}

/// Runs every file of every `<root>/<target>/` directory through its target's check. Panics
/// (with every failing file named) if a check panics or a directory names no target.
fn replay(root: &Path) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let mut failures = Vec::new();
    let Ok(entries) = fs::read_dir(root) else {
        return outcomes;
    };
    let mut dirs: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if checks::NOSTR_TARGETS.contains(&name.as_str()) {
            // kez-nostr's targets: std-adapters/nostr/tests/fuzz_seeds.rs replays them
            continue;
        }
        let Some(&(target, check)) = checks::TARGETS.iter().find(|(t, _)| *t == name) else {
            panic!("{}: no fuzz target named {name:?}", dir.display());
        };
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let data = fs::read(&file).unwrap();
            match catch_unwind(|| check(&data)) {
                Ok(accepted) => outcomes.push(Outcome {
                    target,
                    file,
                    accepted,
                }),
                Err(_) => failures.push(file.display().to_string()),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fuzz checks failed (see the panic messages above) for: {failures:#?}"
    );
    outcomes
}

#[test]
fn regressions_replay() {
    // Empty until a fuzz run finds something; the files that are there must pass.
    for o in replay(&fuzz_dir("regressions")) {
        eprintln!("{} {} accepted={}", o.target, o.file.display(), o.accepted);
    }
}

#[test]
fn seeds_replay_and_reach_every_property() {
    let outcomes = replay(&fuzz_dir("seeds"));
    for &(target, _) in checks::TARGETS {
        let of_target: Vec<&Outcome> = outcomes.iter().filter(|o| o.target == target).collect();
        assert!(
            !of_target.is_empty(),
            "fuzz/seeds/{target}/ is missing or empty"
        );
        // at least one seed gets past the decoder, so the property assertions really run
        assert!(
            of_target.iter().any(|o| o.accepted),
            "no seed of {target} is accepted: {:?}",
            of_target
                .iter()
                .map(|o| o.file.display().to_string())
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn checks_reject_garbage_without_panicking() {
    for &(target, check) in checks::TARGETS {
        for junk in [
            &b""[..],
            b"\xff\xfe",
            b"}",
            b"kez:z1:",
            b"```kez\n",
            b"\"",
            b"nostr:npub1",
            b"dns:",
        ] {
            assert!(!check(junk), "{target} accepted {junk:?}");
        }
    }
}

/// The frame the `compact_zstd` differential found (`fuzz/README.md`): a libzstd frame with
/// seven bytes changed whose four Huffman streams decode 345, 346, 345 and 344 symbols where
/// each must decode 345 (RFC 8878 §3.1.1.3.1.6). ruzstd alone accepted it, and libzstd's
/// default build too, with other bytes; kez refuses it, as a raw frame and as a compact string.
/// The frame it was made from still decodes.
#[test]
fn compact_zstd_huffman_stream_shares() {
    use base64ct::{Base64UrlUnpadded, Encoding as _};
    use kez_core::{Error, MAX_DECOMPRESSED, MAX_WINDOW, decode_compact, zstd_decode_bounded};
    use sha2::{Digest, Sha256};

    let read = |p: &str| fs::read(fuzz_dir(p)).unwrap();
    let mut out = vec![0u8; MAX_DECOMPRESSED];
    let bad = read("regressions/compact_zstd/huffman-stream-shares-differ.zst");
    assert_eq!(
        zstd_decode_bounded(&bad, &mut out, MAX_WINDOW),
        Err(Error::BadCompression)
    );
    let text = format!("kez:z1:{}", Base64UrlUnpadded::encode_string(&bad));
    assert_eq!(decode_compact(&text, &mut out), Err(Error::BadCompression));

    let good = read("seeds/compact_zstd/c-fast.zst");
    assert_eq!(good.len(), bad.len());
    assert_eq!(zstd_decode_bounded(&good, &mut out, MAX_WINDOW), Ok(3000));
    // byte for byte what `zstd -d` (libzstd 1.5.4) gives: the start of a KEZ vectors file
    assert!(out.starts_with(b"{\n  \"area\": \"sigchain\","));
    let digest: String = Sha256::digest(&out[..3000])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        digest,
        "a982aedc31ac090c1eef6f17b8d28c96ebcc337399cb98df4f6b5421bf1e28f9"
    );
}
