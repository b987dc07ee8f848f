//! An atproto world on one [`crate::web::LocalWeb`]: each account's handle host answers
//! `/.well-known/atproto-did`, a PLC directory serves the DID documents (whose handle points
//! back and whose PDS is the stand-in PDS), and the PDS takes `createSession` and
//! `createRecord` and lists posts through `com.atproto.repo.listRecords` (cursor-paginated).
//! Answers and errors have the XRPC shapes.

use std::sync::Mutex;

use axum::body::Body;
use axum::response::Response;
use serde_json::{Value, json};

use crate::web::{Site, WebRequest};

/// The PLC directory's host (give KEZ `https://<PLC_HOST>` as its PLC directory).
pub const PLC_HOST: &str = "plc.test";
/// The PDS's host.
pub const PDS_HOST: &str = "pds.test";

#[derive(Debug)]
struct Account {
    handle: String,
    did: String,
    password: Option<String>,
    /// (record key, value)
    posts: Vec<(String, Value)>,
}

/// The atproto stand-in: accounts, their DIDs and their posts.
#[derive(Debug, Default)]
pub struct Atproto {
    accounts: Mutex<Vec<Account>>,
}

/// A `did:plc` identifier for the `n`th account: `did:plc:` and 24 base32 characters.
fn plc_did(n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut x = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5bd1_e995;
    let mut out = String::from("did:plc:");
    for _ in 0..24 {
        out.push(ALPHABET[(x % 32) as usize] as char);
        x = x.rotate_right(5) ^ (n as u64 + 7);
    }
    out
}

/// A record key in the TID alphabet, increasing with `i`.
fn rkey(i: usize) -> String {
    const ALPHABET: &[u8] = b"234567abcdefghijklmnopqrstuvwxyz";
    let mut out = String::from("3lbqzkx");
    for shift in [24u32, 18, 12, 6, 0] {
        out.push(ALPHABET[(i >> shift) % 32] as char);
    }
    out
}

fn json_response(status: u16, value: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(Body::from(value.to_string()))
        .unwrap()
}

fn xrpc_error(status: u16, error: &str, message: &str) -> Response {
    json_response(status, &json!({ "error": error, "message": message }))
}

fn did_doc(did: &str, handle: &str) -> Value {
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
            "serviceEndpoint": format!("https://{PDS_HOST}")
        }]
    })
}

