"""Bounded, strict decoding of one Zstandard frame (SPEC.md 9.2 steps 4-9).

The frame header and the block headers are parsed here (RFC 8878 3.1.1); only the
content of compressed blocks is decoded by PyPI `zstandard` (libzstd), fed with a
rewritten header (no content size, no checksum) so that the order of the checks and
the output bound are this module's own. XXH64 is implemented here for the checksum.

Before a compressed block is decoded, its Huffman-coded literals are checked here
(SPEC.md 9.2 step 7, "Huffman streams"): each stream must hold exactly its share of
the Regenerated_Size and end exactly after it. libzstd's default Huffman decoder does
not check where a stream ends when every stream is at least 8 bytes long, so this
module reads the Huffman tree description itself (direct or FSE-compressed weights,
RFC 8878 4.2.1) and counts the codes of each stream (4.2.2).
"""

import io

from kez_errors import KezError

MAX_WINDOW = 131072
MAX_DECOMPRESSED = 65536
MAGIC = b"\x28\xb5\x2f\xfd"
_M64 = (1 << 64) - 1

_P1 = 11400714785074694791
_P2 = 14029467366897019727
_P3 = 1609587929392839161
_P4 = 9650029242287828579
_P5 = 2870177450012600261


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & _M64


def _round(acc, inp):
    acc = (acc + inp * _P2) & _M64
    return (_rotl(acc, 31) * _P1) & _M64


def _merge(acc, val):
    acc ^= _round(0, val)
    return (acc * _P1 + _P4) & _M64


def xxh64(data, seed=0):
    n = len(data)
    i = 0
    if n >= 32:
        v1 = (seed + _P1 + _P2) & _M64
        v2 = (seed + _P2) & _M64
        v3 = seed & _M64
        v4 = (seed - _P1) & _M64
        fb = int.from_bytes
        while i + 32 <= n:
            v1 = _round(v1, fb(data[i:i + 8], "little"))
            v2 = _round(v2, fb(data[i + 8:i + 16], "little"))
            v3 = _round(v3, fb(data[i + 16:i + 24], "little"))
            v4 = _round(v4, fb(data[i + 24:i + 32], "little"))
            i += 32
        h = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) & _M64
        for v in (v1, v2, v3, v4):
            h = _merge(h, v)
    else:
        h = (seed + _P5) & _M64
    h = (h + n) & _M64
    while i + 8 <= n:
        h ^= _round(0, int.from_bytes(data[i:i + 8], "little"))
        h = (_rotl(h, 27) * _P1 + _P4) & _M64
        i += 8
    if i + 4 <= n:
        h ^= (int.from_bytes(data[i:i + 4], "little") * _P1) & _M64
        h = (_rotl(h, 23) * _P2 + _P3) & _M64
        i += 4
    while i < n:
        h ^= (data[i] * _P5) & _M64
        h = (_rotl(h, 11) * _P1) & _M64
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _M64
    h ^= h >> 29
    h = (h * _P3) & _M64
    h ^= h >> 32
    return h


def _bc(msg):
    return KezError("bad_compression", msg)


def window_size(desc):
    exponent, mantissa = desc >> 3, desc & 7
    base = 1 << (10 + exponent)
    return base + (base >> 3) * mantissa


class FrameHeader:
    __slots__ = ("single_segment", "checksum", "window", "fcs", "window_desc", "end")


def parse_header(data):
    """Steps 4-6: magic, descriptor, window bound, declared size."""
    if len(data) < 5 or data[:4] != MAGIC:
        raise _bc("not a Zstandard frame (magic number)")
    fhd = data[4]
    if fhd & 0x08:
        raise _bc("reserved bit set in the frame header descriptor")
    if fhd & 0x03:
        raise _bc("dictionary ID present")
    h = FrameHeader()
    h.single_segment = bool(fhd & 0x20)
    h.checksum = bool(fhd & 0x04)
    fcs_flag = fhd >> 6
    pos = 5
    h.window_desc = None
    if not h.single_segment:
        if len(data) < pos + 1:
            raise _bc("truncated frame header (window descriptor)")
        h.window_desc = data[pos]
        pos += 1
    fcs_len = (1 if h.single_segment else 0, 2, 4, 8)[fcs_flag]
    if len(data) < pos + fcs_len:
        raise _bc("truncated frame header (content size)")
    if fcs_len:
        v = int.from_bytes(data[pos:pos + fcs_len], "little")
        h.fcs = v + 256 if fcs_len == 2 else v
    else:
        h.fcs = None
    pos += fcs_len
    h.end = pos
    # Step 5: window.
    h.window = h.fcs if h.single_segment else window_size(h.window_desc)
    if h.window > MAX_WINDOW:
        raise _bc("window of %d bytes exceeds %d" % (h.window, MAX_WINDOW))
    # Step 6: declared size.
    if h.fcs is not None and h.fcs > MAX_DECOMPRESSED:
        raise KezError("too_large", "declared content size %d exceeds %d" % (h.fcs, MAX_DECOMPRESSED))
    return h


