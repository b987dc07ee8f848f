//! Verifying a JSON claim makes zero heap allocations (SPEC.md §7; ARCHITECTURE "the one rule").
//!
//! This file is its own test binary without libtest's harness (`harness = false`): the count
//! starts from the very first verification in the process, so no warm-up hides a lazy
//! allocation, and no harness thread (libtest's main thread lazily allocating while it waits)
//! can be counted by mistake.
#![allow(
    clippy::cast_possible_truncation,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::alloc::System;

use kez_core::{Alg, ClaimDraft, SecretKey, Status};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    verifying_json_claims_does_not_allocate();
    println!("alloc_free: verifying JSON claims made no heap allocation");
}

fn verifying_json_claims_does_not_allocate() {
    // Build the claims before counting (signing may use the allocator freely).
    let mut claims = Vec::new();
    for alg in [Alg::Bip340, Alg::Ed25519] {
        let sk = SecretKey::from_bytes(alg, &[0x42; 32]).unwrap();
        let mut json = Vec::new();
        ClaimDraft {
            subject: "GitHub:Alice",
            iat: 1_764_115_200,
            exp: Some(1_764_200_000),
        }
        .sign(&sk, &[1; 32], &mut json)
        .unwrap();
        // pretty-printed JSON with escapes takes the slower paths of the canonicalizer
        let pretty = String::from_utf8(
            serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(&json).unwrap())
                .unwrap(),
        )
        .unwrap()
        .replacen("\"iat\"", "\"\\u0069at\"", 1);
        claims.push(json);
        claims.push(pretty.into_bytes());
    }
    let mut tampered = claims[0].clone();
    let at = tampered.windows(5).position(|w| w == b"alice").unwrap();
    tampered[at] = b'b';
    claims.push(tampered);
    let mut statuses = [Status::Invalid; 5];

    let region = Region::new(GLOBAL);
    for (slot, json) in statuses.iter_mut().zip(&claims) {
        *slot = kez_core::verify_json(json, 1_764_115_300).map_or(Status::Fork, |(_, s)| s);
    }
    let stats = region.change();

    assert_eq!(
        stats.allocations + stats.reallocations,
        0,
        "verification allocated: {stats:?}"
    );
    assert_eq!(
        statuses,
        [
            Status::Valid,
            Status::Valid,
            Status::Valid,
            Status::Valid,
            Status::Invalid
        ]
    );
}
