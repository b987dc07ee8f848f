//! The four encodings of a signed object: JSON, compact `kez:z1:`, Markdown fence, DNS TXT
//! (SPEC.md §9).
//!
//! Markdown and DNS helpers work on borrowed text with no allocation. The compact codec needs
//! `alloc` (zstd keeps a window on the heap); its decoder is bounded by [`MAX_WINDOW`] and
//! [`MAX_DECOMPRESSED`] so a decompression bomb is an error, never an out-of-memory.

use crate::error::Error;
use crate::jcs::Sink;

/// Prefix of the compact encoding.
pub const COMPACT_PREFIX: &str = "kez:z1:";
/// Longest accepted compact text, prefix included, in characters.
pub const MAX_COMPACT_LEN: usize = 90_112;
/// Largest decoded (decompressed) compact payload, in bytes.
pub const MAX_DECOMPRESSED: usize = 65_536;
/// Largest zstd window a compact frame may declare, in bytes.
pub const MAX_WINDOW: u64 = 131_072;
/// Longest DNS character-string.
pub const TXT_CHUNK: usize = 255;
/// TTL written in zone-file lines.
pub const ZONE_TTL: u32 = 3600;

/// The four encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// The canonical JSON text.
    Json,
    /// `kez:z1:` + base64url(zstd(JCS)).
    Compact,
    /// A fenced block with info string `kez`.
    Markdown,
    /// A DNS TXT record (zone-file line or RDATA strings).
    Dns,
}

impl Encoding {
    /// The CLI name (`json`, `compact`, `markdown`, `dns`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Compact => "compact",
            Self::Markdown => "markdown",
            Self::Dns => "dns",
        }
    }

    /// Recognises which encoding `text` is in (SPEC.md §9.5).
    ///
    /// # Errors
    /// [`Error::InvalidUtf8`] or [`Error::BadEncoding`].
    pub fn detect(text: &[u8]) -> Result<Self, Error> {
        let text = core::str::from_utf8(text).map_err(|e| Error::InvalidUtf8 {
            offset: e.valid_up_to(),
        })?;
        let t = text.trim_start_matches([' ', '\t', '\r', '\n']);
        if t.starts_with(COMPACT_PREFIX) {
            Ok(Self::Compact)
        } else if t.starts_with('{') {
            Ok(Self::Json)
        } else if find_fence(text).is_ok() {
            Ok(Self::Markdown)
        } else if t.starts_with('"')
            || t.lines().next().is_some_and(|l| {
                l.split_ascii_whitespace()
                    .any(|w| w.eq_ignore_ascii_case("TXT"))
            })
        {
            Ok(Self::Dns)
        } else {
            Err(Error::BadEncoding)
        }
    }
}

fn trim_ws(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

/// Finds the first fenced block with info string `kez` and returns its content, trimmed.
///
/// # Errors
/// [`Error::BadEncoding`] when there is no such block or it is not closed.
pub fn find_fence(text: &str) -> Result<&str, Error> {
    let mut offset = 0usize;
    let mut content_start: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let bare = line.trim_end_matches(['\n', '\r', ' ', '\t']);
        let indent = bare.len() - bare.trim_start_matches(' ').len();
        if indent > 3 {
            continue;
        }
        let bare = bare.trim_start_matches(' ');
        match content_start {
            None if bare == "```kez" => content_start = Some(offset),
            Some(cs) if bare == "```" => {
                return Ok(trim_ws(text.get(cs..start).ok_or(Error::BadEncoding)?));
            }
            _ => {}
        }
    }
    Err(Error::BadEncoding)
}

/// Writes the Markdown encoding: "```kez\n" + payload + "\n```\n".
///
/// # Errors
/// The sink's [`Error::TooLarge`].
pub fn write_markdown<S: Sink + ?Sized>(payload: &str, sink: &mut S) -> Result<(), Error> {
    sink.write(b"```kez\n")?;
    sink.write(payload.as_bytes())?;
    sink.write(b"\n```\n")
}

/// The compact string cut into DNS character-strings of at most [`TXT_CHUNK`] bytes.
pub fn txt_strings(compact: &str) -> impl Iterator<Item = &[u8]> {
    compact.as_bytes().chunks(TXT_CHUNK)
}

/// Writes the DNS encoding: for a domain, the zone-file line
/// `_kez.<domain>. 3600 IN TXT "…" "…"`; without one, only the quoted strings. Ends with "\n".
///
/// # Errors
/// [`Error::BadEncoding`] when `compact` holds characters a TXT string cannot carry unquoted;
/// the sink's [`Error::TooLarge`].
pub fn write_txt<S: Sink + ?Sized>(
    domain: Option<&str>,
    compact: &str,
    sink: &mut S,
) -> Result<(), Error> {
    if compact.is_empty() || !compact.bytes().all(txt_char) {
        return Err(Error::BadEncoding);
    }
    if let Some(d) = domain {
        sink.write(b"_kez.")?;
        sink.write(d.as_bytes())?;
        sink.write(b". 3600 IN TXT ")?;
    }
    for (i, chunk) in txt_strings(compact).enumerate() {
        if i > 0 {
            sink.write(b" ")?;
        }
        sink.write(b"\"")?;
        sink.write(chunk)?;
        sink.write(b"\"")?;
    }
    sink.write(b"\n")
}

