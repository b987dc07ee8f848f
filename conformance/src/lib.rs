//! `kez-conformance`: replays the shared KEZ test vectors (`vectors/`, SPEC.md §12) and the
//! upstream suites against any implementation, driving only its command line through the
//! CLI conformance profile (SPEC.md §11). Every case ends as pass, skip (the implementation
//! lacks the op), known divergence (listed in an exceptions file, with a reason) or
//! unexpected (a failure, or a listed case that passes); only unexpected outcomes fail the
//! run. See `conformance/README.md`.
//!
//! The library exposes the pieces worth testing on their own; the binary is [`main`].

mod case;
mod check;
pub mod diff;
pub mod exceptions;
mod exec;
pub mod glob;
mod report;
mod runner;
pub mod shellwords;
mod upstream;
mod vectors;

use std::ffi::OsString;
use std::fs;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

use crate::check::Impl;
use crate::exceptions::Exceptions;
pub use crate::report::xml_escape;

/// Exit code: every outcome was expected.
const EXIT_OK: u8 = 0;
/// Exit code: at least one unexpected outcome.
const EXIT_UNEXPECTED: u8 = 1;
/// Exit code: the runner was used wrongly (arguments, vectors, exceptions file, --impl).
const EXIT_USAGE: u8 = 2;

/// Replay the KEZ conformance vectors against an implementation's `kez` command line
#[derive(Debug, Parser)]
#[command(
    name = "kez-conformance",
    version,
    after_help = "Exit status:\n  0  every outcome was expected (pass, skip, known divergence)\n  1  at least one unexpected outcome (a failure, or an exception that passes)\n  2  usage error (arguments, vectors, exceptions file, an --impl that cannot run)"
)]
struct Args {
    /// The implementation's command line, split like a shell would (no shell is run),
    /// e.g. "target/release/kez" or "python3 ports/python/kez_cli.py"
    #[arg(long = "impl", value_name = "CMDLINE")]
    implementation: String,
    /// Vector directory [default: $KEZ_VECTORS, else ./vectors, else the workspace's]
    #[arg(long, value_name = "DIR")]
    vectors: Option<PathBuf>,
    /// Run only some cases: PATTERN is a case id (`jcs#12`), a glob over ids (`'sig#*'`), or a
    /// substring of ids (`jcs`); repeatable (any may match)
    #[arg(long, value_name = "PATTERN")]
    filter: Vec<String>,
    /// Cases run in parallel [default: available parallelism]
    #[arg(long, value_name = "N")]
    jobs: Option<NonZeroUsize>,
    /// Seconds one command may take before its process group is killed
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    timeout: Duration,
    /// Print a JSON report on stdout instead of the text report
    #[arg(long)]
    json: bool,
    /// Also write a JUnit XML report to FILE
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Known divergences of this implementation (conformance/exceptions/<impl>.json)
    #[arg(long, value_name = "FILE")]
    exceptions: Option<PathBuf>,
    /// Also replay the upstream suites (BIP-340, Wycheproof, RFC 8032, JCS) from DIR
    /// [default: $KEZ_UPSTREAM_VECTORS, else ../shared/upstream-vectors next to the workspace]
    #[arg(long, value_name = "DIR")]
    upstream: Option<Option<PathBuf>>,
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
        return Err("expected seconds in (0, 86400]".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The workspace this runner was built in (for the default vector and upstream folders).
fn workspace() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn default_vectors() -> PathBuf {
    if let Some(dir) = std::env::var_os("KEZ_VECTORS").filter(|d| !d.is_empty()) {
        return dir.into();
    }
    let local = PathBuf::from("vectors");
    if local.is_dir() {
        local
    } else {
        workspace().join("vectors")
    }
}

fn default_upstream() -> PathBuf {
    match std::env::var_os("KEZ_UPSTREAM_VECTORS").filter(|d| !d.is_empty()) {
        Some(dir) => dir.into(),
        None => workspace().join("../shared/upstream-vectors"),
    }
}

/// Runs the command line `args` (program name first) and returns the exit code: 0 when every
/// outcome was expected, 1 when one was not, 2 on usage errors. Reports go to stdout (and the
/// `--junit` file); usage errors and warnings to stderr.
#[must_use]
pub fn main<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args = match Args::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kez-conformance: {e}");
            EXIT_USAGE
        }
    }
}

fn run(args: &Args) -> Result<u8, String> {
    let words = shellwords::split(&args.implementation).map_err(|e| format!("--impl: {e}"))?;
    let mut words = words.into_iter();
    let program = words.next().ok_or("--impl: empty command line")?;
    let imp = Impl {
        program,
        args: words.collect(),
        display: args.implementation.clone(),
    };
    let exceptions = match &args.exceptions {
        Some(path) => {
            let text =
                fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Exceptions::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => Exceptions::default(),
    };
    let vectors_dir = args.vectors.clone().unwrap_or_else(default_vectors);
    let mut cases = vectors::load_dir(&vectors_dir)?;
    let mut warnings = Vec::new();
    if cases.is_empty() {
        warnings.push(format!("no vector files in {}", vectors_dir.display()));
    }
    let upstream_dir = args
        .upstream
        .as_ref()
        .map(|d| d.clone().unwrap_or_else(default_upstream));
    if let Some(dir) = &upstream_dir {
        cases.extend(upstream::load(dir).map_err(|e| format!("--upstream: {e}"))?);
    }
    if cases.is_empty() {
        return Err(format!(
            "no cases: {} has no vector files (and no --upstream)",
            vectors_dir.display()
        ));
    }
    let all_ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    for stale in exceptions.unmatched(&all_ids) {
        warnings.push(format!(
            "the exceptions file lists {:?}, which matches no case",
            stale.case
        ));
    }
    if !args.filter.is_empty() {
        cases.retain(|c| args.filter.iter().any(|p| glob::filter_match(p, &c.id)));
        if cases.is_empty() {
            return Err(format!("--filter {:?} selects no case", args.filter));
        }
    }
    let jobs = args
        .jobs
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    let run = runner::run(&imp, cases, &exceptions, jobs, args.timeout)?;
    let meta = report::Meta {
        impl_display: &imp.display,
        vectors: Some(vectors_dir.display().to_string()),
        upstream: upstream_dir.map(|d| d.display().to_string()),
        jobs,
        timeout_secs: args.timeout.as_secs_f64(),
        warnings: &warnings,
    };
    if let Some(path) = &args.junit {
        fs::write(path, report::junit(&run, &meta))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let text = if args.json {
        for w in &warnings {
            eprintln!("kez-conformance: warning: {w}");
        }
        report::json(&run, &meta)
    } else {
        report::text(&run, &meta)
    };
    print_out(&text);
    Ok(if run.unexpected() {
        EXIT_UNEXPECTED
    } else {
        EXIT_OK
    })
}

/// Writes the report; a closed stdout is no reason to panic.
fn print_out(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
