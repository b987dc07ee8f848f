//! Local servers the channel tests start on 127.0.0.1: an authoritative DNS server (hickory,
//! UDP and TCP), raw DNS responders (SERVFAIL, garbage, silence), an HTTP server replaying
//! canned responses in the GitHub REST shapes, and claims signed with fixed test keys.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use hickory_server::ServerFuture;
use hickory_server::authority::{AuthorityObject, Catalog, ZoneType};
use hickory_server::proto::rr::rdata::{SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::store::in_memory::InMemoryAuthority;
use kez_core::chain::{Draft, Position, VecReplay, claim_id, sign_link};
use kez_core::{Alg, ClaimDraft, SecretKey, encode_compact};
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;

/// Issued-at of every test claim, and the time they are verified at.
pub const IAT: u64 = 1_764_115_200;
pub const NOW: u64 = 1_764_200_000;

/// A server task, stopped when dropped.
pub struct Task(JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub fn key(seed: u8) -> SecretKey {
    SecretKey::from_bytes(Alg::Ed25519, &[seed; 32]).unwrap()
}

/// A signed claim in the compact encoding.
pub fn claim(key: &SecretKey, subject: &str, exp: Option<u64>) -> String {
    let mut json = Vec::new();
    ClaimDraft {
        subject,
        iat: IAT,
        exp,
    }
    .sign(key, &[7; 32], &mut json)
    .unwrap();
    encode_compact(&json)
}

/// A chain of `key` that records the claim `claim(key, subject, None)`, then revokes it.
pub fn revoking_chain(key: &SecretKey, subject: &str) -> VecReplay {
    let mut replay = VecReplay::new_vec();
    let mut line = Vec::new();
    let start = Position {
        chain: None,
        head_seq: 0,
        head_hash: [0; 32],
    };
    let add = Draft::AddClaim { subject, exp: None };
    sign_link(&start, IAT, &add, key, &[1; 32], &mut line).unwrap();
    replay.push(&line).unwrap();
    let (seq, hash) = replay.head();
    let next = Position {
        chain: replay.chain().copied(),
        head_seq: seq,
        head_hash: hash,
    };
    let revoke = Draft::Revoke {
        claim: claim_id(key.public(), subject, IAT, None),
    };
    line.clear();
    sign_link(&next, IAT + 1, &revoke, key, &[2; 32], &mut line).unwrap();
    replay.push(&line).unwrap();
    replay
}

/// A UDP socket and a TCP listener on the same free port of 127.0.0.1.
async fn bind_pair() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        if let Ok(tcp) = TcpListener::bind(addr).await {
            return (udp, tcp);
        }
    }
    panic!("no free port pair");
}

/// An authoritative server for `example.` holding `records` (owner name, TXT strings).
pub async fn dns_server(records: &[(String, Vec<String>)]) -> (SocketAddr, Task) {
    let origin = Name::from_ascii("example.").unwrap();
    let mut zone = InMemoryAuthority::empty(origin.clone(), ZoneType::Primary, false);
    let soa = SOA::new(
        Name::from_ascii("ns.example.").unwrap(),
        Name::from_ascii("admin.example.").unwrap(),
        1,
        3600,
        600,
        86400,
        60,
    );
    assert!(zone.upsert_mut(Record::from_rdata(origin.clone(), 3600, RData::SOA(soa)), 1));
    for (name, strings) in records {
        let rdata = RData::TXT(TXT::new(strings.clone()));
        let record = Record::from_rdata(Name::from_ascii(name).unwrap(), 60, rdata);
        assert!(zone.upsert_mut(record, 1));
    }
    let mut catalog = Catalog::new();
    let zone: Arc<dyn AuthorityObject> = Arc::new(zone);
    catalog.upsert(LowerName::new(&origin), vec![zone]);
    let (udp, tcp) = bind_pair().await;
    let addr = udp.local_addr().unwrap();
    let mut server = ServerFuture::new(catalog);
    server.register_socket(udp);
    server.register_listener(tcp, Duration::from_secs(5));
    let task = tokio::spawn(async move {
        let _ = server.block_until_done().await;
    });
    (addr, Task(task))
}

/// What a raw DNS responder sends back.
#[derive(Clone, Copy, Debug)]
pub enum RawDns {
    /// The query echoed as a response with this RCODE (2 SERVFAIL, 5 REFUSED).
    Rcode(u8),
    /// Three bytes: not a DNS message.
    Garbage,
    /// Nothing, ever (the TCP side accepts and holds the connection).
    Silent,
}

pub async fn raw_dns(kind: RawDns) -> (SocketAddr, Task) {
    let (udp, tcp) = bind_pair().await;
    let addr = udp.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        let mut buf = vec![0u8; 4096];
        loop {
            tokio::select! {
                got = udp.recv_from(&mut buf) => {
                    let Ok((n, from)) = got else { continue };
                    let reply = match kind {
                        RawDns::Rcode(rcode) if n >= 12 => {
                            let mut m = buf[..n].to_vec();
                            m[2] |= 0x80;
                            m[3] = (m[3] & 0xf0) | rcode;
                            m
                        }
                        RawDns::Garbage => vec![1, 2, 3],
                        _ => continue,
                    };
                    let _ = udp.send_to(&reply, from).await;
                }
                conn = tcp.accept() => {
                    if let Ok((stream, _)) = conn {
                        // held open, never answered
                        held.push(stream);
                    }
                }
            }
        }
    });
    (addr, Task(task))
}

