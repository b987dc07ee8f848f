//! Key references, secret keys and the two signature suites (SPEC.md §3 and §4).
//!
//! A key reference has exactly one text form: `nostr:npub1…` (NIP-19 bech32, lowercase) or
//! `ed25519:<64 lowercase hex>`. Both suites sign a 32-byte digest; BIP-340 takes the aux
//! randomness from the caller (the core has no RNG), Ed25519 verification is strict.
//!
//! Each suite is a feature (`bip340`, `ed25519`; both default). A build without a suite still
//! reads and writes that suite's key references (their syntax: bech32 or hex), but it cannot
//! check that the key is a point of the curve, and it never verifies a signature of the suite:
//! [`verify_raw`] and [`KeyRef::verify_digest`] return false, a claim of the suite verifies as
//! [`crate::Status::Invalid`], a sigchain link it signs fails with [`Error::BadSignature`], and
//! [`SecretKey::from_bytes`] (so also key-file reading) fails with [`Error::BadKey`]. A device
//! that leaves a suite out rejects that suite's claims; it never accepts one unchecked.

use core::fmt;

use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32, Hrp};

#[cfg(feature = "bip340")]
use crate::bip340;
use crate::error::Error;

/// Which signature suite a key belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    /// secp256k1 with BIP-340 Schnorr signatures (nostr keys).
    Bip340,
    /// Ed25519 (RFC 8032), verified strictly.
    Ed25519,
}

impl Alg {
    /// The key-reference prefix word (`nostr` or `ed25519`).
    #[must_use]
    pub const fn keyref_prefix(self) -> &'static str {
        match self {
            Self::Bip340 => "nostr",
            Self::Ed25519 => "ed25519",
        }
    }
}

/// A public key reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyRef {
    alg: Alg,
    bytes: [u8; 32],
}

impl KeyRef {
    /// Builds a reference from raw key bytes, checking the key is a valid point (when the
    /// suite's feature is enabled; see the module docs).
    ///
    /// # Errors
    /// [`Error::BadKey`] when the bytes are not a valid public key of `alg`.
    pub fn from_bytes(alg: Alg, bytes: [u8; 32]) -> Result<Self, Error> {
        Self::parse_verifier_bytes(alg, bytes).map(|(r, _)| r)
    }

    /// Parses the one accepted text form (the point is checked when the suite's feature is
    /// enabled; see the module docs).
    ///
    /// # Errors
    /// [`Error::BadKey`] for any other text, or a key that is not a valid point.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::parse_verifier(text).map(|(r, _)| r)
    }

    /// The suite of this key.
    #[must_use]
    pub const fn alg(&self) -> Alg {
        self.alg
    }

    /// Raw key bytes (x-only for BIP-340, compressed Edwards point for Ed25519).
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// Verifies `sig` over the 32-byte signing digest. Always false for a suite whose feature
    /// is disabled.
    #[must_use]
    pub fn verify_digest(&self, digest: &[u8; 32], sig: &[u8; 64]) -> bool {
        verify_raw(self.alg, &self.bytes, digest, sig)
    }

    /// Parses the text form and keeps the decompressed point, so verifying does not decode the
    /// key a second time.
    pub(crate) fn parse_verifier(text: &str) -> Result<(Self, Verifier), Error> {
        let r = Self::parse_unchecked(text)?;
        Self::parse_verifier_bytes(r.alg, r.bytes)
    }

    /// Decodes the point (SPEC.md §3.2): a BIP-340 x coordinate on the curve; an Ed25519
    /// encoding that is canonical (re-encodes to the same bytes) and not of small order. A
    /// suite left out of the build gives `Verifier::Unsupported` without any check.
    pub(crate) fn parse_verifier_bytes(
        alg: Alg,
        bytes: [u8; 32],
    ) -> Result<(Self, Verifier), Error> {
        let v = match alg {
            #[cfg(feature = "bip340")]
            Alg::Bip340 => Verifier::Bip340(bip340::parse_key(&bytes).ok_or(Error::BadKey)?),
            #[cfg(feature = "ed25519")]
            Alg::Ed25519 => {
                let key =
                    ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| Error::BadKey)?;
                // canonical means y < p; the x = 0 encodings with the sign bit set are the
                // small-order points y = 1 and y = -1, which `is_weak` rejects anyway
                if key.is_weak() || !ed25519_y_canonical(&bytes) {
                    return Err(Error::BadKey);
                }
                Verifier::Ed25519(key)
            }
            #[cfg(not(all(feature = "bip340", feature = "ed25519")))]
            _ => Verifier::Unsupported,
        };
        Ok((Self { alg, bytes }, v))
    }

    /// Parses the text form without decoding the point (callers check it where it matters).
    pub(crate) fn parse_unchecked(text: &str) -> Result<Self, Error> {
        if let Some(npub) = text.strip_prefix("nostr:") {
            return Ok(Self {
                alg: Alg::Bip340,
                bytes: decode_npub(npub)?,
            });
        }
        if let Some(hex) = text.strip_prefix("ed25519:") {
            let mut bytes = [0u8; 32];
            decode_hex_lower(hex.as_bytes(), &mut bytes).map_err(|()| Error::BadKey)?;
            return Ok(Self {
                alg: Alg::Ed25519,
                bytes,
            });
        }
        Err(Error::BadKey)
    }
}

