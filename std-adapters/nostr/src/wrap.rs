//! Gift wrapping (SPEC.md §16.5): a message is an unsigned **rumor** (kind 14 for text, the
//! KEZ kind [`KIND_FILE_BODY`] for file bodies), encrypted into a **seal** (kind 13) that the
//! sender signs, encrypted again into a **wrap** (kind 1059) signed by a one-time key. Relays
//! see only the wrap: the recipient's key, a backdated time and a size.
//!
//! Both encryptions are NIP-44 version 2 (`kez_core::nip44`): the seal with the
//! sender↔recipient conversation key, the wrap with the one-time↔recipient key. File bodies
//! of a large chunk need the envelope's large-payload form; text stays in the short form when
//! it is under 65,536 bytes, so other NIP-17 clients can read it.

use std::fmt;

use kez_core::nip44::{self, ConversationKey, MAX_ENVELOPE_PAYLOAD_B64, MAX_ENVELOPE_PLAINTEXT};
use kez_core::{Alg, SecretKey};
use serde_json::Value;

use crate::event::{
    Event, EventError, decimal_len, event_id, event_json_len, hex, tags_from_value, tags_len,
    unhex, write_json_string, write_tags,
};

/// The kind of a seal (NIP-59).
pub const KIND_SEAL: u32 = 13;
/// The rumor kind of a text message (NIP-17 chat message).
pub const KIND_DM: u32 = 14;
/// The kind of a gift wrap (NIP-59).
pub const KIND_GIFT_WRAP: u32 = 1059;
/// The rumor kind of a KEZ file body (SPEC.md §16.3): a regular kind that no NIP assigns, so
/// other clients never show a chunk's JSON as a chat message.
pub const KIND_FILE_BODY: u32 = 3579;
/// Seal and wrap `created_at` are the sending time minus a uniform offset in
/// `[0, BACKDATE_WINDOW)` seconds; a receiver's subscription must reach this far back.
pub const BACKDATE_WINDOW: u64 = 2 * 24 * 3600;

/// The decimal width of every `created_at` that [`wrapped_len`] assumes (times from 2001 to
/// 2286).
const TIME_DIGITS: usize = 10;
/// A time of [`TIME_DIGITS`] digits.
const TEN_DIGITS: u64 = 1_000_000_000;

/// How many one-time secrets a wrap draws before giving up (a random 32-byte string is not a
/// valid secret with probability about 2^-128).
const ONE_TIME_KEY_TRIES: usize = 8;

/// An unsigned event: the message itself, readable only by its sender and recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rumor {
    /// The hash of the rumor's serialization (as an event id).
    pub id: [u8; 32],
    /// The sender's x-only key.
    pub pubkey: [u8; 32],
    /// The real sending time (not backdated).
    pub created_at: u64,
    /// [`KIND_DM`] or [`KIND_FILE_BODY`].
    pub kind: u32,
    /// `[["p", <recipient hex>]]` for the rumors KEZ writes.
    pub tags: Vec<Vec<String>>,
    /// The message body (SPEC.md §16.3).
    pub content: String,
}

impl Rumor {
    /// A rumor from `sender` to `recipient` (tags `[["p", <recipient hex>]]`), its id computed.
    #[must_use]
    pub fn new(
        sender: &[u8; 32],
        recipient: &[u8; 32],
        kind: u32,
        content: String,
        created_at: u64,
    ) -> Self {
        let tags = vec![vec!["p".to_owned(), hex(recipient)]];
        let id = event_id(sender, created_at, kind, &tags, &content);
        Self {
            id,
            pubkey: *sender,
            created_at,
            kind,
            tags,
            content,
        }
    }

