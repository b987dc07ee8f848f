//! The properties behind the fuzz targets of kez-nostr, one per parser: event objects
//! (`nostr_event`), relay-to-client messages (`relay_message`), NIP-11 documents (`nip11`) and
//! gift wraps with the seal and rumor inside (`gift_unwrap`).
//!
//! As in `lib.rs`, each function must never panic, asserts its property with `assert!` when the
//! input is accepted, and says whether it was. This file is not a module of the fuzz library,
//! because kez-core's replay test includes `lib.rs` and has no kez-nostr: each of these targets
//! includes it with `#[path]`, and so does `std-adapters/nostr/tests/fuzz_seeds.rs`, which
//! replays `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/` on stable.
//!
//! No `unwrap`/`expect` here: this file is also compiled under the workspace lints.

use std::sync::OnceLock;

use kez_core::nip44::{self, ConversationKey, MAX_ENVELOPE_PLAINTEXT};
use kez_core::{Alg, SecretKey};
use kez_nostr::event::{
    Event, EventError, decimal_len, event_id, event_json_len, hex, json_string_len,
    tags_from_value, unhex, write_json_string, write_serialization,
};
use kez_nostr::nip11::{self as nip11_doc, http_url};
use kez_nostr::wire::{self, MAX_QUOTED, RelayMessage};
use kez_nostr::wrap::{
    KIND_DM, KIND_FILE_BODY, KIND_GIFT_WRAP, KIND_SEAL, Rumor, UnwrapError, Unwrapped, unwrap,
    wrap_with, wrapped_len,
};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// A target's check: feeds the input to one entry point, asserts the property, and says whether
/// the input was accepted.
pub type Check = fn(&[u8]) -> bool;

/// Every target of this file: its name (the directory under `fuzz/seeds/` and
/// `fuzz/regressions/`, and the `[[bin]]` in `fuzz/Cargo.toml`) and its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("nostr_event", nostr_event),
    ("relay_message", relay_message),
    ("nip11", nip11),
    ("gift_unwrap", gift_unwrap),
];

/// The time the gift wraps are made at (10 digits, as `wrapped_len` assumes).
pub const NOW: u64 = 1_764_115_200;

/// The fixed BIP-340 auxiliary randomness of every signature made here.
const AUX: [u8; 32] = [0x5a; 32];

/// The fixed NIP-44 nonce of every envelope made here.
const NONCE: [u8; 32] = [0x24; 32];

// ---------------------------------------------------------------------------------------------
// nostr_event

