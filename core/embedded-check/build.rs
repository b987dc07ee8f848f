//! Build script of the KEZ firmware check.
//!
//! 1. Puts `layout/memory.x` where cortex-m-rt's `link.x` finds it, and passes the linker script
//!    to the bins (so no RUSTFLAGS are needed).
//! 2. Turns the repository's shared vectors (`vectors/*.json`, written by kez-vectors) into a
//!    Rust table, `OUT_DIR/cases.rs`, that the conformance bin compiles in. Expectations are
//!    taken from the files as they are, never written here; cases that only the CLI profile can
//!    express (`usage` errors, numbers a `u64` cannot hold) are counted as skipped.
//! 3. Picks, from the same files, the claims the footprint bin verifies (`OUT_DIR/samples.rs`).
//!
//! `KEZ_EMBEDDED_FLIP=1` inverts one expectation (the first `valid` claim_verify case becomes
//! `invalid`): the firmware built that way must fail, which shows a wrong result is caught.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

use serde_json::Value;

type R<T> = Result<T, String>;

fn main() {
    if let Err(e) = run() {
        eprintln!("embedded-check build script: {e}");
        std::process::exit(1);
    }
}

fn run() -> R<()> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);

    let layout = manifest.join("layout/memory.x");
    fs::copy(&layout, out.join("memory.x")).map_err(|e| format!("{}: {e}", layout.display()))?;
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={}", layout.display());
    println!("cargo:rustc-link-arg-bins=--nmagic");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");

    let vectors = manifest.join("../../vectors");
    println!("cargo:rerun-if-changed={}", vectors.display());
    println!("cargo:rerun-if-env-changed=KEZ_EMBEDDED_FLIP");
    let flip = env::var("KEZ_EMBEDDED_FLIP").is_ok_and(|v| v == "1");

    let mut files: Vec<PathBuf> = fs::read_dir(&vectors)
        .map_err(|e| format!("{}: {e}", vectors.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| p.file_stem().is_some_and(|s| s != "schema"))
        .collect();
    files.sort();

    let mut table = Gen::default();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let doc: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        table
            .file(&doc)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if table.cases == 0 {
        return Err(format!("no vectors found in {}", vectors.display()));
    }
    if flip {
        table.flip()?;
    }
    fs::write(out.join("cases.rs"), table.finish()).map_err(|e| e.to_string())?;
    fs::write(out.join("samples.rs"), samples(&vectors)?).map_err(|e| e.to_string())?;
    Ok(())
}

/// A Rust byte-string literal.
fn bytes_lit(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 3);
    s.push_str("b\"");
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s.push('"');
    s
}

/// A Rust string literal (`{:?}` escapes are valid Rust escapes).
fn str_lit(s: &str) -> String {
    format!("{s:?}")
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "None".to_owned(), |v| format!("Some({})", f(v)))
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    unhex(s).and_then(|v| <[u8; 32]>::try_from(v).ok())
}

/// The stdin bytes of a case: `text`, or `hex` for bytes that are not UTF-8.
fn stdin(input: &Value) -> R<Vec<u8>> {
    match (input.get("text"), input.get("hex")) {
        (Some(Value::String(t)), None) => Ok(t.clone().into_bytes()),
        (None, Some(Value::String(h))) => unhex(h).ok_or_else(|| "bad hex input".to_owned()),
        _ => Err("input needs exactly one of `text` and `hex`".to_owned()),
    }
}

/// An `N` input: a JSON integer, or a string that the CLI profile passes verbatim (which the
/// device cannot take: `None`, the case is skipped).
fn num(input: &Value, name: &str) -> Option<Option<u64>> {
    match input.get(name) {
        None => Some(None),
        Some(v) => v.as_u64().map(Some),
    }
}

fn str_field<'a>(v: &'a Value, name: &str) -> R<&'a str> {
    v.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing string `{name}`"))
}

fn alg(name: &str) -> R<&'static str> {
    match name {
        "bip340" | "nostr" => Ok("Alg::Bip340"),
        "ed25519" => Ok("Alg::Ed25519"),
        other => Err(format!("unknown alg {other}")),
    }
}

#[derive(Default)]
struct Gen {
    /// One `Case { .. }` expression per case.
    items: Vec<Item>,
    cases: usize,
    /// Skipped cases by reason.
    skipped: BTreeMap<String, usize>,
}

struct Item {
    name: String,
    input: String,
    exit: u8,
    status: Option<String>,
    class: Option<String>,
    out: Option<Vec<u8>>,
    out2: Option<Vec<u8>>,
    /// claim_verify with status valid: the case `KEZ_EMBEDDED_FLIP` may invert.
    flippable: bool,
}

impl Gen {
    fn file(&mut self, doc: &Value) -> R<()> {
        let area = str_field(doc, "area")?;
        let groups = doc
            .get("testGroups")
            .and_then(Value::as_array)
            .ok_or("no testGroups")?;
        for g in groups {
            let op = str_field(g, "op")?;
            for t in g.get("tests").and_then(Value::as_array).ok_or("no tests")? {
                let id = t.get("tcId").and_then(Value::as_u64).ok_or("no tcId")?;
                let name = format!("{area}#{id}");
                self.case(&name, op, t)
                    .map_err(|e| format!("{name}: {e}"))?;
            }
        }
        Ok(())
    }