/// y (the encoding without its sign bit, little-endian) is below p = 2^255 - 19.
#[cfg(feature = "ed25519")]
pub(crate) fn ed25519_y_canonical(bytes: &[u8; 32]) -> bool {
    let [low, middle @ .., high] = bytes;
    !(high & 0x7f == 0x7f && middle.iter().all(|&b| b == 0xff) && *low >= 0xed)
}

/// A decoded public key, ready to verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verifier {
    #[cfg(feature = "bip340")]
    Bip340(bip340::Key),
    #[cfg(feature = "ed25519")]
    Ed25519(ed25519_dalek::VerifyingKey),
    /// A key of a suite left out of this build: nothing verifies under it.
    #[cfg(not(all(feature = "bip340", feature = "ed25519")))]
    Unsupported,
}

impl Verifier {
    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8; 64]) -> bool {
        match self {
            #[cfg(feature = "bip340")]
            Self::Bip340(key) => bip340::verify(key, msg, sig),
            #[cfg(feature = "ed25519")]
            Self::Ed25519(key) => key
                .verify_strict(msg, &ed25519_dalek::Signature::from_bytes(sig))
                .is_ok(),
            #[cfg(not(all(feature = "bip340", feature = "ed25519")))]
            Self::Unsupported => {
                let _ = (msg, sig);
                false
            }
        }
    }
}

impl fmt::Display for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.alg {
            Alg::Bip340 => {
                f.write_str("nostr:")?;
                bech32::encode_lower_to_fmt::<Bech32, _>(f, NPUB, &self.bytes)
                    .map_err(|_| fmt::Error)
            }
            Alg::Ed25519 => {
                f.write_str("ed25519:")?;
                write_hex(f, &self.bytes)
            }
        }
    }
}

const NPUB: Hrp = Hrp::parse_unchecked("npub");

/// Decodes a lowercase `npub1…` (without `nostr:`) to the 32 key bytes.
///
/// # Errors
/// [`Error::BadKey`] for anything but a lowercase, correctly padded 63-character npub.
pub fn decode_npub(npub: &str) -> Result<[u8; 32], Error> {
    if npub.len() != 63 || npub.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(Error::BadKey);
    }
    let checked = CheckedHrpstring::new::<Bech32>(npub).map_err(|_| Error::BadKey)?;
    if checked.hrp() != NPUB || checked.validate_segwit_padding().is_err() {
        return Err(Error::BadKey);
    }
    let mut out = [0u8; 32];
    let mut n = 0usize;
    for b in checked.byte_iter() {
        *out.get_mut(n).ok_or(Error::BadKey)? = b;
        n += 1;
    }
    if n == 32 { Ok(out) } else { Err(Error::BadKey) }
}

/// Verifies a raw signature over an arbitrary message, as the conformance profile's
/// `sig verify` does. Returns false for any defect (wrong lengths, invalid key, bad signature),
/// and for a suite whose feature is disabled.
#[must_use]
pub fn verify_raw(alg: Alg, public: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    match alg {
        #[cfg(feature = "bip340")]
        Alg::Bip340 => {
            // the backends take fixed-size arrays: a wrong length is simply not valid
            let Ok(public) = <&[u8; 32]>::try_from(public) else {
                return false;
            };
            let Ok(sig) = <&[u8; 64]>::try_from(sig) else {
                return false;
            };
            bip340::parse_key(public).is_some_and(|key| bip340::verify(&key, msg, sig))
        }
        #[cfg(feature = "ed25519")]
        Alg::Ed25519 => {
            let Ok(public) = <[u8; 32]>::try_from(public) else {
                return false;
            };
            let Ok(sig) = <[u8; 64]>::try_from(sig) else {
                return false;
            };
            let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&public) else {
                return false;
            };
            key.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&sig))
                .is_ok()
        }
        #[cfg(not(all(feature = "bip340", feature = "ed25519")))]
        _ => {
            let _ = (public, msg, sig);
            false
        }
    }
}

