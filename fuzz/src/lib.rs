//! The property behind each fuzz target, one function per decoder/parser of kez-core.
//!
//! Each function feeds arbitrary bytes to one entry point. It must never panic, and when the
//! input is accepted it checks a round-trip or idempotence property with `assert!`. The
//! return value says whether the input was accepted; the fuzz targets ignore it, the replay
//! test (`core/tests/fuzz_regressions.rs`, which includes this file) uses it to show that the
//! seeds reach the property checks.
//!
//! No `unwrap`/`expect` here: this file is also compiled under the workspace lints.

use kez_core::jcs;
use kez_core::{
    CLAIM_TAG, Claim, Encoding, Error, KeyRef, MAX_COMPACT_LEN, MAX_DECOMPRESSED, MAX_SUBJECT,
    Status, check_normalized, decode_any as decode_any_text, decode_compact, encode_compact,
    find_fence, join_txt, normalize_subject, parse_keyfile, signing_digest, verify_json,
    write_keyfile, write_markdown, write_txt,
};

/// A target's check: feeds the input to one entry point, asserts the property, and says whether
/// the input was accepted.
pub type Check = fn(&[u8]) -> bool;

/// Every target: its name (the directory under `fuzz/seeds/` and `fuzz/regressions/`) and
/// its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("jcs", jcs),
    ("claim_parse", claim_parse),
    ("decode_any", decode_any),
    ("compact", compact),
    ("txt_join", txt_join),
    ("markdown", markdown),
    ("subject", subject),
    ("keyref", keyref),
    ("keyfile", keyfile),
];

/// JCS: canonical output is accepted again and is a fixed point; the fixed-buffer sink agrees
/// with the `Vec` sink and reports a buffer one byte short as `TooLarge`.
pub fn jcs(data: &[u8]) -> bool {
    let Ok(once) = jcs::canonicalize_to_vec(data) else {
        return false;
    };
    let twice = jcs::canonicalize_to_vec(&once);
    assert_eq!(
        twice.as_deref(),
        Ok(once.as_slice()),
        "JCS output is not its own canonical form"
    );
    assert!(
        jcs::check(data).is_ok(),
        "check() rejects what canonicalize() accepts"
    );

    let mut buf = vec![0u8; once.len()];
    assert_eq!(jcs::canonicalize_to_slice(data, &mut buf), Ok(once.len()));
    assert_eq!(buf, once, "slice sink and vec sink disagree");
    if let Some(short) = buf.get_mut(..once.len().saturating_sub(1)) {
        let r = jcs::canonicalize_to_slice(data, short);
        assert!(
            matches!(r, Err(Error::TooLarge { .. })),
            "short buffer gave {r:?}"
        );
    }
    true
}

/// Claims: parse + verify (now = 0) never panic; `verify_json` agrees with the two steps; the
/// digest is the free function's; the claim's canonical form parses to the same claim with
/// the same status.
pub fn claim_parse(data: &[u8]) -> bool {
    let parsed = Claim::parse(data);
    let Ok(claim) = parsed else {
        assert_eq!(
            verify_json(data, 0).err(),
            parsed.err(),
            "verify_json and Claim::parse disagree"
        );
        return false;
    };
    let status = claim.verify(0);
    assert_eq!(verify_json(data, 0).map(|(_, s)| s), Ok(status));
    assert_eq!(claim.json(), data);
    assert_eq!(
        Ok(*claim.digest()),
        signing_digest(CLAIM_TAG, data),
        "digest differs from signing_digest"
    );
    assert!(
        matches!(status, Status::Valid | Status::Invalid | Status::Expired),
        "status {status:?}"
    );

    let mut canonical = Vec::new();
    assert_eq!(claim.write_canonical(&mut canonical), Ok(()));
    let again = Claim::parse(&canonical);
    assert_eq!(
        again.map(|c| (*c.key(), c.subject(), c.iat(), c.exp(), *c.sig())),
        Ok((
            *claim.key(),
            claim.subject(),
            claim.iat(),
            claim.exp(),
            *claim.sig()
        ))
    );
    assert_eq!(
        again.map(|c| c.verify(0)),
        Ok(status),
        "canonical form verifies differently"
    );
    true
}

/// Any encoding: detection agrees with `decode_any`; every decoded compact payload is
/// canonical JSON.
pub fn decode_any(data: &[u8]) -> bool {
    let Ok((enc, json)) = decode_any_text(data) else {
        return false;
    };
    assert_eq!(Encoding::detect(data), Ok(enc));
    if matches!(enc, Encoding::Compact | Encoding::Dns) {
        assert_eq!(
            jcs::canonicalize_to_vec(&json).as_deref(),
            Ok(json.as_slice()),
            "{enc:?} payload not canonical"
        );
    }
    true
}

