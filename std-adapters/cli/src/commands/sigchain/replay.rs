//! Reading bundles and replaying them: one or more sources merged by seq, and the replay's
//! verdict (valid, fork, or the chain rule a link broke) with the lines it applied.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;

use kez_core::Error;
use kez_core::chain::{Link, Pushed, VecReplay, bundle_lines};

use crate::input::{MAX_BUNDLE, read_input_up_to};
use crate::output::Failure;

/// One bundle: where it came from (for messages) and its bytes.
#[derive(Debug)]
pub(crate) struct Source {
    pub(crate) name: String,
    pub(crate) bytes: Vec<u8>,
}

impl Source {
    /// Reads a bundle from `path` (`-` is stdin).
    pub(crate) fn read(path: &Path) -> Result<Self, Failure> {
        let bytes = read_input_up_to(path, MAX_BUNDLE)?;
        let name = if path == Path::new("-") {
            "stdin".to_owned()
        } else {
            path.display().to_string()
        };
        Ok(Self { name, bytes })
    }
}

/// What replaying the sources gave.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The state: of the whole chain, of the chain before a fork, or of the valid prefix
    /// before the link that broke a rule.
    pub(crate) replay: VecReplay,
    /// The applied lines in order, without their "\n" (duplicates dropped).
    pub(crate) lines: Vec<Vec<u8>>,
    /// The chain rule a link broke (exit 1), if one did.
    pub(crate) error: Option<Failure>,
}

impl Outcome {
    /// The bundle of the applied lines.
    pub(crate) fn bundle(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.lines.iter().map(|l| l.len() + 1).sum());
        for line in &self.lines {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        out
    }

    /// The outcome of a chain that neither forked nor broke a rule; else the refusal (exit 1).
    pub(crate) fn into_valid(self, name: &str) -> Result<Self, Failure> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if let Some(fork) = self.replay.fork() {
            return Err(Failure::fork(format!(
                "{name}: the chain forked at link {} (two different links); it cannot be used",
                fork.seq
            )));
        }
        Ok(self)
    }
}

/// Whether `e` is a chain rule that a well-formed link broke (the answer "no", exit 1), rather
/// than malformed input (exit 2).
pub(crate) fn is_chain_rule(e: &Error) -> bool {
    matches!(
        e,
        Error::NonCanonical
            | Error::UnknownOp
            | Error::WrongChain
            | Error::SeqGap { .. }
            | Error::PrevMismatch { .. }
            | Error::WrongSigner { .. }
            | Error::OldKey { .. }
            | Error::BadSignature { .. }
            | Error::BadTarget { .. }
    )
}

/// A line of a source and where the merge puts it.
struct Line<'a> {
    /// Merge key: the link's seq (for a line that does not parse, the seq before it, so it is
    /// replayed where it stands in its source).
    key: u64,
    text: &'a [u8],
    number: usize,
}

/// Replays the sources merged by seq (each keeps its own order; equal seqs go in source
/// order). Malformed input anywhere is an error (exit 2); a broken chain rule ends the replay
/// and is kept in [`Outcome::error`].
pub(crate) fn replay(sources: &[Source]) -> Result<Outcome, Failure> {
    let mut split: Vec<Vec<Line<'_>>> = Vec::with_capacity(sources.len());
    for src in sources {
        let mut lines = Vec::new();
        let mut key = 0;
        for (i, line) in bundle_lines(&src.bytes).enumerate() {
            let at = || format!("{} line {}", src.name, i + 1);
            let text = line.map_err(|e| Failure::from(e).context(at()))?;
            match Link::parse(text) {
                Ok(link) => key = link.seq(),
                // well-formed enough to be a chain's business: the replay refuses it in place
                Err(e) if is_chain_rule(&e) => {}
                Err(e) => return Err(Failure::from(e).context(at())),
            }
            lines.push(Line {
                key,
                text,
                number: i + 1,
            });
        }
        split.push(lines);
    }

    let mut outcome = Outcome {
        replay: VecReplay::new_vec(),
        lines: Vec::new(),
        error: None,
    };
    let mut next = vec![0usize; split.len()];
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = split
        .iter()
        .enumerate()
        .filter_map(|(s, lines)| lines.first().map(|l| Reverse((l.key, s))))
        .collect();
    while let Some(Reverse((_, s))) = heap.pop() {
        let (Some(lines), Some(pos)) = (split.get(s), next.get_mut(s)) else {
            break;
        };
        let Some(line) = lines.get(*pos) else {
            continue;
        };
        *pos += 1;
        if let Some(following) = lines.get(*pos) {
            heap.push(Reverse((following.key, s)));
        }
        match outcome.replay.push(line.text) {
            Ok(Pushed::Applied) => outcome.lines.push(line.text.to_vec()),
            Ok(Pushed::Duplicate) => {}
            // the replay keeps the state before the fork and ignores the rest
            Ok(Pushed::Fork(_) | Pushed::AfterFork) => break,
            Err(e) => {
                let name = sources.get(s).map_or("", |src| src.name.as_str());
                let failure = Failure::from(e).context(format!("{name} line {}", line.number));
                if !is_chain_rule(&e) {
                    return Err(failure);
                }
                outcome.error = Some(failure.answer_no());
                break;
            }
        }
    }
    Ok(outcome)
}
