//! `jcs.json`: accepted JSON, canonical output and every rejection class (SPEC.md §2, through
//! `kez jcs`, §11.3).

use serde_json::{Value, json};

use crate::envelope::{Area, Group, Op, Want};
use crate::fixtures::hex;

const NOTES: &[(&str, &str)] = &[
    ("Example", "An example given in SPEC.md itself."),
    (
        "Literals",
        "true, false, null and scalars at the top level.",
    ),
    (
        "Whitespace",
        "Insignificant whitespace (SP, HTAB, LF, CR only) is dropped.",
    ),
    (
        "Sorting",
        "Object members are sorted by name; arrays keep their order.",
    ),
    (
        "Utf16Order",
        "Names compare as UTF-16 code units, not as code points: U+10000 sorts before U+E000.",
    ),
    (
        "EscapeOutput",
        "How string contents are written: the seven short escapes, \\u00xx for other controls, raw UTF-8 for everything else.",
    ),
    (
        "EscapeInput",
        "Escapes accepted on input, in either hex case, and what they denote.",
    ),
    ("Number", "Numbers written as ECMAScript Number::toString."),
    (
        "NumberBoundary",
        "Number rounding and range at the binary64 boundaries, both sides.",
    ),
    (
        "Depth",
        "MAX_DEPTH = 32: depth 32 is accepted, 33 is too_deep.",
    ),
    (
        "Utf8",
        "Input that is not well-formed UTF-8 (given as hex).",
    ),
    (
        "Syntax",
        "Texts that are not RFC 8259 JSON as restricted by SPEC.md §2.1.",
    ),
    (
        "Surrogate",
        "Surrogate escapes: pairs accepted, lone halves rejected.",
    ),
    (
        "Duplicate",
        "Duplicate member names, compared after unescaping.",
    ),
    ("TrailingData", "Non-whitespace after the value."),
    (
        "Precedence",
        "Several defects: the class is that of the first failing check (SPEC.md §2.5).",
    ),
];

fn t(text: &str) -> Value {
    json!({ "text": text })
}

fn h(bytes: &[u8]) -> Value {
    json!({ "hex": hex(bytes) })
}

