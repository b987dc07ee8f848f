//! `kez sigchain ...`: an identity's signed log of claims, keys and devices (SPEC.md §14).
//!
//! The chain file is the bundle itself (one canonical link per line). The commands that extend
//! it replay the file, sign the next link, replay that link too (so a link the chain's rules
//! refuse is never written), then replace the file atomically. A refusal by the chain's rules
//! (`old_key`, `wrong_signer`, `bad_target`, ...) exits 1; usage and I/O errors exit 2.

mod replay;
mod report;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use kez_core::chain::{Draft, Position, Pushed, sign_link};
use kez_core::{ClaimDraft, KeyRef, MAX_SUBJECT, SecretKey, normalize_subject};

pub(super) use replay::{Outcome, Source, replay};
pub(super) use report::{export, show, verify};

use super::{claim, identity};
use crate::cli::{
    LinkOptions, SigchainAdd, SigchainAddDevice, SigchainNew, SigchainRemoveDevice, SigchainRevoke,
    SigchainRotate,
};
use crate::files;
use crate::input::{hex32, now, random32};
use crate::output::{self, Done, Failure, json_string, to_hex};

/// Mode of a new chain file (it holds no secret); a rewritten file keeps its own mode.
const CHAIN_MODE: u32 = 0o644;

pub(super) fn new(args: &SigchainNew, json: bool) -> Result<Done, Failure> {
    let key = identity::load(&args.key)?;
    writable(&args.chain)?;
    if !args.force && args.chain.symlink_metadata().is_ok() {
        return Err(files::exists(&args.chain));
    }
    files::install(&args.chain, b"", args.force, CHAIN_MODE)?;
    let id = key.public().to_string();
    Ok(Done::yes(if json {
        output::canonical_line(&output::object_text(&[("chain", &id)]))
    } else {
        format!("{id}\n").into_bytes()
    }))
}

pub(super) fn add(args: &SigchainAdd) -> Result<Done, Failure> {
    let key = identity::load(&args.signer.key)?;
    let chain = load(&args.signer.chain)?;
    let (iat, aux) = link_options(&args.link)?;
    if args.exp.is_some_and(|exp| exp <= iat) {
        return Err(Failure::usage(format!(
            "--exp: must be after the iat ({iat})"
        )));
    }
    // the claim to publish, made first: nothing is written unless it can be printed
    let draft = ClaimDraft {
        subject: &args.subject,
        iat,
        exp: args.exp,
    };
    let mut json = Vec::new();
    draft.sign(&key, &aux, &mut json)?;
    let printed = claim::encode(&json, args.format)?;
    let link = Draft::AddClaim {
        subject: &args.subject,
        exp: args.exp,
    };
    append(&args.signer.chain, chain, &key, iat, &aux, &link)?;
    Ok(Done::yes(printed))
}

pub(super) fn revoke(args: &SigchainRevoke, json: bool) -> Result<Done, Failure> {
    let key = identity::load(&args.signer.key)?;
    let chain = load(&args.signer.chain)?;
    let id = match (&args.target.claim, &args.target.subject) {
        (Some(id), _) => hex32("--claim", id)?,
        (None, Some(subject)) => live_claim(&chain, subject)?,
        (None, None) => return Err(Failure::usage("--claim or --subject is required")),
    };
    let (iat, aux) = link_options(&args.link)?;
    let chain = append(
        &args.signer.chain,
        chain,
        &key,
        iat,
        &aux,
        &Draft::Revoke { claim: id },
    )?;
    let subject = chain
        .replay
        .claims()
        .iter()
        .find(|c| c.id == id)
        .map_or("", |c| chain.replay.subject(c));
    let what = format!("revoked {subject} (claim {})", to_hex(&id));
    Ok(appended(&chain, json, &what))
}

pub(super) fn rotate(args: &SigchainRotate, json: bool) -> Result<Done, Failure> {
    let key = identity::load(&args.signer.key)?;
    let new_key = identity::load(&args.new_key)?;
    let chain = load(&args.signer.chain)?;
    let (iat, aux) = link_options(&args.link)?;
    let draft = Draft::Rotate { new_key: &new_key };
    let chain = append(&args.signer.chain, chain, &key, iat, &aux, &draft)?;
    let what = format!("rotated the primary key to {}", new_key.public());
    Ok(appended(&chain, json, &what))
}

pub(super) fn add_device(args: &SigchainAddDevice, json: bool) -> Result<Done, Failure> {
    let key = identity::load(&args.signer.key)?;
    let device = identity::load(&args.device)?;
    let chain = load(&args.signer.chain)?;
    let (iat, aux) = link_options(&args.link)?;
    let draft = Draft::AddDevice { device: &device };
    let chain = append(&args.signer.chain, chain, &key, iat, &aux, &draft)?;
    Ok(appended(
        &chain,
        json,
        &format!("added device {}", device.public()),
    ))
}

