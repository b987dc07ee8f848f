//! The public upstream suites (SPEC.md §12): BIP-340, Wycheproof Ed25519, RFC 8032, the
//! cyberphone JCS test data and ES6 number file, zstd golden frames, atproto handle syntax.
#![allow(
    clippy::cast_possible_truncation,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{hex, hex32, upstream};
use kez_core::{Alg, SecretKey, jcs, verify_raw};
use sha2::{Digest, Sha256};

#[test]
fn bip340_csv() {
    let Some(dir) = upstream("bip340") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("test-vectors.csv")).unwrap();
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.splitn(8, ',').collect();
        let (idx, sk, pk, aux, msg, sig, result) = (f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
        let expect = result == "TRUE";
        assert_eq!(
            verify_raw(Alg::Bip340, &hex(pk), &hex(msg), &hex(sig)),
            expect,
            "BIP-340 row {idx}"
        );
        if !sk.is_empty() {
            let key = SecretKey::from_bytes(Alg::Bip340, &hex32(sk)).unwrap();
            assert_eq!(
                key.public().as_bytes().as_slice(),
                hex(pk).as_slice(),
                "row {idx} pubkey"
            );
            let got = key.sign_raw(&hex(msg), &hex32(aux)).unwrap();
            assert_eq!(got.as_slice(), hex(sig).as_slice(), "row {idx} signature");
        }
        rows += 1;
    }
    assert_eq!(rows, 19);
}

#[test]
fn wycheproof_ed25519() {
    let Some(dir) = upstream("wycheproof") else {
        return;
    };
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("ed25519_test.json")).unwrap()).unwrap();
    let mut n = 0;
    for group in doc["testGroups"].as_array().unwrap() {
        let pk = hex(group["publicKey"]["pk"].as_str().unwrap());
        for t in group["tests"].as_array().unwrap() {
            let ok = verify_raw(
                Alg::Ed25519,
                &pk,
                &hex(t["msg"].as_str().unwrap()),
                &hex(t["sig"].as_str().unwrap()),
            );
            let want = t["result"].as_str().unwrap();
            // strict verification: "acceptable" cases (none in this file today) may go either way
            if want != "acceptable" {
                assert_eq!(ok, want == "valid", "tcId {} ({})", t["tcId"], t["comment"]);
            }
            n += 1;
        }
    }
    assert_eq!(n, doc["numberOfTests"].as_u64().unwrap());
}

#[test]
fn rfc8032_ed25519() {
    let Some(dir) = upstream("rfc8032") else {
        return;
    };
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("rfc8032-ed25519.json")).unwrap()).unwrap();
    let vectors = doc["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 5);
    for v in vectors {
        let key =
            SecretKey::from_bytes(Alg::Ed25519, &hex32(v["secret_key"].as_str().unwrap())).unwrap();
        let msg = hex(v["message"].as_str().unwrap());
        assert_eq!(
            key.public().as_bytes().as_slice(),
            hex(v["public_key"].as_str().unwrap())
        );
        let sig = key.sign_raw(&msg, &[0; 32]).unwrap();
        assert_eq!(
            sig.as_slice(),
            hex(v["signature"].as_str().unwrap()),
            "{}",
            v["name"]
        );
        assert!(verify_raw(
            Alg::Ed25519,
            key.public().as_bytes(),
            &msg,
            &sig
        ));
    }
}

#[test]
fn jcs_cyberphone_testdata() {
    let Some(dir) = upstream("jcs") else { return };
    let mut n = 0;
    for entry in std::fs::read_dir(dir.join("input")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_owned();
        let input = std::fs::read(&path).unwrap();
        let expected = std::fs::read(dir.join("output").join(&name)).unwrap();
        let got = jcs::canonicalize_to_vec(&input).unwrap_or_else(|e| panic!("{name:?}: {e}"));
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "{name:?}"
        );
        // the outhex file holds the same bytes
        let hex_name = path.with_extension("txt").file_name().unwrap().to_owned();
        let outhex = std::fs::read_to_string(dir.join("outhex").join(hex_name)).unwrap();
        let from_hex: Vec<u8> = outhex
            .split_whitespace()
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect();
        assert_eq!(got, from_hex);
        n += 1;
    }
    assert_eq!(n, 6);
}

