//! The main job end to end, through the `kez` binary, against local services the test starts:
//! create an identity and its sigchain, publish a proof to every channel, verify all of them
//! (valid), revoke one in the sigchain (revoked, the others still valid), stop the DNS server
//! (dns unreachable, the others still valid). SPEC.md §14, §15.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::Path;

use common::{Run, kez_env, scratch};
use std::sync::Arc;

use kez_testkit::atproto::{Atproto, PLC_HOST};
use kez_testkit::dns::LocalDns;
use kez_testkit::github::LocalGithub;
use kez_testkit::mastodon::Mastodon;
use kez_testkit::nostr::LocalRelays;
use kez_testkit::web::{LocalWeb, Site};

const GITHUB_TOKEN: &str = "ghp_e2e_token_never_printed_0123456789";
const BLUESKY_PASSWORD: &str = "abcd-efgh-ijkl-mnop";
const AP_TOKEN: &str = "mastodon-e2e-token-never-printed";

/// The services, and the flags and environment that point `kez` at them.
struct Services {
    dns: LocalDns,
    github: LocalGithub,
    atproto: Arc<Atproto>,
    mastodon: Arc<Mastodon>,
    _web: LocalWeb,
    _relays: LocalRelays,
    flags: Vec<String>,
    env: Vec<(&'static str, String)>,
}

impl Services {
    async fn start(cache: &Path) -> Self {
        let dns = LocalDns::start("example.").await;
        let github = LocalGithub::start().await;
        github.add_user("alice", Some(GITHUB_TOKEN));
        let atproto = Atproto::new();
        atproto.add_account("alice.bsky.example", Some(BLUESKY_PASSWORD));
        let mastodon = Mastodon::new("social.example");
        mastodon.add_user("alice", Some(AP_TOKEN));
        let sites: Vec<Arc<dyn Site>> = vec![atproto.clone(), mastodon.clone()];
        let web = LocalWeb::start(sites).await;
        let relays = LocalRelays::start(2, &[]).await;
        let mut flags = vec![
            "--timeout".to_owned(),
            "2".to_owned(),
            "--dns-server".to_owned(),
            dns.addr.to_string(),
            "--github-api".to_owned(),
            github.base.clone(),
            "--cache-dir".to_owned(),
            path(cache).to_owned(),
            "--web-origin".to_owned(),
            web.origin.clone(),
            "--plc-directory".to_owned(),
            format!("https://{PLC_HOST}"),
        ];
        for url in &relays.urls {
            flags.extend(["--relay".to_owned(), url.clone()]);
        }
        let env = vec![
            ("GITHUB_TOKEN", GITHUB_TOKEN.to_owned()),
            ("KEZ_BLUESKY_APP_PASSWORD", BLUESKY_PASSWORD.to_owned()),
            ("KEZ_AP_ACCESS_TOKEN", AP_TOKEN.to_owned()),
        ];
        Self {
            dns,
            github,
            atproto,
            mastodon,
            _web: web,
            _relays: relays,
            flags,
            env,
        }
    }

    fn kez(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(self.flags.iter().map(String::as_str));
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let run = kez_env(&all, b"", None, &env);
        for (_, secret) in &self.env {
            assert!(
                !run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()),
                "a credential was printed: {run:?}"
            );
        }
        run
    }
}

/// The status of each account in `kez verify id --json` output, in order.
fn statuses(run: &Run) -> Vec<(String, String)> {
    run.stdout
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                v["subject"].as_str().unwrap().to_owned(),
                v["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn run_ok(run: Run) -> Run {
    assert_eq!(run.code, 0, "{run:?}");
    run
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn publish_verify_revoke_and_lose_dns() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = scratch("e2e-channels");
    let services = runtime.block_on(Services::start(&dir.join("cache")));
    let key = dir.join("alice.key");
    let chain = dir.join("alice.chain");
    let npub = run_ok(kez_env(
        &["identity", "new", "--alg", "nostr", "--out", path(&key)],
        b"",
        None,
        &[],
    ))
    .stdout
    .trim()
    .to_owned();
    assert!(npub.starts_with("nostr:npub1"), "{npub}");
    run_ok(kez_env(
        &[
            "sigchain",
            "new",
            "--key",
            path(&key),
            "--chain",
            path(&chain),
        ],
        b"",
        None,
        &[],
    ));
    let subjects = [
        "dns:alice.example",
        "github:alice",
        npub.as_str(),
        "bluesky:alice.bsky.example",
        "ap:@alice@social.example",
    ];
    for subject in subjects {
        let claim = run_ok(kez_env(
            &[
                "sigchain",
                "add",
                "--key",
                path(&key),
                "--chain",
                path(&chain),
                "--subject",
                subject,
            ],
            b"",
            None,
            &[],
        ));
        let file = dir.join(format!("{}.json", subject.replace(':', "_")));
        std::fs::write(&file, &claim.stdout).unwrap();
        let published = run_ok(services.kez(&[
            "claim",
            "publish",
            subject,
            path(&file),
            "--nostr-key",
            path(&key),
            "--json",
        ]));
        let out: serde_json::Value = serde_json::from_str(published.stdout.trim()).unwrap();
        if subject.starts_with("dns:") {
            // DNS has no publishing API: the zone line goes into the zone by hand
            assert_eq!(out["status"], "manual", "{published:?}");
            let instructions = out["instructions"].as_str().unwrap();
            let line = instructions
                .lines()
                .find(|l| l.starts_with("_kez.alice.example. "))
                .unwrap();
            runtime.block_on(services.dns.add_zone_line(line));
        } else {
            assert_eq!(out["status"], "posted", "{published:?}");
        }
    }
    assert_eq!(services.github.gist_count(), 1);
    assert_eq!(services.atproto.post_count(), 1);
    assert_eq!(services.mastodon.status_count(), 1);

    // every proof verifies
    let mut verify = vec!["verify", "id", "--json"];
    verify.extend(subjects.iter().copied());
    let run = run_ok(services.kez(&verify));
    let all: Vec<(String, String)> = statuses(&run);
    assert_eq!(all.len(), subjects.len(), "{run:?}");
    for (subject, status) in &all {
        assert_eq!(status, "valid", "{subject}: {run:?}");
    }

    // revoke github's claim in the sigchain: revoked; the others stay valid
    run_ok(kez_env(
        &[
            "sigchain",
            "revoke",
            "--key",
            path(&key),
            "--chain",
            path(&chain),
            "--subject",
            "github:alice",
        ],
        b"",
        None,
        &[],
    ));
    let mut with_chain = verify.clone();
    with_chain.extend(["--chain", path(&chain)]);
    let run = services.kez(&with_chain);
    assert_eq!(run.code, 1, "{run:?}");
    for (subject, status) in statuses(&run) {
        let expected = if subject == "github:alice" {
            "revoked"
        } else {
            "valid"
        };
        assert_eq!(status, expected, "{subject}: {run:?}");
    }

    // the DNS server goes away: dns is unreachable, every other channel still answers
    services.dns.stop();
    let run = services.kez(&verify);
    assert_eq!(run.code, 1, "{run:?}");
    for (subject, status) in statuses(&run) {
        let expected = if subject.starts_with("dns:") {
            "unreachable"
        } else {
            "valid"
        };
        assert_eq!(status, expected, "{subject}: {run:?}");
    }
    drop(services);
}