fn txt_char(b: u8) -> bool {
    (0x21..=0x7E).contains(&b) && b != b'"' && b != b'\\'
}

/// Parses a DNS encoding (zone-file line or bare quoted strings) and joins its strings into
/// `out`, returning the joined text.
///
/// # Errors
/// [`Error::BadEncoding`] for any deviation from SPEC.md §9.4; [`Error::TooLarge`] when the
/// joined text does not fit `out`.
pub fn join_txt<'o>(text: &str, out: &'o mut [u8]) -> Result<&'o str, Error> {
    let t = trim_ws(text);
    let quote = t.find('"').ok_or(Error::BadEncoding)?;
    let (head, mut rest) = t.split_at(quote);
    if !head.is_empty() {
        check_rr_head(head)?;
    }
    let mut len = 0usize;
    let mut strings = 0usize;
    loop {
        rest = rest.strip_prefix('"').ok_or(Error::BadEncoding)?;
        let close = rest.find('"').ok_or(Error::BadEncoding)?;
        let (s, after) = rest.split_at(close);
        if s.is_empty() || s.len() > TXT_CHUNK || !s.bytes().all(txt_char) {
            return Err(Error::BadEncoding);
        }
        let end = len + s.len();
        let cap = out.len();
        out.get_mut(len..end)
            .ok_or(Error::TooLarge { limit: cap })?
            .copy_from_slice(s.as_bytes());
        len = end;
        strings += 1;
        rest = after.get(1..).unwrap_or_default();
        let next = rest.trim_start_matches([' ', '\t']);
        if next.is_empty() {
            break;
        }
        if next.len() == rest.len() {
            // strings must be separated by whitespace
            return Err(Error::BadEncoding);
        }
        rest = next;
    }
    if strings == 0 {
        return Err(Error::BadEncoding);
    }
    core::str::from_utf8(out.get(..len).unwrap_or_default()).map_err(|_| Error::BadEncoding)
}

/// `<owner> [ttl] [IN] TXT ` before the first quoted string.
fn check_rr_head(head: &str) -> Result<(), Error> {
    if !head.ends_with([' ', '\t']) {
        return Err(Error::BadEncoding);
    }
    let mut words = head.split_ascii_whitespace();
    let owner = words.next().ok_or(Error::BadEncoding)?;
    if owner.is_empty() || !owner.bytes().all(|b| b.is_ascii_graphic() && b != b'"') {
        return Err(Error::BadEncoding);
    }
    // TTL and class are both optional and may come in either order (RFC 1035 §5.1)
    let mut next = words.next().ok_or(Error::BadEncoding)?;
    let (mut ttl, mut class) = (false, false);
    loop {
        if !ttl && next.bytes().all(|b| b.is_ascii_digit()) && next.len() <= 10 {
            ttl = true;
        } else if !class && next.eq_ignore_ascii_case("IN") {
            class = true;
        } else {
            break;
        }
        next = words.next().ok_or(Error::BadEncoding)?;
    }
    if !next.eq_ignore_ascii_case("TXT") || words.next().is_some() {
        return Err(Error::BadEncoding);
    }
    Ok(())
}

#[cfg(feature = "alloc")]
mod compact {
    use alloc::string::String;
    use alloc::vec::Vec;

    use base64ct::{Base64UrlUnpadded, Encoding as _};
    use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

    use super::{COMPACT_PREFIX, Encoding, MAX_COMPACT_LEN, MAX_DECOMPRESSED, MAX_WINDOW};
    use crate::error::Error;
    use crate::jcs::{self, CompareSink};

    const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

    /// Decodes a compact string into `out` (which bounds the output together with
    /// [`MAX_DECOMPRESSED`]) and checks the payload is canonical JSON. Returns the length.
    ///
    /// # Errors
    /// [`Error::BadEncoding`], [`Error::BadCompression`], [`Error::TooLarge`],
    /// [`Error::NonCanonical`], or a JSON class when the payload is not JSON.
    pub fn decode_compact(text: &str, out: &mut [u8]) -> Result<usize, Error> {
        if text.len() > MAX_COMPACT_LEN {
            return Err(Error::TooLarge {
                limit: MAX_COMPACT_LEN,
            });
        }
        let b64 = text
            .strip_prefix(COMPACT_PREFIX)
            .ok_or(Error::BadEncoding)?;
        let frame = Base64UrlUnpadded::decode_vec(b64).map_err(|_| Error::BadEncoding)?;
        let limit = out.len().min(MAX_DECOMPRESSED);
        let n = zstd_decode_bounded(&frame, out.get_mut(..limit).unwrap_or_default(), MAX_WINDOW)?;
        let payload = out.get(..n).unwrap_or_default();
        let mut cmp = CompareSink::new(payload);
        jcs::canonicalize(payload, &mut cmp)?;
        if !cmp.matches() {
            return Err(Error::NonCanonical);
        }
        Ok(n)
    }

