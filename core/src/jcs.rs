//! RFC 8785 JSON Canonicalization Scheme, streaming into a [`Sink`] (SPEC.md §2).
//!
//! Two passes over the input, neither of which allocates:
//! 1. an iterative validator (no recursion; depth tracked in a bitmask) that rejects everything
//!    SPEC.md §2 rejects except duplicate names;
//! 2. a recursive emitter (depth already bounded by pass 1) that sorts each object's members by
//!    UTF-16 code units, detects duplicate names while sorting, and writes canonical bytes
//!    straight into the sink (a SHA-256 hasher, a caller's buffer, ...).
//!
//! Member spans of open objects live in one fixed table shared by all nesting levels. An object
//! that does not fit the table is emitted by repeated selection instead (slower, same bytes), so
//! no input can exhaust memory.

use core::cmp::Ordering;

use crate::error::Error;

/// Maximum nesting of arrays and objects (SPEC.md §2.4). A value at depth 32 is accepted.
pub const MAX_DEPTH: usize = 32;

/// Member spans held at once across all open objects before falling back to selection.
const SPAN_TABLE: usize = 256;

/// Where canonical bytes go.
pub trait Sink {
    /// Appends `bytes`.
    ///
    /// # Errors
    /// [`Error::TooLarge`] when the sink has no room left.
    fn write(&mut self, bytes: &[u8]) -> Result<(), Error>;
}

impl Sink for sha2::Sha256 {
    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        sha2::Digest::update(self, bytes);
        Ok(())
    }
}

#[cfg(feature = "alloc")]
impl Sink for alloc::vec::Vec<u8> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

/// A [`Sink`] over a caller's buffer.
#[derive(Debug)]
pub struct SliceSink<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> SliceSink<'a> {
    /// Wraps `buf`; writing starts at its beginning.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// The bytes written so far.
    #[must_use]
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Number of bytes written so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing has been written.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Sink for SliceSink<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let cap = self.buf.len();
        let end = self
            .len
            .checked_add(bytes.len())
            .ok_or(Error::TooLarge { limit: cap })?;
        let dst = self
            .buf
            .get_mut(self.len..end)
            .ok_or(Error::TooLarge { limit: cap })?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

/// A [`Sink`] that compares what is written against expected bytes, for "is this already
/// canonical?" checks without a buffer.
#[derive(Debug)]
pub(crate) struct CompareSink<'a> {
    expected: &'a [u8],
    pos: usize,
    equal: bool,
}

impl<'a> CompareSink<'a> {
    pub(crate) fn new(expected: &'a [u8]) -> Self {
        Self {
            expected,
            pos: 0,
            equal: true,
        }
    }

    /// True when everything written equals `expected` exactly.
    pub(crate) fn matches(&self) -> bool {
        self.equal && self.pos == self.expected.len()
    }
}

impl Sink for CompareSink<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let end = self.pos.saturating_add(bytes.len());
        if self.expected.get(self.pos..end) != Some(bytes) {
            self.equal = false;
        }
        self.pos = end;
        Ok(())
    }
}

/// A [`Sink`] that discards everything (for validation-only passes).
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl Sink for NullSink {
    fn write(&mut self, _bytes: &[u8]) -> Result<(), Error> {
        Ok(())
    }
}

/// Checks everything SPEC.md §2 checks, including duplicate names at every level, and returns
/// the offset where the value starts.
///
/// # Errors
/// Every JSON error class of SPEC.md §2.
pub fn check(input: &[u8]) -> Result<usize, Error> {
    let mut ends = Ends::new();
    let (start, _) = validate_with(input, &mut ends)?;
    // The output is discarded, so numbers need no conversion.
    let mut em = Emitter::<false>::new(input, ends);
    em.value(start, 1, None, &mut NullSink)?;
    Ok(start)
}

/// One member of a checked object: its raw name and the raw text of its value.
#[derive(Clone, Copy, Debug)]
pub struct Member<'a> {
    name: &'a [u8],
    escaped: bool,
    /// The value's JSON text, exactly as in the input (strings keep their quotes).
    pub value: &'a [u8],
}

impl Member<'_> {
    /// True when the member's unescaped name equals `name`.
    #[must_use]
    pub fn name_is(&self, name: &str) -> bool {
        if self.escaped {
            Units::new(self.name).eq(name.encode_utf16())
        } else {
            self.name == name.as_bytes()
        }
    }
}

