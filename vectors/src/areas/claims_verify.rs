//! `claims_verify.json`: offline verification of a claim (SPEC.md §7, §8), parsing and its
//! classes (§5.1–§5.4), key references inside claims (§3.1, §3.2), and judgement against a
//! sigchain (§14.8, through `kez claim verify --chain`, §11.7).

use kez_core::chain::Draft;
use serde_json::{Value, json};

use crate::envelope::{Area, Group, Op, Want};
use crate::fixtures::{
    AUX0, BECH32, BECH32M, ChainBuilder, Keys, MAX_INT, NOW, R, T0, bundle, claim, claim_id,
    flip_hex_digit, npub, replace_once, seed_of, string_member,
};

const NOTES: &[(&str, &str)] = &[
    (
        "Example",
        "An example of SPEC.md itself (§5.6, §11.5, §14.10).",
    ),
    (
        "Status",
        "A well-formed claim: exit 0 iff valid; stdout_json holds key, status and subject.",
    ),
    (
        "Tampered",
        "A signed claim changed after signing: status invalid, exit 1.",
    ),
    (
        "Expiry",
        "exp is the first second at which the claim is expired: now = exp - 1 is valid, now = exp expired.",
    ),
    (
        "Formatting",
        "Whitespace, member order and escaped member names do not affect validity.",
    ),
    (
        "Member",
        "Missing, unknown or ill-typed members: bad_claim.",
    ),
    (
        "Integer",
        "The claim-int form of iat and exp: no sign, fraction or exponent, at most 2^53 - 1.",
    ),
    (
        "Escape",
        "String values must not contain a backslash: bad_claim.",
    ),
    (
        "KeyRef",
        "The key member: one text form per key, a valid key (bad_key otherwise).",
    ),
    (
        "Json",
        "The claim text is not acceptable JSON: the JSON class.",
    ),
    (
        "SizeLimit",
        "MAX_CLAIM_JSON = 65536 bytes as received (after the trimming of auto-detection), both sides.",
    ),
    (
        "Precedence",
        "Several defects: the class of the first failing check of §5.4.",
    ),
    (
        "Chain",
        "claim verify --chain: the claim judged against a sigchain (precedence invalid > fork > revoked > expired > valid).",
    ),
    (
        "Usage",
        "An N argument that is not a decimal integer below 2^64: usage (§11.2).",
    ),
    (
        "ChainMalformed",
        "The chain file is malformed input: exit 2 with its class, whatever the claim's status.",
    ),
];

fn v(text: &str, now: u64) -> Value {
    json!({"text": text, "now": now})
}

fn vc(text: &str, now: u64, chain: &str) -> Value {
    json!({"text": text, "now": now, "chain": chain})
}

pub(crate) fn area(keys: &Keys) -> R<Area> {
    let mut area = Area::new("claims_verify", NOTES);
    area.push(statuses(keys)?);
    area.push(parsing(keys)?);
    area.push(key_refs(keys)?);
    area.push(size(keys)?);
    area.push(chains(keys)?);
    area.push(arguments(keys)?);
    Ok(area)
}

