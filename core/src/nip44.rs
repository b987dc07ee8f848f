//! The message envelope: NIP-44 version 2, with its large-payload form (SPEC.md §16.2).
//!
//! Everything works over caller buffers and allocates nothing. Encryption takes the nonce from
//! the caller (the core has no randomness) and writes the payload, raw or base64, into the
//! caller's buffer; decryption decodes the base64 in place, checks the MAC in constant time
//! before anything else touches the ciphertext, decrypts in place and returns the plaintext as
//! a slice of the same buffer.

use base64ct::{Base64, Encoding as _};
use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit as _, StreamCipher as _};
use core::fmt;
use hkdf::Hkdf;
use hmac::{Hmac, Mac as _};
use k256::elliptic_curve::group::Group as _;
use k256::elliptic_curve::point::AffineCoordinates as _;
use sha2::Sha256;

use crate::error::Error;

/// The version byte of the payloads this module reads and writes.
pub const NIP44_VERSION: u8 = 2;

/// The largest plaintext KEZ encrypts or accepts in one envelope, in bytes.
///
/// A file chunk carries at most [`crate::MAX_CHUNK_SIZE`] (80 KiB) raw bytes; base64 in the
/// chunk body makes that about 110 KB of rumor, and the seal that wraps the encrypted rumor is
/// about 150 KB of JSON (SPEC.md §16.2). 256 KiB holds both layers with room to spare and keeps
/// a decrypting receiver's buffer bounded.
pub const MAX_ENVELOPE_PLAINTEXT: usize = 262_144;

/// Plaintexts at least this long use the 6-byte length prefix.
pub const EXTENDED_PREFIX_THRESHOLD: usize = 65_536;

/// The smallest well-formed raw payload: version, nonce, 2-byte prefix, 32 padded bytes, MAC.
const MIN_PAYLOAD: usize = 1 + 32 + 2 + 32 + 32;
/// The smallest well-formed base64 payload.
const MIN_PAYLOAD_B64: usize = 132;

/// The largest raw payload of a plaintext of at most [`MAX_ENVELOPE_PLAINTEXT`] bytes.
pub const MAX_ENVELOPE_PAYLOAD: usize = payload_len(MAX_ENVELOPE_PLAINTEXT);
/// The largest base64 payload of a plaintext of at most [`MAX_ENVELOPE_PLAINTEXT`] bytes.
pub const MAX_ENVELOPE_PAYLOAD_B64: usize = payload_b64_len(MAX_ENVELOPE_PLAINTEXT);

type HmacSha256 = Hmac<Sha256>;

/// NIP-44's `calc_padded_len`: the padded length of a plaintext of `len` bytes (length prefix
/// not included). Defined for `len` ≥ 1; `len` = 0 gives 32.
#[must_use]
pub const fn padded_len(len: usize) -> usize {
    if len <= 32 {
        return 32;
    }
    // next power of two above len - 1, so a power of two maps onto itself
    let next_power = 1usize << (usize::BITS - (len - 1).leading_zeros());
    let chunk = if next_power <= 256 {
        32
    } else {
        next_power / 8
    };
    chunk * ((len - 1) / chunk + 1)
}

/// The length prefix of a plaintext of `len` bytes: 2, or 6 from
/// [`EXTENDED_PREFIX_THRESHOLD`] on.
#[must_use]
pub const fn prefix_len(len: usize) -> usize {
    if len < EXTENDED_PREFIX_THRESHOLD {
        2
    } else {
        6
    }
}

/// The raw payload length for a plaintext of `len` bytes:
/// version + nonce + prefix + padded plaintext + MAC.
#[must_use]
pub const fn payload_len(len: usize) -> usize {
    1 + 32 + prefix_len(len) + padded_len(len) + 32
}

/// The base64 (padded) payload length for a plaintext of `len` bytes.
#[must_use]
pub const fn payload_b64_len(len: usize) -> usize {
    payload_len(len).div_ceil(3) * 4
}

/// The symmetric key two parties share (NIP-44 `conversation_key`). Its Debug output is
/// redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct ConversationKey([u8; 32]);

impl fmt::Debug for ConversationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConversationKey(..)")
    }
}

