//! File names from peers made safe to use as one path component (SPEC.md §16.4: a received
//! file's name is only a suggestion).
//!
//! A name in a file body is whatever the sender wrote: it may hold path separators, `..`,
//! control characters, characters that reorder how the name is displayed, names that Windows
//! reserves for devices, or thousands of bytes. [`filename`] turns any such string into a name
//! that is safe as a single component on Linux, macOS and Windows, keeping as much of the
//! original (and its extension) as it can.

/// Longest result, in bytes of UTF-8 (the common per-component limit of Linux, macOS and
/// Windows file systems).
pub const MAX_BYTES: usize = 255;

/// Longest extension (with its dot), in bytes, that [`filename`] keeps when it must shorten a
/// name.
pub const MAX_EXTENSION: usize = 16;

/// The name used when nothing of the original is left.
pub const FALLBACK: &str = "file";

/// Returns `name` made safe as one path component on Linux, macOS and Windows.
///
/// In order: only the part after the last `/` or `\` is kept; control characters (NUL
/// included) and the Unicode characters that override text direction are dropped; `<`, `>`,
/// `:`, `"`, `|`, `?` and `*` become `_`; leading dots and spaces and trailing dots and spaces
/// are removed (no hidden files, no `.` or `..`, nothing Windows would silently change); a
/// name that Windows reserves for a device (`CON`, `PRN`, `AUX`, `NUL`, `COM1`–`COM9`,
/// `LPT1`–`LPT9`, with or without an extension, in any case) gets a `_` in front; the result
/// is cut to at most [`MAX_BYTES`] bytes on a character boundary, keeping an extension of up to
/// [`MAX_EXTENSION`] bytes; an empty result becomes [`FALLBACK`].
///
/// The result is never empty, never `.` or `..`, and holds no `/`, `\` or NUL.
#[must_use]
pub fn filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last
        .chars()
        .filter(|&c| !is_dropped(c))
        .map(|c| if is_replaced(c) { '_' } else { c })
        .collect();
    let trimmed = trim_dots_spaces(&cleaned);
    let mut out = if is_reserved(trimmed) {
        format!("_{trimmed}")
    } else {
        trimmed.to_owned()
    };
    if out.len() > MAX_BYTES {
        out = shorten(&out, MAX_BYTES);
    }
    if out.is_empty() {
        FALLBACK.to_owned()
    } else {
        out
    }
}

/// Returns `name` (already sanitized) cut to at most `max` bytes, keeping its extension when it
/// has a short one; the cut never leaves trailing dots or spaces.
///
/// Used by [`filename`] and by callers that add a suffix such as ` (1)` to a sanitized name.
#[must_use]
pub fn shorten(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let (stem, ext) = split_extension(name);
    let (stem, ext) = if ext.len() < max {
        (stem, ext)
    } else {
        (name, "")
    };
    let stem = trim_dots_spaces(floor_str(stem, max - ext.len()));
    if stem.is_empty() {
        return trim_dots_spaces(floor_str(name, max)).to_owned();
    }
    format!("{stem}{ext}")
}

