//! Direct-message bodies: plain text and the KEZ file bodies (SPEC.md §16.3).
//!
//! [`parse_body`] tells the five kinds apart and checks every member of a file body without
//! allocating: strings borrow from the input (base64 data stays encoded until the caller
//! decodes it into its own buffer), names and MIME types are unescaped into fixed-capacity
//! strings.

use base64ct::{Base64, Decoder, Encoding as _};
use core::fmt;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::jcs;

/// The `type` of an inline file body and of a pointer body.
pub const FILE_TYPE: &str = "kez-file-v1";
/// The `type` of a chunk body.
pub const CHUNK_TYPE: &str = "kez-file-chunk-v1";
/// The `type` of a request for missing chunks.
pub const RESEND_TYPE: &str = "kez-file-resend-v1";
/// The `type` of a delivery receipt.
pub const RECEIPT_TYPE: &str = "kez-receipt-v1";

/// Largest file, in bytes (10 MiB).
pub const MAX_FILE_SIZE: u32 = 10_485_760;
/// Largest file sent inline, in bytes (80 KiB).
pub const MAX_INLINE_SIZE: u32 = 81_920;
/// Largest chunk, in bytes (80 KiB).
pub const MAX_CHUNK_SIZE: u32 = 81_920;
/// Smallest chunk size a pointer may declare, in bytes.
pub const MIN_CHUNK_SIZE: u32 = 1_024;
/// Most chunks of one file: [`MAX_FILE_SIZE`] / [`MIN_CHUNK_SIZE`].
pub const MAX_CHUNKS: u32 = MAX_FILE_SIZE / MIN_CHUNK_SIZE;
/// Longest file name, in bytes of UTF-8 after JSON unescaping.
pub const MAX_FILENAME: usize = 255;
/// Longest MIME type, in bytes.
pub const MAX_MIME: usize = 255;
/// Longest file body (inline, chunk, pointer, resend request), in bytes of JSON text.
pub const MAX_BODY: usize = 131_072;

/// A transfer's id: 16 bytes, written as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub [u8; 16]);

impl fmt::Debug for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileId({self})")
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Base64 data (standard alphabet, padded) from a body, checked but not yet decoded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Data<'a> {
    text: &'a str,
    len: usize,
}

impl fmt::Debug for Data<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Data({} bytes)", self.len)
    }
}

/// Decoded bytes are checked this many at a time when there is no room to hold them all.
const STEP: usize = 48;

impl<'a> Data<'a> {
    fn parse(text: &'a str) -> Result<Self, Error> {
        if text.is_empty() {
            return Ok(Self { text, len: 0 });
        }
        let alphabet = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
        if text.len() % 4 != 0 || !text.bytes().all(|b| alphabet(&b)) {
            return Err(Error::BadBody);
        }
        let mut dec = Decoder::<Base64>::new(text.as_bytes()).map_err(|_| Error::BadBody)?;
        let len = dec.remaining_len();
        let mut tmp = [0u8; STEP];
        while !dec.is_finished() {
            let take = dec.remaining_len().min(STEP);
            let out = tmp.get_mut(..take).ok_or(Error::BadBody)?;
            dec.decode(out).map_err(|_| Error::BadBody)?;
        }
        Ok(Self { text, len })
    }

    /// The decoded length, in bytes.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// True when there are no bytes.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The base64 text.
    #[must_use]
    pub const fn text(&self) -> &'a str {
        self.text
    }

    /// Decodes into `out`, which must hold exactly [`Data::len`] bytes.
    ///
    /// # Errors
    /// [`Error::TooLarge`] when `out` has another length.
    pub fn decode_into<'o>(&self, out: &'o mut [u8]) -> Result<&'o [u8], Error> {
        if out.len() != self.len {
            return Err(Error::TooLarge { limit: out.len() });
        }
        if self.len == 0 {
            return Ok(out);
        }
        Base64::decode(self.text, out).map_err(|_| Error::BadBody)
    }

    /// True when the decoded bytes equal `bytes` (compared without a buffer).
    #[must_use]
    pub fn eq_bytes(&self, bytes: &[u8]) -> bool {
        if bytes.len() != self.len {
            return false;
        }
        if self.len == 0 {
            return true;
        }
        let Ok(mut dec) = Decoder::<Base64>::new(self.text.as_bytes()) else {
            return false;
        };
        let mut tmp = [0u8; STEP];
        bytes.chunks(STEP).all(|want| {
            tmp.get_mut(..want.len())
                .and_then(|out| dec.decode(out).ok())
                .is_some_and(|got| got == want)
        })
    }
}

