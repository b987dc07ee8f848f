//! SPEC.md §16.3 (bodies) and §16.4 (the chunk assembler).
#![allow(
    clippy::cast_possible_truncation,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64ct::{Base64, Encoding};
use kez_core::{
    Added, Assembler, Body, ChunkFault, Error, FileId, MAX_CHUNKS, MAX_FILE_SIZE, Pointer,
    parse_body,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

const ID: &str = "00112233445566778899aabbccddeeff";
const OTHER_ID: &str = "ffeeddccbbaa99887766554433221100";

fn hexs(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn chunk_json(id: &str, i: usize, n: usize, data: &[u8]) -> String {
    format!(
        r#"{{"type":"kez-file-chunk-v1","file_id":"{id}","i":{i},"n":{n},"data":"{}"}}"#,
        Base64::encode_string(data)
    )
}

fn pointer_json(id: &str, file: &[u8], cs: usize) -> String {
    format!(
        r#"{{"type":"kez-file-v1","file_id":"{id}","filename":"a.bin","mime":"application/octet-stream","size":{},"n":{},"chunk_size":{cs},"sha256":"{}"}}"#,
        file.len(),
        file.len().div_ceil(cs),
        hexs(&Sha256::digest(file))
    )
}

fn pointer(json: &str) -> Pointer {
    match parse_body(json).unwrap() {
        Body::Pointer(p) => p,
        other => panic!("not a pointer: {other:?}"),
    }
}

fn with_chunk<R>(json: &str, f: impl FnOnce(&kez_core::Chunk<'_>) -> R) -> R {
    match parse_body(json).unwrap() {
        Body::Chunk(c) => f(&c),
        other => panic!("not a chunk: {other:?}"),
    }
}

fn file(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

// ---- bodies ----

#[test]
fn text_is_anything_not_ours() {
    for t in [
        "hello",
        "",
        "{",
        "{}",
        "[1,2]",
        r#"{"type":"kez-file-v2"}"#,
        r#"{"type":1}"#,
        r#"{"kind":"kez-file-v1"}"#,
        r#"{"type":"kez-file-v1","type":"kez-file-v1"}"#,
        r#"{"type":"kez-file-v1"} trailing"#,
        "  not json {",
    ] {
        assert_eq!(parse_body(t), Ok(Body::Text(t)), "{t}");
    }
}

#[test]
fn inline_file() {
    let data = b"hello, file";
    let json = format!(
        r#" {{"type":"kez-file-v1","filename":"h\u00e9llo \"x\".txt","mime":"text/plain; charset=utf-8","size":{},"sha256":"{}","data":"{}"}} "#,
        data.len(),
        hexs(&Sha256::digest(data)),
        Base64::encode_string(data)
    );
    let Body::Inline(f) = parse_body(&json).unwrap() else {
        panic!()
    };
    assert_eq!(f.filename.as_str(), "h\u{e9}llo \"x\".txt");
    assert_eq!(f.mime.as_str(), "text/plain; charset=utf-8");
    let mut out = vec![0u8; f.data.len()];
    assert_eq!(f.decode_into(&mut out).unwrap(), data);
    // a wrong hash is caught when decoding
    let bad = json.replace(&hexs(&Sha256::digest(data)), &"0".repeat(64));
    let Body::Inline(f) = parse_body(&bad).unwrap() else {
        panic!()
    };
    assert_eq!(f.decode_into(&mut out), Err(Error::HashMismatch));
}

#[test]
fn chunk_pointer_resend() {
    with_chunk(&chunk_json(ID, 2, 3, b"abc"), |c| {
        assert_eq!(c.file_id.to_string(), ID);
        assert_eq!((c.index, c.count, c.data.len()), (2, 3, 3));
    });
    let p = pointer(&pointer_json(ID, &file(5000, 1), 2048));
    assert_eq!((p.size, p.count, p.chunk_size), (5000, 3, 2048));
    assert_eq!(p.chunk_len(0), 2048);
    assert_eq!(p.chunk_len(2), 904);
    let text =
        format!(r#"{{"missing":[ 0, 3,7 ,10239],"file_id":"{ID}","type":"kez-file-resend-v1"}}"#);
    let Body::Resend(r) = parse_body(&text).unwrap() else {
        panic!()
    };
    assert_eq!(r.missing().collect::<Vec<_>>(), [0, 3, 7, 10_239]);
    assert_eq!(r.len(), 4);
    let text = format!(r#"{{"type":"kez-file-resend-v1","file_id":"{ID}","missing":[ ]}}"#);
    let Body::Resend(r) = parse_body(&text).unwrap() else {
        panic!()
    };
    assert!(r.is_empty());
    assert_eq!(r.missing().count(), 0);
}

#[test]
fn receipt() {
    let id = "ab".repeat(32);
    let text = format!(r#"{{"type":"kez-receipt-v1","id":"{id}"}}"#);
    assert_eq!(parse_body(&text), Ok(Body::Receipt([0xab; 32])));
    let bad = [
        // uppercase, short, escaped, missing, extra member, not a string
        format!(
            r#"{{"type":"kez-receipt-v1","id":"{}"}}"#,
            id.to_uppercase()
        ),
        format!(r#"{{"type":"kez-receipt-v1","id":"{}"}}"#, &id[2..]),
        format!(r#"{{"type":"kez-receipt-v1","id":"\u0061{}"}}"#, &id[1..]),
        r#"{"type":"kez-receipt-v1"}"#.to_owned(),
        format!(r#"{{"type":"kez-receipt-v1","id":"{id}","file_id":"{ID}"}}"#),
        r#"{"type":"kez-receipt-v1","id":7}"#.to_owned(),
    ];
    for c in &bad {
        assert_eq!(parse_body(c), Err(Error::BadBody), "{c}");
    }
}

#[test]
fn malformed_file_bodies() {
    let sha = "0".repeat(64);
    let cases = [
        // unknown member, missing member
        format!(
            r#"{{"type":"kez-file-chunk-v1","file_id":"{ID}","i":0,"n":1,"data":"QQ==","x":1}}"#
        ),
        format!(r#"{{"type":"kez-file-chunk-v1","file_id":"{ID}","i":0,"data":"QQ=="}}"#),
        // index out of range, n = 0, n too big
        format!(r#"{{"type":"kez-file-chunk-v1","file_id":"{ID}","i":1,"n":1,"data":"QQ=="}}"#),
        format!(r#"{{"type":"kez-file-chunk-v1","file_id":"{ID}","i":0,"n":0,"data":"QQ=="}}"#),
        format!(
            r#"{{"type":"kez-file-chunk-v1","file_id":"{ID}","i":0,"n":{},"data":"QQ=="}}"#,
            MAX_CHUNKS + 1
        ),
        // empty data, bad base64, non-integer, uppercase or short file_id
        format!(r#"{{"type":"kez-file-chunk-v1","file_id":"{ID}","i":0,"n":1,"data":""}}"#),
        format!(r#"{{"type":"kez-file-chunk-v1","file_id":"{ID}","i":0,"n":1,"data":"QQ="}}"#),
        format!(r#"{{"type":"kez-file-chunk-v1","file_id":"{ID}","i":0.0,"n":1,"data":"QQ=="}}"#),
        format!(
            r#"{{"type":"kez-file-chunk-v1","file_id":"{}","i":0,"n":1,"data":"QQ=="}}"#,
            ID.to_uppercase()
        ),
        r#"{"type":"kez-file-chunk-v1","file_id":"0011","i":0,"n":1,"data":"QQ=="}"#.to_owned(),
        // pointer: n inconsistent, chunk size too small, size 0, size too big
        format!(
            r#"{{"type":"kez-file-v1","file_id":"{ID}","filename":"a","mime":"b","size":5000,"n":2,"chunk_size":2048,"sha256":"{sha}"}}"#
        ),
        format!(
            r#"{{"type":"kez-file-v1","file_id":"{ID}","filename":"a","mime":"b","size":5000,"n":5,"chunk_size":1000,"sha256":"{sha}"}}"#
        ),
        format!(
            r#"{{"type":"kez-file-v1","file_id":"{ID}","filename":"a","mime":"b","size":0,"n":0,"chunk_size":2048,"sha256":"{sha}"}}"#
        ),
        format!(
            r#"{{"type":"kez-file-v1","file_id":"{ID}","filename":"a","mime":"b","size":{},"n":129,"chunk_size":81920,"sha256":"{sha}"}}"#,
            MAX_FILE_SIZE + 1
        ),
        // empty filename, 256-byte filename, control character in mime
        format!(
            r#"{{"type":"kez-file-v1","file_id":"{ID}","filename":"","mime":"b","size":1,"n":1,"chunk_size":2048,"sha256":"{sha}"}}"#
        ),
        format!(
            r#"{{"type":"kez-file-v1","file_id":"{ID}","filename":"{}","mime":"b","size":1,"n":1,"chunk_size":2048,"sha256":"{sha}"}}"#,
            "x".repeat(256)
        ),
        format!(
            r#"{{"type":"kez-file-v1","file_id":"{ID}","filename":"a","mime":"b\n","size":1,"n":1,"chunk_size":2048,"sha256":"{sha}"}}"#
        ),
        // inline: size differs from data, too big
        format!(
            r#"{{"type":"kez-file-v1","filename":"a","mime":"b","size":2,"sha256":"{sha}","data":"QQ=="}}"#
        ),
        // resend: not increasing, out of range, not an array
        format!(r#"{{"type":"kez-file-resend-v1","file_id":"{ID}","missing":[1.5]}}"#),
        format!(r#"{{"type":"kez-file-resend-v1","file_id":"{ID}","missing":[3,3]}}"#),
        format!(r#"{{"type":"kez-file-resend-v1","file_id":"{ID}","missing":[{MAX_CHUNKS}]}}"#),
        format!(r#"{{"type":"kez-file-resend-v1","file_id":"{ID}","missing":"1"}}"#),
        format!(r#"{{"type":"kez-file-resend-v1","file_id":"{ID}","missing":[[1]]}}"#),
    ];
    for c in &cases {
        assert_eq!(parse_body(c), Err(Error::BadBody), "{c}");
    }
    // exactly 255 bytes of name (after unescaping) is fine
    let ok = format!(
        r#"{{"type":"kez-file-v1","file_id":"{ID}","filename":"{}\u00e9","mime":"b","size":1,"n":1,"chunk_size":2048,"sha256":"{sha}"}}"#,
        "x".repeat(253)
    );
    assert!(matches!(parse_body(&ok), Ok(Body::Pointer(_))));
    let big = format!(
        r#"{{"type":"kez-file-chunk-v1","file_id":"{ID}","i":0,"n":1,"data":"QQ==","pad":"{}"}}"#,
        "x".repeat(kez_core::MAX_BODY)
    );
    assert!(matches!(parse_body(&big), Err(Error::TooLarge { .. })));
}

// ---- assembler ----

fn split(file: &[u8], cs: usize) -> Vec<String> {
    let n = file.len().div_ceil(cs);
    file.chunks(cs)
        .enumerate()
        .map(|(i, c)| chunk_json(ID, i, n, c))
        .collect()
}

fn add(a: &mut Assembler<'_>, json: &str) -> Result<Added, Error> {
    with_chunk(json, |c| a.add_chunk(c))
}

#[test]
fn pointer_first_any_order() {
    let f = file(10_000, 3);
    let chunks = split(&f, 1024);
    let mut buf = vec![0u8; f.len()];
    let p = pointer(&pointer_json(ID, &f, 1024));
    let mut a = Assembler::from_pointer(&p, &mut buf).unwrap();
    assert_eq!(a.progress(), (0, 10));
    for i in [9, 3, 0, 1, 5, 2, 4, 8, 7] {
        assert_eq!(add(&mut a, &chunks[i]), Ok(Added::New));
    }
    assert_eq!(a.missing().collect::<Vec<_>>(), [6]);
    assert_eq!(a.finalize(), Err(Error::Incomplete));
    assert_eq!(add(&mut a, &chunks[6]), Ok(Added::New));
    assert_eq!(add(&mut a, &chunks[6]), Ok(Added::Duplicate));
    assert_eq!(a.progress(), (10, 10));
    assert!(a.is_complete());
    assert_eq!(a.finalize().unwrap(), &f[..]);
}

#[test]
fn chunks_first_last_chunk_first() {
    let f = file(5_000, 4);
    let chunks = split(&f, 2048);
    // a buffer bigger than the file: the last chunk waits at its end
    let mut buf = vec![0u8; 20_000];
    let mut a = with_chunk(&chunks[2], |c| Assembler::from_chunk(c, &mut buf)).unwrap();
    assert_eq!(add(&mut a, &chunks[2]), Ok(Added::Duplicate));
    assert_eq!(add(&mut a, &chunks[1]), Ok(Added::New));
    assert_eq!(add(&mut a, &chunks[0]), Ok(Added::New));
    assert_eq!(a.finalize(), Err(Error::Incomplete));
    a.add_pointer(&pointer(&pointer_json(ID, &f, 2048)))
        .unwrap();
    assert_eq!(a.finalize().unwrap(), &f[..]);
}

#[test]
fn pointer_after_only_the_last_chunk() {
    let f = file(5_000, 5);
    let chunks = split(&f, 2048);
    let mut buf = vec![0u8; 5_000];
    let mut a = with_chunk(&chunks[2], |c| Assembler::from_chunk(c, &mut buf)).unwrap();
    a.add_pointer(&pointer(&pointer_json(ID, &f, 2048)))
        .unwrap();
    add(&mut a, &chunks[0]).unwrap();
    add(&mut a, &chunks[1]).unwrap();
    assert_eq!(a.finalize().unwrap(), &f[..]);
}

#[test]
fn single_chunk() {
    let f = file(700, 6);
    let chunks = split(&f, 1024);
    let mut buf = vec![0u8; 700];
    let mut a = with_chunk(&chunks[0], |c| Assembler::from_chunk(c, &mut buf)).unwrap();
    a.add_pointer(&pointer(&pointer_json(ID, &f, 1024)))
        .unwrap();
    assert_eq!(a.finalize().unwrap(), &f[..]);
}

#[test]
fn faults() {
    let f = file(5_000, 7);
    let chunks = split(&f, 2048);
    let p = pointer(&pointer_json(ID, &f, 2048));
    let fault = |r: Result<Added, Error>| match r {
        Err(Error::BadChunk { fault, .. }) => fault,
        other => panic!("{other:?}"),
    };
    let mut conflicting = f[..2048].to_vec();
    conflicting[100] ^= 1;
    let cases = [
        (chunk_json(ID, 0, 3, &conflicting), ChunkFault::Conflict),
        (chunk_json(ID, 0, 3, &f[..2047]), ChunkFault::Conflict),
        (
            chunk_json(OTHER_ID, 1, 3, &f[2048..4096]),
            ChunkFault::WrongFile,
        ),
        (chunk_json(ID, 1, 4, &f[2048..4096]), ChunkFault::WrongCount),
        // a short middle chunk, an oversize middle chunk, a short last chunk
        (
            chunk_json(ID, 1, 3, &f[2048..4000]),
            ChunkFault::WrongLength,
        ),
        (
            chunk_json(ID, 1, 3, &file(2049, 0)),
            ChunkFault::WrongLength,
        ),
        (
            chunk_json(ID, 2, 3, &f[4096..4999]),
            ChunkFault::WrongLength,
        ),
    ];
    for (json, want) in cases {
        let mut buf = vec![0u8; 5_000];
        let mut a = Assembler::from_pointer(&p, &mut buf).unwrap();
        add(&mut a, &chunks[0]).unwrap();
        assert_eq!(fault(add(&mut a, &json)), want, "{json}");
        if want == ChunkFault::WrongFile {
            // not this transfer's chunk: the transfer goes on
            assert_eq!(a.failure(), None);
            add(&mut a, &chunks[1]).unwrap();
            add(&mut a, &chunks[2]).unwrap();
            assert_eq!(a.finalize().unwrap(), &f[..]);
        } else {
            // the transfer has failed for good, with its reason
            let failure = a.failure().unwrap();
            assert_eq!(add(&mut a, &chunks[1]), Err(failure));
            assert_eq!(a.finalize(), Err(failure));
            assert_eq!(failure.kind(), "bad_chunk");
        }
    }
    // tampered bytes: complete, but the hash fails, for good
    let mut buf = vec![0u8; 5_000];
    let mut a = Assembler::from_pointer(&p, &mut buf).unwrap();
    add(&mut a, &chunks[0]).unwrap();
    add(&mut a, &chunk_json(ID, 1, 3, &file(2048, 99))).unwrap();
    add(&mut a, &chunks[2]).unwrap();
    assert!(a.is_complete());
    assert_eq!(a.finalize(), Err(Error::HashMismatch));
    assert_eq!(a.finalize(), Err(Error::HashMismatch));
    assert_eq!(ChunkFault::Conflict.name(), "conflict");
}

#[test]
fn pointer_mismatch_and_room() {
    let f = file(5_000, 8);
    let chunks = split(&f, 2048);
    let mut buf = vec![0u8; 5_000];
    let mut a = with_chunk(&chunks[0], |c| Assembler::from_chunk(c, &mut buf)).unwrap();
    // a pointer with another chunk size (3 chunks of 2000) contradicts chunk 0's 2048 bytes
    let other = file(5_000, 8);
    let bad = pointer(&pointer_json(ID, &other, 2000));
    assert!(matches!(
        a.add_pointer(&bad),
        Err(Error::BadChunk {
            fault: ChunkFault::PointerMismatch,
            ..
        })
    ));
    // a buffer too small for the file
    let mut small = vec![0u8; 4_999];
    assert!(matches!(
        Assembler::from_pointer(&pointer(&pointer_json(ID, &f, 2048)), &mut small),
        Err(Error::TooLarge { .. })
    ));
    let mut small = vec![0u8; 3_000];
    let mut a = with_chunk(&chunks[0], |c| Assembler::from_chunk(c, &mut small)).unwrap();
    assert!(matches!(
        add(&mut a, &chunks[2]),
        Err(Error::BadChunk {
            fault: ChunkFault::NoRoom,
            ..
        })
    ));
    // a second, different pointer
    let mut buf = vec![0u8; 5_000];
    let p = pointer(&pointer_json(ID, &f, 2048));
    let mut a = Assembler::from_pointer(&p, &mut buf).unwrap();
    a.add_pointer(&p).unwrap();
    let q = pointer(&pointer_json(ID, &file(5_000, 9), 2048));
    assert!(a.add_pointer(&q).is_err());
}

#[test]
fn ten_mib_in_80_kib_chunks() {
    let f = file(MAX_FILE_SIZE as usize, 10);
    let chunks = split(&f, 81_920);
    assert_eq!(chunks.len(), 128);
    let mut buf = vec![0u8; f.len()];
    let mut a = with_chunk(&chunks[127], |c| Assembler::from_chunk(c, &mut buf)).unwrap();
    for c in chunks.iter().rev().skip(1) {
        add(&mut a, c).unwrap();
    }
    a.add_pointer(&pointer(&pointer_json(ID, &f, 81_920)))
        .unwrap();
    assert_eq!(a.finalize().unwrap(), &f[..]);
    let _ = FileId([0; 16]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Any arrival order, with duplicates and the pointer anywhere, finalizes to the file;
    /// a conflicting duplicate is refused and fails the transfer.
    #[test]
    fn permutations(
        len in 1usize..12_000,
        cs in 1024usize..3000,
        order in proptest::collection::vec(any::<u32>(), 65),
        dup_every in 1usize..5,
        pointer_at in 0usize..64,
        conflict in any::<bool>(),
    ) {
        let f = file(len, (len % 251) as u8);
        let chunks = split(&f, cs);
        let n = chunks.len();
        let mut idx: Vec<usize> = (0..n).collect();
        // a deterministic shuffle from the drawn numbers
        for k in (1..n).rev() {
            let j = order[k % order.len()] as usize % (k + 1);
            idx.swap(k, j);
        }
        let mut seq: Vec<usize> = Vec::new();
        for (k, &i) in idx.iter().enumerate() {
            seq.push(i);
            if k % dup_every == 0 {
                seq.push(i);
            }
        }
        let pointer_json = pointer_json(ID, &f, cs);
        let p = pointer(&pointer_json);
        let mut buf = vec![0u8; len + 4096];
        let mut a: Option<Assembler<'_>> = None;
        let pointer_pos = pointer_at % (seq.len() + 1);
        let mut buf_ref = Some(&mut buf[..]);
        for (k, &i) in seq.iter().enumerate() {
            if k == pointer_pos {
                match a.as_mut() {
                    Some(a) => a.add_pointer(&p).unwrap(),
                    None => a = Some(Assembler::from_pointer(&p, buf_ref.take().unwrap()).unwrap()),
                }
            }
            match a.as_mut() {
                Some(a) => {
                    add(a, &chunks[i]).unwrap();
                    if conflict && k == 0 {
                        let mut bytes = f[i * cs..((i + 1) * cs).min(len)].to_vec();
                        bytes[0] ^= 0x55;
                        let r = add(a, &chunk_json(ID, i, n, &bytes));
                        let is_conflict = matches!(r, Err(Error::BadChunk { fault: ChunkFault::Conflict, .. }));
                        prop_assert!(is_conflict);
                        prop_assert_eq!(a.finalize().map(<[u8]>::to_vec), r.map(|_| Vec::new()));
                        return Ok(());
                    }
                }
                None => {
                    a = Some(with_chunk(&chunks[i], |c| Assembler::from_chunk(c, buf_ref.take().unwrap())).unwrap());
                }
            }
        }
        let mut a = a.unwrap();
        if !a.has_pointer() {
            a.add_pointer(&p).unwrap();
        }
        prop_assert_eq!(a.progress(), (n as u32, n as u32));
        prop_assert_eq!(a.finalize().unwrap(), &f[..]);
    }

    /// Random chunk bodies thrown at an assembler never panic.
    #[test]
    fn arbitrary_chunks_never_panic(ops in proptest::collection::vec((0usize..6, 1usize..6, 0usize..3000, any::<u8>()), 1..30)) {
        let mut buf = vec![0u8; 8192];
        let first = chunk_json(ID, 0, 4, &file(2048, 0));
        let mut a = with_chunk(&first, |c| Assembler::from_chunk(c, &mut buf)).unwrap();
        for (i, n, len, seed) in ops {
            if i < n && len > 0 {
                let _ = add(&mut a, &chunk_json(ID, i, n, &file(len, seed)));
            }
        }
        let _ = a.finalize();
    }
}
