//! NIP-01 events (SPEC.md §15.4 and §16.5): the serialization whose SHA-256 is an event's id,
//! signing with a BIP-340 key, the compact JSON object sent to relays, and the checks of an
//! event object received from one (shape, id, signature).
//!
//! This is the one implementation of the event format in KEZ: the `nostr` proof channel
//! (kez-channels) and the direct messages of kez-chat both use it.

use std::fmt;

use kez_core::{Alg, SecretKey};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// A signed NIP-01 event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// SHA-256 of the event's serialization ([`event_id`]).
    pub id: [u8; 32],
    /// The author's x-only BIP-340 public key.
    pub pubkey: [u8; 32],
    /// Seconds since the Unix epoch, as the author says.
    pub created_at: u64,
    /// The event kind.
    pub kind: u32,
    /// The tags: arrays of strings.
    pub tags: Vec<Vec<String>>,
    /// The content.
    pub content: String,
    /// The BIP-340 signature of `id` by `pubkey`.
    pub sig: [u8; 64],
}

/// Why an event object received from a relay (or decrypted from a seal) is refused.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventError {
    /// A member is missing or has the wrong type or form (lowercase hex of the right length,
    /// an integer, an array of arrays of strings); the member is named.
    Malformed(&'static str),
    /// The `id` is not the hash of the event's serialization.
    BadId,
    /// The signature does not verify for `id` and `pubkey`.
    BadSignature,
}

impl EventError {
    /// A stable class string: `malformed_event`, `bad_event_id` or `bad_event_signature`.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed_event",
            Self::BadId => "bad_event_id",
            Self::BadSignature => "bad_event_signature",
        }
    }
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(member) => write!(
                f,
                "malformed event: member `{member}` is missing or ill-formed"
            ),
            Self::BadId => f.write_str("the event id is not the hash of its serialization"),
            Self::BadSignature => f.write_str("the event signature does not verify"),
        }
    }
}

impl std::error::Error for EventError {}

impl Event {
    /// Signs an event with `key` (a BIP-340 key) and fresh auxiliary randomness from the OS.
    /// Feature `os-rng`; [`Event::sign_with_aux`] takes the randomness from the caller.
    ///
    /// # Errors
    /// [`kez_core::Error::BadKey`] for a key that is not BIP-340 (or the negligible case of a
    /// zero signing nonce).
    #[cfg(feature = "os-rng")]
    pub fn sign(
        key: &SecretKey,
        created_at: u64,
        kind: u32,
        tags: Vec<Vec<String>>,
        content: String,
    ) -> Result<Self, kez_core::Error> {
        // BIP-340's aux randomness only hardens signing against side channels: without an
        // RNG, zero still gives a sound signature
        let mut aux = [0u8; 32];
        let _ = getrandom::fill(&mut aux);
        Self::sign_with_aux(key, &aux, created_at, kind, tags, content)
    }

    /// Signs an event with `key` (a BIP-340 key) and the caller's BIP-340 auxiliary randomness
    /// (deterministic signatures for tests, vectors, and the seal and wrap of [`crate::wrap`]).
    ///
    /// # Errors
    /// [`kez_core::Error::BadKey`] for a key that is not BIP-340 (or the negligible case of a
    /// zero signing nonce).
    pub fn sign_with_aux(
        key: &SecretKey,
        aux: &[u8; 32],
        created_at: u64,
        kind: u32,
        tags: Vec<Vec<String>>,
        content: String,
    ) -> Result<Self, kez_core::Error> {
        if key.public().alg() != Alg::Bip340 {
            return Err(kez_core::Error::BadKey);
        }
        let pubkey = *key.public().as_bytes();
        let id = event_id(&pubkey, created_at, kind, &tags, &content);
        let sig = key.sign_raw(&id, aux)?;
        Ok(Self {
            id,
            pubkey,
            created_at,
            kind,
            tags,
            content,
            sig,
        })
    }