# --- Huffman-coded literals: every stream holds its share (SPEC.md 9.2 step 7) ----------

MIN_FOUR_STREAMS = 6  # four streams below this Regenerated_Size are refused
MAX_HUFFMAN_BITS = 11  # RFC 8878 4.2.1: the longest code
MAX_WEIGHTS = 255  # the last symbol's weight is implied, so at most 255 are written
MAX_WEIGHTS_LOG = 6  # accuracy log of the FSE table of compressed weights


class _Backward:
    """A bitstream read backward (RFC 8878 4.1, 4.2.2): from just below the highest set
    bit of the last byte (the start marker) down to bit 0. Bits below 0 read as zeros;
    `pos` then goes negative, which is how an overrun shows."""

    __slots__ = ("data", "pos")

    def __init__(self, data, what):
        if not data:
            raise _bc("empty %s" % what)
        if data[-1] == 0:
            raise _bc("%s without its start marker (last byte 0)" % what)
        self.data = data
        self.pos = 8 * (len(data) - 1) + data[-1].bit_length() - 1

    def peek(self, n):
        """The n bits below `pos`, most significant first (n <= 11)."""
        lo = self.pos - n
        if lo >= 0:
            i = lo >> 3
            return (int.from_bytes(self.data[i:i + 3], "little") >> (lo & 7)) & ((1 << n) - 1)
        if self.pos <= 0:
            return 0
        low = int.from_bytes(self.data[:3], "little") & ((1 << self.pos) - 1)
        return low << -lo

    def read(self, n):
        v = self.peek(n)
        self.pos -= n
        return v


def _fse_description(src, max_log):
    """An FSE table description (RFC 8878 4.1.1) at the start of src, all of it within src.
    Returns (probabilities, accuracy log, bytes used)."""
    total = 8 * len(src)
    pos = 0

    def peek(n):
        i = pos >> 3
        return (int.from_bytes(src[i:i + 4], "little") >> (pos & 7)) & ((1 << n) - 1)

    log = peek(4) + 5
    pos += 4
    if log > max_log:
        raise _bc("FSE accuracy log %d of the Huffman weights exceeds %d" % (log, max_log))
    size = 1 << log
    counted = 0
    probs = []
    while counted < size:
        most = size - counted + 1  # the largest value this field can hold
        nbits = most.bit_length()
        low = (1 << nbits) - 1 - most  # values below this take one bit less
        v = peek(nbits)
        if v & ((1 << (nbits - 1)) - 1) < low:
            v &= (1 << (nbits - 1)) - 1
            pos += nbits - 1
        else:
            if v >= 1 << (nbits - 1):
                v -= low
            pos += nbits
        prob = v - 1
        probs.append(prob)
        if prob == 0:
            while True:  # 2-bit repeat flags: more symbols of probability 0
                rep = peek(2)
                pos += 2
                probs.extend([0] * rep)
                if rep != 3 or pos > total:
                    break
        else:
            counted += 1 if prob < 0 else prob
        if pos > total:
            raise _bc("FSE table description of the Huffman weights is truncated")
    if counted != size:
        raise _bc("FSE probabilities of the Huffman weights do not add up")
    if len(probs) > 256:
        raise _bc("FSE table of the Huffman weights has too many symbols")
    return probs, log, (pos + 7) // 8


def _fse_table(probs, log):
    """The decoding table (RFC 8878 4.1.1): per state (symbol, bits to read, baseline)."""
    size = 1 << log
    symbols = [0] * size
    high = size - 1
    for s, p in enumerate(probs):  # "less than 1" probabilities take the last cells
        if p == -1:
            symbols[high] = s
            high -= 1
    step = (size >> 1) + (size >> 3) + 3
    pos = 0
    for s, p in enumerate(probs):
        for _ in range(max(p, 0)):
            symbols[pos] = s
            pos = (pos + step) & (size - 1)
            while pos > high:
                pos = (pos + step) & (size - 1)
    following = [p if p > 0 else 1 for p in probs]
    table = []
    for s in symbols:
        x = following[s]
        following[s] += 1
        nb = log - (x.bit_length() - 1)
        table.append((s, nb, (x << nb) - size))
    return table


