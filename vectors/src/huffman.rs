//! Hand-built zstd blocks whose literals are Huffman-coded (RFC 8878 §3.1.1.3.1 and §4.2), for
//! the cases of SPEC.md §9.2 step 7: a complete prefix code over the literal bytes, its tree
//! description as direct weights, and one or four streams holding any split of the literals, so
//! a case can give a stream more or fewer symbols than its share.

use crate::fixtures::{R, block};

/// The longest code RFC 8878 allows (§4.2.1).
const MAX_BITS: u8 = 11;

/// A complete prefix code over byte values, as zstd assigns it from the weights.
#[derive(Clone, Debug)]
pub(crate) struct Code {
    /// Code length of each byte in bits; 0 for a byte outside the code.
    lens: [u8; 256],
    /// The code of each byte (its low `lens` bits).
    codes: [u16; 256],
}

impl Code {
    /// A complete code over the distinct bytes of `data`: with `n` of them and
    /// `L = ⌈log2 n⌉`, the `2^L − n` most frequent (ties: the smaller byte) get `L − 1` bits,
    /// the others `L` bits. The highest byte must be at most 128, the last symbol direct weights
    /// can describe.
    ///
    /// # Errors
    /// Fewer than two distinct bytes, or a byte above 128.
    pub(crate) fn for_bytes(data: &[u8]) -> R<Self> {
        let mut freq = [0usize; 256];
        for &b in data {
            if let Some(f) = freq.get_mut(usize::from(b)) {
                *f += 1;
            }
        }
        let mut symbols: Vec<u8> = (0..=255u8)
            .filter(|&b| freq.get(usize::from(b)).is_some_and(|&f| f > 0))
            .collect();
        if symbols.len() < 2 {
            return Err("huffman: fewer than two distinct bytes".into());
        }
        if symbols.iter().any(|&b| b > 128) {
            return Err("huffman: a byte above 128 (direct weights)".into());
        }
        symbols.sort_by_key(|&b| (std::cmp::Reverse(freq.get(usize::from(b)).copied()), b));
        let n = symbols.len();
        let long =
            u8::try_from(usize::BITS - (n - 1).leading_zeros()).map_err(|e| e.to_string())?;
        let short = (1usize << long) - n;
        let mut lens = [0u8; 256];
        for (i, &b) in symbols.iter().enumerate() {
            if let Some(l) = lens.get_mut(usize::from(b)) {
                *l = if i < short { long - 1 } else { long };
            }
        }
        Self::from_lens(lens)
    }

    /// The codes zstd gives these lengths: symbols ordered by length, longest first, then by
    /// value; the first gets all zeros, each next one the previous code plus one, shifted right
    /// when the length drops.
    fn from_lens(lens: [u8; 256]) -> R<Self> {
        let mut order: Vec<u8> = (0..=255u8)
            .filter(|&b| lens.get(usize::from(b)).is_some_and(|&l| l > 0))
            .collect();
        order.sort_by_key(|&b| (std::cmp::Reverse(lens.get(usize::from(b)).copied()), b));
        let mut codes = [0u16; 256];
        let mut code = 0u32;
        let mut prev: Option<u8> = None;
        for &b in &order {
            let len = lens.get(usize::from(b)).copied().unwrap_or(0);
            if len > MAX_BITS {
                return Err("huffman: code longer than 11 bits".into());
            }
            if let Some(p) = prev {
                code = (code + 1) >> (p - len);
            }
            prev = Some(len);
            if let Some(c) = codes.get_mut(usize::from(b)) {
                *c = u16::try_from(code).map_err(|e| e.to_string())?;
            }
        }
        // a complete code ends on the all-ones code of its shortest length
        let last = prev.ok_or("huffman: empty code")?;
        if code + 1 != 1 << last {
            return Err("huffman: the code is not complete".into());
        }
        Ok(Self { lens, codes })
    }

    fn max_bits(&self) -> u8 {
        self.lens.iter().copied().max().unwrap_or(0)
    }

    /// Whether the code of `b` ends in a 0 bit.
    pub(crate) fn ends_in_zero(&self, b: u8) -> bool {
        self.lens.get(usize::from(b)).is_some_and(|&l| l > 0)
            && self.codes.get(usize::from(b)).is_some_and(|&c| c & 1 == 0)
    }