/// NIP-01 event objects. Accepted when the object has an event's shape
/// (`Event::from_value_unverified`); then:
/// - `from_value` agrees: the same event when the id and signature check, else their error;
/// - the id check is SHA-256 of the serialization (written whole and hashed here), which
///   serde_json reads back as the six NIP-01 values, and the `id` text is exactly the id's
///   lowercase hex;
/// - `to_json` has the length `event_json_len` predicts, and reads back to the same event with
///   the same verdict; every string is escaped exactly as serde_json escapes it;
/// - the same fields signed by a fixed key verify and read back to the same signed event.
pub fn nostr_event(data: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return false;
    };
    let full = Event::from_value(&value);
    let event = match Event::from_value_unverified(&value) {
        Ok(event) => event,
        Err(e) => {
            assert_eq!(
                full,
                Err(e),
                "from_value and from_value_unverified disagree"
            );
            return false;
        }
    };
    let verdict = event.verify();
    assert_eq!(
        full.clone().map(|_| ()),
        verdict,
        "from_value is not shape, then verify"
    );
    if let Ok(checked) = &full {
        assert_eq!(checked, &event);
    }
    assert_eq!(
        value.get("id").and_then(Value::as_str),
        Some(event.id_hex().as_str()),
        "an id that is not lowercase hex was accepted"
    );
    assert_eq!(unhex::<32>(event.id_hex().as_bytes()), Some(event.id));

    let mut serialization = String::new();
    let _ = write_serialization(
        &mut serialization,
        &event.pubkey,
        event.created_at,
        event.kind,
        &event.tags,
        &event.content,
    );
    let digest: [u8; 32] = Sha256::digest(serialization.as_bytes()).into();
    let id = event_id(
        &event.pubkey,
        event.created_at,
        event.kind,
        &event.tags,
        &event.content,
    );
    assert_eq!(
        digest, id,
        "the streamed id is not the hash of the serialization"
    );
    assert_eq!(
        digest != event.id,
        verdict == Err(EventError::BadId),
        "the id check disagrees with the hash"
    );
    match serde_json::from_str::<Value>(&serialization) {
        Ok(back) => assert_eq!(
            back,
            json!([
                0,
                hex(&event.pubkey),
                event.created_at,
                event.kind,
                event.tags,
                event.content
            ]),
            "the serialization reads back to other values"
        ),
        Err(e) => panic!("the serialization is not JSON: {e}: {serialization}"),
    }

    for text in std::iter::once(&event.content).chain(event.tags.iter().flatten()) {
        let mut ours = String::new();
        let _ = write_json_string(&mut ours, text);
        assert_eq!(serde_json::to_string(text).ok(), Some(ours.clone()));
        assert_eq!(json_string_len(text), ours.len());
    }

    let json = event.to_json();
    assert_eq!(
        json.len(),
        event_json_len(
            json_string_len(&event.content) - 2,
            &event.tags,
            event.created_at,
            event.kind
        ),
        "event_json_len is not the length of to_json"
    );
    let again = read_json(&json);
    assert_eq!(Event::from_value_unverified(&again), Ok(event.clone()));
    assert_eq!(Event::from_value(&again).map(|_| ()), verdict);

    let signer = &fixture().sender;
    match Event::sign_with_aux(
        signer,
        &AUX,
        event.created_at,
        event.kind,
        event.tags.clone(),
        event.content.clone(),
    ) {
        Ok(signed) => {
            assert_eq!(signed.verify(), Ok(()));
            assert_eq!(
                signed.id == id,
                signed.pubkey == event.pubkey,
                "the id of the same fields by another author"
            );
            assert_eq!(Event::from_value(&read_json(&signed.to_json())), Ok(signed));
        }
        Err(e) => panic!("a fixed key does not sign: {e}"),
    }
    true
}

/// JSON that kez wrote, read back by serde_json.
fn read_json(text: &str) -> Value {
    match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => panic!("kez wrote JSON that serde_json refuses: {e}: {text}"),
    }
}

// ---------------------------------------------------------------------------------------------
// relay_message

/// Relay-to-client messages (`wire::parse`) on UTF-8 text. The refusal reason is one short
/// line (the channel quotes it in its answer). Accepted when the text parses; then the message
/// written back as JSON from its fields parses to the same message, an `Other` is an array
/// whose type is none of the five known ones, and every string is quoted safely. On any text,
/// `quoted` keeps at most `MAX_QUOTED` characters (then `…`), each the input's or a space for a
/// control character, and `decode_id` takes exactly 64 hex digits in either case.
pub fn relay_message(data: &[u8]) -> bool {
    let Ok(text) = core::str::from_utf8(data) else {
        return false;
    };
    check_quoted(text);
    check_id(text);
    let message = match wire::parse(text) {
        Ok(message) => message,
        Err(e) => {
            assert!(
                !e.is_empty() && e.len() <= 256 && !e.chars().any(char::is_control),
                "refusal reason is not one short line: {e:?}"
            );
            return false;
        }
    };
    if let Some(written) = write_message(&message) {
        assert_eq!(
            wire::parse(&written),
            Ok(message.clone()),
            "{written} reads back differently"
        );
    }
    match &message {
        RelayMessage::Event { sub, event } => {
            check_quoted(sub);
            assert!(event.is_object());
        }
        RelayMessage::Eose { sub } => check_quoted(sub),
        RelayMessage::Closed { sub, message } => {
            check_quoted(sub);
            check_quoted(message);
        }
        RelayMessage::Ok { id, message, .. } => {
            check_id(id);
            check_quoted(message);
        }
        RelayMessage::Notice(text) => check_quoted(text),
        RelayMessage::Other => {
            let value = read_json(text);
            let kind = value
                .as_array()
                .and_then(|items| items.first())
                .and_then(Value::as_str);
            assert!(
                kind.is_some_and(|k| !["EVENT", "EOSE", "CLOSED", "OK", "NOTICE"].contains(&k)),
                "Other for a known type or no type: {text}"
            );
        }
    }
    true
}

