//! The `bluesky` channel's harness and its own cases (SPEC.md §15.5).
//!
//! One HTTP server plays every host through the web origin override: the handle's web server
//! (`alice.example`), the PLC directory (`plc.test`) and the PDS (`pds.test`), all in the JSON
//! shapes of the real services; the hickory server from `common` holds `_atproto.alice.example`.

use std::any::Any;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use kez_channels::{
    Config, Credentials, Publication, PublishError, Report, ToPublish, publish, verify_id,
};
use kez_core::{SecretKey, Status};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::common::*;
use crate::suite::*;

// ---------------------------------------------------------------------------------------------
// bluesky
// ---------------------------------------------------------------------------------------------

const HANDLE: &str = "alice.example";
const SUBJECT: &str = "bluesky:alice.example";
const DID: &str = "did:plc:a2b3c4d5e6f7g2h3i4j5k6l7";
const MALLORY_DID: &str = "did:plc:m2m3m4m5m6m7m2m3m4m5m6m7";
const PLC: &str = "https://plc.test";
const PDS: &str = "https://pds.test";
const ATPROTO_NAME: &str = "_atproto.alice.example.";
const WELL_KNOWN: &str = "/.well-known/atproto-did";
const APP_PASSWORD: &str = "abcd-efgh-ijkl-mnop";
const ACCESS_JWT: &str =
    "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NksifQ.eyJzY29wZSI6ImNvbS5hdHByb3RvLmFwcFBhc3MifQ.c2ln";

/// The listRecords request of `did`'s posts, as the channel sends it.
fn list_path(did: &str, cursor: Option<&str>) -> String {
    let mut path = format!(
        "/xrpc/com.atproto.repo.listRecords?repo={did}&collection=app.bsky.feed.post&limit=100"
    );
    if let Some(c) = cursor {
        path.push_str(&format!("&cursor={c}"));
    }
    path
}

/// A DID document as the PLC directory serves it.
fn did_doc(did: &str, handle: &str, pds: &str) -> Value {
    json!({
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1",
            "https://w3id.org/security/suites/secp256k1-2019/v1"
        ],
        "id": did,
        "alsoKnownAs": [format!("at://{handle}")],
        "verificationMethod": [{
            "id": format!("{did}#atproto"),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF"
        }],
        "service": [{
            "id": "#atproto_pds",
            "type": "AtprotoPersonalDataServer",
            "serviceEndpoint": pds
        }]
    })
}

fn doc_reply(doc: &Value) -> Reply {
    Reply::new(200, doc.to_string())
        .header("content-type", "application/did+ld+json; charset=utf-8")
}

/// A record key in the TID alphabet.
fn rkey(i: usize) -> String {
    const ALPHABET: &[u8] = b"234567abcdefghijklmnopqrstuvwxyz";
    let a = ALPHABET[i / 32 % 32] as char;
    let b = ALPHABET[i % 32] as char;
    format!("3lbqzkxq2c2{a}{b}")
}

/// A post record value as the Bluesky app writes it, with `text` and optionally a link card.
fn post_value(text: &str, card_uri: Option<&str>) -> Value {
    let mut value = json!({
        "$type": "app.bsky.feed.post",
        "createdAt": "2025-11-26T00:00:00.000Z",
        "langs": ["en"],
        "text": text
    });
    if let Some(uri) = card_uri {
        value["embed"] = json!({
            "$type": "app.bsky.embed.external",
            "external": {
                "uri": uri,
                "title": "KEZ identity proof",
                "description": "bluesky:alice.example is held by a KEZ key"
            }
        });
    }
    value
}

/// One entry of a listRecords answer.
fn record(author: &str, i: usize, value: Value) -> Value {
    json!({
        "uri": format!("at://{author}/app.bsky.feed.post/{}", rkey(i)),
        "cid": format!("bafyreih{:0>51}", i),
        "value": value
    })
}

/// A listRecords page: the reference PDS sets `cursor` to the last record's key whenever the
/// page is not empty.
fn page(records: Vec<Value>) -> Value {
    let cursor = records
        .last()
        .and_then(|r| r["uri"].as_str())
        .and_then(|u| u.rsplit('/').next())
        .map(str::to_owned);
    match cursor {
        Some(c) => json!({ "records": records, "cursor": c }),
        None => json!({ "records": records }),
    }
}

