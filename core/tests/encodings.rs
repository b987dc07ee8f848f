//! Markdown fences, DNS TXT lines and auto-detection (SPEC.md §9.3-§9.5).
#![allow(
    clippy::cast_possible_truncation,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kez_core::{Encoding, Error, find_fence, write_markdown, write_txt};

#[test]
fn markdown_fences() {
    assert_eq!(
        find_fence("intro\n```kez\nkez:z1:abc\n```\noutro").unwrap(),
        "kez:z1:abc"
    );
    assert_eq!(
        find_fence("```kez  \r\n{\"a\":1}\r\n```\t\r\n").unwrap(),
        "{\"a\":1}"
    );
    assert_eq!(find_fence("   ```kez\n  x\n   ```\n").unwrap(), "x");
    // multi-line JSON content is kept whole
    assert_eq!(
        find_fence("```kez\n{\n \"a\": 1\n}\n```").unwrap(),
        "{\n \"a\": 1\n}"
    );
    // the first kez fence wins; other fences are ignored
    assert_eq!(
        find_fence("```json\nno\n```\n```kez\none\n```\n```kez\ntwo\n```").unwrap(),
        "one"
    );
    for bad in [
        "```kez\nunclosed",
        "    ```kez\nfour spaces\n```",
        "```kezz\nx\n```",
        "``` kez\nx\n```",
        "no fence",
    ] {
        assert_eq!(find_fence(bad), Err(Error::BadEncoding), "{bad:?}");
    }
    let mut out = Vec::new();
    write_markdown("kez:z1:abc", &mut out).unwrap();
    assert_eq!(out, b"```kez\nkez:z1:abc\n```\n");
}

#[test]
fn dns_zone_lines() {
    let compact = format!("kez:z1:{}", "A".repeat(600));
    let mut line = Vec::new();
    write_txt(Some("alice.example"), &compact, &mut line).unwrap();
    let line = String::from_utf8(line).unwrap();
    let strings: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
    assert!(line.starts_with("_kez.alice.example. 3600 IN TXT \""));
    assert_eq!(
        strings.iter().map(|s| s.len()).collect::<Vec<_>>(),
        [255, 255, 97]
    );
    assert_eq!(strings.concat(), compact);
    let mut rdata = Vec::new();
    write_txt(None, "kez:z1:AB", &mut rdata).unwrap();
    assert_eq!(rdata, b"\"kez:z1:AB\"\n");
    assert_eq!(
        write_txt(None, "has space", &mut Vec::new()),
        Err(Error::BadEncoding)
    );
}

#[test]
fn detection() {
    let cases: [(&[u8], Result<Encoding, Error>); 8] = [
        (b"  kez:z1:abc\n", Ok(Encoding::Compact)),
        (b"\n{\"a\":1}", Ok(Encoding::Json)),
        (b"see\n```kez\nx\n```\n", Ok(Encoding::Markdown)),
        (b"\"kez:z1:abc\"", Ok(Encoding::Dns)),
        (
            b"_kez.a.example. 300 IN TXT \"kez:z1:abc\"",
            Ok(Encoding::Dns),
        ),
        (b"hello", Err(Error::BadEncoding)),
        (b"    ```kez\nx\n```\n", Err(Error::BadEncoding)),
        (b"\xff", Err(Error::InvalidUtf8 { offset: 0 })),
    ];
    for (text, want) in cases {
        assert_eq!(
            Encoding::detect(text),
            want,
            "{:?}",
            String::from_utf8_lossy(text)
        );
    }
}
