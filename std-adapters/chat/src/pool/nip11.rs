//! NIP-11 relay information documents: the relay URL fetched over HTTP(S) with
//! `Accept: application/nostr+json`, bounded by the timeout and a body cap.

use std::time::Duration;

use serde_json::Value;

/// Largest information document read; bigger documents count as invalid.
const MAX_DOCUMENT: usize = 256 * 1024;

/// What the pool reads from a relay's information document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Nip11 {
    pub(crate) name: Option<String>,
    pub(crate) max_message_length: Option<usize>,
    pub(crate) max_content_length: Option<usize>,
    pub(crate) max_event_tags: Option<usize>,
}

/// The HTTP URL of a relay's information document: `ws` → `http`, `wss` → `https`.
pub(crate) fn http_url(relay: &str) -> Option<String> {
    let (scheme, rest) = relay.split_once("://")?;
    let scheme = if scheme.eq_ignore_ascii_case("wss") {
        "https"
    } else if scheme.eq_ignore_ascii_case("ws") {
        "http"
    } else {
        return None;
    };
    Some(format!("{scheme}://{rest}"))
}

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
    read(&body)
}

/// Reads the members the pool uses; unknown or mistyped members are ignored.
pub(crate) fn read(body: &[u8]) -> Option<Nip11> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let document = value.as_object()?;
    let limitation = document.get("limitation").and_then(Value::as_object);
    let limit = |name: &str| {
        limitation
            .and_then(|l| l.get(name))
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
    };
    Some(Nip11 {
        name: document
            .get("name")
            .and_then(Value::as_str)
            .map(super::wire::quoted),
        max_message_length: limit("max_message_length"),
        max_content_length: limit("max_content_length"),
        max_event_tags: limit("max_event_tags"),
    })
}

#[cfg(test)]
mod tests {
    use super::{Nip11, http_url, read};

    #[test]
    fn urls() {
        assert_eq!(http_url("ws://h:1/x").as_deref(), Some("http://h:1/x"));
        assert_eq!(http_url("WSS://h").as_deref(), Some("https://h"));
        assert_eq!(http_url("http://h"), None);
        assert_eq!(http_url("h"), None);
    }

    #[test]
    fn documents() {
        assert_eq!(
            read(br#"{"name":"r\n1","limitation":{"max_message_length":65536,"max_content_length":"x","max_event_tags":100}}"#),
            Some(Nip11 {
                name: Some("r 1".to_owned()),
                max_message_length: Some(65536),
                max_content_length: None,
                max_event_tags: Some(100),
            })
        );
        assert_eq!(read(b"{}"), Some(Nip11::default()));
        assert_eq!(read(b"[]"), None);
        assert_eq!(read(b"<html>"), None);
    }
}
