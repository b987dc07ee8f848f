//! One HTTP server on 127.0.0.1 standing in for many `https://` hosts: KEZ's web origin
//! override sends every `https://HOST/PATH` request to it with `Host: HOST`, and the server hands
//! each request to the site that serves that host.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use tokio::net::TcpListener;

use crate::Task;

/// One request, read whole.
#[derive(Debug)]
pub struct WebRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The `Host` header.
    pub host: String,
    /// The path without the query.
    pub path: String,
    /// The query, without `?` (empty if none).
    pub query: String,
    /// The headers.
    pub headers: HeaderMap,
    /// The body (at most 1 MiB is read).
    pub body: Vec<u8>,
}

impl WebRequest {
    /// The value of the query parameter `name`, percent-decoded.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| percent_decode(v))
        })
    }

    /// The bearer token of the `Authorization` header.
    #[must_use]
    pub fn bearer(&self) -> Option<&str> {
        self.headers
            .get("authorization")?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                if let Ok(b) = u8::from_str_radix(hex, 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
                out.push(b'%');
                i += 1;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A site: the hosts it serves and how it answers.
pub trait Site: Send + Sync {
    /// Whether this site serves `host`.
    fn serves(&self, host: &str) -> bool;
    /// The answer to `request`.
    fn handle(&self, request: &WebRequest) -> Response;
}

/// A running server for a set of sites.
#[derive(Debug)]
pub struct LocalWeb {
    /// The origin to give KEZ as its web origin override (`http://127.0.0.1:PORT`).
    pub origin: String,
    _task: Task,
}

struct Sites(Vec<Arc<dyn Site>>);

impl LocalWeb {
    /// Serves `sites`; a host no site serves gets 404.
    pub async fn start(sites: Vec<Arc<dyn Site>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .fallback(front)
            .with_state(Arc::new(Sites(sites)));
        let task = Task::new(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
        Self {
            origin,
            _task: task,
        }
    }
}

async fn front(State(sites): State<Arc<Sites>>, request: Request) -> Response {
    let method = request.method().as_str().to_owned();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let (path, query) = path_and_query
        .split_once('?')
        .map_or((path_and_query.clone(), String::new()), |(p, q)| {
            (p.to_owned(), q.to_owned())
        });
    let headers = request.headers().clone();
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let request = WebRequest {
        method,
        host,
        path,
        query,
        headers,
        body,
    };
    match sites.0.iter().find(|s| s.serves(&request.host)) {
        Some(site) => site.handle(&request),
        None => Response::builder()
            .status(404)
            .body(Body::from("no such host"))
            .unwrap(),
    }
}