impl ConversationKey {
    /// Derives the key from our secret key and the peer's x-only public key: the x coordinate
    /// of the secp256k1 ECDH point, then HKDF-extract (SHA-256) with the salt `nip44-v2`.
    /// Either side derives the same key.
    ///
    /// # Errors
    /// [`Error::BadKey`] when the secret is 0 or not below the group order, or the public key
    /// is not the x coordinate of a curve point.
    pub fn derive(secret: &[u8; 32], peer: &[u8; 32]) -> Result<Self, Error> {
        let secret = k256::SecretKey::from_bytes(secret.into()).map_err(|_| Error::BadKey)?;
        let peer = k256::schnorr::VerifyingKey::from_bytes(peer).map_err(|_| Error::BadKey)?;
        let shared = k256::ProjectivePoint::from(*peer.as_affine()) * *secret.to_nonzero_scalar();
        if bool::from(shared.is_identity()) {
            return Err(Error::BadKey);
        }
        let x = shared.to_affine().x();
        let (prk, _) = Hkdf::<Sha256>::extract(Some(b"nip44-v2"), &x);
        let mut key = [0u8; 32];
        key.copy_from_slice(&prk);
        Ok(Self(key))
    }

    /// Wraps 32 bytes already derived.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key's bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The per-message keys for `nonce` (HKDF-expand to 76 bytes).
    #[must_use]
    pub fn message_keys(&self, nonce: &[u8; 32]) -> MessageKeys {
        let mut okm = [0u8; 76];
        // 76 bytes is far below HKDF-SHA256's 8160-byte limit, and a 32-byte PRK is valid.
        if let Ok(hk) = Hkdf::<Sha256>::from_prk(&self.0) {
            let _fits = hk.expand(nonce, &mut okm);
        }
        let mut keys = MessageKeys {
            chacha_key: [0; 32],
            chacha_nonce: [0; 12],
            hmac_key: [0; 32],
        };
        let (a, rest) = okm.split_at(32);
        let (b, c) = rest.split_at(12);
        keys.chacha_key.copy_from_slice(a);
        keys.chacha_nonce.copy_from_slice(b);
        keys.hmac_key.copy_from_slice(c);
        keys
    }
}

/// The three keys of one message. Its Debug output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct MessageKeys {
    chacha_key: [u8; 32],
    chacha_nonce: [u8; 12],
    hmac_key: [u8; 32],
}

impl fmt::Debug for MessageKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MessageKeys(..)")
    }
}

impl MessageKeys {
    /// The ChaCha20 key (bytes 0..32 of the expansion).
    #[must_use]
    pub const fn chacha_key(&self) -> &[u8; 32] {
        &self.chacha_key
    }

    /// The ChaCha20 nonce (bytes 32..44).
    #[must_use]
    pub const fn chacha_nonce(&self) -> &[u8; 12] {
        &self.chacha_nonce
    }

    /// The HMAC-SHA256 key (bytes 44..76).
    #[must_use]
    pub const fn hmac_key(&self) -> &[u8; 32] {
        &self.hmac_key
    }

    fn cipher(&self) -> ChaCha20 {
        ChaCha20::new(&self.chacha_key.into(), &self.chacha_nonce.into())
    }

    fn mac(&self, nonce: &[u8], ciphertext: &[u8]) -> Result<HmacSha256, Error> {
        // HMAC takes keys of any length: this never fails
        let mut mac =
            <HmacSha256 as hmac::Mac>::new_from_slice(&self.hmac_key).map_err(|_| Error::BadMac)?;
        mac.update(nonce);
        mac.update(ciphertext);
        Ok(mac)
    }
}

