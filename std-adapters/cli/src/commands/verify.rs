//! `kez verify id CH:HANDLE`: fetch an account's published proofs through its channel and judge
//! each one (SPEC.md §15): signature, expiry, the account, the key, the sigchain.

use std::path::Path;

use kez_channels::{
    ChainJudge, Config, Report, VerifyError, fetch_document_blocking, verify_many_blocking,
};
use kez_core::{Claim, KeyRef, Status};

use super::{claim, endpoints, sigchain};
use crate::cli::VerifyId;
use crate::input::MAX_BUNDLE;
use crate::input::now;
use crate::output::{self, Answer, Done, Failure, json_string};

/// The sigchain's say on a claim, with the same reasons as `kez claim verify --chain`.
struct ChainFile(sigchain::Outcome);

impl ChainJudge for ChainFile {
    fn judge(&self, claim: &Claim<'_>, own: Status, now: u64) -> (Status, String) {
        claim::against_chain(claim, own, &self.0, now)
    }
}

pub(super) fn id(args: &VerifyId, json: bool) -> Result<Done, Failure> {
    let now = match args.now {
        Some(now) => now,
        None => now()?,
    };
    let key = match &args.key {
        Some(text) => Some(KeyRef::parse(text).map_err(|e| Failure::from(e).context("--key"))?),
        None => None,
    };
    let config = endpoints::config(&args.endpoints, args.offline)?;
    let chain = if args.chain.is_empty() {
        None
    } else {
        let sources = args
            .chain
            .iter()
            .map(|s| chain_source(&config, s))
            .collect::<Result<Vec<_>, _>>()?;
        Some(ChainFile(sigchain::replay(&sources)?))
    };
    let judge = chain.as_ref().map(|c| c as &(dyn ChainJudge + Sync));
    let results = verify_many_blocking(&config, &args.subjects, now, key.as_ref(), judge)
        .map_err(|e| Failure::io_msg(e.to_string()))?;
    let mut reports = Vec::with_capacity(results.len());
    for (subject, result) in args.subjects.iter().zip(results) {
        match result {
            Ok(report) => reports.push(report),
            Err(VerifyError::Subject(e)) => {
                return Err(Failure::from(e).context(format!("subject {subject:?}")));
            }
            Err(e) => return Err(Failure::io_msg(e.to_string())),
        }
    }
    let mut stdout = Vec::new();
    for report in &reports {
        stdout.extend(if json {
            json_report(report)
        } else {
            text_report(report)
        });
    }
    let answer = if reports.iter().all(|r| r.status == Status::Valid) {
        Answer::Yes
    } else {
        Answer::No
    };
    Ok(Done { stdout, answer })
}

/// A sigchain source: an http(s) URL (fetched with the channels' rules, at most `MAX_BUNDLE`
/// bytes) or a bundle file.
fn chain_source(config: &Config, source: &str) -> Result<sigchain::Source, Failure> {
    if source.starts_with("https://") || source.starts_with("http://") {
        let bytes = fetch_document_blocking(config, source, MAX_BUNDLE)
            .map_err(|e| Failure::io_msg(format!("--chain {source}: {e}")))?;
        Ok(sigchain::Source {
            name: source.to_owned(),
            bytes,
        })
    } else {
        sigchain::Source::read(Path::new(source))
    }
}

fn json_report(report: &Report) -> Vec<u8> {
    let proofs: Vec<String> = report
        .proofs
        .iter()
        .map(|p| {
            let mut members = Vec::new();
            if let Some(key) = &p.key {
                members.push(("key", key.as_str()));
            }
            members.push(("reason", p.reason.as_str()));
            members.push(("status", p.status.as_str()));
            if let Some(subject) = &p.subject {
                members.push(("subject", subject.as_str()));
            }
            output::object_text(&members)
        })
        .collect();
    let text = format!(
        "{{\"proofs\":[{}],\"reason\":{},\"status\":{},\"subject\":{}}}",
        proofs.join(","),
        json_string(&report.reason),
        json_string(report.status.as_str()),
        json_string(&report.subject),
    );
    output::canonical_line(&text)
}

fn text_report(report: &Report) -> Vec<u8> {
    let mut out = format!(
        "{}: {} ({})\n",
        report.status, report.subject, report.reason
    );
    for p in &report.proofs {
        out.push_str(&format!("  {}: {}", p.status, p.reason));
        if let Some(key) = &p.key {
            out.push_str(&format!(", key {key}"));
        }
        out.push_str(&format!(", at {}\n", p.location));
    }
    out.into_bytes()
}
