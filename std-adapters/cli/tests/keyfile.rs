//! Key files (SPEC.md §3.3): mode 0600, never overwritten without `--force`, secrets never
//! printed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{ED_SEED, NOSTR_SEED, kez, scratch};

#[test]
fn new_key_file_is_0600_and_matches_show() {
    let dir = scratch("keyfile-mode");
    for alg in ["nostr", "ed25519"] {
        let path = dir.join(format!("{alg}.json"));
        let path = path.to_str().unwrap();
        let run = kez(&["identity", "new", "--alg", alg, "--out", path]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stderr.is_empty());
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");

        let text = std::fs::read_to_string(path).unwrap();
        let keyref = run.stdout.trim_end();
        assert!(
            text.starts_with(&format!("{{\"key\":\"{keyref}\",\"secret\":\"")),
            "{text}"
        );
        assert!(text.ends_with("\",\"type\":\"kez-key-v1\"}\n"), "{text}");
        let secret = text
            .split("\"secret\":\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(secret.len(), 64);
        assert!(!run.stdout.contains(secret));

        let show = kez(&["identity", "show", "--key", path]);
        assert_eq!((show.code, show.stdout.as_str()), (0, run.stdout.as_str()));
        assert!(!show.stdout.contains(secret));
        let show = kez(&["identity", "show", "--key", path, "--json"]);
        assert_eq!(
            show.stdout,
            format!("{{\"alg\":\"{alg}\",\"key\":\"{keyref}\"}}\n")
        );
    }
    // no temporary files left behind
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["ed25519.json", "nostr.json"]);
}

#[test]
fn existing_key_file_needs_force() {
    let dir = scratch("keyfile-exists");
    let path = dir.join("k.json");
    let path = path.to_str().unwrap();
    let first = kez(&[
        "identity", "new", "--alg", "ed25519", "--seed", ED_SEED, "--out", path,
    ]);
    assert_eq!(first.code, 0, "{first:?}");
    let original = std::fs::read(path).unwrap();

    let again = kez(&["identity", "new", "--alg", "nostr", "--out", path]);
    again.assert_error("exists");
    assert!(again.stdout.is_empty());
    let again = kez(&["identity", "new", "--alg", "nostr", "--out", path, "--json"]);
    again.assert_json_error("exists");
    assert_eq!(
        std::fs::read(path).unwrap(),
        original,
        "the original must be untouched"
    );

    let forced = kez(&[
        "identity", "new", "--alg", "nostr", "--seed", NOSTR_SEED, "--out", path, "--force",
    ]);
    assert_eq!(forced.code, 0, "{forced:?}");
    assert!(forced.stdout.starts_with("nostr:npub1"));
    let replaced = std::fs::read(path).unwrap();
    assert_ne!(replaced, original);
    assert_eq!(
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let show = kez(&["identity", "show", "--key", path]);
    assert_eq!(show.stdout, forced.stdout);

    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["k.json"]);
}

#[test]
fn seeded_keys_are_deterministic() {
    let dir = scratch("keyfile-seed");
    let a = dir.join("a.json");
    let b = dir.join("b.json");
    let ra = kez(&[
        "identity",
        "new",
        "--alg",
        "ed25519",
        "--seed",
        ED_SEED,
        "--out",
        a.to_str().unwrap(),
    ]);
    let upper = ED_SEED.to_uppercase();
    let rb = kez(&[
        "identity",
        "new",
        "--alg",
        "ed25519",
        "--seed",
        &upper,
        "--out",
        b.to_str().unwrap(),
    ]);
    assert_eq!((ra.code, rb.code), (0, 0));
    assert_eq!(ra.stdout, rb.stdout);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn bad_seeds_and_key_files() {
    let dir = scratch("keyfile-bad");
    let out = dir.join("k.json");
    let out = out.to_str().unwrap();
    // not 64 hex digits: usage, and the value is not echoed
    let run = kez(&[
        "identity", "new", "--alg", "ed25519", "--seed", "abcdef", "--out", out,
    ]);
    run.assert_error("usage");
    assert!(!run.stderr.contains("abcdef"));
    // zero is not a BIP-340 secret
    let zero = "0".repeat(64);
    kez(&[
        "identity", "new", "--alg", "nostr", "--seed", &zero, "--out", out,
    ])
    .assert_error("bad_key");
    assert!(!std::path::Path::new(out).exists());

    // a key file whose key does not match its secret
    let good = dir.join("good.json");
    kez(&[
        "identity",
        "new",
        "--alg",
        "ed25519",
        "--seed",
        ED_SEED,
        "--out",
        good.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&good)
        .unwrap()
        .replace("\"secret\":\"00", "\"secret\":\"01");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, text).unwrap();
    let bad = bad.to_str().unwrap();
    kez(&["identity", "show", "--key", bad, "--json"]).assert_json_error("bad_key_file");
    kez(&["claim", "create", "--key", bad, "--subject", "github:alice"])
        .assert_error("bad_key_file");
    kez(&["identity", "show", "--key", "/nonexistent/k.json"]).assert_error("io");
}
