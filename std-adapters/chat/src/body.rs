//! Writers for the file bodies of SPEC.md §16.3 (inline file, chunk, pointer, resend request);
//! `kez_core::parse_body` reads them.
//!
//! The writers take values the caller has already checked against §16.1 (a file name of 1 to
//! 255 bytes, a MIME type of printable ASCII, a chunk of 1 to 81,920 bytes, `n` equal to
//! `ceil(size / chunk_size)`, ...): a body written from values out of those limits is one that
//! receivers refuse (`bad_body`). Member order is the one of the SPEC's examples; strings are
//! escaped as in event serialization, so a body's length is predictable
//! ([`chunk_len`]).

use std::fmt::Write as _;

use base64ct::{Base64, Encoding as _};
use kez_core::{CHUNK_TYPE, FILE_TYPE, FileId, RESEND_TYPE};
use sha2::{Digest as _, Sha256};

use crate::event::{hex, write_json_string};

/// An inline file (`kez-file-v1` with `data`): the whole file, its SHA-256 computed here.
#[must_use]
pub fn inline(filename: &str, mime: &str, data: &[u8]) -> String {
    let sha256: [u8; 32] = Sha256::digest(data).into();
    let mut out = String::with_capacity(Base64::encoded_len(data) + filename.len() + 160);
    out.push_str("{\"type\":\"");
    out.push_str(FILE_TYPE);
    out.push_str("\",\"filename\":");
    // writing into a String cannot fail
    let _ = write_json_string(&mut out, filename);
    out.push_str(",\"mime\":");
    let _ = write_json_string(&mut out, mime);
    let _ = write!(out, ",\"size\":{},\"sha256\":\"", data.len());
    out.push_str(&hex(&sha256));
    out.push_str("\",\"data\":\"");
    push_base64(&mut out, data);
    out.push_str("\"}");
    out
}

/// Chunk `i` of `n` of transfer `file_id` (`kez-file-chunk-v1`).
#[must_use]
pub fn chunk(file_id: &FileId, i: u32, n: u32, data: &[u8]) -> String {
    let mut out = String::with_capacity(chunk_len(i, n, data.len()));
    out.push_str("{\"type\":\"");
    out.push_str(CHUNK_TYPE);
    let _ = write!(
        out,
        "\",\"file_id\":\"{file_id}\",\"i\":{i},\"n\":{n},\"data\":\""
    );
    push_base64(&mut out, data);
    out.push_str("\"}");
    out
}

/// The exact length in bytes of [`chunk`]`(_, i, n, data)` for `data_len` bytes of data. A
/// chunk body has no characters that JSON escapes, so this is also its escaped length (the
/// `body_len_escaped` of [`crate::wrap::wrapped_len`]).
#[must_use]
pub const fn chunk_len(i: u32, n: u32, data_len: usize) -> usize {
    // {"type":"kez-file-chunk-v1","file_id":"<32>","i":I,"n":N,"data":"<base64>"}
    const FIXED: usize =
        r#"{"type":"","file_id":"","i":,"n":,"data":""}"#.len() + CHUNK_TYPE.len() + 32;
    FIXED
        + crate::event::decimal_len(i as u64)
        + crate::event::decimal_len(n as u64)
        + data_len.div_ceil(3) * 4
}

/// The pointer of a chunked file (`kez-file-v1` without `data`), sent after its chunks.
#[must_use]
pub fn pointer(
    file_id: &FileId,
    filename: &str,
    mime: &str,
    size: u64,
    chunk_size: u32,
    n: u32,
    sha256: &[u8; 32],
) -> String {
    let mut out = String::with_capacity(filename.len() + mime.len() + 256);
    out.push_str("{\"type\":\"");
    out.push_str(FILE_TYPE);
    let _ = write!(out, "\",\"file_id\":\"{file_id}\",\"filename\":");
    let _ = write_json_string(&mut out, filename);
    out.push_str(",\"mime\":");
    let _ = write_json_string(&mut out, mime);
    let _ = write!(
        out,
        ",\"size\":{size},\"n\":{n},\"chunk_size\":{chunk_size},\"sha256\":\"{}\"}}",
        hex(sha256)
    );
    out
}