/// A file sent whole in one body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineFile<'a> {
    /// The sender's file name (not sanitized: see SPEC.md §16.3).
    pub filename: heapless::String<MAX_FILENAME>,
    /// The sender's MIME type (not trusted).
    pub mime: heapless::String<MAX_MIME>,
    /// The SHA-256 of the file.
    pub sha256: [u8; 32],
    /// The file's bytes.
    pub data: Data<'a>,
}

impl InlineFile<'_> {
    /// Decodes the file into `out` (exactly `data.len()` bytes) and checks its SHA-256.
    ///
    /// # Errors
    /// [`Error::TooLarge`] for an `out` of another length, [`Error::HashMismatch`] when the
    /// bytes do not hash to `sha256`.
    pub fn decode_into<'o>(&self, out: &'o mut [u8]) -> Result<&'o [u8], Error> {
        let bytes = self.data.decode_into(out)?;
        if <[u8; 32]>::from(Sha256::digest(bytes)) == self.sha256 {
            Ok(bytes)
        } else {
            Err(Error::HashMismatch)
        }
    }
}

/// One chunk of a chunked file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The transfer.
    pub file_id: FileId,
    /// The chunk's index, below `count`.
    pub index: u32,
    /// How many chunks the file has.
    pub count: u32,
    /// The chunk's bytes (1 to [`MAX_CHUNK_SIZE`]).
    pub data: Data<'a>,
}

/// The description of a chunked file, sent after its chunks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pointer {
    /// The transfer.
    pub file_id: FileId,
    /// The sender's file name (not sanitized: see SPEC.md §16.3).
    pub filename: heapless::String<MAX_FILENAME>,
    /// The sender's MIME type (not trusted).
    pub mime: heapless::String<MAX_MIME>,
    /// The file's size in bytes.
    pub size: u32,
    /// How many chunks: `ceil(size / chunk_size)`.
    pub count: u32,
    /// The size of every chunk but the last.
    pub chunk_size: u32,
    /// The SHA-256 of the whole file.
    pub sha256: [u8; 32],
}

impl Pointer {
    /// The length chunk `index` must have.
    #[must_use]
    pub const fn chunk_len(&self, index: u32) -> u32 {
        if index + 1 < self.count {
            self.chunk_size
        } else {
            self.size - (self.count - 1) * self.chunk_size
        }
    }
}

/// A receiver's request for chunks it still misses. Two requests are equal when they name the
/// same transfer and the same indices, however the JSON array was spaced.
#[derive(Clone, Copy, Debug)]
pub struct Resend<'a> {
    /// The transfer.
    pub file_id: FileId,
    missing: &'a str,
    count: u32,
}

impl PartialEq for Resend<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.file_id == other.file_id
            && self.count == other.count
            && self.missing().eq(other.missing())
    }
}

impl Eq for Resend<'_> {}

impl<'a> Resend<'a> {
    /// The missing indices, strictly increasing (none: only the pointer is missing).
    #[must_use]
    pub fn missing(&self) -> Indices<'a> {
        Indices {
            rest: self.missing.as_bytes(),
        }
    }

    /// How many indices are listed.
    #[must_use]
    pub const fn len(&self) -> u32 {
        self.count
    }

    /// True for `[]`: the receiver has every chunk and misses only the pointer.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// The indices of a [`Resend`] request.
#[derive(Clone, Debug)]
pub struct Indices<'a> {
    rest: &'a [u8],
}

impl Iterator for Indices<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let start = self.rest.iter().position(u8::is_ascii_digit)?;
        let digits = self.rest.get(start..)?;
        let end = digits
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(digits.len());
        let (num, rest) = digits.split_at(end);
        self.rest = rest;
        // checked at parse time: at most MAX_CHUNKS
        u32::try_from(integer(num).ok()?).ok()
    }
}

