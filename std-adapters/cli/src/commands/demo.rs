//! `kez demo`: the main job end to end, offline, on fresh keys: make two identities, sign a
//! claim per channel, carry each through all four encodings, verify every one, and show that a
//! tampered and an expired claim are caught. Later revisions add the live channels here
//! (local relays, DNS, sig server) so the demo stays the one command a newcomer runs.

use std::fmt::Write as _;

use kez_core::{
    Alg, ClaimDraft, SecretKey, Status, decode_any, encode_compact, verify_json, write_markdown,
    write_txt,
};

use crate::input::{now, random32};
use crate::output::{Answer, Done, Failure};

pub(super) fn run() -> Result<Done, Failure> {
    let now = now()?;
    let mut out =
        String::from("KEZ demo (offline): identities, claims, four encodings, verification\n\n");
    let mut checks = 0usize;
    let mut failures = 0usize;
    let mut record = |out: &mut String, label: &str, got: Status, want: Status| {
        checks += 1;
        let mark = if got == want {
            "ok"
        } else {
            failures += 1;
            "UNEXPECTED"
        };
        let _ = writeln!(out, "  {label:<34} {:<8} {mark}", got.as_str());
    };

    let nostr = new_key(Alg::Bip340)?;
    let ed = new_key(Alg::Ed25519)?;
    let _ = writeln!(out, "identity A (BIP-340): {}", nostr.public());
    let _ = writeln!(out, "identity B (Ed25519): {}\n", ed.public());

    let nostr_subject = format!("{}", nostr.public());
    let claims: [(&SecretKey, &str); 5] = [
        (&nostr, "github:alice"),
        (&nostr, "dns:alice.example"),
        (&ed, "bluesky:alice.bsky.social"),
        (&ed, "mastodon:@Alice@Social.Example"),
        (&ed, &nostr_subject),
    ];
    for (key, subject) in claims {
        let json = sign(key, subject, now, None)?;
        let compact = encode_compact(&json);
        let mut md = Vec::new();
        write_markdown(&compact, &mut md)?;
        let mut txt = Vec::new();
        let normalized = kez_core::Claim::parse(&json)?.subject().to_owned();
        write_txt(normalized.strip_prefix("dns:"), &compact, &mut txt)?;
        let _ = writeln!(out, "claim {normalized}  (signed by {})", key.public());
        let _ = writeln!(out, "  compact: {compact}");
        for (name, text) in [
            ("json", json.clone()),
            ("compact", compact.clone().into_bytes()),
            ("markdown", md),
            ("dns", txt),
        ] {
            let status = check(&text, now)?;
            record(
                &mut out,
                &format!("verify from {name}"),
                status,
                Status::Valid,
            );
        }
    }

    out.push_str("\nnegative checks\n");
    let mut tampered = sign(&ed, "github:alice", now, None)?;
    if let Some(at) = tampered.windows(5).position(|w| w == b"alice") {
        if let Some(b) = tampered.get_mut(at) {
            *b = b'm';
        }
    }
    record(
        &mut out,
        "claim with its subject changed",
        check(&tampered, now)?,
        Status::Invalid,
    );
    let expired = sign(
        &nostr,
        "github:alice",
        now.saturating_sub(7200),
        Some(now.saturating_sub(3600)),
    )?;
    record(
        &mut out,
        "claim that expired an hour ago",
        check(&expired, now)?,
        Status::Expired,
    );

    let _ = writeln!(out, "\n{checks} checks, {} as expected", checks - failures);
    let answer = if failures == 0 {
        Answer::Yes
    } else {
        Answer::No
    };
    Ok(Done {
        stdout: out.into_bytes(),
        answer,
    })
}

fn new_key(alg: Alg) -> Result<SecretKey, Failure> {
    // a random 32-byte string is a valid BIP-340 secret except with negligible probability
    loop {
        if let Ok(key) = SecretKey::from_bytes(alg, &random32()?) {
            return Ok(key);
        }
    }
}

fn sign(key: &SecretKey, subject: &str, iat: u64, exp: Option<u64>) -> Result<Vec<u8>, Failure> {
    let mut json = Vec::new();
    ClaimDraft { subject, iat, exp }.sign(key, &random32()?, &mut json)?;
    Ok(json)
}

fn check(text: &[u8], now: u64) -> Result<Status, Failure> {
    let (_, json) = decode_any(text)?;
    Ok(verify_json(&json, now)?.1)
}