/// Serves `records` as `did`'s posts: one page, then the empty page after its cursor.
fn serve_posts(server: &HttpServer, did: &str, records: Vec<Value>) {
    let first = page(records);
    if let Some(cursor) = first["cursor"].as_str() {
        server.route_host(
            "pds.test",
            &list_path(did, Some(cursor)),
            Reply::json(&json!({ "records": [] })),
        );
    }
    server.route_host("pds.test", &list_path(did, None), Reply::json(&first));
}

/// How the handle resolves.
struct Identity {
    /// TXT strings at `_atproto.alice.example` (one record each); empty: the name does not exist.
    txt: Vec<String>,
    /// The body of `https://alice.example/.well-known/atproto-did`; `None`: HTTP 404.
    well_known: Option<String>,
    /// The document at the PLC directory for `DID`.
    doc: Option<Value>,
}

impl Identity {
    fn agreeing(pds: &str) -> Self {
        Self {
            txt: vec![format!("did={DID}")],
            well_known: Some(format!("{DID}\n")),
            doc: Some(did_doc(DID, HANDLE, pds)),
        }
    }
}

/// A running world: the HTTP server (every https host), the DNS server, the config.
struct World {
    server: HttpServer,
    config: Config,
    _dns: Task,
}

async fn world(identity: Identity) -> World {
    let records: Vec<(String, Vec<String>)> = identity
        .txt
        .iter()
        .map(|t| (ATPROTO_NAME.to_owned(), vec![t.clone()]))
        .collect();
    let (dns_addr, dns) = dns_server(&records).await;
    let server = HttpServer::start().await;
    if let Some(body) = &identity.well_known {
        server.route_host(
            HANDLE,
            WELL_KNOWN,
            Reply::new(200, body.clone()).header("content-type", "text/plain"),
        );
    }
    if let Some(doc) = &identity.doc {
        server.route_host("plc.test", &format!("/{DID}"), doc_reply(doc));
    }
    let config = Config {
        dns_server: Some(dns_addr),
        web_origin: Some(server.base.clone()),
        plc_directory: PLC.to_owned(),
        ..base_config()
    };
    World {
        server,
        config,
        _dns: dns,
    }
}

async fn verify(config: &Config) -> Report {
    verify_id(config, SUBJECT, NOW, None, None).await.unwrap()
}

struct BlueskyHarness;

impl Harness for BlueskyHarness {
    const SUBJECT: &'static str = SUBJECT;

    async fn start(setup: Setup) -> Running {
        let mut guards: Vec<Box<dyn Any + Send>> = Vec::new();
        // refused and silent apply to the PDS, which then lives at another origin
        let pds = match &setup {
            Setup::Refused => format!("http://{}", refused_addr().await),
            Setup::Silent => {
                let (base, task) = silent_http().await;
                guards.push(Box::new(task));
                base
            }
            _ => PDS.to_owned(),
        };
        let w = world(Identity::agreeing(&pds)).await;
        let list = list_path(DID, None);
        match setup {
            Setup::Publish(proofs) => {
                let records = proofs
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let author = match p.owner {
                            Some(_) => MALLORY_DID,
                            None => DID,
                        };
                        let text = format!("KEZ identity proof for {SUBJECT}");
                        record(author, i, post_value(&text, Some(&p.text)))
                    })
                    .collect();
                serve_posts(&w.server, DID, records);
            }
            Setup::Empty => {
                // posts, none of them a proof
                let records = vec![
                    record(DID, 0, post_value("hello world", None)),
                    record(DID, 1, post_value("a link", Some("https://example.com/"))),
                ];
                serve_posts(&w.server, DID, records);
            }
            Setup::ServerError => w.server.route_host(
                "pds.test",
                &list,
                Reply::new(
                    500,
                    r#"{"error":"InternalServerError","message":"Internal Server Error"}"#,
                )
                .header("content-type", "application/json; charset=utf-8"),
            ),
            Setup::RateLimited => w.server.route_host(
                "pds.test",
                &list,
                Reply::new(
                    429,
                    r#"{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}"#,
                )
                .header("content-type", "application/json; charset=utf-8")
                .header("ratelimit-limit", "3000")
                .header("ratelimit-remaining", "0")
                .header("ratelimit-reset", "1764200300")
                .header("ratelimit-policy", "3000;w=300")
                .header("retry-after", "300"),
            ),
            Setup::Malformed(bad) => {
                let body = match bad {
                    Bad::TruncatedJson => {
                        let text = format!("KEZ identity proof for {SUBJECT}");
                        let full = page(vec![record(DID, 0, post_value(&text, None))]).to_string();
                        full.as_bytes()[..full.len() / 2].to_vec()
                    }
                    Bad::Html => b"<!DOCTYPE html><html><body>Bad Gateway?</body></html>".to_vec(),
                    Bad::Huge => vec![b'{'; 10 << 20],
                };
                w.server
                    .route_host("pds.test", &list, Reply::new(200, body));
            }
            Setup::Refused | Setup::Silent => {}
        }
        let config = w.config.clone();
        guards.push(Box::new(w));
        Running {
            config,
            _guards: guards,
        }
    }

    fn other_account(key: &SecretKey) -> Vec<Published> {
        // in alice's listing, a post whose URI is in mallory's repository
        vec![Published {
            text: claim(key, SUBJECT, None),
            owner: Some("mallory"),
        }]
    }
}