/// A resend request (`kez-file-resend-v1`) for the chunks `missing` of transfer `file_id`
/// (strictly increasing; empty when only the pointer is missing).
#[must_use]
pub fn resend(file_id: &FileId, missing: &[u32]) -> String {
    let mut out = String::with_capacity(96 + missing.len() * 6);
    out.push_str("{\"type\":\"");
    out.push_str(RESEND_TYPE);
    let _ = write!(out, "\",\"file_id\":\"{file_id}\",\"missing\":[");
    for (k, i) in missing.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        let _ = write!(out, "{i}");
    }
    out.push_str("]}");
    out
}

/// A delivery receipt (`kez-receipt-v1`) naming the rumor `id` that was received.
#[must_use]
pub fn receipt(id: &[u8; 32]) -> String {
    let mut out = String::with_capacity(100);
    out.push_str("{\"type\":\"");
    out.push_str(kez_core::RECEIPT_TYPE);
    out.push_str("\",\"id\":\"");
    for b in id {
        let _ = write!(out, "{b:02x}");
    }
    out.push_str("\"}");
    out
}

/// Appends the standard, padded base64 of `data`, a few kilobytes at a time (no second copy
/// of the whole encoding).
fn push_base64(out: &mut String, data: &[u8]) {
    // a multiple of 3 bytes, so the pieces concatenate into one base64 text
    const STEP: usize = 3 * 1024;
    let mut buf = [0u8; STEP / 3 * 4];
    for piece in data.chunks(STEP) {
        if let Ok(text) = Base64::encode(piece, &mut buf) {
            out.push_str(text);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;
    use kez_core::{Body, parse_body};

    #[test]
    fn spec_examples() {
        let id = FileId([
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ]);
        assert_eq!(
            chunk(&id, 0, 3, b"hello"),
            r#"{"type":"kez-file-chunk-v1","file_id":"00112233445566778899aabbccddeeff","i":0,"n":3,"data":"aGVsbG8="}"#
        );
        assert_eq!(
            resend(&id, &[1, 2]),
            r#"{"type":"kez-file-resend-v1","file_id":"00112233445566778899aabbccddeeff","missing":[1,2]}"#
        );
        assert_eq!(
            resend(&id, &[]),
            r#"{"type":"kez-file-resend-v1","file_id":"00112233445566778899aabbccddeeff","missing":[]}"#
        );
        let p = pointer(&id, "notes.txt", "text/plain", 5000, 2048, 3, &[0xab; 32]);
        assert_eq!(
            p,
            format!(
                r#"{{"type":"kez-file-v1","file_id":"00112233445566778899aabbccddeeff","filename":"notes.txt","mime":"text/plain","size":5000,"n":3,"chunk_size":2048,"sha256":"{}"}}"#,
                "ab".repeat(32)
            )
        );
        let Ok(Body::Pointer(parsed)) = parse_body(&p) else {
            panic!("{p}")
        };
        assert_eq!(parsed.size, 5000);
        assert_eq!(parsed.chunk_len(2), 5000 - 2 * 2048);
    }

    #[test]
    fn receipt_round_trip() {
        let id = [0x5a; 32];
        let text = receipt(&id);
        assert_eq!(
            text,
            format!(r#"{{"type":"kez-receipt-v1","id":"{}"}}"#, "5a".repeat(32))
        );
        assert_eq!(parse_body(&text), Ok(Body::Receipt(id)));
    }

    #[test]
    fn empty_inline_file() {
        let body = inline("empty", "application/octet-stream", b"");
        let Ok(Body::Inline(f)) = parse_body(&body) else {
            panic!("{body}")
        };
        assert!(f.data.is_empty());
        assert_eq!(f.sha256, <[u8; 32]>::from(Sha256::digest(b"")));
        assert!(f.decode_into(&mut []).is_ok());
    }

    #[test]
    fn base64_across_steps() {
        // lengths around the encoder's 3072-byte step
        for len in [1usize, 2, 3, 3071, 3072, 3073, 6144, 6145] {
            let data: Vec<u8> = (0..len)
                .map(|i| u8::try_from(i * 7 % 256).unwrap())
                .collect();
            let id = FileId([1; 16]);
            let body = chunk(&id, 0, 1, &data);
            assert_eq!(body.len(), chunk_len(0, 1, len));
            let Ok(Body::Chunk(c)) = parse_body(&body) else {
                panic!("{len}")
            };
            let mut out = vec![0u8; len];
            assert_eq!(c.data.decode_into(&mut out).unwrap(), &data[..]);
        }
    }
}
