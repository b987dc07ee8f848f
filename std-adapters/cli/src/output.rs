//! Exit codes, the one-line error format and JSON output (`design/CLI.md`, "Exit codes").
//!
//! Every command returns a [`Done`] (stdout bytes and whether the answer is "yes" or "no") or a
//! [`Failure`]. Only this module writes to stdout and stderr, and it never panics on a closed or
//! failing stream.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;

/// Exit code: done / valid.
const EXIT_YES: u8 = 0;
/// Exit code: well-formed input, but the answer is "no".
const EXIT_NO: u8 = 1;
/// Exit code: usage error or malformed input.
const EXIT_ERROR: u8 = 2;

/// The answer of a command that ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Exit 0.
    Yes,
    /// Exit 1 (invalid, expired, ...).
    No,
}

/// A command's result: what to print on stdout, and the exit code.
#[derive(Debug)]
pub(crate) struct Done {
    pub(crate) stdout: Vec<u8>,
    pub(crate) answer: Answer,
}

impl Done {
    pub(crate) fn yes(stdout: Vec<u8>) -> Self {
        Self {
            stdout,
            answer: Answer::Yes,
        }
    }
}

/// A command that could not run: exit 2 with `kez: <message> [<code>]` on stderr, or exit 1
/// with the same line when a well-formed input was refused (see [`Failure::answer_no`]).
#[derive(Debug)]
pub(crate) struct Failure {
    code: &'static str,
    message: String,
    exit: u8,
}

impl Failure {
    /// A usage error: bad arguments.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            code: "usage",
            message: message.into(),
            exit: EXIT_ERROR,
        }
    }

    /// An I/O error, with what was being done.
    pub(crate) fn io(context: impl fmt::Display, err: &io::Error) -> Self {
        Self {
            code: "io",
            message: format!("{context}: {err}"),
            exit: EXIT_ERROR,
        }
    }

    /// An I/O failure without an `io::Error` (clock, randomness).
    pub(crate) fn io_msg(message: impl Into<String>) -> Self {
        Self {
            code: "io",
            message: message.into(),
            exit: EXIT_ERROR,
        }
    }

    /// A file that must not be overwritten.
    pub(crate) fn exists(message: impl Into<String>) -> Self {
        Self {
            code: "exists",
            message: message.into(),
            exit: EXIT_ERROR,
        }
    }

    /// A sigchain that forked: it cannot be extended or exported (exit 1).
    pub(crate) fn fork(message: impl Into<String>) -> Self {
        Self {
            code: "fork",
            message: message.into(),
            exit: EXIT_NO,
        }
    }

    /// The input was well-formed and the answer is "no" (a sigchain rule refused a link):
    /// exit 1 instead of 2, with the same error output.
    pub(crate) fn answer_no(mut self) -> Self {
        self.exit = EXIT_NO;
        self
    }

    /// The error class.
    pub(crate) fn code(&self) -> &'static str {
        self.code
    }

    /// The one-line message.
    pub(crate) fn message(&self) -> String {
        self.message.replace(['\n', '\r'], " ")
    }

    /// Prefixes the message with what was being read or decoded.
    pub(crate) fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl From<kez_core::Error> for Failure {
    fn from(e: kez_core::Error) -> Self {
        Self {
            code: e.kind(),
            message: e.to_string(),
            exit: EXIT_ERROR,
        }
    }
}

/// Prints a command's output and turns its answer into the exit code.
pub(crate) fn finish(result: Result<Done, Failure>, json: bool) -> ExitCode {
    match result {
        Ok(done) => {
            let code = match done.answer {
                Answer::Yes => EXIT_YES,
                Answer::No => EXIT_NO,
            };
            match write_stdout(&done.stdout) {
                Ok(()) => ExitCode::from(code),
                // the reader went away: nothing left to tell anyone
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(code),
                Err(e) => fail(&Failure::io("cannot write to stdout", &e), json),
            }
        }
        Err(failure) => fail(&failure, json),
    }
}

/// Reports a failure: one line on stderr, plus the JSON error object on stdout with `--json`.
pub(crate) fn fail(failure: &Failure, json: bool) -> ExitCode {
    // one line, whatever the message holds
    let message = failure.message();
    if json {
        let text = format!(
            "{{\"error\":{}}}",
            object_text(&[("code", failure.code), ("message", &message)])
        );
        // stdout may be the very thing that failed; stderr still gets the line
        let _ = write_stdout(&canonical_line(&text));
    }
    let _ = writeln!(io::stderr().lock(), "kez: {message} [{}]", failure.code);
    ExitCode::from(failure.exit)
}

/// Reports a command-line parse error from clap. `--help` and `--version` go to stdout with
/// exit 0; real errors become one `usage` line.
pub(crate) fn clap_error(err: &clap::Error, json: bool) -> ExitCode {
    let rendered = err.render().to_string();
    if !err.use_stderr() {
        let _ = write_stdout(rendered.as_bytes());
        return ExitCode::from(EXIT_YES);
    }
    let message = if err.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        format!("missing command; try '{} --help'", command_path(&rendered))
    } else {
        one_line(&rendered)
    };
    fail(&Failure::usage(message), json)
}

/// Folds clap's multi-line error into one line: the error block and any tips, without the
/// usage synopsis (`--help` shows it).
fn one_line(rendered: &str) -> String {
    let (mut error, mut tips) = (Vec::new(), Vec::new());
    for line in rendered.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if let Some(tip) = line.strip_prefix("tip:") {
            tips.push(tip.trim_start());
        } else if !line.is_empty() {
            error.push(line.strip_prefix("error:").map_or(line, str::trim_start));
        }
    }
    let mut out = error.join(" ");
    if out.is_empty() {
        out.push_str("invalid command line");
    }
    for tip in tips {
        out.push_str("; ");
        out.push_str(tip);
    }
    out.push_str("; try '--help'");
    out
}

/// The command words of clap's `Usage:` line (`kez claim create`), or `kez`.
fn command_path(rendered: &str) -> String {
    let usage = rendered
        .lines()
        .find_map(|l| l.trim().strip_prefix("Usage:"))
        .unwrap_or_default();
    let words: Vec<&str> = usage
        .split_whitespace()
        .take_while(|w| !w.starts_with(['[', '<', '-']))
        .collect();
    if words.is_empty() {
        "kez".to_owned()
    } else {
        words.join(" ")
    }
}

/// A JSON object text from string members (callers pass names in sorted order; the result is
/// canonicalized by [`canonical_line`] anyway).
pub(crate) fn object_text(members: &[(&str, &str)]) -> String {
    let mut out = String::from("{");
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, name);
        out.push(':');
        push_json_string(&mut out, value);
    }
    out.push('}');
    out
}

/// The JCS form of a JSON text we built, plus "\n". The core's canonicalizer makes the output
/// canonical by construction, whatever order or escaping the builder used.
pub(crate) fn canonical_line(text: &str) -> Vec<u8> {
    let mut out = kez_core::jcs::canonicalize_to_vec(text.as_bytes())
        .unwrap_or_else(|_| text.as_bytes().to_vec());
    out.push(b'\n');
    out
}

/// `s` as a JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_json_string(&mut out, s);
    out
}

/// Lowercase hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for d in [b >> 4, b & 0x0f] {
            out.push(char::from(
                DIGITS.get(usize::from(d)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}
