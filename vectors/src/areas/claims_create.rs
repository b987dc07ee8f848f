//! `claims_create.json`: creating claims in the four encodings, the key file reader, and the
//! errors of `claim create` (SPEC.md §3.3, §5.5, §9, through `kez claim create`, §11.5).

use kez_core::SecretKey;
use serde_json::{Map, Value};

use crate::envelope::{Area, Group, Op, Want};
use crate::fixtures::{AUX0, Keys, MAX_INT, R, SECP_N, T0, hex, keyfile, replace_once, seed_of};

const NOTES: &[(&str, &str)] = &[
    ("Example", "An example of SPEC.md itself (§5.6, §9)."),
    (
        "Ed25519",
        "Signed with an Ed25519 key: deterministic, aux is ignored.",
    ),
    ("Nostr", "Signed with a nostr key and a fixed --aux."),
    (
        "Json",
        "format json: stdout is the canonical claim + LF, exactly.",
    ),
    (
        "Encoded",
        "format compact, markdown or dns: the runner decodes stdout with `claim convert --to json` and compares with stdout_decoded, and checks stdout_prefix.",
    ),
    ("Exp", "A claim with exp."),
    ("IntRange", "iat and exp at and beyond 2^53 - 1."),
    (
        "KeyFile",
        "How a key file is read (§3.3): what is accepted, and bad_key_file for everything else.",
    ),
    ("KeyFileLimit", "MAX_KEYFILE = 4096 bytes, both sides."),
    ("Subject", "A subject that does not normalize: bad_subject."),
    ("Usage", "A malformed --aux or N argument: usage."),
    (
        "Precedence",
        "Several defects: the class of the first failing check.",
    ),
];

pub(crate) fn input(
    key_file: &str,
    subject: &str,
    iat: u64,
    exp: Option<u64>,
    aux: Option<&str>,
    format: &str,
) -> Value {
    let mut m = Map::new();
    m.insert("key_file".into(), key_file.into());
    m.insert("subject".into(), subject.into());
    m.insert("iat".into(), iat.into());
    if let Some(exp) = exp {
        m.insert("exp".into(), exp.into());
    }
    if let Some(aux) = aux {
        m.insert("aux".into(), aux.into());
    }
    m.insert("format".into(), format.into());
    Value::Object(m)
}

