//! BIP-340 verification with libsecp256k1 (feature `libsecp256k1`) against k256, the default
//! backend, on the same signature in the same run; and a claim verify from JSON with
//! libsecp256k1 selected, against its raw verify.
//!
//! `cargo bench -p kez-core-bench --features libsecp256k1 --bench bip340_backends`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use kez_core::{Alg, Bip340Backend, Claim, ClaimDraft, SecretKey, verify_bip340_with};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let ratios = kez_core_bench::Ratios::new();
    let mut g = c.benchmark_group("bip340_backend");
    let sk = SecretKey::from_bytes(Alg::Bip340, &[0x42; 32]).unwrap();
    let mut json = Vec::new();
    ClaimDraft {
        subject: "github:alice",
        iat: 1_764_115_200,
        exp: Some(1_800_000_000),
    }
    .sign(&sk, &[1; 32], &mut json)
    .unwrap();
    let claim = Claim::parse(&json).unwrap();
    let (public, digest, sig) = (*sk.public().as_bytes(), *claim.digest(), *claim.sig());
    for backend in [Bip340Backend::K256, Bip340Backend::Libsecp256k1] {
        assert!(verify_bip340_with(backend, &public, &digest, &sig));
    }
    g.bench_function("k256/raw_verify", |b| {
        b.iter(|| {
            verify_bip340_with(
                Bip340Backend::K256,
                black_box(&public),
                black_box(&digest),
                black_box(&sig),
            )
        });
    });
    g.bench_function("libsecp256k1/raw_verify", |b| {
        b.iter(|| {
            verify_bip340_with(
                Bip340Backend::Libsecp256k1,
                black_box(&public),
                black_box(&digest),
                black_box(&sig),
            )
        });
    });
    g.bench_function("libsecp256k1/claim_from_json", |b| {
        b.iter(|| kez_core::verify_json(black_box(&json), 1_764_115_300).unwrap());
    });
    g.finish();
    ratios.print(&[
        (
            "BIP-340 raw verify: libsecp256k1 vs k256",
            "bip340_backend/libsecp256k1/raw_verify",
            "bip340_backend/k256/raw_verify",
        ),
        (
            "bip340 claim verify from JSON (libsecp256k1) vs raw verify (libsecp256k1)",
            "bip340_backend/libsecp256k1/claim_from_json",
            "bip340_backend/libsecp256k1/raw_verify",
        ),
    ]);
}

criterion_group!(benches, bench);
criterion_main!(benches);
