//! The Wycheproof-like envelope of a vector file (vectors/README.md, vectors/schema.json):
//! areas hold groups of one op, groups hold cases; rendering runs each case through the oracle,
//! checks the outcome against the case's intention and numbers the tests.

use serde_json::{Map, Value};

use crate::oracle::{self, Outcome};
use crate::{SCHEMA, SPEC_VERSION};

/// The profile operations a vector can drive (SPEC.md §11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Jcs,
    SigVerify,
    IdentityNew,
    ClaimCreate,
    ClaimVerify,
    ClaimConvert,
    SigchainVerify,
}

impl Op {
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Jcs => "jcs",
            Self::SigVerify => "sig_verify",
            Self::IdentityNew => "identity_new",
            Self::ClaimCreate => "claim_create",
            Self::ClaimVerify => "claim_verify",
            Self::ClaimConvert => "claim_convert",
            Self::SigchainVerify => "sigchain_verify",
        }
    }
}

/// What a case is meant to show. Rendering fails when the core disagrees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    /// Exit 0.
    Ok,
    /// Exit 1 with this status (verify ops).
    No(&'static str),
    /// Exit 1 without a status (`sig verify`).
    Fail,
    /// Exit 2 with this error class.
    Class(&'static str),
    /// `sigchain verify` / `claim verify --chain`: exit 1, status `invalid`, because the chain
    /// broke this rule.
    Rule(&'static str),
}

#[derive(Debug)]
struct Case {
    comment: String,
    spec: &'static str,
    flags: Vec<&'static str>,
    input: Value,
    want: Want,
}

/// Tests of one op.
#[derive(Debug)]
pub(crate) struct Group {
    op: Op,
    comment: String,
    cases: Vec<Case>,
}

impl Group {
    pub(crate) fn new(op: Op, comment: impl Into<String>) -> Self {
        Self {
            op,
            comment: comment.into(),
            cases: Vec::new(),
        }
    }

    /// Adds a case: what it shows, the SPEC.md section it checks, its flags, the op's input, and
    /// the intended outcome.
    pub(crate) fn case(
        &mut self,
        comment: impl Into<String>,
        spec: &'static str,
        flags: &[&'static str],
        input: Value,
        want: Want,
    ) {
        self.cases.push(Case {
            comment: comment.into(),
            spec,
            flags: flags.to_vec(),
            input,
            want,
        });
    }

    pub(crate) fn len(&self) -> usize {
        self.cases.len()
    }
}

/// One vector file.
#[derive(Debug)]
pub(crate) struct Area {
    stem: &'static str,
    notes: Vec<(&'static str, &'static str)>,
    groups: Vec<Group>,
}

impl Area {
    pub(crate) fn new(stem: &'static str, notes: &[(&'static str, &'static str)]) -> Self {
        Self {
            stem,
            notes: notes.to_vec(),
            groups: Vec::new(),
        }
    }

    pub(crate) const fn stem(&self) -> &'static str {
        self.stem
    }

    pub(crate) fn push(&mut self, group: Group) {
        if group.len() > 0 {
            self.groups.push(group);
        }
    }

    /// The file bytes and the number of tests.
    pub(crate) fn render(&self) -> Result<(usize, Vec<u8>), String> {
        let mut errors = Vec::new();
        let mut used = std::collections::BTreeSet::new();
        let mut groups = Vec::new();
        let mut tc_id = 0u64;
        for group in &self.groups {
            let mut tests = Vec::new();
            for case in &group.cases {
                tc_id += 1;
                let id = format!("{}#{tc_id} ({})", self.stem, case.comment);
                for flag in &case.flags {
                    if self.notes.iter().all(|(name, _)| name != flag) {
                        errors.push(format!("{id}: flag {flag} is not defined in notes"));
                    }
                    used.insert(*flag);
                }
                match oracle::run(group.op, &case.input) {
                    Ok(outcome) => {
                        if let Err(e) = check(case.want, &outcome) {
                            errors.push(format!("{id}: {e}"));
                        }
                        tests.push(test_json(tc_id, case, &outcome));
                    }
                    Err(e) => errors.push(format!("{id}: {e}")),
                }
            }
            let mut g = Map::new();
            g.insert("op".into(), group.op.as_str().into());
            g.insert("comment".into(), group.comment.clone().into());
            g.insert("tests".into(), Value::Array(tests));
            groups.push(Value::Object(g));
        }
        for (name, _) in &self.notes {
            if !used.contains(name) && *name != "Placeholder" {
                errors.push(format!("{}: note {name} is used by no test", self.stem));
            }
        }
        if !errors.is_empty() {
            return Err(errors.join("\n"));
        }
        let count = usize::try_from(tc_id).map_err(|e| e.to_string())?;
        let mut top = Map::new();
        top.insert("schema".into(), SCHEMA.into());
        top.insert("area".into(), self.stem.into());
        top.insert("spec_version".into(), SPEC_VERSION.into());
        let notes: Map<String, Value> = self
            .notes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect();
        top.insert("notes".into(), Value::Object(notes));
        top.insert("numberOfTests".into(), count.into());
        top.insert("testGroups".into(), Value::Array(groups));
        let mut text =
            serde_json::to_string_pretty(&sorted(Value::Object(top))).map_err(|e| e.to_string())?;
        text.push('\n');
        Ok((count, text.into_bytes()))
    }
}

fn check(want: Want, got: &Outcome) -> Result<(), String> {
    let ok = match want {
        Want::Ok => got.exit == 0,
        Want::No(status) => got.exit == 1 && got.status.as_deref() == Some(status),
        Want::Fail => got.exit == 1 && got.status.is_none(),
        Want::Class(class) => got.exit == 2 && got.class.as_deref() == Some(class),
        Want::Rule(class) => {
            got.exit == 1
                && got.status.as_deref() == Some("invalid")
                && got.class.as_deref() == Some(class)
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "meant {want:?}, the core gives exit {} status {:?} class {:?}",
            got.exit, got.status, got.class
        ))
    }
}

fn test_json(tc_id: u64, case: &Case, outcome: &Outcome) -> Value {
    let mut t = Map::new();
    t.insert("tcId".into(), tc_id.into());
    t.insert("comment".into(), case.comment.clone().into());
    t.insert("spec".into(), case.spec.into());
    t.insert(
        "flags".into(),
        Value::Array(case.flags.iter().map(|f| Value::from(*f)).collect()),
    );
    t.insert("input".into(), case.input.clone());
    let result = if outcome.exit == 0 {
        "valid"
    } else {
        "invalid"
    };
    t.insert("result".into(), result.into());
    t.insert("exit".into(), outcome.exit.into());
    if let Some(status) = &outcome.status {
        t.insert("status".into(), status.clone().into());
    }
    if let Some(class) = &outcome.class {
        t.insert("error_class".into(), class.clone().into());
    }
    for (name, value) in &outcome.fields {
        t.insert((*name).to_owned(), value.clone());
    }
    Value::Object(t)
}

/// Rebuilds every object with its keys in sorted order, whatever map type serde_json uses.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}