/// Iterates over the members of an object in a text that [`check`] or [`validate`] accepted.
#[derive(Clone, Debug)]
pub struct Members<'a> {
    src: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Members<'a> {
    /// Starts at the `{` at `at`; `None` when there is no object there.
    #[must_use]
    pub fn new(src: &'a [u8], at: usize) -> Option<Self> {
        if src.get(at) != Some(&b'{') {
            return None;
        }
        let pos = skip_ws_at(src, at + 1);
        let done = src.get(pos) == Some(&b'}');
        Some(Self { src, pos, done })
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = Result<Member<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let src = self.src;
        let step = || -> Result<(Member<'a>, usize, bool), Error> {
            let (name_end, escaped) = string_end(src, self.pos)?;
            let value_start = skip_ws_at(src, skip_ws_at(src, name_end) + 1);
            let value_end = skip_value(src, value_start)?;
            let after = skip_ws_at(src, value_end);
            let last = src.get(after) != Some(&b',');
            let name = src
                .get(self.pos + 1..name_end - 1)
                .ok_or(Error::JsonSyntax { offset: self.pos })?;
            let value = src.get(value_start..value_end).ok_or(Error::JsonSyntax {
                offset: value_start,
            })?;
            Ok((
                Member {
                    name,
                    escaped,
                    value,
                },
                skip_ws_at(src, after + 1),
                last,
            ))
        };
        match step() {
            Ok((m, next, last)) => {
                self.pos = next;
                self.done = last;
                Some(Ok(m))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

fn skip_ws_at(src: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = src.get(at) {
        at += 1;
    }
    at
}

/// Canonicalizes `input` (one JSON text) into `sink`.
///
/// # Errors
/// Any JSON error class of SPEC.md §2 ([`Error::JsonSyntax`], [`Error::InvalidUtf8`],
/// [`Error::LoneSurrogate`], [`Error::DuplicateKey`], [`Error::BadNumber`], [`Error::TooDeep`],
/// [`Error::TrailingData`]), or the sink's [`Error::TooLarge`]. On error the sink may hold a
/// prefix of the output.
pub fn canonicalize<S: Sink + ?Sized>(input: &[u8], sink: &mut S) -> Result<(), Error> {
    canonicalize_without(input, None, sink)
}

/// Canonicalizes `input` into `out`, returning the number of bytes written.
///
/// # Errors
/// As [`canonicalize`]; [`Error::TooLarge`] when `out` is too small.
pub fn canonicalize_to_slice(input: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    let mut sink = SliceSink::new(out);
    canonicalize(input, &mut sink)?;
    Ok(sink.len())
}

/// Canonicalizes `input` into a new vector.
///
/// # Errors
/// As [`canonicalize`].
#[cfg(feature = "alloc")]
pub fn canonicalize_to_vec(input: &[u8]) -> Result<alloc::vec::Vec<u8>, Error> {
    let mut out = alloc::vec::Vec::with_capacity(input.len());
    canonicalize(input, &mut out)?;
    Ok(out)
}

/// Canonicalizes `input`, leaving out the top-level member named `skip` (used for the signing
/// input: the object without its `"sig"`). `skip` is compared after unescaping.
///
/// # Errors
/// As [`canonicalize`].
pub fn canonicalize_without<S: Sink + ?Sized>(
    input: &[u8],
    skip: Option<&str>,
    sink: &mut S,
) -> Result<(), Error> {
    emit::<true, S>(input, skip, sink)
}

/// As [`canonicalize_without`], except that a number other than a plain integer (an optional
/// `-`, then digits, of magnitude at most 2^53) is copied as written instead of converted: the
/// output is the canonical form exactly when every number in `input` is such an integer. Every
/// error is the same. For callers that reject any other number afterwards (a claim: SPEC.md
/// §5.1), it keeps floating-point parsing and formatting out of their code.
pub(crate) fn canonicalize_integers_without<S: Sink + ?Sized>(
    input: &[u8],
    skip: Option<&str>,
    sink: &mut S,
) -> Result<(), Error> {
    emit::<false, S>(input, skip, sink)
}

fn emit<const CONVERT: bool, S: Sink + ?Sized>(
    input: &[u8],
    skip: Option<&str>,
    sink: &mut S,
) -> Result<(), Error> {
    let mut ends = Ends::new();
    let (start, _end) = validate_with(input, &mut ends)?;
    let mut em = Emitter::<CONVERT>::new(input, ends);
    let mut out = Batch {
        inner: sink,
        buf: [0; BATCH],
        len: 0,
    };
    em.value(start, 1, skip, &mut out)?;
    out.flush()
}

const BATCH: usize = 256;

/// Gathers the many tiny writes of the emitter (`"`, `:`, `,`, short names) so the sink, often a
/// hasher, sees few large updates.
struct Batch<'s, S: Sink + ?Sized> {
    inner: &'s mut S,
    buf: [u8; BATCH],
    len: usize,
}

impl<S: Sink + ?Sized> Batch<'_, S> {
    fn flush(&mut self) -> Result<(), Error> {
        let pending = self.buf.get(..self.len).unwrap_or_default();
        self.len = 0;
        self.inner.write(pending)
    }
}

impl<S: Sink + ?Sized> Sink for Batch<'_, S> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if self.len + bytes.len() > BATCH {
            self.flush()?;
            if bytes.len() >= BATCH {
                return self.inner.write(bytes);
            }
        }
        let end = self.len + bytes.len();
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
            self.len = end;
        }
        Ok(())
    }
}

/// Checks that `input` is one valid JSON text (everything except duplicate names) and returns
/// the span of its value.
///
/// # Errors
/// The JSON error classes of SPEC.md §2, except [`Error::DuplicateKey`].
pub fn validate(input: &[u8]) -> Result<(usize, usize), Error> {
    validate_with(input, &mut Ends::new())
}

/// Containers at least this long get their end offset remembered by the validator.
const BIG_CONTAINER: u32 = 512;
/// How many container ends are remembered.
const ENDS_TABLE: usize = 64;

/// End offsets of the largest containers, found while validating, so the emitter can step over
/// a big nested value without scanning it again (it scans each object's member values to find
/// the next member name). Full table: the rest are scanned, same bytes.
struct Ends {
    spans: [(u32, u32); ENDS_TABLE],
    len: usize,
}

impl Ends {
    const fn new() -> Self {
        Self {
            spans: [(0, 0); ENDS_TABLE],
            len: 0,
        }
    }

    fn record(&mut self, start: u32, end: u32) {
        if end - start >= BIG_CONTAINER {
            if let Some(slot) = self.spans.get_mut(self.len) {
                *slot = (start, end);
                self.len += 1;
            }
        }
    }

    fn seal(&mut self) {
        if let Some(spans) = self.spans.get_mut(..self.len) {
            heapsort(spans, |a, b| a.0 < b.0);
        }
    }

    fn end_of(&self, start: usize) -> Option<usize> {
        let spans = self.spans.get(..self.len)?;
        let start = u32::try_from(start).ok()?;
        let i = spans.binary_search_by_key(&start, |&(s, _)| s).ok()?;
        spans.get(i).map(|&(_, end)| end as usize)
    }
}

