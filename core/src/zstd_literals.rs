//! The per-stream rule for Huffman-coded literals in a compact frame (SPEC.md §9.2 step 7;
//! RFC 8878 §3.1.1.3.1.6 and §4.2.2).
//!
//! A literals section with four Huffman streams says only the total Regenerated_Size; each of
//! the first three streams must decode exactly `(Regenerated_Size + 3) / 4` symbols, the last
//! one the rest, and each bitstream must be consumed exactly. ruzstd 0.9.1 decodes every stream
//! until its bits run out and checks only the total (and, with one stream, not even that the
//! bits end exactly). So a faulty frame whose second stream holds one symbol too many and whose
//! fourth holds one too few decodes in ruzstd to literals shifted by one byte across the stream
//! boundary, where libzstd, which fills each stream's share exactly, gives other bytes (fuzz
//! finding `fuzz/regressions/compact_zstd/open-ruzstd-and-c-decode-differently.zst`, see
//! `fuzz/README.md`). Such a frame is invalid, so kez refuses it before ruzstd decodes the
//! block.
//!
//! The count of each stream is taken with ruzstd itself, so the Huffman table is the one the
//! real decode uses: the stream goes alone into a small synthetic frame, as the fourth stream of
//! a four-stream section whose first three streams are empty (`01`: padding only, no symbol)
//! and whose Regenerated_Size is the count the stream must have. ruzstd checks that every
//! stream of a four-stream section ends exactly and that the total matches, so it accepts that
//! frame only when the stream holds exactly that many symbols.

use alloc::vec::Vec;

use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use crate::error::Error;

/// The largest block (RFC 8878 §3.1.1.2.3) and the window of the synthetic frame.
const MAX_BLOCK: usize = 131_072;
/// A Huffman stream holding no symbol: the final-bit flag alone.
const EMPTY_STREAM: u8 = 0x01;
/// libzstd refuses four streams below this Regenerated_Size (`MIN_LITERALS_FOR_4_STREAMS`);
/// kez refuses them too, so it never accepts a frame the C library refuses.
const MIN_FOUR_STREAMS: usize = 6;

/// Checks the Huffman streams of the block that starts `rest` (a Block_Header, then the block),
/// if it is a compressed block with Huffman-coded literals. `tree` is the Huffman tree
/// description of the last compressed literals section, which a treeless section reuses; it is
/// updated when this block carries a new one. `room` is how many output bytes the frame may
/// still produce: a section that regenerates more fails the output bound anyway.
///
/// Anything malformed that this check does not look at is left to ruzstd, which refuses it.
///
/// # Errors
/// [`Error::BadCompression`] when a stream does not decode exactly its share.
pub(crate) fn check_block<'a>(
    rest: &'a [u8],
    tree: &mut Option<&'a [u8]>,
    room: usize,
) -> Result<(), Error> {
    let [b0, b1, b2, body @ ..] = rest else {
        return Ok(());
    };
    let header = u32::from(*b0) | u32::from(*b1) << 8 | u32::from(*b2) << 16;
    let compressed = (header >> 1) & 0b11 == 2;
    let size = usize::try_from(header >> 3).map_err(|_| Error::BadCompression)?;
    match body.get(..size) {
        Some(block) if compressed => {
            check_sequences_modes(block)?;
            check_literals(block, tree, room)
        }
        _ => Ok(()),
    }
}

/// The length of the literals section that starts `block` (RFC 8878 §3.1.1.3.1.1), if its
/// header is complete.
fn literals_section_len(block: &[u8]) -> Option<usize> {
    let &b0 = block.first()?;
    let byte = |i: usize| block.get(i).map(|&b| usize::from(b));
    let size_format = (b0 >> 2) & 0b11;
    if b0 & 0b11 < 2 {
        // raw or RLE: Regenerated_Size only; RLE content is one byte
        let (header_len, size) = match size_format {
            0 | 2 => (1, usize::from(b0 >> 3)),
            1 => (2, usize::from(b0 >> 4) | byte(1)? << 4),
            _ => (3, usize::from(b0 >> 4) | byte(1)? << 4 | byte(2)? << 12),
        };
        return Some(header_len + if b0 & 0b11 == 0 { size } else { 1 });
    }
    let (header_len, bits) = match size_format {
        0 | 1 => (3, 10),
        2 => (4, 14),
        _ => (5, 18),
    };
    let h = block
        .get(..header_len)?
        .iter()
        .rev()
        .fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    let compressed = usize::try_from((h >> (4 + bits)) & ((1u64 << bits) - 1)).ok()?;
    Some(header_len + compressed)
}

