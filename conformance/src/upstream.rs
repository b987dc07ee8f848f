//! The upstream suites of SPEC.md §12, replayed through the same profile commands as the
//! vectors: BIP-340 `test-vectors.csv`, Wycheproof `ed25519_test.json` and RFC 8032 through
//! `sig verify`; the cyberphone JCS pairs and `es6testfile100k.txt` through `jcs`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::case::{Case, Expect, Input, Verdict};

/// Numbers of the ES6 number file per `jcs` call (one JSON array, well under the 1 MiB input
/// limit of SPEC.md §11.2).
const ES6_BATCH: usize = 10_000;

/// Loads every upstream suite from `dir` (the layout of `upstream-vectors/`).
///
/// # Errors
///
/// A suite file that is missing or not in its upstream format.
pub(crate) fn load(dir: &Path) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    cases.extend(bip340(&dir.join("bip340/test-vectors.csv"))?);
    cases.extend(wycheproof(&dir.join("wycheproof/ed25519_test.json"))?);
    cases.extend(rfc8032(&dir.join("rfc8032/rfc8032-ed25519.json"))?);
    cases.extend(jcs(&dir.join("jcs"))?);
    cases.extend(es6(&dir.join("jcs/es6testfile100k.txt"))?);
    Ok(cases)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn read_text(path: &Path) -> Result<String, String> {
    String::from_utf8(read(path)?).map_err(|_| format!("{}: not UTF-8", path.display()))
}

fn read_json(path: &Path) -> Result<Value, String> {
    serde_json::from_slice(&read(path)?).map_err(|e| format!("{}: not JSON: {e}", path.display()))
}

fn sig_case(area: &str, id: &str, comment: String, input: Input, result: Verdict) -> Case {
    let exit = match result {
        Verdict::Valid => Some(0),
        Verdict::Invalid => Some(1),
        Verdict::Acceptable => None,
    };
    Case {
        id: format!("{area}#{id}"),
        area: area.to_owned(),
        comment,
        spec: Some("§12".to_owned()),
        input,
        expect: Expect::exit(result, exit),
        element_labels: None,
        weight: 1,
    }
}

/// `index,secret key,public key,aux_rand,message,signature,verification result,comment`,
/// CRLF line ends.
fn bip340(path: &Path) -> Result<Vec<Case>, String> {
    let text = read_text(path)?;
    let mut cases = Vec::new();
    // `lines` also strips the CR of CRLF
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.splitn(8, ',').collect();
        let [index, _secret, public, _aux, msg, sig, verdict, comment] = fields.as_slice() else {
            return Err(format!(
                "{} line {}: expected 8 fields",
                path.display(),
                n + 1
            ));
        };
        let result = match *verdict {
            "TRUE" => Verdict::Valid,
            "FALSE" => Verdict::Invalid,
            other => {
                return Err(format!(
                    "{} line {}: result {other:?}",
                    path.display(),
                    n + 1
                ));
            }
        };
        let input = Input::SigVerify {
            alg: "bip340".into(),
            public: (*public).into(),
            msg: (*msg).into(),
            sig: (*sig).into(),
        };
        cases.push(sig_case(
            "upstream-bip340",
            index,
            (*comment).into(),
            input,
            result,
        ));
    }
    Ok(cases)
}

/// Wycheproof `EddsaVerify` groups: `publicKey.pk`, tests with `tcId`, `msg`, `sig`, `result`.
fn wycheproof(path: &Path) -> Result<Vec<Case>, String> {
    let root = read_json(path)?;
    let bad = |what: &str| format!("{}: {what}", path.display());
    let groups = root
        .get("testGroups")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no testGroups"))?;
    let mut cases = Vec::new();
    for group in groups {
        let pk = group
            .pointer("/publicKey/pk")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("a group without publicKey.pk"))?;
        let tests = group
            .get("tests")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("a group without tests"))?;
        for t in tests {
            let field = |name: &str| {
                t.get(name)
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(&format!("a test without {name}")))
            };
            let tc_id = t
                .get("tcId")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("a test without tcId"))?;
            let result = match field("result")? {
                "valid" => Verdict::Valid,
                "invalid" => Verdict::Invalid,
                _ => Verdict::Acceptable,
            };
            let input = Input::SigVerify {
                alg: "ed25519".into(),
                public: pk.into(),
                msg: field("msg")?.into(),
                sig: field("sig")?.into(),
            };
            let comment = field("comment").unwrap_or_default().to_owned();
            cases.push(sig_case(
                "upstream-wycheproof",
                &tc_id.to_string(),
                comment,
                input,
                result,
            ));
        }
    }
    Ok(cases)
}

