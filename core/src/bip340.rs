//! BIP-340 verification backends (SPEC.md §3.2 keys, §4.1 verification).
//!
//! Every build verifies with k256 (pure Rust, no_std). With the `libsecp256k1` feature (std
//! builds), verification goes through libsecp256k1, the C library Bitcoin Core uses, wrapped by
//! the `secp256k1` crate in its no_std mode (one static context, so verifying still allocates
//! nothing). The feature selects the backend for every BIP-340 verification: key decoding, claim
//! and sigchain verification, and [`crate::verify_raw`]. Signing always uses k256.
//!
//! Both backends apply §4.1 exactly: libsecp256k1 accepts `s = 0`, which §4.1 rejects, so that
//! check is made here before calling it.

/// A decoded BIP-340 key (the x-only point, lifted with even y), as the selected backend holds it.
#[cfg(not(feature = "libsecp256k1"))]
pub(crate) type Key = k256::schnorr::VerifyingKey;
/// A decoded BIP-340 key (the x-only point, lifted with even y), as the selected backend holds it.
#[cfg(feature = "libsecp256k1")]
pub(crate) type Key = secp256k1::XOnlyPublicKey;

/// Decodes a key with the selected backend: `None` unless `x < p` and `lift_x` succeeds.
pub(crate) fn parse_key(bytes: &[u8; 32]) -> Option<Key> {
    #[cfg(feature = "libsecp256k1")]
    {
        libsecp::parse_key(bytes)
    }
    #[cfg(not(feature = "libsecp256k1"))]
    {
        k256_backend::parse_key(bytes)
    }
}

/// Verifies `sig` over `msg` (any length) under a decoded key, with the selected backend.
pub(crate) fn verify(key: &Key, msg: &[u8], sig: &[u8; 64]) -> bool {
    #[cfg(feature = "libsecp256k1")]
    {
        libsecp::verify(key, msg, sig)
    }
    #[cfg(not(feature = "libsecp256k1"))]
    {
        k256_backend::verify(key, msg, sig)
    }
}

mod k256_backend {
    use k256::schnorr::{Signature, VerifyingKey};

    pub(super) fn parse_key(bytes: &[u8; 32]) -> Option<VerifyingKey> {
        VerifyingKey::from_bytes(bytes).ok()
    }

    pub(super) fn verify(key: &VerifyingKey, msg: &[u8], sig: &[u8; 64]) -> bool {
        // k256 rejects r >= p, s >= n and s = 0 when parsing the signature
        Signature::try_from(sig.as_slice()).is_ok_and(|sig| key.verify_raw(msg, &sig).is_ok())
    }
}

#[cfg(feature = "libsecp256k1")]
mod libsecp {
    use secp256k1::XOnlyPublicKey;
    use secp256k1::schnorr::{self, Signature};

    pub(super) fn parse_key(bytes: &[u8; 32]) -> Option<XOnlyPublicKey> {
        XOnlyPublicKey::from_byte_array(*bytes).ok()
    }

    pub(super) fn verify(key: &XOnlyPublicKey, msg: &[u8], sig: &[u8; 64]) -> bool {
        // libsecp256k1 rejects r >= p and s >= n, but accepts s = 0 (§4.1 step 2 does not);
        // r = 0 cannot verify (no point has x = 0) and is rejected here too, to say it plainly
        let (r, s) = sig.split_at(32);
        if r.iter().all(|&b| b == 0) || s.iter().all(|&b| b == 0) {
            return false;
        }
        schnorr::verify(&Signature::from_byte_array(*sig), msg, key).is_ok()
    }
}

/// A BIP-340 verification backend, for comparing the two (feature `libsecp256k1`).
#[cfg(feature = "libsecp256k1")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bip340Backend {
    /// k256, pure Rust: the backend of builds without the feature.
    K256,
    /// libsecp256k1 through the `secp256k1` crate: the backend selected by the feature.
    Libsecp256k1,
}

/// Verifies a raw BIP-340 signature with the given backend, as [`crate::verify_raw`] does with
/// the selected one: false for any defect (wrong lengths, invalid key, bad signature).
#[cfg(feature = "libsecp256k1")]
#[must_use]
pub fn verify_bip340_with(backend: Bip340Backend, public: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let (Ok(public), Ok(sig)) = (<&[u8; 32]>::try_from(public), <&[u8; 64]>::try_from(sig)) else {
        return false;
    };
    match backend {
        Bip340Backend::K256 => {
            k256_backend::parse_key(public).is_some_and(|k| k256_backend::verify(&k, msg, sig))
        }
        Bip340Backend::Libsecp256k1 => {
            libsecp::parse_key(public).is_some_and(|k| libsecp::verify(&k, msg, sig))
        }
    }
}