/// The two reserved bits of Symbol_Compression_Modes (RFC 8878 §3.1.1.3.2.1) must be zero: a
/// frame that sets them is invalid, and the reference decoder refuses it where ruzstd 0.9.1
/// ignores them.
fn check_sequences_modes(block: &[u8]) -> Result<(), Error> {
    let Some(sequences) = literals_section_len(block).and_then(|n| block.get(n..)) else {
        return Ok(()); // truncated: ruzstd refuses it
    };
    // Number_of_Sequences takes 1, 2 or 3 bytes; with no sequence there is no modes byte
    let modes_at = match sequences.first() {
        None | Some(0) => return Ok(()),
        Some(1..=127) => 1,
        Some(128..=254) => 2,
        Some(255) => 3,
    };
    match sequences.get(modes_at) {
        Some(modes) if modes & 0b11 != 0 => Err(Error::BadCompression),
        _ => Ok(()),
    }
}

/// The literals section at the start of a compressed block (RFC 8878 §3.1.1.3.1).
fn check_literals<'a>(
    block: &'a [u8],
    tree: &mut Option<&'a [u8]>,
    room: usize,
) -> Result<(), Error> {
    let Some(&b0) = block.first() else {
        return Ok(());
    };
    let kind = b0 & 0b11;
    if kind < 2 {
        return Ok(()); // raw or RLE literals: no Huffman stream
    }
    // Size_Format: header length, bits per size field, four streams
    let (header_len, bits, four) = match (b0 >> 2) & 0b11 {
        0 => (3, 10, false),
        1 => (3, 10, true),
        2 => (4, 14, true),
        _ => (5, 18, true),
    };
    let Some(header) = block.get(..header_len) else {
        return Ok(());
    };
    let h = header
        .iter()
        .rev()
        .fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    let mask = (1u64 << bits) - 1;
    let regenerated = usize::try_from((h >> 4) & mask).map_err(|_| Error::BadCompression)?;
    let compressed =
        usize::try_from((h >> (4 + bits)) & mask).map_err(|_| Error::BadCompression)?;
    let Some(section) = header_len
        .checked_add(compressed)
        .and_then(|end| block.get(header_len..end))
    else {
        return Ok(());
    };
    let (desc, streams) = if kind == 2 {
        let Some(&first) = section.first() else {
            return Ok(());
        };
        // FSE-compressed weights take `first` bytes; direct weights two per byte
        let len = if first < 128 {
            1 + usize::from(first)
        } else {
            1 + (usize::from(first) - 126) / 2
        };
        let Some((desc, streams)) = section.split_at_checked(len) else {
            return Ok(());
        };
        check_tree(desc)?;
        *tree = Some(desc);
        (desc, streams)
    } else {
        let Some(desc) = *tree else {
            return Ok(()); // treeless with no tree before it: ruzstd refuses it
        };
        (desc, section)
    };
    if regenerated > room {
        return Ok(()); // cannot be accepted: the output would pass its bound
    }
    if !four {
        return check_stream(desc, streams, regenerated);
    }
    if regenerated < MIN_FOUR_STREAMS {
        return Err(Error::BadCompression);
    }
    let [j0, j1, j2, j3, j4, j5, streams @ ..] = streams else {
        return Ok(());
    };
    let l1 = usize::from(u16::from_le_bytes([*j0, *j1]));
    let l2 = usize::from(u16::from_le_bytes([*j2, *j3]));
    let l3 = usize::from(u16::from_le_bytes([*j4, *j5]));
    let Some(((s1, s2), (s3, s4))) = streams.split_at_checked(l1).and_then(|(s1, rest)| {
        let (s2, rest) = rest.split_at_checked(l2)?;
        Some(((s1, s2), rest.split_at_checked(l3)?))
    }) else {
        return Ok(());
    };
    let share = regenerated.div_ceil(4);
    let last = regenerated
        .checked_sub(3 * share)
        .ok_or(Error::BadCompression)?;
    for (stream, count) in [(s1, share), (s2, share), (s3, share), (s4, last)] {
        check_stream(desc, stream, count)?;
    }
    Ok(())
}

/// The deepest codes of a Huffman tree description must be as long as its table log: at least
/// one symbol (then, the total being a power of two, an even number of them) has weight 1,
/// counting the implied last symbol (RFC 8878 §4.2.1). Every tree an encoder builds has such
/// leaves; the reference decoder refuses a description without them, where ruzstd 0.9.1 builds a
/// table from it. The weights are read as ruzstd reads them; a description ruzstd refuses is
/// left to it.
fn check_tree(desc: &[u8]) -> Result<(), Error> {
    match tree_weights(desc) {
        Some(weights) => check_weights(&weights),
        None => Ok(()),
    }
}

