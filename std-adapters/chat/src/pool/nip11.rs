//! NIP-11 relay information documents: the relay URL fetched over HTTP(S) with
//! `Accept: application/nostr+json`, bounded by the timeout and a body cap, then read by
//! `kez_nostr::nip11`.

use std::time::Duration;

pub(crate) use kez_nostr::nip11::Nip11;
use kez_nostr::nip11::{http_url, parse};

/// Largest information document read; bigger documents count as invalid.
const MAX_DOCUMENT: usize = 256 * 1024;

/// Fetches and reads the document; `None` when the relay does not serve a valid one in time.
pub(crate) async fn fetch(
    client: &reqwest::Client,
    relay: &str,
    timeout: Duration,
) -> Option<Nip11> {
    let url = http_url(relay)?;
    let body = tokio::time::timeout(timeout, async {
        let mut response = client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/nostr+json")
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.ok()? {
            if body.len() + chunk.len() > MAX_DOCUMENT {
                return None;
            }
            body.extend_from_slice(&chunk);
        }
        Some(body)
    })
    .await
    .ok()??;
    parse(&body)
}