    fn skip(&mut self, why: &str) {
        *self.skipped.entry(why.to_owned()).or_default() += 1;
    }

    fn case(&mut self, name: &str, op: &str, t: &Value) -> R<()> {
        let input = t.get("input").ok_or("no input")?;
        let exit = t
            .get("exit")
            .and_then(Value::as_u64)
            .and_then(|e| u8::try_from(e).ok())
            .ok_or("no exit")?;
        let status = t.get("status").and_then(Value::as_str).map(str::to_owned);
        let class = t
            .get("error_class")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if class.as_deref() == Some("usage") {
            self.skip("CLI usage errors (command-line syntax, not a core outcome)");
            return Ok(());
        }
        let text = |name: &str| {
            t.get(name)
                .and_then(Value::as_str)
                .map(|s| s.as_bytes().to_vec())
        };
        let mut out = None;
        let mut out2 = None;
        let input = match op {
            "jcs" => {
                out = text("stdout");
                format!("Input::Jcs {{ text: {} }}", bytes_lit(&stdin(input)?))
            }
            "sig_verify" => {
                let part = |n: &str| str_field(input, n).map(unhex);
                let (Some(public), Some(msg), Some(sig)) =
                    (part("pub")?, part("msg")?, part("sig")?)
                else {
                    return Err("sig_verify input that is not hex but not a usage case".into());
                };
                format!(
                    "Input::SigVerify {{ alg: {}, public: {}, msg: {}, sig: {} }}",
                    alg(str_field(input, "alg")?)?,
                    bytes_lit(&public),
                    bytes_lit(&msg),
                    bytes_lit(&sig)
                )
            }
            "identity_new" => {
                let seed = hex32(str_field(input, "seed")?).ok_or("seed is not 32 hex bytes")?;
                out = text("stdout");
                out2 = text("key_file");
                format!(
                    "Input::IdentityNew {{ alg: {}, seed: *{} }}",
                    alg(str_field(input, "alg")?)?,
                    bytes_lit(&seed)
                )
            }
            "claim_create" => {
                let (Some(Some(iat)), Some(exp)) = (num(input, "iat"), num(input, "exp")) else {
                    self.skip("numbers a u64 cannot hold (CLI usage)");
                    return Ok(());
                };
                let aux = match input.get("aux") {
                    None => None,
                    Some(a) => Some(hex32(a.as_str().ok_or("aux")?).ok_or("aux is not 32 bytes")?),
                };
                let format = str_field(input, "format")?;
                (out, out2) = encoded_outputs(t, format);
                format!(
                    "Input::ClaimCreate {{ key_file: {}, subject: {}, iat: {iat}, exp: {}, aux: {}, format: {} }}",
                    bytes_lit(str_field(input, "key_file")?.as_bytes()),
                    str_lit(str_field(input, "subject")?),
                    opt(exp, |e| e.to_string()),
                    opt(aux, |a| format!("*{}", bytes_lit(&a))),
                    str_lit(format)
                )
            }
            "claim_verify" => {
                let Some(Some(now)) = num(input, "now") else {
                    self.skip("numbers a u64 cannot hold (CLI usage)");
                    return Ok(());
                };
                out = t.get("stdout_json").map(|v| v.to_string().into_bytes());
                let chain = input
                    .get("chain")
                    .map(|c| c.as_str().ok_or("chain"))
                    .transpose()?;
                format!(
                    "Input::ClaimVerify {{ text: {}, now: {now}, chain: {} }}",
                    bytes_lit(&stdin(input)?),
                    opt(chain, |c| bytes_lit(c.as_bytes()))
                )
            }
            "claim_convert" => {
                let to = str_field(input, "to")?;
                (out, out2) = encoded_outputs(t, to);
                format!(
                    "Input::ClaimConvert {{ text: {}, to: {} }}",
                    bytes_lit(&stdin(input)?),
                    str_lit(to)
                )
            }
            "sigchain_verify" => {
                let Some(Some(now)) = num(input, "now") else {
                    self.skip("numbers a u64 cannot hold (CLI usage)");
                    return Ok(());
                };
                let sources = input
                    .get("sources")
                    .and_then(Value::as_array)
                    .ok_or("no sources")?
                    .iter()
                    .map(|s| s.as_str().map(|s| bytes_lit(s.as_bytes())).ok_or("source"))
                    .collect::<Result<Vec<_>, _>>()?;
                out = t.get("stdout_json").map(|v| v.to_string().into_bytes());
                format!(
                    "Input::SigchainVerify {{ sources: &[{}], now: {now} }}",
                    sources.join(", ")
                )
            }
            other => {
                self.skip(&format!("op `{other}` (not run on the device)"));
                return Ok(());
            }
        };
        let flippable = op == "claim_verify" && status.as_deref() == Some("valid");
        self.items.push(Item {
            name: name.to_owned(),
            input,
            exit,
            status,
            class,
            out,
            out2,
            flippable,
        });
        self.cases += 1;
        Ok(())
    }

