//! The KEZ conformance run on a Cortex-M4F: every case of the repository's shared vectors
//! (`vectors/*.json`, compiled in by build.rs) goes through kez-core on the device, and the
//! image exits 0 only if every outcome matches the file.
//!
//! Each op follows the steps of the CLI profile (SPEC.md §11) that the vector generator's oracle
//! follows, with the device's means: claims in all four encodings and both suites, conversion,
//! creation, key derivation, raw signatures, JCS, and sigchain replay (with the merge of several
//! sources, SPEC.md §14.9) into fixed-capacity `heapless` stores. The heap (a counting one, see
//! heap.rs) serves the compact encoding and the output buffers of the other ops; a JSON claim
//! must verify, with or without a chain and whatever the outcome, with no allocation at all: a
//! case where it allocates fails.
//!
//! Output (semihosting): one line per failing case, the heap each kind of case needed, a
//! summary line `embedded-check: N passed, N failed`.
#![no_std]
#![no_main]

extern crate alloc;

mod heap;
mod rt;

use alloc::vec::Vec;
use core::fmt::{self, Write as _};

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use kez_core::chain::{Link, Pushed, Replay, bundle_lines};
use kez_core::jcs::{self, Sink};
use kez_core::{Alg, Claim, ClaimDraft, Encoding, Error, SecretKey, Status};

#[global_allocator]
static HEAP: heap::Counting = heap::Counting::new();

/// `MAX_INPUT` of the CLI profile (SPEC.md §11.2): the largest stdin or key file.
const MAX_INPUT: usize = 1_048_576;
/// `MAX_BUNDLE` of the CLI profile (SPEC.md §11.7): the largest sigchain source.
const MAX_BUNDLE: usize = 67_108_864;

/// One case of the table build.rs generates.
struct Case {
    name: &'static str,
    input: Input,
    want: Want,
}

/// A profile op and its input (vectors/README.md, "Ops").
enum Input {
    Jcs {
        text: &'static [u8],
    },
    SigVerify {
        alg: Alg,
        public: &'static [u8],
        msg: &'static [u8],
        sig: &'static [u8],
    },
    IdentityNew {
        alg: Alg,
        seed: [u8; 32],
    },
    ClaimCreate {
        key_file: &'static [u8],
        subject: &'static str,
        iat: u64,
        exp: Option<u64>,
        aux: Option<[u8; 32]>,
        format: &'static str,
    },
    ClaimVerify {
        text: &'static [u8],
        now: u64,
        chain: Option<&'static [u8]>,
    },
    ClaimConvert {
        text: &'static [u8],
        to: &'static str,
    },
    SigchainVerify {
        sources: &'static [&'static [u8]],
        now: u64,
    },
}

/// What the vector file requires.
struct Want {
    exit: u8,
    status: Option<&'static str>,
    class: Option<&'static str>,
    /// The output compared byte for byte: `stdout` (jcs, identity_new, JSON outputs),
    /// `stdout_decoded` (other encodings), or the JCS of `stdout_json` (verify ops).
    out: Option<&'static [u8]>,
    /// identity_new: the key file; encoded outputs: `stdout_prefix`.
    out2: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/cases.rs"));

/// What the device computed for a case that did not end in an error.
struct Done {
    exit: u8,
    status: Option<&'static str>,
    class: Option<&'static str>,
}

impl Done {
    const fn exit(exit: u8) -> Self {
        Self {
            exit,
            status: None,
            class: None,
        }
    }

    fn status(status: Status) -> Self {
        Self {
            exit: u8::from(status != Status::Valid),
            status: Some(status.as_str()),
            class: None,
        }
    }
}

/// Why a case failed (besides its exit, status or class).
#[derive(Debug)]
enum Mismatch {
    Output(&'static str),
    Allocated(heap::Usage),
    Device(&'static str),
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Output(which) => write!(f, "{which} differs"),
            Self::Allocated(u) => write!(
                f,
                "the JSON path allocated ({} calls, {} bytes)",
                u.calls, u.requested
            ),
            Self::Device(what) => write!(f, "device limit: {what}"),
        }
    }
}

/// The largest heap a kind of case needed, and which case that was.
struct HeapRecord {
    what: &'static str,
    peak: heap::Usage,
    case: &'static str,
    cases: usize,
}

impl HeapRecord {
    const fn new(what: &'static str) -> Self {
        Self {
            what,
            peak: heap::Usage {
                calls: 0,
                requested: 0,
                peak: 0,
                live: 0,
            },
            case: "no case",
            cases: 0,
        }
    }

