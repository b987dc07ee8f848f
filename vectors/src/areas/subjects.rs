//! `subjects.json`: subject normalization per channel (SPEC.md §6), seen through `claim create`
//! (the normalized subject is what gets signed, so stdout shows it), and the verifier's refusal
//! of subjects that are not normalized (§6.1, through `claim verify`).

use serde_json::json;

use crate::areas::claims_create::input;
use crate::envelope::{Area, Group, Op, Want};
use crate::fixtures::{BECH32, BECH32M, Keys, NOW, R, T0, claim, keyfile, npub, replace_once};

const NOTES: &[(&str, &str)] = &[
    ("Example", "A row of the SPEC.md §6.4 tables."),
    (
        "Channel",
        "Channel names: case-insensitive, mastodon is an alias of ap, others unknown.",
    ),
    ("Github", "GitHub logins."),
    ("Dns", "Domain names (normalize-domain, §6.2)."),
    (
        "Idna",
        "Unicode labels: full lowercase mapping then Punycode, nothing else (no NFC, no UTS #46).",
    ),
    ("Nostr", "npub handles."),
    ("Bluesky", "atproto handles."),
    ("Ap", "ActivityPub user@host."),
    ("Length", "A length limit, both sides."),
    (
        "NotNormalized",
        "A signed claim whose subject is valid but not in normalized form: the verifier rejects it.",
    ),
];

/// A 253-byte domain: four 62-byte labels and a one-letter top label.
fn d253() -> String {
    format!(
        "{}.{}.{}.{}.c",
        "a".repeat(62),
        "b".repeat(62),
        "c".repeat(62),
        "d".repeat(62)
    )
}