/// Encrypts `plaintext` into `out` and returns the raw payload
/// (`0x02 || nonce || ciphertext || mac`), a prefix of `out`.
///
/// # Errors
/// [`Error::BadEnvelope`] for an empty plaintext, [`Error::TooLarge`] above
/// [`MAX_ENVELOPE_PLAINTEXT`] or when `out` is shorter than [`payload_len`].
pub fn encrypt<'o>(
    key: &ConversationKey,
    nonce: &[u8; 32],
    plaintext: &[u8],
    out: &'o mut [u8],
) -> Result<&'o [u8], Error> {
    let len = plaintext.len();
    if len == 0 {
        return Err(Error::BadEnvelope);
    }
    if len > MAX_ENVELOPE_PLAINTEXT {
        return Err(Error::TooLarge {
            limit: MAX_ENVELOPE_PLAINTEXT,
        });
    }
    let total = payload_len(len);
    let room = out.len();
    let out = out
        .get_mut(..total)
        .ok_or(Error::TooLarge { limit: room })?;
    let (head, rest) = out.split_at_mut(33);
    let (body, tag) = rest.split_at_mut(total - 33 - 32);
    head.fill(0);
    if let Some((v, n)) = head.split_first_mut() {
        *v = NIP44_VERSION;
        n.copy_from_slice(nonce);
    }
    let prefix = prefix_len(len);
    body.fill(0);
    let (pre, padded) = body.split_at_mut(prefix);
    // len ≤ MAX_ENVELOPE_PLAINTEXT < 2^32: both casts are exact
    #[allow(clippy::cast_possible_truncation)]
    if prefix == 2 {
        pre.copy_from_slice(&(len as u16).to_be_bytes());
    } else if let Some(be) = pre.get_mut(2..) {
        be.copy_from_slice(&(len as u32).to_be_bytes());
    }
    padded
        .get_mut(..len)
        .ok_or(Error::BadEnvelope)?
        .copy_from_slice(plaintext);
    let keys = key.message_keys(nonce);
    keys.cipher().apply_keystream(body);
    tag.copy_from_slice(&keys.mac(nonce, body)?.finalize().into_bytes());
    Ok(out)
}

/// Encrypts `plaintext` and writes the base64 payload (standard alphabet, padded) into `out`,
/// which must hold [`payload_b64_len`] bytes; no second buffer is needed.
///
/// # Errors
/// As [`encrypt`], with [`Error::TooLarge`] when `out` is shorter than [`payload_b64_len`].
pub fn encrypt_base64<'o>(
    key: &ConversationKey,
    nonce: &[u8; 32],
    plaintext: &[u8],
    out: &'o mut [u8],
) -> Result<&'o str, Error> {
    let raw_len = payload_len(plaintext.len());
    let b64_len = payload_b64_len(plaintext.len());
    if plaintext.len() > MAX_ENVELOPE_PLAINTEXT {
        return Err(Error::TooLarge {
            limit: MAX_ENVELOPE_PLAINTEXT,
        });
    }
    let room = out.len();
    let out = out
        .get_mut(..b64_len)
        .ok_or(Error::TooLarge { limit: room })?;
    // The raw payload goes at the end; encoding then runs front to back in place. Group j
    // writes bytes 4j..4j+4 and reads raw bytes off+3j..off+3j+3 with off = b64_len - raw_len
    // ≥ raw_len / 3, so a write never reaches raw bytes not yet read.
    let off = b64_len - raw_len;
    encrypt(
        key,
        nonce,
        plaintext,
        out.get_mut(off..).ok_or(Error::BadEnvelope)?,
    )?;
    let mut group = [0u8; 3];
    let mut j = 0;
    while j * 3 < raw_len {
        let take = (raw_len - j * 3).min(3);
        let src = out
            .get(off + j * 3..off + j * 3 + take)
            .ok_or(Error::BadEnvelope)?;
        let src_group = group.get_mut(..take).ok_or(Error::BadEnvelope)?;
        src_group.copy_from_slice(src);
        let dst = out.get_mut(j * 4..j * 4 + 4).ok_or(Error::BadEnvelope)?;
        Base64::encode(src_group, dst).map_err(|_| Error::BadEnvelope)?;
        j += 1;
    }
    core::str::from_utf8(out).map_err(|_| Error::BadEnvelope)
}

/// Decodes the base64 payload held in `buf` in place, then decrypts it in place (see
/// [`decrypt_raw_in_place`]). Returns the plaintext, a slice of `buf`.
///
/// # Errors
/// [`Error::TooLarge`] for a payload longer than [`MAX_ENVELOPE_PAYLOAD_B64`];
/// [`Error::BadEnvelope`] for an empty payload, one starting with `#` (a version this module
/// does not read), one shorter than 132 characters, bad base64, or any check of
/// [`decrypt_raw_in_place`]; [`Error::BadMac`] as there.
pub fn decrypt_in_place<'b>(key: &ConversationKey, buf: &'b mut [u8]) -> Result<&'b [u8], Error> {
    if buf.first().is_none_or(|&b| b == b'#') {
        return Err(Error::BadEnvelope);
    }
    if buf.len() > MAX_ENVELOPE_PAYLOAD_B64 {
        return Err(Error::TooLarge {
            limit: MAX_ENVELOPE_PAYLOAD_B64,
        });
    }
    if buf.len() < MIN_PAYLOAD_B64 {
        return Err(Error::BadEnvelope);
    }
    let raw_len = Base64::decode_in_place(buf)
        .map_err(|_| Error::BadEnvelope)?
        .len();
    let raw = buf.get_mut(..raw_len).ok_or(Error::BadEnvelope)?;
    decrypt_raw_in_place(key, raw)
}