    fn add(&mut self, case: &'static str, used: heap::Usage) {
        if used.calls == 0 {
            return;
        }
        self.cases += 1;
        if used.peak > self.peak.peak {
            self.peak = used;
            self.case = case;
        }
    }
}

#[entry]
fn main() -> ! {
    hprintln!(
        "embedded-check: {} cases from vectors/ on a Cortex-M4F",
        CASES.len()
    );
    let (mut passed, mut failed) = (0usize, 0usize);
    // claim_verify cases of JSON claims, which all ran without a heap (one that allocates
    // fails), and how many of them came with a sigchain
    let (mut json_claims, mut json_with_chain) = (0usize, 0usize);
    let mut records = [
        HeapRecord::new("claim_verify of compact, Markdown and DNS claims (decoding)"),
        HeapRecord::new("claim_create and claim_convert (encoding, then decoding back)"),
        HeapRecord::new("other ops (output buffers)"),
    ];
    for case in CASES {
        heap::mark(&HEAP);
        let mut notes: heapless::Vec<Mismatch, 4> = heapless::Vec::new();
        let got = run(case, &mut notes);
        let used = heap::usage(&HEAP);
        let kind = match case.input {
            Input::ClaimVerify { .. } => 0,
            Input::ClaimCreate { .. } | Input::ClaimConvert { .. } => 1,
            _ => 2,
        };
        if let Some(r) = records.get_mut(kind) {
            r.add(case.name, used);
        }
        // a JSON claim is verified without a heap, whatever the outcome (errors included)
        if let Input::ClaimVerify { text, chain, .. } = case.input {
            if Encoding::detect(text) == Ok(Encoding::Json) {
                if used.calls > 0 {
                    note(&mut notes, Mismatch::Allocated(used));
                } else {
                    json_claims += 1;
                    json_with_chain += usize::from(chain.is_some());
                }
            }
        }
        let (exit, status, class) = match got {
            Ok(d) => (d.exit, d.status, d.class),
            Err(e) => (2, None, Some(e.kind())),
        };
        let w = &case.want;
        if exit == w.exit && status == w.status && class == w.class && notes.is_empty() {
            passed += 1;
            continue;
        }
        failed += 1;
        hprintln!(
            "FAIL {}: got exit {} status {} class {}; want exit {} status {} class {}",
            case.name,
            exit,
            status.unwrap_or("-"),
            class.unwrap_or("-"),
            w.exit,
            w.status.unwrap_or("-"),
            w.class.unwrap_or("-")
        );
        for n in &notes {
            hprintln!("    {}", n);
        }
    }
    let skipped: usize = SKIPPED.iter().map(|(_, n)| n).sum();
    for (why, n) in SKIPPED {
        hprintln!("skipped {}: {}", n, why);
    }
    for r in &records {
        hprintln!(
            "heap: {}: {} cases used it, at most {} bytes live ({}: {} allocation calls, {} bytes requested)",
            r.what,
            r.cases,
            r.peak.peak,
            r.case,
            r.peak.calls,
            r.peak.requested
        );
    }
    hprintln!(
        "heap: none for JSON claims: {} claim_verify cases of JSON claims ({} with a sigchain; errors included) allocated nothing",
        json_claims,
        json_with_chain
    );
    hprintln!("embedded-check: {} passed, {} failed", passed, failed);
    if skipped > 0 {
        hprintln!("({} vector cases are CLI-only and were not run)", skipped);
    }
    rt::exit(failed == 0 && passed > 0)
}

type Notes = heapless::Vec<Mismatch, 4>;

fn note(notes: &mut Notes, m: Mismatch) {
    // a full list already says enough
    let _ = notes.push(m);
}

fn run(case: &Case, notes: &mut Notes) -> Result<Done, Error> {
    let w = &case.want;
    match case.input {
        Input::Jcs { text } => jcs_op(text, w, notes),
        Input::SigVerify {
            alg,
            public,
            msg,
            sig,
        } => Ok(Done::exit(u8::from(!kez_core::verify_raw(
            alg, public, msg, sig,
        )))),
        Input::IdentityNew { alg, seed } => identity_new(alg, &seed, w, notes),
        Input::ClaimCreate {
            key_file,
            subject,
            iat,
            exp,
            aux,
            format,
        } => claim_create(key_file, subject, iat, exp, aux, format, w, notes),
        Input::ClaimVerify { text, now, chain } => claim_verify(text, now, chain, w, notes),
        Input::ClaimConvert { text, to } => claim_convert(text, to, w, notes),
        Input::SigchainVerify { sources, now } => sigchain_verify(sources, now, w, notes),
    }
}

/// Compares an output with the expected one (when the file gives one).
fn compare(got: &[u8], want: Option<&[u8]>, which: &'static str, notes: &mut Notes) {
    if want.is_some_and(|w| w != got) {
        note(notes, Mismatch::Output(which));
    }
}

// ---------------------------------------------------------------------------------------------
// A fixed buffer for outputs: no heap

/// Output bytes in a fixed array (a [`Sink`] and a `fmt::Write`).
struct Buf<const N: usize> {
    data: [u8; N],
    len: usize,
    overflow: bool,
}

impl<const N: usize> Buf<N> {
    const fn new() -> Self {
        Self {
            data: [0; N],
            len: 0,
            overflow: false,
        }
    }

