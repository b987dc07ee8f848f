//! Relay-to-client messages (NIP-01) as far as the pool needs them, and relay-provided text
//! made safe to quote in a reason.

use serde_json::Value;

/// Longest relay-provided text (a `NOTICE`, `CLOSED` or `OK` message) quoted in a reason.
const MAX_QUOTED: usize = 200;

/// One relay-to-client message.
#[derive(Debug, PartialEq)]
pub(crate) enum RelayMessage {
    /// `["EVENT", sub, event]`.
    Event { sub: String, event: Value },
    /// `["EOSE", sub]`.
    Eose { sub: String },
    /// `["CLOSED", sub, message]`.
    Closed { sub: String, message: String },
    /// `["OK", id, accepted, message]` with the id decoded.
    Ok {
        id: [u8; 32],
        accepted: bool,
        message: String,
    },
    /// `["NOTICE", message]`.
    Notice(String),
    /// `AUTH`, `COUNT` and types the pool does not use.
    Other,
}

/// Parses one text message: a JSON array whose first element is the type; the known types
/// must have their documented shape.
pub(crate) fn parse(text: &str) -> Result<RelayMessage, String> {
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
            let id = decode_id(&id).ok_or_else(|| "OK with an id that is not 64 hex".to_owned())?;
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

/// A 64-digit hex id (either case, as relays differ).
fn decode_id(text: &str) -> Option<[u8; 32]> {
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

/// Relay-provided text, shortened, without control characters.
pub(crate) fn quoted(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_QUOTED)
        .collect();
    if text.chars().nth(MAX_QUOTED).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{RelayMessage, parse, quoted};

    #[test]
    fn messages() {
        let id = "ab".repeat(32);
        assert_eq!(
            parse(&format!(r#"["OK","{id}",false,"rate-limited: slow"]"#)),
            Ok(RelayMessage::Ok {
                id: [0xab; 32],
                accepted: false,
                message: "rate-limited: slow".to_owned()
            })
        );
        assert_eq!(
            parse(&format!(r#"["OK","{}",true]"#, "AB".repeat(32))),
            Ok(RelayMessage::Ok {
                id: [0xab; 32],
                accepted: true,
                message: String::new()
            })
        );
        assert!(parse(r#"["OK","abc",true,""]"#).is_err());
        assert!(parse(&format!(r#"["OK","{id}","true"]"#)).is_err());
        assert_eq!(
            parse(r#"["EOSE","s"]"#),
            Ok(RelayMessage::Eose {
                sub: "s".to_owned()
            })
        );
        assert_eq!(
            parse(r#"["CLOSED","s"]"#),
            Ok(RelayMessage::Closed {
                sub: "s".to_owned(),
                message: String::new()
            })
        );
        assert_eq!(parse(r#"["AUTH","x"]"#), Ok(RelayMessage::Other));
        assert!(parse(r#"["EVENT","s",[]]"#).is_err());
        assert!(parse("{}").is_err());
        assert!(parse("[]").is_err());
        assert!(parse("nope").is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(quoted("a\u{0}b\nc"), "a b c");
        assert_eq!(quoted(&"x".repeat(200)).chars().count(), 200);
        assert_eq!(quoted(&"x".repeat(201)).chars().count(), 201);
    }
}