/// Decrypts a raw payload in place and returns the plaintext, a slice of `payload`.
///
/// Order of checks: length (at least 99 bytes, at most [`MAX_ENVELOPE_PAYLOAD`]), version byte
/// 2, MAC (constant time) over nonce and ciphertext, then after decryption the length prefix
/// (2 bytes; 2 zero bytes then a big-endian u32 of at least 65,536), a plaintext length of 1 to
/// [`MAX_ENVELOPE_PLAINTEXT`], and a padded length equal to `padded_len` of it. The padding
/// bytes themselves are not checked (as in NIP-44); the MAC already covers them.
///
/// # Errors
/// [`Error::TooLarge`] above [`MAX_ENVELOPE_PAYLOAD`], [`Error::BadMac`] for a MAC that does
/// not verify, [`Error::BadEnvelope`] for any other failed check.
pub fn decrypt_raw_in_place<'b>(
    key: &ConversationKey,
    payload: &'b mut [u8],
) -> Result<&'b [u8], Error> {
    if payload.len() > MAX_ENVELOPE_PAYLOAD {
        return Err(Error::TooLarge {
            limit: MAX_ENVELOPE_PAYLOAD,
        });
    }
    if payload.len() < MIN_PAYLOAD {
        return Err(Error::BadEnvelope);
    }
    if payload.first() != Some(&NIP44_VERSION) {
        return Err(Error::BadEnvelope);
    }
    let body_len = payload.len() - 33 - 32;
    let (head, rest) = payload.split_at_mut(33);
    let (body, tag) = rest.split_at_mut(body_len);
    let mut nonce = [0u8; 32];
    nonce.copy_from_slice(head.get(1..).ok_or(Error::BadEnvelope)?);
    let keys = key.message_keys(&nonce);
    keys.mac(&nonce, body)?
        .verify_slice(tag)
        .map_err(|_| Error::BadMac)?;
    keys.cipher().apply_keystream(body);
    let (prefix, len) = match body {
        [0, 0, a, b, c, d, ..] => {
            let len = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
            if len < EXTENDED_PREFIX_THRESHOLD {
                return Err(Error::BadEnvelope);
            }
            (6, len)
        }
        [a, b, ..] => (2, usize::from(u16::from_be_bytes([*a, *b]))),
        _ => return Err(Error::BadEnvelope),
    };
    if len == 0 || len > MAX_ENVELOPE_PLAINTEXT || body.len() != prefix + padded_len(len) {
        return Err(Error::BadEnvelope);
    }
    body.get(prefix..prefix + len).ok_or(Error::BadEnvelope)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        clippy::cast_possible_truncation
    )]
    use super::*;

    #[test]
    fn padded_lengths() {
        for (n, p) in [(1, 32), (32, 32), (33, 64), (257, 320), (65_536, 65_536)] {
            assert_eq!(padded_len(n), p, "{n}");
        }
        assert_eq!(padded_len(MAX_ENVELOPE_PLAINTEXT), MAX_ENVELOPE_PLAINTEXT);
        assert_eq!(MAX_ENVELOPE_PAYLOAD, 1 + 32 + 6 + 262_144 + 32);
    }

    #[test]
    fn base64_in_place_matches_separate_encoding() {
        let key = ConversationKey::from_bytes([7; 32]);
        for len in [1, 2, 3, 31, 32, 33, 100, 65_535, 65_536, 70_001] {
            let pt: std::vec::Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let mut raw = std::vec![0u8; payload_len(len)];
            let raw = encrypt(&key, &[9; 32], &pt, &mut raw).unwrap().to_vec();
            let mut b64 = std::vec![0u8; payload_b64_len(len)];
            let s = encrypt_base64(&key, &[9; 32], &pt, &mut b64).unwrap();
            let mut want = std::vec![0u8; payload_b64_len(len)];
            assert_eq!(s, Base64::encode(&raw, &mut want).unwrap());
            let mut buf = s.as_bytes().to_vec();
            assert_eq!(decrypt_in_place(&key, &mut buf).unwrap(), &pt[..]);
        }
    }
}