    /// The rumor object as compact JSON: `id`, `pubkey`, `created_at`, `kind`, `tags`,
    /// `content` (no `sig`).
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.content.len() + tags_len(&self.tags) + 256);
        // writing into a String cannot fail
        let _ = self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        write!(
            out,
            "{{\"id\":\"{}\",\"pubkey\":\"{}\",\"created_at\":{},\"kind\":{},\"tags\":",
            hex(&self.id),
            hex(&self.pubkey),
            self.created_at,
            self.kind
        )?;
        write_tags(out, &self.tags)?;
        out.write_str(",\"content\":")?;
        write_json_string(out, &self.content)?;
        out.write_char('}')
    }

    /// The id as 64 lowercase hex digits.
    #[must_use]
    pub fn id_hex(&self) -> String {
        hex(&self.id)
    }

    /// Reads a rumor object: `id`, `pubkey`, `created_at`, `kind`, `tags`, `content` (other
    /// members, a `sig` included, are ignored). The id is not checked here.
    fn from_value(v: &Value) -> Result<Self, UnwrapError> {
        let member = |name: &'static str| v.get(name).ok_or(UnwrapError::BadRumor(name));
        let hex32 = |name: &'static str| {
            member(name)?
                .as_str()
                .and_then(|s| unhex::<32>(s.as_bytes()))
                .ok_or(UnwrapError::BadRumor(name))
        };
        Ok(Self {
            id: hex32("id")?,
            pubkey: hex32("pubkey")?,
            created_at: member("created_at")?
                .as_u64()
                .ok_or(UnwrapError::BadRumor("created_at"))?,
            kind: member("kind")?
                .as_u64()
                .and_then(|k| u32::try_from(k).ok())
                .ok_or(UnwrapError::BadRumor("kind"))?,
            tags: tags_from_value(member("tags")?).ok_or(UnwrapError::BadRumor("tags"))?,
            content: member("content")?
                .as_str()
                .ok_or(UnwrapError::BadRumor("content"))?
                .to_owned(),
        })
    }
}

/// Why a rumor could not be wrapped.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapError {
    /// The sender's key is not a BIP-340 key, or the recipient is not a curve point.
    BadKey,
    /// The rumor (or the seal around it) is longer than one envelope's plaintext may be
    /// ([`MAX_ENVELOPE_PLAINTEXT`]).
    TooLarge {
        /// The length that did not fit, in bytes.
        len: usize,
    },
    /// The random source did not give a valid one-time key.
    NoRandomKey,
    /// The envelope refused the plaintext.
    Envelope(kez_core::Error),
}

impl WrapError {
    /// A stable class string: `bad_key`, `too_large`, `no_random_key`, `bad_envelope`.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::BadKey => "bad_key",
            Self::TooLarge { .. } => "too_large",
            Self::NoRandomKey => "no_random_key",
            Self::Envelope(_) => "bad_envelope",
        }
    }
}

impl fmt::Display for WrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadKey => f.write_str(
                "cannot wrap: the sender needs a nostr (BIP-340) key and the recipient must be a valid nostr public key",
            ),
            Self::TooLarge { len } => write!(
                f,
                "cannot wrap: {len} bytes exceed the {MAX_ENVELOPE_PLAINTEXT}-byte envelope limit"
            ),
            Self::NoRandomKey => f.write_str("cannot wrap: no valid one-time key from the random source"),
            Self::Envelope(e) => write!(f, "cannot wrap: the envelope failed: {e}"),
        }
    }
}

impl std::error::Error for WrapError {}

/// Why a received wrap is refused, in the order the checks run (SPEC.md §16.5).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnwrapError {
    /// The event is not of kind 1059.
    NotGiftWrap {
        /// Its kind.
        kind: u32,
    },
    /// The wrap's first `p` tag is not our key (or we have no BIP-340 key).
    NotForMe,
    /// The wrap's content does not decrypt with our key and the wrap's author (too large,
    /// malformed, or a MAC that does not verify).
    WrapEnvelope(kez_core::Error),
    /// The decrypted seal is not a JSON event object, or its id or signature does not verify.
    BadSeal(EventError),
    /// The seal is not of kind 13.
    SealKind {
        /// Its kind.
        kind: u32,
    },
    /// The seal's content does not decrypt with our key and the seal's author.
    SealEnvelope(kez_core::Error),
    /// The decrypted rumor is not a JSON object with the six rumor members; the member is
    /// named (`json` when the text is not JSON at all).
    BadRumor(&'static str),
    /// The rumor's id is not the hash of its serialization.
    RumorId,
    /// The rumor's author is not the seal's signer: someone is speaking for another key.
    Impersonation,
    /// The rumor's kind is neither 14 nor [`KIND_FILE_BODY`].
    UnexpectedKind {
        /// Its kind.
        kind: u32,
    },
}

impl UnwrapError {
    /// A stable class string: `not_gift_wrap`, `not_for_me`, `bad_wrap_envelope`, `bad_seal`,
    /// `bad_seal_envelope`, `bad_rumor`, `impersonation` or `unexpected_kind`.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::NotGiftWrap { .. } => "not_gift_wrap",
            Self::NotForMe => "not_for_me",
            Self::WrapEnvelope(_) => "bad_wrap_envelope",
            Self::BadSeal(_) | Self::SealKind { .. } => "bad_seal",
            Self::SealEnvelope(_) => "bad_seal_envelope",
            Self::BadRumor(_) | Self::RumorId => "bad_rumor",
            Self::Impersonation => "impersonation",
            Self::UnexpectedKind { .. } => "unexpected_kind",
        }
    }
}

