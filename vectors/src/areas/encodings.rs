//! `encodings.json`: the four encodings (SPEC.md §9): conversion between all of them (§9.6,
//! `kez claim convert`), and every decoding rule of compact (§9.2), Markdown (§9.3), DNS TXT
//! (§9.4) and auto-detection (§9.5), through `kez claim verify`.

use serde_json::{Value, json};

use crate::envelope::{Area, Group, Op, Want};
use crate::fixtures::{
    AUX0, Keys, NOW, R, T0, block, claim, compact, compact_of, ctx, dns, hex, markdown, raw_frame,
    replace_once,
};
use crate::huffman::{self, Code};

const NOTES: &[(&str, &str)] = &[
    ("Example", "An example of SPEC.md itself (§9.2–§9.5)."),
    (
        "Convert",
        "claim convert: to json the stdout is exact; to the other encodings the runner decodes stdout and compares with stdout_decoded.",
    ),
    (
        "NotVerified",
        "claim convert parses but does not verify: a bad signature or an expired claim still converts.",
    ),
    (
        "ManyCompact",
        "One claim has many compact strings (other frames): all decode to the same canonical bytes.",
    ),
    ("Frame", "The zstd frame rules of §9.2 steps 4–9."),
    ("Window", "MAX_WINDOW = 131072, both sides."),
    (
        "DecodedSize",
        "MAX_DECOMPRESSED = 65536 (declared or decoded), both sides.",
    ),
    ("Checksum", "The optional XXH64 content checksum."),
    (
        "HuffmanStreams",
        "Huffman-coded literals (§9.2 step 7): with four streams each of the first three decodes exactly (Regenerated_Size + 3) / 4 symbols and the fourth the rest, with one stream all of them, and every bitstream ends exactly after its symbols; four streams below 6 literals are refused. The hand-built frames use direct weights; the libzstd frames use FSE-compressed weights.",
    ),
    ("Base64", "Strict unpadded base64url (§9.2 step 3)."),
    (
        "CompactLength",
        "MAX_COMPACT_LEN = 90112 (prefix included), both sides; a text of exactly 90112 characters is never valid base64 (length mod 4 = 1) and fails later.",
    ),
    (
        "Canonical",
        "The compact payload must be an accepted JSON text equal to its own JCS form (§9.2 step 10).",
    ),
    ("Markdown", "The kez fence (§9.3)."),
    ("Dns", "TXT zone lines and RDATA (§9.4)."),
    (
        "TxtLength",
        "DNS character-strings of 1–255 bytes, and joined strings of at most 90112 bytes, both sides.",
    ),
    ("Detection", "Auto-detection of the encoding (§9.5)."),
    ("Utf8", "Input that is not UTF-8 (given as hex)."),
];

fn v(text: &str) -> Value {
    json!({"text": text, "now": NOW})
}

fn conv(text: &str, to: &str) -> Value {
    json!({"text": text, "to": to})
}

pub(crate) fn area(keys: &Keys) -> R<Area> {
    let mut area = Area::new("encodings", NOTES);
    area.push(conversions(keys)?);
    area.push(compact_rules(keys)?);
    area.push(markdown_rules(keys)?);
    area.push(dns_rules(keys)?);
    area.push(detection(keys)?);
    Ok(area)
}

fn conversions(keys: &Keys) -> R<Group> {
    let mut g = Group::new(
        Op::ClaimConvert,
        "claim convert between all four encodings (§9.6)",
    );
    let claims = [
        (
            "Ed25519 github:alice (§5.6)",
            claim(&keys.a, "github:alice", T0, None, &AUX0)?,
        ),
        (
            "Ed25519 dns subject with exp (§5.6)",
            claim(
                &keys.a,
                "dns:Bücher.Example.",
                T0,
                Some(1_795_651_200),
                &AUX0,
            )?,
        ),
        (
            "nostr github:alice (§5.6)",
            claim(&keys.n, "github:alice", T0, None, &AUX0)?,
        ),
    ];
    for (name, c) in &claims {
        let forms = [
            ("json", format!("{c}\n")),
            ("compact", format!("{}\n", compact(c)?)),
            ("markdown", markdown(c)?),
            ("dns", dns(c)?),
        ];
        for (from, text) in &forms {
            for to in ["json", "compact", "markdown", "dns"] {
                g.case(
                    format!("{name}: {from} to {to}"),
                    "§9.6",
                    &["Convert", "Example"],
                    conv(text, to),
                    Want::Ok,
                );
            }
        }
    }
    let c0 = &claims.first().ok_or("claims")?.1;
    let key = keys.a.public().to_string();
    let sig = crate::fixtures::string_member(c0, "sig")?;
    let pretty = format!(
        "{{\n  \"type\": \"kez-claim-v1\",\n  \"subject\": \"github:alice\",\n  \"sig\": \"{sig}\",\n  \"key\": \"{key}\",\n  \"\\u0069at\": 1764115200\n}}\n"
    );
    g.case(
        "non-canonical JSON converts to the canonical form",
        "§9.6",
        &["Convert"],
        conv(&pretty, "json"),
        Want::Ok,
    );
    g.case(
        "non-canonical JSON converts to compact",
        "§9.6",
        &["Convert"],
        conv(&pretty, "compact"),
        Want::Ok,
    );
    let bad_sig = replace_once(c0, "1764115200", "1764115201")?;
    g.case(
        "a claim whose signature does not verify still converts",
        "§11.5",
        &["Convert", "NotVerified"],
        conv(&bad_sig, "json"),
        Want::Ok,
    );
    let expired = claim(&keys.a, "github:alice", 1, Some(2), &AUX0)?;
    g.case(
        "an expired claim still converts",
        "§11.5",
        &["Convert", "NotVerified"],
        conv(&expired, "dns"),
        Want::Ok,
    );
    let raw = compact_of(&raw_frame(&[0x00, 0x38], c0.as_bytes())?);
    g.case(
        "a compact string from another frame (raw block) converts to the same JSON",
        "§9.2",
        &["Convert", "ManyCompact"],
        conv(&raw, "json"),
        Want::Ok,
    );
    g.case(
        "convert fails like verify on a malformed claim",
        "§11.5",
        &["Convert"],
        conv(&replace_once(c0, "kez-claim-v1", "x")?, "json"),
        Want::Class("bad_claim"),
    );
    g.case(
        "convert fails on an undetectable input",
        "§11.5",
        &["Convert", "Detection"],
        conv("hello", "json"),
        Want::Class("bad_encoding"),
    );
    g.case(
        "convert fails on a bad frame",
        "§11.5",
        &["Convert", "Frame"],
        conv("kez:z1:", "json"),
        Want::Class("bad_compression"),
    );
    Ok(g)
}