    fn bytes(&self) -> &[u8] {
        self.data.get(..self.len).unwrap_or_default()
    }

    fn push(&mut self, bytes: &[u8]) -> bool {
        let end = self.len + bytes.len();
        match self.data.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.len = end;
                true
            }
            None => {
                self.overflow = true;
                false
            }
        }
    }
}

impl<const N: usize> Sink for Buf<N> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if self.push(bytes) {
            Ok(())
        } else {
            Err(Error::TooLarge { limit: N })
        }
    }
}

impl<const N: usize> fmt::Write for Buf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.push(s.as_bytes()) {
            Ok(())
        } else {
            Err(fmt::Error)
        }
    }
}

fn write_hex(w: &mut dyn fmt::Write, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(w, "{b:02x}"))
}

/// A JSON string as JCS writes it (SPEC.md §2).
fn write_json_str(w: &mut dyn fmt::Write, s: &str) -> fmt::Result {
    w.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => w.write_str("\\\"")?,
            '\\' => w.write_str("\\\\")?,
            '\u{8}' => w.write_str("\\b")?,
            '\t' => w.write_str("\\t")?,
            '\n' => w.write_str("\\n")?,
            '\u{c}' => w.write_str("\\f")?,
            '\r' => w.write_str("\\r")?,
            c if u32::from(c) < 0x20 => write!(w, "\\u{:04x}", u32::from(c))?,
            c => w.write_char(c)?,
        }
    }
    w.write_char('"')
}

// ---------------------------------------------------------------------------------------------
// Ops

fn too_large(len: usize, limit: usize) -> Result<(), Error> {
    if len > limit {
        Err(Error::TooLarge { limit })
    } else {
        Ok(())
    }
}

fn jcs_op(text: &[u8], w: &Want, notes: &mut Notes) -> Result<Done, Error> {
    too_large(text.len(), MAX_INPUT)?;
    let mut out = Vec::new();
    jcs::canonicalize(text, &mut out)?;
    out.push(b'\n');
    compare(&out, w.out, "stdout", notes);
    Ok(Done::exit(0))
}

