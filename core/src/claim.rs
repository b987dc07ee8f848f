//! The claim object: parse (borrowing), sign, verify (SPEC.md §5 and §7).
//!
//! Verifying a JSON claim allocates nothing: the parser borrows from the input, the subject is
//! checked in a stack buffer, and the signing input is canonicalized straight into SHA-256.

use core::fmt;

use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::jcs::{self, Sink};
use crate::keys::{KeyRef, SecretKey, Verifier, write_hex};
use crate::status::Status;
use crate::subject::{self, MAX_SUBJECT};

/// The value of a claim's `type` member.
pub const CLAIM_TYPE: &str = "kez-claim-v1";
/// The domain tag of the claim signing input.
pub const CLAIM_TAG: &[u8] = b"kez/claim/v1";
/// Largest accepted claim JSON text, in bytes.
pub const MAX_CLAIM_JSON: usize = 65_536;
/// Largest integer accepted for `iat`/`exp` (2^53 - 1, exact in every JSON implementation).
pub const MAX_INT: u64 = (1 << 53) - 1;

/// A parsed claim, borrowing from its JSON text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim<'a> {
    key: KeyRef,
    verifier: Verifier,
    digest: [u8; 32],
    subject: &'a str,
    iat: u64,
    exp: Option<u64>,
    sig: [u8; 64],
    json: &'a [u8],
}

impl<'a> Claim<'a> {
    /// Parses a claim from JSON text (any whitespace; members in any order).
    ///
    /// # Errors
    /// A JSON class for ill-formed JSON, [`Error::BadClaim`] for a wrong shape,
    /// [`Error::BadKey`] / [`Error::BadSubject`] for a bad `key` / `subject`,
    /// [`Error::TooLarge`] above [`MAX_CLAIM_JSON`].
    pub fn parse(json: &'a [u8]) -> Result<Self, Error> {
        if json.len() > MAX_CLAIM_JSON {
            return Err(Error::TooLarge {
                limit: MAX_CLAIM_JSON,
            });
        }
        // One canonicalization pass validates everything (duplicates at any depth included) and
        // yields the signing digest; the member walk below relies on it having succeeded. It
        // converts no numbers: the walk rejects every number but a `claim-int` (§5.1), which is
        // canonical as written, so the digest is exact whenever the parse succeeds.
        let mut h = Sha256::new();
        h.update(CLAIM_TAG);
        h.update([0u8]);
        jcs::canonicalize_integers_without(json, Some("sig"), &mut h)?;
        let digest: [u8; 32] = h.finalize().into();
        let start = json
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .unwrap_or(0);
        let mut ty = None;
        let mut key = None;
        let mut subject = None;
        let mut iat = None;
        let mut exp = None;
        let mut sig = None;
        for m in jcs::Members::new(json, start).ok_or(Error::BadClaim)? {
            let m = m?;
            let slot: &mut Option<&[u8]> = if m.name_is("type") {
                &mut ty
            } else if m.name_is("key") {
                &mut key
            } else if m.name_is("subject") {
                &mut subject
            } else if m.name_is("iat") {
                &mut iat
            } else if m.name_is("exp") {
                &mut exp
            } else if m.name_is("sig") {
                &mut sig
            } else {
                return Err(Error::BadClaim);
            };
            *slot = Some(m.value);
        }
        if plain_string(ty.ok_or(Error::BadClaim)?)? != CLAIM_TYPE {
            return Err(Error::BadClaim);
        }
        let (key, verifier) = KeyRef::parse_verifier(plain_string(key.ok_or(Error::BadClaim)?)?)?;
        let subject = plain_string(subject.ok_or(Error::BadClaim)?)?;
        subject::check_normalized(subject)?;
        let iat = integer(iat.ok_or(Error::BadClaim)?)?;
        let exp = exp.map(integer).transpose()?;
        if exp.is_some_and(|e| e <= iat) {
            return Err(Error::BadClaim);
        }
        let mut sig_bytes = [0u8; 64];
        crate::keys::decode_hex_lower(
            plain_string(sig.ok_or(Error::BadClaim)?)?.as_bytes(),
            &mut sig_bytes,
        )
        .map_err(|()| Error::BadClaim)?;
        Ok(Self {
            key,
            verifier,
            digest,
            subject,
            iat,
            exp,
            sig: sig_bytes,
            json,
        })
    }

