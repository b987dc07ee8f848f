//! The libsecp256k1 backend of BIP-340 verification agrees with k256 (SPEC.md §3.2, §4.1): on
//! every upstream BIP-340 vector, on the boundary values of `r` and `s`, and on random keys,
//! messages and signatures with their mutations. Runs with the `libsecp256k1` feature (as
//! `cargo test --workspace --all-features` does).
#![cfg(feature = "libsecp256k1")]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{hex, upstream};
use kez_core::{Alg, Bip340Backend, KeyRef, SecretKey, verify_bip340_with, verify_raw};
use proptest::prelude::*;

/// Both backends, and the selected one (`verify_raw`), give the same answer; returns it.
fn agree(public: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let k = verify_bip340_with(Bip340Backend::K256, public, msg, sig);
    let c = verify_bip340_with(Bip340Backend::Libsecp256k1, public, msg, sig);
    assert_eq!(
        k, c,
        "backends disagree: key {public:02x?} msg {msg:02x?} sig {sig:02x?}"
    );
    assert_eq!(
        verify_raw(Alg::Bip340, public, msg, sig),
        c,
        "selected backend"
    );
    c
}

/// Key decoding agrees: libsecp256k1 (selected, through `KeyRef`) and k256.
fn keys_agree(x: &[u8; 32]) {
    assert_eq!(
        KeyRef::from_bytes(Alg::Bip340, *x).is_ok(),
        k256::schnorr::VerifyingKey::from_bytes(x).is_ok(),
        "key decoding disagrees on {x:02x?}"
    );
}

#[test]
fn upstream_vectors_both_backends() {
    let Some(dir) = upstream("bip340") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("test-vectors.csv")).unwrap();
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.splitn(8, ',').collect();
        let (idx, pk, msg, sig, result) = (f[0], f[2], f[4], f[5], f[6]);
        let (pk, msg, sig) = (hex(pk), hex(msg), hex(sig));
        assert_eq!(
            agree(&pk, &msg, &sig),
            result == "TRUE",
            "BIP-340 row {idx}"
        );
        keys_agree(&pk.as_slice().try_into().unwrap());
        rows += 1;
    }
    assert_eq!(rows, 19);
}

const N: [u8; 32] = *b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xba\xae\xdc\xe6\xaf\x48\xa0\x3b\xbf\xd2\x5e\x8c\xd0\x36\x41\x41";
const P: [u8; 32] = *b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xfc\x2f";

/// Big-endian `v + d` (wrapping), for values next to p and n.
fn add(v: [u8; 32], d: i8) -> [u8; 32] {
    let mut out = v;
    let mut carry = i16::from(d);
    for b in out.iter_mut().rev() {
        let s = i16::from(*b) + carry;
        *b = s.rem_euclid(256) as u8;
        carry = s.div_euclid(256);
    }
    out
}

fn signed(seed: u8, msg: &[u8]) -> ([u8; 32], [u8; 64]) {
    let key = SecretKey::from_bytes(Alg::Bip340, &[seed; 32]).unwrap();
    let sig = key.sign_raw(msg, &[seed ^ 0x5a; 32]).unwrap();
    (*key.public().as_bytes(), sig)
}

#[test]
fn boundary_values_of_r_s_and_keys() {
    let msg = [7u8; 32];
    let (pk, sig) = signed(3, &msg);
    assert!(agree(&pk, &msg, &sig));
    let (r, s): ([u8; 32], [u8; 32]) =
        (sig[..32].try_into().unwrap(), sig[32..].try_into().unwrap());
    let mut cases = Vec::new();
    for s2 in [
        [0; 32],
        add([0; 32], 1),
        N,
        add(N, -1),
        add(N, 1),
        [0xff; 32],
    ] {
        cases.push((r, s2));
    }
    for r2 in [
        [0; 32],
        add([0; 32], 1),
        P,
        add(P, -1),
        add(P, 1),
        [0xff; 32],
    ] {
        cases.push((r2, s));
    }
    // s + n is the same scalar modulo n: must be rejected as out of range, not reduced
    let s_plus_n = {
        let mut out = s;
        let mut carry = 0u16;
        for (o, n) in out.iter_mut().rev().zip(N.iter().rev()) {
            let v = u16::from(*o) + u16::from(*n) + carry;
            *o = v as u8;
            carry = v >> 8;
        }
        (carry == 0).then_some(out)
    };
    if let Some(s2) = s_plus_n {
        cases.push((r, s2));
    }
    for (r2, s2) in cases {
        let mut sig2 = [0u8; 64];
        sig2[..32].copy_from_slice(&r2);
        sig2[32..].copy_from_slice(&s2);
        assert!(!agree(&pk, &msg, &sig2), "r {r2:02x?} s {s2:02x?}");
    }
    // keys: x = 0, 1, p - 1, p, p + 1, all ones, and a valid one
    for x in [
        [0; 32],
        add([0; 32], 1),
        add(P, -1),
        P,
        add(P, 1),
        [0xff; 32],
        pk,
    ] {
        keys_agree(&x);
        agree(&x, &msg, &sig);
    }
    // wrong lengths
    assert!(!agree(&pk[..31], &msg, &sig));
    assert!(!agree(&pk, &msg, &sig[..63]));
}

#[test]
fn every_single_bit_flip() {
    let msg: Vec<u8> = (0..32).collect();
    let (pk, sig) = signed(9, &msg);
    assert!(agree(&pk, &msg, &sig));
    for bit in 0..512 {
        let mut s = sig;
        s[bit / 8] ^= 1 << (bit % 8);
        assert!(!agree(&pk, &msg, &s), "sig bit {bit}");
    }
    for bit in 0..256 {
        let mut m = msg.clone();
        m[bit / 8] ^= 1 << (bit % 8);
        assert!(!agree(&pk, &m, &sig), "msg bit {bit}");
        let mut k = pk;
        k[bit / 8] ^= 1 << (bit % 8);
        keys_agree(&k);
        assert!(!agree(&k, &msg, &sig), "key bit {bit}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_signatures_and_mutations(
        secret in prop::array::uniform32(any::<u8>()),
        aux in prop::array::uniform32(any::<u8>()),
        msg in prop::collection::vec(any::<u8>(), 0..100),
        flip in 0usize..512,
        junk_key in prop::array::uniform32(any::<u8>()),
        junk_sig in prop::collection::vec(any::<u8>(), 64),
    ) {
        keys_agree(&junk_key);
        agree(&junk_key, &msg, &junk_sig);
        // secrets of zero or at least n are not keys; the rest sign
        let Ok(key) = SecretKey::from_bytes(Alg::Bip340, &secret) else {
            return Ok(());
        };
        let pk = *key.public().as_bytes();
        let sig = key.sign_raw(&msg, &aux).unwrap();
        prop_assert!(agree(&pk, &msg, &sig));
        let mut bad = sig;
        bad[flip / 8] ^= 1 << (flip % 8);
        prop_assert!(!agree(&pk, &msg, &bad));
        // the signature under another (valid) key, and a longer message
        agree(&junk_key, &msg, &sig);
        let mut longer = msg.clone();
        longer.push(0);
        prop_assert!(!agree(&pk, &longer, &sig));
    }
}