fn identity_new(alg: Alg, seed: &[u8; 32], w: &Want, notes: &mut Notes) -> Result<Done, Error> {
    let key = SecretKey::from_bytes(alg, seed)?;
    let mut stdout: Buf<128> = Buf::new();
    if writeln!(stdout, "{}", key.public()).is_err() {
        note(
            notes,
            Mismatch::Device("key reference longer than 128 bytes"),
        );
    }
    compare(stdout.bytes(), w.out, "stdout", notes);
    let mut file = Vec::new();
    kez_core::write_keyfile(&key, &mut file)?;
    compare(&file, w.out2, "key file", notes);
    Ok(Done::exit(0))
}

#[allow(clippy::too_many_arguments, reason = "the members of one vector input")]
fn claim_create(
    key_file: &[u8],
    subject: &str,
    iat: u64,
    exp: Option<u64>,
    aux: Option<[u8; 32]>,
    format: &str,
    w: &Want,
    notes: &mut Notes,
) -> Result<Done, Error> {
    too_large(key_file.len(), MAX_INPUT)?;
    let key = kez_core::parse_keyfile(key_file)?;
    let mut json = Vec::new();
    (ClaimDraft { subject, iat, exp }).sign(&key, &aux.unwrap_or([0; 32]), &mut json)?;
    encode(&json, format, w, notes)?;
    Ok(Done::exit(0))
}

fn claim_convert(text: &[u8], to: &str, w: &Want, notes: &mut Notes) -> Result<Done, Error> {
    too_large(text.len(), MAX_INPUT)?;
    let (_, json) = kez_core::decode_any(text)?;
    Claim::parse(&json)?;
    encode(&json, to, w, notes)?;
    Ok(Done::exit(0))
}

/// Writes a claim in `format` (SPEC.md §11.5) and checks it: JSON byte for byte; the others by
/// their prefix and by decoding them back to the expected canonical claim (§9.6).
fn encode(json: &[u8], format: &str, w: &Want, notes: &mut Notes) -> Result<(), Error> {
    let mut line = jcs::canonicalize_to_vec(json)?;
    let canonical_len = line.len();
    line.push(b'\n');
    let canonical = line.get(..canonical_len).unwrap_or_default();
    compare(&line, w.out, "decoded output", notes);
    if format == "json" {
        return Ok(());
    }
    let compact = kez_core::encode_compact(canonical);
    let mut text = Vec::new();
    match format {
        "compact" => {
            text.extend_from_slice(compact.as_bytes());
            text.push(b'\n');
        }
        "markdown" => kez_core::write_markdown(&compact, &mut text)?,
        "dns" => {
            let claim = Claim::parse(canonical)?;
            let domain = claim.subject().strip_prefix("dns:");
            kez_core::write_txt(domain, &compact, &mut text)?;
        }
        _ => {
            note(notes, Mismatch::Device("unknown output format"));
            return Ok(());
        }
    }
    if w.out2.is_some_and(|p| !text.starts_with(p)) {
        note(notes, Mismatch::Output("stdout_prefix"));
    }
    let (_, back) = kez_core::decode_any(&text)?;
    compare(&back, Some(canonical), "round trip", notes);
    Ok(())
}