impl fmt::Display for UnwrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotGiftWrap { kind } => write!(f, "not a gift wrap: kind {kind}, not 1059"),
            Self::NotForMe => f.write_str("the gift wrap is addressed to another key"),
            Self::WrapEnvelope(e) => write!(f, "the gift wrap does not decrypt: {e}"),
            Self::BadSeal(e) => write!(f, "the seal is not a valid signed event: {e}"),
            Self::SealKind { kind } => write!(f, "the seal has kind {kind}, not 13"),
            Self::SealEnvelope(e) => write!(f, "the seal does not decrypt: {e}"),
            Self::BadRumor(member) => {
                write!(
                    f,
                    "the rumor is malformed: member `{member}` is missing or ill-formed"
                )
            }
            Self::RumorId => f.write_str("the rumor's id is not the hash of its content"),
            Self::Impersonation => {
                f.write_str("the rumor's author is not the seal's signer (impersonation attempt)")
            }
            Self::UnexpectedKind { kind } => {
                write!(
                    f,
                    "the rumor has kind {kind}, neither a message (14) nor a KEZ file body ({KIND_FILE_BODY})"
                )
            }
        }
    }
}

impl std::error::Error for UnwrapError {}

/// What a wrap held, once every check passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unwrapped {
    /// The sender: the seal's signer, which is also the rumor's author.
    pub sender: [u8; 32],
    /// The message.
    pub rumor: Rumor,
    /// The id of the wrap event it came in (for deduplication).
    pub wrap_id: [u8; 32],
}

/// Wraps `rumor` from `sender` to `recipient`, with randomness from the OS (nonces, backdating,
/// the one-time key, signing aux). Feature `os-rng`; [`wrap_with`] takes the bytes from the
/// caller.
///
/// # Errors
/// As [`wrap_with`]; [`WrapError::NoRandomKey`] too when the OS has no randomness to give.
#[cfg(feature = "os-rng")]
pub fn wrap(
    sender: &SecretKey,
    recipient: &[u8; 32],
    rumor: &Rumor,
    now: u64,
) -> Result<Event, WrapError> {
    let mut failed = false;
    let mut os = |buf: &mut [u8]| {
        if getrandom::fill(buf).is_err() {
            failed = true;
        }
    };
    let event = wrap_with(sender, recipient, rumor, now, &mut os);
    if failed {
        return Err(WrapError::NoRandomKey);
    }
    event
}

/// Wraps `rumor` with the bytes `rng` gives, drawn in this order (so tests and vectors are
/// deterministic): the seal's nonce (32), the seal's backdating (8, big-endian, modulo
/// [`BACKDATE_WINDOW`]), the seal signature's aux (32), the one-time secret (32, drawn again
/// while not a valid key), the wrap's nonce (32), the wrap's backdating (8), the wrap
/// signature's aux (32).
///
/// # Errors
/// [`WrapError::BadKey`] for a sender key that is not BIP-340 or a recipient that is not a
/// curve point; [`WrapError::TooLarge`] when the rumor or the seal is longer than
/// [`MAX_ENVELOPE_PLAINTEXT`]; [`WrapError::NoRandomKey`] when `rng` gives no valid one-time
/// key in 8 draws.
pub fn wrap_with(
    sender: &SecretKey,
    recipient: &[u8; 32],
    rumor: &Rumor,
    now: u64,
    rng: &mut dyn FnMut(&mut [u8]),
) -> Result<Event, WrapError> {
    if sender.public().alg() != Alg::Bip340 {
        return Err(WrapError::BadKey);
    }
    let rumor_json = rumor.to_json();
    if rumor_json.len() > MAX_ENVELOPE_PLAINTEXT {
        return Err(WrapError::TooLarge {
            len: rumor_json.len(),
        });
    }
    let seal_key = ConversationKey::derive(&sender.secret_bytes(), recipient)
        .map_err(|_| WrapError::BadKey)?;
    let seal_content = encrypt(&seal_key, rng, rumor_json.as_bytes())?;
    drop(rumor_json);
    let seal_time = backdated(now, rng);
    let seal_aux = draw32(rng);
    let seal = Event::sign_with_aux(
        sender,
        &seal_aux,
        seal_time,
        KIND_SEAL,
        vec![],
        seal_content,
    )
    .map_err(|_| WrapError::BadKey)?;
    let seal_json = seal.to_json();
    drop(seal);
    if seal_json.len() > MAX_ENVELOPE_PLAINTEXT {
        return Err(WrapError::TooLarge {
            len: seal_json.len(),
        });
    }

    let one_time = (0..ONE_TIME_KEY_TRIES)
        .find_map(|_| SecretKey::from_bytes(Alg::Bip340, &draw32(rng)).ok())
        .ok_or(WrapError::NoRandomKey)?;
    let wrap_key = ConversationKey::derive(&one_time.secret_bytes(), recipient)
        .map_err(|_| WrapError::BadKey)?;
    let wrap_content = encrypt(&wrap_key, rng, seal_json.as_bytes())?;
    drop(seal_json);
    let wrap_time = backdated(now, rng);
    let wrap_aux = draw32(rng);
    Event::sign_with_aux(
        &one_time,
        &wrap_aux,
        wrap_time,
        KIND_GIFT_WRAP,
        vec![vec!["p".to_owned(), hex(recipient)]],
        wrap_content,
    )
    .map_err(|_| WrapError::NoRandomKey)
}