/// `vectors[]` with `name`, `public_key`, `message`, `signature` (all valid).
fn rfc8032(path: &Path) -> Result<Vec<Case>, String> {
    let root = read_json(path)?;
    let bad = |what: &str| format!("{}: {what}", path.display());
    let vectors = root
        .get("vectors")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no vectors"))?;
    let mut cases = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let field = |name: &str| {
            v.get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&format!("a vector without {name}")))
        };
        let input = Input::SigVerify {
            alg: "ed25519".into(),
            public: field("public_key")?.into(),
            msg: field("message")?.into(),
            sig: field("signature")?.into(),
        };
        let id = (i + 1).to_string();
        cases.push(sig_case(
            "upstream-rfc8032",
            &id,
            field("name")?.into(),
            input,
            Verdict::Valid,
        ));
    }
    Ok(cases)
}

/// `input/<name>.json` -> `output/<name>.json` (no final LF upstream; the CLI adds one).
fn jcs(dir: &Path) -> Result<Vec<Case>, String> {
    let inputs = dir.join("input");
    let entries =
        fs::read_dir(&inputs).map_err(|e| format!("cannot read {}: {e}", inputs.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(format!("{}: no *.json files", inputs.display()));
    }
    let mut cases = Vec::new();
    for name in names {
        let stdin = read(&inputs.join(&name))?;
        let mut expected = read(&dir.join("output").join(&name))?;
        expected.push(b'\n');
        let mut expect = Expect::exit(Verdict::Valid, Some(0));
        expect.stdout = Some(expected);
        let stem = name.trim_end_matches(".json");
        cases.push(Case {
            id: format!("upstream-jcs#{stem}"),
            area: "upstream-jcs".into(),
            comment: format!("cyberphone testdata/input/{name}"),
            spec: Some("§12".into()),
            input: Input::Jcs { stdin },
            expect,
            element_labels: None,
            weight: 1,
        });
    }
    Ok(cases)
}

/// `hex-ieee,expected` lines, replayed [`ES6_BATCH`] at a time as one JSON array: the input
/// writes each binary64 value in Rust's shortest round-trip exponent form (`5e-324`), and the
/// expected output is the array of the file's expected strings.
fn es6(path: &Path) -> Result<Vec<Case>, String> {
    let text = read_text(path)?;
    let mut cases = Vec::new();
    let mut batch: Vec<(usize, &str, &str)> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let total = lines.len();
    for (i, line) in lines.into_iter().enumerate() {
        let (hex, expected) = line
            .split_once(',')
            .ok_or_else(|| format!("{} line {}: no comma", path.display(), i + 1))?;
        batch.push((i + 1, hex, expected));
        if batch.len() == ES6_BATCH || i + 1 == total {
            cases.push(es6_case(path, cases.len() + 1, &batch)?);
            batch.clear();
        }
    }
    Ok(cases)
}

fn es6_case(path: &Path, n: usize, batch: &[(usize, &str, &str)]) -> Result<Case, String> {
    let mut input = String::from("[");
    let mut output = String::from("[");
    let mut labels = Vec::with_capacity(batch.len());
    for (i, (line, hex, expected)) in batch.iter().enumerate() {
        let bits = u64::from_str_radix(hex, 16)
            .map_err(|_| format!("{} line {line}: bad hex {hex:?}", path.display()))?;
        let value = f64::from_bits(bits);
        if !value.is_finite() {
            return Err(format!(
                "{} line {line}: not a finite number",
                path.display()
            ));
        }
        if i > 0 {
            input.push(',');
            output.push(',');
        }
        let _ = write!(input, "{value:e}");
        output.push_str(expected);
        labels.push(format!("es6testfile100k.txt line {line}, bits {hex}"));
    }
    input.push(']');
    output.push_str("]\n");
    let (first, last) = match (batch.first(), batch.last()) {
        (Some(f), Some(l)) => (f.0, l.0),
        _ => (0, 0),
    };
    let mut expect = Expect::exit(Verdict::Valid, Some(0));
    expect.stdout = Some(output.into_bytes());
    Ok(Case {
        id: format!("upstream-es6#{n}"),
        area: "upstream-es6".into(),
        comment: format!("es6testfile100k.txt lines {first}-{last} as one array"),
        spec: Some("§2.3".into()),
        input: Input::Jcs {
            stdin: input.into_bytes(),
        },
        expect,
        element_labels: Some(labels),
        weight: 100,
    })
}