impl Atproto {
    /// An empty world.
    #[must_use]
    pub fn new() -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self::default())
    }

    /// Adds an account for `handle` and returns its DID; `password`, if given, is an app
    /// password of it.
    pub fn add_account(&self, handle: &str, password: Option<&str>) -> String {
        let mut accounts = self.accounts.lock().unwrap();
        let did = plc_did(accounts.len());
        accounts.push(Account {
            handle: handle.to_owned(),
            did: did.clone(),
            password: password.map(str::to_owned),
            posts: Vec::new(),
        });
        did
    }

    /// Adds a post of `handle`'s account, as the Bluesky app writes one: `text`, and the
    /// compact claim in a link card when `card_uri` is given.
    pub fn post(&self, handle: &str, text: &str, card_uri: Option<&str>) {
        let mut value = json!({
            "$type": "app.bsky.feed.post",
            "createdAt": "2026-11-26T12:00:00.000Z",
            "langs": ["en"],
            "text": text
        });
        if let Some(uri) = card_uri {
            value["embed"] = json!({
                "$type": "app.bsky.embed.external",
                "external": {"uri": uri, "title": "KEZ identity proof", "description": ""}
            });
        }
        let mut accounts = self.accounts.lock().unwrap();
        let account = accounts.iter_mut().find(|a| a.handle == handle).unwrap();
        let key = rkey(account.posts.len());
        account.posts.push((key, value));
    }

    /// How many posts the PDS holds.
    pub fn post_count(&self) -> usize {
        self.accounts
            .lock()
            .unwrap()
            .iter()
            .map(|a| a.posts.len())
            .sum()
    }

    fn pds(&self, request: &WebRequest) -> Response {
        let mut accounts = self.accounts.lock().unwrap();
        let input: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/xrpc/com.atproto.server.createSession") => {
                let id = input["identifier"].as_str().unwrap_or("");
                let password = input["password"].as_str();
                let found = accounts.iter().find(|a| {
                    (a.handle == id || a.did == id)
                        && a.password.is_some()
                        && a.password.as_deref() == password
                });
                match found {
                    Some(a) => json_response(
                        200,
                        &json!({
                            "accessJwt": format!("jwt-access-{}", a.did),
                            "refreshJwt": format!("jwt-refresh-{}", a.did),
                            "handle": a.handle,
                            "did": a.did,
                            "email": format!("{}@mail.example", a.handle),
                            "emailConfirmed": true,
                            "emailAuthFactor": false,
                            "active": true
                        }),
                    ),
                    None => xrpc_error(
                        401,
                        "AuthenticationRequired",
                        "Invalid identifier or password",
                    ),
                }
            }
            ("POST", "/xrpc/com.atproto.repo.createRecord") => {
                let Some(did) = request.bearer().and_then(|t| t.strip_prefix("jwt-access-")) else {
                    return xrpc_error(401, "AuthenticationRequired", "Authentication Required");
                };
                if input["repo"] != did || input["collection"] != "app.bsky.feed.post" {
                    return xrpc_error(400, "InvalidRequest", "repo or collection mismatch");
                }
                let record = input["record"].clone();
                let text_ok = record["text"]
                    .as_str()
                    .is_some_and(|t| t.chars().count() <= 300);
                if record["$type"] != "app.bsky.feed.post" || !text_ok {
                    return xrpc_error(400, "InvalidRequest", "Invalid app.bsky.feed.post record");
                }
                let Some(account) = accounts.iter_mut().find(|a| a.did == did) else {
                    return xrpc_error(400, "InvalidRequest", "Could not find repo");
                };
                let key = rkey(account.posts.len());
                account.posts.push((key.clone(), record));
                json_response(
                    200,
                    &json!({
                        "uri": format!("at://{did}/app.bsky.feed.post/{key}"),
                        "cid": format!("bafyreih{:0>51}", account.posts.len()),
                        "commit": {"cid": "bafyreicommit000000000000000000000000000000000000000", "rev": key},
                        "validationStatus": "valid"
                    }),
                )
            }
            ("GET", "/xrpc/com.atproto.repo.listRecords") => {
                let repo = request.param("repo").unwrap_or_default();
                let Some(account) = accounts.iter().find(|a| a.did == repo || a.handle == repo)
                else {
                    return xrpc_error(
                        400,
                        "InvalidRequest",
                        &format!("Could not find repo: {repo}"),
                    );
                };
                if request.param("collection").as_deref() != Some("app.bsky.feed.post") {
                    return json_response(200, &json!({ "records": [] }));
                }
                let limit: usize = request
                    .param("limit")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(50)
                    .clamp(1, 100);
                let cursor = request.param("cursor");
                // newest first; the cursor is the last record key of the previous page
                let records: Vec<Value> = account
                    .posts
                    .iter()
                    .rev()
                    .filter(|(k, _)| cursor.as_ref().is_none_or(|c| k < c))
                    .take(limit)
                    .map(|(k, v)| {
                        json!({
                            "uri": format!("at://{}/app.bsky.feed.post/{k}", account.did),
                            "cid": format!("bafyreih{:0>51}", k),
                            "value": v
                        })
                    })
                    .collect();
                let next = records
                    .last()
                    .and_then(|r| r["uri"].as_str())
                    .and_then(|u| u.rsplit('/').next())
                    .map(str::to_owned);
                match next {
                    Some(c) => json_response(200, &json!({ "records": records, "cursor": c })),
                    None => json_response(200, &json!({ "records": records })),
                }
            }
            _ => xrpc_error(404, "XRPCNotSupported", "XRPCNotSupported"),
        }
    }
}

impl Site for Atproto {
    fn serves(&self, host: &str) -> bool {
        host == PLC_HOST
            || host == PDS_HOST
            || self
                .accounts
                .lock()
                .unwrap()
                .iter()
                .any(|a| a.handle == host)
    }

    fn handle(&self, request: &WebRequest) -> Response {
        match request.host.as_str() {
            PDS_HOST => self.pds(request),
            PLC_HOST => {
                let accounts = self.accounts.lock().unwrap();
                let did = request.path.trim_start_matches('/');
                match accounts.iter().find(|a| a.did == did) {
                    Some(a) => Response::builder()
                        .status(200)
                        .header("content-type", "application/did+ld+json; charset=utf-8")
                        .body(Body::from(did_doc(&a.did, &a.handle).to_string()))
                        .unwrap(),
                    None => json_response(
                        404,
                        &json!({ "message": format!("DID not registered: {did}") }),
                    ),
                }
            }
            handle if request.path == "/.well-known/atproto-did" => {
                let accounts = self.accounts.lock().unwrap();
                let did = accounts
                    .iter()
                    .find(|a| a.handle == handle)
                    .map(|a| a.did.clone())
                    .unwrap_or_default();
                Response::builder()
                    .status(200)
                    .header("content-type", "text/plain; charset=utf-8")
                    .body(Body::from(did))
                    .unwrap()
            }
            _ => Response::builder()
                .status(404)
                .body(Body::from("Not Found"))
                .unwrap(),
        }
    }
}
