//! Chunk assembly of a 10 MiB file: 128 chunks of 80 KiB, received in a shuffled order, put
//! together by `kez_core::Assembler` in a caller's buffer (base64 decode of each chunk into
//! place, the incremental SHA-256, `finalize`'s check), against the floor: a copy of the same
//! 10 MiB plus one SHA-256 over them. A second reference decodes each chunk's base64 into place
//! and hashes the file once (what the assembler cannot avoid), to show where the time goes.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::indexing_slicing,
    clippy::panic
)]

use base64ct::{Base64, Encoding as _};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kez_core::{Assembler, Body, Chunk, MAX_CHUNK_SIZE, MAX_FILE_SIZE, Pointer, parse_body};
use sha2::{Digest, Sha256};
use std::hint::black_box;

const CHUNKS: u32 = 128;

fn bench(c: &mut Criterion) {
    let ratios = kez_core_bench::Ratios::new();
    let size = MAX_FILE_SIZE as usize;
    let chunk_size = MAX_CHUNK_SIZE as usize;
    assert_eq!(chunk_size * CHUNKS as usize, size);
    let file: Vec<u8> = (0..size)
        .map(|i| {
            (i as u64)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_right(29) as u8
        })
        .collect();
    let sha = Sha256::digest(&file);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let file_id = "00112233445566778899aabbccddeeff";

    // the bodies as they arrive, parsed once outside the measurement
    let pointer_json = format!(
        r#"{{"chunk_size":{chunk_size},"file_id":"{file_id}","filename":"big.bin","mime":"application/octet-stream","n":{CHUNKS},"sha256":"{}","size":{size},"type":"kez-file-v1"}}"#,
        hex(&sha)
    );
    let pointer: Pointer = match parse_body(&pointer_json).unwrap() {
        Body::Pointer(p) => p,
        other => panic!("not a pointer: {other:?}"),
    };
    // a fixed shuffle (Fisher-Yates on a xorshift stream)
    let mut order: Vec<u32> = (0..CHUNKS).collect();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for i in (1..order.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let chunk_json: Vec<String> = order
        .iter()
        .map(|&i| {
            let bytes = &file[i as usize * chunk_size..][..chunk_size];
            format!(
                r#"{{"data":"{}","file_id":"{file_id}","i":{i},"n":{CHUNKS},"type":"kez-file-chunk-v1"}}"#,
                Base64::encode_string(bytes)
            )
        })
        .collect();
    let chunks: Vec<Chunk<'_>> = chunk_json
        .iter()
        .map(|j| match parse_body(j).unwrap() {
            Body::Chunk(c) => c,
            other => panic!("not a chunk: {other:?}"),
        })
        .collect();

    let mut buf = vec![0u8; size];
    {
        let mut a = Assembler::from_pointer(&pointer, &mut buf).unwrap();
        for ch in &chunks {
            a.add_chunk(ch).unwrap();
        }
        assert_eq!(a.finalize().unwrap(), file.as_slice());
    }

    let mut g = c.benchmark_group("assembler");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(size as u64));
    g.bench_function("assemble_10MiB_128_chunks", |b| {
        b.iter(|| {
            let mut a = Assembler::from_pointer(black_box(&pointer), &mut buf).unwrap();
            for ch in &chunks {
                a.add_chunk(black_box(ch)).unwrap();
            }
            a.finalize().map(<[u8]>::len).unwrap()
        });
    });
    g.bench_function("memcpy_sha256_10MiB", |b| {
        b.iter(|| {
            buf.copy_from_slice(black_box(&file));
            Sha256::digest(&buf)
        });
    });
    g.bench_function("base64_sha256_10MiB", |b| {
        b.iter(|| {
            for ch in &chunks {
                let at = ch.index as usize * chunk_size;
                ch.data
                    .decode_into(&mut buf[at..at + ch.data.len()])
                    .unwrap();
            }
            Sha256::digest(&buf)
        });
    });
    g.finish();
    ratios.print(&[
        (
            "assembling 10 MiB from 128 shuffled chunks vs memcpy + one SHA-256",
            "assembler/assemble_10MiB_128_chunks",
            "assembler/memcpy_sha256_10MiB",
        ),
        (
            "assembling 10 MiB vs base64 decode of the chunks into place + one SHA-256",
            "assembler/assemble_10MiB_128_chunks",
            "assembler/base64_sha256_10MiB",
        ),
    ]);
}

criterion_group!(benches, bench);
criterion_main!(benches);
