//! The expected outcome of each profile op (SPEC.md §11), computed with kez-core by the steps the
//! profile prescribes: size limit, decoding, parsing, verification, and the exit code, status,
//! error class and output bytes that follow. The input of a case is read back from the very JSON
//! that goes into the file, so a vector cannot say one thing and check another.

use kez_core::chain::{Link, Pushed, VecReplay, bundle_lines};
use kez_core::jcs;
use kez_core::{Alg, Claim, ClaimDraft, Error, SecretKey, Status, decode_any, verify_json};
use serde_json::{Map, Value, json};

use crate::envelope::Op;
use crate::fixtures::{R, hex, unhex};

/// `MAX_INPUT` of the CLI profile (SPEC.md §11.2).
const MAX_INPUT: usize = 1_048_576;
/// `MAX_BUNDLE` of the CLI profile: the limit of one sigchain source (SPEC.md §11.7).
const MAX_BUNDLE: usize = 67_108_864;

/// What the profile requires of one run.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) exit: u8,
    pub(crate) status: Option<String>,
    pub(crate) class: Option<String>,
    /// Further members of the test (`stdout`, `stdout_json`, `stdout_decoded`, ...).
    pub(crate) fields: Vec<(&'static str, Value)>,
}

impl Outcome {
    fn error(class: &str) -> Self {
        Self {
            exit: 2,
            class: Some(class.to_owned()),
            ..Self::default()
        }
    }

    fn core(e: Error) -> Self {
        Self::error(e.kind())
    }

    fn ok(fields: Vec<(&'static str, Value)>) -> Self {
        Self {
            exit: 0,
            fields,
            ..Self::default()
        }
    }
}

pub(crate) fn run(op: Op, input: &Value) -> R<Outcome> {
    match op {
        Op::Jcs => jcs_op(input),
        Op::SigVerify => sig_verify(input),
        Op::IdentityNew => identity_new(input),
        Op::ClaimCreate => claim_create(input),
        Op::ClaimVerify => claim_verify(input),
        Op::ClaimConvert => claim_convert(input),
        Op::SigchainVerify => sigchain_verify(input),
    }
}

fn field<'a>(input: &'a Value, name: &str) -> Option<&'a Value> {
    input.get(name)
}

fn str_field<'a>(input: &'a Value, name: &str) -> R<&'a str> {
    field(input, name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("input needs a string `{name}`"))
}

/// An `N` argument (SPEC.md §11.2): a JSON integer, or a string passed verbatim to the command
/// line. `Ok(Err(()))` is a value the profile answers with `usage`.
fn u64_field(input: &Value, name: &str) -> R<Result<Option<u64>, ()>> {
    match field(input, name) {
        None => Ok(Ok(None)),
        Some(Value::String(s)) => Ok(if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse::<u64>().map(Some).map_err(|_| ())
        } else {
            Err(())
        }),
        Some(v) => v
            .as_u64()
            .map(|n| Ok(Some(n)))
            .ok_or_else(|| format!("`{name}` must be an integer 0..2^64 or a string")),
    }
}

/// The bytes given on stdin: `text` (UTF-8) or `hex` (for bytes that are not UTF-8).
fn stdin_bytes(input: &Value) -> R<Vec<u8>> {
    match (field(input, "text"), field(input, "hex")) {
        (Some(Value::String(t)), None) => Ok(t.clone().into_bytes()),
        (None, Some(Value::String(h))) => unhex(h).ok_or_else(|| "bad hex input".to_owned()),
        _ => Err("input needs exactly one of `text` and `hex`".to_owned()),
    }
}

fn text_out(bytes: Vec<u8>) -> R<Value> {
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|e| format!("output is not UTF-8: {e}"))
}

// ----------------------------------------------------------------------------------------------

fn jcs_op(input: &Value) -> R<Outcome> {
    let bytes = stdin_bytes(input)?;
    if bytes.len() > MAX_INPUT {
        return Ok(Outcome::error("too_large"));
    }
    Ok(match jcs::canonicalize_to_vec(&bytes) {
        Ok(mut out) => {
            out.push(b'\n');
            Outcome::ok(vec![("stdout", text_out(out)?)])
        }
        Err(e) => Outcome::core(e),
    })
}

fn alg_of(name: &str) -> R<Alg> {
    match name {
        "bip340" | "nostr" => Ok(Alg::Bip340),
        "ed25519" => Ok(Alg::Ed25519),
        other => Err(format!("unknown alg {other}")),
    }
}

