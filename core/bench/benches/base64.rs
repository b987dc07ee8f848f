//! base64url decoding into a fixed buffer (base64ct, unpadded, constant-time, as kez-core
//! decodes compact strings) against a plain copy of the same bytes, in the same run.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation
)]

use base64ct::{Base64UrlUnpadded, Encoding as _};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kez_core::MAX_COMPACT_LEN;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let ratios = kez_core_bench::Ratios::new();
    let mut g = c.benchmark_group("base64");
    // a compact claim's size, and the largest compact string kez accepts
    let sizes = [("400B", 400usize), ("88KB", MAX_COMPACT_LEN)];
    for (label, len) in sizes {
        let raw: Vec<u8> = (0..len * 3 / 4).map(|i| (i * 131 + 7) as u8).collect();
        let text = Base64UrlUnpadded::encode_string(&raw);
        let mut out = vec![0u8; text.len()];
        assert_eq!(
            Base64UrlUnpadded::decode(&text, &mut out).unwrap(),
            raw.as_slice()
        );
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::new("base64ct_decode", label), &text, |b, t| {
            b.iter(|| Base64UrlUnpadded::decode(black_box(t), &mut out).map(<[u8]>::len));
        });
        g.bench_with_input(BenchmarkId::new("memcpy", label), &text, |b, t| {
            b.iter(|| {
                out.copy_from_slice(black_box(t.as_bytes()));
                black_box(&out);
            });
        });
    }
    g.finish();
    ratios.print(&[
        (
            "base64url decode of 400 B vs memcpy of the same bytes",
            "base64/base64ct_decode/400B",
            "base64/memcpy/400B",
        ),
        (
            "base64url decode of 88 KB vs memcpy of the same bytes",
            "base64/base64ct_decode/88KB",
            "base64/memcpy/88KB",
        ),
    ]);
}

criterion_group!(benches, bench);
criterion_main!(benches);