/// A direct-message body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body<'a> {
    /// Anything that is not a KEZ file body: shown as text.
    Text(&'a str),
    /// A whole file (`kez-file-v1` with `data`).
    Inline(InlineFile<'a>),
    /// One chunk (`kez-file-chunk-v1`).
    Chunk(Chunk<'a>),
    /// The description of a chunked file (`kez-file-v1` without `data`).
    Pointer(Pointer),
    /// A request for missing chunks (`kez-file-resend-v1`).
    Resend(Resend<'a>),
    /// A delivery receipt (`kez-receipt-v1`): the id of the rumor that was received (a text
    /// message, an inline file, or the pointer of a chunked file that is now ready).
    Receipt([u8; 32]),
}

/// Parses a message body (the content of a rumor, SPEC.md §16.3).
///
/// A body is a file body when it is an accepted JSON text (SPEC.md §2.1: duplicate names
/// rejected) whose value is an object with a member `type` whose string value is one of
/// [`FILE_TYPE`], [`CHUNK_TYPE`], [`RESEND_TYPE`] and [`RECEIPT_TYPE`]; everything else is
/// [`Body::Text`].
/// A file body must then have exactly its members, each well-formed.
///
/// # Errors
/// [`Error::TooLarge`] for a file body longer than [`MAX_BODY`], [`Error::BadBody`] for a file
/// body with a missing, unknown or ill-typed member or a value out of its limits.
pub fn parse_body(content: &str) -> Result<Body<'_>, Error> {
    let bytes = content.as_bytes();
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .unwrap_or(bytes.len());
    if bytes.get(start) != Some(&b'{') || jcs::check(bytes).is_err() {
        return Ok(Body::Text(content));
    }
    let Some(members) = jcs::Members::new(bytes, start) else {
        return Ok(Body::Text(content));
    };
    let mut kind = None;
    let mut has_data = false;
    for m in members.clone() {
        let m = m?;
        if m.name_is("type") {
            let mut buf = [0u8; 24];
            kind = match unescape(m.value, &mut buf) {
                Ok(FILE_TYPE) => Some(FILE_TYPE),
                Ok(CHUNK_TYPE) => Some(CHUNK_TYPE),
                Ok(RESEND_TYPE) => Some(RESEND_TYPE),
                Ok(RECEIPT_TYPE) => Some(RECEIPT_TYPE),
                _ => None,
            };
        } else if m.name_is("data") {
            has_data = true;
        }
    }
    let Some(kind) = kind else {
        return Ok(Body::Text(content));
    };
    if bytes.len() > MAX_BODY {
        return Err(Error::TooLarge { limit: MAX_BODY });
    }
    let mut f = Fields::default();
    for m in members {
        let m = m?;
        let slot = FIELDS
            .iter()
            .position(|name| m.name_is(name))
            .and_then(|i| f.0.get_mut(i))
            .ok_or(Error::BadBody)?;
        *slot = Some(m.value);
    }
    match (kind, has_data) {
        (FILE_TYPE, true) => inline(&f).map(Body::Inline),
        (FILE_TYPE, false) => pointer(&f).map(Body::Pointer),
        (CHUNK_TYPE, _) => chunk(&f).map(Body::Chunk),
        (RESEND_TYPE, _) => resend(&f).map(Body::Resend),
        _ => receipt(&f).map(Body::Receipt),
    }
}

/// Every member name a file body may have; [`Fields`] holds their raw values in this order.
const FIELDS: [&str; 12] = [
    "type",
    "file_id",
    "filename",
    "mime",
    "size",
    "sha256",
    "data",
    "i",
    "n",
    "chunk_size",
    "missing",
    "id",
];

#[derive(Default)]
struct Fields<'a>([Option<&'a [u8]>; 12]);

impl<'a> Fields<'a> {
    /// Requires exactly the members in `names` (besides `type`).
    fn only(&self, names: &[&str]) -> Result<(), Error> {
        for (name, value) in FIELDS.iter().zip(self.0.iter()).skip(1) {
            if names.contains(name) != value.is_some() {
                return Err(Error::BadBody);
            }
        }
        Ok(())
    }