fn validate_with(input: &[u8], ends: &mut Ends) -> Result<(usize, usize), Error> {
    if u32::try_from(input.len()).is_err() {
        return Err(Error::TooLarge {
            limit: u32::MAX as usize,
        });
    }
    if let Err(e) = core::str::from_utf8(input) {
        return Err(Error::InvalidUtf8 {
            offset: e.valid_up_to(),
        });
    }
    let mut r = Cursor { src: input, pos: 0 };
    r.skip_ws();
    let start = r.pos;
    // bit d set: the container at depth d+1 is an object.
    let mut kinds: u64 = 0;
    let mut depth: usize = 0;
    let mut starts = [0u32; MAX_DEPTH];
    'value: loop {
        // expecting a value
        r.skip_ws();
        match r.peek() {
            Some(b'{') | Some(b'[') => {
                let is_obj = r.peek() == Some(b'{');
                if depth >= MAX_DEPTH {
                    return Err(Error::TooDeep { offset: r.pos });
                }
                if is_obj {
                    kinds |= 1 << depth;
                } else {
                    kinds &= !(1 << depth);
                }
                if let Some(slot) = starts.get_mut(depth) {
                    *slot = to_u32(r.pos);
                }
                depth += 1;
                r.pos += 1;
                r.skip_ws();
                let close = if is_obj { b'}' } else { b']' };
                if r.peek() == Some(close) {
                    r.pos += 1;
                    depth -= 1;
                } else {
                    if is_obj {
                        r.member_name()?;
                    }
                    continue 'value;
                }
            }
            Some(b'"') => {
                r.string()?;
            }
            Some(b'-' | b'0'..=b'9') => {
                r.number()?;
            }
            Some(b't') => r.literal(b"true")?,
            Some(b'f') => r.literal(b"false")?,
            Some(b'n') => r.literal(b"null")?,
            _ => return Err(Error::JsonSyntax { offset: r.pos }),
        }
        // after a value: close containers or go on to the next element
        loop {
            if depth == 0 {
                let end = r.pos;
                r.skip_ws();
                if r.pos != input.len() {
                    return Err(Error::TrailingData { offset: r.pos });
                }
                ends.seal();
                return Ok((start, end));
            }
            let is_obj = kinds & (1 << (depth - 1)) != 0;
            r.skip_ws();
            match r.peek() {
                Some(b',') => {
                    r.pos += 1;
                    if is_obj {
                        r.skip_ws();
                        r.member_name()?;
                    }
                    continue 'value;
                }
                Some(b'}') if is_obj => {
                    r.pos += 1;
                    depth -= 1;
                    ends.record(starts.get(depth).copied().unwrap_or(0), to_u32(r.pos));
                }
                Some(b']') if !is_obj => {
                    r.pos += 1;
                    depth -= 1;
                    ends.record(starts.get(depth).copied().unwrap_or(0), to_u32(r.pos));
                }
                _ => return Err(Error::JsonSyntax { offset: r.pos }),
            }
        }
    }
}

/// A byte cursor for the validating pass.
struct Cursor<'a> {
    src: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn literal(&mut self, lit: &[u8]) -> Result<(), Error> {
        let end = self.pos + lit.len();
        if self.src.get(self.pos..end) == Some(lit) {
            self.pos = end;
            Ok(())
        } else {
            Err(Error::JsonSyntax { offset: self.pos })
        }
    }

    /// `"name" ws ":"`, leaving the cursor before the value.
    fn member_name(&mut self) -> Result<(), Error> {
        if self.peek() != Some(b'"') {
            return Err(Error::JsonSyntax { offset: self.pos });
        }
        self.string()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(Error::JsonSyntax { offset: self.pos });
        }
        self.pos += 1;
        Ok(())
    }

    fn hex4(&self, at: usize) -> Result<u16, Error> {
        let digits = self
            .src
            .get(at..at + 4)
            .ok_or(Error::JsonSyntax { offset: at })?;
        let mut v: u16 = 0;
        for &d in digits {
            let n = hex_val(d).ok_or(Error::JsonSyntax { offset: at })?;
            v = (v << 4) | u16::from(n);
        }
        Ok(v)
    }

    /// A string starting at the opening quote; the input is known to be UTF-8.
    fn string(&mut self) -> Result<(), Error> {
        self.pos += 1;
        loop {
            self.pos = skip_plain(self.src, self.pos);
            let Some(b) = self.peek() else {
                return Err(Error::JsonSyntax { offset: self.pos });
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(());
                }
                b'\\' => {
                    let at = self.pos;
                    match self.src.get(at + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 2
                        }
                        Some(b'u') => {
                            let u = self.hex4(at + 2)?;
                            self.pos += 6;
                            if (0xD800..0xDC00).contains(&u) {
                                // must be followed by a low-surrogate escape
                                let low = if self.src.get(self.pos..self.pos + 2) == Some(b"\\u") {
                                    self.hex4(self.pos + 2)?
                                } else {
                                    0
                                };
                                if !(0xDC00..0xE000).contains(&low) {
                                    return Err(Error::LoneSurrogate { offset: at });
                                }
                                self.pos += 6;
                            } else if (0xDC00..0xE000).contains(&u) {
                                return Err(Error::LoneSurrogate { offset: at });
                            }
                        }
                        _ => return Err(Error::JsonSyntax { offset: at }),
                    }
                }
                0x00..=0x1F => return Err(Error::JsonSyntax { offset: self.pos }),
                _ => self.pos += 1,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<(), Error> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let n = self.digits();
        if n == 0 || (n > 1 && self.src.get(int_start) == Some(&b'0')) {
            return Err(Error::JsonSyntax { offset: int_start });
        }
        let mut simple = n <= 15;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(Error::JsonSyntax { offset: self.pos });
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            simple = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(Error::JsonSyntax { offset: self.pos });
            }
        }
        if !simple && overflows(self.src.get(start..self.pos).unwrap_or_default()) {
            return Err(Error::BadNumber { offset: start });
        }
        Ok(())
    }
}

