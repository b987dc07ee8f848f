//! `kez claim create|verify|convert`: signed claims in their four encodings (SPEC.md §5-§9).

use std::path::Path;

use kez_core::{
    Claim, ClaimDraft, Status, decode_any, encode_compact, verify_json, write_markdown, write_txt,
};

use super::{identity, sigchain};
use crate::cli::{ClaimConvert, ClaimCreate, ClaimVerify, Format};
use crate::input::{hex32, now, random32, read_input};
use crate::output::{self, Answer, Done, Failure};

pub(super) fn create(args: &ClaimCreate) -> Result<Done, Failure> {
    let key = identity::load(&args.key)?;
    let iat = match args.iat {
        Some(iat) => iat,
        None => now()?,
    };
    let aux = match &args.aux {
        Some(aux) => hex32("--aux", aux)?,
        None => random32()?,
    };
    let draft = ClaimDraft {
        subject: &args.subject,
        iat,
        exp: args.exp,
    };
    let mut json = Vec::new();
    draft.sign(&key, &aux, &mut json)?;
    Ok(Done::yes(encode(&json, args.format)?))
}

pub(super) fn verify(args: &ClaimVerify, json: bool) -> Result<Done, Failure> {
    let text = read_input(&args.input.input)?;
    let now = match args.now {
        Some(now) => now,
        None => now()?,
    };
    let (_, claim_json) = decode_any(&text)?;
    let (claim, status) = verify_json(&claim_json, now)?;
    let key = claim.key().to_string();
    let subject = claim.subject();
    let (status, reason) = match &args.chain {
        None => (status, own_reason(&claim, status, now)),
        Some(path) => {
            if path == Path::new("-") && args.input.input == Path::new("-") {
                return Err(Failure::usage(
                    "--chain: stdin is already the claim; name a file",
                ));
            }
            let chain = sigchain::replay(&[sigchain::Source::read(path)?])?;
            against_chain(&claim, status, &chain, now)
        }
    };
    let stdout = if json {
        output::canonical_line(&output::object_text(&[
            ("key", &key),
            ("reason", &reason),
            ("status", status.as_str()),
            ("subject", subject),
        ]))
    } else {
        match status {
            Status::Valid if args.chain.is_some() => {
                format!("valid: {subject} is claimed by {key} ({reason})\n")
            }
            Status::Valid => format!("valid: {subject} is claimed by {key}\n"),
            Status::Expired => format!("expired: {subject} was claimed by {key}, {reason}\n"),
            _ => format!("{status}: {reason} ({subject}, {key})\n"),
        }
        .into_bytes()
    };
    let answer = if status == Status::Valid {
        Answer::Yes
    } else {
        Answer::No
    };
    Ok(Done { stdout, answer })
}

/// Why a claim checked on its own has its status.
fn own_reason(claim: &Claim<'_>, status: Status, now: u64) -> String {
    match status {
        Status::Valid => "signature verified".to_owned(),
        Status::Expired => format!("expired at {}", claim.exp().unwrap_or(now)),
        _ => "signature does not verify".to_owned(),
    }
}

/// The claim's status once its chain has a say, and why. Precedence: invalid > fork >
/// revoked > expired > valid; the reason names the deciding link where there is one.
pub(super) fn against_chain(
    claim: &Claim<'_>,
    own: Status,
    chain: &sigchain::Outcome,
    now: u64,
) -> (Status, String) {
    if own == Status::Invalid {
        return (own, own_reason(claim, own, now));
    }
    if let Some(error) = &chain.error {
        let reason = format!(
            "the chain is invalid: {} [{}]",
            error.message(),
            error.code()
        );
        return (Status::Invalid, reason);
    }
    let r = &chain.replay;
    let recorded = r.claims().iter().find(|c| &c.id == claim.digest());
    let key = claim.key();
    match r.judge(key, claim.digest()) {
        Status::Invalid if r.chain().is_none() => {
            (Status::Invalid, "the chain is empty".to_owned())
        }
        Status::Invalid => (
            Status::Invalid,
            "its key is not one of the chain's keys".to_owned(),
        ),
        Status::Fork => {
            let seq = r.fork().map_or(0, |f| f.seq);
            (Status::Fork, format!("the chain forked at link {seq}"))
        }
        Status::Revoked => {
            let rotated = r
                .keys()
                .iter()
                .find(|k| &k.key == key)
                .and_then(|k| k.until);
            let removed = r
                .devices()
                .iter()
                .find(|d| &d.key == key)
                .and_then(|d| d.removed);
            let reason = match (recorded.and_then(|c| c.revoked), rotated, removed) {
                (Some(seq), _, _) => format!("revoked by link {seq}"),
                (None, Some(seq), _) => format!("its key was rotated out by link {seq}"),
                (None, None, Some(seq)) => format!("its device was removed by link {seq}"),
                (None, None, None) => "revoked by the chain".to_owned(),
            };
            (Status::Revoked, reason)
        }
        _ if own == Status::Expired => (own, own_reason(claim, own, now)),
        _ => {
            let device = r.devices().iter().find(|d| &d.key == key);
            let reason = match (recorded, device) {
                (Some(c), _) => format!("recorded by link {}", c.added),
                (None, Some(d)) => format!("signed by a device added by link {}", d.added),
                (None, None) => "signed by the chain's current key".to_owned(),
            };
            (Status::Valid, reason)
        }
    }
}

pub(super) fn convert(args: &ClaimConvert) -> Result<Done, Failure> {
    let text = read_input(&args.input.input)?;
    let (_, json) = decode_any(&text)?;
    // only claims are converted: a well-formed claim, whatever its signature says
    Claim::parse(&json)?;
    Ok(Done::yes(encode(&json, args.to)?))
}

/// Encodes a claim's JSON text (canonicalized first) in `format`, newline-terminated.
pub(super) fn encode(json: &[u8], format: Format) -> Result<Vec<u8>, Failure> {
    let canonical = kez_core::jcs::canonicalize_to_vec(json)?;
    let mut out = Vec::new();
    match format {
        Format::Json => {
            out = canonical;
            out.push(b'\n');
        }
        Format::Compact => {
            out = encode_compact(&canonical).into_bytes();
            out.push(b'\n');
        }
        Format::Markdown => write_markdown(&encode_compact(&canonical), &mut out)?,
        Format::Dns => {
            let claim = Claim::parse(&canonical)?;
            let domain = claim.subject().strip_prefix("dns:");
            write_txt(domain, &encode_compact(&canonical), &mut out)?;
        }
    }
    Ok(out)
}