crate::channel_suite!(bluesky, BlueskyHarness);

/// A world whose PDS serves one own post holding a valid proof in its link card.
async fn proof_world(identity: Identity) -> World {
    let w = world(identity).await;
    let text = format!("KEZ identity proof for {SUBJECT}");
    let proof = claim(&key(1), SUBJECT, None);
    serve_posts(
        &w.server,
        DID,
        vec![record(DID, 0, post_value(&text, Some(&proof)))],
    );
    w
}

#[tokio::test]
async fn bluesky_dns_only() {
    let w = proof_world(Identity {
        well_known: None,
        ..Identity::agreeing(PDS)
    })
    .await;
    let report = verify(&w.config).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
    assert_eq!(
        report.proofs[0].location,
        format!("at://{DID}/app.bsky.feed.post/{}", rkey(0))
    );
}

#[tokio::test]
async fn bluesky_https_only() {
    let w = proof_world(Identity {
        txt: Vec::new(),
        ..Identity::agreeing(PDS)
    })
    .await;
    assert_status(
        &verify(&w.config).await,
        Status::Valid,
        "1 of 1 proofs valid",
    );
    // asked for both, concurrently
    assert_eq!(w.server.hits(WELL_KNOWN), 1);
}

#[tokio::test]
async fn bluesky_https_only_with_dns_down() {
    // one method gives a DID, the other fails: the DID is used
    let w = proof_world(Identity::agreeing(PDS)).await;
    let (addr, _servfail) = raw_dns(RawDns::Rcode(2)).await;
    let config = Config {
        dns_server: Some(addr),
        ..w.config.clone()
    };
    assert_status(&verify(&config).await, Status::Valid, "1 of 1 proofs valid");
}

#[tokio::test]
async fn bluesky_dns_only_with_https_down() {
    let w = proof_world(Identity::agreeing(PDS)).await;
    w.server.route_host(
        HANDLE,
        WELL_KNOWN,
        Reply::new(503, "<html>Service Unavailable</html>"),
    );
    assert_status(
        &verify(&w.config).await,
        Status::Valid,
        "1 of 1 proofs valid",
    );
}

#[tokio::test]
async fn bluesky_well_known_html_is_no_did() {
    // a web site answering every path with a page gives no DID; DNS decides
    let w = proof_world(Identity {
        well_known: Some("<!DOCTYPE html><html><body>Welcome</body></html>".to_owned()),
        ..Identity::agreeing(PDS)
    })
    .await;
    assert_status(
        &verify(&w.config).await,
        Status::Valid,
        "1 of 1 proofs valid",
    );
}

#[tokio::test]
async fn bluesky_conflicting_dids() {
    let w = proof_world(Identity {
        well_known: Some(MALLORY_DID.to_owned()),
        ..Identity::agreeing(PDS)
    })
    .await;
    let report = verify(&w.config).await;
    assert_status(&report, Status::NotFound, "handle resolves to two DIDs");
    assert!(report.reason.contains(MALLORY_DID), "{report:#?}");
}

#[tokio::test]
async fn bluesky_two_dns_dids() {
    let w = proof_world(Identity {
        txt: vec![format!("did={DID}"), format!("did={MALLORY_DID}")],
        ..Identity::agreeing(PDS)
    })
    .await;
    assert_status(
        &verify(&w.config).await,
        Status::NotFound,
        "handle resolves to two DIDs",
    );
}

