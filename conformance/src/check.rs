//! Running one case through the profile commands of SPEC.md §11 and checking every answer:
//! exit code, exact stdout, JSON members, error class, the one-line stderr of exit 2, files
//! written, and signs of a crash. Each problem is a [`Failure`] of a stable [`Kind`].

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::case::{Case, Expect, Format, Input, Op, Verdict};
use crate::diff;
use crate::exec::{self, Output, Termination};

/// Lines of stderr that only a crash writes: Rust panics and backtraces, Python tracebacks, Go
/// panics, Java exceptions. A Node stack frame (`    at f (file.js:1:2)`) is matched
/// separately.
const CRASH_MARKERS: [&str; 6] = [
    "panicked at",
    "RUST_BACKTRACE",
    "stack backtrace",
    "Traceback (most recent call last)",
    "goroutine 1 [running]",
    "Exception in thread \"",
];

/// Longest excerpt of an output quoted in a message.
const EXCERPT: usize = 300;

/// The implementation under test: its command line, split.
#[derive(Debug, Clone)]
pub(crate) struct Impl {
    pub(crate) program: String,
    pub(crate) args: Vec<String>,
    /// The command line as given, for messages.
    pub(crate) display: String,
}

/// What kind of check failed. The names are stable: reports and tests use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// No answer before the timeout.
    Timeout,
    /// Ended by a signal.
    Crash,
    /// A panic, backtrace or traceback on stderr.
    Panic,
    /// Wrong exit code.
    Exit,
    /// Stdout differs from the exact expected bytes.
    Stdout,
    /// Stdout JSON lacks a member or has a wrong one.
    StdoutJson,
    /// Wrong `status`.
    Status,
    /// Wrong error class (stderr line or `--json` error object).
    ErrorClass,
    /// The `--json` error object is missing or malformed.
    ErrorOutput,
    /// Stderr is not what the profile requires (one `kez: <message> [<code>]` line on exit 2).
    Stderr,
    /// JSON output that is not its own JCS form plus LF.
    NotCanonical,
    /// The key file written by `identity new` is wrong.
    KeyFile,
    /// A compact, Markdown or DNS output that does not follow its emit grammar (SPEC.md §9).
    Encoding,
    /// Decoding the output with `claim convert --to json -` failed or gave other bytes.
    Decode,
    /// The implementation could not be started.
    Spawn,
    /// The runner could not prepare the case (temporary files).
    Runner,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Crash => "crash",
            Self::Panic => "panic",
            Self::Exit => "exit",
            Self::Stdout => "stdout",
            Self::StdoutJson => "stdout_json",
            Self::Status => "status",
            Self::ErrorClass => "error_class",
            Self::ErrorOutput => "error_output",
            Self::Stderr => "stderr",
            Self::NotCanonical => "not_canonical",
            Self::KeyFile => "key_file",
            Self::Encoding => "encoding",
            Self::Decode => "decode",
            Self::Spawn => "spawn",
            Self::Runner => "runner",
        }
    }
}

/// One failed check.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) kind: Kind,
    pub(crate) message: String,
}

