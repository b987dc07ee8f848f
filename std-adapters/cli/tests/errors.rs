//! Distinct error classes through `--json` (SPEC.md §10), input limits, and the exit codes of
//! `kez sig verify`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{fixed_claim, fixed_key, kez, kez_stdin, scratch};
use kez_core::{Alg, SecretKey};

fn jcs(input: &[u8]) -> common::Run {
    kez_stdin(&["jcs", "--json"], input)
}

fn verify(input: &[u8]) -> common::Run {
    kez_stdin(&["claim", "verify", "--json", "--now", common::NOW], input)
}

#[test]
fn jcs_output() {
    let run = jcs(b" {\"b\":[1.0,-0,1e2,\"\\u00e9\\/\"],\"a\":null} \n");
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "{\"a\":null,\"b\":[1,0,100,\"\u{e9}/\"]}\n")
    );
}

#[test]
fn json_error_classes() {
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let deep_obj = format!("{}{}", "{\"a\":".repeat(1000), "}".repeat(1000));
    for (input, class) in [
        (&b"{\"a\":1,\"a\":2}"[..], "duplicate_key"),
        (b"{\"a\":\"\\ud800\"}", "lone_surrogate"),
        (b"[\"\\udc00\"]", "lone_surrogate"),
        (deep.as_bytes(), "too_deep"),
        (deep_obj.as_bytes(), "too_deep"),
        (b"{\"a\":1e400}", "bad_number"),
        (b"{\"a\":1} x", "trailing_data"),
        (b"{\"a\":01}", "json_syntax"),
        (b"{\"a\":\"\xff\"}", "invalid_utf8"),
    ] {
        jcs(input).assert_json_error(class);
        // claim verify sees the same JSON classes (each input starts like a JSON claim)
        if input.first() == Some(&b'{') {
            verify(input).assert_json_error(class);
        }
    }
}

/// Unpadded base64url, enough for building test payloads.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

#[test]
fn compact_error_classes() {
    let dir = scratch("errors-compact");
    let key = fixed_key(&dir, "ed25519");
    let json = fixed_claim(&key, "github:alice", "json");

    // a payload that is valid JSON but not its own JCS form
    let spaced = json.trim_end().replacen('{', "{ ", 1);
    let compact = kez_core::encode_compact(spaced.as_bytes());
    verify(compact.as_bytes()).assert_json_error("non_canonical");
    kez_stdin(
        &["claim", "convert", "--to", "json", "--json"],
        compact.as_bytes(),
    )
    .assert_json_error("non_canonical");
    // the same payload, canonical, verifies
    let canonical = kez_core::encode_compact(json.trim_end().as_bytes());
    assert_eq!(verify(canonical.as_bytes()).code, 0);

    // a zstd bomb: 80 RLE blocks of 128 KiB of zeros (10 MiB), window 128 KiB, no content size
    let mut frame = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38];
    for i in 0..80u32 {
        let header = (131_072u32 << 3) | (1 << 1) | u32::from(i == 79);
        frame.extend_from_slice(&header.to_le_bytes()[..3]);
        frame.push(0x00);
    }
    let bomb = format!("kez:z1:{}", base64url(&frame));
    verify(bomb.as_bytes()).assert_json_error("too_large");

    for (input, class) in [
        ("kez:z1:KLUv_QQ4!", "bad_encoding"),
        ("kez:z1:KLUv_QQ4=", "bad_encoding"),
        ("kez:z1:AAAAAAAA", "bad_compression"),
        ("kez:z2:AAAA", "bad_encoding"),
    ] {
        verify(input.as_bytes()).assert_json_error(class);
    }
    let long = format!("kez:z1:{}", "A".repeat(kez_core::MAX_COMPACT_LEN));
    verify(long.as_bytes()).assert_json_error("too_large");

    // claim-level classes
    let bad_subject = json.replace("github:alice", "github:Alice");
    verify(bad_subject.as_bytes()).assert_json_error("bad_subject");
    let bad_key = json.replace("ed25519:", "ed25519:ff");
    verify(bad_key.as_bytes()).assert_json_error("bad_key");
    let bad_claim = json.replace("kez-claim-v1", "kez-claim-v2");
    verify(bad_claim.as_bytes()).assert_json_error("bad_claim");
    let create = kez(&[
        "claim",
        "create",
        "--key",
        &key,
        "--subject",
        "myspace:tom",
        "--json",
    ]);
    create.assert_json_error("bad_subject");
    let create = kez(&[
        "claim",
        "create",
        "--key",
        &key,
        "--subject",
        "github:a",
        "--iat",
        "5",
        "--exp",
        "5",
    ]);
    create.assert_error("bad_claim");
}

