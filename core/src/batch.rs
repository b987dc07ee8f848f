//! Verifying many signatures at once (feature `batch`, std builds; SPEC.md §4.2). How the
//! results relate to §4.2 is documented on [`verify_batch`].

use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::claim::Claim;
use crate::keys::{KeyRef, Verifier, ed25519_y_canonical};
use crate::status::Status;

/// Ed25519 signatures checked by one batch equation at most. A chunk whose equation fails is
/// verified one by one, so a bad signature costs at most this many single verifications.
pub const MAX_BATCH: usize = 256;

/// One signature to verify: the key, the signed message (for a claim, its 32-byte signing
/// digest) and the signature.
#[derive(Clone, Copy, Debug)]
pub struct BatchItem<'a> {
    /// The signing key.
    pub key: &'a KeyRef,
    /// The signed message, any length.
    pub msg: &'a [u8],
    /// The 64-byte signature.
    pub sig: &'a [u8; 64],
}

/// Verifies many signatures; `result[i]` says whether `items[i]` is valid.
///
/// Ed25519 signatures are checked in chunks of up to [`MAX_BATCH`] by ed25519-dalek's batch
/// equation: one random linear combination of the chunk's verification equations, a single
/// multi-scalar multiplication that costs much less than verifying each signature. A chunk whose
/// equation fails is verified one by one, which finds the bad signatures. BIP-340 signatures are
/// verified one by one.
///
/// # Agreement with SPEC.md §4.2
///
/// Before a signature joins a batch, the checks of §4.2 that the batch equation does not make
/// are made on its bytes: `S < L` (step 2), `R` canonical (step 6 never matches another
/// encoding; the batch would reduce it modulo p) and `R` not one of the eight small-order points
/// (step 4). The keys are valid key references (§3.2), so `A` is canonical and not of small
/// order. With these, the batch equation holds whenever every signature in it is valid by §4.2,
/// and a signature reported invalid is invalid by §4.2.
///
/// The converse holds for every signature whose `R` and key `A` lie in the prime-order subgroup,
/// as every RFC 8032 signer makes them. It does not hold for a signature crafted with a
/// small-order component in `R` or `A` (a mixed-order point): the cofactorless equation of §4.2
/// rejects it, while a random linear combination misses a small-order difference with
/// probability up to 1/2, and the combination's coefficients are derived from the chunk's
/// contents, so whoever controls a whole chunk can search for a signature that passes. Only the
/// holder of the secret key can make such a signature, and it changes no one else's claims; but
/// where every verifier must reach the same verdict on such inputs too (conformance, sigchain
/// replay), use [`crate::Claim::verify`], as the rest of KEZ does.
#[must_use]
pub fn verify_batch(items: &[BatchItem<'_>]) -> Vec<bool> {
    let verifiers: Vec<Option<Verifier>> = items
        .iter()
        .map(|i| {
            KeyRef::parse_verifier_bytes(i.key.alg(), *i.key.as_bytes())
                .ok()
                .map(|(_, v)| v)
        })
        .collect();
    let jobs: Vec<Job<'_>> = items
        .iter()
        .zip(&verifiers)
        .map(|(i, v)| Job {
            verifier: v.as_ref(),
            msg: i.msg,
            sig: i.sig,
        })
        .collect();
    run(&jobs)
}

/// Verifies many parsed claims: `result[i]` is what `claims[i].verify(now)` says, with the
/// Ed25519 signatures checked in batches, as [`verify_batch`] does (read its documentation for
/// the one kind of crafted signature on which the two can differ).
#[must_use]
pub fn verify_claims(claims: &[Claim<'_>], now: u64) -> Vec<Status> {
    let jobs: Vec<Job<'_>> = claims
        .iter()
        .map(|c| Job {
            verifier: Some(c.verifier()),
            msg: c.digest(),
            sig: c.sig(),
        })
        .collect();
    run(&jobs)
        .into_iter()
        .zip(claims)
        .map(|(ok, c)| c.status(ok, now))
        .collect()
}

struct Job<'a> {
    /// `None` when the key does not decode (not a valid key: the signature is not valid).
    verifier: Option<&'a Verifier>,
    msg: &'a [u8],
    sig: &'a [u8; 64],
}

fn run(jobs: &[Job<'_>]) -> Vec<bool> {
    let mut ok = alloc::vec![false; jobs.len()];
    let mut pending: Vec<usize> = Vec::with_capacity(jobs.len().min(MAX_BATCH));
    for (i, job) in jobs.iter().enumerate() {
        match job.verifier {
            Some(Verifier::Ed25519(_)) if batchable(job.sig) => {
                pending.push(i);
                if pending.len() == MAX_BATCH {
                    flush(jobs, &pending, &mut ok);
                    pending.clear();
                }
            }
            Some(v @ Verifier::Bip340(_)) => {
                if let Some(slot) = ok.get_mut(i) {
                    *slot = v.verify(job.msg, job.sig);
                }
            }
            // no key, or an Ed25519 signature §4.2 rejects on its bytes alone
            _ => {}
        }
    }
    flush(jobs, &pending, &mut ok);
    ok
}

/// Checks the Ed25519 jobs at `idx` with one batch equation; one by one if it fails.
fn flush(jobs: &[Job<'_>], idx: &[usize], ok: &mut [bool]) {
    if idx.is_empty() {
        return;
    }
    let mut msgs = Vec::with_capacity(idx.len());
    let mut sigs = Vec::with_capacity(idx.len());
    let mut keys = Vec::with_capacity(idx.len());
    for job in idx.iter().filter_map(|&i| jobs.get(i)) {
        if let Some(Verifier::Ed25519(key)) = job.verifier {
            msgs.push(job.msg);
            sigs.push(ed25519_dalek::Signature::from_bytes(job.sig));
            keys.push(*key);
        }
    }
    let all = keys.len() == idx.len() && ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok();
    for &i in idx {
        if let (Some(slot), Some(job)) = (ok.get_mut(i), jobs.get(i)) {
            *slot = all || job.verifier.is_some_and(|v| v.verify(job.msg, job.sig));
        }
    }
}

/// The group order L, little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// The canonical encodings of the eight points of small order (the 8-torsion subgroup).
const SMALL_ORDER: [[u8; 32]; 8] = [
    // the neutral element, y = 1
    [
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00,
    ],
    // order 2, y = -1
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    // order 4, y = 0
    [
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00,
    ],
    // order 4, y = 0, the other x
    [
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x80,
    ],
    // order 8
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    // order 8, the other x
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x85,
    ],
    // order 8
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    // order 8, the other x
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0xfa,
    ],
];

/// The checks of §4.2 on the signature's own bytes that the batch equation does not make:
/// `S < L`, `R` canonical, `R` not of small order. (Whether `R` decodes at all, the batch finds
/// out: its equation fails.)
fn batchable(sig: &[u8; 64]) -> bool {
    let (Some(r), Some(s)) = (sig.first_chunk::<32>(), sig.last_chunk::<32>()) else {
        return false;
    };
    scalar_canonical(s) && r_canonical(r) && !SMALL_ORDER.contains(r)
}

/// `S < L`, comparing from the most significant byte.
fn scalar_canonical(s: &[u8; 32]) -> bool {
    s.iter().rev().cmp(L.iter().rev()) == Ordering::Less
}

/// `y < p`, and no sign bit on the two points with x = 0 (y = 1 and y = -1).
fn r_canonical(r: &[u8; 32]) -> bool {
    let mut y = *r;
    if let Some(high) = y.last_mut() {
        *high &= 0x7f;
    }
    let sign = r.last().is_some_and(|h| h & 0x80 != 0);
    let x_zero = SMALL_ORDER.first() == Some(&y) || SMALL_ORDER.get(1) == Some(&y);
    ed25519_y_canonical(r) && !(sign && x_zero)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn order_bytes_are_l() {
        // L = 2^252 + 27742317777372353535851937790883648493
        let low = u128::from_le_bytes(L.first_chunk::<16>().copied().unwrap_or_default());
        assert_eq!(low, 27_742_317_777_372_353_535_851_937_790_883_648_493);
        assert_eq!(L.get(16..31), Some([0u8; 15].as_slice()));
        assert_eq!(L.last(), Some(&0x10));
    }

    #[test]
    fn scalar_bound() {
        let mut below = L;
        below[0] -= 1;
        assert!(scalar_canonical(&below));
        assert!(!scalar_canonical(&L));
        let mut above = L;
        above[0] += 1;
        assert!(!scalar_canonical(&above));
        assert!(scalar_canonical(&[0; 32]));
        assert!(!scalar_canonical(&[0xff; 32]));
    }

    #[test]
    fn small_order_encodings_are_weak_keys() {
        for enc in SMALL_ORDER {
            let key = ed25519_dalek::VerifyingKey::from_bytes(&enc).unwrap();
            assert!(key.is_weak(), "{enc:02x?}");
            assert_eq!(key.to_bytes(), enc, "canonical");
            assert!(r_canonical(&enc));
        }
    }

    #[test]
    fn non_canonical_r() {
        // y = p .. 2^255 - 1, both signs
        for low in 0xed..=0xff_u8 {
            let mut r = [0xff; 32];
            r[0] = low;
            r[31] = 0x7f;
            assert!(!r_canonical(&r));
            r[31] = 0xff;
            assert!(!r_canonical(&r));
        }
        // x = 0 with the sign bit: y = 1 and y = -1
        let mut one = SMALL_ORDER[0];
        one[31] |= 0x80;
        assert!(!r_canonical(&one));
        let mut minus_one = SMALL_ORDER[1];
        minus_one[31] |= 0x80;
        assert!(!r_canonical(&minus_one));
    }
}