    /// The event object as compact JSON, members in the order `id`, `pubkey`, `created_at`,
    /// `kind`, `tags`, `content`, `sig`, strings escaped as in the serialization.
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(json_len(self.content.len(), &self.tags) + 16);
        // writing into a String cannot fail
        let _ = self.write_json(&mut out);
        out
    }

    /// Writes [`Event::to_json`] into `out`.
    ///
    /// # Errors
    /// Only those of `out`.
    pub fn write_json(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        out.write_str("{\"id\":\"")?;
        write_hex(out, &self.id)?;
        out.write_str("\",\"pubkey\":\"")?;
        write_hex(out, &self.pubkey)?;
        write!(
            out,
            "\",\"created_at\":{},\"kind\":{},\"tags\":",
            self.created_at, self.kind
        )?;
        write_tags(out, &self.tags)?;
        out.write_str(",\"content\":")?;
        write_json_string(out, &self.content)?;
        out.write_str(",\"sig\":\"")?;
        write_hex(out, &self.sig)?;
        out.write_str("\"}")
    }

    /// Reads an event object and checks it: the shape (every member present, ids and keys in
    /// lowercase hex, `kind` at most 2^32 − 1), then that `id` is the hash of the
    /// serialization, then the signature. Other members are ignored.
    ///
    /// # Errors
    /// [`EventError`] for the first check that fails, in that order.
    pub fn from_value(v: &Value) -> Result<Self, EventError> {
        let event = Self::from_value_unverified(v)?;
        event.verify()?;
        Ok(event)
    }

    /// Reads an event object's shape only, without checking its id or signature (for callers
    /// that look at the kind or tags first, and verify only the events they keep).
    ///
    /// # Errors
    /// [`EventError::Malformed`] naming the first bad member.
    pub fn from_value_unverified(v: &Value) -> Result<Self, EventError> {
        let member = |name: &'static str| v.get(name).ok_or(EventError::Malformed(name));
        let hex_member = |name: &'static str| {
            member(name)?
                .as_str()
                .ok_or(EventError::Malformed(name))
                .map(str::as_bytes)
        };
        let id = unhex(hex_member("id")?).ok_or(EventError::Malformed("id"))?;
        let pubkey = unhex(hex_member("pubkey")?).ok_or(EventError::Malformed("pubkey"))?;
        let sig = unhex(hex_member("sig")?).ok_or(EventError::Malformed("sig"))?;
        let created_at = member("created_at")?
            .as_u64()
            .ok_or(EventError::Malformed("created_at"))?;
        let kind = member("kind")?
            .as_u64()
            .and_then(|k| u32::try_from(k).ok())
            .ok_or(EventError::Malformed("kind"))?;
        let tags = tags_from_value(member("tags")?).ok_or(EventError::Malformed("tags"))?;
        let content = member("content")?
            .as_str()
            .ok_or(EventError::Malformed("content"))?
            .to_owned();
        Ok(Self {
            id,
            pubkey,
            created_at,
            kind,
            tags,
            content,
            sig,
        })
    }

    /// Checks that `id` is the hash of the serialization and that `sig` verifies.
    ///
    /// # Errors
    /// [`EventError::BadId`], then [`EventError::BadSignature`].
    pub fn verify(&self) -> Result<(), EventError> {
        if event_id(
            &self.pubkey,
            self.created_at,
            self.kind,
            &self.tags,
            &self.content,
        ) != self.id
        {
            return Err(EventError::BadId);
        }
        if !kez_core::verify_raw(Alg::Bip340, &self.pubkey, &self.id, &self.sig) {
            return Err(EventError::BadSignature);
        }
        Ok(())
    }

    /// The id as 64 lowercase hex digits.
    #[must_use]
    pub fn id_hex(&self) -> String {
        hex(&self.id)
    }

    /// The first value of the first tag named `name` (a tag with no value gives `""`).
    #[must_use]
    pub fn tag(&self, name: &str) -> Option<&str> {
        first_tag_value(&self.tags, name)
    }
}

/// The first value of the first tag named `name` in `tags` (a tag with no value gives `""`).
#[must_use]
pub fn first_tag_value<'t>(tags: &'t [Vec<String>], name: &str) -> Option<&'t str> {
    tags.iter()
        .find(|tag| tag.first().is_some_and(|n| n == name))
        .map(|tag| tag.get(1).map_or("", String::as_str))
}

