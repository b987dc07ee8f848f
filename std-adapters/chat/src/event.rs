//! NIP-01 events: serialization, id, signing and checking.
//!
//! TEMPORARY STAND-IN written on the relay-pool branch so that `pool` compiles and its tests
//! run: the real module is written on the wrapping branch with the same API (`Event`,
//! `to_json`, `from_value`, `sign`, `id_hex`). When both land, that module replaces this file.

use kez_core::{Alg, KeyRef, SecretKey};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// A signed nostr event (NIP-01).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// SHA-256 of the event's serialization.
    pub id: [u8; 32],
    /// The author's x-only public key.
    pub pubkey: [u8; 32],
    /// Unix seconds.
    pub created_at: u64,
    /// Event kind.
    pub kind: u32,
    /// Tags.
    pub tags: Vec<Vec<String>>,
    /// Content.
    pub content: String,
    /// BIP-340 signature over `id`.
    pub sig: [u8; 64],
}

/// Why an event could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventError {
    /// A member is missing or has the wrong type or length.
    Malformed(&'static str),
    /// The id is not the hash of the serialization.
    BadId,
    /// The signature does not verify.
    BadSig,
    /// The key cannot sign.
    Key,
}

impl core::fmt::Display for EventError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Malformed(what) => write!(f, "malformed event ({what})"),
            Self::BadId => f.write_str("event id does not match its content"),
            Self::BadSig => f.write_str("event signature does not verify"),
            Self::Key => f.write_str("the key cannot sign"),
        }
    }
}

impl std::error::Error for EventError {}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(
            DIGITS.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
        ));
        out.push(char::from(
            DIGITS.get(usize::from(b & 15)).copied().unwrap_or(b'0'),
        ));
    }
    out
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let hi = char::from(*pair.first()?).to_digit(16)?;
        let lo = char::from(*pair.get(1)?).to_digit(16)?;
        if pair.iter().any(u8::is_ascii_uppercase) {
            return None;
        }
        *byte = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

fn compute_id(
    pubkey: &[u8; 32],
    created_at: u64,
    kind: u32,
    tags: &[Vec<String>],
    content: &str,
) -> [u8; 32] {
    let serialized = json!([0, hex(pubkey), created_at, kind, tags, content]).to_string();
    Sha256::digest(serialized.as_bytes()).into()
}

impl Event {
    /// Signs a new event with `secret` (a BIP-340 key).
    ///
    /// # Errors
    /// [`EventError::Key`] when the key is not a BIP-340 key or cannot sign.
    pub fn sign(
        secret: &SecretKey,
        created_at: u64,
        kind: u32,
        tags: Vec<Vec<String>>,
        content: String,
    ) -> Result<Self, EventError> {
        if secret.public().alg() != Alg::Bip340 {
            return Err(EventError::Key);
        }
        let pubkey = *secret.public().as_bytes();
        let id = compute_id(&pubkey, created_at, kind, &tags, &content);
        let mut aux = [0u8; 32];
        getrandom::fill(&mut aux).map_err(|_| EventError::Key)?;
        let sig = secret.sign_raw(&id, &aux).map_err(|_| EventError::Key)?;
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

    /// The id in lowercase hex.
    #[must_use]
    pub fn id_hex(&self) -> String {
        hex(&self.id)
    }

    /// The event as a JSON object (NIP-01 wire form).
    #[must_use]
    pub fn to_json(&self) -> String {
        json!({
            "id": hex(&self.id),
            "pubkey": hex(&self.pubkey),
            "created_at": self.created_at,
            "kind": self.kind,
            "tags": self.tags,
            "content": self.content,
            "sig": hex(&self.sig),
        })
        .to_string()
    }

    /// Reads an event object and checks its id and signature.
    ///
    /// # Errors
    /// [`EventError`] saying what is wrong.
    pub fn from_value(value: &Value) -> Result<Self, EventError> {
        let get_str = |name: &'static str| {
            value
                .get(name)
                .and_then(Value::as_str)
                .ok_or(EventError::Malformed(name))
        };
        let id = unhex::<32>(get_str("id")?).ok_or(EventError::Malformed("id"))?;
        let pubkey = unhex::<32>(get_str("pubkey")?).ok_or(EventError::Malformed("pubkey"))?;
        let sig = unhex::<64>(get_str("sig")?).ok_or(EventError::Malformed("sig"))?;
        let content = get_str("content")?.to_owned();
        let created_at = value
            .get("created_at")
            .and_then(Value::as_u64)
            .ok_or(EventError::Malformed("created_at"))?;
        let kind = value
            .get("kind")
            .and_then(Value::as_u64)
            .and_then(|k| u32::try_from(k).ok())
            .ok_or(EventError::Malformed("kind"))?;
        let mut tags = Vec::new();
        for tag in value
            .get("tags")
            .and_then(Value::as_array)
            .ok_or(EventError::Malformed("tags"))?
        {
            let mut items = Vec::new();
            for item in tag.as_array().ok_or(EventError::Malformed("tags"))? {
                items.push(
                    item.as_str()
                        .ok_or(EventError::Malformed("tags"))?
                        .to_owned(),
                );
            }
            tags.push(items);
        }
        if compute_id(&pubkey, created_at, kind, &tags, &content) != id {
            return Err(EventError::BadId);
        }
        let key = KeyRef::from_bytes(Alg::Bip340, pubkey).map_err(|_| EventError::BadSig)?;
        if !key.verify_digest(&id, &sig) {
            return Err(EventError::BadSig);
        }
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
}