/// Unwraps a gift wrap addressed to `me`. The checks run in the order of SPEC.md §16.5 and the
/// first failure decides. The wrap event's own id and signature are not checked here (that is
/// [`Event::from_value`]'s job as it arrives; the one-time key proves nothing anyway): what
/// authenticates the message is the seal's signature.
///
/// # Errors
/// [`UnwrapError`], one variant per check.
pub fn unwrap(me: &SecretKey, wrap: &Event) -> Result<Unwrapped, UnwrapError> {
    if wrap.kind != KIND_GIFT_WRAP {
        return Err(UnwrapError::NotGiftWrap { kind: wrap.kind });
    }
    let mine = hex(me.public().as_bytes());
    if me.public().alg() != Alg::Bip340 || wrap.tag("p") != Some(mine.as_str()) {
        return Err(UnwrapError::NotForMe);
    }
    let secret = me.secret_bytes();

    let wrap_key =
        ConversationKey::derive(&secret, &wrap.pubkey).map_err(UnwrapError::WrapEnvelope)?;
    let seal = {
        let mut buf = bounded_copy(&wrap.content).map_err(UnwrapError::WrapEnvelope)?;
        let plain =
            nip44::decrypt_in_place(&wrap_key, &mut buf).map_err(UnwrapError::WrapEnvelope)?;
        let value: Value = serde_json::from_slice(plain)
            .map_err(|_| UnwrapError::BadSeal(EventError::Malformed("json")))?;
        Event::from_value(&value).map_err(UnwrapError::BadSeal)?
    };
    if seal.kind != KIND_SEAL {
        return Err(UnwrapError::SealKind { kind: seal.kind });
    }

    let seal_key =
        ConversationKey::derive(&secret, &seal.pubkey).map_err(UnwrapError::SealEnvelope)?;
    let rumor = {
        let mut buf = bounded_copy(&seal.content).map_err(UnwrapError::SealEnvelope)?;
        let plain =
            nip44::decrypt_in_place(&seal_key, &mut buf).map_err(UnwrapError::SealEnvelope)?;
        let value: Value =
            serde_json::from_slice(plain).map_err(|_| UnwrapError::BadRumor("json"))?;
        Rumor::from_value(&value)?
    };
    if event_id(
        &rumor.pubkey,
        rumor.created_at,
        rumor.kind,
        &rumor.tags,
        &rumor.content,
    ) != rumor.id
    {
        return Err(UnwrapError::RumorId);
    }
    if rumor.pubkey != seal.pubkey {
        return Err(UnwrapError::Impersonation);
    }
    if rumor.kind != KIND_DM && rumor.kind != KIND_FILE_BODY {
        return Err(UnwrapError::UnexpectedKind { kind: rumor.kind });
    }
    Ok(Unwrapped {
        sender: seal.pubkey,
        rumor,
        wrap_id: wrap.id,
    })
}

/// The exact length of the JSON of the wrap event (as [`Event::to_json`] writes it) around a
/// rumor of `kind` whose content is `body_len_escaped` bytes once JSON-escaped (quotes not
/// counted), as [`wrap`] makes it for one recipient, for `created_at` values of 10 digits
/// (2001 to 2286). A relay that counts the whole `["EVENT",<event>]` message sees 10 bytes
/// more. The result is arithmetic: a wrap of a rumor longer than the envelope allows is not
/// made at all ([`WrapError::TooLarge`]).
#[must_use]
pub fn wrapped_len(kind: u32, body_len_escaped: usize) -> usize {
    wrap_len(seal_len(rumor_len(kind, body_len_escaped)))
}

