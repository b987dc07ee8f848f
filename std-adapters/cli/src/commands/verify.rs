//! `kez verify id CH:HANDLE`: fetch an account's published proofs through its channel and judge
//! each one (SPEC.md §15): signature, expiry, the account, the key, the sigchain.

use std::net::SocketAddr;
use std::path::PathBuf;

use kez_channels::{ChainJudge, Config, Report, VerifyError, verify_id_blocking};
use kez_core::{Claim, KeyRef, Status};

use super::{claim, sigchain};
use crate::cli::VerifyId;
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
    let chain = match &args.chain {
        Some(path) => Some(ChainFile(sigchain::replay(&[sigchain::Source::read(
            path,
        )?])?)),
        None => None,
    };
    let config = config(args)?;
    let judge = chain.as_ref().map(|c| c as &(dyn ChainJudge + Sync));
    let report = verify_id_blocking(&config, &args.subject, now, key.as_ref(), judge).map_err(
        |e| match e {
            VerifyError::Subject(e) => Failure::from(e).context("subject"),
            VerifyError::Runtime(_) => Failure::io_msg(e.to_string()),
            other => Failure::usage(other.to_string()),
        },
    )?;
    let stdout = if json {
        json_report(&report)
    } else {
        text_report(&report)
    };
    let answer = if report.status == Status::Valid {
        Answer::Yes
    } else {
        Answer::No
    };
    Ok(Done { stdout, answer })
}

/// The channel settings: flags first, then the environment, then the defaults.
fn config(args: &VerifyId) -> Result<Config, Failure> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut config = Config::default();
    if let Some(timeout) = args.timeout {
        config.timeout = timeout;
    }
    config.offline = args.offline;
    if let Some(server) = args.dns_server.clone().or_else(|| env("KEZ_DNS_SERVER")) {
        let addr: SocketAddr = server
            .parse()
            .map_err(|_| Failure::usage("--dns-server: expected IP:PORT"))?;
        config.dns_server = Some(addr);
    }
    if let Some(api) = args.github_api.clone().or_else(|| env("KEZ_GITHUB_API")) {
        if !(api.starts_with("https://") || api.starts_with("http://")) {
            return Err(Failure::usage("--github-api: expected an http(s) URL"));
        }
        config.github_api = api;
    }
    config.github_token = env("GITHUB_TOKEN");
    config.cache_dir = args
        .cache_dir
        .clone()
        .or_else(|| env("KEZ_CACHE_DIR").map(PathBuf::from))
        .or_else(|| env("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("kez")))
        .or_else(|| env("HOME").map(|d| PathBuf::from(d).join(".cache").join("kez")));
    Ok(config)
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