/// A frame whose header and trailing empty raw blocks bring its base64url text to exactly
/// `b64_len` characters.
fn padded_compact(content: &[u8], b64_len: usize) -> R<String> {
    if b64_len % 4 == 1 {
        return Err("no byte string has a base64 length = 1 mod 4".into());
    }
    let total = b64_len / 4 * 3
        + match b64_len % 4 {
            2 => 1,
            3 => 2,
            _ => 0,
        };
    let len = content.len();
    let fcs = u16::try_from(len.checked_sub(256).ok_or("content under 256 bytes")?)
        .map_err(|e| e.to_string())?
        .to_le_bytes();
    let [f0, f1] = fcs;
    // three header shapes of 2, 4 and 3 bytes after the magic: one fits each length mod 3
    let headers: [Vec<u8>; 3] = [
        vec![0x00, 0x38],
        vec![0x40, 0x38, f0, f1],
        vec![0x60, f0, f1],
    ];
    for header in headers {
        let used = 4 + header.len() + 3 + len;
        let Some(rest) = total.checked_sub(used) else {
            continue;
        };
        if rest % 3 != 0 || rest == 0 {
            continue;
        }
        let mut f = vec![0x28, 0xB5, 0x2F, 0xFD];
        f.extend_from_slice(&header);
        f.extend(block(
            false,
            0,
            u32::try_from(len).map_err(|e| e.to_string())?,
            content,
        ));
        let empties = rest / 3;
        for i in 0..empties {
            f.extend(block(i + 1 == empties, 0, 0, &[]));
        }
        let text = compact_of(&f);
        if text.len() != 7 + b64_len {
            return Err("padded_compact: wrong length".into());
        }
        return Ok(text);
    }
    Err("padded_compact: no header fits".into())
}