/// A scratch directory for one case, removed when dropped.
#[derive(Debug)]
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let base = std::env::temp_dir();
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!("kez-conformance-{}-{n}", std::process::id()));
            match fs::create_dir(&path) {
                Ok(()) => return Ok(Self(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Runs `case` against `imp` and returns what failed (nothing: the case passed).
pub(crate) fn run_case(case: &Case, imp: &Impl, timeout: Duration) -> Vec<Failure> {
    let mut cx = Cx {
        imp,
        timeout,
        case,
        failures: Vec::new(),
    };
    if let Err(e) = cx.run() {
        cx.fail(Kind::Runner, format!("cannot prepare the case: {e}"));
    }
    cx.failures
}

/// Runs `IMPL <words> --help` once; `Ok(None)` if the op is supported, `Ok(Some(why))` if the
/// implementation answered with a non-zero exit.
///
/// # Errors
///
/// The implementation cannot be started at all.
pub(crate) fn probe(op: Op, imp: &Impl, timeout: Duration) -> std::io::Result<Option<String>> {
    let mut args: Vec<OsString> = imp.args.iter().map(OsString::from).collect();
    args.extend(op.words().iter().map(OsString::from));
    args.push("--help".into());
    let out = exec::run(&imp.program, &args, None, timeout)?;
    Ok(match out.termination {
        Termination::Exited(0) => None,
        Termination::Exited(code) => Some(format!(
            "`{} {} --help` exited {code}{}",
            imp.display,
            op.words().join(" "),
            first_line(&out.stderr)
                .map(|l| format!(": {l}"))
                .unwrap_or_default()
        )),
        // a crashing or hanging probe is no claim of being unsupported: run the cases, which
        // then report the crash themselves
        Termination::Signaled(_) | Termination::TimedOut => None,
    })
}

struct Cx<'a> {
    imp: &'a Impl,
    timeout: Duration,
    case: &'a Case,
    failures: Vec<Failure>,
}

impl Cx<'_> {
    fn fail(&mut self, kind: Kind, message: String) {
        self.failures.push(Failure { kind, message });
    }

    fn expect(&self) -> &Expect {
        &self.case.expect
    }

    /// Whether the vector expects exit 2 (so error output is asked for with `--json`).
    fn expects_error(&self) -> bool {
        self.expect().exit == Some(2) && self.expect().result != Verdict::Acceptable
    }

    fn run(&mut self) -> std::io::Result<()> {
        match &self.case.input {
            Input::Jcs { stdin } => {
                let args = args(&["--json", "-"]);
                if let Some((code, out)) = self.call(Op::Jcs, args, Some(stdin.clone()), true) {
                    self.check_plain_answer(code, &out);
                }
            }
            Input::SigVerify {
                alg,
                public,
                msg,
                sig,
            } => {
                let args = args(&["--alg", alg, "--pub", public, "--msg", msg, "--sig", sig]);
                if let Some((code, out)) = self.call(Op::SigVerify, args, None, false) {
                    self.check_plain_answer(code, &out);
                }
            }
            Input::IdentityNew { alg, seed } => {
                let dir = TempDir::new()?;
                let key = dir.file("key.json");
                let mut a = args(&["--alg", alg]);
                if let Some(seed) = seed {
                    a.extend(args(&["--seed", seed]));
                }
                a.push("--out".into());
                a.push(key.clone().into_os_string());
                let json = self.expects_error();
                if json {
                    a.push("--json".into());
                }
                if let Some((code, out)) = self.call(Op::IdentityNew, a, None, json) {
                    self.check_plain_answer(code, &out);
                    self.check_key_file(code, &key);
                }
            }
            Input::ClaimCreate {
                key_file,
                subject,
                iat,
                exp,
                aux,
                format,
            } => {
                let dir = TempDir::new()?;
                let key = dir.file("key.json");
                write_private(&key, key_file)?;
                let mut a: Vec<OsString> = vec!["--key".into(), key.into_os_string()];
                a.extend(args(&["--subject", subject]));
                for (flag, value) in [("--iat", iat), ("--exp", exp), ("--aux", aux)] {
                    if let Some(v) = value {
                        a.extend(args(&[flag, v]));
                    }
                }
                a.extend(args(&["--format", format.name()]));
                let json = self.expects_error();
                if json {
                    a.push("--json".into());
                }
                if let Some((code, out)) = self.call(Op::ClaimCreate, a, None, json) {
                    self.check_claim_output(code, &out, *format);
                }
            }
            Input::ClaimConvert { stdin, to } => {
                let a = args(&["--to", to.name(), "--json", "-"]);
                if let Some((code, out)) = self.call(Op::ClaimConvert, a, Some(stdin.clone()), true)
                {
                    self.check_claim_output(code, &out, *to);
                }
            }
            Input::ClaimVerify { stdin, now, chain } => {
                let mut a = args(&["-", "--now", now, "--json"]);
                // kept until the command ran
                let mut dir_guard = None;
                if let Some(chain) = chain {
                    let dir = dir_guard.insert(TempDir::new()?);
                    let path = dir.file("chain.jsonl");
                    fs::write(&path, chain)?;
                    a.push("--chain".into());
                    a.push(path.into_os_string());
                }
                if let Some((code, out)) = self.call(Op::ClaimVerify, a, Some(stdin.clone()), true)
                {
                    self.check_state_answer(code, &out);
                }
            }
            Input::SigchainVerify { sources, now } => {
                let dir = TempDir::new()?;
                let mut a = Vec::new();
                for (i, source) in sources.iter().enumerate() {
                    let path = dir.file(&format!("s{i}.jsonl"));
                    fs::write(&path, source)?;
                    a.push(path.into_os_string());
                }
                a.extend(args(&["--now", now, "--json"]));
                // no source: the only source is stdin, empty
                let stdin = sources.is_empty().then(Vec::new);
                if let Some((code, out)) = self.call(Op::SigchainVerify, a, stdin, true) {
                    self.check_state_answer(code, &out);
                }
            }
        }
        Ok(())
    }

    /// Runs `IMPL <op words> <args>` and applies the checks every answer gets: it ended on
    /// its own, no crash on stderr, the expected exit code, and on exit 2 the stderr line (and
    /// with `json` the error object). Returns the exit code and output when the exit code is
    /// the expected one and the answer's content is still to be checked.
    fn call(
        &mut self,
        op: Op,
        extra: Vec<OsString>,
        stdin: Option<Vec<u8>>,
        json: bool,
    ) -> Option<(i32, Output)> {
        let out = self.invoke(op, extra, stdin)?;
        let code = self.ended("", &out)?;
        let expect = self.case.expect.clone();
        let matches = match expect.result {
            Verdict::Acceptable => {
                if !(0..=2).contains(&code) {
                    self.fail(
                        Kind::Exit,
                        format!("exit code {code} is not 0, 1 or 2{}", context(&out)),
                    );
                }
                expect.exit == Some(code)
            }
            Verdict::Valid | Verdict::Invalid => {
                if expect.exit != Some(code) {
                    let want = expect.exit.map_or_else(|| "?".into(), |e| e.to_string());
                    let class = expect
                        .error_class
                        .as_deref()
                        .map(|c| format!(" [{c}]"))
                        .unwrap_or_default();
                    self.fail(
                        Kind::Exit,
                        format!("expected exit {want}{class}, got {code}{}", context(&out)),
                    );
                }
                expect.exit == Some(code)
            }
        };
        if code == 2 {
            let class = if matches {
                expect.error_class.as_deref()
            } else {
                None
            };
            self.check_error_line("", &out.stderr, class);
            if json && matches {
                self.check_json_error(&out.stdout, class);
            }
        }
        matches.then_some((code, out))
    }

    /// Starts one command; a failure to start is a [`Kind::Spawn`] failure.
    fn invoke(&mut self, op: Op, extra: Vec<OsString>, stdin: Option<Vec<u8>>) -> Option<Output> {
        let mut a: Vec<OsString> = self.imp.args.iter().map(OsString::from).collect();
        a.extend(op.words().iter().map(OsString::from));
        a.extend(extra);
        match exec::run(&self.imp.program, &a, stdin, self.timeout) {
            Ok(out) => Some(out),
            Err(e) => {
                let msg = format!("cannot run `{}`: {e}", self.imp.display);
                self.fail(Kind::Spawn, msg);
                None
            }
        }
    }

    /// The exit code, if the process ended by itself; timeouts, signals and crash output on
    /// stderr are failures.
    fn ended(&mut self, what: &str, out: &Output) -> Option<i32> {
        match out.termination {
            Termination::TimedOut => {
                let msg = format!(
                    "{what}no answer within {}; the process group was killed{}",
                    seconds(self.timeout),
                    context(out)
                );
                self.fail(Kind::Timeout, msg);
                None
            }
            Termination::Signaled(sig) => {
                let msg = format!(
                    "{what}killed by signal {sig} ({}){}",
                    exec::signal_name(sig),
                    context(out)
                );
                self.fail(Kind::Crash, msg);
                None
            }
            Termination::Exited(code) => {
                if let Some(line) = crash_line(&out.stderr) {
                    let msg = format!("{what}stderr shows a crash (exit {code}): \"{line}\"");
                    self.fail(Kind::Panic, msg);
                }
                Some(code)
            }
        }
    }

    /// `jcs`, `sig verify`, `identity new`: exact stdout where the vector fixes it.
    fn check_plain_answer(&mut self, code: i32, out: &Output) {
        if code == 2 {
            return;
        }
        if let Some(expected) = self.expect().stdout.clone() {
            self.compare_stdout(&expected, out);
        }
    }

    /// The key file of `identity new`: exact bytes, mode 0600; none after exit 2.
    fn check_key_file(&mut self, code: i32, path: &Path) {
        match code {
            0 => {
                let Ok(bytes) = fs::read(path) else {
                    let msg = format!("exit 0, but no key file at {}", path.display());
                    return self.fail(Kind::KeyFile, msg);
                };
                if let Some(expected) = self.expect().key_file.clone() {
                    if let Some(d) = diff::render(&expected, &bytes) {
                        self.fail(Kind::KeyFile, format!("key file {d}"));
                    }
                }
                if let Ok(meta) = fs::metadata(path) {
                    let mode = meta.permissions().mode() & 0o777;
                    if mode != 0o600 {
                        let msg = format!("key file mode is {mode:o}, expected 600");
                        self.fail(Kind::KeyFile, msg);
                    }
                }
            }
            2 if path.symlink_metadata().is_ok() => {
                let msg =
                    "exit 2, but a key file was written (SPEC.md §11.6: complete or not at all)";
                self.fail(Kind::KeyFile, msg.into());
            }
            _ => {}
        }
    }

    /// `claim create` and `claim convert`: exact JSON, or for the other encodings the emit
    /// grammar plus what `claim convert --to json -` decodes the output to.
    fn check_claim_output(&mut self, code: i32, out: &Output, format: Format) {
        if code != 0 {
            return;
        }
        if let Some(expected) = self.expect().stdout.clone() {
            self.compare_stdout(&expected, out);
        }
        if format == Format::Json {
            return;
        }
        if let Some(prefix) = self.expect().stdout_prefix.clone() {
            if !out.stdout.starts_with(&prefix) {
                let msg = format!(
                    "stdout does not start with \"{}\": \"{}\"",
                    diff::escape(&prefix),
                    excerpt(&out.stdout)
                );
                self.fail(Kind::Encoding, msg);
            }
        }
        let decoded = self.decode(&out.stdout);
        let subject = decoded
            .as_deref()
            .or(self.expect().stdout_decoded.as_deref())
            .and_then(|json| serde_json::from_slice::<Value>(json).ok())
            .and_then(|v| v.get("subject").and_then(Value::as_str).map(str::to_owned));
        if let Err(e) = check_encoding(format, &out.stdout, subject.as_deref()) {
            self.fail(Kind::Encoding, e);
        }
    }

    /// Runs `IMPL claim convert --to json -` on `text`; compares with `stdout_decoded`.
    fn decode(&mut self, text: &[u8]) -> Option<Vec<u8>> {
        const WHAT: &str = "decoding the output with `claim convert --to json -`: ";
        let out = self.invoke(
            Op::ClaimConvert,
            args(&["--to", "json", "-"]),
            Some(text.to_vec()),
        )?;
        let code = self.ended(WHAT, &out)?;
        if code != 0 {
            let msg = format!("{WHAT}exit {code}{}", context(&out));
            self.fail(Kind::Decode, msg);
            return None;
        }
        if let Some(expected) = self.expect().stdout_decoded.clone() {
            if let Some(d) = diff::render(&expected, &out.stdout) {
                self.fail(Kind::Decode, format!("{WHAT}stdout {d}"));
            }
        }
        Some(out.stdout)
    }

    /// `claim verify` and `sigchain verify` with `--json`: a canonical JSON object whose
    /// `status` and listed members match.
    fn check_state_answer(&mut self, code: i32, out: &Output) {
        if code == 2 {
            return;
        }
        let op = self.case.input.op();
        let got: Value = match serde_json::from_slice(&out.stdout) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                let msg = format!(
                    "stdout is not one JSON object: \"{}\"",
                    excerpt(&out.stdout)
                );
                return self.fail(Kind::StdoutJson, msg);
            }
        };
        self.check_canonical(&got, &out.stdout);
        let required: &[&str] = match op {
            Op::SigchainVerify => &["claims", "devices", "keys", "status"],
            _ => &["key", "reason", "status", "subject"],
        };
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|m| got.get(m).is_none())
            .collect();
        if !missing.is_empty() {
            let msg = format!(
                "stdout lacks {}: \"{}\"",
                missing.join(", "),
                excerpt(&out.stdout)
            );
            self.fail(Kind::StdoutJson, msg);
        }
        let status = got.get("status").and_then(Value::as_str);
        if let Some(want) = self.expect().status.clone() {
            if status != Some(want.as_str()) {
                let reason = got
                    .get("reason")
                    .or_else(|| got.pointer("/error/message"))
                    .and_then(Value::as_str)
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                let msg = format!(
                    "expected status {want}, got {}{reason}",
                    status.unwrap_or("(none)")
                );
                self.fail(Kind::Status, msg);
            }
        }
        // a broken chain rule: its class is `error.code` (SPEC.md §11.7)
        if let (Op::SigchainVerify, 1, Some(class)) = (op, code, self.expect().error_class.clone())
        {
            let got_code = got.pointer("/error/code").and_then(Value::as_str);
            if got_code != Some(class.as_str()) {
                let msg = format!(
                    "expected error.code {class:?} (the broken chain rule), got {}",
                    got_code.map_or_else(|| "none".to_owned(), |c| format!("{c:?}"))
                );
                self.fail(Kind::ErrorClass, msg);
            }
        }
        // also stderr: a broken chain rule is an answer, not an error (SPEC.md §11.7)
        if op == Op::SigchainVerify && code == 1 && !out.stderr.is_empty() {
            let msg = format!(
                "exit 1 must write nothing to stderr, got \"{}\"",
                excerpt(&out.stderr)
            );
            self.fail(Kind::Stderr, msg);
        }
        if let Some(Value::Object(want)) = self.expect().stdout_json.clone() {
            let Value::Object(got) = strip_informative(op, got) else {
                return;
            };
            let Value::Object(want) = strip_informative(op, Value::Object(want)) else {
                return;
            };
            for (name, value) in &want {
                match got.get(name) {
                    Some(g) if g == value => {}
                    g => {
                        let msg = format!(
                            "member {name:?}: expected {}, got {}",
                            cut(&value.to_string()),
                            g.map_or_else(|| "(absent)".into(), |g| cut(&g.to_string()))
                        );
                        self.fail(Kind::StdoutJson, msg);
                    }
                }
            }
        }
    }

    /// Exact stdout, with a readable difference.
    fn compare_stdout(&mut self, expected: &[u8], out: &Output) {
        let Some(d) = diff::render(expected, &out.stdout) else {
            return;
        };
        let mut msg = format!("stdout {d}");
        if out.stdout_truncated {
            let _ = write!(msg, "\n  (stdout was cut at {} bytes)", exec::MAX_CAPTURE);
        }
        if let Some(labels) = &self.case.element_labels {
            if let Some(note) = element_note(expected, &out.stdout, labels) {
                let _ = write!(msg, "\n  {note}");
            }
        }
        self.fail(Kind::Stdout, msg);
    }

    /// Exit 2: exactly one stderr line `kez: <message> [<code>]`, with `code` = `class`.
    fn check_error_line(&mut self, what: &str, stderr: &[u8], class: Option<&str>) {
        let one_line = stderr.ends_with(b"\n")
            && stderr.iter().filter(|&&b| b == b'\n').count() == 1
            && !stderr.contains(&b'\r');
        let code = std::str::from_utf8(stderr)
            .ok()
            .filter(|_| one_line)
            .and_then(|s| s.strip_prefix("kez: "))
            .and_then(|s| s.strip_suffix("]\n"))
            .and_then(|s| s.rsplit_once(" ["))
            .map(|(_, code)| code.to_owned());
        let Some(code) = code else {
            let msg = format!(
                "{what}exit 2 needs exactly one stderr line `kez: <message> [<code>]`, got \"{}\"",
                excerpt(stderr)
            );
            return self.fail(Kind::Stderr, msg);
        };
        if let Some(class) = class {
            if code != class {
                let msg = format!("{what}stderr names [{code}], expected [{class}]");
                self.fail(Kind::ErrorClass, msg);
            }
        }
    }

    /// Exit 2 with `--json`: stdout is the JCS form of `{"error":{"code":C,"message":M}}` + LF.
    fn check_json_error(&mut self, stdout: &[u8], class: Option<&str>) {
        let parsed: Option<Value> = serde_json::from_slice(stdout).ok();
        let code = parsed.as_ref().and_then(|v| {
            let root = v.as_object().filter(|o| o.len() == 1)?;
            let error = root.get("error")?.as_object().filter(|o| o.len() == 2)?;
            error.get("message")?.as_str()?;
            error.get("code")?.as_str()
        });
        let (Some(parsed), Some(code)) = (parsed.as_ref(), code) else {
            let msg = format!(
                "with --json, exit 2 must write {{\"error\":{{\"code\":…,\"message\":…}}}} on stdout, got \"{}\"",
                excerpt(stdout)
            );
            return self.fail(Kind::ErrorOutput, msg);
        };
        if let Some(class) = class {
            if code != class {
                let msg = format!("error.code is {code:?}, expected {class:?}");
                self.fail(Kind::ErrorClass, msg);
            }
        }
        self.check_canonical(parsed, stdout);
    }

    /// `bytes` must be the JCS form of `value` plus LF (for values without fractions).
    fn check_canonical(&mut self, value: &Value, bytes: &[u8]) {
        let Some(mut canonical) = jcs(value) else {
            return;
        };
        canonical.push('\n');
        if let Some(d) = diff::render(canonical.as_bytes(), bytes) {
            self.fail(
                Kind::NotCanonical,
                format!("stdout is not the JCS form of its JSON plus LF: {d}"),
            );
        }
    }
}

