//! Honesty of the runner. The real `kez` passes every committed vector (and the upstream
//! suites); implementations broken on purpose (shell wrappers around `kez`) are caught, each
//! with exactly the right cases failing for the right reason, and an implementation that lacks
//! an op gets skips, not failures.
//!
//! The expected outcomes are computed from the vector files themselves (read here with
//! serde_json, not with the runner's loader), so the checks hold whatever the vectors hold. A
//! mutant run covers the areas that use the broken op plus the `keys` area as a control.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The `kez` binary of this workspace's target directory: the test executable is
/// `<target>/debug/deps/honesty-<hash>`, the CLI `<target>/debug/kez`.
fn kez() -> String {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let kez = profile_dir.join("kez");
    assert!(
        kez.is_file(),
        "{} is missing: build the CLI first (`cargo build -p kez-cli`; `cargo test --workspace` builds it)",
        kez.display()
    );
    kez.display().to_string()
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The committed vectors.
fn vectors_dir() -> PathBuf {
    workspace().join("vectors")
}

/// A vector case, read straight from the files.
#[derive(Debug, Clone)]
struct Vector {
    id: String,
    area: String,
    op: String,
    exit: Option<u64>,
    stdout: bool,
    input: Value,
}

fn vectors() -> Vec<Vector> {
    let dir = vectors_dir();
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension() == Some(OsStr::new("json")))
        .filter(|p| p.file_name() != Some(OsStr::new("schema.json")))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let root: Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
        let area = root["area"].as_str().unwrap().to_owned();
        for group in root["testGroups"].as_array().unwrap() {
            let op = group["op"].as_str().unwrap();
            for t in group["tests"].as_array().unwrap() {
                out.push(Vector {
                    id: format!("{area}#{}", t["tcId"]),
                    area: area.clone(),
                    op: op.to_owned(),
                    exit: t["exit"].as_u64(),
                    stdout: t.get("stdout").is_some(),
                    input: t["input"].clone(),
                });
            }
        }
    }
    assert!(
        !out.is_empty(),
        "no vectors in {}: generate them with `cargo run -p kez-vectors`",
        dir.display()
    );
    out
}

fn ids(vectors: &[Vector], pick: impl Fn(&Vector) -> bool) -> BTreeSet<String> {
    vectors
        .iter()
        .filter(|v| pick(v))
        .map(|v| v.id.clone())
        .collect()
}

/// The areas that use `op`, plus `keys` as a control: `--filter` arguments for them, and
/// the vectors they select.
fn scope(op: &str) -> (Vec<String>, Vec<Vector>) {
    scope_of(|v| v.op == op)
}

/// The areas with a case that `pick` picks, plus `keys`; as [`scope`].
fn scope_of(pick: impl Fn(&Vector) -> bool) -> (Vec<String>, Vec<Vector>) {
    let all = vectors();
    let mut areas: BTreeSet<String> = all
        .iter()
        .filter(|v| pick(v))
        .map(|v| v.area.clone())
        .collect();
    assert!(!areas.is_empty(), "no vectors for this mutant");
    areas.insert("keys".into());
    let selected = all
        .into_iter()
        .filter(|v| areas.contains(&v.area))
        .collect();
    let filters = areas
        .into_iter()
        .flat_map(|a| ["--filter".to_owned(), format!("{a}#*")])
        .collect();
    (filters, selected)
}

/// Whether `v` needs sigchains: `sigchain verify`, or `claim verify --chain`.
fn needs_sigchains(v: &Vector) -> bool {
    v.op == "sigchain_verify" || (v.op == "claim_verify" && !v.input["chain"].is_null())
}