/// Compact: decoding into a 64 KiB buffer; an accepted payload is canonical, and our own
/// encoder's output decodes back to the same bytes.
pub fn compact(data: &[u8]) -> bool {
    let Ok(text) = core::str::from_utf8(data) else {
        return false;
    };
    let mut out = vec![0u8; MAX_DECOMPRESSED];
    let Ok(n) = decode_compact(text, &mut out) else {
        return false;
    };
    let payload = out.get(..n).unwrap_or_default().to_vec();
    assert_eq!(
        jcs::canonicalize_to_vec(&payload).as_deref(),
        Ok(payload.as_slice())
    );

    let reencoded = encode_compact(&payload);
    let mut back = vec![0u8; MAX_DECOMPRESSED];
    let m = decode_compact(&reencoded, &mut back);
    assert_eq!(m, Ok(n), "re-encoded compact does not decode");
    assert_eq!(back.get(..n), Some(payload.as_slice()));
    true
}

/// DNS TXT: joined strings, written again as RDATA and joined again, give the same text.
pub fn txt_join(data: &[u8]) -> bool {
    let Ok(text) = core::str::from_utf8(data) else {
        return false;
    };
    let mut out = vec![0u8; MAX_COMPACT_LEN];
    let Ok(joined) = join_txt(text, &mut out) else {
        return false;
    };
    let joined = joined.to_owned();

    let mut rdata = Vec::new();
    assert_eq!(write_txt(None, &joined, &mut rdata), Ok(()));
    let Ok(rdata) = String::from_utf8(rdata) else {
        unreachable!("write_txt wrote non-UTF-8");
    };
    let mut again = vec![0u8; MAX_COMPACT_LEN];
    assert_eq!(
        join_txt(&rdata, &mut again),
        Ok(joined.as_str()),
        "TXT round trip changed the text"
    );
    true
}

/// Markdown: the content is a trimmed slice of the input, and wrapping it in a fence again is
/// found again.
pub fn markdown(data: &[u8]) -> bool {
    let Ok(text) = core::str::from_utf8(data) else {
        return false;
    };
    let Ok(inner) = find_fence(text) else {
        return false;
    };
    let range = text.as_bytes().as_ptr_range();
    let inner_range = inner.as_bytes().as_ptr_range();
    assert!(
        range.start <= inner_range.start && inner_range.end <= range.end,
        "content not inside input"
    );
    assert_eq!(
        inner,
        inner.trim_matches([' ', '\t', '\r', '\n']),
        "content not trimmed"
    );

    let mut wrapped = Vec::new();
    assert_eq!(write_markdown(inner, &mut wrapped), Ok(()));
    let Ok(wrapped) = String::from_utf8(wrapped) else {
        unreachable!("write_markdown wrote non-UTF-8");
    };
    assert!(
        find_fence(&wrapped).is_ok(),
        "write_markdown output has no fence"
    );
    true
}

/// Subjects: normalization is idempotent and its output passes `check_normalized`.
pub fn subject(data: &[u8]) -> bool {
    let Ok(text) = core::str::from_utf8(data) else {
        return false;
    };
    let mut out = [0u8; MAX_SUBJECT];
    let Ok(once) = normalize_subject(text, &mut out) else {
        return false;
    };
    let once = once.to_owned();
    let mut again = [0u8; MAX_SUBJECT];
    assert_eq!(
        normalize_subject(&once, &mut again),
        Ok(once.as_str()),
        "normalize is not idempotent"
    );
    assert!(
        check_normalized(&once).is_ok(),
        "normalized subject fails check_normalized"
    );
    true
}

/// Key references: there is exactly one text form, so Display gives back the input.
pub fn keyref(data: &[u8]) -> bool {
    let Ok(text) = core::str::from_utf8(data) else {
        return false;
    };
    let Ok(key) = KeyRef::parse(text) else {
        return false;
    };
    let shown = key.to_string();
    assert_eq!(shown, text, "Display does not round-trip");
    assert_eq!(KeyRef::parse(&shown), Ok(key));
    true
}

/// Key files: the file we write for a parsed key parses to the same key and secret.
pub fn keyfile(data: &[u8]) -> bool {
    let Ok(key) = parse_keyfile(data) else {
        return false;
    };
    let mut written = Vec::new();
    assert_eq!(write_keyfile(&key, &mut written), Ok(()));
    assert_eq!(written.last(), Some(&b'\n'));
    let again = parse_keyfile(&written);
    assert_eq!(again.as_ref().map(|k| *k.public()), Ok(*key.public()));
    assert_eq!(again.map(|k| k.secret_bytes()), Ok(key.secret_bytes()));
    true
}