/// A message as a relay would write it, from its fields (`None` for `Other`).
fn write_message(message: &RelayMessage) -> Option<String> {
    let value = match message {
        RelayMessage::Event { sub, event } => json!(["EVENT", sub, event]),
        RelayMessage::Eose { sub } => json!(["EOSE", sub]),
        RelayMessage::Closed { sub, message } => json!(["CLOSED", sub, message]),
        RelayMessage::Ok {
            id,
            accepted,
            message,
        } => json!(["OK", id, accepted, message]),
        RelayMessage::Notice(text) => json!(["NOTICE", text]),
        RelayMessage::Other => return None,
    };
    Some(value.to_string())
}

/// `quoted`: bounded, no control characters, a prefix of the input with control characters
/// made spaces, `…` exactly when characters were dropped.
fn check_quoted(text: &str) {
    let quoted = wire::quoted(text);
    let kept = quoted.chars().count();
    assert!(
        !quoted.chars().any(char::is_control),
        "control character quoted"
    );
    assert!(quoted.len() <= MAX_QUOTED * 4 + '…'.len_utf8());
    if text.chars().count() > MAX_QUOTED {
        assert_eq!(kept, MAX_QUOTED + 1);
        assert!(quoted.ends_with('…'));
    } else {
        assert_eq!(kept, text.chars().count());
    }
    for (a, b) in text.chars().zip(quoted.chars().take(MAX_QUOTED)) {
        assert!(
            a == b || (a.is_control() && b == ' '),
            "{a:?} quoted as {b:?}"
        );
    }
}