/// A scratch directory, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "kez-conformance-test-{}-{name}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes a `/bin/sh` wrapper around the real `kez` (`$KEZ` in `body`); every command
    /// that `body` does not handle goes to `kez` unchanged.
    fn mutant(&self, body: &str) -> String {
        let path = self.path("kez.sh");
        let script = format!("#!/bin/sh\nKEZ='{}'\n{body}\nexec \"$KEZ\" \"$@\"\n", kez());
        fs::write(&path, script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Lets `--help` probes through to `kez`, so the op counts as supported.
const PASS_HELP: &str = r#"case " $* " in *" --help "*) exec "$KEZ" "$@" ;; esac"#;

/// `sig verify` with exit 0 and 1 swapped.
fn flip_sig_verify() -> String {
    format!(
        r#"if [ "$1" = sig ] && [ "$2" = verify ]; then
  {PASS_HELP}
  "$KEZ" "$@"
  rc=$?
  case $rc in 0) exit 1 ;; 1) exit 0 ;; *) exit $rc ;; esac
fi"#
    )
}

struct Ran {
    code: i32,
    stdout: String,
    took: Duration,
}

fn runner(imp: &str, extra: &[&str]) -> Ran {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kez-conformance"))
        .arg("--impl")
        .arg(imp)
        .arg("--vectors")
        .arg(vectors_dir())
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked"),
        "the runner panicked: {stderr}"
    );
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        took: started.elapsed(),
    }
}

/// The JSON report: id -> (outcome, failure kinds).
struct Report {
    code: i32,
    cases: BTreeMap<String, (String, Vec<String>)>,
    took: Duration,
}

impl Report {
    fn run(imp: &str, extra: &[&str]) -> Self {
        let mut args = vec!["--json"];
        args.extend_from_slice(extra);
        let ran = runner(imp, &args);
        let report: Value = serde_json::from_str(&ran.stdout)
            .unwrap_or_else(|e| panic!("report is not JSON ({e}): {}", ran.stdout));
        let cases = report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let kinds = c["failures"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["kind"].as_str().unwrap().to_owned())
                    .collect();
                let id = c["id"].as_str().unwrap().to_owned();
                (id, (c["outcome"].as_str().unwrap().to_owned(), kinds))
            })
            .collect();
        Self {
            code: ran.code,
            cases,
            took: ran.took,
        }
    }

    fn ids(&self) -> BTreeSet<String> {
        self.cases.keys().cloned().collect()
    }

    fn with_outcome(&self, outcome: &str) -> BTreeSet<String> {
        self.cases
            .iter()
            .filter(|(_, (o, _))| o == outcome)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Asserts that the run covered exactly `selected`, that exactly `failing` failed, each
    /// with a failure of `kind`, that everything else passed, and that the runner exited 1.
    fn assert_caught(&self, selected: &[Vector], failing: &BTreeSet<String>, kind: &str) {
        assert!(
            !failing.is_empty(),
            "the vectors have no case for this mutant"
        );
        assert_eq!(self.ids(), ids(selected, |_| true), "the cases run");
        assert_eq!(&self.with_outcome("fail"), failing, "the failing cases");
        for id in failing {
            let kinds = &self.cases[id].1;
            assert!(
                kinds.iter().any(|k| k == kind),
                "{id}: kinds {kinds:?}, expected {kind}"
            );
        }
        assert_eq!(
            self.with_outcome("pass").len() + failing.len(),
            self.cases.len(),
            "every other case passes"
        );
        assert_eq!(self.code, 1, "unexpected outcomes exit 1");
    }
}

/// The text report's last two lines.
fn closing(stdout: &str) -> (String, String) {
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() >= 2, "{stdout}");
    (
        lines[lines.len() - 2].to_owned(),
        lines[lines.len() - 1].to_owned(),
    )
}

#[test]
fn kez_passes_every_vector() {
    let n = vectors().len();
    let scratch = Scratch::new("kez");
    let junit = scratch.path("junit.xml");
    let exceptions = concat!(env!("CARGO_MANIFEST_DIR"), "/exceptions/kez.json");
    let ran = runner(
        &kez(),
        &[
            "--exceptions",
            exceptions,
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    assert!(!ran.stdout.contains("\nFAIL"), "{}", ran.stdout);
    let (before, last) = closing(&ran.stdout);
    assert_eq!(before, "0 skipped, 0 known divergences");
    assert_eq!(last, format!("{n} passed, 0 failed"));
    let xml = fs::read_to_string(&junit).unwrap();
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(" tests=\"{n}\" failures=\"0\"")),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), n);
    eprintln!(
        "kez: {n} vectors in {:.2}s ({:.0} cases/s)",
        ran.took.as_secs_f64(),
        n as f64 / ran.took.as_secs_f64()
    );
}

