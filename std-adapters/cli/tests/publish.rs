//! `kez claim publish` (SPEC.md §15.7): the manual answers, credentials from a private file,
//! missing credentials, a claim for another subject. Publishing to every channel end to end is
//! in e2e_channels.rs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::os::unix::fs::PermissionsExt as _;

use common::{fixed_claim, fixed_key, kez, kez_env, scratch};
use kez_testkit::github::LocalGithub;

#[test]
fn dns_prints_the_zone_line() {
    let dir = scratch("publish-dns");
    let key = fixed_key(&dir, "ed25519");
    let claim = dir.join("claim.json");
    std::fs::write(&claim, fixed_claim(&key, "dns:Alice.Example", "json")).unwrap();
    let run = kez(&[
        "claim",
        "publish",
        "dns:alice.example",
        claim.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("_kez.alice.example. 3600 IN TXT \"kez:z1:"))
        .unwrap_or_else(|| panic!("no zone line: {run:?}"));
    // the printed line is exactly what `claim convert --to dns` makes of the claim
    let converted = kez(&["claim", "convert", "--to", "dns", claim.to_str().unwrap()]);
    assert_eq!(format!("{line}\n"), converted.stdout);
}

#[test]
fn github_without_a_token_prints_the_gist_text() {
    let dir = scratch("publish-gist-text");
    let key = fixed_key(&dir, "ed25519");
    let claim = dir.join("claim.json");
    std::fs::write(&claim, fixed_claim(&key, "github:alice", "json")).unwrap();
    let empty = dir.join("no-credentials");
    std::fs::write(&empty, "# nothing\n").unwrap();
    std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = kez_env(
        &[
            "claim",
            "publish",
            "github:alice",
            claim.to_str().unwrap(),
            "--credentials",
            empty.to_str().unwrap(),
            "--json",
        ],
        b"",
        None,
        &[("GITHUB_TOKEN", "")],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let out: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(out["status"], "manual");
    let text = out["instructions"].as_str().unwrap();
    assert!(
        text.contains("kez-proof.md") && text.contains("```kez\nkez:z1:"),
        "{text}"
    );
}

#[test]
fn github_token_from_a_private_credentials_file() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let github = runtime.block_on(LocalGithub::start());
    let token = "ghp_from_the_file_0123456789";
    github.add_user("alice", Some(token));
    let dir = scratch("publish-gist-file");
    let key = fixed_key(&dir, "ed25519");
    let claim = dir.join("claim.json");
    std::fs::write(&claim, fixed_claim(&key, "github:alice", "json")).unwrap();
    let creds = dir.join("credentials");
    std::fs::write(&creds, format!("# kez\nGITHUB_TOKEN=\"{token}\"\n")).unwrap();
    let args = [
        "claim",
        "publish",
        "github:alice",
        claim.to_str().unwrap(),
        "--credentials",
        creds.to_str().unwrap(),
        "--github-api",
        &github.base,
    ];
    // readable by others: refused, nothing published
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = kez_env(&args, b"", None, &[("GITHUB_TOKEN", "")]);
    run.assert_error("usage");
    assert!(run.stderr.contains("chmod 600"), "{run:?}");
    assert_eq!(github.gist_count(), 0);
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = kez_env(&args, b"", None, &[("GITHUB_TOKEN", "")]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .starts_with("published: https://gist.github.com/alice/"),
        "{run:?}"
    );
    assert!(!run.stdout.contains(token) && !run.stderr.contains(token));
    assert_eq!(github.gist_count(), 1);
    // a token of another account publishes nothing
    github.add_user("bob", Some("ghp_bob"));
    let run = kez_env(&args, b"", None, &[("GITHUB_TOKEN", "ghp_bob")]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("the token is bob's"), "{run:?}");
    assert_eq!(github.gist_count(), 1);
}

#[test]
fn bad_credentials_file_and_missing_credentials() {
    let dir = scratch("publish-errors");
    let key = fixed_key(&dir, "ed25519");
    let claim = dir.join("claim.json");
    std::fs::write(
        &claim,
        fixed_claim(&key, "bluesky:alice.bsky.social", "json"),
    )
    .unwrap();
    let creds = dir.join("credentials");
    std::fs::write(&creds, "GITHUB_TOKEN=x\nSECRET_THING=hunter2\n").unwrap();
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).unwrap();
    let claim = claim.to_str().unwrap();
    let run = kez(&[
        "claim",
        "publish",
        "bluesky:alice.bsky.social",
        claim,
        "--credentials",
        creds.to_str().unwrap(),
    ]);
    run.assert_error("usage");
    assert!(
        run.stderr.contains("unknown name \"SECRET_THING\""),
        "{run:?}"
    );
    assert!(!run.stderr.contains("hunter2"), "{run:?}");
    // no app password: a usage error naming the variable, nothing sent anywhere
    let run = kez_env(
        &[
            "claim",
            "publish",
            "bluesky:alice.bsky.social",
            claim,
            "--web-origin",
            "http://127.0.0.1:9",
        ],
        b"",
        None,
        &[
            ("KEZ_BLUESKY_APP_PASSWORD", ""),
            ("XDG_CONFIG_HOME", dir.to_str().unwrap()),
        ],
    );
    run.assert_error("usage");
    assert!(run.stderr.contains("KEZ_BLUESKY_APP_PASSWORD"), "{run:?}");
    // a claim for another account
    let run = kez(&["claim", "publish", "bluesky:bob.bsky.social", claim]);
    run.assert_error("usage");
    assert!(
        run.stderr
            .contains("the claim is for bluesky:alice.bsky.social"),
        "{run:?}"
    );
}
