//! `sig.json`: raw signature verification, BIP-340 and strict Ed25519, over messages of any
//! length (SPEC.md §4, through `kez sig verify`, §11.4). Our own vectors; the upstream suites
//! (BIP-340 CSV, Wycheproof, RFC 8032) are replayed by the runner from their own files.

use kez_core::SecretKey;
use serde_json::{Value, json};

use crate::envelope::{Area, Group, Op, Want};
use crate::fixtures::{ED_L_LE, Keys, R, SECP_N, SECP_P, ctx, hex, seed_of, unhex32};

const NOTES: &[(&str, &str)] = &[
    (
        "Valid",
        "A signature made by the key over exactly this message.",
    ),
    ("EmptyMessage", "A message of zero bytes (--msg \"\")."),
    (
        "LongMessage",
        "A message longer than the 32-byte digests KEZ itself signs.",
    ),
    (
        "Tampered",
        "A valid signature with the message, key or one signature byte changed.",
    ),
    (
        "Length",
        "A key or signature of the wrong length: exit 1, not a usage error.",
    ),
    ("BadPoint", "A key that is not a valid point for the suite."),
    (
        "Range",
        "A signature scalar or coordinate out of range (BIP-340 r >= p, s >= n; Ed25519 S >= L).",
    ),
    (
        "SmallOrder",
        "Ed25519 strict verification rejects small-order A and R, even where the cofactorless equation holds.",
    ),
    ("HexCase", "HEX arguments in uppercase are accepted."),
    (
        "Usage",
        "A value that is not an even number of hex digits: exit 2, usage.",
    ),
    (
        "CrossSuite",
        "A signature of one suite checked as the other.",
    ),
];

fn input(alg: &str, public: &str, msg: &str, sig: &str) -> Value {
    json!({"alg": alg, "pub": public, "msg": msg, "sig": sig})
}

struct Signed {
    public: String,
    msg: String,
    sig: String,
}

fn signed(key: &SecretKey, msg: &[u8], aux: &[u8; 32]) -> R<Signed> {
    Ok(Signed {
        public: hex(key.public().as_bytes()),
        msg: hex(msg),
        sig: hex(&ctx("sign", key.sign_raw(msg, aux))?),
    })
}

/// `S + L` (little-endian), a non-canonical encoding of the same scalar.
fn plus_l(s: &[u8]) -> R<Vec<u8>> {
    let l = crate::fixtures::unhex(ED_L_LE).ok_or("L")?;
    let mut out = Vec::with_capacity(32);
    let mut carry = 0u16;
    for (a, b) in s.iter().zip(l.iter()) {
        let v = u16::from(*a) + u16::from(*b) + carry;
        out.push(u8::try_from(v & 0xff).map_err(|e| e.to_string())?);
        carry = v >> 8;
    }
    if carry != 0 {
        return Err("S + L overflows 32 bytes".into());
    }
    Ok(out)
}

