//! Loading `vectors/<area>.json` (the `kez-vectors/v1` envelope, SPEC.md §12) into [`Case`]s.
//! Vectors are data the runner trusts to be well-formed: anything off in them is a runner
//! error (exit 2) naming the file and the test, never a verdict on the implementation.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use serde_json::{Map, Value};

use crate::case::{Case, Expect, Format, Input, Op, Verdict};

/// The envelope's `schema`.
pub(crate) const SCHEMA: &str = "kez-vectors/v1";

/// Loads every `*.json` of `dir` except `schema.json` (the JSON Schema of the files), sorted
/// by file name.
///
/// # Errors
///
/// An unreadable directory or file, or a file that is not a valid vector file.
pub(crate) fn load_dir(dir: &Path) -> Result<Vec<Case>, String> {
    let entries = fs::read_dir(dir)
        .map_err(|e| format!("cannot read the vectors directory {}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read the vectors directory {}: {e}", dir.display()))?
            .path();
        let is_json = path.extension().is_some_and(|e| e == "json");
        let is_schema = path.file_name().is_some_and(|n| n == "schema.json");
        if is_json && !is_schema && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let text = fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file_cases =
            parse_file(&text, &stem).map_err(|e| format!("{}: {e}", path.display()))?;
        cases.extend(file_cases);
    }
    Ok(cases)
}

/// Parses one vector file whose name is `<stem>.json`.
///
/// # Errors
///
/// The first thing wrong with the file.
pub(crate) fn parse_file(text: &[u8], stem: &str) -> Result<Vec<Case>, String> {
    let root: Value = serde_json::from_slice(text).map_err(|e| format!("not JSON: {e}"))?;
    let root = root.as_object().ok_or("not a JSON object")?;
    let schema = str_member(root, "schema")?;
    if schema != SCHEMA {
        return Err(format!("schema {schema:?}, expected {SCHEMA:?}"));
    }
    let area = str_member(root, "area")?;
    if area != stem {
        return Err(format!("area {area:?} differs from the file name"));
    }
    let notes = root.get("notes").and_then(Value::as_object);
    let groups = root
        .get("testGroups")
        .and_then(Value::as_array)
        .ok_or("testGroups: expected an array")?;
    let mut cases = Vec::new();
    let mut ids = BTreeSet::new();
    for (g, group) in groups.iter().enumerate() {
        let group = group
            .as_object()
            .ok_or_else(|| format!("testGroups[{g}]: expected an object"))?;
        let op_name = str_member(group, "op").map_err(|e| format!("testGroups[{g}]: {e}"))?;
        let op = Op::from_name(op_name)
            .ok_or_else(|| format!("testGroups[{g}]: unknown op {op_name:?}"))?;
        let tests = group
            .get("tests")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("testGroups[{g}].tests: expected an array"))?;
        for test in tests {
            let test = test
                .as_object()
                .ok_or_else(|| format!("testGroups[{g}].tests: expected objects"))?;
            let tc_id = test
                .get("tcId")
                .and_then(Value::as_u64)
                .ok_or_else(|| format!("testGroups[{g}]: a test without an integer tcId"))?;
            if !ids.insert(tc_id) {
                return Err(format!("tcId {tc_id} is not unique"));
            }
            let case = parse_test(area, tc_id, op, test, notes)
                .map_err(|e| format!("tcId {tc_id}: {e}"))?;
            cases.push(case);
        }
    }
    if let Some(n) = root.get("numberOfTests") {
        if n.as_u64() != u64::try_from(cases.len()).ok() {
            return Err(format!(
                "numberOfTests is {n}, but the file has {} tests",
                cases.len()
            ));
        }
    }
    Ok(cases)
}

fn parse_test(
    area: &str,
    tc_id: u64,
    op: Op,
    test: &Map<String, Value>,
    notes: Option<&Map<String, Value>>,
) -> Result<Case, String> {
    if let Some(flags) = test.get("flags") {
        let flags = flags.as_array().ok_or("flags: expected an array")?;
        for flag in flags {
            let flag = flag.as_str().ok_or("flags: expected strings")?;
            if !notes.is_some_and(|n| n.contains_key(flag)) {
                return Err(format!("flag {flag:?} is not defined in notes"));
            }
        }
    }
    let input = test
        .get("input")
        .and_then(Value::as_object)
        .ok_or("input: expected an object")?;
    let input = parse_input(op, input).map_err(|e| format!("input.{e}"))?;
    let expect = parse_expect(test)?;
    Ok(Case {
        id: format!("{area}#{tc_id}"),
        area: area.to_owned(),
        comment: opt_str(test, "comment")?.unwrap_or_default(),
        spec: opt_str(test, "spec")?,
        input,
        expect,
        element_labels: None,
        weight: 1,
    })
}