/// Drops the members that are human text and never compared: `reason` of `claim verify`, and
/// `error.message` of `sigchain verify`.
fn strip_informative(op: Op, mut v: Value) -> Value {
    if let Value::Object(o) = &mut v {
        match op {
            Op::SigchainVerify => {
                if let Some(Value::Object(e)) = o.get_mut("error") {
                    e.remove("message");
                }
            }
            _ => {
                o.remove("reason");
            }
        }
    }
    v
}

fn args(words: &[&str]) -> Vec<OsString> {
    words.iter().map(OsString::from).collect()
}

/// Writes a file only its owner can read (key files).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

/// The first stderr line showing a crash, escaped.
fn crash_line(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    text.lines()
        .find(|l| CRASH_MARKERS.iter().any(|m| l.contains(m)) || is_node_frame(l))
        .map(|l| cut(&diff::escape(l.as_bytes())))
}

/// `    at name (file.js:12:5)` or `    at file.js:12:5`.
fn is_node_frame(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("    at ") else {
        return false;
    };
    let rest = rest.trim_end().trim_end_matches(')');
    let mut parts = rest.rsplitn(3, ':');
    let col = parts.next().unwrap_or_default();
    let row = parts.next().unwrap_or_default();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(col) && digits(row)
}

fn first_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .find(|l| !l.trim().is_empty())
        .map(|l| cut(&diff::escape(l.as_bytes())))
}

