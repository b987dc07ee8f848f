//! SPEC.md §16.3: every body `kez_chat::body` writes parses back with `kez_core::parse_body`
//! to the same values, whatever the file name (quotes, backslashes, control characters,
//! non-ASCII) or MIME type.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use kez_chat::body;
use kez_core::{
    Body, FileId, MAX_CHUNK_SIZE, MAX_CHUNKS, MAX_FILE_SIZE, MAX_FILENAME, MAX_INLINE_SIZE,
    MIN_CHUNK_SIZE, parse_body,
};
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};

/// File names of 1 to 255 bytes of UTF-8, drawn from characters that need escaping, ASCII and
/// multi-byte code points.
fn filename() -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        Just('"'),
        Just('\\'),
        Just('/'),
        Just('\u{0}'),
        Just('\n'),
        Just('\u{1f}'),
        Just('\u{7f}'),
        Just('\u{2028}'),
        Just('é'),
        Just('😀'),
        proptest::char::range('a', 'z'),
        proptest::char::any(),
    ];
    proptest::collection::vec(ch, 1..80).prop_map(|cs| {
        let mut s = String::new();
        for c in cs {
            if s.len() + c.len_utf8() > MAX_FILENAME {
                break;
            }
            s.push(c);
        }
        s
    })
}

/// MIME types: 1 to 255 printable ASCII bytes, quotes and backslashes included.
fn mime() -> impl Strategy<Value = String> {
    proptest::collection::vec(0x20u8..0x7f, 1..60)
        .prop_map(|b| b.into_iter().map(char::from).collect())
}

fn file_id() -> impl Strategy<Value = FileId> {
    any::<[u8; 16]>().prop_map(FileId)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn inline_round_trips(name in filename(), mime in mime(), data in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let text = body::inline(&name, &mime, &data);
        let Ok(Body::Inline(f)) = parse_body(&text) else { panic!("{text}") };
        prop_assert_eq!(f.filename.as_str(), name.as_str());
        prop_assert_eq!(f.mime.as_str(), mime.as_str());
        prop_assert_eq!(f.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
        let mut out = vec![0u8; f.data.len()];
        prop_assert_eq!(f.decode_into(&mut out).unwrap(), &data[..]);
    }

    #[test]
    fn chunk_round_trips(id in file_id(), (i, n) in (1..=MAX_CHUNKS).prop_flat_map(|n| (0..n, Just(n))), data in proptest::collection::vec(any::<u8>(), 1..3000)) {
        let text = body::chunk(&id, i, n, &data);
        prop_assert_eq!(text.len(), body::chunk_len(i, n, data.len()));
        let Ok(Body::Chunk(c)) = parse_body(&text) else { panic!("{text}") };
        prop_assert_eq!(c.file_id, id);
        prop_assert_eq!(c.index, i);
        prop_assert_eq!(c.count, n);
        prop_assert!(c.data.eq_bytes(&data));
    }

    #[test]
    fn pointer_round_trips(id in file_id(), name in filename(), mime in mime(), size in 1..=MAX_FILE_SIZE, chunk_size in MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE, sha in any::<[u8; 32]>()) {
        let n = size.div_ceil(chunk_size);
        let text = body::pointer(&id, &name, &mime, u64::from(size), chunk_size, n, &sha);
        let Ok(Body::Pointer(p)) = parse_body(&text) else { panic!("{text}") };
        prop_assert_eq!(p.file_id, id);
        prop_assert_eq!(p.filename.as_str(), name.as_str());
        prop_assert_eq!(p.mime.as_str(), mime.as_str());
        prop_assert_eq!(p.size, size);
        prop_assert_eq!(p.chunk_size, chunk_size);
        prop_assert_eq!(p.count, n);
        prop_assert_eq!(p.sha256, sha);
    }

    #[test]
    fn resend_round_trips(id in file_id(), missing in proptest::collection::btree_set(0..MAX_CHUNKS, 0..200)) {
        let missing: Vec<u32> = missing.into_iter().collect();
        let text = body::resend(&id, &missing);
        let Ok(Body::Resend(r)) = parse_body(&text) else { panic!("{text}") };
        prop_assert_eq!(r.file_id, id);
        prop_assert_eq!(r.missing().collect::<Vec<_>>(), missing.clone());
        prop_assert_eq!(r.is_empty(), missing.is_empty());
    }
}

#[test]
fn limits_at_their_edges() {
    let id = FileId([0xee; 16]);
    // the largest inline file and chunk
    let big = vec![0x5au8; MAX_INLINE_SIZE as usize];
    assert!(matches!(
        parse_body(&body::inline("a", "b/c", &big)),
        Ok(Body::Inline(_))
    ));
    let text = body::chunk(&id, MAX_CHUNKS - 1, MAX_CHUNKS, &big);
    assert!(matches!(parse_body(&text), Ok(Body::Chunk(c)) if c.index == MAX_CHUNKS - 1));
    // a 255-byte name of 2-byte characters plus one byte, and a name that is all escapes
    let name = format!("{}x", "é".repeat(127));
    assert_eq!(name.len(), MAX_FILENAME);
    let escapes: String = "\"\\\u{0}".repeat(85);
    for name in [name, escapes] {
        let text = body::pointer(&id, &name, "x/y", 10_485_760, 81_920, 128, &[1; 32]);
        let Ok(Body::Pointer(p)) = parse_body(&text) else {
            panic!("{text}")
        };
        assert_eq!(p.filename.as_str(), name);
    }
    // the writers do not check limits: a name one byte too long is refused by the reader
    let long = "x".repeat(MAX_FILENAME + 1);
    assert!(parse_body(&body::inline(&long, "a/b", b"1")).is_err());
}
