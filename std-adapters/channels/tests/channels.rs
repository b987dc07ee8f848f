//! The shared channel suite (STYLE rule 11): every channel runs the same scenarios against real
//! servers on 127.0.0.1, then its own extra cases (SPEC.md §15).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::any::Any;
use std::time::{Duration, Instant};

use common::{
    HttpServer, IAT, NOW, RawDns, Reply, claim, dns_server, gist, key, raw_dns, raw_path,
    refused_addr, revoking_chain, silent_http,
};
use kez_channels::{ChainJudge, Config, Report, verify_id};
use kez_core::chain::VecReplay;
use kez_core::{KeyRef, SecretKey, Status};

/// Short, so that the unreachable cases stay fast, yet long enough for a loaded 2-core CI box.
const TIMEOUT: Duration = Duration::from_millis(1000);

/// One published proof: its text, and who published it where the service has owners.
struct Published {
    text: String,
    owner: Option<&'static str>,
}

fn own(text: String) -> Published {
    Published { text, owner: None }
}

/// A malformed service response.
#[derive(Clone, Copy, Debug)]
enum Bad {
    TruncatedJson,
    Html,
    Huge,
}

/// The state of the service under test.
enum Setup {
    Publish(Vec<Published>),
    /// The service answers: no proof.
    Empty,
    /// Nothing listens.
    Refused,
    /// Accepts and never answers.
    Silent,
    /// HTTP 500 / DNS SERVFAIL.
    ServerError,
    /// HTTP 429 / DNS REFUSED.
    RateLimited,
    Malformed(Bad),
}

/// A running service; dropping it stops its servers.
struct Running {
    config: Config,
    _guards: Vec<Box<dyn Any + Send>>,
}

fn base_config() -> Config {
    Config {
        timeout: TIMEOUT,
        ..Config::default()
    }
}

#[allow(async_fn_in_trait)]
trait Harness {
    /// The normalized subject of the account under test.
    const SUBJECT: &'static str;
    /// Starts the service in `setup`.
    async fn start(setup: Setup) -> Running;
    /// What the service shows when another account published a proof of `SUBJECT`.
    fn other_account(key: &SecretKey) -> Vec<Published>;
}

async fn check<H: Harness>(
    setup: Setup,
    key: Option<&KeyRef>,
    chain: Option<&VecReplay>,
) -> Report {
    let running = H::start(setup).await;
    let judge = chain.map(|c| c as &(dyn ChainJudge + Sync));
    let report = verify_id(&running.config, H::SUBJECT, NOW, key, judge)
        .await
        .unwrap();
    drop(running);
    report
}

fn assert_status(report: &Report, status: Status, reason: &str) {
    assert_eq!(report.status, status, "{report:#?}");
    let reasons: Vec<&str> = std::iter::once(report.reason.as_str())
        .chain(report.proofs.iter().map(|p| p.reason.as_str()))
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains(reason)),
        "no reason contains {reason:?}: {report:#?}"
    );
}

async fn valid<H: Harness>() {
    let k = key(1);
    let report = check::<H>(
        Setup::Publish(vec![own(claim(&k, H::SUBJECT, None))]),
        None,
        None,
    )
    .await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
    assert_eq!(report.subject, H::SUBJECT);
    let proof = &report.proofs[0];
    assert_eq!(proof.key.as_deref(), Some(k.public().to_string().as_str()));
    assert_eq!(proof.subject.as_deref(), Some(H::SUBJECT));
    // the expected key, given, changes nothing
    let report = check::<H>(
        Setup::Publish(vec![own(claim(&k, H::SUBJECT, None))]),
        Some(k.public()),
        None,
    )
    .await;
    assert_status(&report, Status::Valid, "signature verified");
}

async fn valid_among_others<H: Harness>() {
    let k = key(1);
    let proofs = vec![
        own("kez:z1:not-a-claim".to_owned()),
        own(claim(&key(2), H::SUBJECT, Some(IAT + 1))),
        own(claim(&k, H::SUBJECT, None)),
    ];
    let report = check::<H>(Setup::Publish(proofs), None, None).await;
    assert_status(&report, Status::Valid, "1 of 3 proofs valid");
    let statuses: Vec<Status> = report.proofs.iter().map(|p| p.status).collect();
    assert!(statuses.contains(&Status::Invalid) && statuses.contains(&Status::Expired));
}