    /// The signing key.
    #[must_use]
    pub const fn key(&self) -> &KeyRef {
        &self.key
    }

    /// The normalized subject, `channel:handle`.
    #[must_use]
    pub const fn subject(&self) -> &'a str {
        self.subject
    }

    /// Issued-at, Unix seconds.
    #[must_use]
    pub const fn iat(&self) -> u64 {
        self.iat
    }

    /// Expires-at, Unix seconds, if any.
    #[must_use]
    pub const fn exp(&self) -> Option<u64> {
        self.exp
    }

    /// The 64-byte signature.
    #[must_use]
    pub const fn sig(&self) -> &[u8; 64] {
        &self.sig
    }

    /// The JSON text this claim was parsed from.
    #[must_use]
    pub const fn json(&self) -> &'a [u8] {
        self.json
    }

    /// SHA-256(`kez/claim/v1` || 0x00 || JCS(claim without `sig`)), computed while parsing.
    #[must_use]
    pub const fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// Writes the claim's canonical JSON (JCS) into `sink`.
    ///
    /// # Errors
    /// The sink's [`Error::TooLarge`].
    pub fn write_canonical<S: Sink + ?Sized>(&self, sink: &mut S) -> Result<(), Error> {
        jcs::canonicalize(self.json, sink)
    }

    /// Checks the signature, then expiry against the caller's `now`.
    #[must_use]
    pub fn verify(&self, now: u64) -> Status {
        self.status(self.verifier.verify(&self.digest, &self.sig), now)
    }

    /// The status once the signature has been checked (`sig_ok`): expiry against `now`.
    pub(crate) fn status(&self, sig_ok: bool, now: u64) -> Status {
        if !sig_ok {
            return Status::Invalid;
        }
        if self.exp.is_some_and(|exp| now >= exp) {
            return Status::Expired;
        }
        Status::Valid
    }

    /// The decoded key, ready to verify.
    #[cfg(feature = "batch")]
    pub(crate) const fn verifier(&self) -> &Verifier {
        &self.verifier
    }
}

/// SHA-256( tag || 0x00 || JCS(json without its top-level "sig") ).
///
/// # Errors
/// The JSON error classes of [`jcs::canonicalize`].
pub fn signing_digest(tag: &[u8], json: &[u8]) -> Result<[u8; 32], Error> {
    let mut h = Sha256::new();
    h.update(tag);
    h.update([0u8]);
    jcs::canonicalize_without(json, Some("sig"), &mut h)?;
    Ok(h.finalize().into())
}

/// Parses and verifies a JSON claim in one step: the allocation-free verification path.
///
/// # Errors
/// As [`Claim::parse`]; a failed signature is `Ok((_, Status::Invalid))`, not an error.
pub fn verify_json(json: &[u8], now: u64) -> Result<(Claim<'_>, Status), Error> {
    let claim = Claim::parse(json)?;
    let status = claim.verify(now);
    Ok((claim, status))
}

/// A string value that holds no escapes (all claim strings are plain ASCII); `Error::BadClaim`
/// otherwise.
fn plain_string(value: &[u8]) -> Result<&str, Error> {
    plain_string_or(value, Error::BadClaim)
}

/// A string value that holds no escapes, or `err` (claims and file bodies share this rule).
pub(crate) fn plain_string_or(value: &[u8], err: Error) -> Result<&str, Error> {
    let inner = value
        .strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .ok_or(err)?;
    if inner.contains(&b'\\') {
        return Err(err);
    }
    core::str::from_utf8(inner).map_err(|_| err)
}

/// `0|[1-9][0-9]*`, at most 2^53 - 1; `Error::BadClaim` otherwise.
fn integer(value: &[u8]) -> Result<u64, Error> {
    integer_or(value, Error::BadClaim)
}

/// `0|[1-9][0-9]*`, at most 2^53 - 1, or `err` (claims and file bodies share this rule).
pub(crate) fn integer_or(value: &[u8], err: Error) -> Result<u64, Error> {
    let ok = !value.is_empty()
        && value.iter().all(u8::is_ascii_digit)
        && (value == b"0" || value.first() != Some(&b'0'))
        && value.len() <= 16;
    if !ok {
        return Err(err);
    }
    let n = value.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    if n > MAX_INT { Err(err) } else { Ok(n) }
}