fn hex_val(d: u8) -> Option<u8> {
    match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        b'A'..=b'F' => Some(d - b'A' + 10),
        _ => None,
    }
}

fn parse_f64(token: &[u8]) -> Option<f64> {
    core::str::from_utf8(token).ok()?.parse::<f64>().ok()
}

/// One object member in the span table: the raw name (between the quotes) and where its value
/// starts. Offsets are u32 (inputs are capped at 4 GiB) to keep the table small.
#[derive(Clone, Copy)]
struct Span {
    name_start: u32,
    name_end: u32,
    value_start: u32,
    escaped: bool,
}

impl Span {
    const EMPTY: Self = Self {
        name_start: 0,
        name_end: 0,
        value_start: 0,
        escaped: false,
    };
}

/// The second pass. `CONVERT`: numbers other than plain integers are converted to their
/// ECMAScript form (else copied as written; see [`canonicalize_integers_without`]).
struct Emitter<'a, const CONVERT: bool> {
    src: &'a [u8],
    ends: Ends,
    spans: [Span; SPAN_TABLE],
    top: usize,
}

impl<'a, const CONVERT: bool> Emitter<'a, CONVERT> {
    const fn new(src: &'a [u8], ends: Ends) -> Self {
        Self {
            src,
            ends,
            spans: [Span::EMPTY; SPAN_TABLE],
            top: 0,
        }
    }

    fn byte(&self, at: usize) -> Result<u8, Error> {
        self.src
            .get(at)
            .copied()
            .ok_or(Error::JsonSyntax { offset: at })
    }

    fn skip_ws(&self, mut at: usize) -> usize {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.src.get(at) {
            at += 1;
        }
        at
    }

    /// The offset just past the value at `at`, from the table of big containers if it is one.
    fn skip(&self, at: usize) -> Result<usize, Error> {
        match self.ends.end_of(at) {
            Some(end) => Ok(end),
            None => skip_value(self.src, at),
        }
    }

    /// Emits the (validated) value at `at`; returns the offset just past it.
    fn value<S: Sink + ?Sized>(
        &mut self,
        at: usize,
        depth: usize,
        skip: Option<&str>,
        sink: &mut S,
    ) -> Result<usize, Error> {
        match self.byte(at)? {
            b'{' => self.object(at, depth, skip, sink),
            b'[' => {
                sink.write(b"[")?;
                let mut p = self.skip_ws(at + 1);
                if self.byte(p)? == b']' {
                    sink.write(b"]")?;
                    return Ok(p + 1);
                }
                loop {
                    p = self.value(p, depth + 1, None, sink)?;
                    p = self.skip_ws(p);
                    match self.byte(p)? {
                        b',' => {
                            sink.write(b",")?;
                            p = self.skip_ws(p + 1);
                        }
                        _ => {
                            sink.write(b"]")?;
                            return Ok(p + 1);
                        }
                    }
                }
            }
            b'"' => {
                let (end, escaped) = string_end(self.src, at)?;
                emit_string(
                    self.src.get(at + 1..end - 1).unwrap_or_default(),
                    escaped,
                    sink,
                )?;
                Ok(end)
            }
            b't' => sink.write(b"true").map(|()| at + 4),
            b'f' => sink.write(b"false").map(|()| at + 5),
            b'n' => sink.write(b"null").map(|()| at + 4),
            _ => {
                let end = number_end(self.src, at);
                let token = self.src.get(at..end).unwrap_or_default();
                if CONVERT {
                    emit_number(token, at, sink)?;
                } else if is_plain_integer(token) {
                    emit_plain_integer(token, sink)?;
                } else {
                    sink.write(token)?;
                }
                Ok(end)
            }
        }
    }

    /// Reads the members of the object at `at` into `out` (as many as fit); returns the count,
    /// whether all fit, and the offset past the object.
    fn scan_members(&mut self, at: usize) -> Result<(usize, bool, usize), Error> {
        let base = self.top;
        let mut count = 0usize;
        let mut fits = true;
        let mut p = self.skip_ws(at + 1);
        if self.byte(p)? == b'}' {
            return Ok((0, true, p + 1));
        }
        loop {
            let (name_end, escaped) = string_end(self.src, p)?;
            let colon = self.skip_ws(name_end);
            let value_start = self.skip_ws(colon + 1);
            if let Some(slot) = self.spans.get_mut(base + count) {
                *slot = Span {
                    name_start: to_u32(p + 1),
                    name_end: to_u32(name_end - 1),
                    value_start: to_u32(value_start),
                    escaped,
                };
            } else {
                fits = false;
            }
            count += 1;
            p = self.skip_ws(self.skip(value_start)?);
            match self.byte(p)? {
                b',' => p = self.skip_ws(p + 1),
                _ => return Ok((count, fits, p + 1)),
            }
        }
    }