/// The upstream suites of SPEC.md §12: a skip outside CI when absent, a failure under `CI=true`.
#[test]
fn kez_passes_the_upstream_suites() {
    let dir = std::env::var_os("KEZ_UPSTREAM_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared/upstream-vectors"));
    if !dir.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "upstream vectors missing at {} (set KEZ_UPSTREAM_VECTORS)",
            dir.display()
        );
        eprintln!("SKIP: no upstream vectors at {}", dir.display());
        return;
    }
    let dir = dir.display().to_string();
    let report = Report::run(&kez(), &["--upstream", &dir, "--filter", "upstream-*"]);
    assert_eq!(report.code, 0, "{:?}", report.with_outcome("fail"));
    assert_eq!(report.with_outcome("pass").len(), report.cases.len());
    let mut per_area: BTreeMap<String, usize> = BTreeMap::new();
    for id in report.ids() {
        let area = id.split('#').next().unwrap().to_owned();
        *per_area.entry(area).or_default() += 1;
    }
    let expected: BTreeMap<String, usize> = [
        ("upstream-bip340", 19),
        ("upstream-es6", 10),
        ("upstream-jcs", 6),
        ("upstream-rfc8032", 5),
        ("upstream-wycheproof", 151),
    ]
    .map(|(a, n)| (a.to_owned(), n))
    .into();
    assert_eq!(per_area, expected);
    eprintln!(
        "upstream: {} cases in {:.2}s",
        report.cases.len(),
        report.took.as_secs_f64()
    );
}

#[test]
fn mutant_flipped_sig_verify_exit() {
    let scratch = Scratch::new("flip");
    let imp = scratch.mutant(&flip_sig_verify());
    let (filters, selected) = scope("sig_verify");
    let failing = ids(&selected, |c| {
        c.op == "sig_verify" && matches!(c.exit, Some(0 | 1))
    });
    let report = Report::run(&imp, &strs(&filters));
    report.assert_caught(&selected, &failing, "exit");
}