/// A text of quoted DNS strings of at most 255 bytes each.
fn quoted(s: &str, chunk: usize) -> String {
    s.as_bytes()
        .chunks(chunk)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[allow(clippy::too_many_lines)]
fn compact_rules(keys: &Keys) -> R<Group> {
    let mut g = Group::new(Op::ClaimVerify, "Compact decoding (§9.2)");
    let c0 = claim(&keys.a, "github:alice", T0, None, &AUX0)?;
    let body = c0.as_bytes();
    let len = u32::try_from(body.len()).map_err(|e| e.to_string())?;
    let reference = compact(&c0)?;
    let frame = |header: &[u8]| raw_frame(header, body);
    let with_blocks = |header: &[u8], blocks: &[Vec<u8>]| -> String {
        let mut f = vec![0x28, 0xB5, 0x2F, 0xFD];
        f.extend_from_slice(header);
        for b in blocks {
            f.extend_from_slice(b);
        }
        compact_of(&f)
    };
    let fcs2 = u16::try_from(body.len() - 256)
        .map_err(|e| e.to_string())?
        .to_le_bytes();
    let [f0, f1] = fcs2;
    let le4 = |n: u32| n.to_le_bytes();
    let mut ok: Vec<(&str, String, &[&'static str])> = vec![
        (
            "the reference compact string of §9.2",
            reference.clone(),
            &["Example"],
        ),
        (
            "the reference compact string with surrounding whitespace",
            format!(" \t\r\n{reference}\r\n \n"),
            &["Detection"],
        ),
        (
            "one raw block, window descriptor 0x38 (131072)",
            compact_of(&frame(&[0x00, 0x38])?),
            &["ManyCompact", "Window", "Frame"],
        ),
        (
            "single segment with a 2-byte Frame_Content_Size equal to the size",
            compact_of(&frame(&[0x60, f0, f1])?),
            &["ManyCompact", "Frame"],
        ),
        (
            "a 4-byte Frame_Content_Size equal to the size",
            compact_of(&frame(&[
                0x80,
                0x38,
                le4(len)[0],
                le4(len)[1],
                le4(len)[2],
                le4(len)[3],
            ])?),
            &["ManyCompact", "Frame"],
        ),
        (
            "the Unused bit 4 set is ignored",
            compact_of(&frame(&[0x10, 0x38])?),
            &["ManyCompact", "Frame"],
        ),
        (
            "a small window (descriptor 0x00, 1 KiB)",
            compact_of(&frame(&[0x00, 0x00])?),
            &["ManyCompact", "Window"],
        ),
        (
            "the claim split over three raw blocks",
            with_blocks(
                &[0x00, 0x38],
                &[
                    block(false, 0, 10, body.get(..10).unwrap_or_default()),
                    block(false, 0, 0, &[]),
                    block(true, 0, len - 10, body.get(10..).unwrap_or_default()),
                ],
            ),
            &["ManyCompact", "Frame"],
        ),
        (
            "an RLE block inside the claim",
            {
                // the signature has no long runs; the subject "aaaa" is one
                let ca = claim(&keys.a, "github:aaaa", T0, None, &AUX0)?;
                let at = ca.find("aaaa").ok_or("run")?;
                let (head, tail) = ca.split_at(at);
                let tail = tail.get(4..).unwrap_or_default();
                with_blocks(
                    &[0x00, 0x38],
                    &[
                        block(
                            false,
                            0,
                            u32::try_from(head.len()).map_err(|e| e.to_string())?,
                            head.as_bytes(),
                        ),
                        block(false, 1, 4, b"a"),
                        block(
                            true,
                            0,
                            u32::try_from(tail.len()).map_err(|e| e.to_string())?,
                            tail.as_bytes(),
                        ),
                    ],
                )
            },
            &["ManyCompact", "Frame"],
        ),
        (
            "90111 characters (padded with empty raw blocks) pass the length check and verify",
            padded_compact(body, 90_104)?,
            &["CompactLength"],
        ),
    ];
    for (what, text, flags) in ok.drain(..) {
        g.case(what, "§9.2", flags, v(&text), Want::Ok);
    }
    let frame38 = frame(&[0x00, 0x38])?;
    let ref_bytes = {
        let b64 = reference.strip_prefix("kez:z1:").ok_or("prefix")?;
        decode_b64url(b64)?
    };
    let mut flip_last = ref_bytes.clone();
    if let Some(b) = flip_last.last_mut() {
        *b ^= 0xff;
    }
    let no_checksum = ref_bytes
        .get(..ref_bytes.len() - 4)
        .unwrap_or_default()
        .to_vec();
    let a65534 = vec![
        block(false, 0, 1, b"\""),
        block(false, 1, 65_534, b"a"),
        block(true, 0, 1, b"\""),
    ];
    let a65535 = vec![
        block(false, 0, 1, b"\""),
        block(false, 1, 65_535, b"a"),
        block(true, 0, 1, b"\""),
    ];
    let bomb: Vec<Vec<u8>> = (0..80).map(|i| block(i == 79, 1, 131_072, &[0])).collect();
    let spaced = replace_once(&c0, "{", "{ ")?;
    let reordered = {
        let key = keys.a.public().to_string();
        let sig = crate::fixtures::string_member(&c0, "sig")?;
        format!(
            "{{\"key\":\"{key}\",\"iat\":1764115200,\"sig\":\"{sig}\",\"subject\":\"github:alice\",\"type\":\"kez-claim-v1\"}}"
        )
    };
    let b64 = reference.strip_prefix("kez:z1:").ok_or("prefix")?;
    let bad: Vec<(&str, String, &[&'static str], &'static str)> = vec![
        (
            "window descriptor 0x39 (147456)",
            compact_of(&frame(&[0x00, 0x39])?),
            &["Window", "Frame"],
            "bad_compression",
        ),
        (
            "window descriptor 0xff",
            compact_of(&frame(&[0x00, 0xff])?),
            &["Window", "Frame"],
            "bad_compression",
        ),
        (
            "single segment declaring 200000 bytes: the window is too large",
            compact_of(&frame(&[
                0xA0,
                le4(200_000)[0],
                le4(200_000)[1],
                le4(200_000)[2],
                le4(200_000)[3],
            ])?),
            &["Window", "DecodedSize", "Example"],
            "bad_compression",
        ),
        (
            "single segment declaring 70000 bytes: too_large",
            compact_of(&frame(&[
                0xA0,
                le4(70_000)[0],
                le4(70_000)[1],
                le4(70_000)[2],
                le4(70_000)[3],
            ])?),
            &["DecodedSize", "Example"],
            "too_large",
        ),
        (
            "window 0x38 and a declared size of 70000: too_large",
            compact_of(&frame(&[
                0x80,
                0x38,
                le4(70_000)[0],
                le4(70_000)[1],
                le4(70_000)[2],
                le4(70_000)[3],
            ])?),
            &["DecodedSize"],
            "too_large",
        ),
        (
            "a declared size one more than the content",
            compact_of(&frame(&[
                0x80,
                0x38,
                le4(len + 1)[0],
                le4(len + 1)[1],
                le4(len + 1)[2],
                le4(len + 1)[3],
            ])?),
            &["Frame", "DecodedSize"],
            "bad_compression",
        ),
        (
            "a declared size one less than the content",
            compact_of(&frame(&[0x60, f0.wrapping_sub(1), f1])?),
            &["Frame", "DecodedSize"],
            "bad_compression",
        ),
        (
            "exactly 65536 decoded bytes pass (a JSON string, then bad_claim)",
            with_blocks(&[0x00, 0x38], &a65534),
            &["DecodedSize"],
            "bad_claim",
        ),
        (
            "65537 decoded bytes: too_large",
            with_blocks(&[0x00, 0x38], &a65535),
            &["DecodedSize"],
            "too_large",
        ),
        (
            "a decompression bomb: 80 RLE blocks of 128 KiB",
            with_blocks(&[0x00, 0x38], &bomb),
            &["DecodedSize"],
            "too_large",
        ),
        (
            "the Reserved bit 3 set",
            compact_of(&frame(&[0x08, 0x38])?),
            &["Frame"],
            "bad_compression",
        ),
        (
            "a Dictionary_ID",
            compact_of(&frame(&[0x01, 0x38, 0x07])?),
            &["Frame"],
            "bad_compression",
        ),
        (
            "a 4-byte Dictionary_ID flag",
            compact_of(&frame(&[0x03, 0x38, 1, 0, 0, 0])?),
            &["Frame"],
            "bad_compression",
        ),
        (
            "a wrong magic number",
            compact_of(
                &[
                    vec![0x28, 0xB5, 0x2F, 0xFE],
                    frame38.get(4..).unwrap_or_default().to_vec(),
                ]
                .concat(),
            ),
            &["Frame"],
            "bad_compression",
        ),
        (
            "only the magic number",
            compact_of(&[0x28, 0xB5, 0x2F, 0xFD]),
            &["Frame"],
            "bad_compression",
        ),
        (
            "an empty rest decodes to zero bytes (§9.2 step 3)",
            "kez:z1:".to_owned(),
            &["Frame", "Example"],
            "bad_compression",
        ),
        (
            "a skippable frame before the frame",
            compact_of(&[vec![0x50, 0x2A, 0x4D, 0x18, 0, 0, 0, 0], frame38.clone()].concat()),
            &["Frame"],
            "bad_compression",
        ),
        (
            "a skippable frame after the frame",
            compact_of(&[frame38.clone(), vec![0x50, 0x2A, 0x4D, 0x18, 0, 0, 0, 0]].concat()),
            &["Frame"],
            "bad_compression",
        ),
        (
            "two frames",
            compact_of(&[frame38.clone(), frame38.clone()].concat()),
            &["Frame"],
            "bad_compression",
        ),
        (
            "one trailing zero byte",
            compact_of(&[frame38.clone(), vec![0]].concat()),
            &["Frame"],
            "bad_compression",
        ),
        (
            "a truncated raw block",
            compact_of(frame38.get(..frame38.len() - 20).unwrap_or_default()),
            &["Frame"],
            "bad_compression",
        ),
        (
            "a block of the reserved type 3",
            with_blocks(&[0x00, 0x38], &[block(true, 3, len, body)]),
            &["Frame"],
            "bad_compression",
        ),
        (
            "no last block",
            with_blocks(&[0x00, 0x38], &[block(false, 0, len, body)]),
            &["Frame"],
            "bad_compression",
        ),
        (
            "a content checksum that does not match",
            compact_of(&flip_last),
            &["Checksum"],
            "bad_compression",
        ),
        (
            "the checksum flag set but no checksum",
            compact_of(&no_checksum),
            &["Checksum"],
            "bad_compression",
        ),
        (
            "a payload with one extra space: non_canonical",
            compact_of(&raw_frame(&[0x00, 0x38], spaced.as_bytes())?),
            &["Canonical"],
            "non_canonical",
        ),
        (
            "a payload with reordered members: non_canonical",
            compact_of(&raw_frame(&[0x00, 0x38], reordered.as_bytes())?),
            &["Canonical"],
            "non_canonical",
        ),
        (
            "the reference encoder on a non-canonical payload",
            kez_core::encode_compact(spaced.as_bytes()),
            &["Canonical"],
            "non_canonical",
        ),
        (
            "an empty payload: json_syntax",
            with_blocks(&[0x00, 0x38], &[block(true, 0, 0, &[])]),
            &["Canonical", "Example"],
            "json_syntax",
        ),
        (
            "a payload that is not UTF-8",
            compact_of(&raw_frame(&[0x00, 0x38], b"\"\xff\"")?),
            &["Canonical"],
            "invalid_utf8",
        ),
        (
            "a payload with a duplicate member",
            compact_of(&raw_frame(&[0x00, 0x38], b"{\"a\":1,\"a\":1}")?),
            &["Canonical"],
            "duplicate_key",
        ),
        (
            "a payload with an overflowing number",
            compact_of(&raw_frame(&[0x00, 0x38], b"[1e400]")?),
            &["Canonical"],
            "bad_number",
        ),
        (
            "a canonical payload that is not an object: bad_claim",
            compact_of(&raw_frame(&[0x00, 0x38], b"[1]")?),
            &["Canonical"],
            "bad_claim",
        ),
        (
            "padding = after the base64",
            format!("{reference}="),
            &["Base64"],
            "bad_encoding",
        ),
        (
            "the standard alphabet (+ and /)",
            format!("kez:z1:{}", b64.replace('-', "+").replace('_', "/")),
            &["Base64"],
            "bad_encoding",
        ),
        (
            "a space inside the base64",
            format!(
                "kez:z1:{} {}",
                b64.get(..100).unwrap_or_default(),
                b64.get(100..).unwrap_or_default()
            ),
            &["Base64"],
            "bad_encoding",
        ),
        (
            "a line break inside the base64",
            format!(
                "kez:z1:{}\n{}",
                b64.get(..100).unwrap_or_default(),
                b64.get(100..).unwrap_or_default()
            ),
            &["Base64"],
            "bad_encoding",
        ),
        (
            "a base64 length of 1 mod 4",
            format!("{reference}{}", "A".repeat((5 - b64.len() % 4) % 4)),
            &["Base64"],
            "bad_encoding",
        ),
        (
            "non-zero unused bits in the last character",
            nonzero_tail(&frame38)?,
            &["Base64"],
            "bad_encoding",
        ),
        (
            "a character outside base64url",
            format!("{reference}!"),
            &["Base64"],
            "bad_encoding",
        ),
        (
            "90112 characters: past the length check, fails as base64",
            format!("kez:z1:{}", "A".repeat(90_105)),
            &["CompactLength", "Base64"],
            "bad_encoding",
        ),
        (
            "90113 characters: too_large",
            format!("kez:z1:{}", "A".repeat(90_106)),
            &["CompactLength"],
            "too_large",
        ),
        (
            "90113 characters of otherwise valid compact text: too_large",
            padded_compact(body, 90_106)?,
            &["CompactLength"],
            "too_large",
        ),
    ];
    for (what, text, flags, class) in bad {
        // the canonical member order is that of §5.2
        let spec = if what.contains("reordered") {
            "§5.2"
        } else {
            "§9.2"
        };
        g.case(what, spec, flags, v(&text), Want::Class(class));
    }
    huffman_rules(keys, &mut g)?;
    Ok(g)
}

/// A frame of libzstd 1.5.7 (level 3, with checksum) holding the claim `github:alice` of §5.6:
/// one compressed block whose 275 literals are Huffman-coded in four streams with
/// FSE-compressed weights, then sequences.
const LIBZSTD_CLAIM: &str = "28b52ffd641b007d060036d1301b7037ed108906ce41147f987eb31bfaff218c294c611d9da3aa7a46280027002500f86aceb166d4df7337f57bb6fb2e29b1daa162c6b94ce25f46193ca20a6624efd0e819a54047210426df08a31b562c8d47f13d51c13727ad4997518783a00ab57c25931c1ab3ed7e29dd12f1b1623c28956e6e7ec3b44b34d5c81fafebeefe1f2d6a309914e7b57ca379cc1a62647c3fad9f1a9909750506810325da70f08832ea070c1455a8ef23810c5e00288e4319a5e80fe0051aee7f2adfee63fa648ebb7902002cc344e80cca19b19cd27c";

/// The fuzz finding of `fuzz/README.md`: a libzstd frame (3000 bytes of text) with seven bytes
/// of its block changed, whose four Huffman streams hold 345, 346, 345 and 344 of 1380 literals.
const SHARES_DIFFER: &[u8] =
    include_bytes!("../../../fuzz/regressions/compact_zstd/huffman-stream-shares-differ.zst");
/// The same libzstd frame with three bytes changed: the fourth stream holds 344 symbols where
/// 345 are due (1379 in all).
const FOURTH_SHORT: &[u8] =
    include_bytes!("../../../fuzz/seeds/compact_zstd/c-decodes-kez-refuses.zst");

fn unhex(s: &str) -> R<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|d| u8::from_str_radix(d, 16).ok())
                .ok_or_else(|| "unhex".to_owned())
        })
        .collect()
}