    fn object<S: Sink + ?Sized>(
        &mut self,
        at: usize,
        depth: usize,
        skip: Option<&str>,
        sink: &mut S,
    ) -> Result<usize, Error> {
        let base = self.top;
        let (count, fits, end) = self.scan_members(at)?;
        sink.write(b"{")?;
        if fits {
            let src = self.src;
            let table = self
                .spans
                .get_mut(base..base + count)
                .ok_or(Error::TooLarge { limit: SPAN_TABLE })?;
            heapsort(table, |a, b| compare_names(src, a, b) == Ordering::Less);
            if table
                .windows(2)
                .any(|w| matches!(w, [a, b] if compare_names(src, a, b) == Ordering::Equal))
            {
                return Err(Error::DuplicateKey { offset: at });
            }
            self.top = base + count;
            let mut first = true;
            for i in base..base + count {
                let m = *self
                    .spans
                    .get(i)
                    .ok_or(Error::TooLarge { limit: SPAN_TABLE })?;
                if let Some(s) = skip {
                    if name_equals(src, &m, s) {
                        continue;
                    }
                }
                self.member(&m, &mut first, depth, sink)?;
            }
            self.top = base;
        } else {
            self.object_by_selection(at, depth, skip, sink)?;
        }
        sink.write(b"}")?;
        Ok(end)
    }

    fn member<S: Sink + ?Sized>(
        &mut self,
        m: &Span,
        first: &mut bool,
        depth: usize,
        sink: &mut S,
    ) -> Result<(), Error> {
        if !*first {
            sink.write(b",")?;
        }
        *first = false;
        let name = self
            .src
            .get(m.name_start as usize..m.name_end as usize)
            .unwrap_or_default();
        emit_string(name, m.escaped, sink)?;
        sink.write(b":")?;
        self.value(m.value_start as usize, depth + 1, None, sink)?;
        Ok(())
    }

    /// Emits an object too large for the span table: repeatedly finds the smallest name greater
    /// than the last one emitted. Quadratic in the member count, but needs no memory.
    fn object_by_selection<S: Sink + ?Sized>(
        &mut self,
        at: usize,
        depth: usize,
        skip: Option<&str>,
        sink: &mut S,
    ) -> Result<(), Error> {
        let src = self.src;
        let mut last: Option<Span> = None;
        let mut first = true;
        loop {
            let mut best: Option<Span> = None;
            let mut p = self.skip_ws(at + 1);
            if self.byte(p)? == b'}' {
                return Ok(());
            }
            loop {
                let (name_end, escaped) = string_end(src, p)?;
                let colon = self.skip_ws(name_end);
                let value_start = self.skip_ws(colon + 1);
                let m = Span {
                    name_start: to_u32(p + 1),
                    name_end: to_u32(name_end - 1),
                    value_start: to_u32(value_start),
                    escaped,
                };
                let above_last = last
                    .as_ref()
                    .is_none_or(|l| compare_names(src, &m, l) == Ordering::Greater);
                if above_last {
                    match best.as_ref().map(|b| compare_names(src, &m, b)) {
                        None | Some(Ordering::Less) => best = Some(m),
                        Some(Ordering::Equal) => return Err(Error::DuplicateKey { offset: at }),
                        Some(Ordering::Greater) => {}
                    }
                }
                p = self.skip_ws(self.skip(value_start)?);
                match self.byte(p)? {
                    b',' => p = self.skip_ws(p + 1),
                    _ => break,
                }
            }
            let Some(m) = best else { return Ok(()) };
            if !skip.is_some_and(|s| name_equals(src, &m, s)) {
                self.member(&m, &mut first, depth, sink)?;
            }
            last = Some(m);
        }
    }
}

/// Sorts `v` in place by `less` (unstable): heapsort, O(n log n) comparisons with no recursion
/// and no memory, in a few hundred bytes of code where the standard library's sorts take
/// kilobytes per element type (firmware images count them; see core/embedded-check).
fn heapsort<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let is_less = |v: &[T], a: usize, b: usize| match (v.get(a), v.get(b)) {
        (Some(x), Some(y)) => less(x, y),
        _ => false,
    };
    // Moves the element at `root` down the max-heap held in v[..end].
    let sift_down = |v: &mut [T], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && is_less(v, child, child + 1) {
            child += 1;
        }
        if !is_less(v, root, child) {
            break;
        }
        v.swap(root, child);
        root = child;
    };
    let n = v.len();
    for root in (0..n / 2).rev() {
        sift_down(v, root, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

fn to_u32(v: usize) -> u32 {
    // inputs are checked to be < 4 GiB in `validate`
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Given the opening quote at `at` of a validated string, returns the offset past the closing
/// quote and whether the string holds escapes.
fn string_end(src: &[u8], at: usize) -> Result<(usize, bool), Error> {
    let mut p = at + 1;
    let mut escaped = false;
    loop {
        p = skip_plain(src, p);
        match src.get(p) {
            Some(b'"') => return Ok((p + 1, escaped)),
            Some(b'\\') => {
                escaped = true;
                p += 2;
            }
            Some(_) => p += 1,
            None => return Err(Error::JsonSyntax { offset: p }),
        }
    }
}

/// Skips 8 bytes at a time while none of them is `"`, `\\` or a control character (SWAR), so
/// long string bodies cost a fraction of a byte-by-byte loop. Returns where to resume bytewise.
#[inline]
fn skip_plain(src: &[u8], mut at: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = src.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let zero_byte = |x: u64| x.wrapping_sub(LO) & !x & HI;
        let special = zero_byte(v ^ (LO * u64::from(b'"')))
            | zero_byte(v ^ (LO * u64::from(b'\\')))
            | (v.wrapping_sub(LO * 0x20) & !v & HI);
        if special != 0 {
            break;
        }
        at += 8;
    }
    at
}

fn number_end(src: &[u8], mut at: usize) -> usize {
    while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = src.get(at) {
        at += 1;
    }
    at
}

/// Returns the offset just past the validated value starting at `at`.
fn skip_value(src: &[u8], at: usize) -> Result<usize, Error> {
    match src.get(at) {
        Some(b'"') => string_end(src, at).map(|(e, _)| e),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut p = at;
            loop {
                match src.get(p) {
                    Some(b'{' | b'[') => depth += 1,
                    Some(b'}' | b']') => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(p + 1);
                        }
                    }
                    Some(b'"') => {
                        p = string_end(src, p)?.0;
                        continue;
                    }
                    Some(_) => {}
                    None => return Err(Error::JsonSyntax { offset: p }),
                }
                p += 1;
            }
        }
        Some(b't' | b'n') => Ok(at + 4),
        Some(b'f') => Ok(at + 5),
        Some(_) => Ok(number_end(src, at)),
        None => Err(Error::JsonSyntax { offset: at }),
    }
}