def _fse_weights(src):
    """Huffman weights compressed with FSE (RFC 8878 4.2.1.2): a table description, then
    one backward bitstream of two interleaved states."""
    probs, log, used = _fse_description(src, MAX_WEIGHTS_LOG)
    table = _fse_table(probs, log)
    bits = _Backward(src[used:], "FSE stream of Huffman weights")
    s1 = bits.read(log)
    s2 = bits.read(log)
    weights = []
    while True:
        sym, nb, base = table[s1]
        weights.append(sym)
        s1 = base + bits.read(nb)
        if bits.pos < 0:  # the stream is spent: the other state gives the last weight
            weights.append(table[s2][0])
            break
        sym, nb, base = table[s2]
        weights.append(sym)
        s2 = base + bits.read(nb)
        if bits.pos < 0:
            weights.append(table[s1][0])
            break
        if len(weights) > MAX_WEIGHTS:
            break
    if len(weights) > MAX_WEIGHTS:
        raise _bc("more than %d Huffman weights" % MAX_WEIGHTS)
    return weights


def huffman_table(desc):
    """The Huffman tree description desc (RFC 8878 4.2.1, exactly its bytes) as a
    decoding table: for each value of the next Max_Number_of_Bits bits, the length of
    the code they start with. Returns (table, Max_Number_of_Bits)."""
    head = desc[0]
    if head < 128:
        weights = _fse_weights(desc[1:])
    else:
        raw = desc[1:]
        weights = [raw[i >> 1] >> 4 if i % 2 == 0 else raw[i >> 1] & 15 for i in range(head - 127)]
    if any(w > MAX_HUFFMAN_BITS for w in weights):
        raise _bc("Huffman weight above %d" % MAX_HUFFMAN_BITS)
    total = sum(1 << (w - 1) for w in weights if w)
    if total == 0:
        raise _bc("Huffman weights all zero")
    max_bits = total.bit_length()
    left = (1 << max_bits) - total
    if left & (left - 1):
        raise _bc("Huffman weights do not complete to a power of two")
    if max_bits > MAX_HUFFMAN_BITS:
        raise _bc("Huffman codes longer than %d bits" % MAX_HUFFMAN_BITS)
    lengths = [max_bits + 1 - w if w else 0 for w in weights]
    lengths.append(max_bits + 1 - left.bit_length())  # the last symbol, weight implied
    # longest codes first, each symbol's code spans 2^(max_bits - length) table entries
    table = bytearray()
    for length in range(max_bits, 0, -1):
        span = bytes([length]) * (1 << (max_bits - length))
        table += span * lengths.count(length)
    return bytes(table), max_bits


def check_stream(table, stream, count):
    """Whether stream holds exactly count codes of table (from huffman_table) and ends
    exactly after them."""
    codes, max_bits = table
    try:
        bits = _Backward(stream, "Huffman stream")
    except KezError:
        return False
    n = 0
    while bits.pos > 0:
        if n == count:
            return False  # one code too many
        bits.pos -= codes[bits.peek(max_bits)]
        n += 1
    return bits.pos == 0 and n == count


def check_literals(block, tree, room):
    """Checks the Huffman streams of a compressed block's literals section (RFC 8878
    3.1.1.3.1). tree is the tree description of the last compressed literals section
    (a treeless section reuses it); room the output bytes the frame may still produce.
    Anything malformed that this does not look at is left to libzstd, which refuses it.

    Returns (tree, problem): the tree for the next block, and None or (message,
    Regenerated_Size) when a stream does not hold exactly its share."""
    if not block or block[0] & 3 < 2:
        return tree, None  # raw or RLE literals: no Huffman stream
    kind = block[0] & 3
    header_len, bits, four = ((3, 10, False), (3, 10, True), (4, 14, True), (5, 18, True))[(block[0] >> 2) & 3]
    if len(block) < header_len:
        return tree, None
    h = int.from_bytes(block[:header_len], "little")
    regenerated = (h >> 4) & ((1 << bits) - 1)
    compressed = (h >> (4 + bits)) & ((1 << bits) - 1)
    if header_len + compressed > len(block):
        return tree, None
    section = block[header_len:header_len + compressed]
    if kind == 2:
        if not section:
            return tree, None
        first = section[0]
        desc_len = 1 + first if first < 128 else 1 + (first - 126) // 2
        if desc_len > len(section):
            return tree, None
        tree = section[:desc_len]
        streams = section[desc_len:]
    else:
        if tree is None:
            return tree, None  # treeless without a tree before it: libzstd refuses it
        streams = section
    if regenerated > room:
        return tree, None  # cannot be accepted: the output would pass its bound
    if four:
        if regenerated < MIN_FOUR_STREAMS:
            return tree, ("four Huffman streams for %d literals (fewer than %d)"
                          % (regenerated, MIN_FOUR_STREAMS), regenerated)
        if len(streams) < 6:
            return tree, None
        l1, l2, l3 = (int.from_bytes(streams[i:i + 2], "little") for i in (0, 2, 4))
        if 6 + l1 + l2 + l3 > len(streams):
            return tree, None
        ends = (6, 6 + l1, 6 + l1 + l2, 6 + l1 + l2 + l3, len(streams))
        share = (regenerated + 3) // 4
        shares = [(streams[ends[i]:ends[i + 1]], share) for i in range(3)]
        shares.append((streams[ends[3]:], regenerated - 3 * share))
    else:
        shares = [(streams, regenerated)]
    try:
        table = huffman_table(tree)
    except KezError as e:
        return tree, (str(e), regenerated)
    for i, (stream, count) in enumerate(shares):
        if not check_stream(table, stream, count):
            return tree, ("Huffman stream %d of %d does not hold exactly its %d of %d literals"
                          % (i + 1, len(shares), count, regenerated), regenerated)
    return tree, None


