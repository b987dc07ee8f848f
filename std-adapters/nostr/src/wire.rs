//! Relay-to-client messages (NIP-01; SPEC.md §15.4 and §16.6) as far as KEZ's relay clients
//! need them, and relay-provided text made safe to quote in a reason.
//!
//! The one parser of these messages in KEZ: the `nostr` channel's one-shot client (kez-channels)
//! and the chat relay pool (kez-chat) both read relays through it.

use serde_json::Value;

/// Longest relay-provided text (a `NOTICE`, `CLOSED` or `OK` message) that [`quoted`] keeps, in
/// characters; a longer text gets a `…` after them.
pub const MAX_QUOTED: usize = 200;

/// One relay-to-client message.
#[derive(Debug, Clone, PartialEq)]
pub enum RelayMessage {
    /// `["EVENT", sub, event]`: the event object unchecked (its shape, id and signature are the
    /// caller's to check: `Event::from_value`).
    Event {
        /// The subscription id.
        sub: String,
        /// The event object.
        event: Value,
    },
    /// `["EOSE", sub]`.
    Eose {
        /// The subscription id.
        sub: String,
    },
    /// `["CLOSED", sub, message]` (a missing message reads as `""`).
    Closed {
        /// The subscription id.
        sub: String,
        /// The relay's reason, unquoted.
        message: String,
    },
    /// `["OK", id, accepted, message]` (a missing message reads as `""`).
    Ok {
        /// The event id as the relay wrote it: [`decode_id`] reads it as 32 bytes. A client
        /// that compares it with the text it sent can use it as it is.
        id: String,
        /// Whether the relay took the event.
        accepted: bool,
        /// The relay's reason, unquoted (NIP-01 prefixes such as `duplicate:`).
        message: String,
    },
    /// `["NOTICE", message]`.
    Notice(String),
    /// `AUTH`, `COUNT` and types the clients do not use.
    Other,
}

/// Parses one text message: a JSON array whose first element is the type string; the known
/// types must have their documented shape, and elements after it are ignored.
///
/// # Errors
/// Why the text is not a relay message, in one line: not JSON, not an array, no type string,
/// or a known type without the members it needs.
pub fn parse(text: &str) -> Result<RelayMessage, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Array(items) = value else {
        return Err("not a JSON array".to_owned());
    };
    let mut items = items.into_iter();
    let Some(Value::String(kind)) = items.next() else {
        return Err("no message type".to_owned());
    };
    let mut next_string = |what: &str| match items.next() {
        Some(Value::String(s)) => Ok(s),
        _ => Err(format!("{kind} without {what}")),
    };
    Ok(match kind.as_str() {
        "EVENT" => {
            let sub = next_string("a subscription id")?;
            match items.next() {
                Some(event @ Value::Object(_)) => RelayMessage::Event { sub, event },
                _ => return Err("EVENT without an event object".to_owned()),
            }
        }
        "EOSE" => RelayMessage::Eose {
            sub: next_string("a subscription id")?,
        },
        "CLOSED" => {
            let sub = next_string("a subscription id")?;
            let message = match items.next() {
                Some(Value::String(s)) => s,
                None => String::new(),
                Some(_) => return Err("CLOSED with a message that is not a string".to_owned()),
            };
            RelayMessage::Closed { sub, message }
        }
        "OK" => {
            let id = next_string("an event id")?;
            let Some(Value::Bool(accepted)) = items.next() else {
                return Err("OK without a boolean".to_owned());
            };
            let message = match items.next() {
                Some(Value::String(s)) => s,
                None => String::new(),
                Some(_) => return Err("OK with a message that is not a string".to_owned()),
            };
            RelayMessage::Ok {
                id,
                accepted,
                message,
            }
        }
        "NOTICE" => RelayMessage::Notice(next_string("a message")?),
        _ => RelayMessage::Other,
    })
}

/// A 64-digit hex event id (either case, as relays differ); `None` for any other text.
#[must_use]
pub fn decode_id(text: &str) -> Option<[u8; 32]> {
    let digits = text.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let hi = char::from(*pair.first()?).to_digit(16)?;
        let lo = char::from(*pair.get(1)?).to_digit(16)?;
        *byte = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

/// Relay-provided text made safe to quote in a reason: control characters become spaces, and
/// only the first [`MAX_QUOTED`] characters are kept (then `…`).
#[must_use]
pub fn quoted(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_QUOTED)
        .collect();
    // counting stops at the first character past the limit: a long text is not walked twice
    if text.chars().nth(MAX_QUOTED).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{RelayMessage, decode_id, parse, quoted};

    #[test]
    fn messages() {
        assert_eq!(
            parse(r#"["EOSE","kez"]"#),
            Ok(RelayMessage::Eose {
                sub: "kez".to_owned()
            })
        );
        assert_eq!(
            parse(r#"["CLOSED","kez"]"#),
            Ok(RelayMessage::Closed {
                sub: "kez".to_owned(),
                message: String::new()
            })
        );
        // the id is kept as written: the channel compares it with the hex it sent
        assert_eq!(
            parse(r#"["OK","ab",false,"blocked: no"]"#),
            Ok(RelayMessage::Ok {
                id: "ab".to_owned(),
                accepted: false,
                message: "blocked: no".to_owned()
            })
        );
        assert_eq!(parse(r#"["AUTH","challenge"]"#), Ok(RelayMessage::Other));
        assert!(parse(r#"["EVENT","kez","not an object"]"#).is_err());
        assert!(parse(r#"["EVENT","s",[]]"#).is_err());
        assert!(parse(r#"["OK","ab","true"]"#).is_err());
        assert!(parse(r#"{"EOSE":"kez"}"#).is_err());
        assert!(parse(r#"["EOSE","kez""#).is_err());
        assert!(parse("{}").is_err());
        assert!(parse("[]").is_err());
        assert!(parse("<html>").is_err());
        assert!(parse("nope").is_err());
    }

    #[test]
    fn ok_ids() {
        let id = "ab".repeat(32);
        assert_eq!(
            parse(&format!(r#"["OK","{id}",false,"rate-limited: slow"]"#)),
            Ok(RelayMessage::Ok {
                id: id.clone(),
                accepted: false,
                message: "rate-limited: slow".to_owned()
            })
        );
        assert_eq!(decode_id(&id), Some([0xab; 32]));
        let upper = "AB".repeat(32);
        assert_eq!(
            parse(&format!(r#"["OK","{upper}",true]"#)),
            Ok(RelayMessage::Ok {
                id: upper.clone(),
                accepted: true,
                message: String::new()
            })
        );
        assert_eq!(decode_id(&upper), Some([0xab; 32]));
        assert_eq!(decode_id("abc"), None);
        assert_eq!(decode_id(&"g".repeat(64)), None);
        assert_eq!(decode_id(&"ab".repeat(33)), None);
        // 64 bytes, but not 64 digits
        assert_eq!(decode_id(&format!("é{}", "a".repeat(62))), None);
        assert!(parse(&format!(r#"["OK","{id}","true"]"#)).is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(quoted("a\nb"), "a b");
        assert_eq!(quoted("a\u{0}b\nc"), "a b c");
        assert_eq!(quoted(&"x".repeat(200)).chars().count(), 200);
        assert_eq!(quoted(&"x".repeat(201)).chars().count(), 201);
        assert_eq!(quoted(&"x".repeat(300)).chars().count(), 201);
    }
}