#[test]
fn input_is_capped_at_1_mib() {
    let mut big = vec![b' '; 1 << 20];
    big.extend_from_slice(b"{}");
    jcs(&big).assert_json_error("too_large");
    verify(&vec![0u8; 10 << 20]).assert_json_error("too_large");
    // exactly 1 MiB is read in full
    let mut exact = vec![b' '; (1 << 20) - 2];
    exact.extend_from_slice(b"{}");
    assert_eq!(jcs(&exact).stdout, "{}\n");
}

fn sig_verify(alg: &str, public: &str, msg: &str, sig: &str, json: bool) -> common::Run {
    let mut args = vec![
        "sig", "verify", "--alg", alg, "--pub", public, "--msg", msg, "--sig", sig,
    ];
    if json {
        args.push("--json");
    }
    kez(&args)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn sig_verify_exit_codes() {
    for (alg, name) in [(Alg::Bip340, "bip340"), (Alg::Ed25519, "ed25519")] {
        let key = SecretKey::from_bytes(alg, &[7u8; 32]).unwrap();
        let public = hex(key.public().as_bytes());
        for msg in [&b""[..], b"abc", &[0x5a; 100]] {
            let sig = key.sign_raw(msg, &[1u8; 32]).unwrap();
            let (msg, sig) = (hex(msg), hex(&sig));
            let ok = sig_verify(name, &public, &msg, &sig, false);
            assert_eq!((ok.code, ok.stdout.as_str()), (0, "valid\n"), "{ok:?}");
            let ok = sig_verify(
                name,
                &public.to_uppercase(),
                &msg.to_uppercase(),
                &sig.to_uppercase(),
                true,
            );
            assert_eq!(
                (ok.code, ok.stdout.as_str()),
                (0, "{\"status\":\"valid\"}\n"),
                "{ok:?}"
            );

            // a flipped bit, a wrong message, wrong lengths: the answer is no
            let mut flipped = sig.clone().into_bytes();
            flipped[10] = if flipped[10] == b'0' { b'1' } else { b'0' };
            let flipped = String::from_utf8(flipped).unwrap();
            for (p, m, s) in [
                (public.as_str(), msg.as_str(), flipped.as_str()),
                (&public, "00", &sig),
                (&public, &msg, &sig[..126]),
                (&public, &msg, &format!("{sig}00")),
                (&public[..62], &msg, &sig),
                ("", &msg, &sig),
            ] {
                let no = sig_verify(name, p, m, s, false);
                assert_eq!((no.code, no.stdout.as_str()), (1, "invalid\n"), "{no:?}");
                assert!(no.stderr.is_empty());
            }
            let no = sig_verify(name, &public, &msg, &flipped, true);
            assert_eq!(
                (no.code, no.stdout.as_str()),
                (1, "{\"status\":\"invalid\"}\n")
            );

            // not hex: usage
            for (p, m, s) in [
                (public.as_str(), msg.as_str(), "zz"),
                (&public, "0", &sig),
                (&format!("{public}g0"), &msg, &sig),
            ] {
                sig_verify(name, p, m, s, false).assert_error("usage");
                sig_verify(name, p, m, s, true).assert_json_error("usage");
            }
        }
    }
}

#[test]
fn number_arguments_are_plain_decimal() {
    for bad in ["+5", "-1", "5x", " 5", "18446744073709551616"] {
        let run = kez(&["claim", "verify", "--now", bad, "--json", "-"]);
        run.assert_error("usage");
    }
}
