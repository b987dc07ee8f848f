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
    #[cfg(feature = "nip44")]
    {
        receiving_a_chunked_file_does_not_allocate();
        println!("alloc_free: opening envelopes and assembling a file made no heap allocation");
    }
}

/// Opening envelopes, parsing the bodies and assembling a chunked file (SPEC.md §16).
#[cfg(feature = "nip44")]
fn receiving_a_chunked_file_does_not_allocate() {
    use base64ct::{Base64, Encoding};
    use kez_core::nip44::{ConversationKey, decrypt_in_place, encrypt_base64, payload_b64_len};
    use kez_core::{Assembler, Body, parse_body};
    use sha2::{Digest, Sha256};

    let key = ConversationKey::derive(
        &[0x42; 32],
        &[
            0x79, 0xbe, 0x66, 0x7e, 0xf9, 0xdc, 0xbb, 0xac, 0x55, 0xa0, 0x62, 0x95, 0xce, 0x87,
            0x0b, 0x07, 0x02, 0x9b, 0xfc, 0xdb, 0x2d, 0xce, 0x28, 0xd9, 0x59, 0xf2, 0x81, 0x5b,
            0x16, 0xf8, 0x17, 0x98,
        ],
    )
    .unwrap();
    let file: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let id = "00112233445566778899aabbccddeeff";
    let cs = 81_920;
    let n = file.len().div_ceil(cs);
    let mut bodies: Vec<String> = file
        .chunks(cs)
        .enumerate()
        .map(|(i, c)| {
            format!(
                r#"{{"type":"kez-file-chunk-v1","file_id":"{id}","i":{i},"n":{n},"data":"{}"}}"#,
                Base64::encode_string(c)
            )
        })
        .rev()
        .collect();
    let sha: String = Sha256::digest(&file)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    bodies.push(format!(
        r#"{{"type":"kez-file-v1","file_id":"{id}","filename":"f.bin","mime":"application/octet-stream","size":{},"n":{n},"chunk_size":{cs},"sha256":"{sha}"}}"#,
        file.len()
    ));
    let mut envelopes: Vec<Vec<u8>> = bodies
        .iter()
        .map(|b| {
            let mut out = vec![0u8; payload_b64_len(b.len())];
            encrypt_base64(&key, &[7; 32], b.as_bytes(), &mut out).unwrap();
            out
        })
        .collect();
    let mut buf = vec![0u8; file.len()];
    let done;

    let region = Region::new(GLOBAL);
    {
        let mut asm: Option<Assembler<'_>> = None;
        let mut slot = Some(&mut buf[..]);
        for env in &mut envelopes {
            let text = core::str::from_utf8(decrypt_in_place(&key, env).unwrap()).unwrap();
            match (parse_body(text).unwrap(), asm.as_mut()) {
                (Body::Chunk(c), Some(a)) => {
                    a.add_chunk(&c).unwrap();
                }
                (Body::Chunk(c), None) => {
                    asm = Some(Assembler::from_chunk(&c, slot.take().unwrap()).unwrap());
                }
                (Body::Pointer(p), Some(a)) => a.add_pointer(&p).unwrap(),
                _ => panic!("unexpected body"),
            }
        }
        done = asm.unwrap().finalize().is_ok();
    }
    let stats = region.change();
    assert_eq!(
        stats.allocations + stats.reallocations,
        0,
        "receiving allocated: {stats:?}"
    );
    assert!(done);
    assert_eq!(buf, file);
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
