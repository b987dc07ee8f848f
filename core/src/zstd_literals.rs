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
        Some(block) if compressed => check_literals(block, tree, room),
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
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
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
}
