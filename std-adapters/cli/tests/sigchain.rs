//! Sigchains through the CLI (SPEC.md §14): the acceptance scenario, refusals by the chain's
//! rules, forks and stale copies, expiry, `claim verify --chain`, the human views, and garbage.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{AUX, ED_SEED, NOSTR_SEED, Run, assert_one_line_error, kez_in};
use kez_core::chain::{Draft, Position, VecReplay, bundle_lines, claim_id, sign_link};
use kez_core::{Alg, SecretKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Ed25519 seed of the device key.
const DEVICE_SEED: &str = "2020202020202020202020202020202020202020202020202020202020202020";
/// Ed25519 seed of a key that has nothing to do with the chain.
const STRANGER_SEED: &str = "4040404040404040404040404040404040404040404040404040404040404040";
/// The iat of the first link (2025-11-26T00:00:00Z).
const T: u64 = 1_764_115_200;
/// The verification time of the scenario.
const NOW: &str = "1764115300";

/// A scratch directory under the system's temp dir, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(test: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "kez-cli-sigchain-{test}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.path(name), bytes).unwrap();
    }

    /// Runs `kez args` in this directory.
    fn kez(&self, args: &[&str]) -> Run {
        kez_in(args, b"", Some(&self.0))
    }

    /// Runs `kez args` and expects exit 0 with nothing on stderr.
    fn ok(&self, args: &[&str]) -> String {
        let run = self.kez(args);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        assert!(run.stderr.is_empty(), "{args:?}: {run:?}");
        run.stdout
    }

    /// Writes a key file from a fixed seed and returns its key reference.
    fn key(&self, alg: &str, seed: &str, name: &str) -> String {
        let out = self.ok(&[
            "identity", "new", "--alg", alg, "--seed", seed, "--out", name,
        ]);
        out.trim_end().to_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn iat(offset: u64) -> String {
    (T + offset).to_string()
}

fn secret(alg: Alg, seed: &str) -> SecretKey {
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&seed[2 * i..2 * i + 2], 16).unwrap();
    }
    SecretKey::from_bytes(alg, &bytes).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn json(run: &Run) -> Value {
    assert!(run.stdout.ends_with('\n'), "{run:?}");
    assert_eq!(run.stdout.lines().count(), 1, "{run:?}");
    serde_json::from_str(&run.stdout).unwrap()
}

/// The scenario's chain, built through the CLI in `chain.jsonl`.
struct Scenario {
    dir: Dir,
    ed: String,
    nostr: String,
    device: String,
    /// The github claim as `sigchain add` printed it (before it was revoked).
    github_claim: String,
    dns_claim: String,
}

/// ed25519 identity; three claims; revoke github; rotate to nostr; add a device; the device
/// claims an ap account.
fn scenario(test: &str) -> Scenario {
    let dir = Dir::new(test);
    let ed = dir.key("ed25519", ED_SEED, "ed.json");
    let nostr = dir.key("nostr", NOSTR_SEED, "nostr.json");
    let device = dir.key("ed25519", DEVICE_SEED, "device.json");
    let chain = ["--chain", "chain.jsonl"];
    let id = dir.ok(&[
        "sigchain",
        "new",
        "--key",
        "ed.json",
        "--chain",
        "chain.jsonl",
    ]);
    assert_eq!(id, format!("{ed}\n"));
    assert!(dir.read("chain.jsonl").is_empty());

    let add = |key: &str, subject: &str, offset: u64| {
        let when = iat(offset);
        let mut args = vec!["sigchain", "add", "--key", key, "--subject", subject];
        args.extend_from_slice(&chain);
        args.extend_from_slice(&["--iat", &when, "--aux", AUX]);
        dir.ok(&args)
    };
    let github_claim = add("ed.json", "github:alice", 0);
    let dns_claim = add("ed.json", "dns:alice.example", 1);
    add("ed.json", "bluesky:alice.bsky.social", 2);

    let out = dir.ok(&[
        "sigchain",
        "revoke",
        "--key",
        "ed.json",
        "--chain",
        "chain.jsonl",
        "--subject",
        "github:alice",
        "--iat",
        &iat(10),
    ]);
    let github_id = claim_id(
        secret(Alg::Ed25519, ED_SEED).public(),
        "github:alice",
        T,
        None,
    );
    let github_hex: String = github_id.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        out,
        format!("link 4: revoked github:alice (claim {github_hex})\n")
    );

    let out = dir.ok(&[
        "sigchain",
        "rotate",
        "--key",
        "ed.json",
        "--new-key",
        "nostr.json",
        "--chain",
        "chain.jsonl",
        "--iat",
        &iat(20),
        "--aux",
        AUX,
    ]);
    assert_eq!(out, format!("link 5: rotated the primary key to {nostr}\n"));
    let out = dir.ok(&[
        "sigchain",
        "add-device",
        "--key",
        "nostr.json",
        "--device",
        "device.json",
        "--chain",
        "chain.jsonl",
        "--iat",
        &iat(30),
        "--aux",
        AUX,
    ]);
    assert_eq!(out, format!("link 6: added device {device}\n"));
    add("device.json", "ap:@alice@social.example", 40);
    Scenario {
        dir,
        ed,
        nostr,
        device,
        github_claim,
        dns_claim,
    }
}