fn sig_verify(input: &Value) -> R<Outcome> {
    let alg = alg_of(str_field(input, "alg")?)?;
    let parts = ["pub", "msg", "sig"]
        .into_iter()
        .map(|name| str_field(input, name).map(unhex))
        .collect::<R<Vec<Option<Vec<u8>>>>>()?;
    let Some([public, msg, sig]) = parts
        .into_iter()
        .collect::<Option<Vec<Vec<u8>>>>()
        .and_then(|v| <[Vec<u8>; 3]>::try_from(v).ok())
    else {
        return Ok(Outcome::error("usage"));
    };
    let valid = kez_core::verify_raw(alg, &public, &msg, &sig);
    Ok(Outcome {
        exit: if valid { 0 } else { 1 },
        ..Outcome::default()
    })
}

/// A `HEX` argument of 64 digits, either case (SPEC.md §11.2).
fn hex32_arg(s: &str) -> Option<[u8; 32]> {
    unhex(s).and_then(|v| <[u8; 32]>::try_from(v).ok())
}

fn identity_new(input: &Value) -> R<Outcome> {
    let alg = match str_field(input, "alg")? {
        "nostr" => Alg::Bip340,
        "ed25519" => Alg::Ed25519,
        other => return Err(format!("identity_new: alg {other}")),
    };
    let Some(seed) = hex32_arg(str_field(input, "seed")?) else {
        return Ok(Outcome::error("usage"));
    };
    let key = match SecretKey::from_bytes(alg, &seed) {
        Ok(k) => k,
        Err(e) => return Ok(Outcome::core(e)),
    };
    let mut file = Vec::new();
    if let Err(e) = kez_core::write_keyfile(&key, &mut file) {
        return Ok(Outcome::core(e));
    }
    Ok(Outcome::ok(vec![
        ("stdout", Value::String(format!("{}\n", key.public()))),
        ("key_file", text_out(file)?),
    ]))
}

/// The output of `claim create` / `claim convert` in `format` (SPEC.md §11.5), as test members:
/// exact `stdout` for JSON, `stdout_decoded` and `stdout_prefix` for the other encodings.
fn encoded(json: &[u8], format: &str) -> R<Result<Vec<(&'static str, Value)>, Error>> {
    let canonical = match jcs::canonicalize_to_vec(json) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let mut line = canonical.clone();
    line.push(b'\n');
    let decoded = text_out(line.clone())?;
    let compact = kez_core::encode_compact(&canonical);
    let (stdout, prefix) = match format {
        "json" => return Ok(Ok(vec![("stdout", decoded)])),
        "compact" => (format!("{compact}\n"), "kez:z1:".to_owned()),
        "markdown" => {
            let mut out = Vec::new();
            if let Err(e) = kez_core::write_markdown(&compact, &mut out) {
                return Ok(Err(e));
            }
            (
                String::from_utf8(out).map_err(|e| e.to_string())?,
                "```kez\nkez:z1:".to_owned(),
            )
        }
        "dns" => {
            let claim = match Claim::parse(&canonical) {
                Ok(c) => c,
                Err(e) => return Ok(Err(e)),
            };
            let domain = claim.subject().strip_prefix("dns:");
            let mut out = Vec::new();
            if let Err(e) = kez_core::write_txt(domain, &compact, &mut out) {
                return Ok(Err(e));
            }
            let prefix = domain.map_or_else(
                || "\"kez:z1:".to_owned(),
                |d| format!("_kez.{d}. 3600 IN TXT \"kez:z1:"),
            );
            (String::from_utf8(out).map_err(|e| e.to_string())?, prefix)
        }
        other => return Err(format!("unknown format {other}")),
    };
    // the emitted text must decode back to the canonical claim (§9.6)
    match decode_any(stdout.as_bytes()) {
        Ok((_, back)) if back == canonical => {}
        other => return Err(format!("{format} output does not decode back: {other:?}")),
    }
    if !stdout.starts_with(&prefix) {
        return Err(format!("{format} output lacks its prefix"));
    }
    Ok(Ok(vec![
        ("stdout_decoded", decoded),
        ("stdout_prefix", Value::String(prefix)),
    ]))
}

fn claim_create(input: &Value) -> R<Outcome> {
    // command-line numbers are checked before any input is read
    let (Ok(iat), Ok(exp)) = (u64_field(input, "iat")?, u64_field(input, "exp")?) else {
        return Ok(Outcome::error("usage"));
    };
    let iat = iat.ok_or("claim_create needs iat")?;
    let key_file = str_field(input, "key_file")?.as_bytes();
    if key_file.len() > MAX_INPUT {
        return Ok(Outcome::error("too_large"));
    }
    let key = match kez_core::parse_keyfile(key_file) {
        Ok(k) => k,
        Err(e) => return Ok(Outcome::core(e)),
    };
    let subject = str_field(input, "subject")?;

    let format = str_field(input, "format")?;
    let aux = match field(input, "aux") {
        Some(v) => {
            let s = v.as_str().ok_or("aux must be a string")?;
            match hex32_arg(s) {
                Some(a) => a,
                None => return Ok(Outcome::error("usage")),
            }
        }
        None if key.public().alg() == Alg::Bip340 => {
            return Err("a nostr claim_create case needs aux (else the output is random)".into());
        }
        None => [0; 32],
    };
    let mut json = Vec::new();
    if let Err(e) = (ClaimDraft { subject, iat, exp }).sign(&key, &aux, &mut json) {
        return Ok(Outcome::core(e));
    }
    Ok(match encoded(&json, format)? {
        Ok(fields) => Outcome::ok(fields),
        Err(e) => Outcome::core(e),
    })
}