#[allow(clippy::too_many_lines)]
fn statuses(keys: &Keys) -> R<Group> {
    let mut g = Group::new(
        Op::ClaimVerify,
        "Offline verification: valid, invalid, expired (§7)",
    );
    let c0 = claim(&keys.a, "github:alice", T0, None, &AUX0)?;
    let cn = claim(&keys.n, "github:alice", T0, None, &AUX0)?;
    let ce = claim(
        &keys.a,
        "dns:Bücher.Example.",
        T0,
        Some(1_795_651_200),
        &AUX0,
    )?;
    g.case(
        "§5.6 Ed25519 claim at the now of §11.5",
        "§11.5",
        &["Example", "Status"],
        v(&c0, NOW - 100),
        Want::Ok,
    );
    g.case(
        "§5.6 nostr claim: d·G has odd y, the key is the x-only (even-y) point",
        "§3.2",
        &["Example", "Status"],
        v(&cn, NOW),
        Want::Ok,
    );
    g.case(
        "§5.6 claim with exp at exp - 1: valid",
        "§7",
        &["Example", "Status", "Expiry"],
        v(&ce, 1_795_651_199),
        Want::Ok,
    );
    g.case(
        "§5.6 claim with exp at exp: expired",
        "§7",
        &["Example", "Status", "Expiry"],
        v(&ce, 1_795_651_200),
        Want::No("expired"),
    );
    g.case(
        "exp + 1: expired",
        "§7",
        &["Status", "Expiry"],
        v(&ce, 1_795_651_201),
        Want::No("expired"),
    );
    g.case(
        "now = 2^64 - 1: expired",
        "§7",
        &["Status", "Expiry"],
        v(&ce, u64::MAX),
        Want::No("expired"),
    );
    g.case(
        "now = 0, long before iat: valid (iat is not compared with now)",
        "§7",
        &["Status"],
        v(&ce, 0),
        Want::Ok,
    );
    g.case(
        "no exp: valid at now = 2^64 - 1",
        "§7",
        &["Status", "Expiry"],
        v(&c0, u64::MAX),
        Want::Ok,
    );
    let future = claim(&keys.a, "github:alice", NOW + 1_000_000, None, &AUX0)?;
    g.case(
        "iat in the future: valid",
        "§5.1",
        &["Status"],
        v(&future, NOW),
        Want::Ok,
    );
    let max = claim(&keys.a, "github:alice", MAX_INT - 1, Some(MAX_INT), &AUX0)?;
    g.case(
        "iat = 2^53 - 2, exp = 2^53 - 1: valid before exp",
        "§5.1",
        &["Status", "Integer"],
        v(&max, NOW),
        Want::Ok,
    );
    let max_iat = claim(&keys.a, "github:alice", MAX_INT, None, &AUX0)?;
    g.case(
        "iat = 2^53 - 1 is accepted",
        "§5.1",
        &["Status", "Integer", "Example"],
        v(&max_iat, NOW),
        Want::Ok,
    );
    let ce_bad = replace_once(&ce, "\"iat\":1764115200", "\"iat\":1764115201")?;
    g.case(
        "a bad signature is invalid even when expired",
        "§7",
        &["Status", "Tampered", "Expiry"],
        v(&ce_bad, 1_795_651_200),
        Want::No("invalid"),
    );
    let sig = string_member(&c0, "sig")?;
    let tampered: Vec<(&str, String)> = vec![
        (
            "subject changed",
            replace_once(&c0, "github:alice", "github:alicf")?,
        ),
        (
            "iat changed",
            replace_once(&c0, "1764115200", "1764115201")?,
        ),
        (
            "exp added",
            replace_once(&c0, "{\"iat\"", "{\"exp\":1795651200,\"iat\"")?,
        ),
        (
            "first signature digit flipped",
            replace_once(&c0, sig, &flip_hex_digit(sig, 0)?)?,
        ),
        (
            "last signature digit flipped",
            replace_once(&c0, sig, &flip_hex_digit(sig, 127)?)?,
        ),
        (
            "key swapped for another valid key",
            replace_once(
                &c0,
                &keys.a.public().to_string(),
                &keys.b.public().to_string(),
            )?,
        ),
        (
            "signature of another claim",
            replace_once(
                &c0,
                sig,
                string_member(&claim(&keys.a, "github:bob", T0, None, &AUX0)?, "sig")?,
            )?,
        ),
        ("nostr signature digit flipped", {
            let s = string_member(&cn, "sig")?;
            replace_once(&cn, s, &flip_hex_digit(s, 64)?)?
        }),
        (
            "nostr key swapped for the Ed25519 key",
            replace_once(
                &cn,
                &keys.n.public().to_string(),
                &keys.a.public().to_string(),
            )?,
        ),
    ];
    for (what, text) in tampered {
        g.case(
            format!("tampered: {what}"),
            "§7",
            &["Status", "Tampered"],
            v(&text, NOW),
            Want::No("invalid"),
        );
    }
    let key = keys.a.public().to_string();
    let formatted: Vec<(&str, String, &[&'static str])> = vec![
        (
            "pretty-printed with every whitespace byte",
            format!(
                " \r\n{{\n\t\"iat\" : 1764115200 ,\r\n \"key\":\"{key}\",\n\"sig\":\"{sig}\",\n\"subject\":\"github:alice\",\n\"type\":\"kez-claim-v1\"\n}}\n\n"
            ),
            &["Formatting"],
        ),
        (
            "members in reverse order",
            format!(
                "{{\"type\":\"kez-claim-v1\",\"subject\":\"github:alice\",\"sig\":\"{sig}\",\"key\":\"{key}\",\"iat\":1764115200}}"
            ),
            &["Formatting"],
        ),
        (
            "escaped member names",
            format!(
                "{{\"\\u0069at\":1764115200,\"k\\u0065y\":\"{key}\",\"\\u0073ig\":\"{sig}\",\"subject\":\"github:alice\",\"\\u0074ype\":\"kez-claim-v1\"}}"
            ),
            &["Formatting", "Example"],
        ),
    ];
    for (what, text, flags) in formatted {
        g.case(
            format!("formatting: {what}"),
            "§5.2",
            flags,
            v(&text, NOW),
            Want::Ok,
        );
    }
    Ok(g)
}

#[allow(clippy::too_many_lines)]
fn parsing(keys: &Keys) -> R<Group> {
    let mut g = Group::new(
        Op::ClaimVerify,
        "Parsing a claim (§5.1, §5.4): errors, no status",
    );
    let c0 = claim(&keys.a, "github:alice", T0, None, &AUX0)?;
    let ce = claim(&keys.a, "github:alice", T0, Some(T0 + 1000), &AUX0)?;
    let key = keys.a.public().to_string();
    let sig = string_member(&c0, "sig")?.to_owned();
    let r = |from: &str, to: &str| replace_once(&c0, from, to);
    let re = |from: &str, to: &str| replace_once(&ce, from, to);
    let iat = "\"iat\":1764115200";
    let exp = "\"exp\":1764116200";
    let cases: Vec<(&str, String, &[&'static str], &'static str)> = vec![
        (
            "an unknown member",
            r("{", "{\"note\":\"hi\",")?,
            &["Member"],
            "bad_claim",
        ),
        (
            "a member name differing in case (Type)",
            r("\"type\"", "\"Type\"")?,
            &["Member"],
            "bad_claim",
        ),
        (
            "an unknown member with a nested object",
            r("{", "{\"x\":{\"y\":[1]},")?,
            &["Member"],
            "bad_claim",
        ),
        (
            "type missing",
            r(",\"type\":\"kez-claim-v1\"", "")?,
            &["Member"],
            "bad_claim",
        ),
        (
            "key missing",
            r(&format!("\"key\":\"{key}\","), "")?,
            &["Member"],
            "bad_claim",
        ),
        (
            "subject missing",
            r("\"subject\":\"github:alice\",", "")?,
            &["Member"],
            "bad_claim",
        ),
        (
            "iat missing",
            r(&format!("{iat},"), "")?,
            &["Member"],
            "bad_claim",
        ),
        (
            "sig missing",
            r(&format!("\"sig\":\"{sig}\","), "")?,
            &["Member"],
            "bad_claim",
        ),
        (
            "type kez-claim-v2",
            r("kez-claim-v1", "kez-claim-v2")?,
            &["Member"],
            "bad_claim",
        ),
        (
            "type kez-key-v1",
            r("kez-claim-v1", "kez-key-v1")?,
            &["Member"],
            "bad_claim",
        ),
        (
            "type not a string",
            r("\"kez-claim-v1\"", "[\"kez-claim-v1\"]")?,
            &["Member"],
            "bad_claim",
        ),
        (
            "key not a string",
            r(&format!("\"{key}\""), "1")?,
            &["Member"],
            "bad_claim",
        ),
        (
            "subject not a string",
            r("\"github:alice\"", "null")?,
            &["Member"],
            "bad_claim",
        ),
        (
            "sig not a string",
            r(&format!("\"{sig}\""), "0")?,
            &["Member"],
            "bad_claim",
        ),
        (
            "sig in uppercase hex",
            r(&sig, &sig.to_uppercase())?,
            &["Member"],
            "bad_claim",
        ),
        (
            "sig of 126 hex digits",
            r(&sig, sig.get(2..).unwrap_or_default())?,
            &["Member"],
            "bad_claim",
        ),
        (
            "sig of 130 hex digits",
            r(&sig, &format!("{sig}00"))?,
            &["Member"],
            "bad_claim",
        ),
        (
            "an escaped subject value (Example of §5.1)",
            r("\"github:alice\"", "\"github:\\u0061lice\"")?,
            &["Escape", "Example"],
            "bad_claim",
        ),
        (
            "an escaped type value",
            r("\"kez-claim-v1\"", "\"kez\\u002dclaim-v1\"")?,
            &["Escape"],
            "bad_claim",
        ),
        (
            "an escaped key value",
            r(
                &format!("\"{key}\""),
                &format!("\"ed25519:\\u0030{}\"", key.get(9..).unwrap_or_default()),
            )?,
            &["Escape"],
            "bad_claim",
        ),
        (
            "an escaped sig value",
            r(
                &format!("\"{sig}\""),
                &format!("\"\\u0063{}\"", sig.get(1..).unwrap_or_default()),
            )?,
            &["Escape"],
            "bad_claim",
        ),
        (
            "a \\/ escape in the subject",
            r("\"github:alice\"", "\"github:alice\\/\"")?,
            &["Escape"],
            "bad_claim",
        ),
        (
            "iat as a string",
            r(iat, "\"iat\":\"1764115200\"")?,
            &["Integer"],
            "bad_claim",
        ),
        (
            "iat -1",
            r(iat, "\"iat\":-1")?,
            &["Integer", "Example"],
            "bad_claim",
        ),
        (
            "iat -0",
            r(iat, "\"iat\":-0")?,
            &["Integer", "Example"],
            "bad_claim",
        ),
        (
            "iat 1.0",
            r(iat, "\"iat\":1.0")?,
            &["Integer", "Example"],
            "bad_claim",
        ),
        (
            "iat 1764115200.0",
            r(iat, "\"iat\":1764115200.0")?,
            &["Integer", "Example"],
            "bad_claim",
        ),
        (
            "iat 1e3",
            r(iat, "\"iat\":1e3")?,
            &["Integer", "Example"],
            "bad_claim",
        ),
        (
            "iat 1.7641152e9",
            r(iat, "\"iat\":1.7641152e9")?,
            &["Integer", "Example"],
            "bad_claim",
        ),
        (
            "iat 9007199254740992 (2^53)",
            r(iat, "\"iat\":9007199254740992")?,
            &["Integer", "Example"],
            "bad_claim",
        ),
        (
            "iat with 17 digits",
            r(iat, "\"iat\":10000000000000000")?,
            &["Integer"],
            "bad_claim",
        ),
        (
            "iat null",
            r(iat, "\"iat\":null")?,
            &["Integer"],
            "bad_claim",
        ),
        (
            "iat 01 is not JSON",
            r(iat, "\"iat\":01")?,
            &["Integer", "Json", "Example"],
            "json_syntax",
        ),
        (
            "exp = iat",
            re(exp, "\"exp\":1764115200")?,
            &["Integer"],
            "bad_claim",
        ),
        (
            "exp < iat",
            re(exp, "\"exp\":1764115199")?,
            &["Integer"],
            "bad_claim",
        ),
        ("exp 0", re(exp, "\"exp\":0")?, &["Integer"], "bad_claim"),
        (
            "exp 2^53",
            re(exp, "\"exp\":9007199254740992")?,
            &["Integer"],
            "bad_claim",
        ),
        (
            "exp 1.7641162e9",
            re(exp, "\"exp\":1.7641162e9")?,
            &["Integer"],
            "bad_claim",
        ),
        (
            "exp as a string",
            re(exp, "\"exp\":\"1764116200\"")?,
            &["Integer"],
            "bad_claim",
        ),
        (
            "exp null",
            re(exp, "\"exp\":null")?,
            &["Integer"],
            "bad_claim",
        ),
        (
            "a duplicate member",
            r(iat, &format!("{iat},{iat}"))?,
            &["Json"],
            "duplicate_key",
        ),
        (
            "a duplicate member spelled with an escape",
            r(iat, &format!("{iat},\"\\u0069at\":1"))?,
            &["Json"],
            "duplicate_key",
        ),
        (
            "a trailing comma",
            r("\"kez-claim-v1\"}", "\"kez-claim-v1\",}")?,
            &["Json"],
            "json_syntax",
        ),
        (
            "trailing data",
            format!("{c0} x"),
            &["Json"],
            "trailing_data",
        ),
        (
            "a lone surrogate escape in the subject",
            r("\"github:alice\"", "\"github:\\ud800\"")?,
            &["Json", "Escape"],
            "lone_surrogate",
        ),
        (
            "an overflowing number in an unknown member",
            r("{", "{\"n\":1e400,")?,
            &["Json"],
            "bad_number",
        ),
        (
            "33 levels of nesting in an unknown member",
            r(
                "{",
                &format!("{{\"n\":{}{},", "[".repeat(32), "]".repeat(32)),
            )?,
            &["Json"],
            "too_deep",
        ),
        (
            "an unknown member comes before a bad type",
            r("{", "{\"a\":1,")?.replace("kez-claim-v1", "x"),
            &["Precedence", "Member"],
            "bad_claim",
        ),
        (
            "type is checked before key",
            r("kez-claim-v1", "x")?.replace(&key, "ed25519:00"),
            &["Precedence", "Member"],
            "bad_claim",
        ),
        (
            "key is checked before subject",
            r(&key, "ed25519:00")?.replace("github:alice", "github:-a"),
            &["Precedence", "KeyRef"],
            "bad_key",
        ),
        (
            "subject is checked before iat",
            r("github:alice", "github:-a")?.replace(iat, "\"iat\":-1"),
            &["Precedence"],
            "bad_subject",
        ),
        (
            "a bad key ref wins over a malformed sig",
            r(&key, &key.to_uppercase().replace("ED25519:", "ed25519:"))?.replace(&sig, "00"),
            &["Precedence", "KeyRef"],
            "bad_key",
        ),
        (
            "JSON errors come first: a duplicate and an unknown member",
            r("{", "{\"x\":1,\"x\":2,")?,
            &["Precedence", "Json"],
            "duplicate_key",
        ),
    ];
    for (what, text, flags, class) in cases {
        let spec = if flags.contains(&"Precedence") {
            "§5.4"
        } else {
            "§5.1"
        };
        g.case(what, spec, flags, v(&text, NOW), Want::Class(class));
    }
    Ok(g)
}

/// The §5.6 claim with its key member replaced by `key` (parse fails or the signature does not
/// verify).
fn with_key(c0: &str, old: &str, key: &str) -> R<String> {
    replace_once(
        c0,
        &format!("\"key\":\"{old}\""),
        &format!("\"key\":\"{key}\""),
    )
}

fn key_refs(keys: &Keys) -> R<Group> {
    let mut g = Group::new(
        Op::ClaimVerify,
        "Key references inside a claim (§3.1, §3.2): bad_key",
    );
    let c0 = claim(&keys.a, "github:alice", T0, None, &AUX0)?;
    let ka = keys.a.public().to_string();
    let kn = keys.n.public().to_string();
    let npub_n = kn.strip_prefix("nostr:").unwrap_or_default();
    let n_bytes = *keys.n.public().as_bytes();
    let hex_a = ka.strip_prefix("ed25519:").unwrap_or_default();
    let mut x5 = [0u8; 32];
    if let Some(l) = x5.last_mut() {
        *l = 5;
    }
    let zeros = "00".repeat(31);
    let bad: Vec<(&str, String)> = vec![
        (
            "an uppercase npub",
            format!("nostr:{}", npub_n.to_uppercase()),
        ),
        ("an uppercase prefix NOSTR:", format!("NOSTR:{npub_n}")),
        ("an npub without nostr:", npub_n.to_owned()),
        (
            "a hex nostr key",
            format!("nostr:{}", crate::fixtures::hex(&n_bytes)),
        ),
        (
            "an nsec instead of an npub",
            format!("nostr:nsec1{}", npub_n.get(5..).unwrap_or_default()),
        ),
        ("an npub with a wrong checksum", {
            let mut s = kn.clone();
            s.pop();
            s.push(if kn.ends_with('q') { 'p' } else { 'q' });
            s
        }),
        (
            "an npub with a bech32m checksum",
            format!("nostr:{}", npub(&n_bytes, BECH32M, 0)),
        ),
        (
            "an npub with non-zero padding bits",
            format!("nostr:{}", npub(&n_bytes, BECH32, 2)),
        ),
        (
            "an npub whose x has no curve point",
            format!("nostr:{}", npub(&x5, BECH32, 0)),
        ),
        (
            "an npub one character short",
            kn.get(..kn.len() - 1).unwrap_or_default().to_owned(),
        ),
        (
            "ed25519 in uppercase hex",
            format!("ed25519:{}", hex_a.to_uppercase()),
        ),
        ("an uppercase prefix ED25519:", format!("ED25519:{hex_a}")),
        (
            "ed25519 with 62 hex digits",
            format!("ed25519:{}", hex_a.get(2..).unwrap_or_default()),
        ),
        ("ed25519 with 66 hex digits", format!("ed25519:{hex_a}00")),
        ("an unknown suite", format!("secp256k1:{hex_a}")),
        (
            "ed25519: y = 2 is not on the curve (§3.2)",
            format!("ed25519:02{zeros}"),
        ),
        (
            "ed25519: the neutral element, small order (§3.2)",
            format!("ed25519:01{zeros}"),
        ),
        (
            "ed25519: y = -1, order 2",
            format!("ed25519:ec{}7f", "ff".repeat(30)),
        ),
        (
            "ed25519: a point of order 8",
            "ed25519:26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05".to_owned(),
        ),
        (
            "ed25519: y = p + 3, non-canonical (§3.2)",
            format!("ed25519:f0{}7f", "ff".repeat(30)),
        ),
        (
            "ed25519: y = 1 with the sign bit set",
            format!("ed25519:01{}80", "00".repeat(30)),
        ),
    ];
    for (what, key) in bad {
        let spec = if what.contains("§3.2") {
            "§3.2"
        } else {
            "§3.1"
        };
        g.case(
            format!("key: {what}"),
            spec,
            &["KeyRef"],
            v(&with_key(&c0, &ka, &key)?, NOW),
            Want::Class("bad_key"),
        );
    }
    g.case(
        "key: y = 3 is a point of mixed order, a valid key (§3.2): the claim parses, its signature does not verify",
        "§3.2",
        &["KeyRef", "Example", "Status"],
        v(&with_key(&c0, &ka, &format!("ed25519:03{zeros}"))?, NOW),
        Want::No("invalid"),
    );
    g.case(
        "key: a valid nostr key that did not sign: invalid, not an error",
        "§3.1",
        &["KeyRef", "Status"],
        v(&with_key(&c0, &ka, &kn)?, NOW),
        Want::No("invalid"),
    );
    Ok(g)
}

fn size(keys: &Keys) -> R<Group> {
    let mut g = Group::new(Op::ClaimVerify, "MAX_CLAIM_JSON (§5.3), both sides");
    let c0 = claim(&keys.a, "github:alice", T0, None, &AUX0)?;
    let padded = |total: usize| -> R<String> {
        let n = total.checked_sub(c0.len()).ok_or("pad")?;
        replace_once(&c0, "{", &format!("{{{}", " ".repeat(n)))
    };
    g.case(
        "65536 bytes (spaces inside the object): accepted",
        "§5.3",
        &["SizeLimit", "Status"],
        v(&padded(65_536)?, NOW),
        Want::Ok,
    );
    g.case(
        "65537 bytes: too_large",
        "§5.3",
        &["SizeLimit"],
        v(&padded(65_537)?, NOW),
        Want::Class("too_large"),
    );
    g.case(
        "70000 trailing spaces are trimmed by auto-detection before the size check",
        "§5.3",
        &["SizeLimit", "Status"],
        v(&format!("{c0}{}", " ".repeat(70_000)), NOW),
        Want::Ok,
    );
    g.case(
        "65537 bytes whose claim is also malformed: too_large comes first",
        "§5.4",
        &["SizeLimit", "Precedence"],
        v(
            &padded(65_537)?.replace("kez-claim-v1", "kez-claim-v9"),
            NOW,
        ),
        Want::Class("too_large"),
    );
    Ok(g)
}

#[allow(clippy::too_many_lines)]
fn chains(keys: &Keys) -> R<Group> {
    let mut g = Group::new(
        Op::ClaimVerify,
        "Claims judged against a sigchain (§14.8, §11.7 claim verify --chain)",
    );
    let day = 86_400;
    // the worked example of §14.10
    let c1 = claim(&keys.a, "github:alice", T0, None, &AUX0)?;
    let mut w = ChainBuilder::new();
    w.push(
        T0,
        &Draft::AddClaim {
            subject: "github:alice",
            exp: None,
        },
        &keys.a,
        &AUX0,
    )?;
    w.push(
        T0 + day,
        &Draft::Rotate { new_key: &keys.b },
        &keys.a,
        &AUX0,
    )?;
    w.push(
        T0 + 2 * day,
        &Draft::Revoke {
            claim: claim_id(&keys.a, "github:alice", T0, None),
        },
        &keys.b,
        &AUX0,
    )?;
    let wb = w.bundle();
    let now_w = T0 + 2 * day;
    let a_other = claim(&keys.a, "dns:alice.example", T0 + 100, None, &AUX0)?;
    let b_other = claim(&keys.b, "dns:alice.example", T0 + 100, None, &AUX0)?;
    let x_claim = claim(&keys.x, "github:alice", T0, None, &AUX0)?;
    g.case(
        "§14.10: the recorded claim revoked by link 3",
        "§14.10",
        &["Example", "Chain"],
        vc(&c1, now_w, &wb),
        Want::No("revoked"),
    );
    g.case(
        "§14.10: an unrecorded claim by A, rotated out by link 2",
        "§14.4",
        &["Example", "Chain"],
        vc(&a_other, now_w, &wb),
        Want::No("revoked"),
    );
    g.case(
        "§14.10: an unrecorded claim by B, the current primary key",
        "§14.8",
        &["Example", "Chain"],
        vc(&b_other, now_w, &wb),
        Want::Ok,
    );
    g.case(
        "§14.10: a claim by a key the chain does not know",
        "§14.8",
        &["Example", "Chain"],
        vc(&x_claim, now_w, &wb),
        Want::No("invalid"),
    );
    let sig = string_member(&c1, "sig")?;
    let c1_bad = replace_once(&c1, sig, &flip_hex_digit(sig, 10)?)?;
    g.case(
        "a bad signature is invalid whatever the chain says",
        "§11.7",
        &["Chain"],
        vc(&c1_bad, now_w, &wb),
        Want::No("invalid"),
    );
    let b_exp = claim(
        &keys.b,
        "dns:alice.example",
        T0 + 100,
        Some(T0 + 200),
        &AUX0,
    )?;
    g.case(
        "an unrecorded claim by the primary key, expired: expired",
        "§11.7",
        &["Chain", "Expiry"],
        vc(&b_exp, now_w, &wb),
        Want::No("expired"),
    );

    // a chain with a device
    let mut c = ChainBuilder::new();
    c.push(
        T0,
        &Draft::AddClaim {
            subject: "github:alice",
            exp: None,
        },
        &keys.a,
        &AUX0,
    )?;
    c.push(
        T0,
        &Draft::AddClaim {
            subject: "dns:alice.example",
            exp: Some(T0 + 1000),
        },
        &keys.a,
        &AUX0,
    )?;
    c.push(
        T0 + 10,
        &Draft::AddDevice { device: &keys.d },
        &keys.a,
        &AUX0,
    )?;
    c.push(
        T0 + 20,
        &Draft::AddClaim {
            subject: "bluesky:alice.example",
            exp: None,
        },
        &keys.d,
        &AUX0,
    )?;
    let cb = c.bundle();
    let rec_exp = claim(&keys.a, "dns:alice.example", T0, Some(T0 + 1000), &AUX0)?;
    let dev_rec = claim(&keys.d, "bluesky:alice.example", T0 + 20, None, &AUX0)?;
    let dev_new = claim(&keys.d, "ap:@alice@social.example", T0 + 30, None, &AUX0)?;
    let a_new = claim(&keys.a, "github:bob", T0 + 50, None, &AUX0)?;
    g.case(
        "a recorded claim: valid",
        "§14.8",
        &["Chain"],
        vc(&c1, NOW, &cb),
        Want::Ok,
    );
    g.case(
        "a recorded claim with exp at exp - 1: valid",
        "§14.8",
        &["Chain", "Expiry"],
        vc(&rec_exp, T0 + 999, &cb),
        Want::Ok,
    );
    g.case(
        "a recorded claim with exp at exp: expired",
        "§14.8",
        &["Chain", "Expiry"],
        vc(&rec_exp, T0 + 1000, &cb),
        Want::No("expired"),
    );
    g.case(
        "a claim recorded by a device: valid",
        "§14.8",
        &["Chain"],
        vc(&dev_rec, NOW, &cb),
        Want::Ok,
    );
    g.case(
        "an unrecorded claim by an active device: valid",
        "§14.8",
        &["Chain"],
        vc(&dev_new, NOW, &cb),
        Want::Ok,
    );
    g.case(
        "an unrecorded claim by the primary key: valid",
        "§14.8",
        &["Chain"],
        vc(&a_new, NOW, &cb),
        Want::Ok,
    );
    let mut removed = c.clone();
    removed.push(
        T0 + 40,
        &Draft::RemoveDevice {
            device: *keys.d.public(),
        },
        &keys.a,
        &AUX0,
    )?;
    let rb = removed.bundle();
    g.case(
        "after remove_device: an unrecorded claim by the removed device is revoked",
        "§14.4",
        &["Chain"],
        vc(&dev_new, NOW, &rb),
        Want::No("revoked"),
    );
    g.case(
        "after remove_device: the claim the device recorded stays valid",
        "§14.4",
        &["Chain"],
        vc(&dev_rec, NOW, &rb),
        Want::Ok,
    );
    let mut revoked = c.clone();
    revoked.push(
        T0 + 40,
        &Draft::Revoke {
            claim: claim_id(&keys.a, "dns:alice.example", T0, Some(T0 + 1000)),
        },
        &keys.a,
        &AUX0,
    )?;
    g.case(
        "revoked and expired: revoked wins",
        "§11.7",
        &["Chain", "Expiry"],
        vc(&rec_exp, T0 + 2000, &revoked.bundle()),
        Want::No("revoked"),
    );

    // nostr chain: the claim id does not depend on the signature
    let mut n = ChainBuilder::new();
    n.push(
        T0,
        &Draft::AddClaim {
            subject: "github:alice",
            exp: None,
        },
        &keys.n,
        &AUX0,
    )?;
    let nb = n.bundle();
    let cn0 = claim(&keys.n, "github:alice", T0, None, &AUX0)?;
    let cn1 = claim(
        &keys.n,
        "github:alice",
        T0,
        None,
        &seed_of("claims_verify/aux"),
    )?;
    g.case(
        "nostr chain: the recorded claim",
        "§14.5",
        &["Chain"],
        vc(&cn0, NOW, &nb),
        Want::Ok,
    );
    g.case(
        "nostr chain: the same claim signed with another aux is the same claim id",
        "§14.5",
        &["Chain"],
        vc(&cn1, NOW, &nb),
        Want::Ok,
    );

    // empty, forked, broken, malformed chains
    g.case(
        "an empty chain: invalid",
        "§14.8",
        &["Chain"],
        vc(&c1, NOW, ""),
        Want::No("invalid"),
    );
    let mut fork = ChainBuilder::new();
    fork.push(
        T0,
        &Draft::AddClaim {
            subject: "github:alice",
            exp: None,
        },
        &keys.a,
        &AUX0,
    )?;
    let head1 = fork.clone();
    fork.push(
        T0 + 1,
        &Draft::AddClaim {
            subject: "github:bob",
            exp: None,
        },
        &keys.a,
        &AUX0,
    )?;
    let mut other = head1.clone();
    other.push(
        T0 + 1,
        &Draft::AddClaim {
            subject: "github:carol",
            exp: None,
        },
        &keys.a,
        &AUX0,
    )?;
    let forked = bundle(&[
        fork.lines.first().ok_or("line")?.as_str(),
        fork.lines.get(1).ok_or("line")?.as_str(),
        other.lines.get(1).ok_or("line")?.as_str(),
    ]);
    g.case(
        "a forked chain: fork, even for its recorded claim",
        "§14.9",
        &["Chain"],
        vc(&c1, NOW, &forked),
        Want::No("fork"),
    );
    g.case(
        "a forked chain: fork, even for a key it does not know",
        "§11.7",
        &["Chain"],
        vc(&x_claim, NOW, &forked),
        Want::No("fork"),
    );
    g.case(
        "a forked chain: a bad signature is still invalid",
        "§11.7",
        &["Chain"],
        vc(&c1_bad, NOW, &forked),
        Want::No("invalid"),
    );
    let gap = bundle(&[
        w.lines.first().ok_or("line")?.as_str(),
        w.lines.get(2).ok_or("line")?.as_str(),
    ]);
    g.case(
        "a chain that breaks a rule (seq_gap): invalid, even for its recorded claim",
        "§11.7",
        &["Chain"],
        vc(&c1, now_w, &gap),
        Want::No("invalid"),
    );
    let spaced = bundle(&[w.lines.first().ok_or("line")?.replacen(':', ": ", 1)]);
    g.case(
        "a chain whose line is not canonical: invalid",
        "§11.7",
        &["Chain"],
        vc(&c1, NOW, &spaced),
        Want::No("invalid"),
    );
    let unterminated = wb.trim_end_matches('\n').to_owned();
    g.case(
        "a chain without its final LF: exit 2, bad_link",
        "§11.7",
        &["Chain", "ChainMalformed"],
        vc(&c1, now_w, &unterminated),
        Want::Class("bad_link"),
    );
    g.case(
        "a malformed chain is an error even when the claim's signature fails",
        "§11.7",
        &["Chain", "ChainMalformed"],
        vc(&c1_bad, now_w, &unterminated),
        Want::Class("bad_link"),
    );
    g.case(
        "a chain with an empty line: bad_link",
        "§14.6",
        &["Chain", "ChainMalformed"],
        vc(&c1, now_w, &format!("\n{wb}")),
        Want::Class("bad_link"),
    );
    g.case(
        "a chain line that is not JSON: json_syntax",
        "§11.7",
        &["Chain", "ChainMalformed"],
        vc(&c1, now_w, &format!("{wb}not json\n")),
        Want::Class("json_syntax"),
    );
    let bad_claim = replace_once(&c1, "kez-claim-v1", "kez-claim-v2")?;
    g.case(
        "a malformed claim is reported before a malformed chain",
        "§11.7",
        &["Chain", "ChainMalformed", "Member"],
        vc(&bad_claim, now_w, &unterminated),
        Want::Class("bad_claim"),
    );
    Ok(g)
}

fn arguments(keys: &Keys) -> R<Group> {
    let mut g = Group::new(Op::ClaimVerify, "--now arguments (§11.2)");
    let c0 = claim(&keys.a, "github:alice", T0, None, &AUX0)?;
    for (what, now) in [
        ("2^64", "18446744073709551616"),
        ("-1", "-1"),
        ("1e9", "1e9"),
        ("empty", ""),
        ("hex", "0x10"),
    ] {
        g.case(
            format!("--now {what} is a usage error"),
            "§11.2",
            &["Usage"],
            json!({"text": c0, "now": now}),
            Want::Class("usage"),
        );
    }
    g.case(
        "--now given as the decimal string 2^64 - 1",
        "§11.2",
        &["Usage", "Status"],
        json!({"text": c0, "now": "18446744073709551615"}),
        Want::Ok,
    );
    Ok(g)
}
