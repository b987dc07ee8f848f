//! Typed verification outcomes (SPEC.md §8).

use core::fmt;

/// The outcome of verifying a well-formed claim or proof. Malformed input is an
/// [`crate::Error`] instead.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Signature verifies, not expired (and, where checked, published and not revoked).
    Valid,
    /// The signature does not verify, or the proof is not the account's.
    Invalid,
    /// The claim's `exp` is at or before the verifier's `now`.
    Expired,
    /// The identity's sigchain revokes the claim.
    Revoked,
    /// The channel answered, and holds no proof.
    NotFound,
    /// The channel did not answer (network, timeout, 5xx, rate limit).
    Unreachable,
    /// Two conflicting sigchain histories were seen.
    Fork,
}

impl Status {
    /// The status string used in `--json` output and vectors.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Invalid => "invalid",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::NotFound => "not_found",
            Self::Unreachable => "unreachable",
            Self::Fork => "fork",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