fn claim_convert(input: &Value) -> R<Outcome> {
    let bytes = stdin_bytes(input)?;
    if bytes.len() > MAX_INPUT {
        return Ok(Outcome::error("too_large"));
    }
    let to = str_field(input, "to")?;
    let json = match decode_any(&bytes) {
        Ok((_, json)) => json,
        Err(e) => return Ok(Outcome::core(e)),
    };
    if let Err(e) = Claim::parse(&json) {
        return Ok(Outcome::core(e));
    }
    Ok(match encoded(&json, to)? {
        Ok(fields) => Outcome::ok(fields),
        Err(e) => Outcome::core(e),
    })
}

fn claim_verify(input: &Value) -> R<Outcome> {
    let bytes = stdin_bytes(input)?;
    let Ok(now) = u64_field(input, "now")? else {
        return Ok(Outcome::error("usage"));
    };
    let now = now.ok_or("claim_verify needs now")?;
    if bytes.len() > MAX_INPUT {
        return Ok(Outcome::error("too_large"));
    }
    let json = match decode_any(&bytes) {
        Ok((_, json)) => json,
        Err(e) => return Ok(Outcome::core(e)),
    };
    let (claim, own) = match verify_json(&json, now) {
        Ok(v) => v,
        Err(e) => return Ok(Outcome::core(e)),
    };
    let status = match field(input, "chain") {
        None => own,
        Some(chain) => {
            let text = chain.as_str().ok_or("chain must be a string")?;
            let replayed = match replay(&[text.as_bytes().to_vec()]) {
                Ok(r) => r,
                Err(e) => return Ok(Outcome::core(e)),
            };
            against_chain(&claim, own, &replayed)
        }
    };
    let out = json!({
        "key": claim.key().to_string(),
        "status": status.as_str(),
        "subject": claim.subject(),
    });
    Ok(Outcome {
        exit: if status == Status::Valid { 0 } else { 1 },
        status: Some(status.as_str().to_owned()),
        class: None,
        fields: vec![("stdout_json", out)],
    })
}

/// SPEC.md §14.8 / §11.7: invalid > (broken chain) > the chain's judgement > expired > valid.
fn against_chain(claim: &Claim<'_>, own: Status, chain: &Replayed) -> Status {
    if own == Status::Invalid || chain.rule.is_some() {
        return Status::Invalid;
    }
    match chain.replay.judge(claim.key(), claim.digest()) {
        Status::Valid => own,
        other => other,
    }
}

// ----------------------------------------------------------------------------------------------
// Sigchains

/// A replay that ran to its end, a fork, or a broken chain rule.
#[derive(Debug)]
struct Replayed {
    replay: VecReplay,
    /// The chain rule a line broke (SPEC.md §11.7), if one did.
    rule: Option<Error>,
}

/// The classes that are chain rules (exit 1) rather than malformed input (SPEC.md §11.7).
fn is_rule(e: &Error) -> bool {
    matches!(
        e.kind(),
        "non_canonical"
            | "unknown_op"
            | "wrong_chain"
            | "seq_gap"
            | "prev_mismatch"
            | "wrong_signer"
            | "old_key"
            | "bad_signature"
            | "bad_target"
    )
}