pub(super) fn remove_device(args: &SigchainRemoveDevice, json: bool) -> Result<Done, Failure> {
    let key = identity::load(&args.signer.key)?;
    let device = KeyRef::parse(&args.device).map_err(|e| Failure::from(e).context("--device"))?;
    let chain = load(&args.signer.chain)?;
    let (iat, aux) = link_options(&args.link)?;
    let draft = Draft::RemoveDevice { device };
    let chain = append(&args.signer.chain, chain, &key, iat, &aux, &draft)?;
    Ok(appended(&chain, json, &format!("removed device {device}")))
}

/// Replays a chain file that is to be extended: it must be valid (no fork, no broken rule).
fn load(path: &Path) -> Result<Outcome, Failure> {
    writable(path)?;
    let source = Source::read(path)?;
    let name = source.name.clone();
    replay(&[source])?.into_valid(&name)
}

/// A chain file to rewrite must be a file, not stdin.
fn writable(path: &Path) -> Result<(), Failure> {
    if path == Path::new("-") {
        return Err(Failure::usage("--chain: needs a file, not '-'"));
    }
    Ok(())
}

/// The link's iat (default now) and aux randomness (default random).
fn link_options(link: &LinkOptions) -> Result<(u64, [u8; 32]), Failure> {
    let iat = match link.iat {
        Some(iat) => iat,
        None => now()?,
    };
    let aux = match &link.aux {
        Some(aux) => hex32("--aux", aux)?,
        None => random32()?,
    };
    Ok((iat, aux))
}

/// The id of the one unrevoked claim for `subject`.
fn live_claim(chain: &Outcome, subject: &str) -> Result<[u8; 32], Failure> {
    let mut buf = [0u8; MAX_SUBJECT];
    let subject = normalize_subject(subject, &mut buf)?;
    let mut live = chain
        .replay
        .claims()
        .iter()
        .filter(|c| chain.replay.subject(c) == subject && c.revoked.is_none());
    match (live.next(), live.next()) {
        (Some(c), None) => Ok(c.id),
        (None, _) => Err(Failure::usage(format!(
            "--subject: no unrevoked claim for {subject} in the chain"
        ))),
        (Some(_), Some(_)) => Err(Failure::usage(format!(
            "--subject: several unrevoked claims for {subject}; pick one with --claim ID"
        ))),
    }
}

/// Signs the next link, replays it on top of `chain`, and writes the extended chain to
/// `path`. Returns the extended chain.
fn append(
    path: &Path,
    mut chain: Outcome,
    signer: &SecretKey,
    iat: u64,
    aux: &[u8; 32],
    draft: &Draft<'_>,
) -> Result<Outcome, Failure> {
    let head_iat = chain.replay.head_iat();
    if iat < head_iat {
        return Err(Failure::usage(format!(
            "--iat: {iat} is before the last link's iat ({head_iat})"
        )));
    }
    let (head_seq, head_hash) = chain.replay.head();
    let position = Position {
        chain: chain.replay.chain().copied(),
        head_seq,
        head_hash,
    };
    let mut line = Vec::new();
    sign_link(&position, iat, draft, signer, aux, &mut line)?;
    let refused = |e: kez_core::Error| {
        let failure = Failure::from(e).context(format!("cannot append to {}", path.display()));
        if replay::is_chain_rule(&e) {
            failure.answer_no()
        } else {
            failure
        }
    };
    match chain.replay.push(&line) {
        Ok(Pushed::Applied) => {}
        // the next seq is never a duplicate or a fork
        Ok(other) => {
            return Err(Failure::usage(format!(
                "the new link was not applied ({other:?})"
            )));
        }
        Err(e) => return Err(refused(e)),
    }
    chain.lines.push(line);
    let mode = std::fs::metadata(path).map_or(CHAIN_MODE, |m| m.permissions().mode() & 0o7777);
    files::install(path, &chain.bundle(), true, mode)?;
    Ok(chain)
}

/// What a link-appending command prints: `link N: <what>`, or with `--json` the new head.
fn appended(chain: &Outcome, json: bool, what: &str) -> Done {
    let (seq, hash) = chain.replay.head();
    Done::yes(if json {
        output::canonical_line(&format!(
            "{{\"hash\":{},\"seq\":{seq}}}",
            json_string(&to_hex(&hash))
        ))
    } else {
        format!("link {seq}: {what}\n").into_bytes()
    })
}
