//! Inputs and the ratio report shared by the kez-core criterion benches (the benches themselves
//! are in `benches/`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A deterministic JSON object of roughly `target` bytes: records with strings (some escaped,
/// some non-ASCII), integers, decimals, booleans and nested arrays, members in non-sorted order.
#[must_use]
pub fn json_object(target: usize) -> String {
    let mut s = String::from("{\"records\":[");
    let mut i = 0u64;
    while s.len() < target.saturating_sub(120) {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            "{{\"zeta\":{i},\"name\":\"user-{i} \\u00e9t\\u00e9 \\\"q\\\"\",\"active\":{},\"score\":{}.{},\"tags\":[\"a\",\"bé\",{}],\"id\":\"{:016x}\"}}",
            i % 2 == 0,
            i * 37 % 1000,
            i % 97,
            i * 1_000_003,
            i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        );
        i += 1;
    }
    let _ = write!(
        s,
        "],\"count\":{i},\"version\":\"0.2\",\"big\":1e21,\"small\":5e-7}}"
    );
    s
}

/// Reads criterion's estimates of the benches that just ran and prints each ratio: the median
/// time of a kez operation over the median time of its reference, both measured in this run.
///
/// Criterion keeps its estimates in `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else
/// the workspace's `target/criterion`. Estimates older than this value's creation (a run that
/// did not measure, such as `cargo test --benches`) are not used.
#[derive(Debug)]
pub struct Ratios {
    start: SystemTime,
    root: PathBuf,
}

impl Default for Ratios {
    fn default() -> Self {
        Self::new()
    }
}

impl Ratios {
    /// Starts the clock: create this before the benches whose ratios it will print.
    #[must_use]
    pub fn new() -> Self {
        let root = std::env::var_os("CRITERION_HOME").map_or_else(
            || {
                std::env::var_os("CARGO_TARGET_DIR").map_or_else(
                    || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion"),
                    |t| PathBuf::from(t).join("criterion"),
                )
            },
            PathBuf::from,
        );
        Self {
            start: SystemTime::now(),
            root,
        }
    }

    /// The median time in nanoseconds of the bench `full_id` (`group/function[/parameter]`),
    /// if it was measured since [`Ratios::new`].
    #[must_use]
    pub fn median_ns(&self, full_id: &str) -> Option<f64> {
        let group = full_id.split('/').next()?;
        let dir = find_bench(&self.root.join(group), full_id, 0)?;
        let estimates = dir.join("estimates.json");
        let fresh = std::fs::metadata(&estimates)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= self.start);
        if !fresh {
            return None;
        }
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(estimates).ok()?).ok()?;
        v.get("median")?.get("point_estimate")?.as_f64()
    }

    /// Prints `label: kez / reference = R` for each `(label, kez_id, reference_id)`.
    pub fn print(&self, pairs: &[(&str, &str, &str)]) {
        println!("\nratios (median time of kez / median time of the reference, same run):");
        for (label, ours, theirs) in pairs {
            match (self.median_ns(ours), self.median_ns(theirs)) {
                (Some(a), Some(b)) if b > 0.0 => {
                    println!("  {label}: {} / {} = {:.3}", fmt_ns(a), fmt_ns(b), a / b)
                }
                _ => println!("  {label}: not measured in this run"),
            }
        }
        println!();
    }
}

/// Finds the `new/` folder whose `benchmark.json` names `full_id`, at most four levels down.
fn find_bench(dir: &Path, full_id: &str, depth: u8) -> Option<PathBuf> {
    let new = dir.join("new");
    if let Ok(bytes) = std::fs::read(new.join("benchmark.json")) {
        let id = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("full_id")?.as_str().map(str::to_owned));
        if id.as_deref() == Some(full_id) {
            return Some(new);
        }
    }
    if depth >= 4 {
        return None;
    }
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && e.file_name() != "new")
        .find_map(|e| find_bench(&e.path(), full_id, depth + 1))
}

/// A duration in the unit criterion would print it in.
#[must_use]
pub fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.3} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}
