//! Claim verification from JSON text against the raw suite verify of a 32-byte digest, per
//! suite, in the same run (issue goal: parse + JCS + hash overhead under 10%).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use kez_core::{Alg, Claim, ClaimDraft, SecretKey, verify_raw};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let ratios = kez_core_bench::Ratios::new();
    let mut g = c.benchmark_group("claim_verify");
    for (alg, name) in [(Alg::Bip340, "bip340"), (Alg::Ed25519, "ed25519")] {
        let sk = SecretKey::from_bytes(alg, &[0x42; 32]).unwrap();
        let mut json = Vec::new();
        ClaimDraft {
            subject: "github:alice",
            iat: 1_764_115_200,
            exp: Some(1_800_000_000),
        }
        .sign(&sk, &[1; 32], &mut json)
        .unwrap();
        let claim = Claim::parse(&json).unwrap();
        let digest = *claim.digest();
        let sig = *claim.sig();
        let public = *sk.public().as_bytes();
        g.bench_function(format!("{name}/raw_digest_verify"), |b| {
            b.iter(|| {
                assert!(verify_raw(
                    alg,
                    black_box(&public),
                    black_box(&digest),
                    black_box(&sig)
                ))
            });
        });
        g.bench_function(format!("{name}/claim_from_json"), |b| {
            b.iter(|| kez_core::verify_json(black_box(&json), 1_764_115_300).unwrap());
        });
        g.bench_function(format!("{name}/parse_jcs_hash_only"), |b| {
            b.iter(|| *Claim::parse(black_box(&json)).unwrap().digest());
        });
    }
    g.finish();
    ratios.print(&[
        (
            "bip340 claim verify from JSON vs raw verify",
            "claim_verify/bip340/claim_from_json",
            "claim_verify/bip340/raw_digest_verify",
        ),
        (
            "ed25519 claim verify from JSON vs raw verify",
            "claim_verify/ed25519/claim_from_json",
            "claim_verify/ed25519/raw_digest_verify",
        ),
        (
            "bip340 parse + JCS + SHA-256 alone vs raw verify",
            "claim_verify/bip340/parse_jcs_hash_only",
            "claim_verify/bip340/raw_digest_verify",
        ),
        (
            "ed25519 parse + JCS + SHA-256 alone vs raw verify",
            "claim_verify/ed25519/parse_jcs_hash_only",
            "claim_verify/ed25519/raw_digest_verify",
        ),
    ]);
}

criterion_group!(benches, bench);
criterion_main!(benches);
