//! The three reports of a run: text for people (failures with their differences, a per-area
//! table, the closing `N passed, N failed`), JSON for tools, and JUnit XML for CI.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::exceptions::Outcome;
use crate::runner::Run;

/// What the reports say about the run besides its results.
#[derive(Debug)]
pub(crate) struct Meta<'a> {
    pub(crate) impl_display: &'a str,
    pub(crate) vectors: Option<String>,
    pub(crate) upstream: Option<String>,
    pub(crate) jobs: usize,
    pub(crate) timeout_secs: f64,
    pub(crate) warnings: &'a [String],
}

/// Per-area counts, areas in the order they first appear.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    pass: usize,
    skip: usize,
    known: usize,
    fail: usize,
}

impl Counts {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Pass => self.pass += 1,
            Outcome::Skip => self.skip += 1,
            Outcome::KnownDivergence => self.known += 1,
            Outcome::UnexpectedPass | Outcome::Fail => self.fail += 1,
        }
    }
}

fn areas(run: &Run) -> Vec<(String, Counts)> {
    let mut order: Vec<String> = Vec::new();
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    for (case, result) in run.cases.iter().zip(&run.results) {
        if !counts.contains_key(&case.area) {
            order.push(case.area.clone());
        }
        counts
            .entry(case.area.clone())
            .or_default()
            .add(result.outcome);
    }
    order
        .into_iter()
        .map(|a| {
            let c = counts.get(&a).copied().unwrap_or_default();
            (a, c)
        })
        .collect()
}

fn rate(run: &Run) -> f64 {
    let ran = run
        .results
        .iter()
        .filter(|r| r.outcome != Outcome::Skip)
        .count();
    let secs = run.elapsed.as_secs_f64();
    if secs > 0.0 { ran as f64 / secs } else { 0.0 }
}