fn nest(open: &str, close: &str, depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

pub(crate) fn area() -> Area {
    let mut area = Area::new("jcs", NOTES);
    area.push(canonical());
    area.push(numbers());
    area.push(limits());
    area.push(rejections());
    area
}

fn canonical() -> Group {
    let mut g = Group::new(
        Op::Jcs,
        "Accepted texts and their canonical bytes (stdout is JCS + LF)",
    );
    let ok = Want::Ok;
    let mut c = |comment: &str, spec: &'static str, flags: &[&'static str], input: Value| {
        g.case(comment, spec, flags, input, ok);
    };
    c(
        "the example of SPEC.md §2.2",
        "§2.2",
        &["Example", "Whitespace", "Sorting", "Number"],
        t(" { \"b\" : [1, 2.50, -0, 1e3], \"a\": \"\\u0041\\n\" } "),
    );
    c("true", "§2.2", &["Literals"], t("true"));
    c("false", "§2.2", &["Literals"], t("false"));
    c("null", "§2.2", &["Literals"], t("null"));
    c("a top-level number", "§2.1", &["Literals"], t("42"));
    c("a top-level string", "§2.1", &["Literals"], t("\"kez\""));
    c(
        "empty object and array",
        "§2.2",
        &["Literals"],
        t("[{},[],{\"a\":[]}]"),
    );
    c(
        "every whitespace byte around every token",
        "§2.1",
        &["Whitespace"],
        t("\t\r\n [ \t1\r\n, {\n\"a\"\t:\rnull } ] \n\t"),
    );
    c(
        "members sorted by name",
        "§2.2",
        &["Sorting"],
        t("{\"c\":1,\"b\":2,\"a\":3}"),
    );
    c(
        "a proper prefix sorts first",
        "§2.2",
        &["Sorting"],
        t("{\"ab\":1,\"aa\":2,\"a\":3,\"\":4}"),
    );
    c(
        "uppercase (0x41..) sorts before lowercase, digits before both",
        "§2.2",
        &["Sorting"],
        t("{\"b\":1,\"B\":2,\"1\":3,\"_\":4}"),
    );
    c(
        "each object sorted independently; array order kept",
        "§2.2",
        &["Sorting"],
        t("{\"z\":[{\"y\":1,\"x\":2},{\"b\":3,\"a\":4}],\"a\":{\"d\":5,\"c\":6}}"),
    );
    c(
        "names sorted after unescaping",
        "§2.2",
        &["Sorting", "EscapeInput"],
        t("{\"b\":1,\"\\u0061\":2,\"\\u0041\":3}"),
    );
    c(
        "U+10000 (escaped pair) sorts before U+E000",
        "§2.2",
        &["Utf16Order"],
        t("{\"\\ue000\":1,\"\\ud800\\udc00\":2}"),
    );
    c(
        "U+1F600 (raw UTF-8) sorts before U+FB33 and after U+20AC",
        "§2.2",
        &["Utf16Order"],
        t("{\"\u{fb33}\":1,\"\u{1f600}\":2,\"\u{20ac}\":3}"),
    );
    c(
        "mixed names: controls, Latin-1, BMP, supplementary",
        "§2.2",
        &["Utf16Order", "Sorting"],
        t(
            "{\"\u{2603}\":\"snowman\",\"\\n\":\"LF\",\"\u{fb01}\":\"ligature\",\"2\":\"two\",\"\u{1f389}\":\"party\",\"\u{81}\":\"C1\",\"\u{e9}\":\"e-acute\",\"Z\":\"zed\"}",
        ),
    );
    c(
        "U+FFFF sorts after U+10FFFF",
        "§2.2",
        &["Utf16Order"],
        t("{\"\u{ffff}\":1,\"\u{10ffff}\":2}"),
    );
    c(
        "the seven short escapes on output",
        "§2.2",
        &["EscapeOutput"],
        t("\"\\\"\\\\\\b\\f\\n\\r\\t\""),
    );
    c(
        "other controls as \\u00xx, lowercase hex",
        "§2.2",
        &["EscapeOutput"],
        t("\"\\u0000\\u0001\\u001F\\u000b\\u001e\""),
    );
    c(
        "solidus: \\/ and / both written /",
        "§2.2",
        &["EscapeOutput", "EscapeInput"],
        t("[\"\\/\",\"/\"]"),
    );
    c(
        "U+007F, U+2028, U+2029 written raw (escaped and raw input)",
        "§2.2",
        &["EscapeOutput"],
        t("[\"\\u007f\\u2028\\u2029\",\"\u{7f}\u{2028}\u{2029}\"]"),
    );
    c(
        "non-ASCII escapes written as UTF-8",
        "§2.2",
        &["EscapeOutput", "EscapeInput"],
        t("\"\\u00e9\\u00E9\\u20AC\\u4e2D\""),
    );
    c(
        "a surrogate pair escape becomes one 4-byte character",
        "§2.1",
        &["Surrogate", "EscapeOutput"],
        t("\"\\ud83d\\ude00\\uD83D\\uDE00\""),
    );
    c(
        "raw supplementary characters stay raw",
        "§2.2",
        &["EscapeOutput"],
        t("\"\u{1f600}\u{10ffff}\""),
    );
    c(
        "raw U+FEFF inside a string is ordinary",
        "§2.1",
        &["EscapeOutput"],
        t("\"\u{feff}\""),
    );
    c(
        "escapes in names are canonicalized too",
        "§2.2",
        &["EscapeOutput", "EscapeInput"],
        t("{\"\\u0009\\/\":1}"),
    );
    c(
        "JCS is idempotent: canonical input is returned unchanged",
        "§2.2",
        &["Sorting", "Number"],
        t("{\"a\":[1,2.5,\"\\n\"],\"b\":{\"c\":null}}"),
    );
    g
}

