//! Compact decoding: ruzstd (as kez-core decodes `kez:z1:` frames) against the zstd C library on
//! the same frames, in the same run; and the whole `decode_compact` (base64url, ruzstd with its
//! bounds, the canonical-JSON check) against the C library's decompression alone.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use base64ct::{Base64UrlUnpadded, Encoding as _};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kez_core::{
    Alg, COMPACT_PREFIX, ClaimDraft, MAX_DECOMPRESSED, MAX_WINDOW, SecretKey, decode_compact,
    encode_compact, jcs, zstd_decode_bounded,
};
use std::hint::black_box;

fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let sk = SecretKey::from_bytes(Alg::Ed25519, &[0x42; 32]).unwrap();
    let mut claim = Vec::new();
    ClaimDraft {
        subject: "github:alice",
        iat: 1_764_115_200,
        exp: Some(1_800_000_000),
    }
    .sign(&sk, &[1; 32], &mut claim)
    .unwrap();
    let doc = jcs::canonicalize_to_vec(kez_core_bench::json_object(60_000).as_bytes()).unwrap();
    assert!(doc.len() <= MAX_DECOMPRESSED);
    vec![("claim", claim), ("60KB", doc)]
}

fn bench(c: &mut Criterion) {
    let ratios = kez_core_bench::Ratios::new();
    let mut g = c.benchmark_group("compact");
    let mut labels = Vec::new();
    for (label, json) in inputs() {
        let text = encode_compact(&json);
        let frame =
            Base64UrlUnpadded::decode_vec(text.strip_prefix(COMPACT_PREFIX).unwrap()).unwrap();
        let mut out = vec![0u8; MAX_DECOMPRESSED];
        // all three must give the JSON back before they are compared
        let n = zstd_decode_bounded(&frame, &mut out, MAX_WINDOW).unwrap();
        assert_eq!(&out[..n], json.as_slice());
        let mut dctx = zstd::bulk::Decompressor::new().unwrap();
        let n = dctx.decompress_to_buffer(&frame, &mut out).unwrap();
        assert_eq!(&out[..n], json.as_slice());
        let n = decode_compact(&text, &mut out).unwrap();
        assert_eq!(&out[..n], json.as_slice());
        println!(
            "{label}: {} B of JSON, {} B zstd frame, {} B compact text",
            json.len(),
            frame.len(),
            text.len()
        );

        g.throughput(Throughput::Bytes(json.len() as u64));
        g.bench_with_input(BenchmarkId::new("ruzstd_frame", label), &frame, |b, f| {
            b.iter(|| zstd_decode_bounded(black_box(f), &mut out, MAX_WINDOW).unwrap());
        });
        g.bench_with_input(BenchmarkId::new("zstd_c_frame", label), &frame, |b, f| {
            b.iter(|| dctx.decompress_to_buffer(black_box(f), &mut out).unwrap());
        });
        g.bench_with_input(BenchmarkId::new("decode_compact", label), &text, |b, t| {
            b.iter(|| decode_compact(black_box(t), &mut out).unwrap());
        });
        labels.push(label);
    }
    g.finish();
    let ids: Vec<(String, String, String)> = labels
        .iter()
        .flat_map(|l| {
            [
                (
                    format!("zstd frame, {l}: ruzstd vs zstd C"),
                    format!("compact/ruzstd_frame/{l}"),
                    format!("compact/zstd_c_frame/{l}"),
                ),
                (
                    format!("decode_compact, {l}: whole decode vs zstd C alone"),
                    format!("compact/decode_compact/{l}"),
                    format!("compact/zstd_c_frame/{l}"),
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
