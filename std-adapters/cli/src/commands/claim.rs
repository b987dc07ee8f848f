//! `kez claim create|verify|convert`: signed claims in their four encodings (SPEC.md §5-§9).

use kez_core::{
    Claim, ClaimDraft, Status, decode_any, encode_compact, verify_json, write_markdown, write_txt,
};

use super::identity;
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
    let reason = match status {
        Status::Valid => "signature verified".to_owned(),
        Status::Expired => format!("expired at {}", claim.exp().unwrap_or(now)),
        _ => "signature does not verify".to_owned(),
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

pub(super) fn convert(args: &ClaimConvert) -> Result<Done, Failure> {
    let text = read_input(&args.input.input)?;
    let (_, json) = decode_any(&text)?;
    // only claims are converted: a well-formed claim, whatever its signature says
    Claim::parse(&json)?;
    Ok(Done::yes(encode(&json, args.to)?))
}

/// Encodes a claim's JSON text (canonicalized first) in `format`, newline-terminated.
fn encode(json: &[u8], format: Format) -> Result<Vec<u8>, Failure> {
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