/// The parts of a claim before signing.
#[derive(Clone, Copy, Debug)]
pub struct ClaimDraft<'s> {
    /// The subject, in any accepted input form (it is normalized before signing).
    pub subject: &'s str,
    /// Issued-at, Unix seconds.
    pub iat: u64,
    /// Optional expiry, Unix seconds; must be after `iat`.
    pub exp: Option<u64>,
}

impl ClaimDraft<'_> {
    /// Normalizes the subject, signs, and writes the signed claim as canonical JSON into `sink`.
    /// `aux` is the BIP-340 auxiliary randomness (unused by Ed25519).
    ///
    /// # Errors
    /// [`Error::BadSubject`], [`Error::BadClaim`] (`exp <= iat`, integers above 2^53 - 1),
    /// or the sink's [`Error::TooLarge`].
    pub fn sign<S: Sink + ?Sized>(
        &self,
        key: &SecretKey,
        aux: &[u8; 32],
        sink: &mut S,
    ) -> Result<(), Error> {
        let mut buf = [0u8; MAX_SUBJECT];
        let subject = subject::normalize(self.subject, &mut buf)?;
        if self.iat > MAX_INT || self.exp.is_some_and(|e| e <= self.iat || e > MAX_INT) {
            return Err(Error::BadClaim);
        }
        let unsigned = Fields {
            key: key.public(),
            subject,
            iat: self.iat,
            exp: self.exp,
            sig: None,
        };
        let mut h = Sha256::new();
        h.update(CLAIM_TAG);
        h.update([0u8]);
        unsigned.write(&mut h)?;
        let digest: [u8; 32] = h.finalize().into();
        let sig = key.sign_raw(&digest, aux)?;
        Fields {
            sig: Some(&sig),
            ..unsigned
        }
        .write(sink)
    }
}

/// Writes a claim's members (without `sig` when `sig` is `None`) in JCS order.
pub(crate) fn write_claim_fields<S: Sink + ?Sized>(
    sink: &mut S,
    key: &KeyRef,
    subject: &str,
    iat: u64,
    exp: Option<u64>,
    sig: Option<&[u8; 64]>,
) -> Result<(), Error> {
    Fields {
        key,
        subject,
        iat,
        exp,
        sig,
    }
    .write(sink)
}

/// Writes a claim's members in JCS order. Every string here is plain ASCII that needs no
/// escaping, so this is exactly the JCS form (a test checks it against the canonicalizer).
struct Fields<'k> {
    key: &'k KeyRef,
    subject: &'k str,
    iat: u64,
    exp: Option<u64>,
    sig: Option<&'k [u8; 64]>,
}

impl Fields<'_> {
    fn write<S: Sink + ?Sized>(&self, sink: &mut S) -> Result<(), Error> {
        let mut w = FmtSink { sink, err: None };
        let r = self.write_fmt(&mut w);
        match (r, w.err) {
            (_, Some(e)) => Err(e),
            (Err(_), None) => Err(Error::BadClaim),
            (Ok(()), None) => Ok(()),
        }
    }

    fn write_fmt(&self, w: &mut dyn fmt::Write) -> fmt::Result {
        w.write_char('{')?;
        if let Some(exp) = self.exp {
            write!(w, "\"exp\":{exp},")?;
        }
        write!(w, "\"iat\":{},\"key\":\"{}\",", self.iat, self.key)?;
        if let Some(sig) = self.sig {
            w.write_str("\"sig\":\"")?;
            write_hex(w, sig)?;
            w.write_str("\",")?;
        }
        write!(
            w,
            "\"subject\":\"{}\",\"type\":\"{CLAIM_TYPE}\"}}",
            self.subject
        )
    }
}

/// Adapts a [`Sink`] to `fmt::Write`, keeping the sink's error.
pub(crate) struct FmtSink<'s, S: Sink + ?Sized> {
    pub(crate) sink: &'s mut S,
    pub(crate) err: Option<Error>,
}

impl<S: Sink + ?Sized> fmt::Write for FmtSink<'_, S> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.sink.write(s.as_bytes()).map_err(|e| {
            self.err = Some(e);
            fmt::Error
        })
    }
}