#[test]
fn jcs_es6_numbers_100k() {
    let Some(dir) = upstream("jcs") else { return };
    let text = std::fs::read_to_string(dir.join("es6testfile100k.txt")).unwrap();
    let mut n = 0;
    let mut out = [0u8; 64];
    for line in text.lines() {
        let (bits, expected) = line.split_once(',').unwrap();
        let v = f64::from_bits(u64::from_str_radix(bits, 16).unwrap());
        // Rust's `{:e}` is the shortest round-trip form: the canonicalizer must parse it back to
        // the same double and print it the ECMAScript way.
        let input = format!("{v:e}");
        let len = jcs::canonicalize_to_slice(input.as_bytes(), &mut out)
            .unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(
            std::str::from_utf8(&out[..len]).unwrap(),
            expected,
            "line {line}"
        );
        n += 1;
    }
    assert_eq!(n, 100_000);
}

#[test]
fn zstd_golden_frames() {
    let Some(dir) = upstream("zstd-golden") else {
        return;
    };
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let mut out = vec![0u8; 2 << 20];
    for case in manifest["must_decode"].as_array().unwrap() {
        let frame = std::fs::read(dir.join(case["file"].as_str().unwrap())).unwrap();
        let n = kez_core::zstd_decode_bounded(&frame, &mut out, 8 << 20)
            .unwrap_or_else(|e| panic!("{}: {e}", case["file"]));
        assert_eq!(
            n as u64,
            case["decoded_size"].as_u64().unwrap(),
            "{}",
            case["file"]
        );
        let digest = Sha256::digest(&out[..n]);
        assert_eq!(
            digest[..],
            hex(case["decoded_sha256"].as_str().unwrap()),
            "{}",
            case["file"]
        );
        // the compact limits reject what is larger than a claim may be
        let big = n > kez_core::MAX_DECOMPRESSED;
        let bounded = kez_core::zstd_decode_bounded(
            &frame,
            &mut out[..kez_core::MAX_DECOMPRESSED],
            kez_core::MAX_WINDOW,
        );
        assert_eq!(bounded.is_err(), big, "{}", case["file"]);
    }
    for case in manifest["must_fail"].as_array().unwrap() {
        let frame = std::fs::read(dir.join(case["file"].as_str().unwrap())).unwrap();
        let r = kez_core::zstd_decode_bounded(&frame, &mut out, 8 << 20);
        assert_eq!(r, Err(kez_core::Error::BadCompression), "{}", case["file"]);
    }
}

#[test]
fn atproto_handle_syntax() {
    let Some(dir) = upstream("atproto-syntax") else {
        return;
    };
    let lines = |f: &str| -> Vec<String> {
        std::fs::read_to_string(dir.join(f))
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    let mut buf = [0u8; kez_core::MAX_SUBJECT];
    for h in lines("handle_syntax_valid.txt") {
        assert!(
            kez_core::is_atproto_handle(&h),
            "valid handle rejected: {h}"
        );
        let got = kez_core::normalize_subject(&format!("bluesky:{h}"), &mut buf)
            .unwrap()
            .to_owned();
        assert_eq!(got, format!("bluesky:{}", h.to_ascii_lowercase()));
    }
    for h in lines("handle_syntax_invalid.txt") {
        assert!(
            !kez_core::is_atproto_handle(&h),
            "invalid handle accepted: {h:?}"
        );
        assert!(
            kez_core::normalize_subject(&format!("bluesky:{h}"), &mut buf).is_err(),
            "{h:?}"
        );
    }
}