#[allow(clippy::too_many_lines)]
pub(crate) fn area(keys: &Keys) -> R<Area> {
    let mut area = Area::new("claims_create", NOTES);
    let kf_a = keyfile(&keys.a)?;
    let kf_n = keyfile(&keys.n)?;
    let aux0 = hex(&AUX0);
    let aux1 = hex(&seed_of("claims_create/aux"));

    let mut g = Group::new(
        Op::ClaimCreate,
        "The claims of §5.6 and variations, format json",
    );
    g.case(
        "§5.6: Ed25519, github:alice, no exp",
        "§5.6",
        &["Example", "Ed25519", "Json"],
        input(&kf_a, "github:alice", T0, None, None, "json"),
        Want::Ok,
    );
    g.case(
        "§5.6: nostr key of §3.3 with --aux of 32 zero bytes",
        "§5.6",
        &["Example", "Nostr", "Json"],
        input(&kf_n, "github:alice", T0, None, Some(&aux0), "json"),
        Want::Ok,
    );
    g.case(
        "§5.6: with exp, subject dns:Bücher.Example. normalized",
        "§5.6",
        &["Example", "Ed25519", "Json", "Exp"],
        input(
            &kf_a,
            "dns:Bücher.Example.",
            T0,
            Some(1_795_651_200),
            None,
            "json",
        ),
        Want::Ok,
    );
    g.case(
        "Ed25519 ignores --aux: same bytes as without it",
        "§11.5",
        &["Ed25519", "Json"],
        input(&kf_a, "github:alice", T0, None, Some(&aux1), "json"),
        Want::Ok,
    );
    g.case(
        "nostr with another aux",
        "§4.1",
        &["Nostr", "Json"],
        input(&kf_n, "github:alice", T0, None, Some(&aux1), "json"),
        Want::Ok,
    );
    g.case(
        "nostr, --aux in uppercase hex",
        "§11.2",
        &["Nostr", "Json"],
        input(
            &kf_n,
            "github:alice",
            T0,
            None,
            Some(&aux1.to_uppercase()),
            "json",
        ),
        Want::Ok,
    );
    // the key file holding n - d instead of d: same public key, same BIP-340 signatures
    let n_minus = SecretKey::from_bytes(
        kez_core::Alg::Bip340,
        &crate::fixtures::unhex32(
            "fffefdfcfbfaf9f8f7f6f5f4f3f2f1efaa9dcad39b338a24a7b94471b4192322",
        )?,
    )
    .map_err(|e| e.to_string())?;
    if n_minus.public() != keys.n.public() {
        return Err("n - d does not have the public key of d".into());
    }
    g.case(
        "nostr key file holding n - d (§3.3): same claim bytes as the file holding d",
        "§3.3",
        &["Example", "Nostr", "Json", "KeyFile"],
        input(
            &keyfile(&n_minus)?,
            "github:alice",
            T0,
            None,
            Some(&aux0),
            "json",
        ),
        Want::Ok,
    );
    let subjects = [
        "GitHub:@Alice",
        "dns:Alice.Example.",
        "bluesky:@Alice.BSKY.social",
        "mastodon:@Alice@Social.Example",
        "ap:bob@host.example",
        "nostr:NPUB1D4K24SJG47T0DTA8LYZ025P98G8NAUL44GH7DQU2JKEPV6G5DR3Q97C7HA",
    ];
    for s in subjects {
        g.case(
            format!("Ed25519, subject {s} (normalized before signing)"),
            "§5.5",
            &["Ed25519", "Json"],
            input(&kf_a, s, T0, None, None, "json"),
            Want::Ok,
        );
    }
    g.case(
        "nostr key, a dns subject with exp",
        "§5.5",
        &["Nostr", "Json", "Exp"],
        input(
            &kf_n,
            "dns:alice.example",
            T0,
            Some(T0 + 86_400),
            Some(&aux0),
            "json",
        ),
        Want::Ok,
    );
    g.case(
        "iat 0",
        "§5.1",
        &["Ed25519", "Json", "IntRange"],
        input(&kf_a, "github:alice", 0, None, None, "json"),
        Want::Ok,
    );
    g.case(
        "exp = iat + 1",
        "§5.5",
        &["Ed25519", "Json", "Exp"],
        input(&kf_a, "github:alice", T0, Some(T0 + 1), None, "json"),
        Want::Ok,
    );
    g.case(
        "iat = 2^53 - 1 without exp",
        "§5.5",
        &["Ed25519", "Json", "IntRange"],
        input(&kf_a, "github:alice", MAX_INT, None, None, "json"),
        Want::Ok,
    );
    g.case(
        "iat = 2^53 - 2, exp = 2^53 - 1",
        "§5.5",
        &["Ed25519", "Json", "IntRange", "Exp"],
        input(
            &kf_a,
            "github:alice",
            MAX_INT - 1,
            Some(MAX_INT),
            None,
            "json",
        ),
        Want::Ok,
    );
    area.push(g);

    let mut g = Group::new(
        Op::ClaimCreate,
        "Formats compact, markdown and dns (compared after decoding)",
    );
    for (kf, alg, aux, flag) in [
        (&kf_a, "Ed25519", None, "Ed25519"),
        (&kf_n, "nostr", Some(aux0.as_str()), "Nostr"),
    ] {
        for subject in [
            "github:alice",
            "dns:alice.example",
            "ap:@alice@social.example",
        ] {
            for format in ["compact", "markdown", "dns"] {
                g.case(
                    format!("{alg}, {subject}, format {format}"),
                    "§11.5",
                    &[flag, "Encoded"],
                    input(kf, subject, T0, None, aux, format),
                    Want::Ok,
                );
            }
        }
    }
    g.case(
        "§9.4: the claim with exp in dns format is a zone-file line",
        "§9.4",
        &["Example", "Ed25519", "Encoded", "Exp"],
        input(
            &kf_a,
            "dns:Bücher.Example.",
            T0,
            Some(1_795_651_200),
            None,
            "dns",
        ),
        Want::Ok,
    );
    area.push(g);

    let mut g = Group::new(
        Op::ClaimCreate,
        "Key files (§3.3): accepted forms and bad_key_file",
    );
    let canonical = kf_a.trim_end();
    let key_ref = keys.a.public().to_string();
    let secret = hex(&keys.a.secret_bytes());
    let ok_files: Vec<(&str, String)> = vec![
        (
            "the canonical file without its final LF",
            canonical.to_owned(),
        ),
        (
            "members in another order, with whitespace",
            format!(
                "\n {{ \"type\" : \"kez-key-v1\",\n  \"secret\": \"{secret}\",\t\"key\":\"{key_ref}\" }}\r\n\n"
            ),
        ),
        (
            "escaped member names are compared after unescaping",
            format!(
                "{{\"\\u006bey\":\"{key_ref}\",\"secret\":\"{secret}\",\"typ\\u0065\":\"kez-key-v1\"}}"
            ),
        ),
        (
            "exactly 4096 bytes (padded with spaces)",
            pad(canonical, 4096)?,
        ),
    ];
    for (what, file) in ok_files {
        let flags: &[&'static str] = if what.starts_with("exactly") {
            &["KeyFile", "KeyFileLimit", "Json"]
        } else {
            &["KeyFile", "Json"]
        };
        g.case(
            format!("key file: {what}"),
            "§3.3",
            flags,
            input(&file, "github:alice", T0, None, None, "json"),
            Want::Ok,
        );
    }
    let other_key = keys.b.public().to_string();
    let bad_files: Vec<(&str, String)> = vec![
        ("4097 bytes (padded with spaces)", pad(canonical, 4097)?),
        ("empty", String::new()),
        ("not JSON", "kez-key-v1".to_owned()),
        ("a JSON array", format!("[\"{key_ref}\",\"{secret}\"]")),
        ("trailing data", format!("{canonical} x")),
        (
            "a duplicate member",
            replace_once(canonical, "\"type\"", "\"secret\":\"00\",\"type\"")?,
        ),
        (
            "an extra member",
            replace_once(canonical, "{", "{\"alg\":\"ed25519\",")?,
        ),
        (
            "type missing",
            replace_once(canonical, ",\"type\":\"kez-key-v1\"", "")?,
        ),
        (
            "secret missing",
            replace_once(canonical, &format!("\"secret\":\"{secret}\","), "")?,
        ),
        (
            "key missing",
            replace_once(canonical, &format!("\"key\":\"{key_ref}\","), "")?,
        ),
        (
            "type kez-key-v2",
            replace_once(canonical, "kez-key-v1", "kez-key-v2")?,
        ),
        (
            "type not a string",
            replace_once(canonical, "\"kez-key-v1\"", "1")?,
        ),
        (
            "an escape in the type value",
            replace_once(canonical, "kez-key-v1", "kez\\u002dkey-v1")?,
        ),
        (
            "an escape in the secret value",
            replace_once(
                canonical,
                &format!("\"{secret}\""),
                &format!("\"\\u0030{}\"", secret.get(1..).unwrap_or_default()),
            )?,
        ),
        (
            "uppercase secret hex",
            replace_once(canonical, &secret, &secret.to_uppercase())?,
        ),
        (
            "a 62-digit secret",
            replace_once(canonical, &secret, secret.get(2..).unwrap_or_default())?,
        ),
        (
            "a key that does not match the secret",
            replace_once(canonical, &key_ref, &other_key)?,
        ),
        (
            "a key reference in uppercase hex",
            replace_once(
                canonical,
                &key_ref,
                &key_ref.to_uppercase().replace("ED25519:", "ed25519:"),
            )?,
        ),
        (
            "a nostr file whose secret is 0",
            replace_once(
                kf_n.trim_end(),
                &hex(&keys.n.secret_bytes()),
                &"00".repeat(32),
            )?,
        ),
        (
            "a nostr file whose secret is n",
            replace_once(kf_n.trim_end(), &hex(&keys.n.secret_bytes()), SECP_N)?,
        ),
        (
            "a nostr key file naming another nostr key",
            replace_once(
                kf_n.trim_end(),
                &keys.n.public().to_string(),
                &keys.m.public().to_string(),
            )?,
        ),
    ];
    for (what, file) in bad_files {
        let flags: &[&'static str] = if what.starts_with("4097") {
            &["KeyFile", "KeyFileLimit"]
        } else {
            &["KeyFile"]
        };
        g.case(
            format!("key file: {what}"),
            "§3.3",
            flags,
            input(&file, "github:alice", T0, None, None, "json"),
            Want::Class("bad_key_file"),
        );
    }
    area.push(g);

    let mut g = Group::new(Op::ClaimCreate, "Errors of claim create (§5.5, §11.5)");
    for s in [
        "github:-a",
        "dns:localhost",
        "nostr:npub1x",
        "bluesky:alice",
        "ap:alice",
        "web:alice",
        "github",
    ] {
        g.case(
            format!("subject {s}"),
            "§5.5",
            &["Subject"],
            input(&kf_a, s, T0, None, None, "json"),
            Want::Class("bad_subject"),
        );
    }
    let bad_ints: &[(&str, u64, Option<u64>, &[&'static str])] = &[
        ("exp = iat", T0, Some(T0), &["Exp"]),
        ("exp < iat", T0, Some(T0 - 1), &["Exp"]),
        ("exp = 0", T0, Some(0), &["Exp"]),
        ("iat = 2^53", MAX_INT + 1, None, &["IntRange"]),
        ("exp = 2^53", T0, Some(MAX_INT + 1), &["IntRange", "Exp"]),
        (
            "iat = 2^53 - 1 and exp = 2^53",
            MAX_INT,
            Some(MAX_INT + 1),
            &["IntRange", "Exp"],
        ),
        ("iat = 2^64 - 1", u64::MAX, None, &["IntRange"]),
    ];
    for (what, iat, exp, flags) in bad_ints {
        g.case(
            format!("{what} is bad_claim"),
            "§5.5",
            flags,
            input(&kf_a, "github:alice", *iat, *exp, None, "json"),
            Want::Class("bad_claim"),
        );
    }
    g.case(
        "a bad subject wins over exp <= iat (subject first, §5.5)",
        "§5.5",
        &["Precedence", "Subject"],
        input(&kf_a, "github:-a", T0, Some(T0), None, "json"),
        Want::Class("bad_subject"),
    );
    g.case(
        "a bad key file wins over a bad subject (§11.5)",
        "§11.5",
        &["Precedence", "KeyFile"],
        input("{}", "github:-a", T0, None, None, "json"),
        Want::Class("bad_key_file"),
    );
    for (what, name, value) in [
        ("--iat 2^64", "iat", "18446744073709551616"),
        ("--iat -1", "iat", "-1"),
        ("--exp 1e9", "exp", "1e9"),
        ("an empty --iat", "iat", ""),
    ] {
        let mut inp = input(&kf_a, "github:alice", T0, None, None, "json");
        if let Value::Object(m) = &mut inp {
            m.insert(name.into(), value.into());
        }
        g.case(
            format!("{what} is a usage error (N is a decimal integer below 2^64)"),
            "§11.2",
            &["Usage"],
            inp,
            Want::Class("usage"),
        );
    }
    g.case(
        "--iat 2^64 - 1 is a valid argument, then bad_claim",
        "§11.2",
        &["IntRange"],
        {
            let mut inp = input(&kf_a, "github:alice", T0, None, None, "json");
            if let Value::Object(m) = &mut inp {
                m.insert("iat".into(), "18446744073709551615".into());
            }
            inp
        },
        Want::Class("bad_claim"),
    );
    for (what, aux) in [
        ("63 hex digits", "0".repeat(63)),
        ("62 hex digits", "0".repeat(62)),
        ("a non-hex digit", format!("{}x", "0".repeat(63))),
    ] {
        g.case(
            format!("--aux with {what} is a usage error"),
            "§11.5",
            &["Usage", "Nostr"],
            input(&kf_n, "github:alice", T0, None, Some(&aux), "json"),
            Want::Class("usage"),
        );
    }
    area.push(g);
    Ok(area)
}

/// `text` followed by spaces up to `len` bytes.
fn pad(text: &str, len: usize) -> R<String> {
    let n = len
        .checked_sub(text.len())
        .ok_or("pad: text already longer")?;
    Ok(format!("{text}{}", " ".repeat(n)))
}