/// The text report.
pub(crate) fn text(run: &Run, meta: &Meta<'_>) -> String {
    let mut out = String::new();
    let sources: Vec<String> = [
        meta.vectors.as_ref().map(|v| format!("vectors {v}")),
        meta.upstream.as_ref().map(|u| format!("upstream {u}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let _ = writeln!(
        out,
        "kez-conformance: `{}`: {} cases ({}), {} jobs, timeout {}s",
        meta.impl_display,
        run.cases.len(),
        sources.join(", "),
        meta.jobs,
        meta.timeout_secs
    );
    for w in meta.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    for (op, why) in &run.unsupported {
        let skipped = run
            .cases
            .iter()
            .filter(|c| c.input.ops().contains(op))
            .count();
        let _ = writeln!(out, "SKIP  {} ({skipped} cases): {why}", op.name());
    }
    for (case, result) in run.cases.iter().zip(&run.results) {
        let spec = case
            .spec
            .as_ref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        match result.outcome {
            Outcome::Pass | Outcome::Skip => {}
            Outcome::Fail => {
                let comment = if case.comment.is_empty() {
                    String::new()
                } else {
                    format!(": {}", case.comment)
                };
                let _ = writeln!(
                    out,
                    "FAIL  {}{spec} {}{comment}",
                    case.id,
                    case.input.op().name()
                );
                for f in &result.failures {
                    let msg = f.message.replace('\n', "\n      ");
                    let _ = writeln!(out, "    [{}] {msg}", f.kind.as_str());
                }
            }
            Outcome::KnownDivergence => {
                let kinds: Vec<&str> = result.failures.iter().map(|f| f.kind.as_str()).collect();
                let _ = writeln!(
                    out,
                    "KNOWN {} [{}]: {}",
                    case.id,
                    kinds.join(", "),
                    result.reason.as_deref().unwrap_or_default()
                );
            }
            Outcome::UnexpectedPass => {
                let _ = writeln!(
                    out,
                    "UNEXPECTED PASS  {}: listed as a known divergence ({}), but it passes; remove it from the exceptions file",
                    case.id,
                    result.reason.as_deref().unwrap_or_default()
                );
            }
        }
    }
    let table = areas(run);
    let width = table.iter().map(|(a, _)| a.len()).max().unwrap_or(0).max(5);
    let _ = writeln!(
        out,
        "\n{:<width$}  {:>6}  {:>6}  {:>9}  {:>6}",
        "area", "pass", "skip", "known-div", "fail"
    );
    let mut total = Counts::default();
    for (area, c) in &table {
        let _ = writeln!(
            out,
            "{area:<width$}  {:>6}  {:>6}  {:>9}  {:>6}",
            c.pass, c.skip, c.known, c.fail
        );
        total.pass += c.pass;
        total.skip += c.skip;
        total.known += c.known;
        total.fail += c.fail;
    }
    let _ = writeln!(
        out,
        "{:<width$}  {:>6}  {:>6}  {:>9}  {:>6}",
        "total", total.pass, total.skip, total.known, total.fail
    );
    let _ = writeln!(
        out,
        "{} cases in {:.2}s ({:.0} cases/s)",
        run.cases.len(),
        run.elapsed.as_secs_f64(),
        rate(run)
    );
    let _ = writeln!(
        out,
        "{} skipped, {} known divergences",
        total.skip, total.known
    );
    let _ = writeln!(out, "{} passed, {} failed", total.pass, total.fail);
    out
}

/// The JSON report (pretty-printed).
pub(crate) fn json(run: &Run, meta: &Meta<'_>) -> String {
    let cases: Vec<Value> = run
        .cases
        .iter()
        .zip(&run.results)
        .map(|(case, r)| {
            json!({
                "id": case.id,
                "area": case.area,
                "op": case.input.op().name(),
                "comment": case.comment,
                "spec": case.spec,
                "outcome": r.outcome.as_str(),
                "reason": r.reason,
                "failures": r.failures.iter().map(|f| json!({"kind": f.kind.as_str(), "message": f.message})).collect::<Vec<_>>(),
                "duration_ms": (r.duration.as_secs_f64() * 1e6).round() / 1e3,
            })
        })
        .collect();
    let areas: Vec<Value> = areas(run)
        .into_iter()
        .map(|(area, c)| {
            json!({"area": area, "pass": c.pass, "skip": c.skip, "known_divergence": c.known, "fail": c.fail})
        })
        .collect();
    let unsupported: Vec<Value> = run
        .unsupported
        .iter()
        .map(|(op, why)| json!({"op": op.name(), "reason": why}))
        .collect();
    let report = json!({
        "impl": meta.impl_display,
        "vectors": meta.vectors,
        "upstream": meta.upstream,
        "jobs": meta.jobs,
        "timeout_s": meta.timeout_secs,
        "elapsed_s": run.elapsed.as_secs_f64(),
        "cases_per_s": rate(run),
        "warnings": meta.warnings,
        "unsupported_ops": unsupported,
        "summary": {
            "total": run.cases.len(),
            "passed": run.count(Outcome::Pass),
            "failed": run.count(Outcome::Fail) + run.count(Outcome::UnexpectedPass),
            "skipped": run.count(Outcome::Skip),
            "known_divergences": run.count(Outcome::KnownDivergence),
            "unexpected_passes": run.count(Outcome::UnexpectedPass),
        },
        "areas": areas,
        "cases": cases,
    });
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}

/// The JUnit XML report: one `<testsuite>` per area; skips and known divergences are
/// `<skipped>`, failures and unexpected passes `<failure>`.
pub(crate) fn junit(run: &Run, meta: &Meta<'_>) -> String {
    let mut by_area: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, case) in run.cases.iter().enumerate() {
        match by_area.iter_mut().find(|(a, _)| *a == case.area) {
            Some((_, list)) => list.push(i),
            None => by_area.push((case.area.clone(), vec![i])),
        }
    }
    let failed = run.count(Outcome::Fail) + run.count(Outcome::UnexpectedPass);
    let skipped = run.count(Outcome::Skip) + run.count(Outcome::KnownDivergence);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"kez-conformance {}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\">",
        xml_escape(meta.impl_display),
        run.cases.len(),
        run.elapsed.as_secs_f64()
    );
    for (area, list) in by_area {
        let pick = |o: &[Outcome]| {
            list.iter()
                .filter(|&&i| run.results.get(i).is_some_and(|r| o.contains(&r.outcome)))
                .count()
        };
        let time: f64 = list
            .iter()
            .filter_map(|&i| run.results.get(i))
            .map(|r| r.duration.as_secs_f64())
            .sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{time:.3}\">",
            xml_escape(&area),
            list.len(),
            pick(&[Outcome::Fail, Outcome::UnexpectedPass]),
            pick(&[Outcome::Skip, Outcome::KnownDivergence]),
        );
        for i in list {
            let (Some(case), Some(r)) = (run.cases.get(i), run.results.get(i)) else {
                continue;
            };
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                xml_escape(&area),
                xml_escape(&case.id),
                r.duration.as_secs_f64()
            );
            let reason = r.reason.as_deref().unwrap_or_default();
            match r.outcome {
                Outcome::Pass => out.push_str("/>\n"),
                Outcome::Skip => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml_escape(reason)
                    );
                }
                Outcome::KnownDivergence => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"known divergence: {}\"/>\n    </testcase>",
                        xml_escape(reason)
                    );
                }
                Outcome::UnexpectedPass => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure type=\"unexpected_pass\" message=\"listed as a known divergence ({}), but it passes\"/>\n    </testcase>",
                        xml_escape(reason)
                    );
                }
                Outcome::Fail => {
                    let kinds: Vec<&str> = r.failures.iter().map(|f| f.kind.as_str()).collect();
                    let first = r.failures.first().map_or("", |f| f.message.as_str());
                    let first_line = first.lines().next().unwrap_or_default();
                    let details: Vec<String> = r
                        .failures
                        .iter()
                        .map(|f| format!("[{}] {}", f.kind.as_str(), f.message))
                        .collect();
                    let _ = writeln!(
                        out,
                        ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                        xml_escape(&kinds.join(",")),
                        xml_escape(first_line),
                        xml_escape(&details.join("\n"))
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Escapes text for XML attribute values and content; characters XML 1.0 cannot carry at all
/// become `\u{…}`.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if u32::from(c) < 0x20 || matches!(c, '\u{fffe}' | '\u{ffff}') => {
                let _ = write!(out, "\\u{{{:04x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}