fn claim_verify(
    text: &[u8],
    now: u64,
    chain: Option<&[u8]>,
    w: &Want,
    notes: &mut Notes,
) -> Result<Done, Error> {
    too_large(text.len(), MAX_INPUT)?;
    // a JSON claim is verified in place; only the other encodings are decoded into the heap
    let decoded;
    let json = if Encoding::detect(text)? == Encoding::Json {
        let s = core::str::from_utf8(text).map_err(|e| Error::InvalidUtf8 {
            offset: e.valid_up_to(),
        })?;
        s.trim_matches([' ', '\t', '\r', '\n']).as_bytes()
    } else {
        decoded = kez_core::decode_any(text)?.1;
        &decoded[..]
    };
    let (claim, own) = kez_core::verify_json(json, now)?;
    let status = match chain {
        None => own,
        Some(bundle) => {
            let replayed = replay(&[bundle])?;
            match replayed {
                Replayed::Device(what) => {
                    note(notes, Mismatch::Device(what));
                    own
                }
                Replayed::Done { replay, rule } => {
                    // SPEC.md §14.8: invalid > broken chain > the chain's judgement > own status
                    if own == Status::Invalid || rule.is_some() {
                        Status::Invalid
                    } else {
                        match replay.judge(claim.key(), claim.digest()) {
                            Status::Valid => own,
                            other => other,
                        }
                    }
                }
            }
        }
    };
    let mut out: Buf<1024> = Buf::new();
    let written = (|| -> fmt::Result {
        out.write_str("{\"key\":")?;
        let mut key: Buf<128> = Buf::new();
        write!(key, "{}", claim.key())?;
        write_json_str(
            &mut out,
            core::str::from_utf8(key.bytes()).map_err(|_| fmt::Error)?,
        )?;
        out.write_str(",\"status\":")?;
        write_json_str(&mut out, status.as_str())?;
        out.write_str(",\"subject\":")?;
        write_json_str(&mut out, claim.subject())?;
        out.write_char('}')
    })();
    if written.is_err() {
        note(
            notes,
            Mismatch::Device("stdout_json longer than 1024 bytes"),
        );
    }
    compare(out.bytes(), w.out, "stdout_json", notes);
    Ok(Done::status(status))
}

// ---------------------------------------------------------------------------------------------
// Sigchains: the merge of SPEC.md §14.9 and the replay of §14.7, in fixed-capacity stores

/// Sources of one replay.
const MAX_SOURCES: usize = 8;
/// Lines per source.
const MAX_LINES: usize = 64;

type Stores = Replay<
    heapless::Vec<kez_core::chain::ClaimEntry, 32>,
    heapless::Vec<kez_core::chain::DeviceEntry, 16>,
    heapless::Vec<kez_core::chain::KeyEntry, 16>,
    heapless::Vec<u8, 4096>,
>;