#[tokio::test]
async fn bluesky_other_txt_records_are_ignored() {
    let w = proof_world(Identity {
        txt: vec!["v=spf1 -all".to_owned(), format!("did={DID}")],
        well_known: None,
        ..Identity::agreeing(PDS)
    })
    .await;
    assert_status(
        &verify(&w.config).await,
        Status::Valid,
        "1 of 1 proofs valid",
    );
}

#[tokio::test]
async fn bluesky_unresolved_handle() {
    // both methods answer "none": not_found
    let w = proof_world(Identity {
        txt: Vec::new(),
        well_known: None,
        ..Identity::agreeing(PDS)
    })
    .await;
    assert_status(
        &verify(&w.config).await,
        Status::NotFound,
        "does not resolve to a DID",
    );
    // one of them failed: unreachable
    let (addr, _servfail) = raw_dns(RawDns::Rcode(2)).await;
    let config = Config {
        dns_server: Some(addr),
        ..w.config.clone()
    };
    assert_status(
        &verify(&config).await,
        Status::Unreachable,
        "cannot resolve",
    );
}

#[tokio::test]
async fn bluesky_document_must_claim_the_handle() {
    let w = proof_world(Identity {
        doc: Some(did_doc(DID, "bob.example", PDS)),
        ..Identity::agreeing(PDS)
    })
    .await;
    let report = verify(&w.config).await;
    assert_status(&report, Status::NotFound, "does not claim the handle");
    assert!(report.reason.contains("bob.example"), "{report:#?}");
    // the PDS was never asked
    assert_eq!(w.server.hits(&list_path(DID, None)), 0);
}

#[tokio::test]
async fn bluesky_first_handle_of_the_document_counts() {
    let mut doc = did_doc(DID, "bob.example", PDS);
    doc["alsoKnownAs"] = json!([
        "https://alice.example/",
        "at://Alice.Example",
        "at://bob.example"
    ]);
    let w = proof_world(Identity {
        doc: Some(doc.clone()),
        ..Identity::agreeing(PDS)
    })
    .await;
    assert_status(
        &verify(&w.config).await,
        Status::Valid,
        "1 of 1 proofs valid",
    );
    doc["alsoKnownAs"] = json!(["at://bob.example", "at://alice.example"]);
    w.server
        .route_host("plc.test", &format!("/{DID}"), doc_reply(&doc));
    assert_status(
        &verify(&w.config).await,
        Status::NotFound,
        "does not claim the handle",
    );
}

#[tokio::test]
async fn bluesky_document_of_another_did() {
    let w = proof_world(Identity {
        doc: Some(did_doc(MALLORY_DID, HANDLE, PDS)),
        ..Identity::agreeing(PDS)
    })
    .await;
    assert_status(&verify(&w.config).await, Status::NotFound, "another DID");
}

#[tokio::test]
async fn bluesky_document_without_pds() {
    let mut doc = did_doc(DID, HANDLE, PDS);
    doc["service"] = json!([{
        "id": "#atproto_labeler",
        "type": "AtprotoLabeler",
        "serviceEndpoint": "https://labeler.example"
    }]);
    let w = proof_world(Identity {
        doc: Some(doc),
        ..Identity::agreeing(PDS)
    })
    .await;
    assert_status(
        &verify(&w.config).await,
        Status::NotFound,
        "names no usable PDS",
    );
}

