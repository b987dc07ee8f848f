"""Bounded, strict decoding of one Zstandard frame (SPEC.md 9.2 steps 4-9).

The frame header and the block headers are parsed here (RFC 8878 3.1.1); only the
content of compressed blocks is decoded by PyPI `zstandard` (libzstd), fed with a
rewritten header (no content size, no checksum) so that the order of the checks and
the output bound are this module's own. XXH64 is implemented here for the checksum.
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
