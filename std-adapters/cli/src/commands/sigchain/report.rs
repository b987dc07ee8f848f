//! `kez sigchain show|export|verify`: what a chain says, for people and for programs.

use std::fmt::Write as _;
use std::path::Path;

use kez_core::Status;
use kez_core::chain::{Body, ClaimEntry, Link};

use super::replay::{Outcome, Source, replay};
use crate::cli::{SigchainExport, SigchainShow, SigchainVerify};
use crate::files;
use crate::input::now;
use crate::output::{self, Answer, Done, Failure, json_string, to_hex};

/// Mode of an exported bundle (it holds no secret).
const BUNDLE_MODE: u32 = 0o644;

pub(in crate::commands) fn show(args: &SigchainShow) -> Result<Done, Failure> {
    let now = now_or(args.now)?;
    let chain = replay(&[Source::read(&args.input.input)?])?;
    let mut out = String::new();
    write_show(&mut out, &chain, now);
    Ok(Done {
        stdout: out.into_bytes(),
        answer: answer(&chain),
    })
}

pub(in crate::commands) fn export(args: &SigchainExport) -> Result<Done, Failure> {
    let source = Source::read(&args.input.input)?;
    let name = source.name.clone();
    let bundle = replay(&[source])?.into_valid(&name)?.bundle();
    match &args.out {
        Some(path) => {
            files::install(path, &bundle, true, BUNDLE_MODE)?;
            Ok(Done::yes(Vec::new()))
        }
        None => Ok(Done::yes(bundle)),
    }
}