/// A secret key of either suite. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct SecretKey {
    inner: Secret,
    public: KeyRef,
    // as given: k256 keeps the even-y form of a BIP-340 secret, which must not leak into files
    secret: [u8; 32],
}

#[derive(Clone)]
enum Secret {
    #[cfg(feature = "bip340")]
    Bip340(k256::schnorr::SigningKey),
    #[cfg(feature = "ed25519")]
    Ed25519(ed25519_dalek::SigningKey),
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// Builds a key from its 32 secret bytes: the BIP-340 secret scalar, or the Ed25519 seed.
    ///
    /// # Errors
    /// [`Error::BadKey`] when a BIP-340 secret is zero or not below the group order, or when
    /// the suite's feature is disabled.
    pub fn from_bytes(alg: Alg, secret: &[u8; 32]) -> Result<Self, Error> {
        match alg {
            #[cfg(feature = "bip340")]
            Alg::Bip340 => {
                let sk =
                    k256::schnorr::SigningKey::from_bytes(secret).map_err(|_| Error::BadKey)?;
                let public = KeyRef {
                    alg,
                    bytes: sk.verifying_key().to_bytes().into(),
                };
                Ok(Self {
                    inner: Secret::Bip340(sk),
                    public,
                    secret: *secret,
                })
            }
            #[cfg(feature = "ed25519")]
            Alg::Ed25519 => {
                let sk = ed25519_dalek::SigningKey::from_bytes(secret);
                let public = KeyRef {
                    alg,
                    bytes: sk.verifying_key().to_bytes(),
                };
                Ok(Self {
                    inner: Secret::Ed25519(sk),
                    public,
                    secret: *secret,
                })
            }
            #[cfg(not(all(feature = "bip340", feature = "ed25519")))]
            _ => {
                let _ = secret;
                Err(Error::BadKey)
            }
        }
    }

    /// The public key reference.
    #[must_use]
    pub const fn public(&self) -> &KeyRef {
        &self.public
    }

    /// The 32 secret bytes (as accepted by [`SecretKey::from_bytes`]).
    #[must_use]
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.secret
    }

    /// Signs a raw message. `aux` is the BIP-340 auxiliary randomness (ignored by Ed25519,
    /// which is deterministic).
    ///
    /// # Errors
    /// [`Error::BadKey`] in the negligible case that BIP-340 derives a zero nonce.
    pub fn sign_raw(&self, msg: &[u8], aux: &[u8; 32]) -> Result<[u8; 64], Error> {
        #[cfg(not(feature = "bip340"))]
        let _ = aux;
        #[cfg(not(any(feature = "bip340", feature = "ed25519")))]
        let _ = msg;
        // a place match (with `ref`) stays valid when both suites are left out and `Secret`
        // has no variants
        match self.inner {
            #[cfg(feature = "bip340")]
            Secret::Bip340(ref sk) => sk
                .sign_raw(msg, aux)
                .map(|s| s.to_bytes())
                .map_err(|_| Error::BadKey),
            #[cfg(feature = "ed25519")]
            Secret::Ed25519(ref sk) => Ok(ed25519_dalek::Signer::sign(sk, msg).to_bytes()),
        }
    }
}

/// Writes bytes as lowercase hex.
pub(crate) fn write_hex(f: &mut dyn fmt::Write, bytes: &[u8]) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
        let lo = HEX.get(usize::from(b & 0xF)).copied().unwrap_or(b'0');
        f.write_char(char::from(hi))?;
        f.write_char(char::from(lo))?;
    }
    Ok(())
}

/// Decodes exactly `out.len() * 2` lowercase hex digits.
pub(crate) fn decode_hex_lower(hex: &[u8], out: &mut [u8]) -> Result<(), ()> {
    if hex.len() != out.len() * 2 {
        return Err(());
    }
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let nib = |d: u8| match d {
            b'0'..=b'9' => Ok(d - b'0'),
            b'a'..=b'f' => Ok(d - b'a' + 10),
            _ => Err(()),
        };
        let [h, l] = pair else { return Err(()) };
        *o = (nib(*h)? << 4) | nib(*l)?;
    }
    Ok(())
}