#[test]
fn acceptance_scenario() {
    let s = scenario("acceptance");
    let run = s
        .dir
        .kez(&["sigchain", "verify", "chain.jsonl", "--now", NOW, "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.is_empty(), "{run:?}");
    let v = json(&run);
    assert_eq!(v["status"], "valid");
    assert_eq!(v["chain"], s.ed.as_str());
    assert_eq!(v["key"], s.nostr.as_str());
    assert_eq!(v["head"]["seq"], 7);
    assert_eq!(
        v["head"]["hash"],
        sha256_hex(
            s.dir
                .read("chain.jsonl")
                .split(|&b| b == b'\n')
                .nth(6)
                .unwrap()
        )
        .as_str()
    );
    assert_eq!(
        v["devices"],
        serde_json::json!([{"added": 6, "key": s.device}])
    );
    assert_eq!(
        v["keys"],
        serde_json::json!([
            {"from": 0, "key": s.ed, "until": 5},
            {"from": 5, "key": s.nostr},
        ])
    );
    let claims: Vec<(&str, &str, u64)> = v["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["subject"].as_str().unwrap(),
                c["state"].as_str().unwrap(),
                c["decided_by"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        claims,
        [
            ("github:alice", "revoked", 4),
            ("dns:alice.example", "valid", 2),
            ("bluesky:alice.bsky.social", "valid", 3),
            ("ap:@alice@social.example", "valid", 7),
        ]
    );
    // claim ids are the signing digests of the claims the links record
    let ed = secret(Alg::Ed25519, ED_SEED);
    let device = secret(Alg::Ed25519, DEVICE_SEED);
    let expected = [
        claim_id(ed.public(), "github:alice", T, None),
        claim_id(ed.public(), "dns:alice.example", T + 1, None),
        claim_id(ed.public(), "bluesky:alice.bsky.social", T + 2, None),
        claim_id(device.public(), "ap:@alice@social.example", T + 40, None),
    ];
    for (claim, id) in v["claims"].as_array().unwrap().iter().zip(expected) {
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(claim["id"], hex.as_str());
    }
    assert_eq!(v["claims"][3]["signer"], s.device.as_str());
    // the output is canonical (JCS), so byte-identical across implementations
    insta::assert_snapshot!("scenario_verify_json", run.stdout);

    let run = s
        .dir
        .kez(&["sigchain", "verify", "chain.jsonl", "--now", NOW]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("valid: chain "), "{run:?}");
    assert!(
        run.stdout
            .contains("4 claims (3 valid, 1 revoked), 1 active device"),
        "{run:?}"
    );
}

#[test]
fn old_key_is_refused_after_rotation() {
    let s = scenario("old-key");
    let before = s.dir.read("chain.jsonl");
    let args = [
        "sigchain",
        "add",
        "--key",
        "ed.json",
        "--chain",
        "chain.jsonl",
        "--subject",
        "github:mallory",
        "--iat",
        &iat(50),
    ];
    let run = s.dir.kez(&args);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert_one_line_error(&run.stderr);
    assert!(run.stderr.ends_with(" [old_key]\n"), "{run:?}");
    assert!(run.stderr.contains("link 8"), "{run:?}");
    assert_eq!(s.dir.read("chain.jsonl"), before);

    let mut with_json = args.to_vec();
    with_json.push("--json");
    let run = s.dir.kez(&with_json);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(json(&run)["error"]["code"], "old_key");
    assert_eq!(s.dir.read("chain.jsonl"), before);

    // a bundle holding such a link (crafted with the core) does not verify
    let mut replay = VecReplay::new_vec();
    for line in bundle_lines(&before) {
        replay.push(line.unwrap()).unwrap();
    }
    let (head_seq, head_hash) = replay.head();
    let position = Position {
        chain: replay.chain().copied(),
        head_seq,
        head_hash,
    };
    let mut line = Vec::new();
    let draft = Draft::AddClaim {
        subject: "github:mallory",
        exp: None,
    };
    let ed = secret(Alg::Ed25519, ED_SEED);
    sign_link(&position, T + 50, &draft, &ed, &[0; 32], &mut line).unwrap();
    let mut bad = before.clone();
    bad.extend_from_slice(&line);
    bad.push(b'\n');
    s.dir.write("bad.jsonl", &bad);
    let run = s
        .dir
        .kez(&["sigchain", "verify", "bad.jsonl", "--now", NOW, "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.is_empty(), "{run:?}");
    let v = json(&run);
    assert_eq!(v["status"], "invalid");
    assert_eq!(v["error"]["code"], "old_key");
    // the state is that of the valid prefix
    assert_eq!(v["head"]["seq"], 7);
    assert_eq!(v["claims"].as_array().unwrap().len(), 4);
    // the other views refuse it too
    let run = s.dir.kez(&["sigchain", "export", "bad.jsonl"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.is_empty() && run.stderr.ends_with(" [old_key]\n"),
        "{run:?}"
    );
    let run = s.dir.kez(&["sigchain", "show", "bad.jsonl", "--now", NOW]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.starts_with("status   invalid\n"), "{run:?}");
    // a claim judged against a chain that breaks a rule is invalid, whatever the chain says of it
    s.dir.write("dns.json", s.dns_claim.as_bytes());
    let run = s.dir.kez(&[
        "claim",
        "verify",
        "dns.json",
        "--chain",
        "bad.jsonl",
        "--now",
        NOW,
        "--json",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json(&run);
    assert_eq!(v["status"], "invalid");
    let reason = v["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("the chain is invalid: bad.jsonl line 8: link 8"),
        "{reason}"
    );
    assert!(reason.ends_with("[old_key]"), "{reason}");
}

#[test]
fn export_is_byte_identical() {
    let s = scenario("export");
    let chain = s.dir.read("chain.jsonl");
    let first = s.dir.kez(&["sigchain", "export", "chain.jsonl"]);
    let second = s.dir.kez(&["sigchain", "export", "chain.jsonl"]);
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(first.stdout.as_bytes(), chain.as_slice());
    assert_eq!(chain.iter().filter(|&&b| b == b'\n').count(), 7);
    s.dir
        .ok(&["sigchain", "export", "chain.jsonl", "--out", "copy.jsonl"]);
    assert_eq!(s.dir.read("copy.jsonl"), chain);
    // from stdin, the same bytes
    let run = kez_in(&["sigchain", "export"], &chain, None);
    assert_eq!(run.stdout.as_bytes(), chain.as_slice());
    insta::assert_snapshot!("scenario_bundle", first.stdout);
}

/// The scenario's lines 1-2 and a different link 3, signed by the ed25519 key.
fn forked_link(bundle: &[u8]) -> Vec<u8> {
    let mut replay = VecReplay::new_vec();
    for line in bundle_lines(bundle).take(2) {
        replay.push(line.unwrap()).unwrap();
    }
    let (head_seq, head_hash) = replay.head();
    let position = Position {
        chain: replay.chain().copied(),
        head_seq,
        head_hash,
    };
    let draft = Draft::AddClaim {
        subject: "github:eve",
        exp: None,
    };
    let mut line = Vec::new();
    let ed = secret(Alg::Ed25519, ED_SEED);
    sign_link(&position, T + 2, &draft, &ed, &[0; 32], &mut line).unwrap();
    line
}

#[test]
fn forks_and_stale_copies() {
    let s = scenario("fork");
    let bundle = s.dir.read("chain.jsonl");
    let lines: Vec<&[u8]> = bundle_lines(&bundle).map(Result::unwrap).collect();
    let other = forked_link(&bundle);
    let join = |parts: &[&[u8]]| -> Vec<u8> {
        parts
            .iter()
            .flat_map(|l| l.iter().copied().chain([b'\n']))
            .collect()
    };
    let (third, other_hash) = (sha256_hex(lines[2]), sha256_hex(&other));

    // one bundle with two different links at seq 3
    let mut parts = lines[..3].to_vec();
    parts.push(&other);
    parts.extend_from_slice(&lines[3..]);
    s.dir.write("forked.jsonl", &join(&parts));
    let verify = |sources: &[&str]| {
        let mut args = vec!["sigchain", "verify"];
        args.extend_from_slice(sources);
        args.extend_from_slice(&["--now", NOW, "--json"]);
        s.dir.kez(&args)
    };
    let run = verify(&["forked.jsonl"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.is_empty(), "{run:?}");
    let v = json(&run);
    assert_eq!(v["status"], "fork");
    assert_eq!(v["fork"]["seq"], 3);
    assert_eq!(v["fork"]["links"], serde_json::json!([third, other_hash]));
    // the state is the chain's before the fork was seen
    assert_eq!(v["head"]["seq"], 3);

    // a strict prefix of the chain is a stale copy, not a fork
    s.dir.write("prefix.jsonl", &join(&lines[..3]));
    let run = verify(&["chain.jsonl", "prefix.jsonl"]);
    assert_eq!(run.code, 0, "{run:?}");
    let v = json(&run);
    assert_eq!(v["status"], "valid");
    assert_eq!(v["head"]["seq"], 7);
    let run = verify(&["prefix.jsonl", "chain.jsonl"]);
    assert_eq!(json(&run)["status"], "valid");

    // the chain and a copy that went another way at seq 3: a fork, named in source order
    s.dir
        .write("other.jsonl", &join(&[lines[0], lines[1], &other]));
    let run = verify(&["chain.jsonl", "other.jsonl"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json(&run);
    assert_eq!(v["status"], "fork");
    assert_eq!(v["fork"]["links"], serde_json::json!([third, other_hash]));
    let v = json(&verify(&["other.jsonl", "chain.jsonl"]));
    assert_eq!(v["status"], "fork");
    assert_eq!(v["fork"]["links"], serde_json::json!([other_hash, third]));

    // a forked chain is neither extended nor exported
    let before = s.dir.read("forked.jsonl");
    let run = s.dir.kez(&[
        "sigchain",
        "add",
        "--key",
        "nostr.json",
        "--chain",
        "forked.jsonl",
        "--subject",
        "github:x",
        "--iat",
        &iat(60),
        "--aux",
        AUX,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.ends_with(" [fork]\n"), "{run:?}");
    assert_eq!(s.dir.read("forked.jsonl"), before);
    let run = s.dir.kez(&["sigchain", "export", "forked.jsonl"]);
    assert_eq!(run.code, 1, "{run:?}");

    // and a claim judged against it is `fork` (but a bad signature still wins)
    s.dir.write("dns.json", s.dns_claim.as_bytes());
    let run = s.dir.kez(&[
        "claim",
        "verify",
        "dns.json",
        "--chain",
        "forked.jsonl",
        "--now",
        NOW,
        "--json",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json(&run);
    assert_eq!(v["status"], "fork");
    assert_eq!(v["reason"], "the chain forked at link 3");
    s.dir.write(
        "tampered.json",
        s.dns_claim.replace("dns:alice", "dns:alicf").as_bytes(),
    );
    let run = s.dir.kez(&[
        "claim",
        "verify",
        "tampered.json",
        "--chain",
        "forked.jsonl",
        "--now",
        NOW,
        "--json",
    ]);
    assert_eq!(json(&run)["status"], "invalid");
}

#[test]
fn expired_claim_in_chain() {
    let dir = Dir::new("expired");
    dir.key("ed25519", ED_SEED, "ed.json");
    dir.ok(&["sigchain", "new", "--key", "ed.json", "--chain", "c.jsonl"]);
    let claim = dir.ok(&[
        "sigchain",
        "add",
        "--key",
        "ed.json",
        "--chain",
        "c.jsonl",
        "--subject",
        "github:bob",
        "--iat",
        &iat(0),
        "--exp",
        &iat(10),
    ]);
    let run = dir.kez(&[
        "sigchain",
        "verify",
        "c.jsonl",
        "--now",
        &iat(100),
        "--json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let v = json(&run);
    assert_eq!(v["status"], "valid");
    assert_eq!(v["claims"][0]["state"], "expired");
    assert_eq!(v["claims"][0]["exp"], T + 10);
    assert_eq!(v["claims"][0]["decided_by"], 1);
    let v = json(&dir.kez(&["sigchain", "verify", "c.jsonl", "--now", &iat(5), "--json"]));
    assert_eq!(v["claims"][0]["state"], "valid");

    dir.write("claim.json", claim.as_bytes());
    let run = dir.kez(&[
        "claim",
        "verify",
        "claim.json",
        "--chain",
        "c.jsonl",
        "--now",
        &iat(100),
        "--json",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(json(&run)["status"], "expired");

    // --exp must come after the iat; an iat before the last link's is refused
    let run = dir.kez(&[
        "sigchain",
        "add",
        "--key",
        "ed.json",
        "--chain",
        "c.jsonl",
        "--subject",
        "github:c",
        "--iat",
        &iat(10),
        "--exp",
        &iat(10),
    ]);
    run.assert_error("usage");
    let run = dir.kez(&[
        "sigchain",
        "add",
        "--key",
        "ed.json",
        "--chain",
        "c.jsonl",
        "--subject",
        "github:c",
        "--iat",
        &(T - 1).to_string(),
    ]);
    run.assert_error("usage");
}

#[test]
fn claim_verify_against_the_chain() {
    let s = scenario("claim-verify");
    let dir = &s.dir;
    let verify = |file: &str, contents: &str| {
        dir.write(file, contents.as_bytes());
        let run = dir.kez(&[
            "claim",
            "verify",
            file,
            "--chain",
            "chain.jsonl",
            "--now",
            NOW,
            "--json",
        ]);
        let v = json(&run);
        // the same four members as without --chain
        let members: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(members, ["key", "reason", "status", "subject"]);
        (run.code, v["status"].clone(), v["reason"].clone())
    };
    let (code, status, reason) = verify("github.json", &s.github_claim);
    assert_eq!((code, status.as_str().unwrap()), (1, "revoked"));
    assert_eq!(reason, "revoked by link 4");
    let (code, status, reason) = verify("dns.json", &s.dns_claim);
    assert_eq!((code, status.as_str().unwrap()), (0, "valid"));
    assert_eq!(reason, "recorded by link 2");

    let create = |key: &str, subject: &str| {
        dir.ok(&[
            "claim",
            "create",
            "--key",
            key,
            "--subject",
            subject,
            "--iat",
            &iat(90),
            "--aux",
            AUX,
        ])
    };
    dir.key("ed25519", STRANGER_SEED, "stranger.json");
    let (code, status, reason) = verify(
        "stranger.json.claim",
        &create("stranger.json", "github:alice"),
    );
    assert_eq!((code, status.as_str().unwrap()), (1, "invalid"));
    assert_eq!(reason, "its key is not one of the chain's keys");
    // not recorded, but signed by keys the chain vouches for now, or did before
    let (code, status, reason) = verify("nostr.claim", &create("nostr.json", "github:alice"));
    assert_eq!((code, status.as_str().unwrap()), (0, "valid"));
    assert_eq!(reason, "signed by the chain's current key");
    let (code, status, reason) = verify("device.claim", &create("device.json", "github:alice"));
    assert_eq!((code, status.as_str().unwrap()), (0, "valid"));
    assert_eq!(reason, "signed by a device added by link 6");
    let (code, status, reason) = verify("ed.claim", &create("ed.json", "github:alice"));
    assert_eq!((code, status.as_str().unwrap()), (1, "revoked"));
    assert_eq!(reason, "its key was rotated out by link 5");

    // human output names the deciding link too
    let run = dir.kez(&[
        "claim",
        "verify",
        "github.json",
        "--chain",
        "chain.jsonl",
        "--now",
        NOW,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .starts_with("revoked: revoked by link 4 (github:alice, "),
        "{run:?}"
    );

    // removing the device: its claims are revoked, and it can no longer sign
    let out = dir.ok(&[
        "sigchain",
        "remove-device",
        "--key",
        "nostr.json",
        "--device",
        &s.device,
        "--chain",
        "chain.jsonl",
        "--iat",
        &iat(50),
        "--aux",
        AUX,
    ]);
    assert_eq!(out, format!("link 8: removed device {}\n", s.device));
    let (code, status, reason) = verify("device.claim", &create("device.json", "github:alice"));
    assert_eq!((code, status.as_str().unwrap()), (1, "revoked"));
    assert_eq!(reason, "its device was removed by link 8");
    let run = dir.kez(&[
        "sigchain",
        "add",
        "--key",
        "device.json",
        "--chain",
        "chain.jsonl",
        "--subject",
        "github:x",
        "--iat",
        &iat(60),
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.ends_with(" [wrong_signer]\n"), "{run:?}");
}

#[test]
fn mutating_commands_json_and_usage() {
    let s = scenario("mutating");
    let dir = &s.dir;
    // the new head, with --json
    let run = dir.kez(&[
        "sigchain",
        "revoke",
        "--key",
        "nostr.json",
        "--chain",
        "chain.jsonl",
        "--subject",
        "dns:alice.example",
        "--iat",
        &iat(50),
        "--aux",
        AUX,
        "--json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let bundle = dir.read("chain.jsonl");
    let last = bundle_lines(&bundle).last().unwrap().unwrap();
    assert_eq!(
        json(&run),
        serde_json::json!({"hash": sha256_hex(last), "seq": 8})
    );
    // nothing left to revoke for that subject; a chain that already exists is kept
    let before = dir.read("chain.jsonl");
    dir.kez(&[
        "sigchain",
        "revoke",
        "--key",
        "nostr.json",
        "--chain",
        "chain.jsonl",
        "--subject",
        "dns:alice.example",
    ])
    .assert_error("usage");
    dir.kez(&[
        "sigchain",
        "new",
        "--key",
        "ed.json",
        "--chain",
        "chain.jsonl",
    ])
    .assert_error("exists");
    dir.kez(&[
        "sigchain",
        "revoke",
        "--key",
        "nostr.json",
        "--chain",
        "chain.jsonl",
    ])
    .assert_error("usage");
    dir.kez(&[
        "sigchain",
        "add",
        "--key",
        "nostr.json",
        "--chain",
        "-",
        "--subject",
        "github:x",
    ])
    .assert_error("usage");
    // revoking twice is the chain's refusal (exit 1)
    let id = claim_id(
        secret(Alg::Ed25519, ED_SEED).public(),
        "github:alice",
        T,
        None,
    );
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let run = dir.kez(&[
        "sigchain",
        "revoke",
        "--key",
        "nostr.json",
        "--chain",
        "chain.jsonl",
        "--claim",
        &hex,
        "--aux",
        AUX,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.ends_with(" [bad_target]\n"), "{run:?}");
    assert_eq!(dir.read("chain.jsonl"), before);
    // no temporary files left behind
    let mut names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    names.sort();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn show_snapshot() {
    let s = scenario("show");
    let out = s.dir.ok(&["sigchain", "show", "chain.jsonl", "--now", NOW]);
    insta::assert_snapshot!("scenario_show", out);
    let empty = Dir::new("show-empty");
    empty.write("empty.jsonl", b"");
    let out = empty.ok(&["sigchain", "show", "empty.jsonl", "--now", NOW]);
    assert_eq!(out, "status   valid\n(no links)\n");
    let v = json(&empty.kez(&["sigchain", "verify", "empty.jsonl", "--now", NOW, "--json"]));
    assert_eq!(
        v,
        serde_json::json!({"claims": [], "devices": [], "keys": [], "status": "valid"})
    );
}

#[test]
fn garbage_chain_files() {
    let dir = Dir::new("garbage");
    dir.key("ed25519", ED_SEED, "ed.json");
    let claim = dir.ok(&[
        "claim",
        "create",
        "--key",
        "ed.json",
        "--subject",
        "github:alice",
        "--iat",
        &iat(0),
    ]);
    dir.write("claim.json", claim.as_bytes());
    let garbage: [(&[u8], &str); 5] = [
        (b"\x00\xff garbage", "bad_link"),
        (b"not json\n", "json_syntax"),
        (b"{\"type\":\"kez-link-v1\"}\n", "bad_link"),
        (b"\n", "bad_link"),
        (b"[1,2,3]\n", "bad_link"),
    ];
    for (bytes, class) in garbage {
        dir.write("chain.jsonl", bytes);
        for args in [
            &["sigchain", "verify", "chain.jsonl", "--json"][..],
            &["sigchain", "show", "chain.jsonl"],
            &["sigchain", "export", "chain.jsonl"],
            &["claim", "verify", "claim.json", "--chain", "chain.jsonl"],
            &[
                "sigchain",
                "add",
                "--key",
                "ed.json",
                "--chain",
                "chain.jsonl",
                "--subject",
                "github:alice",
            ],
        ] {
            let run = dir.kez(args);
            run.assert_error(class);
            assert_eq!(dir.read("chain.jsonl"), bytes, "{args:?}");
        }
        dir.kez(&["sigchain", "verify", "chain.jsonl", "--json"])
            .assert_json_error(class);
    }
    dir.kez(&["sigchain", "verify", "missing.jsonl"])
        .assert_error("io");
    kez_in(
        &["sigchain", "verify", "-", "-"],
        b"",
        Some(Path::new(&dir.0)),
    )
    .assert_error("usage");
}