/// `decode_id`: exactly the texts of 64 ASCII hex digits, read as the lowercase hex of the id.
fn check_id(text: &str) {
    let decoded = wire::decode_id(text);
    let digits = text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
    assert_eq!(decoded.is_some(), digits, "decode_id({text:?})");
    if let Some(id) = decoded {
        assert_eq!(hex(&id), text.to_ascii_lowercase());
        // the event parser's own hex is strict: lowercase only
        assert_eq!(
            unhex::<32>(text.as_bytes()),
            (text == hex(&id)).then_some(id)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// nip11

/// NIP-11 documents (`nip11::parse`). Accepted exactly when serde_json reads the bytes as a
/// JSON object; then each limit is the document's `limitation` member when that is a count
/// (an integer from 0 that fits a `usize`), else `None`, and the name is the document's
/// `name` quoted. On UTF-8 input, `http_url` maps `ws`/`wss` (either case) to `http`/`https`
/// and keeps the rest of the URL, and refuses every other scheme.
pub fn nip11(data: &[u8]) -> bool {
    if let Ok(text) = core::str::from_utf8(data) {
        check_http_url(text);
    }
    let parsed = nip11_doc::parse(data);
    let value = serde_json::from_slice::<Value>(data).ok();
    let document = value.as_ref().and_then(Value::as_object);
    assert_eq!(
        parsed.is_some(),
        document.is_some(),
        "parse disagrees with serde_json on whether this is a JSON object"
    );
    let (Some(limits), Some(document)) = (parsed, document) else {
        return false;
    };
    let limitation = document.get("limitation").and_then(Value::as_object);
    for (name, got) in [
        ("max_message_length", limits.max_message_length),
        ("max_content_length", limits.max_content_length),
        ("max_event_tags", limits.max_event_tags),
    ] {
        let count = limitation
            .and_then(|l| l.get(name))
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok());
        assert_eq!(got, count, "limitation.{name}");
    }
    let name = document.get("name").and_then(Value::as_str);
    assert_eq!(limits.name.is_some(), name.is_some());
    if let (Some(quoted), Some(name)) = (&limits.name, name) {
        assert_eq!(quoted, &wire::quoted(name));
        check_quoted(name);
    }
    true
}

fn check_http_url(text: &str) {
    let expected = text.split_once("://").and_then(|(scheme, rest)| {
        if scheme.eq_ignore_ascii_case("ws") {
            Some(format!("http://{rest}"))
        } else if scheme.eq_ignore_ascii_case("wss") {
            Some(format!("https://{rest}"))
        } else {
            None
        }
    });
    assert_eq!(http_url(text), expected, "http_url({text:?})");
}

// ---------------------------------------------------------------------------------------------
// gift_unwrap

/// The fixed keys of the gift-wrap target.
struct Fixture {
    /// The recipient: every wrap here is unwrapped with this key.
    me: SecretKey,
    /// The sender, who signs the seals.
    sender: SecretKey,
    /// A third key: an impersonated rumor author, or another recipient.
    other: SecretKey,
    /// The wrap's one-time key.
    one_time: SecretKey,
    /// sender ↔ me: the seal's envelope.
    seal_key: ConversationKey,
    /// one-time ↔ me: the wrap's envelope.
    wrap_key: ConversationKey,
}

fn fixed_key(byte: u8) -> SecretKey {
    match SecretKey::from_bytes(Alg::Bip340, &[byte; 32]) {
        Ok(key) => key,
        Err(e) => panic!("fixed key {byte:#04x}: {e}"),
    }
}

fn pk(key: &SecretKey) -> [u8; 32] {
    *key.public().as_bytes()
}

fn conversation(a: &SecretKey, b: &SecretKey) -> ConversationKey {
    match ConversationKey::derive(&a.secret_bytes(), &pk(b)) {
        Ok(key) => key,
        Err(e) => panic!("fixed conversation key: {e}"),
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let me = fixed_key(0x11);
        let sender = fixed_key(0x22);
        let one_time = fixed_key(0x33);
        Fixture {
            seal_key: conversation(&sender, &me),
            wrap_key: conversation(&one_time, &me),
            other: fixed_key(0x44),
            me,
            sender,
            one_time,
        }
    })
}

/// `plaintext` as a NIP-44 envelope under `key` (fixed nonce); `None` when it is empty or
/// longer than an envelope may hold.
fn envelope(key: &ConversationKey, plaintext: &[u8]) -> Option<String> {
    if plaintext.is_empty() || plaintext.len() > MAX_ENVELOPE_PLAINTEXT {
        return None;
    }
    let mut out = vec![0u8; nip44::payload_b64_len(plaintext.len())];
    match nip44::encrypt_base64(key, &NONCE, plaintext, &mut out) {
        Ok(text) => Some(text.to_owned()),
        Err(e) => panic!(
            "a plaintext of {} bytes does not encrypt: {e}",
            plaintext.len()
        ),
    }
}

fn signed(key: &SecretKey, kind: u32, tags: Vec<Vec<String>>, content: String) -> Event {
    match Event::sign_with_aux(key, &AUX, NOW - 3600, kind, tags, content) {
        Ok(event) => event,
        Err(e) => panic!("a fixed key does not sign: {e}"),
    }
}

/// A seal of `kind` signed by the sender around the rumor text (encrypted for `me`).
fn seal_of(kind: u32, rumor: &[u8]) -> Option<Event> {
    let f = fixture();
    let content = envelope(&f.seal_key, rumor)?;
    Some(signed(&f.sender, kind, vec![], content))
}

/// A wrap of `kind` addressed (`p` tag) to `to`, signed by the one-time key, around the seal
/// text (always encrypted for `me`).
fn wrap_of(kind: u32, to: &[u8; 32], seal: &[u8]) -> Option<Event> {
    let f = fixture();
    let content = envelope(&f.wrap_key, seal)?;
    Some(signed(
        &f.one_time,
        kind,
        vec![vec!["p".to_owned(), hex(to)]],
        content,
    ))
}

/// Gift wraps (`wrap::unwrap` with a fixed recipient key). The first byte picks how the rest
/// is used (modulo 4; the seeds use the digits `0` to `3`):
/// - `0`: an event object, unwrapped as received (the MAC stops almost every mutation);
/// - `1`: the rumor text, sealed and wrapped correctly, so only the rumor checks can refuse;
/// - `2`: the seal text, wrapped correctly, so only the seal and rumor checks can refuse;
/// - `3`: a rumor built from fields, with faults chosen by a flag byte: the outcome (the first
///   check that fails, or the very rumor) is predicted and must be what `unwrap` says; without
///   faults and with the flag `WRAP_FOR_REAL`, `wrap_with` wraps it too, to the length
///   `wrapped_len` predicts, and it unwraps.
///
/// Accepted when `unwrap` accepts; what it returns must be what was put in.
pub fn gift_unwrap(data: &[u8]) -> bool {
    let Some((&mode, rest)) = data.split_first() else {
        return false;
    };
    match mode % 4 {
        0 => unwrap_event_json(rest),
        1 => unwrap_rumor_text(rest),
        2 => unwrap_seal_text(rest),
        _ => unwrap_built(rest),
    }
}

/// The checks on anything `unwrap` accepts: the rumor's author is the sender, its id is its
/// hash, its kind one of the two, the wrap id the wrap's.
fn check_unwrapped(u: &Unwrapped, wrap: &Event) {
    assert_eq!(u.rumor.pubkey, u.sender, "author is not the seal's signer");
    assert!(u.rumor.kind == KIND_DM || u.rumor.kind == KIND_FILE_BODY);
    assert_eq!(u.wrap_id, wrap.id);
    assert_eq!(wrap.kind, KIND_GIFT_WRAP);
    assert_eq!(wrap.tag("p"), Some(hex(&pk(&fixture().me)).as_str()));
    let r = &u.rumor;
    assert_eq!(
        event_id(&r.pubkey, r.created_at, r.kind, &r.tags, &r.content),
        r.id
    );
}

fn unwrap_event_json(data: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return false;
    };
    let Ok(event) = Event::from_value_unverified(&value) else {
        return false;
    };
    let Ok(u) = unwrap(&fixture().me, &event) else {
        return false;
    };
    check_unwrapped(&u, &event);
    true
}