#[tokio::test]
async fn bluesky_plc_not_registered() {
    let w = proof_world(Identity {
        doc: None,
        ..Identity::agreeing(PDS)
    })
    .await;
    w.server.route_host(
        "plc.test",
        &format!("/{DID}"),
        Reply::new(404, format!(r#"{{"message":"DID not registered: {DID}"}}"#))
            .header("content-type", "application/json; charset=utf-8"),
    );
    assert_status(
        &verify(&w.config).await,
        Status::NotFound,
        "DID not registered",
    );
}

#[tokio::test]
async fn bluesky_plc_down_and_malformed() {
    let w = proof_world(Identity::agreeing(PDS)).await;
    let path = format!("/{DID}");
    w.server.route_host(
        "plc.test",
        &path,
        Reply::new(502, "<html><body>502 Bad Gateway</body></html>"),
    );
    assert_status(&verify(&w.config).await, Status::Unreachable, "HTTP 502");
    w.server.route_host(
        "plc.test",
        &path,
        Reply::new(200, "<html><body>maintenance</body></html>"),
    );
    assert_status(
        &verify(&w.config).await,
        Status::Unreachable,
        "malformed response",
    );
    w.server
        .route_host("plc.test", &path, Reply::new(200, vec![b' '; 10 << 20]));
    assert_status(
        &verify(&w.config).await,
        Status::Unreachable,
        "response too large",
    );
}

#[tokio::test]
async fn bluesky_did_web() {
    let did = "did:web:alice.example";
    let w = world(Identity {
        txt: Vec::new(),
        well_known: Some(did.to_owned()),
        doc: None,
    })
    .await;
    let mut doc = did_doc(did, HANDLE, PDS);
    doc["@context"] = json!(["https://www.w3.org/ns/did/v1"]);
    doc["service"][0]["id"] = json!(format!("{did}#atproto_pds"));
    w.server
        .route_host(HANDLE, "/.well-known/did.json", doc_reply(&doc));
    let proof = claim(&key(1), SUBJECT, None);
    serve_posts(
        &w.server,
        did,
        vec![record(did, 0, post_value("kez", Some(&proof)))],
    );
    let report = verify(&w.config).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
    assert_eq!(
        w.server.hits(&format!("/{did}")),
        0,
        "not asked of the PLC directory"
    );
}

#[tokio::test]
async fn bluesky_unsupported_did_methods() {
    for (did, reason) in [
        (
            "did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF",
            "not supported",
        ),
        ("did:plc:tooshort", "not a valid did:plc"),
        ("did:web:localhost%3A2583", "not a supported did:web"),
        ("did:plc:a2b3c4d5e6f7g2h3i4j5k6l7#atproto", "not a DID"),
    ] {
        let w = world(Identity {
            txt: vec![format!("did={did}")],
            well_known: None,
            doc: None,
        })
        .await;
        assert_status(&verify(&w.config).await, Status::NotFound, reason);
    }
}

#[tokio::test]
async fn bluesky_follows_the_cursor() {
    let w = world(Identity::agreeing(PDS)).await;
    let first: Vec<Value> = (0..3)
        .map(|i| record(DID, i, post_value(&format!("post {i}"), None)))
        .collect();
    let first = page(first);
    let cursor = first["cursor"].as_str().unwrap().to_owned();
    w.server
        .route_host("pds.test", &list_path(DID, None), Reply::json(&first));
    let proof = claim(&key(1), SUBJECT, None);
    let second = page(vec![record(DID, 3, post_value("proof", Some(&proof)))]);
    let cursor2 = second["cursor"].as_str().unwrap().to_owned();
    w.server.route_host(
        "pds.test",
        &list_path(DID, Some(&cursor)),
        Reply::json(&second),
    );
    w.server.route_host(
        "pds.test",
        &list_path(DID, Some(&cursor2)),
        Reply::json(&json!({ "records": [] })),
    );
    assert_status(
        &verify(&w.config).await,
        Status::Valid,
        "1 of 1 proofs valid",
    );
    assert_eq!(w.server.hits(&list_path(DID, Some(&cursor))), 1);
    assert_eq!(w.server.hits(&list_path(DID, Some(&cursor2))), 1);

    // the page cap: only the first page is read
    let capped = Config {
        max_pages: 1,
        ..w.config.clone()
    };
    assert_status(
        &verify(&capped).await,
        Status::NotFound,
        "holds a kez proof",
    );
}

#[tokio::test]
async fn bluesky_proof_in_text_or_card() {
    let k = key(1);
    let proof = claim(&k, SUBJECT, None);
    let values = [
        // a compact string in the text, in a sentence
        post_value(&format!("My KEZ proof: {proof}."), None),
        // a Markdown fence in the text
        post_value(&format!("proof\n```kez\n{proof}\n```\n"), None),
        // the compact string as the link card's URI (how KEZ publishes)
        post_value("KEZ identity proof", Some(&proof)),
    ];
    for value in values {
        let w = world(Identity::agreeing(PDS)).await;
        serve_posts(&w.server, DID, vec![record(DID, 0, value.clone())]);
        let report = verify(&w.config).await;
        assert_status(&report, Status::Valid, "1 of 1 proofs valid");
    }
    // in the card's description
    let w = world(Identity::agreeing(PDS)).await;
    let mut value = post_value("KEZ", Some("https://example.com/"));
    value["embed"]["external"]["description"] = json!(format!("proof: {proof}"));
    serve_posts(&w.server, DID, vec![record(DID, 0, value)]);
    assert_status(
        &verify(&w.config).await,
        Status::Valid,
        "1 of 1 proofs valid",
    );
}

#[tokio::test]
async fn bluesky_repo_not_found() {
    let w = world(Identity::agreeing(PDS)).await;
    w.server.route_host(
        "pds.test",
        &list_path(DID, None),
        Reply::new(
            400,
            format!(r#"{{"error":"InvalidRequest","message":"Could not find repo: {DID}"}}"#),
        )
        .header("content-type", "application/json; charset=utf-8"),
    );
    assert_status(
        &verify(&w.config).await,
        Status::NotFound,
        "Could not find repo",
    );
}

#[tokio::test]
async fn bluesky_offline_uses_the_cache() {
    let dir = std::env::temp_dir().join(format!("kez-bluesky-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let w = proof_world(Identity::agreeing(PDS)).await;
    let config = Config {
        cache_dir: Some(dir.clone()),
        ..w.config.clone()
    };
    assert_status(&verify(&config).await, Status::Valid, "1 of 1 proofs valid");
    // offline: DNS is not asked, the HTTPS answer and the rest come from the cache
    let offline = Config {
        offline: true,
        ..config
    };
    let before = w.server.seen().len();
    assert_status(
        &verify(&offline).await,
        Status::Valid,
        "1 of 1 proofs valid",
    );
    assert_eq!(w.server.seen().len(), before);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// publishing, against a small PDS that keeps what it is given
// ---------------------------------------------------------------------------------------------

/// Every host of the publishing tests: the handle's web server, the PLC directory, and a PDS
/// that opens sessions, creates records and lists them.
struct FakePds {
    /// The DID the handle resolves to, and the DID the PDS opens sessions for.
    session_did: String,
    pds_endpoint: String,
    posts: Mutex<Vec<Value>>,
    log: Mutex<Vec<Seen>>,
}

/// One request the fake PDS received.
struct Seen {
    host: String,
    method: String,
    /// path and query
    path: String,
    authorization: Option<String>,
    body: String,
}

/// Aborts the server task when dropped.
struct Abort(tokio::task::JoinHandle<()>);

impl Drop for Abort {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct PdsServer {
    state: Arc<FakePds>,
    _task: Abort,
    _dns: Task,
    config: Config,
}

async fn fake_pds(session_did: &str, pds_endpoint: &str) -> PdsServer {
    let state = Arc::new(FakePds {
        session_did: session_did.to_owned(),
        pds_endpoint: pds_endpoint.to_owned(),
        posts: Mutex::new(Vec::new()),
        log: Mutex::new(Vec::new()),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .fallback(pds_handle)
        .with_state(Arc::clone(&state));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let (dns_addr, dns) =
        dns_server(&[(ATPROTO_NAME.to_owned(), vec![format!("did={DID}")])]).await;
    let config = Config {
        dns_server: Some(dns_addr),
        web_origin: Some(base.clone()),
        plc_directory: PLC.to_owned(),
        ..base_config()
    };
    PdsServer {
        state,
        _task: Abort(task),
        _dns: dns,
        config,
    }
}

fn xrpc_error(status: u16, error: &str, message: &str) -> Response {
    json_response(status, &json!({ "error": error, "message": message }))
}

fn json_response(status: u16, value: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(Body::from(value.to_string()))
        .unwrap()
}

async fn pds_handle(State(pds): State<Arc<FakePds>>, request: Request) -> Response {
    let host = request
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let auth = request
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let method = request.method().as_str().to_owned();
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = String::from_utf8(body.to_vec()).unwrap();
    pds.log.lock().unwrap().push(Seen {
        host: host.clone(),
        method: method.clone(),
        path: path.clone(),
        authorization: auth.clone(),
        body: body.clone(),
    });
    let input: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    match (host.as_str(), method.as_str(), path.as_str()) {
        (HANDLE, "GET", WELL_KNOWN) => Response::builder()
            .header("content-type", "text/plain")
            .body(Body::from(DID))
            .unwrap(),
        ("plc.test", "GET", p) if p == format!("/{DID}") => {
            json_response(200, &did_doc(DID, HANDLE, &pds.pds_endpoint))
        }
        ("pds.test", "POST", "/xrpc/com.atproto.server.createSession") => {
            let id = input["identifier"].as_str().unwrap_or("");
            if (id == HANDLE || id == DID) && input["password"] == APP_PASSWORD {
                json_response(
                    200,
                    &json!({
                        "accessJwt": ACCESS_JWT,
                        "refreshJwt": "eyJ0eXAiOiJyZWZyZXNoK2p3dCJ9.e30.c2ln",
                        "handle": HANDLE,
                        "did": pds.session_did,
                        "email": "alice@mail.example",
                        "emailConfirmed": true,
                        "emailAuthFactor": false,
                        "active": true
                    }),
                )
            } else {
                xrpc_error(
                    401,
                    "AuthenticationRequired",
                    "Invalid identifier or password",
                )
            }
        }
        ("pds.test", "POST", "/xrpc/com.atproto.repo.createRecord") => {
            if auth.as_deref() != Some(&format!("Bearer {ACCESS_JWT}")) {
                return xrpc_error(401, "AuthenticationRequired", "Authentication Required");
            }
            let rec = &input["record"];
            let text = rec["text"].as_str().unwrap_or("");
            let created = rec["createdAt"].as_str().unwrap_or("");
            let valid = input["repo"] == DID
                && input["collection"] == "app.bsky.feed.post"
                && rec["$type"] == "app.bsky.feed.post"
                && text.chars().count() <= 300
                && created.len() == 24
                && created.ends_with('Z')
                && rec["embed"]["$type"] == "app.bsky.embed.external"
                && rec["embed"]["external"]["uri"].is_string()
                && rec["embed"]["external"]["title"].is_string()
                && rec["embed"]["external"]["description"].is_string();
            if !valid {
                return xrpc_error(400, "InvalidRequest", "Invalid app.bsky.feed.post record");
            }
            let mut posts = pds.posts.lock().unwrap();
            let entry = record(DID, posts.len(), rec.clone());
            let answer = json!({
                "uri": entry["uri"],
                "cid": entry["cid"],
                "commit": {
                    "cid": "bafyreicommit0000000000000000000000000000000000000000",
                    "rev": "3lbqzkxq2c222"
                },
                "validationStatus": "valid"
            });
            posts.push(entry);
            json_response(200, &answer)
        }
        ("pds.test", "GET", p) if p == list_path(DID, None) => {
            let posts = pds.posts.lock().unwrap().clone();
            json_response(200, &page(posts))
        }
        ("pds.test", "GET", p) if p.starts_with(&list_path(DID, None)) => {
            json_response(200, &json!({ "records": [] }))
        }
        _ => xrpc_error(404, "NotFound", "Not Found"),
    }
}

/// The claim of `key(1)` for `SUBJECT`, ready to publish.
fn to_publish() -> ToPublish {
    let compact = claim(&key(1), SUBJECT, None);
    let (_, json) = kez_core::decode_any(compact.as_bytes()).unwrap();
    ToPublish::new(std::str::from_utf8(&json).unwrap()).unwrap()
}

fn with_password(password: &str) -> Credentials {
    Credentials {
        bluesky_app_password: Some(password.to_owned()),
        ..Credentials::default()
    }
}

#[tokio::test]
async fn bluesky_publish_then_verify() {
    let pds = fake_pds(DID, PDS).await;
    let proof = to_publish();
    let published = publish(&pds.config, &with_password(APP_PASSWORD), SUBJECT, &proof)
        .await
        .unwrap();
    let Publication::Posted { location, detail } = published else {
        panic!("{published:?}");
    };
    assert_eq!(
        location,
        format!("at://{DID}/app.bsky.feed.post/{}", rkey(0))
    );
    assert!(detail.contains(&format!(
        "https://bsky.app/profile/{HANDLE}/post/{}",
        rkey(0)
    )));

    // the record as the PDS stored it
    let stored = pds.state.posts.lock().unwrap()[0]["value"].clone();
    assert_eq!(stored["embed"]["external"]["uri"], proof.compact);
    assert_eq!(stored["text"], format!("KEZ identity proof for {SUBJECT}"));
    assert_eq!(stored["embed"]["external"]["title"], "KEZ identity proof");
    let description = stored["embed"]["external"]["description"].as_str().unwrap();
    assert!(
        description.contains(&key(1).public().to_string()),
        "{description}"
    );
    assert!(stored["createdAt"].as_str().unwrap().ends_with('Z'));

    // the password went to createSession only, the token to createRecord only, both on the PDS
    for seen in pds.state.log.lock().unwrap().iter() {
        let Seen {
            host, method, path, ..
        } = seen;
        let session = path == "/xrpc/com.atproto.server.createSession";
        let create = path == "/xrpc/com.atproto.repo.createRecord";
        assert_eq!(
            seen.body.contains(APP_PASSWORD),
            session,
            "{host} {method} {path}"
        );
        assert_eq!(
            seen.authorization.is_some(),
            create,
            "{host} {method} {path}"
        );
        if session || create {
            assert_eq!(host, "pds.test");
            assert_eq!(method, "POST");
        }
    }

    let report = verify(&pds.config).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
    assert_eq!(report.proofs[0].location, location);
}

#[tokio::test]
async fn bluesky_publish_wrong_password() {
    let pds = fake_pds(DID, PDS).await;
    let err = publish(
        &pds.config,
        &with_password("wrong-pass-word"),
        SUBJECT,
        &to_publish(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, PublishError::Rejected(r) if r.contains("bad app password")),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("Invalid identifier or password"),
        "{err}"
    );
    assert!(!err.to_string().contains("wrong-pass-word"));
    assert!(pds.state.posts.lock().unwrap().is_empty());
}

#[tokio::test]
async fn bluesky_publish_without_password() {
    let pds = fake_pds(DID, PDS).await;
    let err = publish(&pds.config, &Credentials::default(), SUBJECT, &to_publish())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        PublishError::MissingCredential("KEZ_BLUESKY_APP_PASSWORD")
    );
    assert_eq!(err.kind(), "usage");
    assert!(
        pds.state.log.lock().unwrap().is_empty(),
        "nothing was asked"
    );
}

#[tokio::test]
async fn bluesky_publish_session_of_another_account() {
    let pds = fake_pds(MALLORY_DID, PDS).await;
    let err = publish(
        &pds.config,
        &with_password(APP_PASSWORD),
        SUBJECT,
        &to_publish(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, PublishError::Rejected(r) if r.contains(MALLORY_DID)),
        "{err:?}"
    );
    assert!(pds.state.posts.lock().unwrap().is_empty());
}

#[tokio::test]
async fn bluesky_publish_never_sends_the_password_in_clear() {
    let pds = fake_pds(DID, "http://pds.test").await;
    let err = publish(
        &pds.config,
        &with_password(APP_PASSWORD),
        SUBJECT,
        &to_publish(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, PublishError::Rejected(r) if r.contains("HTTPS")),
        "{err:?}"
    );
    let log = pds.state.log.lock().unwrap();
    assert!(log.iter().all(|seen| !seen.body.contains(APP_PASSWORD)));
}

#[test]
fn bluesky_credentials_are_redacted() {
    let debug = format!("{:?}", with_password(APP_PASSWORD));
    assert!(!debug.contains(APP_PASSWORD), "{debug}");
}

#[tokio::test]
async fn bluesky_handle_as_record_authority_is_not_the_account() {
    // a listing naming the repository by the handle instead of the DID is not the account's
    let w = world(Identity::agreeing(PDS)).await;
    let proof = claim(&key(1), SUBJECT, None);
    let mut entry = record(DID, 0, post_value("kez", Some(&proof)));
    entry["uri"] = json!(format!("at://{HANDLE}/app.bsky.feed.post/{}", rkey(0)));
    serve_posts(&w.server, DID, vec![entry]);
    assert_status(
        &verify(&w.config).await,
        Status::Invalid,
        "published by another account (at://alice.example/",
    );
}

#[tokio::test]
async fn bluesky_proof_cap() {
    let w = world(Identity::agreeing(PDS)).await;
    let records = (0..3)
        .map(|i| {
            let proof = claim(&key(1), SUBJECT, Some(NOW + 1 + i as u64));
            record(DID, i, post_value("kez", Some(&proof)))
        })
        .collect();
    serve_posts(&w.server, DID, records);
    let capped = Config {
        max_proofs: 2,
        ..w.config.clone()
    };
    let report = verify(&capped).await;
    assert_status(&report, Status::Valid, "2 of 2 proofs valid");
    // the cap was reached on the first page: the next one is not asked for
    assert_eq!(
        w.server
            .seen()
            .iter()
            .filter(|(p, _)| p.contains("cursor="))
            .count(),
        0
    );
}

#[tokio::test]
async fn bluesky_listing_without_records_is_malformed() {
    let w = world(Identity::agreeing(PDS)).await;
    w.server.route_host(
        "pds.test",
        &list_path(DID, None),
        Reply::json(&json!({ "cursor": "3lbqzkxq2c222" })),
    );
    assert_status(
        &verify(&w.config).await,
        Status::Unreachable,
        "no records array",
    );
}
