//! The HTTP fetcher every HTTP channel shares (SPEC.md §15.1): one timeout per request, a cap on
//! every body (read chunk by chunk, never buffered past the cap), and a disk cache honouring
//! `Cache-Control` (`max-age`, `no-cache`, `no-store`) and `ETag` revalidation, with an offline
//! mode that answers from the cache only.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::header::{self, HeaderMap};
use sha2::{Digest as _, Sha256};

use crate::{ChannelError, Config};

/// Largest cache metadata line, in bytes.
const MAX_META: usize = 16 << 10;

/// A fetched (or cached) HTTP response, its body already bounded.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    /// The `Link` header (pagination).
    pub(crate) link: Option<String>,
    /// `x-ratelimit-remaining`.
    pub(crate) ratelimit_remaining: Option<String>,
    /// `Retry-After`.
    pub(crate) retry_after: Option<String>,
    /// `Content-Type`.
    pub(crate) content_type: Option<String>,
}

/// An HTTP client with the channels' timeout, body cap and cache.
#[derive(Debug, Clone)]
pub(crate) struct Fetcher {
    client: Option<reqwest::Client>,
    build_error: Option<String>,
    max_body: usize,
    cache_dir: Option<PathBuf>,
    offline: bool,
    web_origin: Option<String>,
}