/// Splits a name into its stem and its extension (with the dot) when the extension is at most
/// [`MAX_EXTENSION`] bytes and the stem is not empty; otherwise the extension is empty.
#[must_use]
pub fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot <= MAX_EXTENSION => name.split_at(dot),
        _ => (name, ""),
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn floor_str(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

fn trim_dots_spaces(s: &str) -> &str {
    s.trim_matches(['.', ' '])
}

/// Control characters, and the characters that embed, override or isolate text direction
/// (a name like `invoice\u{202E}fdp.exe` displays as `invoiceexe.pdf`).
fn is_dropped(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// Characters Windows refuses in a name.
fn is_replaced(c: char) -> bool {
    matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*')
}

/// Whether Windows would take `name` for a device: the part before the first dot (trailing
/// spaces ignored, as Windows does) is a reserved device name in any case.
fn is_reserved(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name).trim_end_matches(' ');
    let upper = stem.to_ascii_uppercase();
    if matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) {
        return true;
    }
    // COM0–COM9 and LPT0–LPT9, with the superscript digits Windows also treats as digits.
    let mut chars = upper.chars();
    let prefix: String = chars.by_ref().take(3).collect();
    let rest: Vec<char> = chars.collect();
    (prefix == "COM" || prefix == "LPT")
        && matches!(rest.as_slice(), [d] if d.is_ascii_digit() || matches!(d, '¹' | '²' | '³'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn path_traversal_keeps_only_the_last_component() {
        assert_eq!(filename("../../x"), "x");
        assert_eq!(filename("/etc/passwd"), "passwd");
        assert_eq!(filename("C:\\Windows\\x.dll"), "x.dll");
        assert_eq!(filename("a/b\\c.txt"), "c.txt");
        assert_eq!(filename("dir/"), FALLBACK);
    }

    #[test]
    fn dots_and_empty_become_the_fallback() {
        assert_eq!(filename(".."), FALLBACK);
        assert_eq!(filename("."), FALLBACK);
        assert_eq!(filename(""), FALLBACK);
        assert_eq!(filename(" . . "), FALLBACK);
        assert_eq!(filename("\0"), FALLBACK);
    }

    #[test]
    fn leading_and_trailing_dots_and_spaces_go() {
        assert_eq!(filename(".bashrc"), "bashrc");
        assert_eq!(filename("  report.pdf. . "), "report.pdf");
        assert_eq!(filename("a b.txt"), "a b.txt");
    }

    #[test]
    fn nul_and_control_characters_are_dropped() {
        assert_eq!(filename("a\0b.txt"), "ab.txt");
        assert_eq!(filename("evil.txt\0.exe"), "evil.txt.exe");
        assert_eq!(filename("line\nbreak\r\t.txt"), "linebreak.txt");
        assert_eq!(filename("del\u{7f}\u{85}.txt"), "del.txt");
    }

    #[test]
    fn direction_overrides_are_dropped() {
        assert_eq!(filename("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(filename("\u{2066}a\u{2069}\u{202A}b\u{202C}.txt"), "ab.txt");
        assert_eq!(filename("\u{200F}x\u{200E}.txt"), "x.txt");
    }

    #[test]
    fn windows_forbidden_characters_are_replaced() {
        assert_eq!(filename("a<b>c:d\"e|f?g*h.txt"), "a_b_c_d_e_f_g_h.txt");
        assert_eq!(filename("C:x.dll"), "C_x.dll");
    }

    #[test]
    fn windows_device_names_get_a_prefix() {
        assert_eq!(filename("CON.txt"), "_CON.txt");
        assert_eq!(filename("con"), "_con");
        assert_eq!(filename("Nul.tar.gz"), "_Nul.tar.gz");
        assert_eq!(filename("com1.log"), "_com1.log");
        assert_eq!(filename("LPT9"), "_LPT9");
        assert_eq!(filename("aux .txt"), "_aux .txt");
        assert_eq!(filename("COM¹"), "_COM¹");
        // Not device names.
        assert_eq!(filename("CONSOLE.txt"), "CONSOLE.txt");
        assert_eq!(filename("COM10"), "COM10");
        assert_eq!(filename("xCON"), "xCON");
        assert_eq!(filename("LPT"), "LPT");
    }

    #[test]
    fn unicode_is_kept() {
        assert_eq!(filename("фото 😀.jpg"), "фото 😀.jpg");
        assert_eq!(filename("日本語"), "日本語");
    }

    #[test]
    fn long_names_are_cut_keeping_the_extension() {
        let long = format!("{}.pdf", "a".repeat(4096));
        let out = filename(&long);
        assert_eq!(out.len(), MAX_BYTES);
        assert!(out.ends_with(".pdf"));
        assert!(out.starts_with("aaa"));

        // Multi-byte characters are cut on a boundary.
        let emoji = format!("{}.txt", "😀".repeat(1000));
        let out = filename(&emoji);
        assert!(out.len() <= MAX_BYTES);
        assert!(out.ends_with("😀.txt"));
        assert_eq!(out.len(), 4 * 62 + 4);

        // An over-long "extension" is not kept apart.
        let odd = format!("x.{}", "e".repeat(4000));
        let out = filename(&odd);
        assert_eq!(out.len(), MAX_BYTES);
        assert!(out.starts_with("x.eee"));

        // A cut that would end in spaces or dots drops them.
        let spaced = format!("{}{}", "b".repeat(250), " ".repeat(10));
        let spaced = format!("{spaced}{}", "c".repeat(10));
        assert_eq!(filename(&spaced), "b".repeat(250));
    }

    #[test]
    fn shorten_keeps_room_for_a_suffix() {
        let name = format!("{}.txt", "a".repeat(251));
        assert_eq!(name.len(), 255);
        let short = shorten(&name, 255 - 4);
        assert_eq!(short.len(), 251);
        assert!(short.ends_with("a.txt"));
        assert_eq!(shorten("abc.txt", 100), "abc.txt");
    }

    #[test]
    fn split_extension_examples() {
        assert_eq!(split_extension("a.tar.gz"), ("a.tar", ".gz"));
        assert_eq!(split_extension("noext"), ("noext", ""));
        assert_eq!(split_extension(".hidden"), (".hidden", ""));
    }

    proptest! {
        #[test]
        fn output_is_always_one_safe_component(name in ".{0,600}") {
            let out = filename(&name);
            prop_assert!(!out.is_empty());
            prop_assert!(out.len() <= MAX_BYTES);
            prop_assert!(!out.contains(['/', '\\', '\0']));
            prop_assert!(out != "." && out != "..");
            prop_assert!(!out.starts_with(['.', ' ']) && !out.ends_with(['.', ' ']));
            prop_assert!(!out.chars().any(|c| c.is_control() || is_replaced(c)));
            prop_assert!(!is_reserved(&out));
            prop_assert_eq!(filename(&out), out.clone());
        }

        #[test]
        fn output_from_path_like_names(parts in proptest::collection::vec(
            prop_oneof![Just("..".to_owned()), Just(".".to_owned()), Just("CON".to_owned()),
                        "[a-zA-Z0-9 .\u{202E}\u{0}:*]{0,300}"], 0..6),
            sep in prop_oneof![Just("/"), Just("\\")]) {
            let out = filename(&parts.join(sep));
            prop_assert!(!out.is_empty());
            prop_assert!(out.len() <= MAX_BYTES);
            let forbidden = ['/', '\\', '\0', '\u{202E}'];
            prop_assert!(!out.contains(forbidden));
            prop_assert!(out != "." && out != "..");
        }
    }
}
