//! NIP-11 relay information documents (SPEC.md §16.6): the members the chat relay pool sizes
//! its events by, read from a document's bytes, and the HTTP URL a relay serves the document
//! at. Fetching it (HTTP with `Accept: application/nostr+json`, a timeout, a body cap) is the
//! pool's (kez-chat).

use serde_json::Value;

use crate::wire::quoted;

/// What the pool reads from a relay's information document. A member that is missing, has
/// another type, or does not fit a `usize` reads as `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nip11 {
    /// `name`, made safe to show ([`quoted`]: no control characters, at most 200 characters
    /// and a `…`).
    pub name: Option<String>,
    /// `limitation.max_message_length`: the longest client message the relay takes, in bytes.
    pub max_message_length: Option<usize>,
    /// `limitation.max_content_length`: the longest event content it takes.
    pub max_content_length: Option<usize>,
    /// `limitation.max_event_tags`: the most tags an event may have.
    pub max_event_tags: Option<usize>,
}

/// The HTTP URL of a relay's information document: `ws` → `http`, `wss` → `https` (either
/// case); `None` for any other scheme.
#[must_use]
pub fn http_url(relay: &str) -> Option<String> {
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

/// Reads the members the pool uses from a document; unknown or mistyped members are ignored.
/// `None` when the bytes are not a JSON object.
#[must_use]
pub fn parse(body: &[u8]) -> Option<Nip11> {
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
        name: document.get("name").and_then(Value::as_str).map(quoted),
        max_message_length: limit("max_message_length"),
        max_content_length: limit("max_content_length"),
        max_event_tags: limit("max_event_tags"),
    })
}

#[cfg(test)]
mod tests {
    use super::{Nip11, http_url, parse};

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
            parse(br#"{"name":"r\n1","limitation":{"max_message_length":65536,"max_content_length":"x","max_event_tags":100}}"#),
            Some(Nip11 {
                name: Some("r 1".to_owned()),
                max_message_length: Some(65536),
                max_content_length: None,
                max_event_tags: Some(100),
            })
        );
        assert_eq!(parse(b"{}"), Some(Nip11::default()));
        assert_eq!(parse(b"[]"), None);
        assert_eq!(parse(b"<html>"), None);
    }

    #[test]
    fn limits_that_are_not_counts_read_as_none() {
        let limits = parse(
            br#"{"limitation":{"max_message_length":-1,"max_content_length":1.5,"max_event_tags":18446744073709551616}}"#,
        );
        assert_eq!(limits, Some(Nip11::default()));
    }
}