    fn get(&self, name: &str) -> Result<&'a [u8], Error> {
        FIELDS
            .iter()
            .position(|n| *n == name)
            .and_then(|i| self.0.get(i).copied().flatten())
            .ok_or(Error::BadBody)
    }

    fn int(&self, name: &str, min: u64, max: u64) -> Result<u32, Error> {
        let n = integer(self.get(name)?)?;
        if n < min || n > max {
            return Err(Error::BadBody);
        }
        u32::try_from(n).map_err(|_| Error::BadBody)
    }

    fn plain(&self, name: &str) -> Result<&'a str, Error> {
        plain_string(self.get(name)?)
    }

    fn file_id(&self) -> Result<FileId, Error> {
        let mut id = [0u8; 16];
        crate::keys::decode_hex_lower(self.plain("file_id")?.as_bytes(), &mut id)
            .map_err(|()| Error::BadBody)?;
        Ok(FileId(id))
    }

    fn sha256(&self) -> Result<[u8; 32], Error> {
        let mut h = [0u8; 32];
        crate::keys::decode_hex_lower(self.plain("sha256")?.as_bytes(), &mut h)
            .map_err(|()| Error::BadBody)?;
        Ok(h)
    }

    fn filename(&self) -> Result<heapless::String<MAX_FILENAME>, Error> {
        let mut buf = [0u8; MAX_FILENAME];
        let name = unescape(self.get("filename")?, &mut buf)?;
        if name.is_empty() {
            return Err(Error::BadBody);
        }
        heapless::String::try_from(name).map_err(|_| Error::BadBody)
    }

    fn mime(&self) -> Result<heapless::String<MAX_MIME>, Error> {
        let mut buf = [0u8; MAX_MIME];
        let mime = unescape(self.get("mime")?, &mut buf)?;
        if mime.is_empty() || !mime.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(Error::BadBody);
        }
        heapless::String::try_from(mime).map_err(|_| Error::BadBody)
    }

    fn data(&self) -> Result<Data<'a>, Error> {
        Data::parse(self.plain("data")?)
    }
}

fn receipt(f: &Fields<'_>) -> Result<[u8; 32], Error> {
    f.only(&["id"])?;
    let mut id = [0u8; 32];
    crate::keys::decode_hex_lower(f.plain("id")?.as_bytes(), &mut id)
        .map_err(|()| Error::BadBody)?;
    Ok(id)
}

fn inline<'a>(f: &Fields<'a>) -> Result<InlineFile<'a>, Error> {
    f.only(&["filename", "mime", "size", "sha256", "data"])?;
    let size = f.int("size", 0, MAX_INLINE_SIZE.into())?;
    let data = f.data()?;
    if data.len() != size as usize {
        return Err(Error::BadBody);
    }
    Ok(InlineFile {
        filename: f.filename()?,
        mime: f.mime()?,
        sha256: f.sha256()?,
        data,
    })
}

fn chunk<'a>(f: &Fields<'a>) -> Result<Chunk<'a>, Error> {
    f.only(&["file_id", "i", "n", "data"])?;
    let count = f.int("n", 1, MAX_CHUNKS.into())?;
    let index = f.int("i", 0, u64::from(count) - 1)?;
    let data = f.data()?;
    if data.is_empty() || data.len() > MAX_CHUNK_SIZE as usize {
        return Err(Error::BadBody);
    }
    Ok(Chunk {
        file_id: f.file_id()?,
        index,
        count,
        data,
    })
}

fn pointer(f: &Fields<'_>) -> Result<Pointer, Error> {
    f.only(&[
        "file_id",
        "filename",
        "mime",
        "size",
        "n",
        "chunk_size",
        "sha256",
    ])?;
    let size = f.int("size", 1, MAX_FILE_SIZE.into())?;
    let chunk_size = f.int("chunk_size", MIN_CHUNK_SIZE.into(), MAX_CHUNK_SIZE.into())?;
    let count = f.int("n", 1, MAX_CHUNKS.into())?;
    if count != size.div_ceil(chunk_size) {
        return Err(Error::BadBody);
    }
    Ok(Pointer {
        file_id: f.file_id()?,
        filename: f.filename()?,
        mime: f.mime()?,
        size,
        count,
        chunk_size,
        sha256: f.sha256()?,
    })
}