/// Huffman-coded literals (§9.2 step 7): each stream decodes exactly its share and ends exactly
/// there. Most frames are built by hand (`crate::huffman`) around the claim of §5.6, so a
/// stream can be given a symbol more or fewer than its share while the total stays right: a
/// decoder that reads each stream until its bits run out and checks only the total decodes
/// several of the invalid ones to the very claim, and libzstd's fast Huffman decoder (every
/// stream at least 8 bytes) fills each share without checking where the stream ends.
#[allow(clippy::too_many_lines)]
fn huffman_rules(keys: &Keys, g: &mut Group) -> R<()> {
    let c0 = claim(&keys.a, "github:alice", T0, None, &AUX0)?;
    let body = c0.as_bytes();
    let n = body.len();
    let code = Code::for_bytes(body)?;
    let share = n.div_ceil(4);
    let rest = n - 3 * share;
    // consecutive pieces of `lits` of these sizes
    let split = |lits: &'_ [u8], sizes: &[usize]| -> R<Vec<Vec<u8>>> {
        let mut at = 0;
        let mut out = Vec::new();
        for &s in sizes {
            out.push(lits.get(at..at + s).ok_or("split")?.to_vec());
            at += s;
        }
        Ok(out)
    };
    let huff = |lits: &[u8], sizes: &[usize], regenerated: usize, tree: bool, last: bool| {
        let parts = split(lits, sizes)?;
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        huffman::literals_block(&code, &refs, regenerated, tree, last)
    };
    let raw = |lits: &[u8]| -> R<Vec<u8>> {
        Ok(block(
            true,
            0,
            u32::try_from(lits.len()).map_err(|e| e.to_string())?,
            lits,
        ))
    };
    let frame = |blocks: &[Vec<u8>]| {
        let mut f = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38];
        for b in blocks {
            f.extend_from_slice(b);
        }
        compact_of(&f)
    };
    let libzstd = unhex(LIBZSTD_CLAIM)?;
    let mut decoded = vec![0u8; kez_core::MAX_DECOMPRESSED];
    let len = ctx(
        "libzstd frame",
        kez_core::zstd_decode_bounded(&libzstd, &mut decoded, kez_core::MAX_WINDOW),
    )?;
    if decoded.get(..len) != Some(body) {
        return Err("the libzstd frame does not hold the claim of §5.6".into());
    }
    // the reference encoder writes four streams once a block has more than 1024 literals
    let mut long = String::from("\"");
    for i in 0..400u32 {
        long.push_str(&format!("{:08x}", i.wrapping_mul(2_654_435_761)));
    }
    long.push('"');
    let reference = kez_core::encode_compact(long.as_bytes());
    let reference_frame = decode_b64url(reference.get(7..).unwrap_or_default())?;
    // descriptor 04 and window 38: the Block_Header at 6, the literals header at 9
    match reference_frame.get(9) {
        Some(&b) if b & 0b11 == 2 && (b >> 2) & 0b11 != 0 => {}
        _ => return Err("the reference encoder wrote no four-stream Huffman literals".into()),
    }
    // the last literal of the first block of the one-stream cut-short case: its code ends in 0
    let cut = (2..=n)
        .rev()
        .find(|&k| body.get(k - 1).is_some_and(|&b| code.ends_in_zero(b)))
        .ok_or("no literal whose code ends in 0")?;
    let (head, tail) = body.split_at(cut);
    let one_cut = {
        let stream = code.stream_cut_short(head)?;
        let first =
            huffman::literals_block_of_streams(&code, &[stream], cut, true, tail.is_empty())?;
        if tail.is_empty() {
            frame(&[first])
        } else {
            frame(&[first, raw(tail)?])
        }
    };
    let half = n / 2;
    let (h1, h2) = body.split_at(half);
    let q1 = half.div_ceil(4);
    let q2 = (n - half).div_ceil(4);
    let treeless = |sizes: &[usize]| -> R<String> {
        Ok(frame(&[
            huff(h1, &[q1, q1, q1, half - 3 * q1], half, true, false)?,
            huff(h2, sizes, n - half, false, true)?,
        ]))
    };
    let s = share;
    let ok: Vec<(String, String, &[&'static str])> = vec![
        (
            format!(
                "four Huffman streams holding exactly their shares ({s}, {s}, {s}, {rest} of {n} literals)"
            ),
            frame(&[huff(body, &[s, s, s, rest], n, true, true)?]),
            &["HuffmanStreams", "ManyCompact"],
        ),
        (
            format!("one Huffman stream holding all {n} literals"),
            frame(&[huff(body, &[n], n, true, true)?]),
            &["HuffmanStreams", "ManyCompact"],
        ),
        (
            "a libzstd frame: four Huffman streams, FSE-compressed weights, sequences".to_owned(),
            compact_of(&libzstd),
            &["HuffmanStreams", "ManyCompact"],
        ),
        (
            "Regenerated_Size 6 in four streams: shares 2, 2, 2 and an empty fourth stream"
                .to_owned(),
            frame(&[
                huff(body, &[2, 2, 2, 0], 6, true, false)?,
                raw(body.get(6..).unwrap_or_default())?,
            ]),
            &["HuffmanStreams", "ManyCompact"],
        ),
        (
            "a treeless literals section (type 3) reusing the previous block's Huffman tree"
                .to_owned(),
            treeless(&[q2, q2, q2, n - half - 3 * q2])?,
            &["HuffmanStreams", "ManyCompact"],
        ),
    ];
    for (what, text, flags) in ok {
        g.case(what, "§9.2", flags, v(&text), Want::Ok);
    }
    g.case(
        "the reference encoder's four Huffman streams (a 3202-byte JSON string): the frame passes, then bad_claim",
        "§9.2",
        &["HuffmanStreams"],
        v(&reference),
        Want::Class("bad_claim"),
    );
    let bad: Vec<(String, String)> = vec![
        (
            format!("streams of {}, {}, {s}, {rest} literals: the total is right, the first stream holds one too many, the second one too few (checking only the total decodes the claim)", s + 1, s - 1),
            frame(&[huff(body, &[s + 1, s - 1, s, rest], n, true, true)?]),
        ),
        (
            format!("streams of {s}, {}, {s}, {}: the second stream one too many, the fourth one too few", s + 1, rest - 1),
            frame(&[huff(body, &[s, s + 1, s, rest - 1], n, true, true)?]),
        ),
        (
            format!("the fourth stream holds {} literals where {rest} are due (Regenerated_Size {n})", rest - 1),
            frame(&[huff(body, &[s, s, s, rest - 1], n, true, true)?]),
        ),
        (
            "a treeless section whose first stream holds one literal too many, the second one too few".to_owned(),
            treeless(&[q2 + 1, q2 - 1, q2, n - half - 3 * q2])?,
        ),
        (
            format!("one Huffman stream holding {} literals for a Regenerated_Size of {n}", n + 1),
            frame(&[huffman::literals_block(
                &code,
                &[&[body, b"}"].concat()],
                n,
                true,
                true,
            )?]),
        ),
        (
            "one Huffman stream whose last code is cut short: its trailing 0 bits are missing (reading zeros past the end finds every literal)".to_owned(),
            one_cut,
        ),
        (
            "four streams of one literal each: Regenerated_Size 4 is below 6, though every stream holds its share".to_owned(),
            frame(&[
                huff(body, &[1, 1, 1, 1], 4, true, false)?,
                raw(body.get(4..).unwrap_or_default())?,
            ]),
        ),
        (
            "the fuzz finding: a libzstd frame whose streams hold 345, 346, 345, 344 of 1380 literals".to_owned(),
            compact_of(SHARES_DIFFER),
        ),
        (
            "a libzstd frame whose fourth stream holds 344 literals where 345 are due".to_owned(),
            compact_of(FOURTH_SHORT),
        ),
    ];
    // the one-stream block of the whole claim with its tree description raised: codes unchanged
    let raised = {
        let mut b = huff(body, &[n], n, true, true)?;
        let plain = code.description()?;
        let up = code.description_raised()?;
        // Block_Header (3), then a 3-byte literals header (Size_Format 00), then the description
        let at = 3 + 3;
        if b.get(at..at + plain.len()) != Some(plain.as_slice()) {
            return Err("raised tree: the description is not where expected".into());
        }
        b.splice(at..at + plain.len(), up);
        frame(&[b])
    };
    // the libzstd frame with bit 0 of its Symbol_Compression_Modes set (its checksum still holds:
    // the bit changes nothing a lenient decoder reads)
    let reserved = {
        let mut f = libzstd.clone();
        let at = sequences_modes_offset(&f)?;
        let modes = f.get_mut(at).ok_or("modes byte")?;
        if *modes & 0b11 != 0 {
            return Err("the libzstd frame already sets a reserved bit".into());
        }
        *modes |= 1;
        compact_of(&f)
    };
    let bad = [
        bad,
        vec![
            (
                "a Huffman tree description with no weight-1 symbol: every weight one higher, the same codes under a table one bit deeper".to_owned(),
                raised,
            ),
            (
                "the libzstd frame with a reserved bit of Symbol_Compression_Modes set".to_owned(),
                reserved,
            ),
        ],
    ]
    .concat();
    for (what, text) in bad {
        g.case(
            what,
            "§9.2",
            &["HuffmanStreams"],
            v(&text),
            Want::Class("bad_compression"),
        );
    }
    Ok(())
}

