//! Shared helpers for kez-core's integration tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

/// The upstream vector folder: `KEZ_UPSTREAM_VECTORS`, else `../shared/upstream-vectors` beside
/// the checkout. Missing under `CI=true` is a failure; elsewhere the caller skips loudly.
pub(crate) fn upstream(sub: &str) -> Option<PathBuf> {
    let root = std::env::var_os("KEZ_UPSTREAM_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/upstream-vectors"),
        PathBuf::from,
    );
    let dir = root.join(sub);
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "upstream vectors missing at {} (CI=true: a missing folder is a failure)",
            dir.display()
        );
    }
    eprintln!(
        "SKIP: upstream vectors not found at {}; set KEZ_UPSTREAM_VECTORS",
        dir.display()
    );
    None
}

pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s = s.trim();
    assert!(s.len() % 2 == 0, "odd hex length: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|_| panic!("bad hex {s}")))
        .collect()
}

pub(crate) fn hex32(s: &str) -> [u8; 32] {
    hex(s).try_into().expect("32 bytes")
}
