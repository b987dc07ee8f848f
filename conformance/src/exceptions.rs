//! Known divergences of an implementation (`conformance/exceptions/<impl>.json`): cases it is
//! known to fail, each with a reason. A listed case that fails is a known divergence (not a
//! failure); a listed case that passes is an "unexpected pass", which fails the run so the
//! list never goes stale.
//!
//! ```json
//! {"impl": "python", "exceptions": [{"case": "jcs#12", "reason": "..."}]}
//! ```
//!
//! `case` is a case id (`<area>#<tcId>`), or a pattern with `*` and `?` (`upstream-es6#*`).

use serde_json::Value;

use crate::glob;

/// One listed divergence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    /// The case id, or a `*`/`?` pattern of ids.
    pub case: String,
    /// Why the implementation diverges (required, non-empty).
    pub reason: String,
}

/// A parsed exceptions file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exceptions {
    /// The file's `impl` name, if any.
    pub impl_name: Option<String>,
    /// The listed divergences, in file order.
    pub entries: Vec<Exception>,
}

impl Exceptions {
    /// Parses an exceptions file.
    ///
    /// # Errors
    ///
    /// Not JSON, not the shape above, or an entry without a case or a reason.
    pub fn parse(text: &[u8]) -> Result<Self, String> {
        let root: Value = serde_json::from_slice(text).map_err(|e| format!("not JSON: {e}"))?;
        let impl_name = match root.get("impl") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err("impl: expected a string".into()),
        };
        let list = root
            .get("exceptions")
            .and_then(Value::as_array)
            .ok_or("exceptions: expected an array")?;
        let mut entries = Vec::with_capacity(list.len());
        for (i, e) in list.iter().enumerate() {
            let field = |name: &str| {
                e.get(name)
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| format!("exceptions[{i}].{name}: expected a non-empty string"))
            };
            entries.push(Exception {
                case: field("case")?,
                reason: field("reason")?,
            });
        }
        Ok(Self { impl_name, entries })
    }

    /// The first entry for case `id`: an exact id, or a pattern matching the whole id.
    #[must_use]
    pub fn lookup(&self, id: &str) -> Option<&Exception> {
        self.entries.iter().find(|e| {
            if glob::is_glob(&e.case) {
                glob::glob_match(&e.case, id)
            } else {
                e.case == id
            }
        })
    }

    /// The entries that match none of `ids` (stale entries, reported as warnings).
    #[must_use]
    pub fn unmatched<'a, S: AsRef<str>>(&'a self, ids: &[S]) -> Vec<&'a Exception> {
        self.entries
            .iter()
            .filter(|e| {
                !ids.iter().any(|id| {
                    if glob::is_glob(&e.case) {
                        glob::glob_match(&e.case, id.as_ref())
                    } else {
                        e.case == id.as_ref()
                    }
                })
            })
            .collect()
    }
}

/// What running a case showed, before the exceptions are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// Every check held.
    Passed,
    /// At least one check failed (the failures' kinds, e.g. `exit`, `stdout`, `timeout`).
    Failed,
    /// Not run: an op it needs is not supported (the reason).
    Skipped(String),
}

/// The outcome of a case, webpki/x509-limbo style: only [`Outcome::is_unexpected`] ones fail
/// the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Passed, and not listed.
    Pass,
    /// Not run: the implementation lacks an op.
    Skip,
    /// Failed, and listed in the exceptions file.
    KnownDivergence,
    /// Listed in the exceptions file, but passed.
    UnexpectedPass,
    /// Failed, and not listed.
    Fail,
}

impl Outcome {
    /// Whether this outcome fails the run (exit 1).
    #[must_use]
    pub fn is_unexpected(self) -> bool {
        matches!(self, Self::UnexpectedPass | Self::Fail)
    }

    /// The name used in reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Skip => "skip",
            Self::KnownDivergence => "known_divergence",
            Self::UnexpectedPass => "unexpected_pass",
            Self::Fail => "fail",
        }
    }
}

/// Applies the exceptions: `listed` is whether the case is in the exceptions file. A skipped
/// case stays skipped, listed or not.
#[must_use]
pub fn classify(ran: &Ran, listed: bool) -> Outcome {
    match (ran, listed) {
        (Ran::Skipped(_), _) => Outcome::Skip,
        (Ran::Passed, false) => Outcome::Pass,
        (Ran::Passed, true) => Outcome::UnexpectedPass,
        (Ran::Failed, true) => Outcome::KnownDivergence,
        (Ran::Failed, false) => Outcome::Fail,
    }
}