/// Malformed input first, then the merge of SPEC.md §14.9 and the replay of §14.7. `Err` is
/// malformed input (exit 2).
fn replay(sources: &[Vec<u8>]) -> Result<Replayed, Error> {
    // every line of every source is split and parsed before anything is replayed
    let mut split: Vec<Vec<(u64, &[u8])>> = Vec::new();
    for src in sources {
        if src.len() > MAX_BUNDLE {
            return Err(Error::TooLarge { limit: MAX_BUNDLE });
        }
        let mut lines = Vec::new();
        let mut key = 0;
        for line in bundle_lines(src) {
            let line = line?;
            match Link::parse(line) {
                Ok(link) => key = link.seq(),
                Err(e) if is_rule(&e) => {}
                Err(e) => return Err(e),
            }
            lines.push((key, line));
        }
        split.push(lines);
    }
    let mut replay = VecReplay::new_vec();
    let mut next = vec![0usize; split.len()];
    loop {
        // the source whose next line has the smallest merge key; the first on a tie
        let mut pick: Option<(u64, usize)> = None;
        for (s, lines) in split.iter().enumerate() {
            let at = next.get(s).copied().unwrap_or(usize::MAX);
            if let Some((key, _)) = lines.get(at) {
                if pick.is_none_or(|(k, _)| *key < k) {
                    pick = Some((*key, s));
                }
            }
        }
        let Some((_, s)) = pick else { break };
        let (Some(lines), Some(at)) = (split.get(s), next.get_mut(s)) else {
            break;
        };
        let Some((_, line)) = lines.get(*at) else {
            break;
        };
        *at += 1;
        match replay.push(line) {
            Ok(Pushed::Applied | Pushed::Duplicate) => {}
            Ok(Pushed::Fork(_) | Pushed::AfterFork) => break,
            Err(e) if is_rule(&e) => {
                return Ok(Replayed {
                    replay,
                    rule: Some(e),
                });
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Replayed { replay, rule: None })
}

fn sigchain_verify(input: &Value) -> R<Outcome> {
    let sources = field(input, "sources")
        .and_then(Value::as_array)
        .ok_or("sigchain_verify needs sources")?
        .iter()
        .map(|s| {
            s.as_str()
                .map(|t| t.as_bytes().to_vec())
                .ok_or_else(|| "sources are strings".to_owned())
        })
        .collect::<R<Vec<_>>>()?;
    let Ok(now) = u64_field(input, "now")? else {
        return Ok(Outcome::error("usage"));
    };
    let now = now.ok_or("sigchain_verify needs now")?;
    let chain = match replay(&sources) {
        Ok(c) => c,
        Err(e) => return Ok(Outcome::core(e)),
    };
    let status = if chain.rule.is_some() {
        Status::Invalid
    } else {
        chain.replay.status()
    };
    Ok(Outcome {
        exit: if status == Status::Valid { 0 } else { 1 },
        status: Some(status.as_str().to_owned()),
        class: chain.rule.map(|e| e.kind().to_owned()),
        fields: vec![("stdout_json", state_json(&chain.replay, status, now))],
    })
}

/// The state object of SPEC.md §11.7 without `error` (whose message is not normative; its code
/// is the test's `error_class`).
fn state_json(r: &VecReplay, status: Status, now: u64) -> Value {
    let mut m = Map::new();
    m.insert("status".into(), status.as_str().into());
    let claims = r
        .claims()
        .iter()
        .map(|c| {
            let (state, decided_by) = c.state(now);
            let mut o = Map::new();
            o.insert("decided_by".into(), decided_by.into());
            if let Some(exp) = c.exp {
                o.insert("exp".into(), exp.into());
            }
            o.insert("id".into(), hex(&c.id).into());
            o.insert("signer".into(), c.signer.to_string().into());
            o.insert("state".into(), state.as_str().into());
            o.insert("subject".into(), r.subject(c).into());
            Value::Object(o)
        })
        .collect();
    m.insert("claims".into(), Value::Array(claims));
    let devices = r
        .devices()
        .iter()
        .map(|d| {
            let mut o = Map::new();
            o.insert("added".into(), d.added.into());
            o.insert("key".into(), d.key.to_string().into());
            if let Some(removed) = d.removed {
                o.insert("removed".into(), removed.into());
            }
            Value::Object(o)
        })
        .collect();
    m.insert("devices".into(), Value::Array(devices));
    // the key history starts with the chain id as soon as a link is applied (§14.8)
    let keys: Vec<Value> = match (r.keys(), r.chain()) {
        ([], Some(id)) => vec![json!({"from": 0, "key": id.to_string()})],
        (keys, _) => keys
            .iter()
            .map(|k| {
                let mut o = Map::new();
                o.insert("from".into(), k.from.into());
                o.insert("key".into(), k.key.to_string().into());
                if let Some(until) = k.until {
                    o.insert("until".into(), until.into());
                }
                Value::Object(o)
            })
            .collect(),
    };
    m.insert("keys".into(), Value::Array(keys));
    if let (Some(id), Some(primary)) = (r.chain(), r.primary()) {
        let (seq, hash) = r.head();
        m.insert("chain".into(), id.to_string().into());
        m.insert("key".into(), primary.to_string().into());
        m.insert("head".into(), json!({"hash": hex(&hash), "seq": seq}));
    }
    if let Some(fork) = r.fork() {
        m.insert(
            "fork".into(),
            json!({"links": [hex(&fork.first), hex(&fork.second)], "seq": fork.seq}),
        );
    }
    Value::Object(m)
}