/// A port of 127.0.0.1 that nobody listens on (TCP and UDP).
pub async fn refused_addr() -> SocketAddr {
    let (udp, tcp) = bind_pair().await;
    let addr = udp.local_addr().unwrap();
    drop((udp, tcp));
    addr
}

/// A TCP server that accepts connections and never answers.
pub async fn silent_http() -> (String, Task) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (format!("http://{addr}"), Task(task))
}

/// One canned HTTP response.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn json(value: &serde_json::Value) -> Self {
        Self::new(200, value.to_string()).header("content-type", "application/json; charset=utf-8")
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

#[derive(Default)]
pub struct Shared {
    /// path and query -> reply
    pub routes: Mutex<HashMap<String, Reply>>,
    /// every request seen: path and query, and its headers (lowercase names)
    pub seen: Mutex<Vec<(String, HashMap<String, String>)>>,
}

/// An HTTP server replaying `routes`; unknown paths get GitHub's 404 body.
pub struct HttpServer {
    pub base: String,
    pub shared: Arc<Shared>,
    _task: Task,
}

impl HttpServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base,
            shared,
            _task: Task(task),
        }
    }

    pub fn route(&self, path_and_query: &str, reply: Reply) {
        self.shared
            .routes
            .lock()
            .unwrap()
            .insert(path_and_query.to_owned(), reply);
    }

    /// Serves `reply` for `path_and_query` asked with `Host: host` (and only then).
    pub fn route_host(&self, host: &str, path_and_query: &str, reply: Reply) {
        self.shared
            .routes
            .lock()
            .unwrap()
            .insert(format!("{host}{path_and_query}"), reply);
    }

    /// How many requests asked for `path_and_query`.
    pub fn hits(&self, path_and_query: &str) -> usize {
        self.shared
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path_and_query)
            .count()
    }

    pub fn seen(&self) -> Vec<(String, HashMap<String, String>)> {
        self.shared.seen.lock().unwrap().clone()
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let headers: HashMap<String, String> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    shared
        .seen
        .lock()
        .unwrap()
        .push((path.clone(), headers.clone()));
    // a route for this Host (the web origin override, SPEC.md §15.1) wins over the bare path
    let host = headers.get("host").cloned().unwrap_or_default();
    let reply = {
        let routes = shared.routes.lock().unwrap();
        routes
            .get(&format!("{host}{path}"))
            .or_else(|| routes.get(&path))
            .cloned()
    };
    let reply = reply.unwrap_or_else(|| Reply {
        status: 404,
        ..Reply::json(&serde_json::json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest",
            "status": "404"
        }))
    });
    let etag = reply
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("etag"))
        .map(|(_, v)| v.clone());
    if etag.is_some() && headers.get("if-none-match") == etag.as_ref() {
        let mut r = Response::builder().status(304);
        for (k, v) in &reply.headers {
            r = r.header(k, v);
        }
        return r.body(Body::empty()).unwrap();
    }
    let mut r = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        r = r.header(k, v);
    }
    r.body(Body::from(reply.body)).unwrap()
}

/// A gist of the list endpoint, in the REST API's shape, with one file per name.
pub fn gist(base: &str, id: &str, owner: &str, files: &[&str]) -> serde_json::Value {
    let mut file_map = serde_json::Map::new();
    for name in files {
        file_map.insert(
            (*name).to_owned(),
            serde_json::json!({
                "filename": name,
                "type": "text/markdown",
                "language": "Markdown",
                "raw_url": format!("{base}/raw/{owner}/{id}/raw/0000/{name}"),
                "size": 512
            }),
        );
    }
    serde_json::json!({
        "url": format!("{base}/gists/{id}"),
        "forks_url": format!("{base}/gists/{id}/forks"),
        "commits_url": format!("{base}/gists/{id}/commits"),
        "id": id,
        "node_id": "G_kwDOAAAAAA",
        "git_pull_url": format!("{base}/{id}.git"),
        "git_push_url": format!("{base}/{id}.git"),
        "html_url": format!("{base}/{owner}/{id}"),
        "files": file_map,
        "public": true,
        "created_at": "2026-11-26T12:00:00Z",
        "updated_at": "2026-11-26T12:00:00Z",
        "description": "kez proof",
        "comments": 0,
        "user": null,
        "comments_url": format!("{base}/gists/{id}/comments"),
        "owner": {
            "login": owner,
            "id": 1,
            "node_id": "MDQ6VXNlcjE=",
            "avatar_url": format!("{base}/avatars/{owner}"),
            "gravatar_id": "",
            "url": format!("{base}/users/{owner}"),
            "html_url": format!("{base}/{owner}"),
            "followers_url": format!("{base}/users/{owner}/followers"),
            "following_url": format!("{base}/users/{owner}/following{{/other_user}}"),
            "gists_url": format!("{base}/users/{owner}/gists{{/gist_id}}"),
            "starred_url": format!("{base}/users/{owner}/starred{{/owner}}{{/repo}}"),
            "subscriptions_url": format!("{base}/users/{owner}/subscriptions"),
            "organizations_url": format!("{base}/users/{owner}/orgs"),
            "repos_url": format!("{base}/users/{owner}/repos"),
            "events_url": format!("{base}/users/{owner}/events{{/privacy}}"),
            "received_events_url": format!("{base}/users/{owner}/received_events"),
            "type": "User",
            "site_admin": false
        },
        "truncated": false
    })
}

/// The raw URL path of a file made by [`gist`].
pub fn raw_path(owner: &str, id: &str, name: &str) -> String {
    format!("/raw/{owner}/{id}/raw/0000/{name}")
}