#[allow(clippy::too_many_lines)]
pub(crate) fn area(keys: &Keys) -> R<Area> {
    let mut area = Area::new("sig", NOTES);
    let aux = seed_of("sig/aux");
    let msgs: Vec<(&str, Vec<u8>, &[&'static str])> = vec![
        (
            "a 32-byte message",
            seed_of("sig/msg32").to_vec(),
            &["Valid"],
        ),
        ("the empty message", Vec::new(), &["Valid", "EmptyMessage"]),
        ("a 1-byte message", vec![0x61], &["Valid"]),
        (
            "a 100-byte message",
            vec![0x5a; 100],
            &["Valid", "LongMessage"],
        ),
        (
            "a 1000-byte message",
            (0..1000u32)
                .map(|i| u8::try_from(i % 251).unwrap_or(0))
                .collect(),
            &["Valid", "LongMessage"],
        ),
    ];
    for (alg, key, other, spec) in [
        ("bip340", &keys.n, &keys.m, "§4.1"),
        ("ed25519", &keys.a, &keys.b, "§4.2"),
    ] {
        let mut g = Group::new(
            Op::SigVerify,
            format!("{alg}: exit 0 iff the signature verifies, exit 1 for anything else"),
        );
        for (what, msg, flags) in &msgs {
            let s = signed(key, msg, &aux)?;
            g.case(
                format!("{alg}: {what}"),
                spec,
                flags,
                input(alg, &s.public, &s.msg, &s.sig),
                Want::Ok,
            );
        }
        let base = signed(key, &seed_of("sig/base"), &aux)?;
        let by_other = signed(other, &seed_of("sig/base"), &aux)?;
        let empty = signed(key, &[], &aux)?;
        let mut tampered_msg = seed_of("sig/base");
        if let Some(b) = tampered_msg.first_mut() {
            *b ^= 1;
        }
        let sig_bytes = crate::fixtures::unhex(&base.sig).ok_or("sig hex")?;
        let flip = |i: usize| -> R<String> {
            let mut s = sig_bytes.clone();
            let b = s.get_mut(i).ok_or("flip index")?;
            *b ^= 0x01;
            Ok(hex(&s))
        };
        let cases: Vec<(String, Value, &[&'static str])> = vec![
            (
                "one message bit flipped".into(),
                input(alg, &base.public, &hex(&tampered_msg), &base.sig),
                &["Tampered"],
            ),
            (
                "the signature of a 32-byte message checked over the empty message".into(),
                input(alg, &base.public, "", &base.sig),
                &["Tampered", "EmptyMessage"],
            ),
            (
                "the signature of the empty message checked over one zero byte".into(),
                input(alg, &empty.public, "00", &empty.sig),
                &["Tampered", "EmptyMessage"],
            ),
            (
                "another key's public key".into(),
                input(alg, &by_other.public, &base.msg, &base.sig),
                &["Tampered"],
            ),
            (
                "another key's signature over the same message".into(),
                input(alg, &base.public, &base.msg, &by_other.sig),
                &["Tampered"],
            ),
            (
                "first signature byte flipped".into(),
                input(alg, &base.public, &base.msg, &flip(0)?),
                &["Tampered"],
            ),
            (
                "byte 31 of the signature flipped".into(),
                input(alg, &base.public, &base.msg, &flip(31)?),
                &["Tampered"],
            ),
            (
                "last signature byte flipped".into(),
                input(alg, &base.public, &base.msg, &flip(63)?),
                &["Tampered"],
            ),
            (
                "a 63-byte signature".into(),
                input(
                    alg,
                    &base.public,
                    &base.msg,
                    base.sig.get(..126).unwrap_or_default(),
                ),
                &["Length"],
            ),
            (
                "a 65-byte signature".into(),
                input(alg, &base.public, &base.msg, &format!("{}00", base.sig)),
                &["Length"],
            ),
            (
                "an empty signature".into(),
                input(alg, &base.public, &base.msg, ""),
                &["Length"],
            ),
            (
                "a 31-byte public key".into(),
                input(
                    alg,
                    base.public.get(2..).unwrap_or_default(),
                    &base.msg,
                    &base.sig,
                ),
                &["Length"],
            ),
            (
                "a 33-byte public key".into(),
                input(alg, &format!("{}00", base.public), &base.msg, &base.sig),
                &["Length"],
            ),
            (
                "an empty public key".into(),
                input(alg, "", &base.msg, &base.sig),
                &["Length"],
            ),
            (
                "an all-zero signature".into(),
                input(alg, &base.public, &base.msg, &"00".repeat(64)),
                &["Range"],
            ),
        ];
        for (what, inp, flags) in cases {
            g.case(format!("{alg}: {what}"), spec, flags, inp, Want::Fail);
        }
        g.case(
            format!("{alg}: uppercase hex in every argument"),
            "§11.4",
            &["HexCase", "Valid"],
            input(
                alg,
                &base.public.to_uppercase(),
                &base.msg.to_uppercase(),
                &base.sig.to_uppercase(),
            ),
            Want::Ok,
        );
        for (what, inp) in [
            (
                "a non-hex public key",
                input(
                    alg,
                    &format!("{}zz", base.public.get(2..).unwrap_or_default()),
                    &base.msg,
                    &base.sig,
                ),
            ),
            (
                "an odd-length message",
                input(alg, &base.public, "abc", &base.sig),
            ),
            (
                "a 0x-prefixed signature",
                input(
                    alg,
                    &base.public,
                    &base.msg,
                    &format!("0x{}", base.sig.get(2..).unwrap_or_default()),
                ),
            ),
            (
                "a space in the message",
                input(alg, &base.public, "00 11", &base.sig),
            ),
        ] {
            g.case(
                format!("{alg}: {what} is a usage error"),
                "§11.4",
                &["Usage"],
                inp,
                Want::Class("usage"),
            );
        }
        area.push(g);
    }

    // suite-specific edges
    let mut g = Group::new(Op::SigVerify, "Suite-specific edges (§4.1, §4.2)");
    let b = signed(&keys.n, &seed_of("sig/edge"), &aux)?;
    let (r, s) = (
        b.sig.get(..64).unwrap_or_default(),
        b.sig.get(64..).unwrap_or_default(),
    );
    g.case(
        "bip340: r = p (not below the field prime)",
        "§4.1",
        &["Range"],
        input("bip340", &b.public, &b.msg, &format!("{SECP_P}{s}")),
        Want::Fail,
    );
    g.case(
        "bip340: s = n (not below the group order)",
        "§4.1",
        &["Range"],
        input("bip340", &b.public, &b.msg, &format!("{r}{SECP_N}")),
        Want::Fail,
    );
    g.case(
        "bip340: s = 0",
        "§4.1",
        &["Range"],
        input(
            "bip340",
            &b.public,
            &b.msg,
            &format!("{r}{}", "00".repeat(32)),
        ),
        Want::Fail,
    );
    g.case(
        "bip340: a public key x >= p",
        "§4.1",
        &["BadPoint"],
        input("bip340", &"ff".repeat(32), &b.msg, &b.sig),
        Want::Fail,
    );
    // x = 5: 5^3 + 7 = 132 is not a square mod p (checked by the core: no such point)
    let x5 = format!("{}05", "00".repeat(31));
    if kez_core::KeyRef::from_bytes(kez_core::Alg::Bip340, unhex32(&x5)?).is_ok() {
        return Err("x = 5 was expected not to be on secp256k1".into());
    }
    g.case(
        "bip340: a public key x with no curve point (x = 5)",
        "§4.1",
        &["BadPoint"],
        input("bip340", &x5, &b.msg, &b.sig),
        Want::Fail,
    );
    let e = signed(&keys.a, &seed_of("sig/edge"), &aux)?;
    let e_sig = crate::fixtures::unhex(&e.sig).ok_or("hex")?;
    let (e_r, e_s) = e_sig.split_at(32);
    g.case(
        "ed25519: S + L (non-canonical S) does not verify",
        "§4.2",
        &["Range"],
        input(
            "ed25519",
            &e.public,
            &e.msg,
            &format!("{}{}", hex(e_r), hex(&plus_l(e_s)?)),
        ),
        Want::Fail,
    );
    let identity = format!("01{}", "00".repeat(31));
    g.case(
        "ed25519: A = R = identity, S = 0 satisfies the cofactorless equation but A has small order",
        "§4.2",
        &["SmallOrder"],
        input("ed25519", &identity, &e.msg, &format!("{identity}{}", "00".repeat(32))),
        Want::Fail,
    );
    g.case(
        "ed25519: R of small order (the identity) with a valid key",
        "§4.2",
        &["SmallOrder"],
        input(
            "ed25519",
            &e.public,
            &e.msg,
            &format!("{identity}{}", hex(e_s)),
        ),
        Want::Fail,
    );
    g.case(
        "ed25519: a public key of order 8",
        "§4.2",
        &["SmallOrder"],
        input(
            "ed25519",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
            &e.msg,
            &e.sig,
        ),
        Want::Fail,
    );
    g.case(
        "ed25519: a public key that is not a point (y = 2)",
        "§4.2",
        &["BadPoint"],
        input("ed25519", &format!("02{}", "00".repeat(31)), &e.msg, &e.sig),
        Want::Fail,
    );
    g.case(
        "ed25519: an Ed25519 signature checked as BIP-340",
        "§4.1",
        &["CrossSuite"],
        input("bip340", &e.public, &e.msg, &e.sig),
        Want::Fail,
    );
    g.case(
        "bip340: a BIP-340 signature checked as Ed25519",
        "§4.2",
        &["CrossSuite"],
        input("ed25519", &b.public, &b.msg, &b.sig),
        Want::Fail,
    );
    g.case(
        "bip340: the signature with aux of all ones verifies too",
        "§4.1",
        &["Valid"],
        {
            let s = signed(&keys.n, &seed_of("sig/edge"), &[0xff; 32])?;
            input("bip340", &s.public, &s.msg, &s.sig)
        },
        Want::Ok,
    );
    area.push(g);
    Ok(area)
}