fn parse_input(op: Op, input: &Map<String, Value>) -> Result<Input, String> {
    Ok(match op {
        Op::Jcs => Input::Jcs {
            stdin: text_or_hex(input)?,
        },
        Op::SigVerify => Input::SigVerify {
            alg: str_member(input, "alg")?.to_owned(),
            public: str_member(input, "pub")?.to_owned(),
            msg: str_member(input, "msg")?.to_owned(),
            sig: str_member(input, "sig")?.to_owned(),
        },
        Op::IdentityNew => Input::IdentityNew {
            alg: str_member(input, "alg")?.to_owned(),
            seed: opt_str(input, "seed")?,
        },
        Op::ClaimCreate => Input::ClaimCreate {
            key_file: str_member(input, "key_file")?.as_bytes().to_vec(),
            subject: str_member(input, "subject")?.to_owned(),
            iat: opt_arg(input, "iat")?,
            exp: opt_arg(input, "exp")?,
            aux: opt_str(input, "aux")?,
            format: format_member(input, "format")?,
        },
        Op::ClaimVerify => Input::ClaimVerify {
            stdin: text_or_hex(input)?,
            now: opt_arg(input, "now")?.ok_or("now: missing")?,
            chain: match input.get("chain") {
                None | Some(Value::Null) => None,
                Some(v) => Some(source(v).map_err(|e| format!("chain: {e}"))?),
            },
        },
        Op::ClaimConvert => Input::ClaimConvert {
            stdin: text_or_hex(input)?,
            to: format_member(input, "to")?,
        },
        Op::SigchainVerify => {
            let sources = input
                .get("sources")
                .and_then(Value::as_array)
                .ok_or("sources: expected an array")?;
            Input::SigchainVerify {
                sources: sources
                    .iter()
                    .enumerate()
                    .map(|(i, s)| source(s).map_err(|e| format!("sources[{i}]: {e}")))
                    .collect::<Result<_, _>>()?,
                now: opt_arg(input, "now")?.ok_or("now: missing")?,
            }
        }
    })
}

fn parse_expect(test: &Map<String, Value>) -> Result<Expect, String> {
    let result = match str_member(test, "result")? {
        "valid" => Verdict::Valid,
        "invalid" => Verdict::Invalid,
        "acceptable" => Verdict::Acceptable,
        other => {
            return Err(format!(
                "result {other:?} is not valid, invalid or acceptable"
            ));
        }
    };
    let exit = match test.get("exit") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|&e| e <= 2)
                .and_then(|e| i32::try_from(e).ok())
                .ok_or("exit: expected 0, 1 or 2")?,
        ),
    };
    match (result, exit) {
        (Verdict::Valid, Some(0)) | (Verdict::Invalid, Some(1 | 2)) | (Verdict::Acceptable, _) => {}
        (Verdict::Valid | Verdict::Invalid, None) => return Err("exit: missing".into()),
        (_, Some(e)) => return Err(format!("exit {e} contradicts the result")),
    }
    // exit 2: the error's class; exit 1 of `sigchain verify`: the broken chain rule
    let error_class = opt_str(test, "error_class")?;
    if error_class.is_some() && exit == Some(0) {
        return Err("error_class is given, but exit is 0".into());
    }
    Ok(Expect {
        result,
        exit,
        status: opt_str(test, "status")?,
        error_class,
        stdout: opt_str(test, "stdout")?.map(String::into_bytes),
        stdout_json: test.get("stdout_json").cloned(),
        stdout_decoded: opt_str(test, "stdout_decoded")?.map(String::into_bytes),
        stdout_prefix: opt_str(test, "stdout_prefix")?.map(String::into_bytes),
        key_file: opt_str(test, "key_file")?.map(String::into_bytes),
    })
}

fn str_member<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    obj.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{name}: expected a string"))
}

fn opt_str(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{name}: expected a string")),
    }
}

/// A command-line number: a JSON number (written as its decimal text) or a string passed
/// verbatim (for values a JSON number cannot carry, e.g. 2^64 or `-1`).
fn opt_arg(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("{name}: expected a number or a string")),
    }
}

fn format_member(obj: &Map<String, Value>, name: &str) -> Result<Format, String> {
    let f = str_member(obj, name)?;
    Format::from_name(f).ok_or_else(|| format!("{name}: unknown format {f:?}"))
}

/// The op's input bytes: `text` (UTF-8) or `hex` (any bytes).
fn text_or_hex(obj: &Map<String, Value>) -> Result<Vec<u8>, String> {
    match (obj.get("text"), obj.get("hex")) {
        (Some(Value::String(t)), None) => Ok(t.as_bytes().to_vec()),
        (None, Some(Value::String(h))) => decode_hex(h).ok_or_else(|| "hex: not hex".into()),
        _ => Err("expected exactly one of text and hex (strings)".into()),
    }
}

/// A bundle: a string, or `{"text": ...}` / `{"hex": ...}`.
fn source(v: &Value) -> Result<Vec<u8>, String> {
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Object(o) => text_or_hex(o),
        _ => Err("expected a string".into()),
    }
}

/// Decodes hex digits of either case.
pub(crate) fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}