#[allow(
    clippy::large_enum_variant,
    reason = "the replay lives in fixed stores, not on the heap; it is moved once per case"
)]
enum Replayed {
    /// The replay ran to its end, a fork, or a broken rule (`rule`).
    Done { replay: Stores, rule: Option<Error> },
    /// The input does not fit the device's fixed tables.
    Device(&'static str),
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

/// Every line of every source is split and parsed first (malformed input is an error before
/// anything is replayed); then lines are replayed in merge order: the smallest seq of the
/// sources' next lines, the first source on a tie. `Err` is malformed input (exit 2).
fn replay(sources: &[&[u8]]) -> Result<Replayed, Error> {
    type Lines<'a> = heapless::Vec<(u64, &'a [u8]), MAX_LINES>;
    let mut split: heapless::Vec<Lines<'_>, MAX_SOURCES> = heapless::Vec::new();
    for src in sources {
        too_large(src.len(), MAX_BUNDLE)?;
        let mut lines = Lines::new();
        let mut key = 0;
        for line in bundle_lines(src) {
            let line = line?;
            match Link::parse(line) {
                Ok(link) => key = link.seq(),
                Err(e) if is_rule(&e) => {}
                Err(e) => return Err(e),
            }
            if lines.push((key, line)).is_err() {
                return Ok(Replayed::Device("more than 64 lines in a source"));
            }
        }
        if split.push(lines).is_err() {
            return Ok(Replayed::Device("more than 8 sources"));
        }
    }
    let mut replay = Stores::new(
        heapless::Vec::new(),
        heapless::Vec::new(),
        heapless::Vec::new(),
        heapless::Vec::new(),
    );
    let mut next = [0usize; MAX_SOURCES];
    loop {
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
                return Ok(Replayed::Done {
                    replay,
                    rule: Some(e),
                });
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Replayed::Done { replay, rule: None })
}

fn sigchain_verify(
    sources: &[&[u8]],
    now: u64,
    w: &Want,
    notes: &mut Notes,
) -> Result<Done, Error> {
    let (replay, rule) = match replay(sources)? {
        Replayed::Done { replay, rule } => (replay, rule),
        Replayed::Device(what) => {
            note(notes, Mismatch::Device(what));
            return Ok(Done::exit(255));
        }
    };
    let status = if rule.is_some() {
        Status::Invalid
    } else {
        replay.status()
    };
    let mut out: Buf<16384> = Buf::new();
    if write_state(&mut out, &replay, status, now).is_err() {
        note(
            notes,
            Mismatch::Device("state JSON longer than 16384 bytes"),
        );
    }
    compare(out.bytes(), w.out, "stdout_json", notes);
    Ok(Done {
        class: rule.map(|e| e.kind()),
        ..Done::status(status)
    })
}

/// The state object of SPEC.md §11.7 without `error`, in JCS form (members sorted).
fn write_state(w: &mut dyn fmt::Write, r: &Stores, status: Status, now: u64) -> fmt::Result {
    let key = |w: &mut dyn fmt::Write, k: &kez_core::KeyRef| -> fmt::Result {
        let mut b: Buf<128> = Buf::new();
        write!(b, "{k}")?;
        write_json_str(w, core::str::from_utf8(b.bytes()).map_err(|_| fmt::Error)?)
    };
    let hex = |w: &mut dyn fmt::Write, bytes: &[u8]| -> fmt::Result {
        w.write_char('"')?;
        write_hex(w, bytes)?;
        w.write_char('"')
    };
    let live = r.chain().zip(r.primary());
    w.write_char('{')?;
    if let Some((id, _)) = live {
        w.write_str("\"chain\":")?;
        key(w, id)?;
        w.write_char(',')?;
    }
    w.write_str("\"claims\":[")?;
    for (i, c) in r.claims().iter().enumerate() {
        if i > 0 {
            w.write_char(',')?;
        }
        let (state, decided_by) = c.state(now);
        write!(w, "{{\"decided_by\":{decided_by},")?;
        if let Some(exp) = c.exp {
            write!(w, "\"exp\":{exp},")?;
        }
        w.write_str("\"id\":")?;
        hex(w, &c.id)?;
        w.write_str(",\"signer\":")?;
        key(w, &c.signer)?;
        w.write_str(",\"state\":")?;
        write_json_str(w, state.as_str())?;
        w.write_str(",\"subject\":")?;
        write_json_str(w, r.subject(c))?;
        w.write_char('}')?;
    }
    w.write_str("],\"devices\":[")?;
    for (i, d) in r.devices().iter().enumerate() {
        if i > 0 {
            w.write_char(',')?;
        }
        write!(w, "{{\"added\":{},\"key\":", d.added)?;
        key(w, &d.key)?;
        if let Some(removed) = d.removed {
            write!(w, ",\"removed\":{removed}")?;
        }
        w.write_char('}')?;
    }
    w.write_char(']')?;
    if let Some(fork) = r.fork() {
        w.write_str(",\"fork\":{\"links\":[")?;
        hex(w, &fork.first)?;
        w.write_char(',')?;
        hex(w, &fork.second)?;
        write!(w, "],\"seq\":{}}}", fork.seq)?;
    }
    if let Some((_, primary)) = live {
        let (seq, hash) = r.head();
        w.write_str(",\"head\":{\"hash\":")?;
        hex(w, &hash)?;
        write!(w, ",\"seq\":{seq}}},\"key\":")?;
        key(w, &primary)?;
    }
    // the key history starts with the chain id as soon as a link is applied (§14.8)
    w.write_str(",\"keys\":[")?;
    match (r.keys(), r.chain()) {
        ([], Some(id)) => {
            w.write_str("{\"from\":0,\"key\":")?;
            key(w, id)?;
            w.write_char('}')?;
        }
        (keys, _) => {
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    w.write_char(',')?;
                }
                write!(w, "{{\"from\":{},\"key\":", k.from)?;
                key(w, &k.key)?;
                if let Some(until) = k.until {
                    write!(w, ",\"until\":{until}")?;
                }
                w.write_char('}')?;
            }
        }
    }
    w.write_str("],\"status\":")?;
    write_json_str(w, status.as_str())?;
    w.write_char('}')
}
