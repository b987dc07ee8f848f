//! kez-nostd-verify: verify a KEZ JSON claim on a device with no OS and no heap.
//!
//! One function, [`verify_claim`], maps kez-core's allocation-free verification path
//! (`kez_core::verify_json`, SPEC.md §7) to a one-byte code that C or firmware can switch on.
//! kez-core is used with no features, so neither `std` nor `alloc` is in the dependency graph.
//!
//! The proof that this holds is the crate's bin: `.ci/run` builds it with
//! `cargo build -p kez-nostd-verify --target thumbv7em-none-eabihf --release`, which links a
//! complete Cortex-M4F image (no `std` exists for that target, and a final artifact that pulled
//! in `alloc` without a `#[global_allocator]` fails to link).
//!
//! Codes: `0..=15` are verification statuses ([`STATUSES`], e.g. [`VALID`]); `16..` are error
//! classes, [`ERROR_BASE`] + the index in [`ERROR_CLASSES`]; [`UNKNOWN`] is anything newer.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// Status names by code (`Status::as_str` of kez-core, in code order).
pub const STATUSES: [&str; 7] = [
    "valid",
    "invalid",
    "expired",
    "revoked",
    "not_found",
    "unreachable",
    "fork",
];
/// The signature verifies and the claim has not expired.
pub const VALID: u8 = 0;
/// The claim is well-formed but its signature does not verify.
pub const INVALID: u8 = 1;
/// The signature verifies but `now >= exp`.
pub const EXPIRED: u8 = 2;

/// First error code: code `ERROR_BASE + i` is the error class `ERROR_CLASSES[i]`.
pub const ERROR_BASE: u8 = 16;
/// Error class names (`Error::kind` of kez-core, SPEC.md §10) in code order. Append only.
pub const ERROR_CLASSES: [&str; 15] = [
    "json_syntax",
    "invalid_utf8",
    "lone_surrogate",
    "duplicate_key",
    "bad_number",
    "too_deep",
    "trailing_data",
    "too_large",
    "bad_key",
    "bad_key_file",
    "bad_subject",
    "bad_claim",
    "bad_encoding",
    "bad_compression",
    "non_canonical",
];
/// A status or error class this table does not know (kez-core's enums are non-exhaustive).
pub const UNKNOWN: u8 = 255;

/// Verifies the JSON claim `json` against the caller's clock `now` (Unix seconds) and returns
/// its code. Uses no heap; stack only.
#[must_use]
pub fn verify_claim(json: &[u8], now: u64) -> u8 {
    match kez_core::verify_json(json, now) {
        Ok((_, status)) => code_of(&STATUSES, status.as_str(), 0),
        Err(e) => code_of(&ERROR_CLASSES, e.kind(), ERROR_BASE),
    }
}

/// The status or error class name of a code returned by [`verify_claim`].
#[must_use]
pub fn code_name(code: u8) -> Option<&'static str> {
    if code < ERROR_BASE {
        STATUSES.get(usize::from(code)).copied()
    } else {
        ERROR_CLASSES.get(usize::from(code - ERROR_BASE)).copied()
    }
}

fn code_of(names: &[&str], name: &str, base: u8) -> u8 {
    names
        .iter()
        .position(|n| *n == name)
        .and_then(|i| u8::try_from(i).ok())
        .map_or(UNKNOWN, |i| base + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = include_bytes!("sample-claim.json");

    #[test]
    fn sample_claim_codes() {
        // the sample: ed25519 key, iat 1700000000, exp 1900000000
        assert_eq!(verify_claim(SAMPLE, 0), VALID);
        assert_eq!(verify_claim(SAMPLE, 1_899_999_999), VALID);
        assert_eq!(verify_claim(SAMPLE, 1_900_000_000), EXPIRED);
        assert_eq!(code_name(EXPIRED), Some("expired"));
    }

    #[test]
    fn tampered_and_malformed() {
        let mut tampered = [0u8; SAMPLE.len()];
        tampered.copy_from_slice(SAMPLE);
        // "github:alice-dev" -> "github:alice-deu": still well-formed, signature now wrong
        let at = SAMPLE
            .windows(16)
            .position(|w| w == b"github:alice-dev")
            .map(|p| p + 15);
        if let Some(b) = at.and_then(|i| tampered.get_mut(i)) {
            *b = b'u';
        }
        assert_ne!(&tampered[..], SAMPLE);
        assert_eq!(verify_claim(&tampered, 0), INVALID);
        assert_eq!(code_name(verify_claim(b"{", 0)), Some("json_syntax"));
        assert_eq!(
            code_name(verify_claim(b"{\"a\":1,\"a\":2}", 0)),
            Some("duplicate_key")
        );
        assert_eq!(code_name(verify_claim(b"{}", 0)), Some("bad_claim"));
        assert_eq!(code_name(verify_claim(b"\xff", 0)), Some("invalid_utf8"));
    }

    #[test]
    fn tables_match_core() {
        for (i, name) in STATUSES.iter().enumerate() {
            assert_eq!(
                code_name(code_of(&STATUSES, name, 0)),
                Some(*name),
                "status {i}"
            );
        }
        for name in ERROR_CLASSES {
            assert_eq!(
                code_name(code_of(&ERROR_CLASSES, name, ERROR_BASE)),
                Some(name)
            );
        }
        assert_eq!(code_name(UNKNOWN), None);
        assert_eq!(code_of(&ERROR_CLASSES, "new_class", ERROR_BASE), UNKNOWN);
    }
}
