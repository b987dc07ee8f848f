//! The four encodings of fixed claims (snapshots), and `kez claim convert` round trips
//! (SPEC.md §9).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::Path;

use common::{fixed_claim, fixed_key, kez, kez_stdin, scratch};

const FORMATS: [&str; 4] = ["json", "compact", "markdown", "dns"];

/// The four encodings of the fixed claim of `alg` for `subject`, as one reviewable text.
fn all_encodings(dir: &Path, alg: &str, subject: &str) -> String {
    let key = fixed_key(dir, alg);
    let mut out = String::new();
    for format in FORMATS {
        out.push_str(&format!("--format {format}\n"));
        out.push_str(&fixed_claim(&key, subject, format));
    }
    out
}

#[test]
fn encodings_ed25519() {
    let dir = scratch("enc-ed25519");
    insta::assert_snapshot!(
        "ed25519_github_alice",
        all_encodings(&dir, "ed25519", "github:alice")
    );
}

#[test]
fn encodings_nostr() {
    let dir = scratch("enc-nostr");
    insta::assert_snapshot!(
        "nostr_github_alice",
        all_encodings(&dir, "nostr", "github:alice")
    );
}

#[test]
fn encodings_dns_subject() {
    // a dns: subject gets the zone-file line; the input form is normalized first
    let dir = scratch("enc-dns");
    insta::assert_snapshot!(
        "ed25519_dns_example",
        all_encodings(&dir, "ed25519", "DNS:Example.COM.")
    );
}

#[test]
fn fixed_keys() {
    let dir = scratch("fixed-keys");
    let ed = kez(&["identity", "show", "--key", &fixed_key(&dir, "ed25519")]);
    let nostr = kez(&["identity", "show", "--key", &fixed_key(&dir, "nostr")]);
    insta::assert_snapshot!("fixed_keys", format!("{}{}", ed.stdout, nostr.stdout));
}

fn convert(to: &str, input: &str) -> String {
    let run = kez_stdin(&["claim", "convert", "--to", to, "-"], input.as_bytes());
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.is_empty(), "{run:?}");
    run.stdout
}

#[test]
fn convert_chain_round_trips() {
    let dir = scratch("convert-chain");
    for alg in ["ed25519", "nostr"] {
        let key = fixed_key(&dir, alg);
        for subject in ["github:alice", "dns:example.com"] {
            let json = fixed_claim(&key, subject, "json");
            let compact = convert("compact", &json);
            let markdown = convert("markdown", &compact);
            let dns = convert("dns", &markdown);
            let back = convert("json", &dns);
            assert_eq!(back, json);
        }
    }
}

#[test]
fn convert_every_pair() {
    let dir = scratch("convert-pairs");
    for alg in ["ed25519", "nostr"] {
        let key = fixed_key(&dir, alg);
        for subject in ["github:alice", "dns:example.com"] {
            let encoded: Vec<String> = FORMATS
                .iter()
                .map(|f| fixed_claim(&key, subject, f))
                .collect();
            let json = &encoded[0];
            for (from, input) in FORMATS.iter().zip(&encoded) {
                for (to, expected) in FORMATS.iter().zip(&encoded) {
                    let out = convert(to, input);
                    // our encoder is deterministic, so convert == create, byte for byte
                    assert_eq!(&out, expected, "{from} -> {to}");
                    assert_eq!(&convert("json", &out), json, "{from} -> {to} -> json");
                }
            }
        }
    }
}

#[test]
fn convert_accepts_loose_json_and_json_in_markdown() {
    let dir = scratch("convert-loose");
    let key = fixed_key(&dir, "ed25519");
    let json = fixed_claim(&key, "github:alice", "json");
    // same members, other order and whitespace
    let loose = json.replacen('{', "{ \n\t", 1).replace(",\"", " , \"");
    assert_eq!(convert("json", &loose), json);
    let fenced = format!("# Proof\n\nsome text\n\n```kez\n{}```\n\nmore text\n", json);
    assert_eq!(convert("json", &fenced), json);
    // a file argument works like stdin
    let path = dir.join("claim.md");
    std::fs::write(&path, &fenced).unwrap();
    let run = kez(&["claim", "convert", "--to", "json", path.to_str().unwrap()]);
    assert_eq!((run.code, run.stdout.as_str()), (0, json.as_str()));
}

#[test]
fn convert_rejects_json_that_is_not_a_claim() {
    kez_stdin(
        &["claim", "convert", "--to", "compact", "--json"],
        b"{\"a\":1}",
    )
    .assert_json_error("bad_claim");
}
