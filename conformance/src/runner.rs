//! The run: probe which profile ops the implementation has, run the selected cases on a pool
//! of worker threads, and sort each result into pass / skip / known divergence / unexpected.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::case::{Case, Op};
use crate::check::{self, Failure, Impl};
use crate::exceptions::{self, Exceptions, Outcome, Ran};

/// The result of one case.
#[derive(Debug)]
pub(crate) struct CaseResult {
    pub(crate) outcome: Outcome,
    pub(crate) failures: Vec<Failure>,
    /// Why it was skipped, or the exceptions file's reason.
    pub(crate) reason: Option<String>,
    pub(crate) duration: Duration,
}

/// Everything a report needs.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) cases: Vec<Case>,
    /// One per case, same order.
    pub(crate) results: Vec<CaseResult>,
    /// Ops whose `--help` probe failed, with why, and how many cases that skipped.
    pub(crate) unsupported: BTreeMap<Op, String>,
    pub(crate) elapsed: Duration,
}

impl Run {
    /// Cases per outcome.
    pub(crate) fn count(&self, outcome: Outcome) -> usize {
        self.results.iter().filter(|r| r.outcome == outcome).count()
    }

    /// Whether any outcome was unexpected (exit 1).
    pub(crate) fn unexpected(&self) -> bool {
        self.results.iter().any(|r| r.outcome.is_unexpected())
    }
}

/// Probes the ops `cases` need, then runs the cases on `jobs` threads.
///
/// # Errors
///
/// The implementation cannot be started, or supports none of the ops: a usage error.
pub(crate) fn run(
    imp: &Impl,
    cases: Vec<Case>,
    exceptions: &Exceptions,
    jobs: usize,
    timeout: Duration,
) -> Result<Run, String> {
    let started = Instant::now();
    let mut needed: Vec<Op> = cases.iter().flat_map(|c| c.input.ops()).collect();
    needed.sort();
    needed.dedup();
    let unsupported = probe_all(imp, &needed, timeout)?;
    if !needed.is_empty() && needed.iter().all(|op| unsupported.contains_key(op)) {
        return Err(format!(
            "`{}` supports none of the profile's ops (every `--help` probe failed, e.g. {}); is --impl right?",
            imp.display,
            unsupported.values().next().map_or("", String::as_str)
        ));
    }
    let skip_reason = |case: &Case| {
        case.input.ops().into_iter().find_map(|op| {
            unsupported
                .get(&op)
                .map(|why| format!("unsupported op {}: {why}", op.name()))
        })
    };
    let mut order: Vec<usize> = (0..cases.len())
        .filter(|&i| cases.get(i).is_some_and(|c| skip_reason(c).is_none()))
        .collect();
    // the slowest first, so no worker is left with a long case at the end
    order.sort_by_key(|&i| std::cmp::Reverse(cases.get(i).map_or(0, |c| c.weight)));
    let mut ran: Vec<Option<(Vec<Failure>, Duration)>> = (0..cases.len()).map(|_| None).collect();
    for (i, failures, duration) in run_pool(imp, &cases, &order, jobs, timeout) {
        if let Some(slot) = ran.get_mut(i) {
            *slot = Some((failures, duration));
        }
    }
    let results = cases
        .iter()
        .zip(ran)
        .map(|(case, ran)| {
            let (state, failures, duration) = match (skip_reason(case), ran) {
                (Some(why), _) => (Ran::Skipped(why), Vec::new(), Duration::ZERO),
                (None, Some((f, d))) if f.is_empty() => (Ran::Passed, f, d),
                (None, Some((f, d))) => (Ran::Failed, f, d),
                // a worker that died: nothing is known, which is not a pass
                (None, None) => (
                    Ran::Failed,
                    vec![Failure {
                        kind: check::Kind::Runner,
                        message: "the case did not run (a runner thread failed)".into(),
                    }],
                    Duration::ZERO,
                ),
            };
            let listed = exceptions.lookup(&case.id);
            let outcome = exceptions::classify(&state, listed.is_some());
            let reason = match state {
                Ran::Skipped(why) => Some(why),
                _ => listed.map(|e| e.reason.clone()),
            };
            CaseResult {
                outcome,
                failures,
                reason,
                duration,
            }
        })
        .collect();
    Ok(Run {
        cases,
        results,
        unsupported,
        elapsed: started.elapsed(),
    })
}

/// Probes every op in parallel.
fn probe_all(imp: &Impl, ops: &[Op], timeout: Duration) -> Result<BTreeMap<Op, String>, String> {
    let (tx, rx) = mpsc::channel();
    thread::scope(|s| {
        for &op in ops {
            let sender = tx.clone();
            let spawned = thread::Builder::new().spawn_scoped(s, move || {
                let _ = sender.send((op, check::probe(op, imp, timeout)));
            });
            if spawned.is_err() {
                // no thread to spare: probe right here
                let _ = tx.send((op, check::probe(op, imp, timeout)));
            }
        }
    });
    drop(tx);
    let mut unsupported = BTreeMap::new();
    for (op, answer) in rx {
        match answer {
            Ok(None) => {}
            Ok(Some(why)) => {
                unsupported.insert(op, why);
            }
            Err(e) => return Err(format!("cannot run `{}`: {e}", imp.display)),
        }
    }
    Ok(unsupported)
}

/// Runs `order` (indices into `cases`) on `jobs` threads; yields each case's failures.
fn run_pool(
    imp: &Impl,
    cases: &[Case],
    order: &[usize],
    jobs: usize,
    timeout: Duration,
) -> Vec<(usize, Vec<Failure>, Duration)> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    thread::scope(|s| {
        for _ in 0..jobs.clamp(1, order.len().max(1)) {
            let tx = tx.clone();
            let next = &next;
            let worker = move || {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let Some(case) = cases.get(i) else { continue };
                    let t = Instant::now();
                    let failures = check::run_case(case, imp, timeout);
                    if tx.send((i, failures, t.elapsed())).is_err() {
                        break;
                    }
                }
            };
            // a pool short of a thread still finishes (the others take its share)
            let _ = thread::Builder::new().spawn_scoped(s, worker);
        }
    });
    drop(tx);
    rx.into_iter().collect()
}