#[test]
fn mutant_one_byte_of_jcs_output() {
    let scratch = Scratch::new("byte");
    let imp = scratch.mutant(&format!(
        r#"if [ "$1" = jcs ]; then
  {PASS_HELP}
  out=$(mktemp) || exit 99
  "$KEZ" "$@" > "$out"
  rc=$?
  if [ $rc -eq 0 ]; then printf '#'; tail -c +2 "$out"; else cat "$out"; fi
  rm -f "$out"
  exit $rc
fi"#
    ));
    let (filters, selected) = scope("jcs");
    let failing = ids(&selected, |c| {
        c.op == "jcs" && c.exit == Some(0) && c.stdout
    });
    Report::run(&imp, &strs(&filters)).assert_caught(&selected, &failing, "stdout");
    // the text report shows where: byte 0, escaped, expected vs got
    let ran = runner(&imp, &["--filter", failing.iter().next().unwrap()]);
    assert_eq!(ran.code, 1);
    assert!(
        ran.stdout
            .contains("[stdout] stdout differs at byte 0 (line 1, column 1)"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("expected: \"") && ran.stdout.contains("got:      \"#"),
        "{}",
        ran.stdout
    );
    assert_eq!(closing(&ran.stdout).1, "0 passed, 1 failed");
}

#[test]
fn mutant_crashing_claim_verify() {
    let scratch = Scratch::new("crash");
    let imp = scratch.mutant(&format!(
        r#"if [ "$1" = claim ] && [ "$2" = verify ]; then
  {PASS_HELP}
  kill -SEGV $$
fi"#
    ));
    let (filters, selected) = scope("claim_verify");
    let failing = ids(&selected, |c| c.op == "claim_verify");
    Report::run(&imp, &strs(&filters)).assert_caught(&selected, &failing, "crash");
}

#[test]
fn mutant_hanging_jcs_is_killed_with_its_group() {
    let scratch = Scratch::new("hang");
    let (filters, selected) = scope("jcs");
    let trigger = selected
        .iter()
        .find_map(|c| (c.op == "jcs").then(|| c.input["text"].as_str()).flatten())
        .expect("a jcs vector with a text input")
        .to_owned();
    fs::write(scratch.path("trigger"), &trigger).unwrap();
    let pid_file = scratch.path("sleep.pid");
    let imp = scratch.mutant(&format!(
        r#"if [ "$1" = jcs ]; then
  {PASS_HELP}
  in=$(mktemp) || exit 99
  cat > "$in"
  if cmp -s "$in" '{trigger}'; then
    rm -f "$in"
    sleep 600 &
    echo $! > '{pid}'
    wait
    exit 0
  fi
  "$KEZ" "$@" < "$in"
  rc=$?
  rm -f "$in"
  exit $rc
fi"#,
        trigger = scratch.path("trigger").display(),
        pid = pid_file.display(),
    ));
    let failing = ids(&selected, |c| {
        c.op == "jcs" && c.input["text"].as_str() == Some(&trigger)
    });
    let mut args = strs(&filters);
    args.extend(["--timeout", "2"]);
    let report = Report::run(&imp, &args);
    report.assert_caught(&selected, &failing, "timeout");
    assert!(
        report.took < Duration::from_secs(60),
        "took {:?}",
        report.took
    );
    // the background `sleep` went with the group: gone, or a zombie awaiting its new parent
    let pid = fs::read_to_string(&pid_file).unwrap();
    let stat = fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    let state = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .next();
    assert!(
        matches!(state, None | Some("Z" | "X")),
        "sleep {pid} still runs: {stat}"
    );
}

#[test]
fn mutant_backtrace_on_stderr() {
    let scratch = Scratch::new("panic");
    let imp = scratch.mutant(&format!(
        r#"if [ "$1" = identity ] && [ "$2" = new ]; then
  {PASS_HELP}
  "$KEZ" "$@"
  rc=$?
  echo "thread 'main' panicked at src/main.rs:12:5:" >&2
  echo "index out of bounds: the len is 0 but the index is 0" >&2
  echo "note: run with \`RUST_BACKTRACE=1\` environment variable to display a backtrace" >&2
  exit $rc
fi"#
    ));
    let (filters, selected) = scope("identity_new");
    let failing = ids(&selected, |c| c.op == "identity_new");
    Report::run(&imp, &strs(&filters)).assert_caught(&selected, &failing, "panic");
}

#[test]
fn mutant_without_sigchain_is_skipped_not_failed() {
    let scratch = Scratch::new("noop");
    let imp = scratch.mutant(
        r#"if [ "$1" = sigchain ]; then
  printf "error: unrecognized subcommand 'sigchain'\n\nUsage: kez [OPTIONS] <COMMAND>\n\nFor more information, try '--help'.\n" >&2
  exit 2
fi"#,
    );
    let (filters, selected) = scope_of(needs_sigchains);
    let skipped = ids(&selected, needs_sigchains);
    assert!(skipped.iter().any(|id| id.starts_with("claims_verify#")));
    let ran = runner(&imp, &strs(&filters));
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    assert!(
        ran.stdout.contains(&format!(
            "SKIP  sigchain_verify ({} cases): `{imp} sigchain verify --help` exited 2: error: unrecognized subcommand 'sigchain'",
            skipped.len()
        )),
        "{}",
        ran.stdout
    );
    let (before, last) = closing(&ran.stdout);
    assert_eq!(
        before,
        format!("{} skipped, 0 known divergences", skipped.len())
    );
    let passed = selected.len() - skipped.len();
    assert!(passed > 0);
    assert_eq!(last, format!("{passed} passed, 0 failed"));
    let report = Report::run(&imp, &strs(&filters));
    assert_eq!(report.with_outcome("skip"), skipped);
    assert_eq!(report.with_outcome("pass").len(), passed);
    assert_eq!(report.code, 0);
}

#[test]
fn exceptions_make_failures_known_and_passes_unexpected() {
    let scratch = Scratch::new("exceptions");
    let imp = scratch.mutant(&flip_sig_verify());
    let (filters, selected) = scope("sig_verify");
    let failing = ids(&selected, |c| {
        c.op == "sig_verify" && matches!(c.exit, Some(0 | 1))
    });
    let file = scratch.path("flip.json");
    let write = |cases: &BTreeSet<String>| {
        let entries: Vec<Value> = cases
            .iter()
            .map(|id| serde_json::json!({"case": id, "reason": "flipped on purpose"}))
            .collect();
        let doc = serde_json::json!({"impl": "flip", "exceptions": entries});
        fs::write(&file, doc.to_string()).unwrap();
    };
    let mut args = strs(&filters);
    args.extend(["--exceptions", file.to_str().unwrap()]);
    // every failure listed: known divergences, exit 0
    write(&failing);
    let ran = runner(&imp, &args);
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    let (before, last) = closing(&ran.stdout);
    assert_eq!(
        before,
        format!("0 skipped, {} known divergences", failing.len())
    );
    assert_eq!(
        last,
        format!("{} passed, 0 failed", selected.len() - failing.len())
    );
    // a listed case that passes is unexpected: exit 1
    let passing = ids(&selected, |c| c.op != "sig_verify")
        .into_iter()
        .next()
        .unwrap();
    let mut listed = failing.clone();
    listed.insert(passing.clone());
    write(&listed);
    let report = Report::run(&imp, &args);
    assert_eq!(report.with_outcome("known_divergence"), failing);
    assert_eq!(
        report.with_outcome("unexpected_pass"),
        BTreeSet::from([passing.clone()])
    );
    assert!(report.with_outcome("fail").is_empty());
    assert_eq!(report.code, 1);
}

#[test]
fn huge_and_binary_output_is_a_failure_not_a_crash() {
    let scratch = Scratch::new("huge");
    let imp = scratch.mutant(&format!(
        r#"if [ "$1" = jcs ]; then
  {PASS_HELP}
  head -c 10000000 /dev/zero
  printf '\377\033[2J<&>'
  printf 'kez: \001 one\ntwo\r\n' >&2
  exit 0
fi"#
    ));
    let junit = scratch.path("junit.xml");
    let report = Report::run(
        &imp,
        &["--filter", "jcs#*", "--junit", junit.to_str().unwrap()],
    );
    let failing = ids(&vectors(), |c| c.area == "jcs");
    assert_eq!(report.with_outcome("fail"), failing);
    assert_eq!(report.code, 1);
    let xml = fs::read_to_string(&junit).unwrap();
    assert!(
        !xml.chars()
            .any(|c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')),
        "raw control characters in the JUnit XML"
    );
}

#[test]
fn usage_errors_exit_2() {
    let kez = kez();
    let vectors = vectors_dir().display().to_string();
    let v = vectors.as_str();
    for (args, needle) in [
        (
            vec!["--impl", "'unterminated"],
            "--impl: unterminated single quote",
        ),
        (vec!["--impl", "   "], "--impl: empty command line"),
        (
            vec!["--impl", "/nonexistent/kez", "--vectors", v],
            "cannot run `/nonexistent/kez`",
        ),
        (
            vec!["--impl", &kez, "--vectors", "/nonexistent"],
            "cannot read the vectors directory",
        ),
        (
            vec![
                "--impl",
                &kez,
                "--vectors",
                v,
                "--exceptions",
                "/nonexistent.json",
            ],
            "cannot read /nonexistent.json",
        ),
        (
            vec!["--impl", &kez, "--vectors", v, "--filter", "no-such-case#*"],
            "selects no case",
        ),
        (vec!["--impl", &kez, "--timeout", "0"], "expected seconds"),
        (vec!["--impl", &kez, "--bogus"], "--bogus"),
        (
            vec!["--impl", "false", "--vectors", v],
            "supports none of the profile's ops",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_kez-conformance"))
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}