impl Fetcher {
    /// A fetcher with the settings of `config`. Never fails: a client that cannot be built makes
    /// every request `unreachable` with the reason.
    #[must_use]
    pub(crate) fn new(config: &Config) -> Self {
        let built = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("kez/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build();
        let (client, build_error) = match built {
            Ok(client) => (Some(client), None),
            Err(e) => (None, Some(format!("no HTTP client: {}", error_text(&e)))),
        };
        Self {
            client,
            build_error,
            max_body: config.max_body,
            cache_dir: config.cache_dir.clone(),
            offline: config.offline,
            web_origin: config
                .web_origin
                .as_ref()
                .map(|o| o.trim_end_matches('/').to_owned()),
        }
    }

    /// GETs `url`. `bearer` is sent as `Authorization: Bearer` and is not part of the cache key
    /// (only public data is fetched). A 304 answer to a revalidation comes back as the cached
    /// 200.
    pub(crate) async fn get(
        &self,
        url: &str,
        headers: &[(&'static str, &str)],
        bearer: Option<&str>,
    ) -> Result<Response, ChannelError> {
        let cached = self
            .cache_path(url)
            .and_then(|p| read_entry(&p, self.max_body));
        if self.offline {
            return cached
                .map(|e| e.response)
                .ok_or_else(|| ChannelError::unreachable(format!("offline, not cached: {url}")));
        }
        if let Some(entry) = &cached {
            if unix_now() < entry.fresh_until {
                return Ok(entry.response.clone());
            }
        }
        let Some(client) = &self.client else {
            return Err(ChannelError::unreachable(
                self.build_error.clone().unwrap_or_default(),
            ));
        };
        let mut request = self.request(client, reqwest::Method::GET, url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(etag) = cached.as_ref().and_then(|e| e.etag.as_deref()) {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ChannelError::unreachable(format!("{url}: {}", error_text(&e))))?;
        let headers = response.headers().clone();
        let policy = CachePolicy::of(&headers);
        if response.status().as_u16() == 304 {
            if let Some(mut entry) = cached {
                entry.fresh_until = unix_now().saturating_add(policy.max_age);
                self.store(url, &entry, &policy);
                return Ok(entry.response);
            }
        }
        let response = self.read(url, response).await?;
        let status = response.status;
        if status == 200 {
            let entry = Entry {
                etag: header_text(&headers, header::ETAG.as_str()),
                fresh_until: unix_now().saturating_add(policy.max_age),
                response: response.clone(),
            };
            self.store(url, &entry, &policy);
        }
        Ok(response)
    }

    /// Sends `body` (if any) as JSON with `method`, for publishing: never cached, never offline. `bearer` is
    /// sent as `Authorization: Bearer`; it is never logged.
    pub(crate) async fn send_json(
        &self,
        method: reqwest::Method,
        url: &str,
        headers: &[(&'static str, &str)],
        bearer: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, ChannelError> {
        if self.offline {
            return Err(ChannelError::unreachable(format!(
                "offline: not sending to {url}"
            )));
        }
        let Some(client) = &self.client else {
            return Err(ChannelError::unreachable(
                self.build_error.clone().unwrap_or_default(),
            ));
        };
        let mut request = self.request(client, method, url);
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ChannelError::unreachable(format!("{url}: {}", error_text(&e))))?;
        self.read(url, response).await
    }

    /// A request for `url`, sent to the web origin override when one is set and `url` is
    /// `https://` (SPEC.md §15.1): the path and query go to the override, and the URL's host
    /// goes in the `Host` header.
    fn request(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
    ) -> reqwest::RequestBuilder {
        match (&self.web_origin, url.strip_prefix("https://")) {
            (Some(origin), Some(rest)) => {
                let cut = rest.find(['/', '?', '#']).unwrap_or(rest.len());
                let (authority, path) = rest.split_at(cut);
                let path = if path.starts_with('/') {
                    path.to_owned()
                } else {
                    format!("/{path}")
                };
                client
                    .request(method, format!("{origin}{path}"))
                    .header(header::HOST, authority)
            }
            _ => client.request(method, url),
        }
    }

    /// Reads a response's status, the headers the channels use and its body, bounded by the cap.
    async fn read(
        &self,
        url: &str,
        mut response: reqwest::Response,
    ) -> Result<Response, ChannelError> {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if response
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(self.too_large(url));
        }
        let mut body = Vec::new();
        loop {
            let chunk = response
                .chunk()
                .await
                .map_err(|e| ChannelError::unreachable(format!("{url}: {}", error_text(&e))))?;
            let Some(chunk) = chunk else { break };
            if body.len().saturating_add(chunk.len()) > self.max_body {
                return Err(self.too_large(url));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            body,
            link: header_text(&headers, header::LINK.as_str()),
            ratelimit_remaining: header_text(&headers, "x-ratelimit-remaining"),
            retry_after: header_text(&headers, header::RETRY_AFTER.as_str()),
            content_type: header_text(&headers, header::CONTENT_TYPE.as_str()),
        })
    }

    fn too_large(&self, url: &str) -> ChannelError {
        ChannelError::unreachable(format!(
            "{url}: response too large (more than {} bytes)",
            self.max_body
        ))
    }

    fn cache_path(&self, url: &str) -> Option<PathBuf> {
        let dir = self.cache_dir.as_ref()?;
        let digest = Sha256::digest(url.as_bytes());
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Some(dir.join("http").join(name))
    }

    /// Best effort: a cache that cannot be written only costs a later refetch.
    fn store(&self, url: &str, entry: &Entry, policy: &CachePolicy) {
        let Some(path) = self.cache_path(url) else {
            return;
        };
        if policy.no_store {
            let _ = fs::remove_file(&path);
            return;
        }
        let _ = write_entry(&path, url, entry);
    }
}

/// What `Cache-Control` allows.
struct CachePolicy {
    no_store: bool,
    max_age: u64,
}

impl CachePolicy {
    fn of(headers: &HeaderMap) -> Self {
        let mut policy = Self {
            no_store: false,
            max_age: 0,
        };
        let Some(value) = header_text(headers, header::CACHE_CONTROL.as_str()) else {
            return policy;
        };
        let mut no_cache = false;
        for directive in value.split(',') {
            let directive = directive.trim().to_ascii_lowercase();
            if directive == "no-store" {
                policy.no_store = true;
            } else if directive == "no-cache" {
                no_cache = true;
            } else if let Some(n) = directive.strip_prefix("max-age=") {
                policy.max_age = n.trim_matches('"').parse().unwrap_or(0);
            }
        }
        if no_cache {
            policy.max_age = 0;
        }
        policy
    }
}

/// One cached response: a JSON metadata line, then the body.
struct Entry {
    etag: Option<String>,
    fresh_until: u64,
    response: Response,
}

fn read_entry(path: &Path, max_body: usize) -> Option<Entry> {
    let limit = max_body.saturating_add(MAX_META);
    // checked before reading: a cache file is never read past the body cap either
    if fs::metadata(path).ok()?.len() > limit as u64 {
        return None;
    }
    let bytes = fs::read(path).ok()?;
    if bytes.len() > limit {
        return None;
    }
    let newline = bytes.iter().position(|&b| b == b'\n')?;
    let (meta, rest) = bytes.split_at(newline);
    let body = rest.get(1..)?.to_vec();
    let meta: serde_json::Value = serde_json::from_slice(meta).ok()?;
    let text = |name: &str| meta.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    Some(Entry {
        etag: text("etag"),
        fresh_until: meta.get("fresh_until")?.as_u64()?,
        response: Response {
            status: 200,
            body,
            link: text("link"),
            ratelimit_remaining: None,
            retry_after: None,
            content_type: text("content_type"),
        },
    })
}

/// Written to a temporary file and renamed into place, so a reader never sees half an entry;
/// not synced: a cache entry lost in a crash only costs a refetch (a torn one fails to parse and
/// is a miss).
fn write_entry(path: &Path, url: &str, entry: &Entry) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(dir)?;
    let meta = serde_json::json!({
        "etag": entry.etag,
        "fresh_until": entry.fresh_until,
        "link": entry.response.link,
        "content_type": entry.response.content_type,
        "url": url,
    });
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(meta.to_string().as_bytes())?;
        file.write_all(b"\n")?;
        file.write_all(&entry.response.body)?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A transport error in one line: what kind, and the innermost cause.
fn error_text(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "broken response body"
    } else {
        "request failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    match last {
        Some(cause) => format!("{kind} ({cause})"),
        None => kind.to_owned(),
    }
}

/// The HTTP status as an `unreachable` reason, for the statuses every channel treats alike:
/// 429 and 5xx (with `Retry-After` when given).
pub(crate) fn unreachable_status(url: &str, response: &Response) -> Option<ChannelError> {
    let status = response.status;
    let retry = response
        .retry_after
        .as_deref()
        .map(|r| format!(", retry after {r}"))
        .unwrap_or_default();
    if status == 429 {
        return Some(ChannelError::unreachable(format!(
            "{url}: rate limited (HTTP 429{retry})"
        )));
    }
    if status >= 500 {
        return Some(ChannelError::unreachable(format!(
            "{url}: server error (HTTP {status}{retry})"
        )));
    }
    None
}