/// Tags from a JSON value: an array of arrays of strings.
#[must_use]
pub fn tags_from_value(v: &Value) -> Option<Vec<Vec<String>>> {
    v.as_array()?
        .iter()
        .map(|tag| {
            tag.as_array()?
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// The event id (NIP-01): SHA-256 of `[0,<pubkey hex>,<created_at>,<kind>,<tags>,<content>]`
/// serialized as [`write_serialization`] writes it, streamed into the hash.
#[must_use]
pub fn event_id(
    pubkey: &[u8; 32],
    created_at: u64,
    kind: u32,
    tags: &[Vec<String>],
    content: &str,
) -> [u8; 32] {
    let mut hasher = HashWriter(Sha256::new());
    // writing into a hasher cannot fail
    let _ = write_serialization(&mut hasher, pubkey, created_at, kind, tags, content);
    hasher.0.finalize().into()
}

/// Writes the serialization an event id hashes (SPEC.md §15.4): the JSON array
/// `[0,"<pubkey hex>",<created_at>,<kind>,<tags>,"<content>"]` with no whitespace and strings
/// escaped as [`write_json_string`] does.
///
/// # Errors
/// Only those of `out`.
pub fn write_serialization(
    out: &mut dyn fmt::Write,
    pubkey: &[u8; 32],
    created_at: u64,
    kind: u32,
    tags: &[Vec<String>],
    content: &str,
) -> fmt::Result {
    out.write_str("[0,\"")?;
    write_hex(out, pubkey)?;
    write!(out, "\",{created_at},{kind},")?;
    write_tags(out, tags)?;
    out.write_char(',')?;
    write_json_string(out, content)?;
    out.write_char(']')
}

/// Writes tags as a JSON array of arrays of strings, no whitespace.
///
/// # Errors
/// Only those of `out`.
pub fn write_tags(out: &mut dyn fmt::Write, tags: &[Vec<String>]) -> fmt::Result {
    out.write_char('[')?;
    for (i, tag) in tags.iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        out.write_char('[')?;
        for (j, item) in tag.iter().enumerate() {
            if j > 0 {
                out.write_char(',')?;
            }
            write_json_string(out, item)?;
        }
        out.write_char(']')?;
    }
    out.write_char(']')
}

/// A JSON string as the event serialization writes it: `"` `\` and the five short escapes,
/// the other code points below U+0020 as `\u00xx` (lowercase hex), everything else verbatim.
///
/// # Errors
/// Only those of `out`.
pub fn write_json_string(out: &mut dyn fmt::Write, text: &str) -> fmt::Result {
    out.write_char('"')?;
    let mut rest = text;
    // runs of characters that need no escape are written at once
    while let Some(pos) = rest.find(|c: char| c < ' ' || c == '"' || c == '\\') {
        let (plain, tail) = rest.split_at(pos);
        out.write_str(plain)?;
        let mut chars = tail.chars();
        match chars.next() {
            Some('"') => out.write_str("\\\"")?,
            Some('\\') => out.write_str("\\\\")?,
            Some('\n') => out.write_str("\\n")?,
            Some('\r') => out.write_str("\\r")?,
            Some('\t') => out.write_str("\\t")?,
            Some('\u{8}') => out.write_str("\\b")?,
            Some('\u{c}') => out.write_str("\\f")?,
            Some(c) => write!(out, "\\u{:04x}", u32::from(c))?,
            None => {}
        }
        rest = chars.as_str();
    }
    out.write_str(rest)?;
    out.write_char('"')
}

/// The length of `text` once written by [`write_json_string`], quotes included.
#[must_use]
pub fn json_string_len(text: &str) -> usize {
    2 + text
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if c < ' ' => 6,
            c => c.len_utf8(),
        })
        .sum::<usize>()
}

/// The exact length of [`Event::to_json`] for a content of `content_len_escaped` bytes once
/// escaped (quotes not counted), `tags` as given, and a `created_at` and `kind` of the given
/// decimal widths summed into `numbers_len`.
fn json_len_exact(content_len_escaped: usize, tags: &[Vec<String>], numbers_len: usize) -> usize {
    // {"id":"<64>","pubkey":"<64>","created_at":N,"kind":N,"tags":T,"content":"C","sig":"<128>"}
    const FIXED: usize =
        r#"{"id":"","pubkey":"","created_at":,"kind":,"tags":,"content":"","sig":""}"#.len()
            + 64
            + 64
            + 128;
    FIXED + numbers_len + tags_len(tags) + content_len_escaped
}

/// An upper bound of [`Event::to_json`]'s length for a content of `content_len` raw bytes
/// (a buffer size, not exact).
fn json_len(content_len: usize, tags: &[Vec<String>]) -> usize {
    json_len_exact(content_len, tags, 20 + 10)
}