fn resend<'a>(f: &Fields<'a>) -> Result<Resend<'a>, Error> {
    f.only(&["file_id", "missing"])?;
    let raw = f.get("missing")?;
    let inner = raw
        .strip_prefix(b"[")
        .and_then(|r| r.strip_suffix(b"]"))
        .ok_or(Error::BadBody)?;
    let inner = core::str::from_utf8(inner).map_err(|_| Error::BadBody)?;
    let mut count = 0u32;
    let mut prev: Option<u64> = None;
    let blank = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    // `[]`: every chunk is in, only the pointer is missing
    let items = (!inner.trim_matches(blank).is_empty()).then(|| inner.split(','));
    for item in items.into_iter().flatten() {
        let n = integer(item.trim_matches([' ', '\t', '\n', '\r']).as_bytes())?;
        if n >= u64::from(MAX_CHUNKS) || prev.is_some_and(|p| n <= p) {
            return Err(Error::BadBody);
        }
        prev = Some(n);
        count += 1;
    }
    Ok(Resend {
        file_id: f.file_id()?,
        missing: inner,
        count,
    })
}

/// A string value without escapes.
fn plain_string(value: &[u8]) -> Result<&str, Error> {
    crate::claim::plain_string_or(value, Error::BadBody)
}

/// `0|[1-9][0-9]*`, at most 2^53 - 1.
fn integer(value: &[u8]) -> Result<u64, Error> {
    crate::claim::integer_or(value, Error::BadBody)
}

/// Unescapes a JSON string value (quotes included) that [`jcs::check`] accepted into `out`.
fn unescape<'o>(value: &[u8], out: &'o mut [u8]) -> Result<&'o str, Error> {
    let inner = value
        .strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .ok_or(Error::BadBody)?;
    let mut len = 0;
    let mut push = |bytes: &[u8]| -> Result<(), Error> {
        out.get_mut(len..len + bytes.len())
            .ok_or(Error::BadBody)?
            .copy_from_slice(bytes);
        len += bytes.len();
        Ok(())
    };
    let mut i = 0;
    while let Some(&b) = inner.get(i) {
        if b != b'\\' {
            let run = inner
                .get(i..)
                .and_then(|r| r.iter().position(|&c| c == b'\\'))
                .map_or(inner.len(), |p| i + p);
            push(inner.get(i..run).ok_or(Error::BadBody)?)?;
            i = run;
            continue;
        }
        let esc = inner.get(i + 1).copied().ok_or(Error::BadBody)?;
        i += 2;
        let simple = match esc {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'u' => None,
            _ => return Err(Error::BadBody),
        };
        if let Some(c) = simple {
            push(&[c])?;
            continue;
        }
        let mut unit = hex4(inner.get(i..i + 4))?;
        i += 4;
        let code = if (0xd800..0xdc00).contains(&unit) {
            // the low half follows (jcs::check rejected lone surrogates)
            let low = hex4(inner.get(i + 2..i + 6))?;
            i += 6;
            unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
            unit
        } else {
            unit
        };
        let ch = char::from_u32(code).ok_or(Error::BadBody)?;
        push(ch.encode_utf8(&mut [0u8; 4]).as_bytes())?;
    }
    let out = out.get(..len).ok_or(Error::BadBody)?;
    core::str::from_utf8(out).map_err(|_| Error::BadBody)
}

fn hex4(digits: Option<&[u8]>) -> Result<u32, Error> {
    let digits = digits.ok_or(Error::BadBody)?;
    digits.iter().try_fold(0u32, |n, &d| {
        let v = char::from(d).to_digit(16).ok_or(Error::BadBody)?;
        Ok(n * 16 + v)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn unescapes() {
        let mut buf = [0u8; 64];
        assert_eq!(
            unescape(br#""a\"b\\c\/\n\u00e9\ud83d\ude00""#, &mut buf).unwrap(),
            "a\"b\\c/\n\u{e9}\u{1f600}"
        );
        let mut small = [0u8; 3];
        assert_eq!(unescape(br#""abcd""#, &mut small), Err(Error::BadBody));
    }

    #[test]
    fn base64_data_is_strict() {
        assert_eq!(Data::parse("QUJD").unwrap().len(), 3);
        assert_eq!(Data::parse("QUI=").unwrap().len(), 2);
        for bad in ["QUI", "QUJ=", "QU==", "Q===", "QUJD\n", "QU-_", "QUI=QUI="] {
            assert_eq!(Data::parse(bad), Err(Error::BadBody), "{bad}");
        }
        let d = Data::parse("QUJD").unwrap();
        assert!(d.eq_bytes(b"ABC"));
        assert!(!d.eq_bytes(b"ABD"));
        assert!(!d.eq_bytes(b"AB"));
    }
}
