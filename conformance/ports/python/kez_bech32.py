"""BIP-173 bech32 (constant 1) for npub key references (SPEC.md 3.1)."""

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_REV = {c: i for i, c in enumerate(CHARSET)}
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def polymod(values):
    chk = 1
    for v in values:
        top = chk >> 25
        chk = ((chk & 0x1FFFFFF) << 5) ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _GEN[i]
    return chk


def hrp_expand(hrp):
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def decode_npub(s):
    """The 32 bytes of a lowercase npub, or None when it is not one (steps 1-3 of 3.1)."""
    if len(s) != 63 or not s.startswith("npub1"):
        return None
    if any("A" <= c <= "Z" for c in s):
        return None
    data = s[5:]
    try:
        vals = [_REV[c] for c in data]
    except KeyError:
        return None
    if polymod(hrp_expand("npub") + vals) != 1:
        return None
    acc = 0
    for v in vals[:-6]:  # 52 groups, 260 bits
        acc = (acc << 5) | v
    if acc & 0xF:  # 4 padding bits must be zero
        return None
    return (acc >> 4).to_bytes(32, "big")


def encode_npub(key):
    acc = int.from_bytes(key, "big") << 4
    vals = [(acc >> (5 * (51 - i))) & 31 for i in range(52)]
    pm = polymod(hrp_expand("npub") + vals + [0] * 6) ^ 1
    chk = [(pm >> (5 * (5 - i))) & 31 for i in range(6)]
    return "npub1" + "".join(CHARSET[v] for v in vals + chk)