/// The length of `tags` once written by [`write_tags`].
#[must_use]
pub fn tags_len(tags: &[Vec<String>]) -> usize {
    let commas = |n: usize| n.saturating_sub(1);
    2 + commas(tags.len())
        + tags
            .iter()
            .map(|tag| {
                2 + commas(tag.len()) + tag.iter().map(|s| json_string_len(s)).sum::<usize>()
            })
            .sum::<usize>()
}

/// The exact length of the compact JSON of a signed event (as [`Event::to_json`] writes it)
/// whose content is `content_len_escaped` bytes once escaped (quotes not counted), with
/// `tags`, `created_at` and `kind`.
#[must_use]
pub fn event_json_len(
    content_len_escaped: usize,
    tags: &[Vec<String>],
    created_at: u64,
    kind: u32,
) -> usize {
    json_len_exact(
        content_len_escaped,
        tags,
        decimal_len(created_at) + decimal_len(u64::from(kind)),
    )
}

/// How many decimal digits `n` has.
#[must_use]
pub const fn decimal_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

/// Streams formatted text into SHA-256.
struct HashWriter(Sha256);

impl fmt::Write for HashWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

fn write_hex(out: &mut dyn fmt::Write, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(out, "{b:02x}"))
}

/// Bytes as lowercase hex.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    let _ = write_hex(&mut out, bytes);
    out
}

