//! Unit tests of the runner's own pieces: command-line splitting, case patterns, the readable
//! difference, the exceptions file and its classification, XML escaping.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use kez_conformance::diff::{escape, first_difference, line_column, render};
use kez_conformance::exceptions::{Exceptions, Outcome, Ran, classify};
use kez_conformance::glob::{filter_match, glob_match};
use kez_conformance::shellwords::{SplitError, join, split};
use kez_conformance::xml_escape;

fn words(line: &str) -> Vec<String> {
    split(line).unwrap()
}

#[test]
fn split_plain_words_and_blanks() {
    assert_eq!(words("target/release/kez"), ["target/release/kez"]);
    assert_eq!(
        words("  python3\tports/kez.py \n --x "),
        ["python3", "ports/kez.py", "--x"]
    );
    assert!(words("").is_empty());
    assert!(words(" \t\n").is_empty());
}

#[test]
fn split_quotes() {
    assert_eq!(words("'a b' c"), ["a b", "c"]);
    assert_eq!(words(r#""a b" 'c"d' "e'f""#), ["a b", "c\"d", "e'f"]);
    // quotes join with their neighbours into one word
    assert_eq!(words(r#"a"b c"'d e'f"#), ["ab cd ef"]);
    // empty quotes are an empty word
    assert_eq!(words("x '' \"\""), ["x", "", ""]);
    // no expansion of anything
    assert_eq!(words("'$HOME' \"$HOME\" * ~"), ["$HOME", "$HOME", "*", "~"]);
    assert_eq!(words("'ünï cødé'"), ["ünï cødé"]);
}

#[test]
fn split_backslashes() {
    assert_eq!(words(r"a\ b c"), ["a b", "c"]);
    assert_eq!(words(r"\'x\' \\"), ["'x'", "\\"]);
    // inside double quotes only $ ` " \ and LF are escaped
    assert_eq!(words(r#""a\"b\\c\$d\e""#), ["a\"b\\c$d\\e"]);
    assert_eq!(words(r#""\n""#), [r"\n"]);
    // inside single quotes nothing is
    assert_eq!(words(r"'a\b'"), [r"a\b"]);
    // backslash-LF continues the line
    assert_eq!(words("ab\\\ncd ef"), ["abcd", "ef"]);
}

#[test]
fn split_comments() {
    assert_eq!(words("kez # the binary"), ["kez"]);
    assert_eq!(words("kez a#b '#c'"), ["kez", "a#b", "#c"]);
    assert_eq!(words("# all\nkez"), ["kez"]);
}

#[test]
fn split_errors() {
    assert_eq!(split("'abc"), Err(SplitError::UnterminatedSingleQuote));
    assert_eq!(split("\"abc"), Err(SplitError::UnterminatedDoubleQuote));
    assert_eq!(split("\"abc\\"), Err(SplitError::UnterminatedDoubleQuote));
    assert_eq!(split("abc\\"), Err(SplitError::TrailingBackslash));
}

#[test]
fn join_round_trips() {
    for w in [
        vec!["kez"],
        vec!["python3", "my port/kez.py", ""],
        vec!["it's", "a\"b", "$x", "#y", "a\\b"],
    ] {
        assert_eq!(split(&join(&w)).unwrap(), w, "{}", join(&w));
    }
}

#[test]
fn patterns() {
    assert!(glob_match("jcs#*", "jcs#12"));
    assert!(!glob_match("jcs#*", "upstream-jcs#arrays"));
    assert!(glob_match("*jcs#*", "upstream-jcs#arrays"));
    assert!(glob_match("sig#?", "sig#3"));
    assert!(!glob_match("sig#?", "sig#13"));
    assert!(glob_match("*", ""));
    assert!(glob_match("a*b*c", "aXbYbZc"));
    assert!(!glob_match("a*b*c", "aXbYbZ"));
    assert!(glob_match("jcs#12", "jcs#12"));
    assert!(!glob_match("jcs#1", "jcs#12"));
    // --filter: a glob matches the whole id, an id is exact, anything else is a substring
    assert!(filter_match("jcs", "upstream-jcs#weird"));
    assert!(filter_match("sig", "sigchain#3"));
    assert!(filter_match("jcs#12", "jcs#12"));
    assert!(!filter_match("jcs#1", "jcs#12"));
    assert!(!filter_match("jcs#12", "upstream-jcs#12"));
    assert!(!filter_match("keys#1?", "keys#1"));
    assert!(filter_match("keys#1?", "keys#10"));
}

#[test]
fn diff_first_difference() {
    assert_eq!(first_difference(b"abc", b"abc"), None);
    assert_eq!(first_difference(b"abc", b"abd"), Some(2));
    assert_eq!(first_difference(b"abc", b"ab"), Some(2));
    assert_eq!(first_difference(b"", b"x"), Some(0));
    assert_eq!(line_column(b"ab\ncd\nef", 7), (3, 2));
    assert_eq!(line_column(b"abc", 0), (1, 1));
}

#[test]
fn diff_escapes_what_cannot_be_seen() {
    assert_eq!(escape(b"a\"b\\c\n\r\t"), r#"a\"b\\c\n\r\t"#);
    assert_eq!(escape(b"\x00\x1f\x7f"), r"\x00\x1f\x7f");
    // not UTF-8: the raw bytes
    assert_eq!(escape(b"\xff\xc3"), r"\xff\xc3");
    // UTF-8 text stays readable; invisible and bidi code points do not hide
    assert_eq!(escape("é€😀".as_bytes()), "é€😀");
    assert_eq!(
        escape("a\u{202e}b\u{feff}\u{85}".as_bytes()),
        r"a\u{202e}b\u{feff}\u{0085}"
    );
}

#[test]
fn diff_render_short() {
    assert_eq!(render(b"same", b"same"), None);
    let d = render(b"{\"a\":1}\n", b"{\"a\":2}\n").unwrap();
    assert_eq!(
        d,
        [
            "differs at byte 5 (line 1, column 6); expected 8 bytes, got 8",
            r#"  expected: "{\"a\":1}\n""#,
            r#"  got:      "{\"a\":2}\n""#,
            r#"                    ^"#,
        ]
        .join("\n")
    );
    let d = render(b"ok\n", b"ok").unwrap();
    assert!(
        d.starts_with("differs at byte 2 (line 1, column 3); expected 3 bytes, got 2"),
        "{d}"
    );
}

#[test]
fn diff_render_long_shows_a_window() {
    let expected: Vec<u8> = (0..1000).map(|i| b'a' + (i % 26) as u8).collect();
    let mut got = expected.clone();
    got[500] = b'#';
    let d = render(&expected, &got).unwrap();
    assert!(
        d.starts_with("differs at byte 500 (line 1, column 501); expected 1000 bytes, got 1000")
    );
    let lines: Vec<&str> = d.lines().collect();
    assert_eq!(lines.len(), 4);
    // the caret stands under the '#'
    let caret = lines[3].chars().count() - 1;
    assert_eq!(lines[2].chars().nth(caret), Some('#'), "{d}");
    // cut on both sides, and the difference is inside the window
    assert!(lines[1].contains("…\"") && lines[1].ends_with("\"…"), "{d}");
    assert!(lines[2].contains('#') && lines[2].len() < 200, "{d}");
    // a window never starts inside a UTF-8 sequence
    let expected = "é".repeat(300);
    let mut got = expected.clone().into_bytes();
    got[401] = b'X';
    let d = render(expected.as_bytes(), &got).unwrap();
    assert!(!d.lines().nth(1).unwrap().contains("\\x"), "{d}");
}

fn exceptions(text: &str) -> Exceptions {
    Exceptions::parse(text.as_bytes()).unwrap()
}

#[test]
fn exceptions_parse() {
    let e = exceptions(
        r#"{"impl":"python","exceptions":[{"case":"jcs#12","reason":"float formatting"},{"case":"upstream-es6#*","reason":"slow"}]}"#,
    );
    assert_eq!(e.impl_name.as_deref(), Some("python"));
    assert_eq!(e.lookup("jcs#12").unwrap().reason, "float formatting");
    assert!(e.lookup("jcs#1").is_none(), "ids are exact, not substrings");
    assert!(e.lookup("jcs#123").is_none());
    assert_eq!(e.lookup("upstream-es6#3").unwrap().reason, "slow");
    assert_eq!(exceptions(r#"{"exceptions":[]}"#), Exceptions::default());
    for bad in [
        "",
        "[]",
        r#"{"exceptions":{}}"#,
        r#"{"exceptions":[{"case":"jcs#1"}]}"#,
        r#"{"exceptions":[{"case":"jcs#1","reason":"  "}]}"#,
        r#"{"exceptions":[{"case":"","reason":"x"}]}"#,
        r#"{"impl":1,"exceptions":[]}"#,
    ] {
        assert!(Exceptions::parse(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn exceptions_unmatched_entries() {
    let e = exceptions(
        r#"{"exceptions":[{"case":"jcs#1","reason":"a"},{"case":"gone#9","reason":"b"},{"case":"sig#*","reason":"c"}]}"#,
    );
    let stale: Vec<&str> = e
        .unmatched(&["jcs#1", "sig#4"])
        .iter()
        .map(|x| x.case.as_str())
        .collect();
    assert_eq!(stale, ["gone#9"]);
}

#[test]
fn classification() {
    // a listed case that fails: known divergence, which does not fail the run
    assert_eq!(classify(&Ran::Failed, true), Outcome::KnownDivergence);
    assert!(!Outcome::KnownDivergence.is_unexpected());
    // a listed case that passes: unexpected, so the list cannot go stale silently
    assert_eq!(classify(&Ran::Passed, true), Outcome::UnexpectedPass);
    assert!(Outcome::UnexpectedPass.is_unexpected());
    assert_eq!(classify(&Ran::Failed, false), Outcome::Fail);
    assert!(Outcome::Fail.is_unexpected());
    assert_eq!(classify(&Ran::Passed, false), Outcome::Pass);
    assert!(!Outcome::Pass.is_unexpected());
    for listed in [false, true] {
        assert_eq!(
            classify(&Ran::Skipped("no op".into()), listed),
            Outcome::Skip
        );
    }
    assert!(!Outcome::Skip.is_unexpected());
}

#[test]
fn xml_escaping() {
    assert_eq!(
        xml_escape(r#"<a href="x">&'</a>"#),
        "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;"
    );
    // characters XML 1.0 cannot carry at all
    assert_eq!(
        xml_escape("a\u{0}b\u{1b}c\u{ffff}"),
        r"a\u{0000}b\u{001b}c\u{ffff}"
    );
    assert_eq!(xml_escape("tab\tnl\n é"), "tab\tnl\n é");
}