/// [`check_tree`] on the explicit weights. Also: at most 255 of them (symbols are bytes, and the
/// last one is implied); ruzstd reads up to 257 from FSE-compressed weights, libzstd refuses
/// more than 255.
fn check_weights(weights: &[u8]) -> Result<(), Error> {
    if weights.len() > MAX_EXPLICIT_WEIGHTS {
        return Err(Error::BadCompression);
    }
    let sum: u32 = weights
        .iter()
        .filter(|&&w| (1..=MAX_WEIGHT).contains(&w))
        .map(|&w| 1u32 << (w - 1))
        .sum();
    if sum == 0 || weights.iter().any(|&w| w > MAX_WEIGHT) {
        return Ok(());
    }
    // the table log is one more than the top bit of the sum; the last weight makes up the rest
    let table_log = u32::BITS - sum.leading_zeros();
    let rest = (1u32 << table_log) - sum;
    let last_is_one = rest == 1;
    if last_is_one || weights.contains(&1) {
        Ok(())
    } else {
        Err(Error::BadCompression)
    }
}

/// Explicit weights in a tree description: every byte value but the implied last symbol.
const MAX_EXPLICIT_WEIGHTS: usize = 255;

/// The largest weight ruzstd accepts (codes of at most 11 bits).
const MAX_WEIGHT: u8 = 11;

/// The explicit weights of a Huffman tree description (RFC 8878 §4.2.1.1-2): four bits each, or
/// two interleaved FSE states over the table that precedes them, read as ruzstd reads them.
/// `None` when the description is malformed in a way ruzstd refuses anyway.
fn tree_weights(desc: &[u8]) -> Option<Vec<u8>> {
    let (&header, rest) = desc.split_first()?;
    if header >= 128 {
        let count = usize::from(header - 127);
        let bytes = rest.get(..count.div_ceil(2))?;
        let weights = (0..count)
            .filter_map(|i| {
                let b = bytes.get(i / 2)?;
                Some(if i % 2 == 0 { b >> 4 } else { b & 0x0F })
            })
            .collect();
        return Some(weights);
    }
    let rest = rest.get(..usize::from(header))?;
    let mut table = ruzstd::fse::FSETable::new(255);
    let table_len = table.build_decoder(rest, 6).ok()?;
    let stream = rest.get(table_len..)?;
    let mut bits = ReverseBits::new(stream);
    // padding: zeros up to the first set bit, at most 8 bits
    let mut skipped = 0;
    while bits.take(1) == 0 {
        skipped += 1;
        if skipped >= 8 {
            return None;
        }
    }
    let log = table.accuracy_log;
    if log == 0 {
        return None;
    }
    let entry = |state: u64| {
        usize::try_from(state)
            .ok()
            .and_then(|i| table.decode.get(i))
    };
    let mut states = [entry(bits.take(log))?, entry(bits.take(log))?];
    let mut weights = Vec::new();
    weights.try_reserve_exact(256).ok()?;
    let mut turn = 0;
    loop {
        let current = *states.get(turn)?;
        weights.push(current.symbol);
        let next = u64::from(current.base_line) + bits.take(current.num_bits);
        *states.get_mut(turn)? = entry(next)?;
        if bits.remaining() < 0 {
            weights.push(states.get(1 - turn)?.symbol);
            return Some(weights);
        }
        if turn == 1 && weights.len() > 255 {
            return None;
        }
        turn = 1 - turn;
    }
}

/// A zstd backward bitstream (RFC 8878 §4.1): read from its last bit towards its first; bits
/// before the first byte read as zero, and `remaining` goes negative.
struct ReverseBits<'a> {
    src: &'a [u8],
    /// bits not yet read: the next bit read is bit `pos - 1` (negative: past the start)
    pos: isize,
}

impl<'a> ReverseBits<'a> {
    fn new(src: &'a [u8]) -> Self {
        let pos = isize::try_from(src.len()).map_or(isize::MAX, |n| n.saturating_mul(8));
        Self { src, pos }
    }

    fn take(&mut self, n: u8) -> u64 {
        let mut value = 0u64;
        for _ in 0..n {
            self.pos -= 1;
            let bit = usize::try_from(self.pos)
                .ok()
                .and_then(|i| self.src.get(i / 8).map(|b| (b >> (i % 8)) & 1))
                .unwrap_or(0);
            value = value << 1 | u64::from(bit);
        }
        value
    }