    /// Inverts the expectation of the first valid claim_verify case.
    fn flip(&mut self) -> R<()> {
        let item = self
            .items
            .iter_mut()
            .find(|i| i.flippable)
            .ok_or("KEZ_EMBEDDED_FLIP: no valid claim_verify case to flip")?;
        item.exit = 1;
        item.status = Some("invalid".to_owned());
        if let Some(out) = &mut item.out {
            let text = String::from_utf8_lossy(out)
                .replace(r#""status":"valid""#, r#""status":"invalid""#);
            *out = text.into_bytes();
        }
        println!(
            "cargo:warning=KEZ_EMBEDDED_FLIP=1: {} now expects `invalid`; this firmware must fail",
            item.name
        );
        Ok(())
    }

    fn finish(self) -> String {
        let mut s = String::new();
        s.push_str("// @generated by build.rs from vectors/*.json: do not edit.\n");
        let _ = writeln!(s, "static CASES: &[Case] = &[");
        for i in &self.items {
            let _ = writeln!(
                s,
                "    Case {{ name: {}, input: {}, want: Want {{ exit: {}, status: {}, class: {}, out: {}, out2: {} }} }},",
                str_lit(&i.name),
                i.input,
                i.exit,
                opt(i.status.as_deref(), str_lit),
                opt(i.class.as_deref(), str_lit),
                opt(i.out.as_deref(), bytes_lit),
                opt(i.out2.as_deref(), bytes_lit),
            );
        }
        s.push_str("];\n");
        let _ = writeln!(s, "static SKIPPED: &[(&str, usize)] = &[");
        for (why, n) in &self.skipped {
            let _ = writeln!(s, "    ({}, {n}),", str_lit(why));
        }
        s.push_str("];\n");
        s
    }
}

/// The outputs of an encoding op: `stdout` for JSON; `stdout_decoded` and `stdout_prefix`
/// otherwise.
fn encoded_outputs(t: &Value, format: &str) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let text = |name: &str| {
        t.get(name)
            .and_then(Value::as_str)
            .map(|s| s.as_bytes().to_vec())
    };
    if format == "json" {
        (text("stdout"), None)
    } else {
        (text("stdout_decoded"), text("stdout_prefix"))
    }
}

/// One valid JSON claim per suite from claims_verify.json for the footprint bin, and the same
/// claims in the compact encoding (encoded here by kez-core: the vectors hold no compact BIP-340
/// claim to verify).
fn samples(vectors: &Path) -> R<String> {
    let mut s = String::from("// @generated by build.rs from vectors/*.json: do not edit.\n");
    let path = vectors.join("claims_verify.json");
    let doc: Value = serde_json::from_str(
        &fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?,
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    for (suite, key_prefix) in [("BIP340", "nostr:"), ("ED25519", "ed25519:")] {
        let found = doc
            .get("testGroups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|g| g.get("op").and_then(Value::as_str) == Some("claim_verify"))
            .filter_map(|g| g.get("tests").and_then(Value::as_array))
            .flatten()
            .find(|t| {
                let input = t.get("input");
                let text = input.and_then(|i| i.get("text")).and_then(Value::as_str);
                let key = t
                    .get("stdout_json")
                    .and_then(|j| j.get("key"))
                    .and_then(Value::as_str);
                t.get("status").and_then(Value::as_str) == Some("valid")
                    && input.is_some_and(|i| i.get("chain").is_none())
                    && text.is_some_and(|x| x.starts_with('{') && x.len() < 2048)
                    && key.is_some_and(|k| k.starts_with(key_prefix))
            })
            .ok_or_else(|| format!("claims_verify.json: no valid JSON claim of suite {suite}"))?;
        let name = format!(
            "claims_verify#{}",
            found.get("tcId").and_then(Value::as_u64).unwrap_or(0)
        );
        let input = found.get("input").ok_or("input")?;
        let text = str_field(input, "text")?.trim_end();
        let now = input.get("now").and_then(Value::as_u64).ok_or("now")?;
        let canonical = kez_core::jcs::canonicalize_to_vec(text.as_bytes())
            .map_err(|e| format!("{name}: {e}"))?;
        let compact = kez_core::encode_compact(&canonical);
        let _ = writeln!(
            s,
            "/// {name}: a valid JSON claim of suite {suite}, and its `now`.\n\
             const JSON_{suite}: (&[u8], u64) = ({}, {now});\n\
             /// {name} in the compact encoding.\n\
             #[allow(dead_code, reason = \"used by the `compact` measurement only\")]\n\
             const COMPACT_{suite}: (&[u8], u64) = ({}, {now});",
            bytes_lit(text.as_bytes()),
            bytes_lit(compact.as_bytes()),
        );
    }
    Ok(s)
}