pub(in crate::commands) fn verify(args: &SigchainVerify, json: bool) -> Result<Done, Failure> {
    let now = now_or(args.now)?;
    if args.inputs.iter().filter(|p| *p == Path::new("-")).count() > 1 {
        return Err(Failure::usage("stdin ('-') can be read only once"));
    }
    let sources = args
        .inputs
        .iter()
        .map(|p| Source::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    let chain = replay(&sources)?;
    let stdout = if json {
        output::canonical_line(&state_json(&chain, now))
    } else {
        summary(&chain, now).into_bytes()
    };
    Ok(Done {
        stdout,
        answer: answer(&chain),
    })
}

fn now_or(given: Option<u64>) -> Result<u64, Failure> {
    given.map_or_else(now, Ok)
}

/// `valid`, `fork` or `invalid`.
fn status(chain: &Outcome) -> Status {
    if chain.error.is_some() {
        Status::Invalid
    } else {
        chain.replay.status()
    }
}

fn answer(chain: &Outcome) -> Answer {
    if status(chain) == Status::Valid {
        Answer::Yes
    } else {
        Answer::No
    }
}

/// The `--json` object of `sigchain verify` (canonicalized by the caller).
fn state_json(chain: &Outcome, now: u64) -> String {
    let r = &chain.replay;
    let mut members = vec![format!("\"status\":\"{}\"", status(chain))];
    let claims: Vec<String> = r
        .claims()
        .iter()
        .map(|c| {
            let (state, decided_by) = c.state(now);
            let exp = c.exp.map(|e| format!("\"exp\":{e},")).unwrap_or_default();
            format!(
                "{{\"decided_by\":{decided_by},{exp}\"id\":\"{}\",\"signer\":{},\"state\":\"{state}\",\"subject\":{}}}",
                to_hex(&c.id),
                json_string(&c.signer.to_string()),
                json_string(r.subject(c))
            )
        })
        .collect();
    members.push(format!("\"claims\":[{}]", claims.join(",")));
    let devices: Vec<String> = r
        .devices()
        .iter()
        .map(|d| {
            let removed = d
                .removed
                .map(|s| format!(",\"removed\":{s}"))
                .unwrap_or_default();
            format!(
                "{{\"added\":{},\"key\":{}{removed}}}",
                d.added,
                json_string(&d.key.to_string())
            )
        })
        .collect();
    members.push(format!("\"devices\":[{}]", devices.join(",")));
    let keys: Vec<String> = key_spans(chain)
        .into_iter()
        .map(|(key, from, until)| {
            let until = until.map(|u| format!(",\"until\":{u}")).unwrap_or_default();
            format!("{{\"from\":{from},\"key\":{}{until}}}", json_string(&key))
        })
        .collect();
    members.push(format!("\"keys\":[{}]", keys.join(",")));
    if let (Some(id), Some(primary)) = (r.chain(), r.primary()) {
        let (seq, hash) = r.head();
        members.push(format!("\"chain\":{}", json_string(&id.to_string())));
        members.push(format!("\"key\":{}", json_string(&primary.to_string())));
        members.push(format!(
            "\"head\":{{\"hash\":\"{}\",\"seq\":{seq}}}",
            to_hex(&hash)
        ));
    }
    if let Some(fork) = r.fork() {
        members.push(format!(
            "\"fork\":{{\"links\":[\"{}\",\"{}\"],\"seq\":{}}}",
            to_hex(&fork.first),
            to_hex(&fork.second),
            fork.seq
        ));
    }
    if let Some(error) = &chain.error {
        members.push(format!(
            "\"error\":{}",
            output::object_text(&[("code", error.code()), ("message", &error.message())])
        ));
    }
    format!("{{{}}}", members.join(","))
}

/// Every primary key with the seq of the rotate that made it primary (0 for the first) and of
/// the one that replaced it. Before the first rotation the chain id is the only key.
fn key_spans(chain: &Outcome) -> Vec<(String, u64, Option<u64>)> {
    let r = &chain.replay;
    match (r.keys(), r.chain()) {
        ([], Some(id)) => vec![(id.to_string(), 0, None)],
        (keys, _) => keys
            .iter()
            .map(|k| (k.key.to_string(), k.from, k.until))
            .collect(),
    }
}

/// The short human answer of `sigchain verify`.
fn summary(chain: &Outcome, now: u64) -> String {
    let r = &chain.replay;
    let mut out = String::new();
    if let Some(fork) = r.fork() {
        let _ = writeln!(
            out,
            "fork: two different links at seq {}: {} and {}",
            fork.seq,
            to_hex(&fork.first),
            to_hex(&fork.second)
        );
    }
    if let Some(error) = &chain.error {
        let _ = writeln!(out, "invalid: {} [{}]", error.message(), error.code());
    }
    let (Some(id), Some(primary)) = (r.chain(), r.primary()) else {
        out.push_str(lead(chain));
        out.push_str(": an empty chain\n");
        return out;
    };
    let lead = lead(chain);
    let _ = writeln!(
        out,
        "{lead}: chain {id} at link {}, primary key {primary}",
        r.head().0
    );
    let counts = [Status::Valid, Status::Expired, Status::Revoked]
        .into_iter()
        .filter_map(|s| {
            let n = r.claims().iter().filter(|c| c.state(now).0 == s).count();
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect::<Vec<_>>();
    let active = r.devices().iter().filter(|d| d.removed.is_none()).count();
    let _ = write!(
        out,
        "{} claim{}",
        r.claims().len(),
        plural(r.claims().len())
    );
    if !counts.is_empty() {
        let _ = write!(out, " ({})", counts.join(", "));
    }
    let _ = writeln!(out, ", {active} active device{}", plural(active));
    out
}

/// How the summary introduces the state.
fn lead(chain: &Outcome) -> &'static str {
    if chain.error.is_some() {
        "valid prefix"
    } else if chain.replay.fork().is_some() {
        "before the fork"
    } else {
        "valid"
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The human view of `sigchain show`: the state, then one line per link.
fn write_show(out: &mut String, chain: &Outcome, now: u64) {
    let r = &chain.replay;
    let _ = writeln!(out, "status   {}", status(chain));
    if let Some(error) = &chain.error {
        let _ = writeln!(out, "error    {} [{}]", error.message(), error.code());
    }
    if let Some(fork) = r.fork() {
        let _ = writeln!(out, "fork     two different links at seq {}:", fork.seq);
        let _ = writeln!(out, "           {}", to_hex(&fork.first));
        let _ = writeln!(out, "           {}", to_hex(&fork.second));
    }
    let (Some(id), Some(primary)) = (r.chain(), r.primary()) else {
        out.push_str("(no links)\n");
        return;
    };
    let (seq, hash) = r.head();
    let _ = writeln!(out, "chain    {id}");
    let _ = writeln!(out, "head     link {seq}, {}", to_hex(&hash));
    let _ = writeln!(out, "key      {primary}");

    out.push_str("\nkeys\n");
    for (key, from, until) in key_spans(chain) {
        let span = match until {
            Some(until) => format!("links {}-{until}", from + 1),
            None => format!("from link {}", from + 1),
        };
        let _ = writeln!(out, "  {key}  {span}");
    }
    out.push_str("\ndevices\n");
    if r.devices().is_empty() {
        out.push_str("  (none)\n");
    }
    for d in r.devices() {
        let _ = write!(out, "  {}  added by link {}", d.key, d.added);
        if let Some(removed) = d.removed {
            let _ = write!(out, ", removed by link {removed}");
        }
        out.push('\n');
    }
    let _ = writeln!(out, "\nclaims at {}", utc(now));
    if r.claims().is_empty() {
        out.push_str("  (none)\n");
    }
    let width = r
        .claims()
        .iter()
        .map(|c| r.subject(c).len())
        .max()
        .unwrap_or(0);
    for c in r.claims() {
        let (state, _) = c.state(now);
        let _ = writeln!(
            out,
            "  {:<8} {:<width$}  {}  {}",
            state.as_str(),
            r.subject(c),
            to_hex(&c.id),
            decision(c, state)
        );
    }
    out.push_str("\nlinks\n");
    // every applied line parsed before
    let links: Vec<Link<'_>> = chain
        .lines
        .iter()
        .filter_map(|l| Link::parse(l).ok())
        .collect();
    let width = links.last().map_or(1, |l| l.seq().to_string().len());
    let signers = links
        .iter()
        .map(|l| l.signer().to_string().len())
        .max()
        .unwrap_or(0);
    for link in &links {
        let signer = link.signer().to_string();
        let _ = writeln!(
            out,
            "  {:>width$}  {}  {:<13}  {signer:<signers$}  {}",
            link.seq(),
            utc(link.iat()),
            link.body().op().as_str(),
            link_detail(chain, link.body()),
        );
    }
}

/// Why a claim has its state.
fn decision(c: &ClaimEntry, state: Status) -> String {
    match (state, c.revoked, c.exp) {
        (Status::Revoked, Some(seq), _) => format!("revoked by link {seq}"),
        (Status::Expired, _, Some(exp)) => {
            format!("added by link {}, expired {}", c.added, utc(exp))
        }
        (_, _, Some(exp)) => format!("added by link {}, expires {}", c.added, utc(exp)),
        _ => format!("added by link {}", c.added),
    }
}

/// What a link does, in a few words.
fn link_detail(chain: &Outcome, body: &Body<'_>) -> String {
    match body {
        Body::AddClaim {
            subject,
            exp: Some(exp),
        } => format!("{subject}, expires {}", utc(*exp)),
        Body::AddClaim { subject, exp: None } => (*subject).to_owned(),
        Body::Revoke { claim } => {
            let subject = chain
                .replay
                .claims()
                .iter()
                .find(|c| c.id == *claim)
                .map_or("", |c| chain.replay.subject(c));
            format!("{subject} (claim {})", to_hex(claim))
        }
        Body::Rotate { key, .. } => format!("to {key}"),
        Body::AddDevice { device, .. } | Body::RemoveDevice { device } => device.to_string(),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` of Unix seconds (proleptic Gregorian calendar, UTC).
fn utc(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // days since 0000-03-01, in 400-year eras of 146097 days
    let z = days + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = era * 400 + yoe + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}
