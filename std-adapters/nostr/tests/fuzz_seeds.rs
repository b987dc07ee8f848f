//! kez-nostr's fuzz inputs replayed on stable (STYLE.md rule 10), as kez-core's
//! `core/tests/fuzz_regressions.rs` does for its own targets.
//!
//! Every file under `fuzz/seeds/<target>/` (the committed seeds) and `fuzz/regressions/<target>/`
//! (inputs that once made the target fail, kept forever) of the targets in `fuzz/src/nostr.rs`
//! goes through the very check its fuzz target runs: that file, included below. A check fails
//! by panicking: on a panic in kez-nostr, or when an accepted input breaks the property.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::panic::catch_unwind;
use std::path::{Path, PathBuf};

#[path = "../../../fuzz/src/nostr.rs"]
pub mod checks;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// Runs every file of `<root>/<target>/` through the target's check; returns each file with
/// whether it was accepted. Panics (naming every failing file) if a check panics.
fn replay(root: &str, target: &str, check: checks::Check) -> Vec<(PathBuf, bool)> {
    let dir = fuzz_dir().join(root).join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut outcomes = Vec::new();
    let mut failures = Vec::new();
    for file in files {
        let data = fs::read(&file).unwrap();
        match catch_unwind(|| check(&data)) {
            Ok(accepted) => outcomes.push((file, accepted)),
            Err(_) => failures.push(file.display().to_string()),
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
    for &(target, check) in checks::TARGETS {
        for (file, accepted) in replay("regressions", target, check) {
            eprintln!("{target} {} accepted={accepted}", file.display());
        }
    }
}

#[test]
fn seeds_replay_and_reach_every_property() {
    for &(target, check) in checks::TARGETS {
        let outcomes = replay("seeds", target, check);
        assert!(
            !outcomes.is_empty(),
            "fuzz/seeds/{target}/ is missing or empty"
        );
        // at least one seed gets past the parser, so the property assertions really run
        assert!(
            outcomes.iter().any(|(_, accepted)| *accepted),
            "no seed of {target} is accepted: {outcomes:?}"
        );
    }
}

/// The generated seeds are the committed ones; `KEZ_WRITE_FUZZ_SEEDS=1` writes them.
#[test]
fn seeds_are_generated() {
    let write = std::env::var_os("KEZ_WRITE_FUZZ_SEEDS").is_some();
    let mut stale = Vec::new();
    for (target, name, bytes) in checks::seeds() {
        let path = fuzz_dir().join("seeds").join(target).join(name);
        if write {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, &bytes).unwrap();
        } else if fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "seeds not as generated (KEZ_WRITE_FUZZ_SEEDS=1 rewrites them): {stale:#?}"
    );
}

/// What each seed of `gift_unwrap` is meant to reach: accepted, or refused by a given check.
#[test]
fn gift_unwrap_seeds_take_their_paths() {
    let seeds = checks::seeds();
    let accepted = |name: &str| {
        let (_, _, bytes) = seeds.iter().find(|(_, n, _)| *n == name).unwrap();
        checks::gift_unwrap(bytes)
    };
    for name in [
        "0-wrap.json",
        "1-rumor-dm.json",
        "1-rumor-file.json",
        "2-seal.json",
        "3-dm.bin",
        "3-wrap-for-real.bin",
        "3-file-tags.bin",
    ] {
        assert!(accepted(name), "{name} is refused");
    }
    for name in ["3-impersonation.bin", "3-kind-1.bin"] {
        assert!(!accepted(name), "{name} is accepted");
    }
}

#[test]
fn checks_reject_garbage_without_panicking() {
    for &(target, check) in checks::TARGETS {
        for junk in [
            &b""[..],
            b"\xff\xfe",
            b"}",
            b"\"",
            b"[",
            b"[\"OK\"]",
            b"3",
            b"3\x00",
            b"1{",
            b"2{}",
        ] {
            assert!(!check(junk), "{target} accepted {junk:?}");
        }
    }
}

/// Every target here is a `[[bin]]` of `fuzz/Cargo.toml` with its file in `fuzz/fuzz_targets/`,
/// and is listed in `NOSTR_TARGETS` of `fuzz/src/lib.rs`, so kez-core's replay leaves its
/// directories to this one.
#[test]
fn targets_are_declared() {
    let manifest = fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    let lib = fs::read_to_string(fuzz_dir().join("src/lib.rs")).unwrap();
    let listed = lib
        .lines()
        .find(|line| line.starts_with("pub const NOSTR_TARGETS"))
        .expect("NOSTR_TARGETS in fuzz/src/lib.rs");
    for &(target, _) in checks::TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{target}\"")),
            "no [[bin]] {target} in fuzz/Cargo.toml"
        );
        assert!(
            fuzz_dir()
                .join("fuzz_targets")
                .join(format!("{target}.rs"))
                .is_file()
        );
        assert!(
            listed.contains(&format!("\"{target}\"")),
            "{target} is not in NOSTR_TARGETS"
        );
    }
}