#[allow(clippy::too_many_lines)]
pub(crate) fn area(keys: &Keys) -> R<Area> {
    let mut area = Area::new("subjects", NOTES);
    let kf = keyfile(&keys.a)?;
    let npub_n = keys
        .n
        .public()
        .to_string()
        .strip_prefix("nostr:")
        .unwrap_or_default()
        .to_owned();
    let d253 = d253();
    let x5 = {
        let mut b = [0u8; 32];
        if let Some(l) = b.last_mut() {
            *l = 5;
        }
        b
    };
    let n_bytes = *keys.n.public().as_bytes();

    let accepted: Vec<(String, &'static str, &[&'static str])> = vec![
        (
            "GitHub:@Alice".into(),
            "§6.4",
            &["Example", "Github", "Channel"],
        ),
        ("GITHUB:alice".into(), "§6.1", &["Github", "Channel"]),
        ("github:A-b-C".into(), "§6.3", &["Github"]),
        ("github:a".into(), "§6.3", &["Github", "Length"]),
        (
            format!("github:{}", "x".repeat(39)),
            "§6.3",
            &["Github", "Length"],
        ),
        (
            format!("github:@{}", "X".repeat(39)),
            "§6.3",
            &["Github", "Length"],
        ),
        ("dns:Alice.Example.".into(), "§6.4", &["Example", "Dns"]),
        ("DNS:a.b".into(), "§6.4", &["Example", "Dns", "Channel"]),
        (
            "dns:bücher.example".into(),
            "§6.4",
            &["Example", "Dns", "Idna"],
        ),
        ("dns:MÜNCHEN.de".into(), "§6.4", &["Example", "Dns", "Idna"]),
        ("dns:日本語.jp".into(), "§6.4", &["Example", "Dns", "Idna"]),
        (
            "dns:例え.テスト".into(),
            "§6.4",
            &["Example", "Dns", "Idna"],
        ),
        ("dns:ß.de".into(), "§6.4", &["Example", "Dns", "Idna"]),
        ("dns:İ.example".into(), "§6.4", &["Example", "Dns", "Idna"]),
        ("dns:xn--zz.example".into(), "§6.4", &["Example", "Dns"]),
        ("dns:ｅxample.com".into(), "§6.2", &["Dns", "Idna"]),
        ("dns:ΣΑΣ.example".into(), "§6.2", &["Dns", "Idna"]),
        ("dns:a。b.example".into(), "§6.2", &["Dns", "Idna"]),
        ("dns:Bücher.Example.".into(), "§6.2", &["Dns", "Idna"]),
        ("dns:a--b.example".into(), "§6.2", &["Dns"]),
        ("dns:123.example".into(), "§6.2", &["Dns"]),
        ("dns:example.1a".into(), "§6.2", &["Dns"]),
        (
            format!("dns:{}.example", "a".repeat(63)),
            "§6.2",
            &["Dns", "Length"],
        ),
        (format!("dns:{d253}"), "§6.2", &["Dns", "Length"]),
        (format!("dns:{d253}."), "§6.2", &["Dns", "Length"]),
        (
            "nostr:NPUB1D4K24SJG47T0DTA8LYZ025P98G8NAUL44GH7DQU2JKEPV6G5DR3Q97C7HA".into(),
            "§6.4",
            &["Example", "Nostr"],
        ),
        (format!("nostr:{npub_n}"), "§6.3", &["Nostr"]),
        (format!("NOSTR:{npub_n}"), "§6.1", &["Nostr", "Channel"]),
        (
            "bluesky:@Alice.BSKY.social".into(),
            "§6.4",
            &["Example", "Bluesky"],
        ),
        ("bluesky:1.example".into(), "§6.3", &["Bluesky"]),
        ("bluesky:xn--bcher-kva.example".into(), "§6.3", &["Bluesky"]),
        (format!("bluesky:{d253}"), "§6.3", &["Bluesky", "Length"]),
        (
            "mastodon:@Alice@Social.Example".into(),
            "§6.4",
            &["Example", "Ap", "Channel"],
        ),
        (
            "Mastodon:alice@x.example".into(),
            "§6.1",
            &["Ap", "Channel"],
        ),
        ("ap:bob@host.example".into(), "§6.4", &["Example", "Ap"]),
        ("ap:a@B.EXAMPLE.".into(), "§6.4", &["Example", "Ap"]),
        (
            "ap:@a_b.c-d@bücher.example".into(),
            "§6.4",
            &["Example", "Ap", "Idna"],
        ),
        ("ap:@._-@x.example".into(), "§6.3", &["Ap"]),
        (
            format!("ap:@{}@x.example", "U".repeat(64)),
            "§6.3",
            &["Ap", "Length"],
        ),
        (
            format!("ap:@{}@{d253}", "u".repeat(64)),
            "§6.3",
            &["Ap", "Length"],
        ),
    ];
    let mut g = Group::new(
        Op::ClaimCreate,
        "Accepted subject forms: stdout is the claim, signed over the normalized subject",
    );
    for (subject, spec, flags) in &accepted {
        g.case(
            format!("{subject} normalizes"),
            spec,
            flags,
            input(&kf, subject, T0, None, None, "json"),
            Want::Ok,
        );
    }
    area.push(g);

    let rejected: Vec<(String, &'static str, &[&'static str])> = vec![
        ("github:-a".into(), "§6.4", &["Example", "Github"]),
        ("github:a-".into(), "§6.3", &["Github"]),
        ("github:a--b".into(), "§6.4", &["Example", "Github"]),
        ("github:a_b".into(), "§6.4", &["Example", "Github"]),
        ("github:".into(), "§6.4", &["Example", "Github"]),
        ("github:@".into(), "§6.3", &["Github"]),
        ("github:@@a".into(), "§6.4", &["Example", "Github"]),
        ("github:a b".into(), "§6.3", &["Github"]),
        ("github:ä".into(), "§6.3", &["Github"]),
        (
            format!("github:{}", "x".repeat(40)),
            "§6.4",
            &["Example", "Github", "Length"],
        ),
        ("dns:localhost".into(), "§6.4", &["Example", "Dns"]),
        ("dns:a..b".into(), "§6.4", &["Example", "Dns"]),
        ("dns:1.2.3.4".into(), "§6.4", &["Example", "Dns"]),
        ("dns:a.1".into(), "§6.4", &["Example", "Dns"]),
        ("dns:a_b.example".into(), "§6.4", &["Example", "Dns"]),
        ("dns:-a.example".into(), "§6.4", &["Example", "Dns"]),
        ("dns:a-.example".into(), "§6.2", &["Dns"]),
        ("dns:example.com..".into(), "§6.4", &["Example", "Dns"]),
        ("dns:.example".into(), "§6.2", &["Dns"]),
        ("dns:".into(), "§6.2", &["Dns"]),
        ("dns:.".into(), "§6.2", &["Dns"]),
        ("dns:a b.example".into(), "§6.2", &["Dns"]),
        ("dns:xn--.example".into(), "§6.2", &["Dns"]),
        (
            "dns:\u{212a}.example".into(),
            "§6.4",
            &["Example", "Dns", "Idna"],
        ),
        (
            format!("dns:{}.example", "a".repeat(64)),
            "§6.2",
            &["Dns", "Length"],
        ),
        (format!("dns:x{d253}"), "§6.2", &["Dns", "Length"]),
        (
            format!("dns:{}ü.example", "a".repeat(63)),
            "§6.2",
            &["Dns", "Idna", "Length"],
        ),
        ("bluesky:alice".into(), "§6.4", &["Example", "Bluesky"]),
        ("bluesky:a.1b".into(), "§6.4", &["Example", "Bluesky"]),
        (
            "bluesky:alice.test.".into(),
            "§6.4",
            &["Example", "Bluesky"],
        ),
        (
            "bluesky:bücher.example".into(),
            "§6.4",
            &["Example", "Bluesky"],
        ),
        ("bluesky:@@alice.example".into(), "§6.3", &["Bluesky"]),
        ("bluesky:alice.b-".into(), "§6.3", &["Bluesky"]),
        ("bluesky:a_b.example".into(), "§6.3", &["Bluesky"]),
        (format!("bluesky:x{d253}"), "§6.3", &["Bluesky", "Length"]),
        ("ap:alice".into(), "§6.4", &["Example", "Ap"]),
        ("ap:@a@b@c.example".into(), "§6.4", &["Example", "Ap"]),
        ("ap:@@x.example".into(), "§6.3", &["Ap"]),
        ("ap:a+b@x.example".into(), "§6.3", &["Ap"]),
        ("ap:@alice@localhost".into(), "§6.3", &["Ap", "Dns"]),
        ("ap:alice@".into(), "§6.3", &["Ap"]),
        (
            format!("ap:@{}@x.example", "u".repeat(65)),
            "§6.3",
            &["Ap", "Length"],
        ),
        (
            format!("ap:@{}@x{d253}", "u".repeat(64)),
            "§6.3",
            &["Ap", "Length"],
        ),
        (
            format!("nostr:Npub1{}", npub_n.get(5..).unwrap_or_default()),
            "§6.4",
            &["Example", "Nostr"],
        ),
        (format!("nostr:@{npub_n}"), "§6.4", &["Example", "Nostr"]),
        ("nostr:npub1x".into(), "§6.4", &["Example", "Nostr"]),
        (
            format!("nostr:{}", npub(&n_bytes, BECH32M, 0)),
            "§6.3",
            &["Nostr"],
        ),
        (
            format!("nostr:{}", npub(&n_bytes, BECH32, 1)),
            "§6.3",
            &["Nostr"],
        ),
        (
            format!("nostr:{}", npub(&x5, BECH32, 0)),
            "§6.3",
            &["Nostr"],
        ),
        (format!("nostr:{npub_n}q"), "§6.3", &["Nostr", "Length"]),
        ("web:x".into(), "§6.4", &["Example", "Channel"]),
        ("nope".into(), "§6.4", &["Example", "Channel"]),
        (":alice".into(), "§6.1", &["Channel"]),
        ("github :alice".into(), "§6.1", &["Channel"]),
        ("gh:alice".into(), "§6.1", &["Channel"]),
    ];
    let mut g = Group::new(Op::ClaimCreate, "Rejected subject forms: bad_subject");
    for (subject, spec, flags) in &rejected {
        g.case(
            format!("{subject} is rejected"),
            spec,
            flags,
            input(&kf, subject, T0, None, None, "json"),
            Want::Class("bad_subject"),
        );
    }
    area.push(g);

    // a verifier refuses a subject that is valid but not normalized (§6.1, §5.4 step 7)
    let mut g = Group::new(
        Op::ClaimVerify,
        "A claim's subject must already be normalized (§6.1); signed claims with the normalized form verify",
    );
    let normalized: Vec<(&str, &str)> = vec![
        ("github:alice", "GitHub:alice"),
        ("github:alice", "github:@alice"),
        ("github:alice", "github:Alice"),
        ("dns:alice.example", "dns:alice.example."),
        ("dns:alice.example", "dns:Alice.example"),
        ("dns:xn--bcher-kva.example", "dns:bücher.example"),
        ("ap:@alice@social.example", "mastodon:@alice@social.example"),
        ("ap:@alice@social.example", "ap:alice@social.example"),
        ("bluesky:alice.bsky.social", "bluesky:@alice.bsky.social"),
    ];
    let mut seen = Vec::new();
    for (good, bad) in &normalized {
        let c = claim(&keys.a, good, T0, None, &[0; 32])?;
        if !seen.contains(good) {
            seen.push(*good);
            g.case(
                format!("{good}: the normalized form verifies"),
                "§6.1",
                &["NotNormalized"],
                json!({"text": c, "now": NOW}),
                Want::Ok,
            );
        }
        let tampered = replace_once(
            &c,
            &format!("\"subject\":\"{good}\""),
            &format!("\"subject\":\"{bad}\""),
        )?;
        g.case(
            format!("{bad} (normalizes to {good}) is bad_subject"),
            "§6.1",
            &["NotNormalized"],
            json!({"text": tampered, "now": NOW}),
            Want::Class("bad_subject"),
        );
    }
    let upper = claim(&keys.a, &format!("nostr:{npub_n}"), T0, None, &[0; 32])?;
    g.case(
        "a nostr subject verifies in lowercase",
        "§6.1",
        &["NotNormalized", "Nostr"],
        json!({"text": upper, "now": NOW}),
        Want::Ok,
    );
    let shouting = replace_once(&upper, &npub_n, &npub_n.to_uppercase())?;
    g.case(
        "an all-uppercase nostr subject is bad_subject in a claim",
        "§6.1",
        &["NotNormalized", "Nostr"],
        json!({"text": shouting, "now": NOW}),
        Want::Class("bad_subject"),
    );
    area.push(g);
    Ok(area)
}
