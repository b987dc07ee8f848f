//! `keys.json`: key generation from a seed, the key reference printed and the key file written
//! (SPEC.md §3, through `kez identity new`, §11.6).

use serde_json::json;

use crate::envelope::{Area, Group, Op, Want};
use crate::fixtures::{R, SECP_N, counting, fill, hex, seed_of, unhex32};

const NOTES: &[(&str, &str)] = &[
    ("Example", "A key of SPEC.md itself (§3.3, §5.6, §14.10)."),
    (
        "OddY",
        "A nostr secret d whose d·G has odd y: the file still holds d exactly as given.",
    ),
    ("EvenY", "A nostr secret d whose d·G has even y."),
    (
        "ScalarRange",
        "The nostr secret must satisfy 1 <= d <= n - 1, both sides.",
    ),
    (
        "HexCase",
        "HEX arguments are accepted in either case; files hold lowercase hex.",
    ),
    ("Usage", "A malformed --seed argument is a usage error."),
];

/// `n - d` for a big-endian 256-bit `d < n`.
fn n_minus(d: &[u8; 32]) -> R<[u8; 32]> {
    let n = unhex32(SECP_N)?;
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let (Some(a), Some(b), Some(o)) = (n.get(i), d.get(i), out.get_mut(i)) else {
            return Err("n_minus: index".into());
        };
        let mut v = i16::from(*a) - i16::from(*b) - borrow;
        borrow = i16::from(v < 0);
        if v < 0 {
            v += 256;
        }
        *o = u8::try_from(v).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// `n + k` for a small `k` (the result is at least n, so not a valid secret).
fn n_plus(k: u8) -> R<[u8; 32]> {
    let mut out = unhex32(SECP_N)?;
    let mut carry = u16::from(k);
    for b in out.iter_mut().rev() {
        let v = u16::from(*b) + carry;
        *b = u8::try_from(v & 0xff).map_err(|e| e.to_string())?;
        carry = v >> 8;
    }
    Ok(out)
}

pub(crate) fn area() -> R<Area> {
    let mut area = Area::new("keys", NOTES);
    let mut g = Group::new(
        Op::IdentityNew,
        "identity new --seed: stdout is the key reference + LF, key_file the exact file bytes",
    );
    let s = "§11.6";
    let d0 = counting(0x00);
    let mut one = [0u8; 32];
    if let Some(last) = one.last_mut() {
        *last = 1;
    }
    let mut n1 = unhex32(SECP_N)?;
    if let Some(last) = n1.last_mut() {
        *last -= 1;
    }
    let seeds: &[(&str, &str, [u8; 32], &[&'static str])] = &[
        ("ed25519", "the seed 000102…1f of §5.6", d0, &["Example"]),
        (
            "ed25519",
            "the seed 202122…3f (B of §14.10)",
            counting(0x20),
            &["Example"],
        ),
        (
            "ed25519",
            "the all-zero seed is valid for Ed25519",
            fill(0),
            &[],
        ),
        (
            "ed25519",
            "the all-ones seed is valid for Ed25519",
            fill(0xff),
            &[],
        ),
        ("ed25519", "a hashed seed", seed_of("keys/ed25519/1"), &[]),
        (
            "ed25519",
            "another hashed seed",
            seed_of("keys/ed25519/2"),
            &[],
        ),
        (
            "nostr",
            "the secret 000102…1f of §3.3 (odd y, kept as given)",
            d0,
            &["Example", "OddY"],
        ),
        (
            "nostr",
            "n - 000102…1f: same public key, file holds this secret",
            n_minus(&d0)?,
            &["Example", "EvenY"],
        ),
        (
            "nostr",
            "d = 1 (the generator G)",
            one,
            &["ScalarRange", "EvenY"],
        ),
        (
            "nostr",
            "d = n - 1 (the largest valid secret, -G)",
            n1,
            &["ScalarRange", "OddY"],
        ),
        ("nostr", "a hashed secret", seed_of("keys/nostr/1"), &[]),
        (
            "nostr",
            "another hashed secret",
            seed_of("keys/nostr/2"),
            &[],
        ),
        ("nostr", "the secret 202122…3f", counting(0x20), &[]),
    ];
    for (alg, comment, seed, flags) in seeds {
        // the printed key reference is the one text form of §3.1
        let spec = if comment.contains("hashed") {
            "§3.1"
        } else {
            s
        };
        g.case(
            format!("{alg}: {comment}"),
            spec,
            flags,
            json!({"alg": alg, "seed": hex(seed)}),
            Want::Ok,
        );
    }
    g.case(
        "nostr: an uppercase --seed is the same secret; the file holds lowercase hex",
        "§11.2",
        &["HexCase", "OddY"],
        json!({"alg": "nostr", "seed": hex(&d0).to_uppercase()}),
        Want::Ok,
    );
    g.case(
        "ed25519: a mixed-case --seed",
        "§11.2",
        &["HexCase"],
        json!({"alg": "ed25519", "seed": "000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f"}),
        Want::Ok,
    );
    let bad: &[(&str, [u8; 32])] = &[
        ("d = 0 is not a secret", fill(0)),
        ("d = n is not a secret", unhex32(SECP_N)?),
        ("d = n + 1 is not a secret", n_plus(1)?),
        ("d = 2^256 - 1 is not a secret", fill(0xff)),
    ];
    for (comment, seed) in bad {
        // the seed is secret material: the one-line error must not echo it (§11.1)
        let spec = if comment.contains("2^256") {
            "§11.1"
        } else {
            s
        };
        g.case(
            format!("nostr: {comment}"),
            spec,
            &["ScalarRange"],
            json!({"alg": "nostr", "seed": hex(seed)}),
            Want::Class("bad_key"),
        );
    }
    let usage: &[(&str, &str, String)] = &[
        (
            "nostr",
            "62 hex digits",
            hex(&d0).get(2..).unwrap_or_default().to_owned(),
        ),
        ("ed25519", "66 hex digits", format!("{}00", hex(&d0))),
        (
            "ed25519",
            "an odd number of hex digits",
            format!("{}0", hex(&d0)),
        ),
        (
            "nostr",
            "a non-hex digit",
            format!("{}g", hex(&d0).get(1..).unwrap_or_default()),
        ),
        (
            "ed25519",
            "a 0x prefix",
            format!("0x{}", hex(&d0).get(2..).unwrap_or_default()),
        ),
        ("ed25519", "an empty seed", String::new()),
    ];
    for (alg, comment, seed) in usage {
        g.case(
            format!("{alg}: --seed with {comment} is a usage error"),
            "§11.2",
            &["Usage"],
            json!({"alg": alg, "seed": seed}),
            Want::Class("usage"),
        );
    }
    area.push(g);
    Ok(area)
}
