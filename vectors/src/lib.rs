//! The generator of the KEZ test vectors (SPEC.md §12).
//!
//! Every file `vectors/<area>.json` is written from inputs chosen here and expected outputs
//! computed by `kez-core` through the same steps the CLI conformance profile (SPEC.md §11)
//! prescribes; nothing is copied from the CLI. Each case also states what its author meant it to
//! show (`Want`): when the core computes something else, generation fails and names the case, so
//! a core bug or a wrong intention never lands in a file silently.
//!
//! Output is deterministic: fixed seeds and aux randomness, a fixed `now`, no clock, no RNG,
//! object keys sorted, two-space pretty printing and a final LF. The same run also renders the
//! `| file | tests | sha256 |` table between the `<!-- vectors:begin -->` and
//! `<!-- vectors:end -->` lines of SPEC.md §12.

mod areas;
mod envelope;
mod fixtures;
mod huffman;
mod oracle;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The `schema` member of every vector file.
pub const SCHEMA: &str = "kez-vectors/v1";
/// The protocol version the vectors check (`spec_version`).
pub const SPEC_VERSION: &str = "0.2";
/// The line that opens the generated block in SPEC.md.
pub const BEGIN_MARKER: &str = "<!-- vectors:begin -->";
/// The line that closes the generated block in SPEC.md.
pub const END_MARKER: &str = "<!-- vectors:end -->";

/// One generated vector file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorFile {
    /// The area, also the file stem (`jcs`, `sigchain`, ...).
    pub area: &'static str,
    /// `numberOfTests`.
    pub tests: usize,
    /// The exact file bytes.
    pub bytes: Vec<u8>,
}

impl VectorFile {
    /// The path relative to the workspace root.
    #[must_use]
    pub fn relative_path(&self) -> String {
        format!("vectors/{}.json", self.area)
    }

    /// Lowercase hex SHA-256 of the file bytes.
    #[must_use]
    pub fn sha256(&self) -> String {
        fixtures::hex(&Sha256::digest(&self.bytes))
    }
}

/// Builds every vector file in memory.
///
/// # Errors
/// A description of every case whose computed outcome differs from what the case means to show,
/// or of any other generation failure.
pub fn generate() -> Result<Vec<VectorFile>, String> {
    areas::all()?
        .into_iter()
        .map(|area| {
            let (tests, bytes) = area.render()?;
            Ok(VectorFile {
                area: area.stem(),
                tests,
                bytes,
            })
        })
        .collect()
}

/// The Markdown table written between the SPEC.md markers (without the marker lines).
#[must_use]
pub fn spec_block(files: &[VectorFile]) -> String {
    let mut out = String::from("| file | tests | sha256 |\n| --- | --- | --- |\n");
    for f in files {
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` |",
            f.relative_path(),
            f.tests,
            f.sha256()
        );
    }
    let total: usize = files.iter().map(|f| f.tests).sum();
    let _ = writeln!(out, "| total | {total} | |");
    out
}

/// Replaces the text between the marker lines of `spec` by `block`.
///
/// # Errors
/// When the markers are missing, repeated or out of order.
pub fn replace_block(spec: &str, block: &str) -> Result<String, String> {
    let begin_line = format!("{BEGIN_MARKER}\n");
    let end_line = format!("{END_MARKER}\n");
    let one = |marker: &str| -> Result<usize, String> {
        let mut hits = spec.match_indices(marker).map(|(i, _)| i);
        match (hits.next(), hits.next()) {
            (Some(i), None) if i == 0 || spec.get(i - 1..i) == Some("\n") => Ok(i),
            (None, _) => Err(format!("SPEC.md has no line `{}`", marker.trim_end())),
            _ => Err(format!(
                "SPEC.md must have the line `{}` exactly once, on a line of its own",
                marker.trim_end()
            )),
        }
    };
    let begin = one(&begin_line)? + begin_line.len();
    let end = one(&end_line)?;
    match (spec.get(..begin), spec.get(end..)) {
        (Some(head), Some(tail)) if begin <= end => Ok(format!("{head}{block}{tail}")),
        _ => Err("SPEC.md: the vectors:end line comes before vectors:begin".to_owned()),
    }
}

/// The workspace root (the parent of this crate's directory).
#[must_use]
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// What differs between the files under `root` and what the generator would write: one line per
/// stale file (empty when everything is up to date).
///
/// # Errors
/// Generation failures, or an unreadable SPEC.md.
pub fn stale(root: &Path) -> Result<Vec<String>, String> {
    let files = generate()?;
    let mut out = Vec::new();
    for f in &files {
        let path = root.join(f.relative_path());
        match std::fs::read(&path) {
            Ok(bytes) if bytes == f.bytes => {}
            Ok(_) => out.push(format!(
                "{} differs from the generator's output",
                path.display()
            )),
            Err(e) => out.push(format!("{}: {e}", path.display())),
        }
    }
    let spec_path = root.join("SPEC.md");
    let spec =
        std::fs::read_to_string(&spec_path).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    if replace_block(&spec, &spec_block(&files))? != spec {
        out.push(format!(
            "{}: the table between {BEGIN_MARKER} and {END_MARKER} is stale",
            spec_path.display()
        ));
    }
    Ok(out)
}

/// Writes every vector file under `root` and refreshes the SPEC.md table; returns the paths
/// that changed.
///
/// # Errors
/// Generation failures and I/O errors.
pub fn write(root: &Path) -> Result<Vec<String>, String> {
    let files = generate()?;
    let mut changed = Vec::new();
    for f in &files {
        let path = root.join(f.relative_path());
        if std::fs::read(&path).ok().as_deref() != Some(f.bytes.as_slice()) {
            std::fs::write(&path, &f.bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            changed.push(path.display().to_string());
        }
    }
    // SPEC.md is shared with other editors: read it as late as possible and touch only the block
    let spec_path = root.join("SPEC.md");
    let spec =
        std::fs::read_to_string(&spec_path).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    let updated = replace_block(&spec, &spec_block(&files))?;
    if updated != spec {
        std::fs::write(&spec_path, updated).map_err(|e| format!("{}: {e}", spec_path.display()))?;
        changed.push(spec_path.display().to_string());
    }
    Ok(changed)
}
