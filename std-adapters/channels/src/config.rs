//! Settings shared by the channels: endpoints, timeouts, size caps, the cache (SPEC.md §15.1).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on one response body, in bytes.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;
/// The public GitHub REST API.
pub const GITHUB_API: &str = "https://api.github.com";
/// The public PLC directory (`did:plc` documents).
pub const PLC_DIRECTORY: &str = "https://plc.directory";
/// The nostr relays asked when none are configured.
pub const DEFAULT_RELAYS: &[&str] = &[
    "wss://relay.damus.io",
    "wss://nos.lol",
    "wss://relay.primal.net",
    "wss://relay.nostr.band",
    "wss://nostr.wine",
];

/// Where and how the channels ask.
#[derive(Clone)]
pub struct Config {
    /// Timeout of one request (HTTP request and body, or one DNS query).
    pub timeout: Duration,
    /// Largest response body read, in bytes; a larger one is `unreachable`.
    pub max_body: usize,
    /// Most pages of a paginated listing that are read.
    pub max_pages: usize,
    /// Most proof candidates (files, records) that are fetched for one handle.
    pub max_proofs: usize,
    /// The HTTP cache directory; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Answer from the cache only; nothing goes on the network.
    pub offline: bool,
    /// The DNS server to ask (UDP, then TCP); `None` uses the system's resolver configuration.
    pub dns_server: Option<SocketAddr>,
    /// Base URL of the GitHub REST API, without a trailing `/`.
    pub github_api: String,
    /// A GitHub token sent as `Authorization: Bearer`; never needed, never printed.
    pub github_token: Option<String>,
    /// The nostr relays (`ws://` or `wss://` URLs) asked for proof events and published to.
    pub relays: Vec<String>,
    /// Base URL of the PLC directory, without a trailing `/`.
    pub plc_directory: String,
    /// For tests and air-gapped mirrors: every `https://HOST/PATH` URL (those derived from
    /// handles, such as `.well-known` documents and WebFinger, and those found in documents, such
    /// as a PDS or an actor) is requested as `{web_origin}/PATH` with `Host: HOST`.
    pub web_origin: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            max_pages: 10,
            max_proofs: 100,
            cache_dir: None,
            offline: false,
            dns_server: None,
            github_api: GITHUB_API.to_owned(),
            github_token: None,
            relays: DEFAULT_RELAYS.iter().map(|r| (*r).to_owned()).collect(),
            plc_directory: PLC_DIRECTORY.to_owned(),
            web_origin: None,
        }
    }
}

impl std::fmt::Debug for Config {
    // by hand, so the token never reaches a log
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("timeout", &self.timeout)
            .field("max_body", &self.max_body)
            .field("max_pages", &self.max_pages)
            .field("max_proofs", &self.max_proofs)
            .field("cache_dir", &self.cache_dir)
            .field("offline", &self.offline)
            .field("dns_server", &self.dns_server)
            .field("github_api", &self.github_api)
            .field("github_token", &self.github_token.as_ref().map(|_| "<set>"))
            .field("relays", &self.relays)
            .field("plc_directory", &self.plc_directory)
            .field("web_origin", &self.web_origin)
            .finish()
    }
}
