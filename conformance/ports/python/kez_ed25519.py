"""Ed25519 with the strict policy of SPEC.md 3.2 and 4.2.

Point decoding, canonical encoding, small-order checks, S < L and the cofactorless
equation are implemented here with integer math; the equation itself is delegated to
PyPI `cryptography` (OpenSSL) when the key encoding is canonical, and computed here
otherwise (where the two could differ: OpenSSL's decoding of y >= p is not specified).
"""

import hashlib

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - the pure path still works
    Ed25519PublicKey = None
    InvalidSignature = Exception

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, -1, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
_BY = 4 * pow(5, -1, P) % P


def _recover_x(y, sign):
    """x with x^2 = (y^2-1)/(d y^2+1), or None. lsb(x) = sign unless x = 0."""
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    vx2 = v * x * x % P
    if vx2 == u:
        pass
    elif vx2 == (-u) % P:
        x = x * SQRT_M1 % P
    else:
        return None
    if x != 0 and (x & 1) != sign:
        x = P - x
    return x


_BX = _recover_x(_BY, 0)
B = (_BX, _BY, 1, _BX * _BY % P)
IDENTITY = (0, 1, 1, 0)


def decode(enc):
    """Point decoding of SPEC 3.2 (lenient: y reduced mod p, sign ignored for x = 0).

    Returns an extended point (X, Y, Z, T) or None."""
    if len(enc) != 32:
        return None
    n = int.from_bytes(enc, "little")
    sign = n >> 255
    y = (n & ((1 << 255) - 1)) % P
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = t1 * 2 * D * t2 % P
    dd = z1 * 2 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def neg(a):
    x, y, z, t = a
    return ((-x) % P, y, z, (-t) % P)


def mul(k, pt):
    r = IDENTITY
    while k:
        if k & 1:
            r = add(r, pt)
        pt = add(pt, pt)
        k >>= 1
    return r


def encode(pt):
    x, y, z, _ = pt
    zi = pow(z, -1, P)
    x = x * zi % P
    y = y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def is_identity(pt):
    x, y, z, _ = pt
    return x % P == 0 and (y - z) % P == 0


def is_small_order(pt):
    return is_identity(add(add(add(pt, pt), add(pt, pt)), add(add(pt, pt), add(pt, pt))))


def is_valid_key(enc):
    """SPEC 3.2: decodes, canonical, not of small order."""
    pt = decode(enc)
    if pt is None:
        return False
    if encode(pt) != bytes(enc):
        return False
    return not is_small_order(pt)


def _equation_pure(a_pt, r_enc, a_enc, msg, s):
    k = int.from_bytes(hashlib.sha512(r_enc + a_enc + msg).digest(), "little") % L
    rp = add(mul(s, B), mul(k, neg(a_pt)))
    return encode(rp) == r_enc


def verify(pub, msg, sig, force_pure=False):
    """verify_strict of SPEC 4.2. Returns bool, never raises for bad input."""
    pub, msg, sig = bytes(pub), bytes(msg), bytes(sig)
    if len(pub) != 32 or len(sig) != 64:
        return False
    a_pt = decode(pub)  # step 1
    if a_pt is None:
        return False
    r_enc, s_enc = sig[:32], sig[32:]
    s = int.from_bytes(s_enc, "little")
    if s >= L:  # step 2
        return False
    r_pt = decode(r_enc)  # step 3
    if r_pt is None:
        return False
    if is_small_order(r_pt) or is_small_order(a_pt):  # step 4
        return False
    if force_pure or Ed25519PublicKey is None or encode(a_pt) != pub:
        return _equation_pure(a_pt, r_enc, pub, msg, s)  # steps 5-6
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)  # steps 5-6
        return True
    except InvalidSignature:
        return False


def public_from_seed(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return encode(mul(a, B))


def sign(seed, msg):
    """RFC 8032 5.1.6 (for tests)."""
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    pub = encode(mul(a, B))
    r = int.from_bytes(hashlib.sha512(h[32:] + msg).digest(), "little") % L
    r_enc = encode(mul(r, B))
    k = int.from_bytes(hashlib.sha512(r_enc + pub + msg).digest(), "little") % L
    return r_enc + ((r + k * a) % L).to_bytes(32, "little")