    /// Decodes exactly one zstd frame into `out`, rejecting dictionaries, windows above
    /// `max_window`, output beyond `out.len()`, checksum mismatches, trailing bytes, and
    /// Huffman-coded literals whose streams do not each decode exactly their share (SPEC.md
    /// §9.2 step 7: ruzstd alone would accept those, with bytes other decoders do not give).
    ///
    /// # Errors
    /// [`Error::BadCompression`] or [`Error::TooLarge`].
    pub fn zstd_decode_bounded(
        frame: &[u8],
        out: &mut [u8],
        max_window: u64,
    ) -> Result<usize, Error> {
        let limit = out.len();
        // magic, then the frame header descriptor: reserved bit 3 and Dictionary_ID_flag 0..1
        match frame {
            [a, b, c, d, desc, ..] if [*a, *b, *c, *d] == ZSTD_MAGIC && desc & 0b1011 == 0 => {}
            _ => return Err(Error::BadCompression),
        }
        let mut dec = FrameDecoder::new();
        dec.set_max_window_size(max_window);
        let mut src = frame;
        dec.reset(&mut src).map_err(|_| Error::BadCompression)?;
        if dec.content_size() > limit as u64 {
            return Err(Error::TooLarge { limit });
        }
        let mut written = 0usize;
        // the Huffman tree a treeless literals section reuses (SPEC.md §9.2 step 7)
        let mut tree = None;
        loop {
            // ruzstd does not check each Huffman stream's share of the literals: kez does,
            // before ruzstd decodes the block (`src` starts at its Block_Header)
            crate::zstd_literals::check_block(src, &mut tree, limit.saturating_sub(written))?;
            dec.decode_blocks(&mut src, BlockDecodingStrategy::UptoBlocks(1))
                .map_err(|_| Error::BadCompression)?;
            let done = dec.is_finished();
            if dec.can_collect() > 0 {
                let chunk = dec.collect().unwrap_or_default();
                let end = written
                    .checked_add(chunk.len())
                    .filter(|&e| e <= limit)
                    .ok_or(Error::TooLarge { limit })?;
                out.get_mut(written..end)
                    .ok_or(Error::TooLarge { limit })?
                    .copy_from_slice(&chunk);
                written = end;
            }
            if done {
                break;
            }
        }
        if let (Some(stored), Some(computed)) =
            (dec.get_checksum_from_data(), dec.get_calculated_checksum())
        {
            if stored != computed {
                return Err(Error::BadCompression);
            }
        }
        if !src.is_empty() {
            return Err(Error::BadCompression);
        }
        // a declared Frame_Content_Size must match what the blocks produced
        let desc = frame.get(4).copied().unwrap_or(0);
        let declared = desc >> 6 != 0 || desc & 0x20 != 0;
        if declared && dec.content_size() != written as u64 {
            return Err(Error::BadCompression);
        }
        Ok(written)
    }

    /// Encodes canonical JSON bytes as a compact string (ruzstd, fastest level).
    #[must_use]
    pub fn encode_compact(jcs_bytes: &[u8]) -> String {
        let frame = ruzstd::encoding::compress_to_vec(
            jcs_bytes,
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        let mut s = String::with_capacity(COMPACT_PREFIX.len() + frame.len() * 4 / 3 + 4);
        s.push_str(COMPACT_PREFIX);
        s.push_str(&Base64UrlUnpadded::encode_string(&frame));
        s
    }

    /// Decodes any of the four encodings to the object's JSON text (as given for JSON input,
    /// the decoded canonical bytes otherwise).
    ///
    /// # Errors
    /// Any decoding error of the detected encoding.
    pub fn decode_any(text: &[u8]) -> Result<(Encoding, Vec<u8>), Error> {
        let enc = Encoding::detect(text)?;
        let s = core::str::from_utf8(text).map_err(|e| Error::InvalidUtf8 {
            offset: e.valid_up_to(),
        })?;
        let untrimmed = s;
        let s = super::trim_ws(s);
        let json = match enc {
            Encoding::Json => s.as_bytes().to_vec(),
            Encoding::Compact => compact_to_vec(s)?,
            Encoding::Markdown => {
                // fences are found on the original lines: indentation counts (SPEC.md §9.3)
                let inner = super::find_fence(untrimmed)?;
                if inner.starts_with(COMPACT_PREFIX) {
                    compact_to_vec(inner)?
                } else if inner.starts_with('{') {
                    inner.as_bytes().to_vec()
                } else {
                    return Err(Error::BadEncoding);
                }
            }
            Encoding::Dns => {
                let mut joined = alloc::vec![0u8; MAX_COMPACT_LEN];
                let compact = super::join_txt(s, &mut joined)?;
                compact_to_vec(compact)?
            }
        };
        Ok((enc, json))
    }

    fn compact_to_vec(s: &str) -> Result<Vec<u8>, Error> {
        let mut out = alloc::vec![0u8; MAX_DECOMPRESSED];
        let n = decode_compact(s, &mut out)?;
        out.truncate(n);
        Ok(out)
    }
}

#[cfg(feature = "alloc")]
pub use compact::{decode_any, decode_compact, encode_compact, zstd_decode_bounded};
