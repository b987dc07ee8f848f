//! JCS throughput beside serde_jcs on the same input, in the same run (issue goal: >= 3x).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kez_core::jcs;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let ratios = kez_core_bench::Ratios::new();
    let mut g = c.benchmark_group("jcs");
    for (label, size) in [("1KB", 1024), ("100KB", 100 * 1024)] {
        let input = kez_core_bench::json_object(size);
        let mut out = vec![0u8; input.len() * 2];
        // both must agree before they are compared
        let ours = jcs::canonicalize_to_vec(input.as_bytes()).unwrap();
        let theirs =
            serde_jcs::to_vec(&serde_json::from_str::<serde_json::Value>(&input).unwrap()).unwrap();
        assert_eq!(
            ours, theirs,
            "kez-core and serde_jcs disagree on the bench input"
        );
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_with_input(BenchmarkId::new("kez_core", label), &input, |b, input| {
            b.iter(|| jcs::canonicalize_to_slice(black_box(input.as_bytes()), &mut out).unwrap());
        });
        g.bench_with_input(
            BenchmarkId::new("kez_core_sha256", label),
            &input,
            |b, input| {
                b.iter(|| {
                    let mut h = <sha2::Sha256 as sha2::Digest>::new();
                    jcs::canonicalize(black_box(input.as_bytes()), &mut h).unwrap();
                    sha2::Digest::finalize(h)
                });
            },
        );
        g.bench_with_input(BenchmarkId::new("serde_jcs", label), &input, |b, input| {
            b.iter(|| {
                let v: serde_json::Value = serde_json::from_str(black_box(input)).unwrap();
                serde_jcs::to_vec(&v).unwrap()
            });
        });
    }
    g.finish();
    ratios.print(&[
        (
            "JCS 1 KB vs serde_jcs",
            "jcs/kez_core/1KB",
            "jcs/serde_jcs/1KB",
        ),
        (
            "JCS 100 KB vs serde_jcs",
            "jcs/kez_core/100KB",
            "jcs/serde_jcs/100KB",
        ),
        (
            "JCS into SHA-256, 1 KB, vs serde_jcs",
            "jcs/kez_core_sha256/1KB",
            "jcs/serde_jcs/1KB",
        ),
    ]);
}

criterion_group!(benches, bench);
criterion_main!(benches);