/// ` (stderr: "...")`, or ` (stdout: "...")` when stderr is empty, for exit-code messages.
fn context(out: &Output) -> String {
    if !out.stderr.is_empty() {
        format!("; stderr: \"{}\"", excerpt(&out.stderr))
    } else if !out.stdout.is_empty() {
        format!("; stdout: \"{}\"", excerpt(&out.stdout))
    } else {
        String::new()
    }
}

/// The start of `bytes`, escaped, at most [`EXCERPT`] characters.
fn excerpt(bytes: &[u8]) -> String {
    let head = bytes.get(..EXCERPT).unwrap_or(bytes);
    let escaped = diff::escape(head);
    let mut s = cut(&escaped);
    if s.len() < escaped.len() || head.len() < bytes.len() {
        if !s.ends_with('…') {
            s.push('…');
        }
        let _ = write!(s, " ({} bytes)", bytes.len());
    }
    s
}

fn cut(s: &str) -> String {
    match s.char_indices().nth(EXCERPT) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or(s)),
        None => s.to_owned(),
    }
}

fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// For an array output (the ES6 number batches): which element differs first, and what it
/// stands for.
fn element_note(expected: &[u8], got: &[u8], labels: &[String]) -> Option<String> {
    let offset = diff::first_difference(expected, got)?;
    let index = expected
        .get(..offset)?
        .iter()
        .filter(|&&b| b == b',')
        .count();
    let element = |bytes: &[u8]| -> String {
        let inner = bytes.strip_prefix(b"[").unwrap_or(bytes);
        let inner = inner.strip_suffix(b"]\n").unwrap_or(inner);
        inner
            .split(|&b| b == b',')
            .nth(index)
            .map(diff::escape)
            .unwrap_or_else(|| "(missing)".into())
    };
    Some(format!(
        "element {index} ({}): expected {}, got {}",
        labels.get(index).map_or("?", String::as_str),
        element(expected),
        element(got)
    ))
}

