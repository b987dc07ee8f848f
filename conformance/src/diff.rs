//! Readable differences between what a vector expects and what an implementation wrote: both
//! sides escaped (so invisible bytes show), the first differing byte offset, and a window
//! around it for long outputs.

use std::fmt::Write as _;

/// Bytes shown before the first difference when the output is long.
const BEFORE: usize = 40;
/// Bytes shown from the first difference on when the output is long.
const AFTER: usize = 80;
/// Outputs up to this length are shown whole.
const WHOLE: usize = 160;

/// Escapes `bytes` for a one-line display between quotes: printable text as is; `\` and `"`
/// escaped; `\n`, `\r`, `\t`; other ASCII controls and bytes that are not UTF-8 as `\xNN`;
/// invisible or direction-changing code points as `\u{NNNN}`.
#[must_use]
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                // other ASCII controls as the byte they are; a `\xNN` of 80-ff is a non-UTF-8 byte
                c if c.is_ascii_control() => {
                    let _ = write!(out, "\\x{:02x}", u32::from(c));
                }
                c if is_invisible(c) => {
                    let _ = write!(out, "\\u{{{:04x}}}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Code points that would hide or rearrange text on a terminal.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

/// The offset of the first byte where `a` and `b` differ (the shorter length when one is a
/// prefix of the other), or `None` when they are equal.
#[must_use]
pub fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    if a == b {
        return None;
    }
    Some(
        a.iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len())),
    )
}

/// 1-based line and byte column of `offset` in `text`.
#[must_use]
pub fn line_column(text: &[u8], offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = match before.iter().rposition(|&b| b == b'\n') {
        Some(nl) => offset - nl,
        None => offset + 1,
    };
    (line, column)
}

/// A multi-line description of how `got` differs from `expected`, or `None` when they are
/// equal:
///
/// ```text
/// differs at byte 5 (line 1, column 6); expected 8 bytes, got 8
///   expected: "{\"a\":1}\n"
///   got:      "{\"a\":2}\n"
///                     ^
/// ```
#[must_use]
pub fn render(expected: &[u8], got: &[u8]) -> Option<String> {
    let offset = first_difference(expected, got)?;
    let (line, column) = line_column(expected, offset);
    let mut out = format!(
        "differs at byte {offset} (line {line}, column {column}); expected {} bytes, got {}",
        expected.len(),
        got.len()
    );
    let whole = expected.len().max(got.len()) <= WHOLE;
    let mut caret = 0;
    for (label, side) in [("expected:", expected), ("got:     ", got)] {
        let (text, at) = excerpt(side, offset, whole);
        let _ = write!(out, "\n  {label} {text}");
        caret = at;
    }
    // under the first differing character of the `got` line
    let _ = write!(out, "\n  {}^", " ".repeat(10 + caret));
    Some(out)
}

/// `side` escaped and quoted, whole or as a window around `offset` with `…` where cut; and
/// how many characters of that text come before `offset`.
fn excerpt(side: &[u8], offset: usize, whole: bool) -> (String, usize) {
    let (start, end) = if whole {
        (0, side.len())
    } else {
        (
            char_start(side, offset.saturating_sub(BEFORE)),
            char_start(side, offset.saturating_add(AFTER).min(side.len())),
        )
    };
    let window = side.get(start..end).unwrap_or_default();
    let cut_before = if start > 0 { "…" } else { "" };
    let before = side
        .get(start..char_start(side, offset).max(start))
        .unwrap_or_default();
    let at = cut_before.chars().count() + 1 + escape(before).chars().count();
    let text = format!(
        "{cut_before}\"{}\"{}",
        escape(window),
        if end < side.len() { "…" } else { "" }
    );
    (text, at)
}

/// `at`, moved back to the start of the UTF-8 sequence it falls in (at most 3 bytes).
fn char_start(bytes: &[u8], at: usize) -> usize {
    let mut at = at.min(bytes.len());
    for _ in 0..3 {
        match bytes.get(at) {
            Some(b) if (0x80..0xc0).contains(b) && at > 0 => at -= 1,
            _ => break,
        }
    }
    at
}
