//! Every limit of SPEC.md, tested on both sides, and the distinct error classes of the
//! rejections the spec singles out (non-canonical compact, duplicate key, lone surrogate,
//! decompression bomb, deep nesting).
#![allow(
    clippy::cast_possible_truncation,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64ct::{Base64UrlUnpadded, Encoding as _};
use kez_core::{
    Alg, Claim, ClaimDraft, Error, MAX_CLAIM_JSON, MAX_COMPACT_LEN, MAX_DECOMPRESSED, MAX_SUBJECT,
    SecretKey, decode_compact, encode_compact, jcs, join_txt, normalize_subject,
};

/// A zstd frame with no content size, the given window descriptor byte, and `blocks`
/// (type, payload, decompressed size).
fn frame(window_descriptor: u8, blocks: &[(u32, &[u8], u32)]) -> Vec<u8> {
    let mut f = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, window_descriptor];
    for (i, (ty, payload, size)) in blocks.iter().enumerate() {
        let last = u32::from(i + 1 == blocks.len());
        let header = last | (ty << 1) | (size << 3);
        f.extend_from_slice(&header.to_le_bytes()[..3]);
        f.extend_from_slice(payload);
    }
    f
}

fn compact_of(frame: &[u8]) -> String {
    format!("kez:z1:{}", Base64UrlUnpadded::encode_string(frame))
}

fn decode(text: &str) -> Result<Vec<u8>, Error> {
    let mut out = vec![0u8; MAX_DECOMPRESSED];
    decode_compact(text, &mut out).map(|n| out[..n].to_vec())
}

fn signed(subject: &str) -> Vec<u8> {
    let sk = SecretKey::from_bytes(Alg::Ed25519, &[9; 32]).unwrap();
    let mut json = Vec::new();
    ClaimDraft {
        subject,
        iat: 1_764_115_200,
        exp: None,
    }
    .sign(&sk, &[0; 32], &mut json)
    .unwrap();
    json
}