/// The offset of the Symbol_Compression_Modes byte in a frame of one compressed block with
/// Huffman-coded literals and sequences (the libzstd frame): frame header, Block_Header, literals
/// section, Number_of_Sequences.
fn sequences_modes_offset(f: &[u8]) -> R<usize> {
    let byte = |i: usize| f.get(i).copied().map(usize::from).ok_or("truncated frame");
    let fhd = byte(4)?;
    let single = fhd >> 5 & 1 == 1;
    let fcs = [usize::from(single), 2, 4, 8]
        .get(fhd >> 6)
        .copied()
        .ok_or("fcs")?;
    let did = [0, 1, 2, 4].get(fhd & 3).copied().ok_or("did")?;
    let block = 5 + usize::from(!single) + did + fcs;
    let lit = block + 3;
    let b0 = byte(lit)?;
    if b0 & 0b11 != 2 {
        return Err("expected Huffman-coded literals".into());
    }
    let (header_len, bits) = match b0 >> 2 & 0b11 {
        0 | 1 => (3, 10),
        2 => (4, 14),
        _ => (5, 18),
    };
    let mut h = 0usize;
    for i in (0..header_len).rev() {
        h = h << 8 | byte(lit + i)?;
    }
    let compressed = h >> (4 + bits) & ((1 << bits) - 1);
    let seq = lit + header_len + compressed;
    Ok(seq
        + match byte(seq)? {
            0 => return Err("no sequences".into()),
            1..=127 => 1,
            128..=254 => 2,
            _ => 3,
        })
}