/// Exactly `2 * N` lowercase hex digits.
#[must_use]
pub fn unhex<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    if digits.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let nibble = |d: u8| match d {
            b'0'..=b'9' => Some(d - b'0'),
            b'a'..=b'f' => Some(d - b'a' + 10),
            _ => None,
        };
        *byte = nibble(*pair.first()?)? << 4 | nibble(*pair.get(1)?)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;

    /// Fixed BIP-340 auxiliary randomness: the tests' signatures are deterministic.
    const AUX: [u8; 32] = [7; 32];

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    const SAMPLES: [&str; 6] = [
        "",
        "kez:z1:abc",
        "quote \" backslash \\ slash / line\nreturn\rtab\tbs\u{8}ff\u{c}",
        "\u{0}\u{1}\u{1f}\u{7f}",
        "é ∑ 😀 \u{2028}",
        "\"\"\\\u{1}",
    ];

    #[test]
    fn json_strings_match_serde_json() {
        // the rule of SPEC.md §15.4 is the common JSON escaping, which serde_json writes too
        for text in SAMPLES {
            let mut ours = String::new();
            write_json_string(&mut ours, text).unwrap();
            assert_eq!(ours, serde_json::to_string(text).unwrap(), "{text:?}");
            assert_eq!(json_string_len(text), ours.len(), "{text:?}");
        }
    }

    #[test]
    fn serialization() {
        let mut out = String::new();
        let tags = [s(&["d", "kez-proof:x"]), vec![], s(&["t", "a\"b"])];
        write_serialization(&mut out, &[0xab; 32], 1, 30078, &tags, "hi\n").unwrap();
        let pk = "ab".repeat(32);
        assert_eq!(
            out,
            format!(r#"[0,"{pk}",1,30078,[["d","kez-proof:x"],[],["t","a\"b"]],"hi\n"]"#)
        );
        let mut t = String::new();
        write_tags(&mut t, &tags).unwrap();
        assert_eq!(tags_len(&tags), t.len());
        assert_eq!(tags_len(&[]), 2);
    }

    #[test]
    fn spec_example_id() {
        // SPEC.md §15.4, the worked example
        let pubkey =
            unhex(b"4f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa").unwrap();
        let id = event_id(
            &pubkey,
            1_764_115_200,
            30078,
            &[s(&[
                "d",
                "kez-proof:nostr:npub1gekhljh9v0jukzdq6xrshdvqx3yqgctc0xs5jjw0yg597xaw8uns47vduw",
            ])],
            "say \"hi\"\\\n\t\u{1}é",
        );
        assert_eq!(
            hex(&id),
            "56c01dbed97c9023d4b0fb57a19d1f3f01f9729e4bfab0cd355dd742ba599049"
        );
    }

    #[test]
    fn sign_json_parse_round_trip() {
        let key = SecretKey::from_bytes(Alg::Bip340, &[0x11; 32]).unwrap();
        for content in SAMPLES {
            let tags = vec![s(&["p", &"cd".repeat(32)]), s(&["e"]), vec![]];
            let event =
                Event::sign_with_aux(&key, &AUX, 1_764_115_200, 14, tags.clone(), content.into())
                    .unwrap();
            let json = event.to_json();
            assert_eq!(
                json.len(),
                event_json_len(
                    json_string_len(content) - 2,
                    &tags,
                    event.created_at,
                    event.kind
                )
            );
            let value: Value = serde_json::from_str(&json).unwrap();
            // serde_json agrees on the text and on every member
            assert_eq!(serde_json::to_string(&value).unwrap().len(), json.len());
            assert_eq!(value["id"], event.id_hex());
            let back = Event::from_value(&value).unwrap();
            assert_eq!(back, event);
            assert_eq!(back.tag("p"), Some("cd".repeat(32).as_str()));
            assert_eq!(back.tag("e"), Some(""));
            assert_eq!(back.tag("x"), None);
        }
    }

    #[test]
    fn from_value_checks_in_order() {
        let key = SecretKey::from_bytes(Alg::Bip340, &[0x22; 32]).unwrap();
        let event =
            Event::sign_with_aux(&key, &AUX, 5, 1, vec![s(&["t", "x"])], "hello".into()).unwrap();
        let good: Value = serde_json::from_str(&event.to_json()).unwrap();

        let with = |name: &str, v: Value| {
            let mut x = good.clone();
            x[name] = v;
            Event::from_value(&x)
        };
        assert_eq!(with("content", "hullo".into()), Err(EventError::BadId));
        assert_eq!(with("created_at", 6.into()), Err(EventError::BadId));
        assert_eq!(with("tags", serde_json::json!([])), Err(EventError::BadId));
        let mut sig = event.sig;
        sig[0] ^= 1;
        assert_eq!(with("sig", hex(&sig).into()), Err(EventError::BadSignature));
        assert_eq!(
            with("id", event.id_hex().to_ascii_uppercase().into()),
            Err(EventError::Malformed("id"))
        );
        assert_eq!(
            with("kind", (1u64 << 32).into()),
            Err(EventError::Malformed("kind"))
        );
        assert_eq!(
            with("kind", (-1).into()),
            Err(EventError::Malformed("kind"))
        );
        assert_eq!(
            with("tags", serde_json::json!([["a", 1]])),
            Err(EventError::Malformed("tags"))
        );
        assert_eq!(
            with("content", Value::Null),
            Err(EventError::Malformed("content"))
        );
        assert_eq!(
            with("pubkey", "ab".into()),
            Err(EventError::Malformed("pubkey"))
        );
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("sig");
        assert_eq!(
            Event::from_value(&missing),
            Err(EventError::Malformed("sig"))
        );
        assert!(EventError::BadId.to_string().contains("hash"));
        // an extra member is ignored
        let mut extra = good.clone();
        extra["relay"] = "x".into();
        assert_eq!(Event::from_value(&extra), Ok(event));
    }

    #[test]
    fn ed25519_keys_cannot_sign_events() {
        let key = SecretKey::from_bytes(Alg::Ed25519, &[0x22; 32]).unwrap();
        assert_eq!(
            Event::sign_with_aux(&key, &AUX, 1, 1, vec![], String::new()),
            Err(kez_core::Error::BadKey)
        );
    }

    #[cfg(feature = "os-rng")]
    #[test]
    fn os_randomness_signs_valid_events() {
        let key = SecretKey::from_bytes(Alg::Bip340, &[0x33; 32]).unwrap();
        let a = Event::sign(&key, 9, 1, vec![], "x".into()).unwrap();
        let b = Event::sign(&key, 9, 1, vec![], "x".into()).unwrap();
        assert_eq!(a.verify(), Ok(()));
        assert_eq!(a.id, b.id);
        // fresh auxiliary randomness: another signature of the same id
        assert_ne!(a.sig, b.sig);
        let ed = SecretKey::from_bytes(Alg::Ed25519, &[0x22; 32]).unwrap();
        assert_eq!(
            Event::sign(&ed, 1, 1, vec![], String::new()),
            Err(kez_core::Error::BadKey)
        );
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(unhex::<2>(b"00ff"), Some([0, 255]));
        assert_eq!(unhex::<2>(b"00FF"), None);
        assert_eq!(unhex::<2>(b"00f"), None);
        assert_eq!(unhex::<2>(b"0g00"), None);
        assert_eq!(hex(&[0, 171]), "00ab");
        assert_eq!(decimal_len(0), 1);
        assert_eq!(decimal_len(9), 1);
        assert_eq!(decimal_len(10), 2);
        assert_eq!(decimal_len(u64::MAX), 20);
    }
}