fn unwrap_rumor_text(rumor: &[u8]) -> bool {
    let f = fixture();
    let Some(seal) = seal_of(KIND_SEAL, rumor) else {
        return false;
    };
    let Some(wrap) = wrap_of(KIND_GIFT_WRAP, &pk(&f.me), seal.to_json().as_bytes()) else {
        return false;
    };
    let u = match unwrap(&f.me, &wrap) {
        Ok(u) => u,
        Err(e) => {
            assert!(
                matches!(
                    e,
                    UnwrapError::BadRumor(_)
                        | UnwrapError::RumorId
                        | UnwrapError::Impersonation
                        | UnwrapError::UnexpectedKind { .. }
                ),
                "a correct seal and wrap refused: {e:?}"
            );
            return false;
        }
    };
    check_unwrapped(&u, &wrap);
    assert_eq!(u.sender, pk(&f.sender));
    let value = match serde_json::from_slice::<Value>(rumor) {
        Ok(value) => value,
        Err(e) => panic!("a rumor that is not JSON was accepted: {e}"),
    };
    let member = |name: &str| value.get(name);
    assert_eq!(
        member("id").and_then(Value::as_str),
        Some(u.rumor.id_hex().as_str())
    );
    assert_eq!(
        member("pubkey").and_then(Value::as_str),
        Some(hex(&u.sender).as_str())
    );
    assert_eq!(
        member("created_at").and_then(Value::as_u64),
        Some(u.rumor.created_at)
    );
    assert_eq!(
        member("kind").and_then(Value::as_u64),
        Some(u64::from(u.rumor.kind))
    );
    assert_eq!(member("tags").and_then(tags_from_value), Some(u.rumor.tags));
    assert_eq!(
        member("content").and_then(Value::as_str),
        Some(u.rumor.content.as_str())
    );
    true
}

fn unwrap_seal_text(seal: &[u8]) -> bool {
    let f = fixture();
    let Some(wrap) = wrap_of(KIND_GIFT_WRAP, &pk(&f.me), seal) else {
        return false;
    };
    let u = match unwrap(&f.me, &wrap) {
        Ok(u) => u,
        Err(e) => {
            assert!(
                !matches!(
                    e,
                    UnwrapError::NotGiftWrap { .. }
                        | UnwrapError::NotForMe
                        | UnwrapError::WrapEnvelope(_)
                ),
                "a correct wrap refused: {e:?}"
            );
            return false;
        }
    };
    check_unwrapped(&u, &wrap);
    let sealed = serde_json::from_slice::<Value>(seal)
        .ok()
        .map(|v| Event::from_value(&v));
    match sealed {
        Some(Ok(seal)) => {
            assert_eq!(seal.kind, KIND_SEAL);
            assert_eq!(u.sender, seal.pubkey);
        }
        other => panic!("a seal that is no signed event was accepted: {other:?}"),
    }
    true
}