def _lib_window_desc(size):
    """Smallest Window_Descriptor whose window is at least size."""
    for desc in range(256):
        if window_size(desc) >= size:
            return desc
    raise AssertionError("unreachable")


def _lib_decode(frame, limit):
    try:
        import zstandard
    except ImportError:
        raise _bc("the zstandard module is not installed; cannot decode compressed blocks")
    out = bytearray()
    try:
        dctx = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW)
        reader = dctx.stream_reader(io.BytesIO(frame), read_across_frames=False)
        while True:
            chunk = reader.read(limit + 1 - len(out))
            if not chunk:
                break
            out += chunk
            if len(out) > limit:
                raise KezError("too_large", "decoded content exceeds %d bytes" % limit)
    except zstandard.ZstdError as e:
        raise _bc("corrupt block: %s" % (e,))
    return bytes(out)


def decode_frame(data, limit=MAX_DECOMPRESSED):
    """Decode exactly one frame per SPEC 9.2 steps 4-9. Returns the content bytes."""
    h = parse_header(data)
    block_max = min(h.window, 131072)
    # Structural walk over the block headers (step 7, truncation and reserved types).
    pos = h.end
    good_end = pos
    blocks_end = None
    walk_error = None
    tree = None  # the Huffman tree description a treeless literals section reuses
    while True:
        if pos + 3 > len(data):
            walk_error = "truncated block header"
            break
        bh = int.from_bytes(data[pos:pos + 3], "little")
        last, btype, bsize = bh & 1, (bh >> 1) & 3, bh >> 3
        if btype == 3:
            walk_error = "reserved block type"
            break
        if bsize > block_max:
            walk_error = "block size %d exceeds the maximum %d" % (bsize, block_max)
            break
        csize = 1 if btype == 1 else bsize
        if pos + 3 + csize > len(data):
            walk_error = "truncated block"
            break
        if btype == 2:
            # Step 7, Huffman streams: a section that fails stops the walk like a malformed
            # block, so the blocks before it are still decoded (and bounded) first. A section
            # regenerating more than the limit is not checked: if the block decodes at all,
            # the output passes its bound.
            tree, problem = check_literals(data[pos + 3:pos + 3 + bsize], tree, limit)
            if problem:
                walk_error = problem[0]
                break
        pos += 3 + csize
        good_end = pos
        if last:
            blocks_end = pos
            break
    # Decode the structurally complete blocks, bounded (too_large as soon as the
    # output exceeds the limit; corrupt content -> bad_compression).
    desc = h.window_desc if not h.single_segment else _lib_window_desc(max(h.fcs, 1024))
    lib_frame = MAGIC + bytes([0x00, desc]) + data[h.end:good_end]
    out = _lib_decode(lib_frame, limit) if good_end > h.end else b""
    if walk_error:
        raise _bc(walk_error)
    # Step 8: checksum.
    end = blocks_end
    if h.checksum:
        if len(data) < end + 4:
            raise _bc("content checksum missing")
        if int.from_bytes(data[end:end + 4], "little") != xxh64(out) & 0xFFFFFFFF:
            raise _bc("content checksum mismatch")
        end += 4
    # Step 9: one frame, of the declared size.
    if len(data) > end:
        raise _bc("%d bytes after the end of the frame" % (len(data) - end))
    if h.fcs is not None and len(out) != h.fcs:
        raise _bc("decoded %d bytes but the header declares %d" % (len(out), h.fcs))
    return out
