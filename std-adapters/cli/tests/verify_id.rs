//! `kez verify id` end to end against a local HTTP server speaking the GitHub gist shapes
//! (SPEC.md §15.3): valid, another key, revoked through the sigchain, unreachable, usage errors
//! channels. The channel suite itself lives in kez-channels.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::{ED_SEED, kez, scratch};

type Routes = Arc<Mutex<HashMap<String, String>>>;

/// A minimal HTTP/1.1 server on 127.0.0.1 answering GETs from `routes` (404 otherwise).
fn serve() -> (String, Routes) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let routes: Routes = Arc::default();
    let shared = Arc::clone(&routes);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = first.split(' ').nth(1).unwrap_or("").to_owned();
            let body = shared.lock().unwrap().get(&path).cloned();
            let (status, body) = match body {
                Some(b) => ("200 OK", b),
                None => ("404 Not Found", "{\"message\":\"Not Found\"}".to_owned()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, routes)
}

fn publish_gist(base: &str, routes: &Routes, text: &str) {
    let raw = "/raw/alice/abc123/raw/0/kez.md";
    let gists = serde_json::json!([{
        "id": "abc123",
        "html_url": format!("{base}/alice/abc123"),
        "files": {"kez.md": {
            "filename": "kez.md", "type": "text/markdown", "language": "Markdown",
            "raw_url": format!("{base}{raw}"), "size": text.len()
        }},
        "public": true,
        "created_at": "2026-11-26T12:00:00Z",
        "updated_at": "2026-11-26T12:00:00Z",
        "description": "kez proof",
        "owner": {"login": "Alice", "id": 1, "type": "User", "site_admin": false},
        "truncated": false
    }]);
    let mut r = routes.lock().unwrap();
    r.insert(
        "/users/alice/gists?per_page=100&page=1".to_owned(),
        gists.to_string(),
    );
    r.insert(raw.to_owned(), text.to_owned());
}

fn key_file(dir: &std::path::Path, name: &str, seed: &str) -> String {
    let path = dir.join(name).to_str().unwrap().to_owned();
    let run = kez(&[
        "identity", "new", "--alg", "ed25519", "--seed", seed, "--out", &path,
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    path
}

#[test]
fn github_valid_other_key_revoked() {
    let dir = scratch("verify-id");
    let key = key_file(&dir, "a.json", ED_SEED);
    let chain = dir.join("chain.jsonl").to_str().unwrap().to_owned();
    let cache = dir.join("cache").to_str().unwrap().to_owned();
    assert_eq!(
        kez(&["sigchain", "new", "--key", &key, "--chain", &chain]).code,
        0
    );
    let add = kez(&[
        "sigchain",
        "add",
        "--key",
        &key,
        "--chain",
        &chain,
        "--subject",
        "github:alice",
        "--iat",
        "1764115200",
        "--format",
        "markdown",
    ]);
    assert_eq!(add.code, 0, "{add:?}");
    let (base, routes) = serve();
    publish_gist(&base, &routes, &format!("My KEZ proof.\n\n{}", add.stdout));
    let keyref = kez(&["identity", "show", "--key", &key])
        .stdout
        .trim()
        .to_owned();
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "id",
            "GitHub:@Alice",
            "--github-api",
            &base,
            "--cache-dir",
            &cache,
            "--now",
            "1764200000",
            "--timeout",
            "5",
            "--json",
        ];
        args.extend_from_slice(extra);
        kez(&args)
    };

    let run = verify(&["--key", &keyref, "--chain", &chain]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "{{\"proofs\":[{{\"key\":\"{keyref}\",\"reason\":\"recorded by link 1\",\"status\":\"valid\",\"subject\":\"github:alice\"}}],\"reason\":\"1 of 1 proofs valid\",\"status\":\"valid\",\"subject\":\"github:alice\"}}\n"
        )
    );

    let other = "ed25519:29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7";
    let run = verify(&["--key", other]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("\"status\":\"invalid\""), "{run:?}");
    assert!(run.stdout.contains("signed by another key"), "{run:?}");

    let revoke = kez(&[
        "sigchain",
        "revoke",
        "--key",
        &key,
        "--chain",
        &chain,
        "--subject",
        "github:alice",
        "--iat",
        "1764115300",
    ]);
    assert_eq!(revoke.code, 0, "{revoke:?}");
    let run = verify(&["--chain", &chain]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("\"reason\":\"revoked by link 2\""),
        "{run:?}"
    );
    assert!(
        run.stdout
            .ends_with("\"status\":\"revoked\",\"subject\":\"github:alice\"}\n"),
        "{run:?}"
    );

    // the answers above are cached: offline still answers
    let run = kez(&[
        "verify",
        "id",
        "github:alice",
        "--github-api",
        &base,
        "--cache-dir",
        &cache,
        "--now",
        "1764200000",
        "--offline",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("valid: github:alice"), "{run:?}");
}

#[test]
fn unreachable_and_not_found() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let dir = scratch("verify-id-unreachable");
    let cache = dir.join("cache").to_str().unwrap().to_owned();
    let run = kez(&[
        "verify",
        "id",
        "github:alice",
        "--github-api",
        &dead,
        "--cache-dir",
        &cache,
        "--timeout",
        "0.5",
        "--json",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("\"status\":\"unreachable\""), "{run:?}");
    assert!(run.stdout.starts_with("{\"proofs\":[],"), "{run:?}");

    let (base, _routes) = serve();
    let run = kez(&[
        "verify",
        "id",
        "github:nobody",
        "--github-api",
        &base,
        "--cache-dir",
        &cache,
        "--json",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("\"status\":\"not_found\""), "{run:?}");
}

#[test]
fn usage_errors() {
    kez(&["verify", "id", "github:-a"]).assert_error("bad_subject");
    kez(&["verify", "id", "dns:a.example", "github:-a"]).assert_error("bad_subject");
    kez(&["verify", "id", "dns:a.example", "--relay", "http://x"]).assert_error("usage");
    kez(&["verify", "id", "dns:a.example", "--web-origin", "x"]).assert_error("usage");
    kez(&["verify", "id", "dns:a.example", "--dns-server", "nope"]).assert_error("usage");
    kez(&["verify", "id", "dns:a.example", "--timeout", "0"]).assert_error("usage");
    kez(&["verify", "id", "dns:a.example", "--key", "ed25519:zz"]).assert_error("bad_key");
}