/// UTF-16 code units of a raw (validated) JSON string body, escapes decoded.
struct Units<'a> {
    raw: &'a [u8],
    pos: usize,
    pending: Option<u16>,
}

impl<'a> Units<'a> {
    fn new(raw: &'a [u8]) -> Self {
        Self {
            raw,
            pos: 0,
            pending: None,
        }
    }
}

impl Iterator for Units<'_> {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        if let Some(u) = self.pending.take() {
            return Some(u);
        }
        let b = *self.raw.get(self.pos)?;
        if b == b'\\' {
            let e = *self.raw.get(self.pos + 1)?;
            self.pos += 2;
            return Some(match e {
                b'b' => 0x08,
                b'f' => 0x0C,
                b'n' => 0x0A,
                b'r' => 0x0D,
                b't' => 0x09,
                b'u' => {
                    let mut v: u16 = 0;
                    for &d in self.raw.get(self.pos..self.pos + 4)? {
                        v = (v << 4) | u16::from(hex_val(d)?);
                    }
                    self.pos += 4;
                    v
                }
                other => u16::from(other),
            });
        }
        let (c, len) = decode_utf8(self.raw.get(self.pos..)?)?;
        self.pos += len;
        let mut buf = [0u16; 2];
        let units = c.encode_utf16(&mut buf);
        if let [hi, lo] = units {
            self.pending = Some(*lo);
            return Some(*hi);
        }
        units.first().copied()
    }
}

/// Decodes one char from valid UTF-8.
fn decode_utf8(s: &[u8]) -> Option<(char, usize)> {
    let len = match *s.first()? {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    };
    let c = core::str::from_utf8(s.get(..len)?).ok()?.chars().next()?;
    Some((c, len))
}

/// Orders two member names by the UTF-16 code units of their unescaped values (RFC 8785 §3.2.3).
fn compare_names(src: &[u8], a: &Span, b: &Span) -> Ordering {
    let ra = src
        .get(a.name_start as usize..a.name_end as usize)
        .unwrap_or_default();
    let rb = src
        .get(b.name_start as usize..b.name_end as usize)
        .unwrap_or_default();
    if !a.escaped && !b.escaped {
        return compare_utf8_as_utf16(ra, rb);
    }
    Units::new(ra).cmp(Units::new(rb))
}

/// UTF-8 byte order equals code point order; UTF-16 order differs only where a supplementary
/// character (4-byte UTF-8, surrogates in UTF-16) meets one in U+E000..U+FFFF (lead 0xEE/0xEF).
fn compare_utf8_as_utf16(a: &[u8], b: &[u8]) -> Ordering {
    match a.iter().zip(b).find(|(x, y)| x != y) {
        None => a.len().cmp(&b.len()),
        Some((&x, &y)) => match (x, y) {
            (0xF0..=0xFF, 0xEE..=0xEF) => Ordering::Less,
            (0xEE..=0xEF, 0xF0..=0xFF) => Ordering::Greater,
            _ => x.cmp(&y),
        },
    }
}

fn name_equals(src: &[u8], m: &Span, name: &str) -> bool {
    let raw = src
        .get(m.name_start as usize..m.name_end as usize)
        .unwrap_or_default();
    if m.escaped {
        Units::new(raw).eq(name.encode_utf16())
    } else {
        raw == name.as_bytes()
    }
}

/// Writes a string in canonical form. `raw` is the validated body between the quotes.
fn emit_string<S: Sink + ?Sized>(raw: &[u8], escaped: bool, sink: &mut S) -> Result<(), Error> {
    sink.write(b"\"")?;
    if !escaped {
        // a raw body has no quote, backslash or control character: it is already canonical
        sink.write(raw)?;
        return sink.write(b"\"");
    }
    let mut run = 0usize;
    let mut p = 0usize;
    while let Some(&b) = raw.get(p) {
        if b != b'\\' {
            p += 1;
            continue;
        }
        sink.write(raw.get(run..p).unwrap_or_default())?;
        let e = raw.get(p + 1).copied().unwrap_or(b'\\');
        p += 2;
        let cp: u32 = match e {
            b'b' => 0x08,
            b'f' => 0x0C,
            b'n' => 0x0A,
            b'r' => 0x0D,
            b't' => 0x09,
            b'u' => {
                let hi = u32::from(read_hex4(raw, p));
                p += 4;
                if (0xD800..0xDC00).contains(&hi) {
                    let lo = u32::from(read_hex4(raw, p + 2));
                    p += 6;
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else {
                    hi
                }
            }
            other => u32::from(other),
        };
        emit_char(cp, sink)?;
        run = p;
    }
    sink.write(raw.get(run..).unwrap_or_default())?;
    sink.write(b"\"")
}

fn read_hex4(raw: &[u8], at: usize) -> u16 {
    raw.get(at..at + 4)
        .map(|d| {
            d.iter()
                .fold(0u16, |v, &x| (v << 4) | u16::from(hex_val(x).unwrap_or(0)))
        })
        .unwrap_or(0)
}

fn emit_char<S: Sink + ?Sized>(cp: u32, sink: &mut S) -> Result<(), Error> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match cp {
        0x22 => sink.write(b"\\\""),
        0x5C => sink.write(b"\\\\"),
        0x08 => sink.write(b"\\b"),
        0x0C => sink.write(b"\\f"),
        0x0A => sink.write(b"\\n"),
        0x0D => sink.write(b"\\r"),
        0x09 => sink.write(b"\\t"),
        0x00..=0x1F => {
            let hi = HEX.get((cp >> 4) as usize).copied().unwrap_or(b'0');
            let lo = HEX.get((cp & 0xF) as usize).copied().unwrap_or(b'0');
            sink.write(&[b'\\', b'u', b'0', b'0', hi, lo])
        }
        _ => {
            let c = char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut buf = [0u8; 4];
            sink.write(c.encode_utf8(&mut buf).as_bytes())
        }
    }
}

