//! The acceptance flow: a new identity signs a claim, the claim verifies, and any change to it,
//! expiry, or garbage is caught with the right exit code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{NOW, assert_one_line_error, kez, kez_in, kez_stdin, scratch};

/// `kez identity new --alg ALG --out k.json` in a fresh directory; returns (dir, keyref).
fn new_identity(test: &str, alg: &str) -> (std::path::PathBuf, String) {
    let dir = scratch(&format!("{test}-{alg}"));
    let run = kez_in(
        &["identity", "new", "--alg", alg, "--out", "k.json"],
        b"",
        Some(&dir),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.is_empty(), "{run:?}");
    let keyref = run.stdout.strip_suffix('\n').unwrap().to_owned();
    let prefix = if alg == "nostr" {
        "nostr:npub1"
    } else {
        "ed25519:"
    };
    assert!(keyref.starts_with(prefix), "{keyref}");
    (dir, keyref)
}

fn create(dir: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec![
        "claim",
        "create",
        "--key",
        "k.json",
        "--subject",
        "github:alice",
    ];
    args.extend_from_slice(extra);
    let run = kez_in(&args, b"", Some(dir));
    assert_eq!(run.code, 0, "{run:?}");
    run.stdout
}

fn verify_json(claim: &str, now: &str) -> common::Run {
    kez_stdin(
        &["claim", "verify", "-", "--now", now, "--json"],
        claim.as_bytes(),
    )
}

fn expect_status(run: &common::Run, code: i32, status: &str, reason: &str, key: &str) {
    expect_status_of(run, code, status, reason, key, "github:alice");
}

fn expect_status_of(
    run: &common::Run,
    code: i32,
    status: &str,
    reason: &str,
    key: &str,
    subject: &str,
) {
    assert_eq!(run.code, code, "{run:?}");
    assert!(run.stderr.is_empty(), "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "{{\"key\":\"{key}\",\"reason\":\"{reason}\",\"status\":\"{status}\",\"subject\":\"{subject}\"}}\n"
        )
    );
}

fn flow(alg: &str) {
    let (dir, keyref) = new_identity("flow", alg);
    let compact = create(&dir, &["--iat", "1764115200", "--format", "compact"]);
    assert!(compact.starts_with("kez:z1:") && compact.ends_with('\n'));
    expect_status(
        &verify_json(&compact, NOW),
        0,
        "valid",
        "signature verified",
        &keyref,
    );

    // human output, every encoding
    for format in ["json", "compact", "markdown", "dns"] {
        let claim = create(&dir, &["--iat", "1764115200", "--format", format]);
        let run = kez_stdin(&["claim", "verify", "--now", NOW], claim.as_bytes());
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(
            run.stdout,
            format!("valid: github:alice is claimed by {keyref}\n")
        );
    }

    // one changed character of the JSON form: well-formed, but the signature fails
    let json = create(&dir, &["--iat", "1764115200"]);
    let tampered = json.replace("github:alice", "github:alicf");
    assert_ne!(tampered, json);
    let run = verify_json(&tampered, NOW);
    expect_status_of(
        &run,
        1,
        "invalid",
        "signature does not verify",
        &keyref,
        "github:alicf",
    );
    let run = kez_stdin(&["claim", "verify", "--now", NOW], tampered.as_bytes());
    assert_eq!(run.code, 1);
    assert!(run.stdout.starts_with("invalid: "), "{run:?}");

    // one changed character of the compact form: a change inside the compressed claim text is
    // never valid; a change in zstd framing may still decode to the very same signed bytes
    // (equality is on decoded bytes), which is then the same claim and may verify
    let signed = kez_stdin(&["claim", "convert", "--to", "json"], compact.as_bytes()).stdout;
    let flip = |i: usize| {
        let mut bytes = compact.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    let run = verify_json(&flip(compact.len() / 2), NOW);
    assert_ne!(run.code, 0, "{run:?}");
    for i in "kez:z1:".len()..compact.len() - 1 {
        let flipped = flip(i);
        let run = verify_json(&flipped, NOW);
        match run.code {
            0 => {
                let decoded =
                    kez_stdin(&["claim", "convert", "--to", "json"], flipped.as_bytes()).stdout;
                assert_eq!(decoded, signed, "flip at {i} verified as another claim");
            }
            1 => assert!(run.stdout.contains("\"status\":\"invalid\""), "{run:?}"),
            _ => {
                assert_eq!(run.code, 2, "{run:?}");
                assert_one_line_error(&run.stderr);
            }
        }
    }

    // expired
    let old = create(
        &dir,
        &["--iat", "1000", "--exp", "2000", "--format", "compact"],
    );
    expect_status(
        &verify_json(&old, NOW),
        1,
        "expired",
        "expired at 2000",
        &keyref,
    );
    expect_status(
        &verify_json(&old, "1999"),
        0,
        "valid",
        "signature verified",
        &keyref,
    );
    expect_status(
        &verify_json(&old, "2000"),
        1,
        "expired",
        "expired at 2000",
        &keyref,
    );
}

#[test]
fn acceptance_nostr() {
    flow("nostr");
}

#[test]
fn acceptance_ed25519() {
    flow("ed25519");
}

#[test]
fn default_iat_is_now() {
    let (dir, _) = new_identity("default-iat", "ed25519");
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let json = create(&dir, &[]);
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let iat: u64 = json
        .split("\"iat\":")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(before <= iat && iat <= after, "{json}");
    // and verify defaults to the clock too
    let run = kez_stdin(&["claim", "verify", "--json"], json.as_bytes());
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn nostr_signatures_use_fresh_aux_by_default() {
    let (dir, _) = new_identity("fresh-aux", "nostr");
    let a = create(&dir, &["--iat", "1764115200"]);
    let b = create(&dir, &["--iat", "1764115200"]);
    assert_ne!(a, b, "two default-aux BIP-340 signatures should differ");
    let c = create(&dir, &["--iat", "1764115200", "--aux", common::AUX]);
    let d = create(
        &dir,
        &["--iat", "1764115200", "--aux", &common::AUX.to_uppercase()],
    );
    assert_eq!(c, d);
}

#[test]
fn garbage_is_exit_2_one_line() {
    let inputs: [&[u8]; 12] = [
        b"",
        b"hello",
        b"{",
        b"{}",
        b"[1,2,3]",
        b"kez:z1:",
        b"kez:z1:!!!!",
        b"kez:z1:KLUv_QQ4",
        b"```kez\nkez:z1:AAAA\n```\n",
        b"```kez\nnot closed\n",
        b"\"kez:z1:\" \"\"",
        b"\xff\xfe\x00garbage",
    ];
    for input in inputs {
        for args in [
            &["claim", "verify", "--now", NOW][..],
            &["claim", "verify", "--json"],
            &["claim", "convert", "--to", "json"],
        ] {
            let run = kez_stdin(args, input);
            assert_eq!(run.code, 2, "{input:?} {args:?}: {run:?}");
            assert_one_line_error(&run.stderr);
        }
    }
    let run = kez(&["claim", "verify", "/nonexistent/claim"]);
    run.assert_error("io");
}

#[test]
fn demo_runs_the_main_job_offline() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kez"))
        .arg("demo")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("22 checks, 22 as expected"), "{stdout}");
    assert!(
        stdout.contains("claim with its subject changed     invalid  ok"),
        "{stdout}"
    );
    assert!(
        stdout.contains("claim ap:@alice@social.example"),
        "{stdout}"
    );
}