    /// The Huffman tree description (§4.2.1) with direct weights: `Weight = Max_Number_of_Bits
    /// + 1 − length`, for every symbol below the highest one, whose weight is implied.
    ///
    /// # Errors
    /// Never for a code made by [`Code::for_bytes`].
    pub(crate) fn description(&self) -> R<Vec<u8>> {
        let max = self.max_bits();
        let last = self
            .lens
            .iter()
            .rposition(|&l| l > 0)
            .ok_or("huffman: empty code")?;
        let weights: Vec<u8> = self
            .lens
            .iter()
            .take(last)
            .map(|&l| if l == 0 { 0 } else { max + 1 - l })
            .collect();
        let mut out = vec![127 + u8::try_from(last).map_err(|e| e.to_string())?];
        for pair in weights.chunks(2) {
            let hi = pair.first().copied().unwrap_or(0);
            let lo = pair.get(1).copied().unwrap_or(0);
            out.push(hi << 4 | lo);
        }
        Ok(out)
    }

    /// [`Self::description`] with every non-zero weight one higher: the same code lengths under a
    /// table one bit deeper, so no symbol (the implied last one included) has weight 1.
    ///
    /// # Errors
    /// As [`Self::description`].
    pub(crate) fn description_raised(&self) -> R<Vec<u8>> {
        let mut out = self.description()?;
        for b in out.iter_mut().skip(1) {
            let raise = |w: u8| if w == 0 { 0 } else { w + 1 };
            *b = raise(*b >> 4) << 4 | raise(*b & 0x0F);
        }
        Ok(out)
    }

    /// One Huffman stream holding exactly `symbols`: read backward from its last byte, whose
    /// highest set bit marks the start, the first symbol's code comes first (§4.2.2).
    ///
    /// # Errors
    /// A byte outside the code.
    pub(crate) fn stream(&self, symbols: &[u8]) -> R<Vec<u8>> {
        // the bits from the marker down to bit 0, most significant first
        let mut bits = vec![true];
        for &s in symbols {
            let len = self.lens.get(usize::from(s)).copied().unwrap_or(0);
            if len == 0 {
                return Err(format!("huffman: byte {s} is not in the code"));
            }
            let code = self.codes.get(usize::from(s)).copied().unwrap_or(0);
            bits.extend((0..len).rev().map(|i| code >> i & 1 == 1));
        }
        Ok(pack(&bits))
    }

    /// `stream(symbols)` without the trailing 0 bits of the last code: a decoder that reads
    /// zeros past the end of the stream still finds every symbol, but the stream does not end
    /// exactly after them.
    ///
    /// # Errors
    /// As [`Code::stream`]; the last code must end in a 0 bit.
    pub(crate) fn stream_cut_short(&self, symbols: &[u8]) -> R<Vec<u8>> {
        let full = self.stream(symbols)?;
        let mut bits = unpack(&full);
        let last = *symbols.last().ok_or("huffman: no symbol")?;
        if !self.ends_in_zero(last) {
            return Err("huffman: the last code does not end in 0".into());
        }
        while bits.last() == Some(&false) {
            bits.pop();
        }
        Ok(pack(&bits))
    }
}

/// Bits (most significant first, the marker bit first) as a little-endian byte string.
fn pack(bits: &[bool]) -> Vec<u8> {
    let pad = (8 - bits.len() % 8) % 8;
    let padded: Vec<bool> = std::iter::repeat_n(false, pad)
        .chain(bits.iter().copied())
        .collect();
    let mut out: Vec<u8> = padded
        .chunks(8)
        .map(|byte| byte.iter().fold(0u8, |acc, &b| acc << 1 | u8::from(b)))
        .collect();
    out.reverse();
    out
}

/// The bits of a stream from its marker (included) down to bit 0.
fn unpack(stream: &[u8]) -> Vec<bool> {
    let bits: Vec<bool> = stream
        .iter()
        .rev()
        .flat_map(|&b| (0..8).rev().map(move |i| b >> i & 1 == 1))
        .collect();
    let start = bits.iter().position(|&b| b).unwrap_or(bits.len());
    bits.get(start..).unwrap_or_default().to_vec()
}