/// Writes a number in ECMAScript form. Plain integers are already canonical.
fn emit_number<S: Sink + ?Sized>(token: &[u8], at: usize, sink: &mut S) -> Result<(), Error> {
    if is_plain_integer(token) {
        return emit_plain_integer(token, sink);
    }
    let v = parse_f64(token)
        .filter(|v| v.is_finite())
        .ok_or(Error::BadNumber { offset: at })?;
    if v == 0.0 {
        return sink.write(b"0");
    }
    let mut buf = ryu_js::Buffer::new();
    sink.write(buf.format_finite(v).as_bytes())
}

/// 2^53, the largest of the run of integers binary64 holds exactly.
const TWO_POW_53: &[u8; 16] = b"9007199254740992";

/// Whether `token` is an optional `-` and digits (no fraction or exponent) of magnitude at most
/// 2^53: a binary64 value exactly, whose ECMAScript form is the digits as written (`-0` aside).
fn is_plain_integer(token: &[u8]) -> bool {
    let digits = token.strip_prefix(b"-").unwrap_or(token);
    digits.iter().all(u8::is_ascii_digit)
        && (digits.len() < TWO_POW_53.len()
            || (digits.len() == TWO_POW_53.len() && digits <= TWO_POW_53.as_slice()))
}

fn emit_plain_integer<S: Sink + ?Sized>(token: &[u8], sink: &mut S) -> Result<(), Error> {
    if token == b"-0" {
        return sink.write(b"0");
    }
    sink.write(token)
}

/// 2^1024 − 2^970 in decimal: the magnitude from which a decimal rounds to infinity in binary64
/// (halfway between the largest finite value and 2^1024, which rounds to even: up).
const OVERFLOW_DIGITS: &[u8; 309] = b"179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