/// Fault flags of mode 3.
const IMPERSONATE: u8 = 1;
const BAD_RUMOR_ID: u8 = 2;
const BAD_SEAL_KIND: u8 = 4;
const OTHER_RECIPIENT: u8 = 8;
const BAD_WRAP_KIND: u8 = 16;
const FAULTS: u8 = 31;
/// Not a fault: the rumor's tags are read from its content (lines of tab-separated values).
const TAGS_FROM_CONTENT: u8 = 32;
/// Not a fault: `created_at` counts down from `u64::MAX` instead of up from 10^9.
const HUGE_TIME: u8 = 64;
/// Not a fault: without faults, `wrap_with` wraps the rumor too (a one-time key, two more
/// envelopes and signatures: only on request, as it triples the cost of the input).
const WRAP_FOR_REAL: u8 = 128;

/// Mode 3. Layout: flags (1 byte), a kind selector (1 byte: 14, 3579, the next two bytes, or
/// 2^32 − 1 minus them), two kind bytes, four time bytes (big-endian), then the content (UTF-8,
/// invalid bytes replaced).
fn unwrap_built(data: &[u8]) -> bool {
    let f = fixture();
    let Some((head, rest)) = data.split_at_checked(8) else {
        return false;
    };
    let &[flags, pick, k0, k1, t0, t1, t2, t3] = head else {
        return false;
    };
    let low = u32::from(u16::from_be_bytes([k0, k1]));
    let kind = match pick % 4 {
        0 => KIND_DM,
        1 => KIND_FILE_BODY,
        2 => low,
        _ => u32::MAX - low,
    };
    let t = u64::from(u32::from_be_bytes([t0, t1, t2, t3]));
    let created_at = if flags & HUGE_TIME != 0 {
        u64::MAX - t
    } else {
        1_000_000_000 + t
    };
    let content = String::from_utf8_lossy(rest).into_owned();
    let author = if flags & IMPERSONATE != 0 {
        pk(&f.other)
    } else {
        pk(&f.sender)
    };
    let me = pk(&f.me);
    let mut rumor = Rumor::new(&author, &me, kind, content, created_at);
    if flags & TAGS_FROM_CONTENT != 0 {
        rumor.tags = rumor
            .content
            .lines()
            .map(|line| line.split('\t').map(str::to_owned).collect())
            .collect();
        rumor.id = event_id(
            &rumor.pubkey,
            rumor.created_at,
            rumor.kind,
            &rumor.tags,
            &rumor.content,
        );
    }
    if flags & BAD_RUMOR_ID != 0 {
        if let Some(b) = rumor.id.first_mut() {
            *b ^= 1;
        }
    }
    let seal_kind = if flags & BAD_SEAL_KIND != 0 {
        1
    } else {
        KIND_SEAL
    };
    let to = if flags & OTHER_RECIPIENT != 0 {
        pk(&f.other)
    } else {
        me
    };
    let wrap_kind = if flags & BAD_WRAP_KIND != 0 {
        4
    } else {
        KIND_GIFT_WRAP
    };
    let Some(seal) = seal_of(seal_kind, rumor.to_json().as_bytes()) else {
        return false;
    };
    let Some(wrap) = wrap_of(wrap_kind, &to, seal.to_json().as_bytes()) else {
        return false;
    };

    // the first check that fails, in the order of SPEC.md §16.5
    let expected = if wrap_kind != KIND_GIFT_WRAP {
        Err(UnwrapError::NotGiftWrap { kind: wrap_kind })
    } else if to != me {
        Err(UnwrapError::NotForMe)
    } else if seal_kind != KIND_SEAL {
        Err(UnwrapError::SealKind { kind: seal_kind })
    } else if flags & BAD_RUMOR_ID != 0 {
        Err(UnwrapError::RumorId)
    } else if author != pk(&f.sender) {
        Err(UnwrapError::Impersonation)
    } else if kind != KIND_DM && kind != KIND_FILE_BODY {
        Err(UnwrapError::UnexpectedKind { kind })
    } else {
        Ok(Unwrapped {
            sender: author,
            rumor: rumor.clone(),
            wrap_id: wrap.id,
        })
    };
    let got = unwrap(&f.me, &wrap);
    assert_eq!(got, expected, "unwrap of a built wrap");

    if flags & FAULTS == 0 && flags & WRAP_FOR_REAL != 0 {
        wrap_for_real(&rumor, flags & TAGS_FROM_CONTENT == 0);
    }
    got.is_ok()
}