/// A compressed block (RFC 8878 §3.1.1.3) that holds literals only: Huffman-coded in one stream
/// or four (`parts`, one per stream), with its tree description (Literals_Block_Type 2) or
/// reusing the previous one (`tree` false: type 3, treeless), a Regenerated_Size of
/// `regenerated` (normally the sum of the parts), and no sequences.
///
/// # Errors
/// Other than one or four parts, or sizes a literals header cannot carry.
pub(crate) fn literals_block(
    code: &Code,
    parts: &[&[u8]],
    regenerated: usize,
    tree: bool,
    last: bool,
) -> R<Vec<u8>> {
    let streams = parts
        .iter()
        .map(|p| code.stream(p))
        .collect::<R<Vec<_>>>()?;
    literals_block_of_streams(code, &streams, regenerated, tree, last)
}

/// [`literals_block`] from streams already encoded.
///
/// # Errors
/// As [`literals_block`].
pub(crate) fn literals_block_of_streams(
    code: &Code,
    streams: &[Vec<u8>],
    regenerated: usize,
    tree: bool,
    last: bool,
) -> R<Vec<u8>> {
    let mut section = if tree { code.description()? } else { vec![] };
    let four = match streams.len() {
        1 => false,
        4 => true,
        _ => return Err("huffman: one or four streams".into()),
    };
    if four {
        for s in streams.iter().take(3) {
            let len = u16::try_from(s.len()).map_err(|e| e.to_string())?;
            section.extend_from_slice(&len.to_le_bytes());
        }
    }
    for s in streams {
        section.extend_from_slice(s);
    }
    let regen = u64::try_from(regenerated).map_err(|e| e.to_string())?;
    let size = u64::try_from(section.len()).map_err(|e| e.to_string())?;
    let kind: u64 = if tree { 2 } else { 3 };
    // Size_Format: 00 one stream, 10-bit sizes; 01, 10, 11 four streams, 10, 14, 18 bits
    let (format, bits, header_len) = match (four, regen.max(size)) {
        (false, m) if m < 1 << 10 => (0u64, 10, 3),
        (false, _) => return Err("huffman: one stream holds at most 1023 literals".into()),
        (true, m) if m < 1 << 10 => (1, 10, 3),
        (true, m) if m < 1 << 14 => (2, 14, 4),
        (true, m) if m < 1 << 18 => (3, 18, 5),
        _ => return Err("huffman: section too large".into()),
    };
    let header = kind | format << 2 | regen << 4 | size << (4 + bits);
    let mut body: Vec<u8> = header.to_le_bytes().into_iter().take(header_len).collect();
    body.extend_from_slice(&section);
    body.push(0); // Number_of_Sequences 0: the block is its literals
    let block_size = u32::try_from(body.len()).map_err(|e| e.to_string())?;
    Ok(block(last, 2, block_size, &body))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::{Code, literals_block, pack, unpack};

    /// The example of RFC 8878 §4.2.1.1: lengths 1, 2, 3, 4, 4 give 1, 01, 001, 0000, 0001.
    #[test]
    fn codes_follow_the_weights() {
        let mut lens = [0u8; 256];
        lens[..6].copy_from_slice(&[1, 2, 3, 0, 4, 4]);
        let code = Code::from_lens(lens).unwrap();
        assert_eq!(&code.codes[..6], &[0b1, 0b01, 0b001, 0, 0b0000, 0b0001]);
        // weights 4 3 2 0 1, the last (symbol 5, weight 1) implied
        assert_eq!(code.description().unwrap(), [127 + 5, 0x43, 0x20, 0x10]);
    }

    #[test]
    fn streams_round_trip_through_the_core() {
        let text = b"{\"a\":\"kez huffman streams, four of them, hold their shares\"}";
        let code = Code::for_bytes(text).unwrap();
        let n = text.len();
        let share = n.div_ceil(4);
        let parts: Vec<&[u8]> = text.chunks(share).collect();
        let mut frame = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38];
        frame.extend(literals_block(&code, &parts, n, true, true).unwrap());
        let mut out = vec![0u8; 1024];
        let len = kez_core::zstd_decode_bounded(&frame, &mut out, 131_072).unwrap();
        assert_eq!(&out[..len], text);
        assert_eq!(unpack(&pack(&[true, false, true])), [true, false, true]);
    }
}