/// The longest escaped body (in bytes) of a rumor of `kind` whose wrap is at most `limit`
/// bytes of JSON ([`wrapped_len`]) and can be made at all (rumor and seal within
/// [`MAX_ENVELOPE_PLAINTEXT`]); `None` when not even an empty body fits.
#[must_use]
pub fn max_body_len(kind: u32, limit: usize) -> Option<usize> {
    let fits = |len: usize| {
        let rumor = rumor_len(kind, len);
        let seal = seal_len(rumor);
        rumor <= MAX_ENVELOPE_PLAINTEXT && seal <= MAX_ENVELOPE_PLAINTEXT && wrap_len(seal) <= limit
    };
    if !fits(0) {
        return None;
    }
    // the lengths grow with the body: the largest fitting one by bisection
    let (mut lo, mut hi) = (0usize, MAX_ENVELOPE_PLAINTEXT);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Some(lo)
}

/// The longest escaped body (in bytes) of a rumor of `kind` whose rumor and seal both stay
/// under 65,536 bytes, so that neither envelope needs NIP-44's large-payload form: a text
/// message within this length is readable by NIP-17 clients that predate that form (40,682
/// bytes for kind 14).
#[must_use]
pub fn short_form_max_body_len(kind: u32) -> usize {
    let fits = |len: usize| {
        let rumor = rumor_len(kind, len);
        rumor < nip44::EXTENDED_PREFIX_THRESHOLD
            && seal_len(rumor) < nip44::EXTENDED_PREFIX_THRESHOLD
    };
    let (mut lo, mut hi) = (0usize, nip44::EXTENDED_PREFIX_THRESHOLD);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// The tag list of a rumor or wrap for one recipient, with a placeholder key (only lengths
/// matter).
fn p_tag() -> [Vec<String>; 1] {
    [vec!["p".to_owned(), "0".repeat(64)]]
}

/// The length of the rumor JSON ([`Rumor::to_json`]) for a body of `body_len_escaped` bytes.
fn rumor_len(kind: u32, body_len_escaped: usize) -> usize {
    // {"id":"<64>","pubkey":"<64>","created_at":T,"kind":K,"tags":[["p","<64>"]],"content":"C"}
    r#"{"id":"","pubkey":"","created_at":,"kind":,"tags":,"content":""}"#.len()
        + 64
        + 64
        + TIME_DIGITS
        + decimal_len(u64::from(kind))
        + tags_len(&p_tag())
        + body_len_escaped
}

/// The length of the seal JSON around a rumor JSON of `rumor_len` bytes (base64 content:
/// nothing to escape).
fn seal_len(rumor_len: usize) -> usize {
    event_json_len(
        nip44::payload_b64_len(rumor_len),
        &[],
        TEN_DIGITS,
        KIND_SEAL,
    )
}

/// The length of the wrap JSON around a seal JSON of `seal_len` bytes.
fn wrap_len(seal_len: usize) -> usize {
    event_json_len(
        nip44::payload_b64_len(seal_len),
        &p_tag(),
        TEN_DIGITS,
        KIND_GIFT_WRAP,
    )
}

/// `now` minus a uniform offset in `[0, BACKDATE_WINDOW)` drawn from `rng`.
fn backdated(now: u64, rng: &mut dyn FnMut(&mut [u8])) -> u64 {
    let mut b = [0u8; 8];
    rng(&mut b);
    // the modulo bias is below 2^-46: negligible for hiding a time
    now.saturating_sub(u64::from_be_bytes(b) % BACKDATE_WINDOW)
}

fn draw32(rng: &mut dyn FnMut(&mut [u8])) -> [u8; 32] {
    let mut b = [0u8; 32];
    rng(&mut b);
    b
}

/// Encrypts `plaintext` with a nonce from `rng` into a base64 envelope.
fn encrypt(
    key: &ConversationKey,
    rng: &mut dyn FnMut(&mut [u8]),
    plaintext: &[u8],
) -> Result<String, WrapError> {
    let nonce = draw32(rng);
    let mut out = vec![0u8; nip44::payload_b64_len(plaintext.len())];
    let len = nip44::encrypt_base64(key, &nonce, plaintext, &mut out)
        .map_err(WrapError::Envelope)?
        .len();
    out.truncate(len);
    String::from_utf8(out).map_err(|_| WrapError::Envelope(kez_core::Error::BadEnvelope))
}

/// A mutable copy of an envelope text for in-place decryption, refused before any allocation
/// when it is longer than an envelope may be.
fn bounded_copy(text: &str) -> Result<Vec<u8>, kez_core::Error> {
    if text.len() > MAX_ENVELOPE_PAYLOAD_B64 {
        return Err(kez_core::Error::TooLarge {
            limit: MAX_ENVELOPE_PAYLOAD_B64,
        });
    }
    Ok(text.as_bytes().to_vec())
}