/// Whether the exact value of a JSON number token (already syntax-checked) is at least
/// 2^1024 − 2^970 in magnitude, so that binary64 rounding gives infinity (SPEC.md §2.3).
/// Decided on the digits alone, without floating point.
fn overflows(token: &[u8]) -> bool {
    let token = token.strip_prefix(b"-").unwrap_or(token);
    let (mantissa, exponent) = match token.iter().position(|&b| b == b'e' || b == b'E') {
        Some(i) => (
            token.get(..i).unwrap_or_default(),
            token.get(i + 1..).unwrap_or_default(),
        ),
        None => (token, &[][..]),
    };
    let (int, frac) = match mantissa.iter().position(|&b| b == b'.') {
        Some(i) => (
            mantissa.get(..i).unwrap_or_default(),
            mantissa.get(i + 1..).unwrap_or_default(),
        ),
        None => (mantissa, &[][..]),
    };
    let (negative, exp_digits) = match exponent.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, exponent),
    };
    // Saturated far beyond any input length (< 2^32), so the sums below cannot overflow.
    let mut e: i64 = 0;
    for &d in exp_digits {
        e = (e * 10 + i64::from(d - b'0')).min(1 << 40);
    }
    if negative {
        e = -e;
    }
    let digits = || int.iter().chain(frac.iter()).copied();
    let Some(lead) = digits().position(|d| d != b'0') else {
        return false; // zero
    };
    // value = 0.D × 10^p, with D the digits from the first non-zero one
    let p =
        i64::try_from(int.len()).unwrap_or(i64::MAX) - i64::try_from(lead).unwrap_or(i64::MAX) + e;
    let threshold_p = i64::try_from(OVERFLOW_DIGITS.len()).unwrap_or(i64::MAX);
    if p != threshold_p {
        return p > threshold_p;
    }
    let mut significant = digits().skip(lead);
    for &t in OVERFLOW_DIGITS {
        let d = significant.next().unwrap_or(b'0');
        if d != t {
            return d > t;
        }
    }
    true
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn canon(s: &str) -> Result<std::string::String, Error> {
        let mut out = [0u8; 4096];
        let n = canonicalize_to_slice(s.as_bytes(), &mut out)?;
        Ok(std::string::String::from_utf8(out[..n].to_vec()).unwrap_or_default())
    }

    extern crate std;

    #[test]
    fn sorts_and_strips() {
        assert_eq!(
            canon(" { \"b\" : [1, 2.50, -0, 1e3], \"a\": \"\\u0041\\n\" } ").as_deref(),
            Ok("{\"a\":\"A\\n\",\"b\":[1,2.5,0,1000]}")
        );
    }

    #[test]
    fn rejects_each_class() {
        assert!(matches!(
            canon("{\"a\":1,\"a\":2}"),
            Err(Error::DuplicateKey { .. })
        ));
        assert!(matches!(
            canon("{\"a\":1,\"\\u0061\":2}"),
            Err(Error::DuplicateKey { .. })
        ));
        assert!(matches!(
            canon("\"\\ud800\""),
            Err(Error::LoneSurrogate { .. })
        ));
        assert!(matches!(
            canon("\"\\udc00\\ud800\""),
            Err(Error::LoneSurrogate { .. })
        ));
        assert!(matches!(canon("1e400"), Err(Error::BadNumber { .. })));
        assert!(matches!(canon("[1] x"), Err(Error::TrailingData { .. })));
        assert!(matches!(canon("01"), Err(Error::JsonSyntax { .. })));
        assert!(matches!(canon("[1,]"), Err(Error::JsonSyntax { .. })));
        assert!(matches!(canon("{\"a\" 1}"), Err(Error::JsonSyntax { .. })));
        assert!(matches!(canon("\"\t\""), Err(Error::JsonSyntax { .. })));
        let deep = "[".repeat(33) + &"]".repeat(33);
        assert!(matches!(canon(&deep), Err(Error::TooDeep { .. })));
        let ok = "[".repeat(32) + &"]".repeat(32);
        assert_eq!(canon(&ok), Ok(ok.clone()));
        assert!(matches!(
            canonicalize_to_slice(b"\"\xff\"", &mut [0; 8]),
            Err(Error::InvalidUtf8 { offset: 1 })
        ));
    }

    /// The digit rule of `overflows` against the standard library's correctly rounded parser.
    fn overflows_like_f64(token: &str) {
        let by_f64 = !parse_f64(token.as_bytes()).is_some_and(f64::is_finite);
        assert_eq!(overflows(token.as_bytes()), by_f64, "{token}");
    }

    #[test]
    fn overflow_boundary() {
        use std::borrow::ToOwned;
        let t = core::str::from_utf8(OVERFLOW_DIGITS).unwrap_or_default();
        let below = t.replace("97792", "97791");
        for (token, over) in [
            (t.to_owned(), true),
            (below.clone(), false),
            (std::format!("-{t}"), true),
            (std::format!("{t}.0000000001"), true),
            (std::format!("{below}.9999999999"), false),
            (std::format!("0.{t}e309"), true),
            (std::format!("0.000{t}e312"), true),
            (std::format!("0.000{below}9e312"), false),
            (std::format!("{}.{}e1", &t[..308], &t[308..]), true),
            ("1.7976931348623157e308".into(), false),
            ("1.7976931348623158e308".into(), false),
            ("1.7976931348623159e308".into(), true),
            ("1e308".into(), false),
            ("1e309".into(), true),
            ("10e308".into(), true),
            ("0.1e309".into(), false),
            ("0e999999999999999999999".into(), false),
            ("0.000e+400".into(), false),
            ("1e-999999999999999999999".into(), false),
            ("1e999999999999999999999".into(), true),
            ("-1E+400".into(), true),
            (std::format!("1{}", "0".repeat(309)), true),
            (std::format!("1{}", "0".repeat(308)), false),
        ] {
            assert_eq!(overflows(token.as_bytes()), over, "{token}");
            overflows_like_f64(&token);
        }
    }

    proptest::proptest! {
        #[test]
        fn heapsort_sorts(mut v in proptest::collection::vec(0u16..50, 0..300)) {
            let mut expected = v.clone();
            expected.sort_unstable();
            heapsort(&mut v, |a, b| a < b);
            proptest::prop_assert_eq!(v, expected);
        }
    }

    proptest::proptest! {
        #[test]
        fn overflow_matches_f64(
            negative: bool,
            lead_zeros in 0usize..4,
            prefix in 0usize..=309,
            tail in "[0-9]{0,12}",
            point in proptest::option::of(0usize..320),
            shift in -12i32..12,
        ) {
            // digits around the threshold: a prefix of it, then anything
            let t = core::str::from_utf8(OVERFLOW_DIGITS).unwrap_or_default();
            let mut digits = std::format!("{}{}{tail}", "0".repeat(lead_zeros), &t[..prefix]);
            if digits.trim_start_matches('0').is_empty() {
                digits.push('1');
            }
            let int_len = point.unwrap_or(digits.len()).clamp(1, digits.len());
            let (int, frac) = digits.split_at(int_len);
            let int = match int.trim_start_matches('0') { "" => "0", i => i };
            let mut token = std::format!("{}{int}", if negative { "-" } else { "" });
            if !frac.is_empty() {
                token = std::format!("{token}.{frac}");
            }
            if shift != 0 {
                token = std::format!("{token}e{shift}");
            }
            overflows_like_f64(&token);
        }
    }

    #[test]
    fn utf16_order() {
        // U+E000 sorts after U+10000 in code points but before it in UTF-16
        assert_eq!(
            canon("{\"\u{e000}\":1,\"\u{10000}\":2}").as_deref(),
            Ok("{\"\u{10000}\":2,\"\u{e000}\":1}")
        );
    }

    #[test]
    fn selection_fallback_matches_table() {
        let mut s = std::string::String::from("{");
        for i in (0..600).rev() {
            if i != 599 {
                s.push(',');
            }
            s.push_str(&std::format!("\"k{i:04}\":{{\"z\":{i},\"a\":[{i}]}}"));
        }
        s.push('}');
        let mut out = std::vec![0u8; 1 << 16];
        let n = canonicalize_to_slice(s.as_bytes(), &mut out).unwrap_or(0);
        let text = core::str::from_utf8(&out[..n]).unwrap_or("");
        assert!(text.starts_with("{\"k0000\":{\"a\":[0],\"z\":0},\"k0001\""));
        let dup = s.replacen("k0007", "k0008", 1);
        assert!(matches!(
            canonicalize_to_slice(dup.as_bytes(), &mut out),
            Err(Error::DuplicateKey { .. })
        ));
    }

    #[test]
    fn skip_top_level_sig() {
        let mut out = [0u8; 64];
        let mut sink = SliceSink::new(&mut out);
        canonicalize_without(b"{\"sig\":\"x\",\"a\":{\"sig\":1}}", Some("sig"), &mut sink)
            .unwrap_or(());
        assert_eq!(sink.written(), b"{\"a\":{\"sig\":1}}");
    }
}
