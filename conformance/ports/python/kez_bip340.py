"""BIP-340 Schnorr signatures over secp256k1 in pure Python integers (SPEC.md 3.2, 4.1).

Verification follows BIP-340 `Verify` for messages of any length, plus the SPEC's
rejection of r = 0 and s = 0. Signing is included for the port's own tests.
"""

import hashlib

P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (
    0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)


def tagged_hash(tag, msg):
    th = hashlib.sha256(tag.encode("ascii")).digest()
    return hashlib.sha256(th + th + msg).digest()


# Points: None is the point at infinity, otherwise an affine (x, y) tuple.
def point_add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    x1, y1 = a
    x2, y2 = b
    if x1 == x2:
        if (y1 + y2) % P == 0:
            return None
        lam = 3 * x1 * x1 * pow(2 * y1, -1, P) % P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (lam * lam - x1 - x2) % P
    return (x3, (lam * (x1 - x3) - y1) % P)


def point_mul(pt, k):
    r = None
    while k:
        if k & 1:
            r = point_add(r, pt)
        pt = point_add(pt, pt)
        k >>= 1
    return r


def lift_x(x):
    """The point with x coordinate x and even y, or None (SPEC 3.2)."""
    if x >= P:
        return None
    c = (pow(x, 3, P) + 7) % P
    y = pow(c, (P + 1) // 4, P)
    if y * y % P != c:
        return None
    return (x, y if y % 2 == 0 else P - y)


def is_valid_pubkey(pub):
    return len(pub) == 32 and lift_x(int.from_bytes(pub, "big")) is not None


def verify(pub, msg, sig):
    """True iff sig is a valid BIP-340 signature of msg (any length) under pub."""
    if len(pub) != 32 or len(sig) != 64:
        return False
    pt = lift_x(int.from_bytes(pub, "big"))
    if pt is None:
        return False
    r = int.from_bytes(sig[:32], "big")
    s = int.from_bytes(sig[32:], "big")
    if r >= P or r == 0 or s >= N or s == 0:
        return False
    e = int.from_bytes(tagged_hash("BIP0340/challenge", sig[:32] + pub + msg), "big") % N
    rp = point_add(point_mul(G, s), point_mul(pt, (N - e) % N))
    if rp is None or rp[1] % 2 != 0 or rp[0] != r:
        return False
    return True


def pubkey_from_secret(d):
    if not 1 <= d <= N - 1:
        raise ValueError("secret out of range")
    return point_mul(G, d)[0].to_bytes(32, "big")


def sign(d, msg, aux):
    """BIP-340 Sign (for tests)."""
    if not 1 <= d <= N - 1 or len(aux) != 32:
        raise ValueError("bad secret or aux")
    pt = point_mul(G, d)
    if pt[1] % 2:
        d = N - d
    px = pt[0].to_bytes(32, "big")
    t = (d ^ int.from_bytes(tagged_hash("BIP0340/aux", aux), "big")).to_bytes(32, "big")
    k0 = int.from_bytes(tagged_hash("BIP0340/nonce", t + px + msg), "big") % N
    if k0 == 0:
        raise ValueError("k = 0")
    rpt = point_mul(G, k0)
    k = k0 if rpt[1] % 2 == 0 else N - k0
    rx = rpt[0].to_bytes(32, "big")
    e = int.from_bytes(tagged_hash("BIP0340/challenge", rx + px + msg), "big") % N
    return rx + ((k + e * d) % N).to_bytes(32, "big")
