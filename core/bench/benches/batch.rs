//! Ed25519 batch verification of many claims (`kez_core::verify_claims`) against verifying the
//! same parsed claims one by one (`Claim::verify`), in the same run; and the cost of one bad
//! signature, which makes its chunk fall back to one by one.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kez_core::{Alg, Claim, ClaimDraft, SecretKey, Status, verify_claims};
use std::hint::black_box;

const NOW: u64 = 1_764_115_300;

/// `n` Ed25519 claims by `n` different keys.
fn claims_json(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut secret = [0x42u8; 32];
            secret[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let sk = SecretKey::from_bytes(Alg::Ed25519, &secret).unwrap();
            let mut json = Vec::new();
            ClaimDraft {
                subject: &format!("github:user{i}"),
                iat: 1_764_115_200,
                exp: None,
            }
            .sign(&sk, &[1; 32], &mut json)
            .unwrap();
            json
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let ratios = kez_core_bench::Ratios::new();
    let mut g = c.benchmark_group("ed25519_batch");
    let sizes = [64usize, 256];
    for n in sizes {
        let jsons = claims_json(n);
        let mut bad_jsons = jsons.clone();
        // one bad signature in the middle: a different signature's bytes
        let victim = n / 2;
        let donor = Claim::parse(&jsons[0]).unwrap().sig().to_owned();
        let text = String::from_utf8(bad_jsons[victim].clone()).unwrap();
        let at = text.find("\"sig\":\"").unwrap() + 7;
        let hex: String = donor.iter().map(|b| format!("{b:02x}")).collect();
        bad_jsons[victim].splice(at..at + 128, hex.bytes());
        let claims: Vec<Claim<'_>> = jsons.iter().map(|j| Claim::parse(j).unwrap()).collect();
        let bad: Vec<Claim<'_>> = bad_jsons.iter().map(|j| Claim::parse(j).unwrap()).collect();
        // both ways must agree before they are compared
        let one: Vec<Status> = claims.iter().map(|c| c.verify(NOW)).collect();
        assert_eq!(verify_claims(&claims, NOW), one);
        assert!(one.iter().all(|s| *s == Status::Valid));
        let one_bad: Vec<Status> = bad.iter().map(|c| c.verify(NOW)).collect();
        assert_eq!(verify_claims(&bad, NOW), one_bad);
        assert_eq!(one_bad[victim], Status::Invalid);

        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("one_by_one", n), &claims, |b, cl| {
            b.iter(|| {
                black_box(cl)
                    .iter()
                    .filter(|c| c.verify(NOW) == Status::Valid)
                    .count()
            });
        });
        g.bench_with_input(BenchmarkId::new("verify_claims", n), &claims, |b, cl| {
            b.iter(|| verify_claims(black_box(cl), NOW));
        });
        g.bench_with_input(
            BenchmarkId::new("verify_claims_one_bad", n),
            &bad,
            |b, cl| {
                b.iter(|| verify_claims(black_box(cl), NOW));
            },
        );
    }
    g.finish();
    let ids: Vec<(String, String, String)> = sizes
        .iter()
        .flat_map(|n| {
            [
                (
                    format!("{n} claims in a batch vs one by one"),
                    format!("ed25519_batch/verify_claims/{n}"),
                    format!("ed25519_batch/one_by_one/{n}"),
                ),
                (
                    format!("{n} claims, one bad, in a batch vs one by one"),
                    format!("ed25519_batch/verify_claims_one_bad/{n}"),
                    format!("ed25519_batch/one_by_one/{n}"),
                ),
            ]
        })
        .collect();
    let pairs: Vec<(&str, &str, &str)> = ids
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    ratios.print(&pairs);
}

criterion_group!(benches, bench);
criterion_main!(benches);