fn decode_b64url(s: &str) -> R<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let d = ALPHABET
            .iter()
            .position(|&a| a == c)
            .ok_or("not base64url")?;
        acc = (acc << 6) | u32::try_from(d).map_err(|e| e.to_string())?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).map_err(|e| e.to_string())?);
        }
    }
    Ok(out)
}

/// The compact text of `frame` with a non-zero unused low bit in its last character (the frame
/// length must not be a multiple of 3).
fn nonzero_tail(frame: &[u8]) -> R<String> {
    let mut f = frame.to_vec();
    if f.len() % 3 == 0 {
        f.push(0);
    }
    let text = compact_of(&f);
    let mut bytes = text.into_bytes();
    let last = bytes.last_mut().ok_or("empty")?;
    // every unused bit is zero in a correct encoding; set the lowest one
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let d = ALPHABET
        .iter()
        .position(|&a| a == *last)
        .ok_or("alphabet")?;
    *last = *ALPHABET.get(d | 1).ok_or("alphabet")?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

#[allow(clippy::too_many_lines)]
fn markdown_rules(keys: &Keys) -> R<Group> {
    let mut g = Group::new(Op::ClaimVerify, "Markdown fences (§9.3)");
    let c0 = claim(&keys.a, "github:alice", T0, None, &AUX0)?;
    let cp = compact(&c0)?;
    let md = markdown(&c0)?;
    let ok: Vec<(&str, String)> = vec![
        ("the fence of §9.3", md.clone()),
        (
            "text before and after the block",
            format!("# My proof\n\nThis is me.\n\n{md}\nBye.\n"),
        ),
        (
            "fence lines indented by 3 spaces",
            format!("intro\n   ```kez\n{cp}\n   ```\n"),
        ),
        (
            "an opening fence on the first line, indented by 3 spaces",
            format!("   ```kez\n{cp}\n```\n"),
        ),
        (
            "trailing spaces, tabs and CR on fence lines",
            format!("intro\n```kez \t\r\n{cp}\n``` \r\n"),
        ),
        (
            "CRLF line endings",
            format!("intro\r\n```kez\r\n{cp}\r\n```\r\n"),
        ),
        (
            "blank lines around the content",
            format!("```kez\n\n  {cp}  \n\n```\n"),
        ),
        (
            "JSON inside the fence, over several lines",
            format!("```kez\n{}\n```\n", c0.replace(",\"", ",\n\"")),
        ),
        (
            "a ```kez line inside another fenced block still opens",
            format!("```\n```kez\n{cp}\n```\n```\n"),
        ),
        (
            "the closing fence needs no final LF",
            format!("```kez\n{cp}\n```"),
        ),
    ];
    for (what, text) in ok {
        g.case(what, "§9.3", &["Markdown"], v(&text), Want::Ok);
    }
    let bad: Vec<(&str, String)> = vec![
        ("no closing fence", format!("```kez\n{cp}\n")),
        (
            "four backticks do not close",
            format!("```kez\n{cp}\n````\n"),
        ),
        (
            "an opening fence indented by 4 spaces is not a fence",
            format!("intro\n    ```kez\n{cp}\n```\n"),
        ),
        (
            "an opening fence indented by a tab is not a fence",
            format!("intro\n\t```kez\n{cp}\n```\n"),
        ),
        (
            "an info string after kez",
            format!("```kez json\n{cp}\n```\n"),
        ),
        ("uppercase KEZ", format!("```KEZ\n{cp}\n```\n")),
        ("a tilde fence", format!("~~~kez\n{cp}\n~~~\n")),
        (
            "four backticks do not open",
            format!("````kez\n{cp}\n````\n"),
        ),
        (
            "only the first opening fence counts",
            format!("```kez\nhello\n```\n\n{md}"),
        ),
        ("an empty fence", "```kez\n```\n".to_owned()),
        (
            "text after the compact string inside the fence",
            format!("```kez\n{cp}\nsigned by me\n```\n"),
        ),
        (
            "content that is neither compact nor JSON",
            format!("```kez\nkez:z2:{}\n```\n", cp.get(7..).unwrap_or_default()),
        ),
    ];
    for (what, text) in bad {
        g.case(
            what,
            "§9.3",
            &["Markdown"],
            v(&text),
            Want::Class("bad_encoding"),
        );
    }
    g.case(
        "a fence holding a compact string with a bad frame: that class",
        "§9.3",
        &["Markdown", "Frame"],
        v("```kez\nkez:z1:\n```\n"),
        Want::Class("bad_compression"),
    );
    Ok(g)
}

#[allow(clippy::too_many_lines)]
fn dns_rules(keys: &Keys) -> R<Group> {
    let mut g = Group::new(Op::ClaimVerify, "DNS TXT (§9.4)");
    let c0 = claim(&keys.a, "github:alice", T0, None, &AUX0)?;
    let ce = claim(
        &keys.a,
        "dns:Bücher.Example.",
        T0,
        Some(1_795_651_200),
        &AUX0,
    )?;
    let cp = compact(&c0)?;
    let head = "_kez.alice.example. 3600 IN TXT ";
    let ok: Vec<(&str, String, &[&'static str])> = vec![
        ("RDATA of §9.4 (two strings)", dns(&c0)?, &["Example"]),
        ("the zone-file line of §9.4", dns(&ce)?, &["Example"]),
        ("strings of 100 bytes", quoted(&cp, 100), &[]),
        ("strings of one byte each", quoted(&cp, 1), &["TxtLength"]),
        (
            "one string of exactly 255 bytes",
            format!(
                "\"{}\" \"{}\"",
                cp.get(..255).unwrap_or_default(),
                cp.get(255..).unwrap_or_default()
            ),
            &["TxtLength"],
        ),
        (
            "tabs and several spaces between strings",
            quoted(&cp, 200).replace("\" \"", "\" \t  \""),
            &[],
        ),
        (
            "IN before the TTL",
            format!("_kez.alice.example. IN 3600 TXT {}", quoted(&cp, 255)),
            &[],
        ),
        (
            "TTL without class",
            format!("_kez.alice.example. 3600 TXT {}", quoted(&cp, 255)),
            &[],
        ),
        (
            "class without TTL",
            format!("_kez.alice.example. IN TXT {}", quoted(&cp, 255)),
            &[],
        ),
        (
            "owner and TXT only",
            format!("@ TXT {}", quoted(&cp, 255)),
            &[],
        ),
        (
            "lowercase in and txt",
            format!("_kez.alice.example. 60 in txt {}", quoted(&cp, 255)),
            &[],
        ),
        (
            "tabs in the head, leading and trailing whitespace",
            format!(
                "\n\t_kez.alice.example.\t3600\tIN\tTXT\t{}\r\n",
                quoted(&cp, 255)
            ),
            &[],
        ),
        (
            "a 10-digit TTL",
            format!("_kez.alice.example. 4294967295 IN TXT {}", quoted(&cp, 255)),
            &[],
        ),
        (
            "an owner unrelated to the subject",
            format!("_kez.example.org. 3600 IN TXT {}", quoted(&cp, 255)),
            &[],
        ),
        (
            "joined strings of 90111 bytes",
            quoted(&padded_compact(c0.as_bytes(), 90_104)?, 255),
            &["TxtLength", "CompactLength"],
        ),
    ];
    for (what, text, flags) in ok {
        let mut f = vec!["Dns"];
        f.extend_from_slice(flags);
        g.case(what, "§9.4", &f, v(&text), Want::Ok);
    }
    let q = quoted(&cp, 255);
    let bad: Vec<(&str, String, &[&'static str], &'static str)> = vec![
        (
            "a string of 256 bytes",
            format!(
                "\"{}\" \"{}\"",
                cp.get(..256).unwrap_or_default(),
                cp.get(256..).unwrap_or_default()
            ),
            &["TxtLength"],
            "bad_encoding",
        ),
        ("an empty string", format!("{q} \"\""), &[], "bad_encoding"),
        (
            "strings not separated",
            q.replace("\" \"", "\"\""),
            &[],
            "bad_encoding",
        ),
        (
            "an escaped quote",
            format!("\"{}\\\"\"", cp.get(..10).unwrap_or_default()),
            &[],
            "bad_encoding",
        ),
        (
            "a backslash escape",
            format!("\"kez:z1:\\065\" {q}"),
            &[],
            "bad_encoding",
        ),
        ("parentheses", format!("{head}( {q} )"), &[], "bad_encoding"),
        (
            "a comment after the strings",
            format!("{head}{q} ; proof"),
            &[],
            "bad_encoding",
        ),
        (
            "text after the last string",
            format!("{q} x"),
            &[],
            "bad_encoding",
        ),
        (
            "an unterminated string",
            format!("{q} \"abc"),
            &[],
            "bad_encoding",
        ),
        (
            "a space inside a string",
            format!("\"kez:z1: {}\"", cp.get(7..200).unwrap_or_default()),
            &[],
            "bad_encoding",
        ),
        (
            "strings on two lines",
            q.replace("\" \"", "\"\n\""),
            &[],
            "bad_encoding",
        ),
        (
            "an unknown word in the head",
            format!("_kez.alice.example. 3600 IN XX TXT {q}"),
            &[],
            "bad_encoding",
        ),
        (
            "TXT twice",
            format!("_kez.alice.example. TXT TXT {q}"),
            &[],
            "bad_encoding",
        ),
        (
            "IN twice",
            format!("_kez.alice.example. IN IN TXT {q}"),
            &[],
            "bad_encoding",
        ),
        (
            "two TTLs",
            format!("_kez.alice.example. 3600 3600 TXT {q}"),
            &[],
            "bad_encoding",
        ),
        (
            "an 11-digit TTL",
            format!("_kez.alice.example. 36000000000 TXT {q}"),
            &[],
            "bad_encoding",
        ),
        (
            "a head not ending in whitespace",
            format!("_kez.alice.example. TXT{q}"),
            &[],
            "bad_encoding",
        ),
        (
            "a head without owner",
            format!("TXT {q}"),
            &[],
            "bad_encoding",
        ),
        (
            "a record type other than TXT, on a line holding the word TXT",
            format!("_kez.alice.example. SPF {q} ; TXT"),
            &[],
            "bad_encoding",
        ),
        (
            "strings that do not form a compact string",
            "\"hello\" \"world\"".to_owned(),
            &[],
            "bad_encoding",
        ),
        (
            "joined strings of 90112 bytes: past the limit, fails as base64",
            quoted(&format!("kez:z1:{}", "A".repeat(90_105)), 255),
            &["TxtLength"],
            "bad_encoding",
        ),
        (
            "joined strings of 90113 bytes: too_large",
            quoted(&format!("kez:z1:{}", "A".repeat(90_106)), 255),
            &["TxtLength"],
            "too_large",
        ),
    ];
    for (what, text, flags, class) in bad {
        let mut f = vec!["Dns"];
        f.extend_from_slice(flags);
        g.case(what, "§9.4", &f, v(&text), Want::Class(class));
    }
    g.case(
        "strings holding a compact string with a bad frame: that class",
        "§9.4",
        &["Dns", "Frame"],
        v("\"kez:z1:\""),
        Want::Class("bad_compression"),
    );
    Ok(g)
}

fn detection(keys: &Keys) -> R<Group> {
    let mut g = Group::new(Op::ClaimVerify, "Auto-detection (§9.5)");
    let c0 = claim(&keys.a, "github:alice", T0, None, &AUX0)?;
    let cp = compact(&c0)?;
    g.case(
        "JSON with leading whitespace",
        "§9.5",
        &["Detection"],
        v(&format!("\n\n  {c0}")),
        Want::Ok,
    );
    g.case(
        "RDATA beginning with a quote",
        "§9.5",
        &["Detection", "Dns"],
        v(&quoted(&cp, 255)),
        Want::Ok,
    );
    let bad: Vec<(&str, String, &'static str)> = vec![
        (
            "a JSON array is not a claim encoding",
            format!("[{c0}]"),
            "bad_encoding",
        ),
        (
            "a BOM before the JSON",
            format!("\u{feff}{c0}"),
            "bad_encoding",
        ),
        ("empty input", String::new(), "bad_encoding"),
        ("whitespace only", " \r\n\t".to_owned(), "bad_encoding"),
        ("plain text", "hello world".to_owned(), "bad_encoding"),
        (
            "an uppercase prefix",
            cp.replacen("kez:z1:", "KEZ:Z1:", 1),
            "bad_encoding",
        ),
        (
            "an unknown version prefix",
            cp.replacen("kez:z1:", "kez:z2:", 1),
            "bad_encoding",
        ),
        (
            "a compact string followed by a fence is decoded as compact",
            format!("{cp}\n```kez\n{cp}\n```\n"),
            "bad_encoding",
        ),
        (
            "an unclosed fence whose first line holds the word TXT goes to the DNS decoder",
            format!("TXT record below\n```kez\n{cp}\n"),
            "bad_encoding",
        ),
    ];
    for (what, text, class) in bad {
        g.case(what, "§9.5", &["Detection"], v(&text), Want::Class(class));
    }
    let mut invalid = cp.clone().into_bytes();
    invalid.extend_from_slice(b"\n\xff\n");
    let mut json_bad = c0.clone().into_bytes();
    json_bad.splice(1..1, b"\"x\":\"\xc3\x28\",".iter().copied());
    for (what, bytes) in [
        ("a byte 0xFF after a valid compact string", invalid),
        ("invalid UTF-8 inside a JSON claim", json_bad),
        ("invalid UTF-8 before anything else", b"\xfe{}".to_vec()),
    ] {
        g.case(
            what,
            "§9.5",
            &["Detection", "Utf8"],
            json!({"hex": hex(&bytes), "now": NOW}),
            Want::Class("invalid_utf8"),
        );
    }
    Ok(g)
}