fn numbers() -> Group {
    let mut g = Group::new(Op::Jcs, "Numbers: value and ECMAScript output (§2.3)");
    let cases: &[(&str, &[&'static str], &str)] = &[
        (
            "negative zero and friends are 0",
            &["Example", "Number"],
            "[-0,-0.0,0e5,0.0e-5,-0e+1]",
        ),
        (
            "values that round to zero are 0",
            &["Example", "NumberBoundary"],
            "[1e-400,-1e-400,2e-324]",
        ),
        ("2.50 is 2.5", &["Example", "Number"], "[2.50]"),
        (
            "1e3 and friends are 1000",
            &["Example", "Number"],
            "[1e3,1E3,1e+3,1000.000,10e2]",
        ),
        (
            "1e20 is written out",
            &["Example", "NumberBoundary"],
            "[1e20]",
        ),
        (
            "1e21 switches to exponent form",
            &["Example", "NumberBoundary"],
            "[1e21]",
        ),
        (
            "the largest value below 1e21 is written out",
            &["NumberBoundary"],
            "[999999999999999900000]",
        ),
        (
            "0.000001 is written out",
            &["Example", "NumberBoundary"],
            "[0.000001,1e-6]",
        ),
        (
            "1e-7 switches to exponent form",
            &["NumberBoundary"],
            "[1e-7,0.0000001]",
        ),
        ("5e-7 and 1.5e-7", &["Example", "Number"], "[5e-7,1.5e-7]"),
        (
            "17 significant digits round to the shortest",
            &["Example", "Number"],
            "[123456789012345678]",
        ),
        ("2^53 + 1 rounds to 2^53", &["Number"], "[9007199254740993]"),
        (
            "2^53 - 1 is exact",
            &["Number"],
            "[9007199254740991,-9007199254740991]",
        ),
        (
            "the largest double",
            &["NumberBoundary"],
            "[1.7976931348623157e308,-1.7976931348623157e308]",
        ),
        (
            "just below the overflow boundary rounds to the largest double",
            &["NumberBoundary"],
            "[1.7976931348623158e308]",
        ),
        (
            "the smallest subnormal",
            &["NumberBoundary"],
            "[5e-324,4.9406564584124654e-324,3e-324]",
        ),
        (
            "the smallest normal",
            &["NumberBoundary"],
            "[2.2250738585072014e-308]",
        ),
        (
            "fractions",
            &["Number"],
            "[0.1,0.5,-1.5,0.3333333333333333,100.25]",
        ),
        (
            "0.1 + 0.2 as a literal",
            &["Number"],
            "[0.30000000000000004]",
        ),
        (
            "exponent forms of large and small values",
            &["Number"],
            "[1.5e300,-2.5e-300,123e-20,1e100]",
        ),
        (
            "a long decimal expansion",
            &["Number"],
            "[0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001]",
        ),
        (
            "many trailing zeros in the fraction",
            &["Number"],
            "[1.00000000000000000000000000000000000000000000000000000000000]",
        ),
        (
            "integers written without fraction or exponent",
            &["Number"],
            "[0,1,-1,10,100000,4294967296]",
        ),
        (
            "uppercase E and explicit signs",
            &["Number"],
            "[1E-2,1e+2,-1E+2]",
        ),
    ];
    for (comment, flags, text) in cases {
        g.case(*comment, "§2.3", flags, t(text), Want::Ok);
    }
    g
}

fn limits() -> Group {
    let mut g = Group::new(Op::Jcs, "MAX_DEPTH on both sides (§2.4)");
    g.case(
        "32 nested arrays are accepted",
        "§2.4",
        &["Depth"],
        t(&nest("[", "]", 32, "")),
        Want::Ok,
    );
    g.case(
        "33 nested arrays are too_deep",
        "§2.4",
        &["Depth"],
        t(&nest("[", "]", 33, "")),
        Want::Class("too_deep"),
    );
    g.case(
        "32 nested objects are accepted",
        "§2.4",
        &["Depth"],
        t(&nest("{\"a\":", "}", 31, "{}")),
        Want::Ok,
    );
    g.case(
        "33 nested objects are too_deep",
        "§2.4",
        &["Depth"],
        t(&nest("{\"a\":", "}", 32, "{}")),
        Want::Class("too_deep"),
    );
    g.case(
        "depth 32 mixing arrays and objects, scalars add no depth",
        "§2.4",
        &["Depth"],
        t(&nest("[{\"k\":", "}]", 16, "\"deep\"")),
        Want::Ok,
    );
    g.case(
        "depth 33 mixing arrays and objects",
        "§2.4",
        &["Depth"],
        t(&format!("[{}]", nest("{\"k\":[", "]}", 16, "1"))),
        Want::Class("too_deep"),
    );
    g.case(
        "1000 nested arrays are too_deep, not a crash",
        "§2.4",
        &["Depth"],
        t(&nest("[", "]", 1000, "")),
        Want::Class("too_deep"),
    );
    g.case(
        "an unclosed 33rd level is too_deep (detected at the bracket)",
        "§2.5",
        &["Depth", "Precedence"],
        t(&"[".repeat(33)),
        Want::Class("too_deep"),
    );
    g.case(
        "sibling containers at depth 32 are fine",
        "§2.4",
        &["Depth"],
        t(&nest("[", "]", 31, "[],[],{}")),
        Want::Ok,
    );
    g
}

#[allow(clippy::too_many_lines)]
fn rejections() -> Group {
    let mut g = Group::new(Op::Jcs, "Rejections and their classes (§2.1, §2.5)");
    let text: &[(&str, &[&'static str], &str, &'static str)] = &[
        ("empty input", &["Syntax"], "", "json_syntax"),
        (
            "whitespace only",
            &["Syntax", "Whitespace"],
            " \n\t",
            "json_syntax",
        ),
        ("a leading zero", &["Syntax"], "01", "json_syntax"),
        (
            "a leading zero after minus",
            &["Syntax"],
            "[-01]",
            "json_syntax",
        ),
        ("a plus sign", &["Syntax"], "+1", "json_syntax"),
        ("no integer part", &["Syntax"], ".5", "json_syntax"),
        ("no fraction digits", &["Syntax"], "1.", "json_syntax"),
        ("no exponent digits", &["Syntax"], "1e", "json_syntax"),
        (
            "no exponent digits after the sign",
            &["Syntax"],
            "[1e+]",
            "json_syntax",
        ),
        ("a lone minus", &["Syntax"], "-", "json_syntax"),
        ("NaN", &["Syntax"], "NaN", "json_syntax"),
        ("Infinity", &["Syntax"], "[Infinity]", "json_syntax"),
        ("-Infinity", &["Syntax"], "-Infinity", "json_syntax"),
        ("hex number", &["Syntax"], "[0x10]", "json_syntax"),
        (
            "a trailing comma in an array",
            &["Syntax"],
            "[1,2,]",
            "json_syntax",
        ),
        (
            "a trailing comma in an object",
            &["Syntax"],
            "{\"a\":1,}",
            "json_syntax",
        ),
        ("a missing colon", &["Syntax"], "{\"a\" 1}", "json_syntax"),
        ("a missing comma", &["Syntax"], "[1 2]", "json_syntax"),
        (
            "a missing comma between members",
            &["Syntax"],
            "{\"a\":1 \"b\":2}",
            "json_syntax",
        ),
        ("an unquoted name", &["Syntax"], "{a:1}", "json_syntax"),
        ("single quotes", &["Syntax"], "['a']", "json_syntax"),
        ("a line comment", &["Syntax"], "[1 // c\n]", "json_syntax"),
        ("a block comment", &["Syntax"], "/* c */ [1]", "json_syntax"),
        ("an unknown escape", &["Syntax"], "\"\\x\"", "json_syntax"),
        (
            "an uppercase \\U escape",
            &["Syntax"],
            "\"\\U0041\"",
            "json_syntax",
        ),
        (
            "a short \\u escape",
            &["Syntax"],
            "\"\\u12\"",
            "json_syntax",
        ),
        (
            "non-hex digits in \\u",
            &["Syntax"],
            "\"\\u00g0\"",
            "json_syntax",
        ),
        (
            "a raw TAB in a string",
            &["Syntax"],
            "\"a\tb\"",
            "json_syntax",
        ),
        (
            "a raw LF in a string",
            &["Syntax"],
            "\"a\nb\"",
            "json_syntax",
        ),
        (
            "a raw U+001F in a string",
            &["Syntax"],
            "\"\u{1f}\"",
            "json_syntax",
        ),
        (
            "a raw NUL in a string",
            &["Syntax"],
            "\"\u{0}\"",
            "json_syntax",
        ),
        (
            "a BOM before the value",
            &["Syntax"],
            "\u{feff}[1]",
            "json_syntax",
        ),
        (
            "U+00A0 is not whitespace",
            &["Syntax", "Whitespace"],
            "[1,\u{a0}2]",
            "json_syntax",
        ),
        (
            "form feed is not whitespace",
            &["Syntax", "Whitespace"],
            "[1,\u{c}2]",
            "json_syntax",
        ),
        (
            "vertical tab is not whitespace",
            &["Syntax", "Whitespace"],
            "\u{b}1",
            "json_syntax",
        ),
        ("True with a capital", &["Syntax"], "True", "json_syntax"),
        ("a truncated literal", &["Syntax"], "[tru]", "json_syntax"),
        ("an unclosed string", &["Syntax"], "\"abc", "json_syntax"),
        ("an unclosed array", &["Syntax"], "[1,2", "json_syntax"),
        ("an unclosed object", &["Syntax"], "{\"a\":1", "json_syntax"),
        ("a lone closing bracket", &["Syntax"], "]", "json_syntax"),
        (
            "a comma without elements",
            &["Syntax"],
            "[,1]",
            "json_syntax",
        ),
        ("a non-string name", &["Syntax"], "{1:2}", "json_syntax"),
        (
            "malformed hex after a high surrogate",
            &["Syntax", "Surrogate", "Example"],
            "\"\\ud83d\\u00\"",
            "json_syntax",
        ),
        (
            "a lone high surrogate",
            &["Surrogate", "Example"],
            "\"\\ud800\"",
            "lone_surrogate",
        ),
        (
            "low then high",
            &["Surrogate", "Example"],
            "\"\\udc00\\ud800\"",
            "lone_surrogate",
        ),
        (
            "high then a non-surrogate escape",
            &["Surrogate", "Example"],
            "\"\\ud83d\\u0041\"",
            "lone_surrogate",
        ),
        (
            "a lone low surrogate",
            &["Surrogate"],
            "\"\\udfff\"",
            "lone_surrogate",
        ),
        (
            "high then high",
            &["Surrogate"],
            "\"\\ud800\\ud800\\udc00\"",
            "lone_surrogate",
        ),
        (
            "high then a raw character",
            &["Surrogate"],
            "\"\\ud800x\"",
            "lone_surrogate",
        ),
        (
            "a lone surrogate in a name",
            &["Surrogate"],
            "{\"\\ud800\":1}",
            "lone_surrogate",
        ),
        (
            "1e400 overflows",
            &["NumberBoundary", "Example"],
            "[1e400]",
            "bad_number",
        ),
        (
            "-1E400 overflows",
            &["NumberBoundary", "Example"],
            "-1E400",
            "bad_number",
        ),
        (
            "just above the overflow boundary",
            &["NumberBoundary"],
            "[1.7976931348623159e308]",
            "bad_number",
        ),
        (
            "a 401-digit integer overflows",
            &["NumberBoundary"],
            "1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
            "bad_number",
        ),
        (
            "trailing word",
            &["TrailingData", "Example"],
            "[1] x",
            "trailing_data",
        ),
        (
            "two values",
            &["TrailingData", "Example"],
            "1 2",
            "trailing_data",
        ),
        (
            "an extra closing brace",
            &["TrailingData"],
            "{\"a\":1}}",
            "trailing_data",
        ),
        (
            "two strings",
            &["TrailingData"],
            "\"a\"\"b\"",
            "trailing_data",
        ),
        (
            "a trailing comma after the value",
            &["TrailingData"],
            "[1],",
            "trailing_data",
        ),
        (
            "a duplicate name",
            &["Duplicate", "Example"],
            "{\"a\":1,\"a\":2}",
            "duplicate_key",
        ),
        (
            "a duplicate name spelled with an escape",
            &["Duplicate", "Example"],
            "{\"a\":1,\"\\u0061\":2}",
            "duplicate_key",
        ),
        (
            "equal values do not excuse a duplicate",
            &["Duplicate"],
            "{\"a\":1,\"a\":1}",
            "duplicate_key",
        ),
        (
            "a duplicate in a nested object",
            &["Duplicate"],
            "{\"x\":{\"b\":1,\"b\":2}}",
            "duplicate_key",
        ),
        (
            "a duplicate inside an array",
            &["Duplicate"],
            "[1,{\"b\":[],\"b\":{}}]",
            "duplicate_key",
        ),
        (
            "a duplicate between an escaped pair and raw UTF-8",
            &["Duplicate", "Surrogate"],
            "{\"\\ud83d\\ude00\":1,\"\u{1f600}\":2}",
            "duplicate_key",
        ),
        (
            "\\/ and / are the same name",
            &["Duplicate"],
            "{\"\\/\":1,\"/\":2}",
            "duplicate_key",
        ),
        (
            "a duplicate at depth 32",
            &["Duplicate", "Depth"],
            "",
            "duplicate_key",
        ),
        (
            "a syntax error wins over an earlier duplicate",
            &["Precedence", "Duplicate", "Syntax"],
            "{\"a\":1,\"a\":2,}",
            "json_syntax",
        ),
        (
            "trailing data wins over an earlier duplicate",
            &["Precedence", "Duplicate", "TrailingData"],
            "{\"a\":1,\"a\":2} x",
            "trailing_data",
        ),
        (
            "the first defect decides: bad number, then syntax",
            &["Precedence", "NumberBoundary"],
            "[1e400,x]",
            "bad_number",
        ),
        (
            "the first defect decides: syntax, then bad number",
            &["Precedence", "Syntax"],
            "[x,1e400]",
            "json_syntax",
        ),
        (
            "the first defect decides: lone surrogate, then syntax",
            &["Precedence", "Surrogate"],
            "[\"\\ud800\",x]",
            "lone_surrogate",
        ),
        (
            "the first defect decides: too deep, then lone surrogate",
            &["Precedence", "Depth"],
            "",
            "too_deep",
        ),
    ];
    for (comment, flags, text, class) in text {
        let input = match *comment {
            "a duplicate at depth 32" => t(&nest("[", "]", 31, "{\"d\":1,\"d\":2}")),
            "the first defect decides: too deep, then lone surrogate" => {
                t(&format!("{}\"\\ud800\"{}", "[".repeat(33), "]".repeat(33)))
            }
            _ => t(text),
        };
        let spec = match *class {
            "too_deep" => "§2.4",
            "bad_number" => "§2.3",
            _ => "§2.5",
        };
        let spec = if flags.contains(&"Precedence") {
            "§2.5"
        } else {
            spec
        };
        g.case(*comment, spec, flags, input, Want::Class(class));
    }
    let bytes: &[(&str, &[&'static str], &[u8], &'static str)] = &[
        (
            "a string holding the byte 0xFF",
            &["Utf8", "Example"],
            b"\"\xff\"",
            "invalid_utf8",
        ),
        (
            "an overlong encoding of /",
            &["Utf8"],
            b"\"\xc0\xaf\"",
            "invalid_utf8",
        ),
        (
            "an encoded surrogate U+D800",
            &["Utf8"],
            b"\"\xed\xa0\x80\"",
            "invalid_utf8",
        ),
        (
            "a code point above U+10FFFF",
            &["Utf8"],
            b"\"\xf4\x90\x80\x80\"",
            "invalid_utf8",
        ),
        (
            "a truncated sequence at the end",
            &["Utf8"],
            b"\"\xe2\x82",
            "invalid_utf8",
        ),
        (
            "a lone continuation byte",
            &["Utf8"],
            b"[\x80]",
            "invalid_utf8",
        ),
        (
            "invalid UTF-8 wins over an earlier syntax error",
            &["Utf8", "Precedence", "Example"],
            b"[x,\"\xff\"]",
            "invalid_utf8",
        ),
        (
            "invalid UTF-8 outside any string",
            &["Utf8"],
            b"[1]\xff",
            "invalid_utf8",
        ),
        (
            "a NUL byte after the value",
            &["TrailingData", "Example"],
            b"[1]\x00",
            "trailing_data",
        ),
        (
            "a UTF-8 BOM (as bytes) before the value",
            &["Syntax"],
            b"\xef\xbb\xbf{}",
            "json_syntax",
        ),
    ];
    for (comment, flags, b, class) in bytes {
        let spec = if *class == "invalid_utf8" {
            "§2.1"
        } else {
            "§2.5"
        };
        g.case(*comment, spec, flags, h(b), Want::Class(class));
    }
    g
}