    const fn remaining(&self) -> isize {
        self.pos
    }
}

/// Whether `stream`, decoded with the Huffman tree `desc`, holds exactly `count` symbols and
/// ends exactly: ruzstd decodes it as the fourth stream of a synthetic four-stream section
/// whose other streams are empty and whose Regenerated_Size is `count`.
fn check_stream(desc: &[u8], stream: &[u8], count: usize) -> Result<(), Error> {
    let compressed = desc.len() + 6 + 3 + stream.len();
    // literals header (5 bytes) + section + Number_of_Sequences (one zero byte)
    let block_len = 5 + compressed + 1;
    // sizes that do not fit the synthetic frame cannot be exact in a valid block either
    if compressed >= 1 << 18 || count >= 1 << 18 || block_len > MAX_BLOCK || count > MAX_BLOCK {
        return Err(Error::BadCompression);
    }
    let mut frame = Vec::new();
    frame
        .try_reserve_exact(6 + 3 + block_len)
        .map_err(|_| Error::BadCompression)?;
    // magic; descriptor 00 (no checksum, no content size); window 38 (128 KiB)
    frame.extend_from_slice(&[0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38]);
    // Block_Header: last block, compressed, Block_Size
    let block_header =
        u32::try_from(block_len << 3 | 2 << 1 | 1).map_err(|_| Error::BadCompression)?;
    frame.extend_from_slice(block_header.to_le_bytes().get(..3).unwrap_or_default());
    // compressed literals, Size_Format 11 (four streams, 18-bit sizes)
    let field = |n: usize| u64::try_from(n).map_err(|_| Error::BadCompression);
    let literals_header = 2 | 3 << 2 | field(count)? << 4 | field(compressed)? << 22;
    frame.extend_from_slice(literals_header.to_le_bytes().get(..5).unwrap_or_default());
    frame.extend_from_slice(desc);
    frame.extend_from_slice(&[1, 0, 1, 0, 1, 0]); // jump table: three 1-byte streams
    frame.extend_from_slice(&[EMPTY_STREAM; 3]);
    frame.extend_from_slice(stream);
    frame.push(0); // no sequences: the block is its literals

    let mut dec = FrameDecoder::new();
    dec.set_max_window_size(field(MAX_BLOCK)?);
    let mut src = frame.as_slice();
    dec.reset(&mut src).map_err(|_| Error::BadCompression)?;
    dec.decode_blocks(&mut src, BlockDecodingStrategy::All)
        .map_err(|_| Error::BadCompression)?;
    if dec.is_finished() && dec.can_collect() == count {
        Ok(())
    } else {
        Err(Error::BadCompression)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use alloc::format;
    use alloc::string::String;
    use alloc::vec;

    use super::{check_block, check_stream};
    use crate::error::Error;
    use crate::{MAX_DECOMPRESSED, MAX_WINDOW, zstd_decode_bounded};

    /// The reference encoder writes four Huffman streams once a block has more than 1024
    /// literals: every stream it writes passes the check, and the frame decodes.
    #[test]
    fn encoder_streams_pass() {
        let mut json = String::from("{\"a\":\"");
        for i in 0..600u32 {
            json.push_str(&format!("{:x}", i.wrapping_mul(2_654_435_761)));
        }
        json.push_str("\"}");
        let frame = ruzstd::encoding::compress_to_vec(
            json.as_bytes(),
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        // descriptor 04 + window 38: the first Block_Header is at offset 6
        let block = &frame[6..];
        let literals_type = block[3] & 0b11;
        assert_eq!(literals_type, 2, "expected Huffman-coded literals");
        assert_ne!((block[3] >> 2) & 0b11, 0, "expected four streams");
        let mut tree = None;
        assert_eq!(check_block(block, &mut tree, MAX_DECOMPRESSED), Ok(()));
        assert!(tree.is_some());
        let mut out = vec![0u8; MAX_DECOMPRESSED];
        let n = zstd_decode_bounded(&frame, &mut out, MAX_WINDOW).unwrap();
        assert_eq!(&out[..n], json.as_bytes());
    }

    /// A stream must hold its count exactly: one symbol more or fewer is refused, and so is a
    /// stream of padding alone when a symbol is due.
    #[test]
    fn stream_counts_are_exact() {
        // direct weights (header 128 + 2 = two weights): symbols 0 and 1 of weight 1, the
        // implied last symbol 2 of weight 2 → codes of 1 and 2 bits
        let desc = [129u8, 0x11];
        // final-bit flag, then the two bits `00`: one 2-bit code
        let one = [0b100u8];
        let counts: vec::Vec<bool> = (0..4)
            .map(|n| check_stream(&desc, &one, n).is_ok())
            .collect();
        assert_eq!(counts, [false, true, false, false]);
        assert_eq!(check_stream(&desc, &[super::EMPTY_STREAM], 0), Ok(()));
        assert_eq!(
            check_stream(&desc, &[super::EMPTY_STREAM], 1),
            Err(Error::BadCompression)
        );
    }

    /// A tree whose codes are all shorter than its table log is refused: weights 2 and (implied)
    /// 2 give two 1-bit codes under a 2-bit table. Weights 1, 1 and (implied) 2 are fine.
    #[test]
    fn trees_need_weight_one_leaves() {
        assert_eq!(super::check_tree(&[128, 0x20]), Err(Error::BadCompression));
        assert_eq!(super::check_tree(&[129, 0x11]), Ok(()));
        // 1, 2, 3 sum to 7: the implied last weight is 1
        assert_eq!(super::check_tree(&[130, 0x12, 0x30]), Ok(()));
        // 2, 2 sum to 4: table log 3, the implied last weight is 3; no weight 1
        assert_eq!(super::check_tree(&[129, 0x22]), Err(Error::BadCompression));
        assert_eq!(super::tree_weights(&[130, 0x12, 0x30]), Some(vec![1, 2, 3]));
        // 254 weights of 1 and one of 2: a complete code over 256 symbols; 256 weights are too many
        let mut weights = vec![1u8; 254];
        weights.push(2);
        assert_eq!(super::check_weights(&weights), Ok(()));
        weights.push(0);
        assert_eq!(super::check_weights(&weights), Err(Error::BadCompression));
    }

    /// A frame with sequences decodes; with a reserved bit of Symbol_Compression_Modes set, it
    /// is refused.
    #[test]
    fn sequence_modes_reserved_bits() {
        let json = String::from("{\"a\":\"") + &"kez ".repeat(300) + "\"}";
        let frame = ruzstd::encoding::compress_to_vec(
            json.as_bytes(),
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        let mut out = vec![0u8; MAX_DECOMPRESSED];
        let n = zstd_decode_bounded(&frame, &mut out, MAX_WINDOW).unwrap();
        assert_eq!(&out[..n], json.as_bytes());
        // the first block starts after the 6-byte frame header; its literals, then sequences
        let block = &frame[6 + 3..];
        let at = 6 + 3 + super::literals_section_len(block).unwrap();
        let modes_at = at
            + match frame[at] {
                0 => panic!("expected sequences"),
                1..=127 => 1,
                128..=254 => 2,
                255 => 3,
            };
        for bit in [1u8, 2] {
            let mut bad = frame.clone();
            bad[modes_at] |= bit;
            assert_eq!(
                zstd_decode_bounded(&bad, &mut out, MAX_WINDOW),
                Err(Error::BadCompression),
                "reserved bit {bit}"
            );
        }
    }

    /// Weights read from an FSE-compressed description make a complete code: libzstd frames
    /// with such trees (fuzz seeds) decode, and their weights sum, with the implied last one, to
    /// a power of two, as they do only when read right.
    #[test]
    fn fse_weights_are_read() {
        for frame in [
            &include_bytes!("../../fuzz/seeds/compact_zstd/c-fast.zst")[..],
            &include_bytes!("../../fuzz/seeds/compact_zstd/c-checksum.zst")[..],
        ] {
            let mut out = vec![0u8; MAX_DECOMPRESSED];
            assert!(zstd_decode_bounded(frame, &mut out, MAX_WINDOW).is_ok());
            // descriptor 0x60 or 0x64: single segment, a 2-byte content size; the block header
            // is at 7
            let block = &frame[7 + 3..];
            assert_eq!(block[0] & 0b11, 2, "Huffman-coded literals");
            let header_len = 4; // Size_Format 10
            let desc_len = 1 + usize::from(block[header_len]);
            assert!(block[header_len] < 128, "FSE-compressed weights");
            let desc = &block[header_len..header_len + desc_len];
            let weights = super::tree_weights(desc).unwrap();
            let sum: u32 = weights
                .iter()
                .filter(|&&w| w > 0)
                .map(|&w| 1u32 << (w - 1))
                .sum();
            let table_log = u32::BITS - sum.leading_zeros();
            let rest = (1u32 << table_log) - sum;
            assert!(rest.is_power_of_two(), "weights {weights:?}");
            assert!(weights.len() > 20, "weights {weights:?}");
            assert_eq!(super::check_tree(desc), Ok(()));
        }
    }
}