#[test]
fn distinct_classes_for_the_named_rejections() {
    let claim = signed("github:alice");
    // non-canonical compact payload: valid claim JSON with one extra space
    let mut spaced = claim.clone();
    spaced.insert(1, b' ');
    let non_canonical = decode(&encode_compact(&spaced)).unwrap_err();
    let duplicate = Claim::parse(br#"{"iat":1,"iat":2}"#).unwrap_err();
    let surrogate = jcs::canonicalize_to_vec(br#"["\ud800"]"#).unwrap_err();
    // 10 MB of zeros: 80 RLE blocks of 128 KiB, window 128 KiB
    let rle: Vec<(u32, &[u8], u32)> = (0..80).map(|_| (1u32, &[0u8][..], 131_072u32)).collect();
    let bomb = decode(&compact_of(&frame(0x38, &rle))).unwrap_err();
    let deep =
        jcs::canonicalize_to_vec(&[vec![b'['; 1000], vec![b']'; 1000]].concat()).unwrap_err();
    let kinds = [
        non_canonical.kind(),
        duplicate.kind(),
        surrogate.kind(),
        bomb.kind(),
        deep.kind(),
    ];
    assert_eq!(
        kinds,
        [
            "non_canonical",
            "duplicate_key",
            "lone_surrogate",
            "too_large",
            "too_deep"
        ]
    );
}

#[test]
fn decompressed_size_limit() {
    // exactly MAX_DECOMPRESSED decodes (then fails as JSON); one more byte is too_large
    let at_limit = encode_compact(&vec![b' '; MAX_DECOMPRESSED]);
    assert!(matches!(decode(&at_limit), Err(Error::JsonSyntax { .. })));
    let over = encode_compact(&vec![b' '; MAX_DECOMPRESSED + 1]);
    assert_eq!(
        decode(&over),
        Err(Error::TooLarge {
            limit: MAX_DECOMPRESSED
        })
    );
}

#[test]
fn window_limit() {
    let json = br#"{"a":1}"#;
    let raw = [(0u32, &json[..], json.len() as u32)];
    // 0x38: 2^17 = 131072 (the limit) is accepted; 0x39: 131072 + 16384 is not
    assert_eq!(decode(&compact_of(&frame(0x38, &raw))).unwrap(), json);
    assert_eq!(
        decode(&compact_of(&frame(0x39, &raw))),
        Err(Error::BadCompression)
    );
}

#[test]
fn frame_shape_rules() {
    let json = br#"{"a":1}"#;
    let raw = [(0u32, &json[..], json.len() as u32)];
    let good = frame(0x38, &raw);
    // trailing byte, a second frame, a skippable frame, a dictionary ID, the reserved bit
    let mut trailing = good.clone();
    trailing.push(0);
    let twice = [good.clone(), good.clone()].concat();
    let skippable = [vec![0x50, 0x2A, 0x4D, 0x18, 0, 0, 0, 0], good.clone()].concat();
    let mut dict = good.clone();
    dict[4] = 0x01;
    let mut reserved = good.clone();
    reserved[4] = 0x08;
    for (name, f) in [
        ("trailing", trailing),
        ("two frames", twice),
        ("skippable", skippable),
        ("dict", dict),
        ("reserved", reserved),
    ] {
        assert_eq!(
            decode(&compact_of(&f)),
            Err(Error::BadCompression),
            "{name}"
        );
    }
    // padding and non-alphabet characters are bad_encoding
    let text = compact_of(&good);
    assert_eq!(decode(&format!("{text}=")), Err(Error::BadEncoding));
    assert!(decode(&text.replacen('_', "/", 1).replacen('-', "+", 1)).is_err());
    assert_eq!(decode(&text["kez:z1:".len()..]), Err(Error::BadEncoding));
}

#[test]
fn compact_text_length_limit() {
    let long = format!("kez:z1:{}", "A".repeat(MAX_COMPACT_LEN - 7));
    assert_eq!(long.len(), MAX_COMPACT_LEN);
    // at the limit the text is read (and fails later as a frame); one more char is too_large
    assert_ne!(
        decode(&long),
        Err(Error::TooLarge {
            limit: MAX_COMPACT_LEN
        })
    );
    assert_eq!(
        decode(&format!("{long}A")),
        Err(Error::TooLarge {
            limit: MAX_COMPACT_LEN
        })
    );
}

#[test]
fn claim_json_size_limit() {
    let claim = signed("github:alice");
    let pad = |total: usize| {
        let mut v = claim.clone();
        v.extend(std::iter::repeat_n(b' ', total - claim.len()));
        v
    };
    assert!(Claim::parse(&pad(MAX_CLAIM_JSON)).is_ok());
    assert_eq!(
        Claim::parse(&pad(MAX_CLAIM_JSON + 1)),
        Err(Error::TooLarge {
            limit: MAX_CLAIM_JSON
        })
    );
}

#[test]
fn integer_limit() {
    let sk = SecretKey::from_bytes(Alg::Ed25519, &[9; 32]).unwrap();
    let max = (1u64 << 53) - 1;
    let mut ok = Vec::new();
    ClaimDraft {
        subject: "github:a",
        iat: max - 1,
        exp: Some(max),
    }
    .sign(&sk, &[0; 32], &mut ok)
    .unwrap();
    assert!(Claim::parse(&ok).is_ok());
    let mut over = Vec::new();
    assert_eq!(
        ClaimDraft {
            subject: "github:a",
            iat: max + 1,
            exp: None
        }
        .sign(&sk, &[0; 32], &mut over),
        Err(Error::BadClaim)
    );
    let text = String::from_utf8(ok)
        .unwrap()
        .replace(&format!("\"exp\":{max}"), &format!("\"exp\":{}", max + 1));
    assert_eq!(Claim::parse(text.as_bytes()), Err(Error::BadClaim));
    // fraction, exponent and sign are not integers; a leading zero is not even JSON
    let t = text.replace(&format!("\"exp\":{}", max + 1), "\"exp\":01");
    assert!(matches!(
        Claim::parse(t.as_bytes()),
        Err(Error::JsonSyntax { .. })
    ));
    for bad in ["1.0", "1e3", "-1"] {
        let t = text.replace(&format!("\"exp\":{}", max + 1), &format!("\"exp\":{bad}"));
        assert_eq!(Claim::parse(t.as_bytes()), Err(Error::BadClaim), "{bad}");
    }
}

#[test]
fn txt_string_limit() {
    let mut out = [0u8; 1024];
    let s255 = "a".repeat(255);
    assert_eq!(join_txt(&format!("\"{s255}\""), &mut out).unwrap(), s255);
    assert_eq!(
        join_txt(&format!("\"{s255}a\""), &mut out),
        Err(Error::BadEncoding)
    );
    assert_eq!(
        join_txt("_kez.a.example. 3600 IN TXT \"ab\" \"cd\"", &mut out).unwrap(),
        "abcd"
    );
    assert_eq!(
        join_txt("_kez.a.example. IN TXT \"ab\"", &mut out).unwrap(),
        "ab"
    );
    for bad in [
        "\"a\"\"b\"",
        "\"\"",
        "\"a b\"",
        "\"a\\\"\"",
        "x A \"ab\"",
        "TXT",
        "\"ab",
    ] {
        assert!(join_txt(bad, &mut out).is_err(), "{bad}");
    }
}

#[test]
fn subject_limits() {
    let mut buf = [0u8; MAX_SUBJECT];
    let ok = |s: String, buf: &mut [u8; MAX_SUBJECT]| normalize_subject(&s, buf).map(str::len);
    assert!(ok(format!("github:{}", "a".repeat(39)), &mut buf).is_ok());
    assert!(ok(format!("github:{}", "a".repeat(40)), &mut buf).is_err());
    assert!(ok(format!("dns:{}.example", "a".repeat(63)), &mut buf).is_ok());
    assert!(ok(format!("dns:{}.example", "a".repeat(64)), &mut buf).is_err());
    // a 253-byte domain: four 62-byte labels and a one-letter top label
    let d253 = format!(
        "{}.{}.{}.{}.c",
        "a".repeat(62),
        "b".repeat(62),
        "c".repeat(62),
        "d".repeat(62)
    );
    assert_eq!(d253.len(), 253);
    assert!(ok(format!("dns:{d253}"), &mut buf).is_ok());
    assert!(ok(format!("dns:x{d253}"), &mut buf).is_err());
    // the longest subject of all fits MAX_SUBJECT exactly
    let longest = ok(format!("ap:@{}@{d253}", "u".repeat(64)), &mut buf).unwrap();
    assert_eq!(longest, MAX_SUBJECT);
    assert!(ok(format!("ap:@{}@{d253}", "u".repeat(65)), &mut buf).is_err());
}

#[test]
fn declared_content_size_must_match() {
    let json = br#"{"a":1}"#;
    // single-segment frame (descriptor 0x20) with a 1-byte Frame_Content_Size
    let with_size = |size: u8| {
        let mut f = vec![0x28, 0xB5, 0x2F, 0xFD, 0x20, size];
        let header = 1u32 | ((json.len() as u32) << 3);
        f.extend_from_slice(&header.to_le_bytes()[..3]);
        f.extend_from_slice(json);
        f
    };
    assert_eq!(
        decode(&compact_of(&with_size(json.len() as u8))).unwrap(),
        json
    );
    assert_eq!(
        decode(&compact_of(&with_size(json.len() as u8 + 1))),
        Err(Error::BadCompression)
    );
}

#[test]
fn ed25519_key_references_are_strict() {
    use kez_core::KeyRef;
    // the identity point (small order) and a non-canonical encoding of y = 1 (y + p)
    let identity = format!("ed25519:01{}", "0".repeat(62));
    assert_eq!(KeyRef::parse(&identity), Err(Error::BadKey));
    // y and y + p (p = 2^255 - 19) name the same point; only the first encoding is accepted
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let mut checked = 0;
    for y in 2u8..19 {
        let mut canonical = [0u8; 32];
        canonical[0] = y;
        if KeyRef::parse(&format!("ed25519:{}", hex(&canonical))).is_err() {
            continue; // not on the curve
        }
        let mut plus_p = [0xffu8; 32];
        plus_p[0] = 0xed + y; // p's low byte is 0xed
        plus_p[31] = 0x7f;
        assert_eq!(
            KeyRef::parse(&format!("ed25519:{}", hex(&plus_p))),
            Err(Error::BadKey),
            "y = {y}"
        );
        checked += 1;
    }
    assert!(checked > 0);
    let good = SecretKey::from_bytes(Alg::Ed25519, &[9; 32]).unwrap();
    assert_eq!(
        KeyRef::parse(&good.public().to_string()).unwrap(),
        *good.public()
    );
}

#[test]
fn nostr_secret_is_kept_as_given() {
    // this secret's public point has odd y; the key file must still hold the given bytes
    for b in 1..=8u8 {
        let sk = SecretKey::from_bytes(Alg::Bip340, &[b; 32]).unwrap();
        assert_eq!(sk.secret_bytes(), [b; 32]);
    }
}