/// The JCS form (SPEC.md §2.2) of `v`, for JSON without fractional numbers (all the profile
/// writes); `None` for a value with a non-integer number.
pub(crate) fn jcs(v: &Value) -> Option<String> {
    let mut out = String::new();
    write_jcs(v, &mut out)?;
    Some(out)
}

fn write_jcs(v: &Value, out: &mut String) -> Option<()> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else {
                let _ = write!(out, "{}", n.as_i64()?);
            }
        }
        Value::String(s) => write_jcs_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_jcs(item, out)?;
            }
            out.push(']');
        }
        Value::Object(members) => write_jcs_object(members, out)?,
    }
    Some(())
}

fn write_jcs_object(members: &Map<String, Value>, out: &mut String) -> Option<()> {
    let mut names: Vec<&String> = members.keys().collect();
    // JCS sorts by UTF-16 code units
    names.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    out.push('{');
    for (i, name) in names.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_jcs_string(name, out);
        out.push(':');
        write_jcs(members.get(name)?, out)?;
    }
    out.push('}');
    Some(())
}

fn write_jcs_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Checks an emitted compact, Markdown or DNS text against its emit grammar (SPEC.md §9.2 to
/// §9.4). `subject` (the decoded claim's) decides between a DNS zone-file line and RDATA.
///
/// # Errors
///
/// What is wrong with the text.
pub(crate) fn check_encoding(
    format: Format,
    text: &[u8],
    subject: Option<&str>,
) -> Result<(), String> {
    let shown = || excerpt(text);
    let Ok(text) = std::str::from_utf8(text) else {
        return Err(format!(
            "{} output is not UTF-8: \"{}\"",
            format.name(),
            shown()
        ));
    };
    match format {
        Format::Json => Ok(()),
        Format::Compact => {
            let line = text.strip_suffix('\n').filter(|l| is_compact(l));
            line.map(drop).ok_or_else(|| {
                format!(
                    "compact output must be `kez:z1:<base64url>` + LF, got \"{}\"",
                    shown()
                )
            })
        }
        Format::Markdown => {
            let inner = text
                .strip_prefix("```kez\n")
                .and_then(|t| t.strip_suffix("\n```\n"))
                .filter(|c| is_compact(c));
            inner.map(drop).ok_or_else(|| {
                format!(
                    "markdown output must be \"```kez\\n\" + compact + \"\\n```\\n\" (SPEC.md §9.3), got \"{}\"",
                    shown()
                )
            })
        }
        Format::Dns => check_dns(text, subject).map_err(|e| format!("{e}: \"{}\"", shown())),
    }
}

fn is_compact(s: &str) -> bool {
    s.strip_prefix("kez:z1:").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// SPEC.md §9.4 emit: `_kez.<d>. 3600 IN TXT ` for `dns:<d>` subjects, then the compact string
/// in 255-byte quoted chunks joined by one SP, then LF.
fn check_dns(text: &str, subject: Option<&str>) -> Result<(), String> {
    let line = text
        .strip_suffix('\n')
        .filter(|l| !l.contains('\n'))
        .ok_or("dns output must be one line ending in LF")?;
    let rdata = match subject.map(|s| s.strip_prefix("dns:")) {
        Some(Some(domain)) => line
            .strip_prefix(&format!("_kez.{domain}. 3600 IN TXT "))
            .ok_or_else(|| {
                format!(
                    "a dns:{domain} claim must be emitted as `_kez.{domain}. 3600 IN TXT \"…\"`"
                )
            })?,
        Some(None) => line,
        // subject unknown (the output did not decode): accept either shape
        None => match line.find(" 3600 IN TXT ") {
            Some(at) if line.starts_with("_kez.") => line.get(at + 13..).unwrap_or_default(),
            _ => line,
        },
    };
    let mut compact = String::new();
    let mut chunks = rdata.split(' ').peekable();
    while let Some(chunk) = chunks.next() {
        let inner = chunk
            .strip_prefix('"')
            .and_then(|c| c.strip_suffix('"'))
            .filter(|c| !c.is_empty() && c.len() <= 255 && !c.contains('"'))
            .ok_or("the TXT data must be quoted strings of 1-255 bytes joined by one SP")?;
        if chunks.peek().is_some() && inner.len() != 255 {
            return Err("every TXT string but the last must hold exactly 255 bytes".into());
        }
        compact.push_str(inner);
    }
    if is_compact(&compact) {
        Ok(())
    } else {
        Err("the TXT strings do not join to a compact string".into())
    }
}