async fn not_found<H: Harness>() {
    let report = check::<H>(Setup::Empty, None, None).await;
    assert_eq!(report.status, Status::NotFound, "{report:#?}");
    assert!(report.proofs.is_empty());
}

async fn unreachable_refused<H: Harness>() {
    let report = check::<H>(Setup::Refused, None, None).await;
    assert_eq!(report.status, Status::Unreachable, "{report:#?}");
}

async fn unreachable_timeout<H: Harness>() {
    let start = Instant::now();
    let report = check::<H>(Setup::Silent, None, None).await;
    assert_eq!(report.status, Status::Unreachable, "{report:#?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

async fn unreachable_server_error<H: Harness>() {
    let report = check::<H>(Setup::ServerError, None, None).await;
    assert_eq!(report.status, Status::Unreachable, "{report:#?}");
}

async fn unreachable_rate_limited<H: Harness>() {
    let report = check::<H>(Setup::RateLimited, None, None).await;
    assert_eq!(report.status, Status::Unreachable, "{report:#?}");
}

async fn other_account<H: Harness>() {
    let report = check::<H>(Setup::Publish(H::other_account(&key(1))), None, None).await;
    assert_status(&report, Status::Invalid, "another account");
}

async fn other_key<H: Harness>() {
    let k = key(1);
    let report = check::<H>(
        Setup::Publish(vec![own(claim(&k, H::SUBJECT, None))]),
        Some(key(2).public()),
        None,
    )
    .await;
    assert_status(&report, Status::Invalid, "signed by another key");
}

async fn revoked<H: Harness>() {
    let k = key(1);
    let chain = revoking_chain(&k, H::SUBJECT);
    let report = check::<H>(
        Setup::Publish(vec![own(claim(&k, H::SUBJECT, None))]),
        None,
        Some(&chain),
    )
    .await;
    assert_status(&report, Status::Revoked, "revoked");
}

async fn expired<H: Harness>() {
    let k = key(1);
    let report = check::<H>(
        Setup::Publish(vec![own(claim(&k, H::SUBJECT, Some(NOW)))]),
        None,
        None,
    )
    .await;
    assert_status(&report, Status::Expired, &format!("expired at {NOW}"));
}

async fn malformed<H: Harness>() {
    for bad in [Bad::TruncatedJson, Bad::Html, Bad::Huge] {
        let report = check::<H>(Setup::Malformed(bad), None, None).await;
        assert_eq!(report.status, Status::Unreachable, "{bad:?}: {report:#?}");
        assert!(!report.reason.is_empty());
    }
}

macro_rules! channel_suite {
    ($name:ident, $harness:ty) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn valid() {
                super::valid::<$harness>().await;
            }
            #[tokio::test]
            async fn valid_among_others() {
                super::valid_among_others::<$harness>().await;
            }
            #[tokio::test]
            async fn not_found() {
                super::not_found::<$harness>().await;
            }
            #[tokio::test]
            async fn unreachable_refused() {
                super::unreachable_refused::<$harness>().await;
            }
            #[tokio::test]
            async fn unreachable_timeout() {
                super::unreachable_timeout::<$harness>().await;
            }
            #[tokio::test]
            async fn unreachable_server_error() {
                super::unreachable_server_error::<$harness>().await;
            }
            #[tokio::test]
            async fn unreachable_rate_limited() {
                super::unreachable_rate_limited::<$harness>().await;
            }
            #[tokio::test]
            async fn other_account() {
                super::other_account::<$harness>().await;
            }
            #[tokio::test]
            async fn other_key() {
                super::other_key::<$harness>().await;
            }
            #[tokio::test]
            async fn revoked() {
                super::revoked::<$harness>().await;
            }
            #[tokio::test]
            async fn expired() {
                super::expired::<$harness>().await;
            }
            #[tokio::test]
            async fn malformed() {
                super::malformed::<$harness>().await;
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// dns
// ---------------------------------------------------------------------------------------------

struct DnsHarness;

const DNS_NAME: &str = "_kez.alice.example.";

/// A TXT record's strings for `text`, split as encoders split them (SPEC.md §9.4).
fn txt(text: &str) -> Vec<String> {
    kez_core::txt_strings(text)
        .map(|s| String::from_utf8(s.to_vec()).unwrap())
        .collect()
}

impl Harness for DnsHarness {
    const SUBJECT: &'static str = "dns:alice.example";

    async fn start(setup: Setup) -> Running {
        let mut config = base_config();
        let mut guards: Vec<Box<dyn Any + Send>> = Vec::new();
        let addr = match setup {
            Setup::Publish(proofs) => {
                let records: Vec<(String, Vec<String>)> = proofs
                    .iter()
                    .map(|p| (DNS_NAME.to_owned(), txt(&p.text)))
                    .collect();
                let (addr, task) = dns_server(&records).await;
                guards.push(Box::new(task));
                addr
            }
            Setup::Empty => {
                // the zone exists, with another name's record only
                let other = vec![("_kez.bob.example.".to_owned(), vec!["x".to_owned()])];
                let (addr, task) = dns_server(&other).await;
                guards.push(Box::new(task));
                addr
            }
            Setup::Refused => refused_addr().await,
            other => {
                let kind = match other {
                    Setup::Silent => RawDns::Silent,
                    Setup::ServerError => RawDns::Rcode(2),
                    Setup::RateLimited => RawDns::Rcode(5),
                    _ => RawDns::Garbage,
                };
                let (addr, task) = raw_dns(kind).await;
                guards.push(Box::new(task));
                addr
            }
        };
        config.dns_server = Some(addr);
        Running {
            config,
            _guards: guards,
        }
    }

    fn other_account(key: &SecretKey) -> Vec<Published> {
        // at alice's name, a proof of bob's domain
        vec![own(claim(key, "dns:bob.example", None))]
    }
}

channel_suite!(dns, DnsHarness);

#[tokio::test]
async fn dns_nxdomain_is_not_found() {
    let (addr, _task) = dns_server(&[]).await;
    let config = Config {
        dns_server: Some(addr),
        ..base_config()
    };
    let report = verify_id(&config, "dns:nobody.example", NOW, None, None)
        .await
        .unwrap();
    assert_eq!(report.status, Status::NotFound, "{report:#?}");
    assert!(report.reason.contains("NXDOMAIN"), "{report:#?}");
}

#[tokio::test]
async fn dns_many_records_fall_back_to_tcp() {
    // five proofs of ~450 bytes do not fit a UDP answer: the truncated answer is retried on TCP
    let k = key(1);
    let proofs: Vec<Published> = (0..5)
        .map(|i| own(claim(&k, DnsHarness::SUBJECT, Some(NOW + 1 + i))))
        .collect();
    let running = DnsHarness::start(Setup::Publish(proofs)).await;
    let report = verify_id(&running.config, DnsHarness::SUBJECT, NOW, None, None)
        .await
        .unwrap();
    assert_eq!(report.status, Status::Valid, "{report:#?}");
    assert_eq!(report.proofs.len(), 5);
}

#[tokio::test]
async fn dns_offline_is_unreachable() {
    let running = DnsHarness::start(Setup::Empty).await;
    let config = Config {
        offline: true,
        ..running.config.clone()
    };
    let report = verify_id(&config, DnsHarness::SUBJECT, NOW, None, None)
        .await
        .unwrap();
    assert_status(&report, Status::Unreachable, "offline, not cached");
}

// ---------------------------------------------------------------------------------------------
// github
// ---------------------------------------------------------------------------------------------

struct GithubHarness;

const GISTS_PAGE_1: &str = "/users/alice/gists?per_page=100&page=1";

/// Serves `proofs` as alice's gists (one file each), on one page.
fn serve_gists(server: &HttpServer, proofs: &[Published]) {
    let mut gists = Vec::new();
    for (i, p) in proofs.iter().enumerate() {
        let id = format!("aa{i:02}");
        let owner = p.owner.unwrap_or("alice");
        gists.push(gist(&server.base, &id, owner, &["kez.md"]));
        server.route(
            &raw_path(owner, &id, "kez.md"),
            Reply::new(200, format!("My KEZ proof:\n\n```kez\n{}\n```\n", p.text)),
        );
    }
    server.route(GISTS_PAGE_1, Reply::json(&serde_json::Value::Array(gists)));
}

impl Harness for GithubHarness {
    const SUBJECT: &'static str = "github:alice";

    async fn start(setup: Setup) -> Running {
        let mut config = base_config();
        let mut guards: Vec<Box<dyn Any + Send>> = Vec::new();
        let base = match setup {
            Setup::Refused => format!("http://{}", refused_addr().await),
            Setup::Silent => {
                let (base, task) = silent_http().await;
                guards.push(Box::new(task));
                base
            }
            other => {
                let server = HttpServer::start().await;
                match other {
                    Setup::Publish(proofs) => serve_gists(&server, &proofs),
                    Setup::Empty => server.route(GISTS_PAGE_1, Reply::json(&serde_json::json!([]))),
                    Setup::ServerError => server.route(
                        GISTS_PAGE_1,
                        Reply::new(500, "{\"message\":\"Server Error\"}"),
                    ),
                    Setup::RateLimited => server.route(
                        GISTS_PAGE_1,
                        Reply::new(429, "{\"message\":\"API rate limit exceeded\"}")
                            .header("retry-after", "30"),
                    ),
                    Setup::Malformed(bad) => {
                        let body = match bad {
                            Bad::TruncatedJson => {
                                let full = serde_json::json!([gist(
                                    &server.base,
                                    "aa00",
                                    "alice",
                                    &["kez.md"]
                                )])
                                .to_string();
                                full.as_bytes()[..full.len() / 2].to_vec()
                            }
                            Bad::Html => {
                                b"<!DOCTYPE html><html><body>Unicorn!</body></html>".to_vec()
                            }
                            Bad::Huge => vec![b'['; 10 << 20],
                        };
                        server.route(GISTS_PAGE_1, Reply::new(200, body));
                    }
                    _ => unreachable!(),
                }
                let base = server.base.clone();
                guards.push(Box::new(server));
                base
            }
        };
        config.github_api = base;
        Running {
            config,
            _guards: guards,
        }
    }

    fn other_account(key: &SecretKey) -> Vec<Published> {
        // a gist in alice's listing whose owner is mallory
        vec![Published {
            text: claim(key, "github:alice", None),
            owner: Some("mallory"),
        }]
    }
}

channel_suite!(github, GithubHarness);

async fn github_server(proofs: &[Published]) -> (HttpServer, Config) {
    let server = HttpServer::start().await;
    serve_gists(&server, proofs);
    let config = Config {
        github_api: server.base.clone(),
        ..base_config()
    };
    (server, config)
}

#[tokio::test]
async fn github_unknown_user_is_not_found() {
    let (_server, config) = github_server(&[]).await;
    let report = verify_id(&config, "github:nobody", NOW, None, None)
        .await
        .unwrap();
    assert_status(&report, Status::NotFound, "no GitHub account nobody");
}

#[tokio::test]
async fn github_403_rate_limit_is_unreachable() {
    let (server, config) = github_server(&[]).await;
    server.route(
        GISTS_PAGE_1,
        Reply::new(403, "{\"message\":\"API rate limit exceeded\"}")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", "1764200600"),
    );
    let report = verify_id(&config, "github:alice", NOW, None, None)
        .await
        .unwrap();
    assert_status(&report, Status::Unreachable, "rate limited");
}

#[tokio::test]
async fn github_follows_pagination() {
    let k = key(1);
    let (server, config) = github_server(&[]).await;
    let page2 = "/users/alice/gists?per_page=100&page=2";
    let first = vec![gist(&server.base, "bb01", "alice", &["notes.txt"])];
    server.route(
        raw_path("alice", "bb01", "notes.txt").as_str(),
        Reply::new(200, "just notes"),
    );
    server.route(
        GISTS_PAGE_1,
        Reply::json(&serde_json::Value::Array(first)).header(
            "link",
            &format!(
                "<{}{page2}>; rel=\"next\", <{}{page2}>; rel=\"last\"",
                server.base, server.base
            ),
        ),
    );
    let second = vec![gist(&server.base, "bb02", "alice", &["kez.md"])];
    server.route(page2, Reply::json(&serde_json::Value::Array(second)));
    server.route(
        &raw_path("alice", "bb02", "kez.md"),
        Reply::new(
            200,
            format!("```kez\n{}\n```\n", claim(&k, "github:alice", None)),
        ),
    );
    let report = verify_id(&config, "github:alice", NOW, None, None)
        .await
        .unwrap();
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
}

#[tokio::test]
async fn github_token_goes_to_the_api_only() {
    let k = key(1);
    let (server, mut config) = github_server(&[own(claim(&k, "github:alice", None))]).await;
    config.github_token = Some("test-token-123".to_owned());
    assert!(!format!("{config:?}").contains("test-token-123"));
    let report = verify_id(&config, "github:alice", NOW, None, None)
        .await
        .unwrap();
    assert_eq!(report.status, Status::Valid, "{report:#?}");
    for (path, headers) in server.seen() {
        let auth = headers.get("authorization").map(String::as_str);
        if path.starts_with("/users/") {
            assert_eq!(auth, Some("Bearer test-token-123"));
            assert_eq!(
                headers.get("accept").map(String::as_str),
                Some("application/vnd.github+json")
            );
        } else {
            assert_eq!(auth, None, "{path}");
        }
    }
}

#[tokio::test]
async fn github_huge_raw_file_is_unreachable() {
    let (server, config) = github_server(&[own("x".to_owned())]).await;
    server.route(
        &raw_path("alice", "aa00", "kez.md"),
        Reply::new(200, vec![b'k'; 10 << 20]),
    );
    let report = verify_id(&config, "github:alice", NOW, None, None)
        .await
        .unwrap();
    assert_status(&report, Status::Unreachable, "response too large");
}

#[tokio::test]
async fn github_cache_etag_max_age_and_offline() {
    let k = key(1);
    let dir = std::env::temp_dir().join(format!("kez-channels-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (server, mut config) = github_server(&[own(claim(&k, "github:alice", None))]).await;
    config.cache_dir = Some(dir.clone());
    let raw = raw_path("alice", "aa00", "kez.md");
    // the listing revalidates by ETag; the raw file is fresh for an hour
    let listing = server
        .shared
        .routes
        .lock()
        .unwrap()
        .get(GISTS_PAGE_1)
        .cloned()
        .unwrap();
    server.route(
        GISTS_PAGE_1,
        listing
            .header("etag", "\"v1\"")
            .header("cache-control", "no-cache"),
    );
    let text = server
        .shared
        .routes
        .lock()
        .unwrap()
        .get(&raw)
        .cloned()
        .unwrap();
    server.route(&raw, text.header("cache-control", "public, max-age=3600"));

    // offline before anything is cached
    let offline = Config {
        offline: true,
        ..config.clone()
    };
    let report = verify_id(&offline, "github:alice", NOW, None, None)
        .await
        .unwrap();
    assert_status(&report, Status::Unreachable, "offline, not cached");

    for _ in 0..2 {
        let report = verify_id(&config, "github:alice", NOW, None, None)
            .await
            .unwrap();
        assert_eq!(report.status, Status::Valid, "{report:#?}");
    }
    assert_eq!(server.hits(GISTS_PAGE_1), 2);
    assert_eq!(server.hits(&raw), 1, "fresh for max-age");
    let revalidated = server
        .seen()
        .iter()
        .filter(|(p, h)| {
            p == GISTS_PAGE_1 && h.get("if-none-match").map(String::as_str) == Some("\"v1\"")
        })
        .count();
    assert_eq!(revalidated, 1);

    // offline: from the cache, nothing on the network
    let before = server.seen().len();
    let report = verify_id(&offline, "github:alice", NOW, None, None)
        .await
        .unwrap();
    assert_eq!(report.status, Status::Valid, "{report:#?}");
    assert_eq!(server.seen().len(), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn github_no_store_is_not_cached() {
    let k = key(1);
    let dir = std::env::temp_dir().join(format!("kez-channels-nostore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (server, mut config) = github_server(&[own(claim(&k, "github:alice", None))]).await;
    config.cache_dir = Some(dir.clone());
    let listing = server
        .shared
        .routes
        .lock()
        .unwrap()
        .get(GISTS_PAGE_1)
        .cloned()
        .unwrap();
    server.route(GISTS_PAGE_1, listing.header("cache-control", "no-store"));
    let report = verify_id(&config, "github:alice", NOW, None, None)
        .await
        .unwrap();
    assert_eq!(report.status, Status::Valid, "{report:#?}");
    let offline = Config {
        offline: true,
        ..config
    };
    let report = verify_id(&offline, "github:alice", NOW, None, None)
        .await
        .unwrap();
    assert_status(&report, Status::Unreachable, "offline, not cached");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn unsupported_channel_and_bad_subject() {
    let config = base_config();
    let nostr = "nostr:npub1d4k24sjg47t0dta8lyz025p98g8naul44gh7dqu2jkepv6g5dr3q97c7ha";
    let err = verify_id(&config, nostr, NOW, None, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "usage");
    assert!(err.to_string().contains("not supported yet"));
    let err = verify_id(&config, "github:-a", NOW, None, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "bad_subject");
}
