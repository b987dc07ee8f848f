//! The `github` channel's harness and its own cases.

use std::any::Any;

use kez_channels::{Config, verify_id};
use kez_core::{SecretKey, Status};

use crate::common::*;
use crate::suite::*;
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

crate::channel_suite!(github, GithubHarness);

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
async fn bad_subject() {
    let config = base_config();
    let err = verify_id(&config, "github:-a", NOW, None, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "bad_subject");
}
