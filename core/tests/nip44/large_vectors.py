#!/usr/bin/env python3
"""Independent generator of KEZ's own NIP-44 large-payload vectors (core/tests/nip44.rs).

Written from the NIP-44 prose with the `cryptography` package, not from the Rust code, so the
Rust test cross-checks two implementations of the extended length prefix. Run it and compare
the printed hashes with the constants in core/tests/nip44.rs.
"""
import base64
import hashlib
import hmac

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

CONVERSATION_KEY = bytes(range(0x20, 0x40))
NONCE = bytes(range(0x80, 0xA0))


def padded_len(n):
    if n <= 32:
        return 32
    next_power = 1 << (n - 1).bit_length()
    chunk = 32 if next_power <= 256 else next_power // 8
    return chunk * ((n - 1) // chunk + 1)


def encrypt(key, nonce, pt):
    okm = b""
    t = b""
    i = 1
    while len(okm) < 76:
        t = hmac.new(key, t + nonce + bytes([i]), hashlib.sha256).digest()
        okm += t
        i += 1
    ck, cn, hk = okm[:32], okm[32:44], okm[44:76]
    n = len(pt)
    prefix = n.to_bytes(2, "big") if n < 65536 else b"\0\0" + n.to_bytes(4, "big")
    padded = prefix + pt + bytes(padded_len(n) - n)
    # cryptography's ChaCha20 nonce: 4-byte little-endian block counter (0), then the 12 bytes
    ct = Cipher(algorithms.ChaCha20(ck, b"\0\0\0\0" + cn), mode=None).encryptor().update(padded)
    mac = hmac.new(hk, nonce + ct, hashlib.sha256).digest()
    return base64.b64encode(b"\x02" + nonce + ct + mac).decode()


for n in (65536, 100000):
    pt = bytes(i % 251 for i in range(n))
    payload = encrypt(CONVERSATION_KEY, NONCE, pt)
    print(n, len(payload), hashlib.sha256(pt).hexdigest(), hashlib.sha256(payload.encode()).hexdigest())
