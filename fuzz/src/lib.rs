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
    ("jcs_diff", jcs_diff),
    ("claim_parse", claim_parse),
    ("decode_any", decode_any),
    ("compact", compact),
    ("txt_join", txt_join),
    ("markdown", markdown),
    ("subject", subject),
    ("keyref", keyref),
    ("keyfile", keyfile),
    ("body", body),
    ("envelope", envelope),
    ("assembler", assembler),
    ("sigchain", sigchain),
    ("compact_zstd", zstd_frame),
];

/// The targets of kez-nostr's parsers, whose checks are in `src/nostr.rs` (kez-core's replay
/// test, which includes this file, has no kez-nostr): their `seeds/` and `regressions/` are
/// replayed by `std-adapters/nostr/tests/fuzz_seeds.rs`.
pub const NOSTR_TARGETS: &[&str] = &["nostr_event", "relay_message", "nip11", "gift_unwrap"];

/// JCS: canonical output is accepted again and is a fixed point; the fixed-buffer sink agrees
/// with the `Vec` sink and reports a buffer one byte short as `TooLarge`.
pub fn jcs(data: &[u8]) -> bool {
    let once = jcs::canonicalize_to_vec(data);
    assert_eq!(
        jcs::check(data).err(),
        once.as_ref().err().copied(),
        "check() and canonicalize() disagree"
    );
    let Ok(once) = once else {
        return false;
    };
    let twice = jcs::canonicalize_to_vec(&once);
    assert_eq!(
        twice.as_deref(),
        Ok(once.as_slice()),
        "JCS output is not its own canonical form"
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

/// JCS against serde_json's value model (`float_roundtrip` on, `arbitrary_precision` off):
/// whatever kez accepts, serde_json accepts too, with the same value (strings, member sets,
/// element order, numbers as f64), and kez's canonical output parses in serde_json to that value
/// again. Whatever serde_json accepts and kez refuses must be one of the refusals serde_json
/// does not make: a duplicate name (serde_json keeps the last member) or nesting deeper than
/// `MAX_DEPTH` (serde_json allows 128). Everything else both refuse alike: lone surrogates,
/// numbers that overflow f64, control characters, bad UTF-8, trailing data.
pub fn jcs_diff(data: &[u8]) -> bool {
    let theirs = serde_json::from_slice::<serde_json::Value>(data);
    let ours = jcs::canonicalize_to_vec(data);
    match (ours, theirs) {
        (Ok(canonical), Ok(value)) => {
            let again = serde_json::from_slice::<serde_json::Value>(&canonical);
            assert!(
                again.is_ok(),
                "serde_json refuses kez's canonical output: {again:?}"
            );
            if let Ok(again) = again {
                assert!(
                    same_value(&value, &again),
                    "canonical output changes the value: {value} vs {again}"
                );
            }
            true
        }
        (Ok(_), Err(e)) => panic!("kez accepts, serde_json refuses: {e}"),
        (Err(e), Ok(_)) => {
            assert!(
                matches!(e, Error::DuplicateKey { .. } | Error::TooDeep { .. }),
                "serde_json accepts, kez refuses with {e:?}"
            );
            false
        }
        (Err(_), Err(_)) => false,
    }
}

/// Equality of two serde_json values where numbers compare as the f64 they denote (kez
/// canonicalizes every number through f64: `1.0` and `1`, `-0` and `0`, `1e2` and `100` are
/// the same value) and objects as member sets.
fn same_value(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64().is_some() && x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
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

/// Message bodies: a file body written back as JSON (canonical member order, names escaped)
/// parses to the same body; an inline file decodes to its declared size.
pub fn body(data: &[u8]) -> bool {
    use kez_core::{Body, parse_body};
    let Ok(text) = core::str::from_utf8(data) else {
        return false;
    };
    let Ok(parsed) = parse_body(text) else {
        return false;
    };
    let again = match &parsed {
        Body::Text(t) => {
            assert_eq!(*t, text, "text body is not the input");
            return false;
        }
        Body::Inline(f) => {
            let mut out = vec![0u8; f.data.len()];
            let decoded = f.data.decode_into(&mut out).map(<[u8]>::len);
            assert_eq!(decoded, Ok(f.data.len()), "inline data does not decode");
            format!(
                r#"{{"data":"{}","filename":{},"mime":{},"sha256":"{}","size":{},"type":"kez-file-v1"}}"#,
                f.data.text(),
                json_string(&f.filename),
                json_string(&f.mime),
                hex(&f.sha256),
                f.data.len()
            )
        }
        Body::Chunk(c) => format!(
            r#"{{"data":"{}","file_id":"{}","i":{},"n":{},"type":"kez-file-chunk-v1"}}"#,
            c.data.text(),
            c.file_id,
            c.index,
            c.count
        ),
        Body::Pointer(p) => format!(
            r#"{{"chunk_size":{},"file_id":"{}","filename":{},"mime":{},"n":{},"sha256":"{}","size":{},"type":"kez-file-v1"}}"#,
            p.chunk_size,
            p.file_id,
            json_string(&p.filename),
            json_string(&p.mime),
            p.count,
            hex(&p.sha256),
            p.size
        ),
        Body::Resend(r) => format!(
            r#"{{"file_id":"{}","missing":[{}],"type":"kez-file-resend-v1"}}"#,
            r.file_id,
            r.missing()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        ),
        Body::Receipt(id) => format!(r#"{{"id":"{}","type":"kez-receipt-v1"}}"#, hex(id)),
    };
    assert_eq!(
        parse_body(&again).as_ref(),
        Ok(&parsed),
        "file body written back parses differently: {again}"
    );
    true
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// NIP-44 envelope. Input starting with `pt:`: the rest is a plaintext that must encrypt,
/// decrypt to itself, and fail (cleanly) with any one byte of the payload text changed.
/// Otherwise the input is an envelope text opened with a fixed key; accepted when it opens,
/// and then it must open to the same plaintext again after re-encryption.
pub fn envelope(data: &[u8]) -> bool {
    use kez_core::nip44::{
        ConversationKey, MAX_ENVELOPE_PLAINTEXT, decrypt_in_place, encrypt_base64, payload_b64_len,
    };
    let key = ConversationKey::from_bytes([0x42; 32]);
    let nonce = [0x24; 32];
    if let Some(pt) = data.strip_prefix(b"pt:") {
        let mut out = vec![0u8; payload_b64_len(pt.len())];
        let Ok(text) = encrypt_base64(&key, &nonce, pt, &mut out) else {
            assert!(pt.is_empty() || pt.len() > MAX_ENVELOPE_PLAINTEXT);
            return false;
        };
        let text = text.as_bytes().to_vec();
        let mut buf = text.clone();
        assert_eq!(decrypt_in_place(&key, &mut buf), Ok(pt), "round trip");
        let at = pt.first().map_or(0, |b| usize::from(*b)) % text.len();
        let mut bad = text;
        if let Some(b) = bad.get_mut(at) {
            *b = if *b == b'A' { b'B' } else { b'A' };
        }
        assert!(
            decrypt_in_place(&key, &mut bad).is_err(),
            "a changed payload opened"
        );
        return true;
    }
    let mut buf = data.to_vec();
    let Ok(pt) = decrypt_in_place(&key, &mut buf) else {
        return false;
    };
    let pt = pt.to_vec();
    let mut out = vec![0u8; payload_b64_len(pt.len())];
    let mut again = match encrypt_base64(&key, &nonce, &pt, &mut out) {
        Ok(text) => text.as_bytes().to_vec(),
        Err(e) => panic!("an opened plaintext does not encrypt: {e}"),
    };
    assert_eq!(decrypt_in_place(&key, &mut again), Ok(&pt[..]));
    true
}

/// The assembler fed a sequence of bodies, one per line: chunks and pointers go to one
/// transfer (64 KiB buffer). Accepted when the transfer finalizes; the file then has the
/// pointer's size and hash.
pub fn assembler(data: &[u8]) -> bool {
    use kez_core::{Assembler, Body, parse_body};
    use sha2::{Digest, Sha256};
    let Ok(text) = core::str::from_utf8(data) else {
        return false;
    };
    let mut buf = vec![0u8; 65_536];
    let mut slot = Some(&mut buf[..]);
    let mut asm: Option<Assembler<'_>> = None;
    let mut want = None;
    for line in text.lines().take(4096) {
        match parse_body(line) {
            Ok(Body::Chunk(c)) => match asm.as_mut() {
                Some(a) => {
                    let _ = a.add_chunk(&c);
                }
                None => {
                    if let Some(b) = slot.take() {
                        asm = Assembler::from_chunk(&c, b).ok();
                    }
                }
            },
            Ok(Body::Pointer(p)) => {
                let taken = match asm.as_mut() {
                    Some(a) => a.add_pointer(&p).is_ok(),
                    None => {
                        asm = slot
                            .take()
                            .and_then(|b| Assembler::from_pointer(&p, b).ok());
                        asm.is_some()
                    }
                };
                if taken {
                    want.get_or_insert((p.size, p.sha256));
                }
            }
            _ => {}
        }
        if let Some(a) = asm.as_ref() {
            let (got, total) = a.progress();
            assert!(got <= total, "progress past the total");
        }
    }
    let Some(mut a) = asm else {
        return false;
    };
    let complete = a.is_complete();
    let Ok(file) = a.finalize() else {
        return false;
    };
    assert!(complete, "finalized while incomplete");
    let Some((size, sha)) = want else {
        panic!("finalized without a pointer");
    };
    assert_eq!(file.len(), size as usize, "size");
    assert_eq!(<[u8; 32]>::from(Sha256::digest(file)), sha, "hash");
    true
}

/// Sigchain bundles, replayed as the CLI does: [`bundle_lines`](kez_core::chain::bundle_lines)
/// splits the bundle, each line goes to [`VecReplay::push`](kez_core::chain::VecReplay).
/// Unlike the CLI, the replay goes on past a refused line (a refused line must leave the state
/// as it was, so what follows is judged against the same state). Accepted when at least one
/// link is applied. Checked: an applied link is the head (seq one more than before, its hash);
/// a duplicate is the head line again; a fork names the head; a refused line leaves the head
/// unchanged; the head's seq is the number of applied links; and the applied links alone,
/// replayed into a fresh replay, all apply and give the same head, keys, devices and claims.
pub fn sigchain(data: &[u8]) -> bool {
    use kez_core::chain::{Link, Pushed, VecReplay, bundle_lines};
    let mut replay = VecReplay::new_vec();
    let mut applied: Vec<&[u8]> = Vec::new();
    let mut forked = false;
    for line in bundle_lines(data).take(4096) {
        let Ok(line) = line else {
            // a framing error ends the bundle (the CLI's exit 2)
            break;
        };
        assert!(
            !line.is_empty() && !line.contains(&b'\n'),
            "bundle_lines gave a bad line"
        );
        let before = replay.head();
        match replay.push(line) {
            Ok(Pushed::Applied) => {
                assert!(!forked, "applied after a fork");
                let link = Link::parse(line);
                let Ok(link) = link else {
                    panic!("applied a line that does not parse: {link:?}");
                };
                assert_eq!(link.seq(), before.0 + 1, "applied out of seq");
                assert_eq!(replay.head(), (link.seq(), *link.hash()), "head");
                assert_eq!(replay.chain(), Some(link.chain()), "chain id");
                assert_eq!(replay.head_iat(), link.iat(), "head iat");
                applied.push(line);
            }
            Ok(Pushed::Duplicate) => {
                assert_eq!(applied.last(), Some(&line), "duplicate of a non-head line");
                assert_eq!(replay.head(), before, "a duplicate moved the head");
            }
            Ok(Pushed::Fork(fork)) => {
                assert!(!forked, "two forks");
                forked = true;
                assert_eq!((fork.seq, fork.first), before, "fork not at the head");
                assert_ne!(fork.first, fork.second, "fork of identical links");
                assert_eq!(replay.fork(), Some(&fork));
                assert_eq!(replay.status(), Status::Fork);
                assert_eq!(replay.head(), before, "a fork moved the head");
            }
            Ok(Pushed::AfterFork) => assert!(forked, "AfterFork without a fork"),
            Err(_) => assert_eq!(replay.head(), before, "a refused line moved the head"),
        }
    }
    assert_eq!(
        replay.head().0,
        applied.len() as u64,
        "head seq is not the number of applied links"
    );
    assert_eq!(replay.chain().is_some(), !applied.is_empty());
    assert_eq!(replay.primary().is_some(), !applied.is_empty());
    if !forked {
        assert_eq!(replay.status(), Status::Valid);
    }
    for entry in replay.claims() {
        assert!(
            check_normalized(replay.subject(entry)).is_ok(),
            "recorded subject not normalized"
        );
        let _ = replay.judge(&entry.signer, &entry.id);
    }
    if applied.is_empty() {
        return false;
    }

    // the applied prefix alone replays to the same state
    let mut again = VecReplay::new_vec();
    for line in &applied {
        assert_eq!(
            again.push(line),
            Ok(Pushed::Applied),
            "an applied link does not apply again"
        );
    }
    assert_eq!(again.head(), replay.head());
    assert_eq!(again.head_iat(), replay.head_iat());
    assert_eq!(again.primary(), replay.primary());
    assert_eq!(again.keys(), replay.keys(), "keys differ on replay");
    assert_eq!(
        again.devices(),
        replay.devices(),
        "devices differ on replay"
    );
    assert_eq!(again.claims(), replay.claims(), "claims differ on replay");
    true
}

/// Raw zstd frames through kez-core's bounded decoder (the `compact_zstd` target's kez half;
/// its comparison with the zstd C library lives in `fuzz_targets/compact_zstd.rs` only, so
/// this replay on stable builds no C). Accepted when the frame decodes into a
/// [`MAX_DECOMPRESSED`] buffer; the output then decodes again, alone, into a buffer of exactly
/// its size, and a buffer one byte short is refused.
pub fn zstd_frame(data: &[u8]) -> bool {
    use kez_core::{MAX_WINDOW, zstd_decode_bounded};
    let mut out = vec![0u8; MAX_DECOMPRESSED];
    let Ok(n) = zstd_decode_bounded(data, &mut out, MAX_WINDOW) else {
        return false;
    };
    assert!(n <= MAX_DECOMPRESSED, "wrote past the limit");
    let mut exact = vec![0u8; n];
    assert_eq!(zstd_decode_bounded(data, &mut exact, MAX_WINDOW), Ok(n));
    assert_eq!(
        out.get(..n),
        Some(exact.as_slice()),
        "output depends on the buffer"
    );
    if let Some(short) = exact.get_mut(..n.saturating_sub(1)) {
        if n > 0 {
            assert!(
                zstd_decode_bounded(data, short, MAX_WINDOW).is_err(),
                "a buffer one byte short was enough"
            );
        }
    }
    true
}