/// `wrap_with` (deterministic bytes) on a well-formed rumor by the sender to `me`: the wrap is
/// a valid event that unwraps to the rumor (or names its unexpected kind), and for the
/// one-`p`-tag rumors `Rumor::new` makes, with a 10-digit time, its JSON is exactly
/// `wrapped_len` long.
fn wrap_for_real(rumor: &Rumor, standard_tags: bool) {
    let f = fixture();
    let mut counter = 0u8;
    let mut rng = |buf: &mut [u8]| {
        for b in buf.iter_mut() {
            counter = counter.wrapping_add(0x9d);
            *b = counter;
        }
    };
    let wrap = match wrap_with(&f.sender, &pk(&f.me), rumor, NOW, &mut rng) {
        Ok(wrap) => wrap,
        Err(e) => panic!("wrap_with refused a rumor that seals by hand: {e}"),
    };
    let json = wrap.to_json();
    assert_eq!(Event::from_value(&read_json(&json)), Ok(wrap.clone()));
    if standard_tags && decimal_len(rumor.created_at) == 10 {
        assert_eq!(
            json.len(),
            wrapped_len(rumor.kind, json_string_len(&rumor.content) - 2),
            "wrapped_len is not the wrap's length"
        );
    }
    match unwrap(&f.me, &wrap) {
        Ok(u) => {
            check_unwrapped(&u, &wrap);
            assert_eq!(&u.rumor, rumor);
        }
        Err(UnwrapError::UnexpectedKind { kind }) => assert_eq!(kind, rumor.kind),
        Err(e) => panic!("a wrap of wrap_with refused: {e:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// seeds

/// The committed seeds, as `(target, file name, bytes)`. `KEZ_WRITE_FUZZ_SEEDS=1 cargo test -p
/// kez-nostr --test fuzz_seeds` writes them to `fuzz/seeds/<target>/`; without it that test
/// checks the committed files are these bytes. Every signature and envelope is deterministic
/// (fixed keys, aux bytes and nonces).
pub fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let f = fixture();
    let me = pk(&f.me);
    let sender = pk(&f.sender);
    let text = |s: &str| s.as_bytes().to_vec();
    let tags = |list: &[&[&str]]| -> Vec<Vec<String>> {
        list.iter()
            .map(|tag| tag.iter().map(|s| (*s).to_owned()).collect())
            .collect()
    };

    let hello = signed(&f.sender, 1, tags(&[&["t", "x"]]), "hello".to_owned());
    let escapes = signed(
        &f.me,
        KIND_DM,
        tags(&[&["p", &hex(&sender)], &["e"], &[]]),
        "quote \" backslash \\ line\nreturn\rtab\t\u{1}\u{1f}\u{7f} é 😀 \u{2028}".to_owned(),
    );
    let proof = signed(
        &f.sender,
        30078,
        tags(&[&["d", "kez-proof:nostr:npub1example"]]),
        "kez:z1:abc".to_owned(),
    );
    let mut bad_sig = hello.clone();
    if let Some(b) = bad_sig.sig.first_mut() {
        *b ^= 1;
    }

    let dm = Rumor::new(&sender, &me, KIND_DM, "hi \"there\"\n".to_owned(), NOW);
    let file = Rumor::new(
        &sender,
        &me,
        KIND_FILE_BODY,
        r#"{"type":"kez-file-chunk-v1","file_id":"00112233445566778899aabbccddeeff","i":0,"n":2,"data":"aGVsbG8"}"#
            .to_owned(),
        NOW,
    );
    let mut counter = 0u8;
    let mut rng = |buf: &mut [u8]| {
        for b in buf.iter_mut() {
            counter = counter.wrapping_add(0x9d);
            *b = counter;
        }
    };
    let real_wrap = match wrap_with(&f.sender, &me, &dm, NOW, &mut rng) {
        Ok(wrap) => wrap.to_json(),
        Err(e) => panic!("the seed wrap: {e}"),
    };
    let seal = seal_of(KIND_SEAL, dm.to_json().as_bytes())
        .map(|s| s.to_json())
        .unwrap_or_default();
    let mode = |m: u8, rest: &[u8]| [&[m][..], rest].concat();
    let built = |flags: u8, pick: u8, kind: u16, content: &str| {
        let t = u32::try_from(NOW - 1_000_000_000).unwrap_or(0);
        let mut out = vec![b'3', flags, pick];
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&t.to_be_bytes());
        out.extend_from_slice(content.as_bytes());
        out
    };
    let id = hex(&hello.id);

    vec![
        ("nostr_event", "signed.json", text(&hello.to_json())),
        ("nostr_event", "escapes.json", text(&escapes.to_json())),
        ("nostr_event", "proof-30078.json", text(&proof.to_json())),
        (
            "nostr_event",
            "bad-signature.json",
            text(&bad_sig.to_json()),
        ),
        (
            "relay_message",
            "event.json",
            text(&format!(r#"["EVENT","kez",{}]"#, hello.to_json())),
        ),
        ("relay_message", "eose.json", text(r#"["EOSE","kez"]"#)),
        (
            "relay_message",
            "closed.json",
            text(r#"["CLOSED","kez","rate-limited: slow down"]"#),
        ),
        (
            "relay_message",
            "closed-bare.json",
            text(r#"["CLOSED","kez"]"#),
        ),
        (
            "relay_message",
            "ok-accepted.json",
            text(&format!(r#"["OK","{id}",true,""]"#)),
        ),
        (
            "relay_message",
            "ok-refused-uppercase.json",
            text(&format!(
                r#"["OK","{}",false,"blocked: no"]"#,
                id.to_ascii_uppercase()
            )),
        ),
        (
            "relay_message",
            "notice.json",
            text(r#"["NOTICE","restarting\nin 5 minutes"]"#),
        ),
        (
            "relay_message",
            "auth.json",
            text(r#"["AUTH","challenge-1"]"#),
        ),
        (
            "relay_message",
            "count.json",
            text(r#"["COUNT","kez",{"count":3}]"#),
        ),
        (
            "nip11",
            "relay.json",
            text(concat!(
                r#"{"name":"KEZ test relay","description":"a relay for the KEZ fuzz seeds","#,
                r#""pubkey":"4f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa","#,
                r#""contact":"mailto:ops@example.org","supported_nips":[1,9,11,40,42,59],"#,
                r#""software":"example-relay","version":"1.2.3","#,
                r#""limitation":{"max_message_length":131072,"max_subscriptions":20,"#,
                r#""max_filters":10,"max_limit":500,"max_subid_length":64,"max_event_tags":2000,"#,
                r#""max_content_length":102400,"min_pow_difficulty":0,"auth_required":false,"#,
                r#""payment_required":false},"relay_countries":["*"],"language_tags":["*"]}"#
            )),
        ),
        (
            "nip11",
            "name-only.json",
            text(r#"{"name":"local\trelay"}"#),
        ),
        (
            "nip11",
            "mistyped.json",
            text(
                r#"{"name":5,"limitation":{"max_message_length":"big","max_content_length":-1,"max_event_tags":1.5}}"#,
            ),
        ),
        ("nip11", "url.txt", text("wss://relay.example.org/path")),
        (
            "gift_unwrap",
            "0-wrap.json",
            mode(b'0', real_wrap.as_bytes()),
        ),
        (
            "gift_unwrap",
            "1-rumor-dm.json",
            mode(b'1', dm.to_json().as_bytes()),
        ),
        (
            "gift_unwrap",
            "1-rumor-file.json",
            mode(b'1', file.to_json().as_bytes()),
        ),
        ("gift_unwrap", "2-seal.json", mode(b'2', seal.as_bytes())),
        ("gift_unwrap", "3-dm.bin", built(0, 0, 0, "hello")),
        (
            "gift_unwrap",
            "3-wrap-for-real.bin",
            built(WRAP_FOR_REAL, 1, 0, "{\"type\":\"kez-file-v1\"}"),
        ),
        (
            "gift_unwrap",
            "3-file-tags.bin",
            built(TAGS_FROM_CONTENT, 1, 0, "p\tabc\ne\n"),
        ),
        (
            "gift_unwrap",
            "3-impersonation.bin",
            built(IMPERSONATE, 0, 0, "it is me"),
        ),
        ("gift_unwrap", "3-kind-1.bin", built(0, 2, 1, "a note")),
    ]
}
