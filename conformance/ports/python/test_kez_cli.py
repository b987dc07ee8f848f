"""Tests of the Python KEZ port: `python3 -m unittest` from this directory.

Unit tests per module, the SPEC.md examples, the CLI contract, and a replay of the
public upstream vectors in /work/shared/upstream-vectors (override with KEZ_UPSTREAM).
When that folder is missing the upstream tests are skipped, except with CI=true, where
they fail.
"""

import base64
import csv
import hashlib
import io
import json  # only to read the upstream vector files, never for KEZ input
import os
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import kez_bech32  # noqa: E402
import kez_bip340  # noqa: E402
import kez_claim  # noqa: E402
import kez_ed25519  # noqa: E402
import kez_jcs  # noqa: E402
import kez_keys  # noqa: E402
import kez_sigchain  # noqa: E402
import kez_subject  # noqa: E402
import kez_zstd  # noqa: E402
from kez_errors import KezError  # noqa: E402

UPSTREAM = os.environ.get("KEZ_UPSTREAM", "/work/shared/upstream-vectors")
CLI = [sys.executable, os.path.join(HERE, "kez_cli.py")]

SEED = bytes(range(32))
ED_REF = "ed25519:03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
NOSTR_REF = "nostr:npub1d4k24sjg47t0dta8lyz025p98g8naul44gh7dqu2jkepv6g5dr3q97c7ha"
CLAIM1 = (
    '{"iat":1764115200,"key":"' + ED_REF + '","sig":"c2c0596e43a5de47e43a94c347b6d4b20e566acfe7c9de4b'
    '4ba0869576e508bd32b5467379ee8887d8b1e20757288f40ebcbcc3fad0dd96fef4e881b75ee8404",'
    '"subject":"github:alice","type":"kez-claim-v1"}'
)
CLAIM_NOSTR = (
    '{"iat":1764115200,"key":"' + NOSTR_REF + '","sig":"32855c21b844fa1c409ef1c6fb96a143b354ef3bc74889d1'
    '549afbaf1bdfcb8d374a119542385e7c1da2f7dffaeb4c4651b0cbe5ab87f77252eaa9c826eff131",'
    '"subject":"github:alice","type":"kez-claim-v1"}'
)
CLAIM_EXP = (
    '{"exp":1795651200,"iat":1764115200,"key":"' + ED_REF + '","sig":"649109db21db0b95dae96b5db2e68d7a'
    'd5d02f803d661639d12d3c929b1cc6aca39fc76f320d85b04d076d7e47bfc681f31578fb276e3103afb089b07996a509",'
    '"subject":"dns:xn--bcher-kva.example","type":"kez-claim-v1"}'
)
COMPACT1 = (
    "kez:z1:KLUv_QQ42QgAeyJpYXQiOjE3NjQxMTUyMDAsImtleSI6ImVkMjU1MTk6MDNhMTA3YmZmM2NlMTBiZTFkNzBkZDE4ZTc0"
    "YmMwOTk2N2U0ZDYzMDliYTUwZDVmMWRkYzg2NjQxMjU1MzFiOCIsInNpZyI6ImMyYzA1OTZlNDNhNWRlNDdlNDNhOTRjMzQ3YjZk"
    "NGIyMGU1NjZhY2ZlN2M5ZGU0YjRiYTA4Njk1NzZlNTA4YmQzMmI1NDY3Mzc5ZWU4ODg3ZDhiMWUyMDc1NzI4OGY0MGViY2JjYzNm"
    "YWQwZGQ5NmZlZjRlODgxYjc1ZWU4NDA0Iiwic3ViamVjdCI6ImdpdGh1YjphbGljZSIsInR5cGUiOiJrZXotY2xhaW0tdjEifbGc0nw"
)
DNS_EXP = (
    '_kez.xn--bcher-kva.example. 3600 IN TXT "kez:z1:KLUv_QQ4yQkAeyJleHAiOjE3OTU2NTEyMDAsImlhdCI6MTc2NDEx'
    "NTIwMCwia2V5IjoiZWQyNTUxOTowM2ExMDdiZmYzY2UxMGJlMWQ3MGRkMThlNzRiYzA5OTY3ZTRkNjMwOWJhNTBkNWYxZGRjODY2"
    "NDEyNTUzMWI4Iiwic2lnIjoiNjQ5MTA5ZGIyMWRiMGI5NWRhZTk2YjVkYjJlNjhkN2FkNWQwMmY4MDNkNjYxNjM5ZDEyZDNj\" "
    '"OTI5YjFjYzZhY2EzOWZjNzZmMzIwZDg1YjA0ZDA3NmQ3ZTQ3YmZjNjgxZjMxNTc4ZmIyNzZlMzEwM2FmYjA4OWIwNzk5NmE1MDki'
    'LCJzdWJqZWN0IjoiZG5zOnhuLS1iY2hlci1rdmEuZXhhbXBsZSIsInR5cGUiOiJrZXotY2xhaW0tdjEifbXAyko"'
)


def run_cli(args, stdin=b""):
    p = subprocess.run(CLI + args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout, p.stderr


def upstream_dir(*parts):
    path = os.path.join(UPSTREAM, *parts)
    if not os.path.exists(path):
        msg = "upstream vectors missing: %s" % path
        if os.environ.get("CI") == "true":
            raise AssertionError(msg)
        raise unittest.SkipTest(msg)
    return path


# ------------------------------------------------------------------ zstd frame builder

def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def raw_frame(payload, fhd=0x04, wd=0x38, fcs=b"", checksum=True, blocks=None, extra=b""):
    """A frame of raw blocks (max 128 KiB each) with explicit header bytes."""
    out = kez_zstd.MAGIC + bytes([fhd])
    if wd is not None:
        out += bytes([wd])
    out += fcs
    if blocks is None:
        chunks = [payload[i:i + 131072] for i in range(0, len(payload), 131072)] or [b""]
        blocks = b""
        for idx, ch in enumerate(chunks):
            last = 1 if idx == len(chunks) - 1 else 0
            blocks += ((len(ch) << 3) | last).to_bytes(3, "little") + ch
    out += blocks
    if checksum:
        out += (kez_zstd.xxh64(payload) & 0xFFFFFFFF).to_bytes(4, "little")
    return out + extra


def huffman_code(data):
    """A complete prefix code over the distinct bytes of data (all at most 128), with the
    codes zstd assigns to its weights (RFC 8878 4.2.1): returns ({byte: (code, length)},
    the tree description with direct weights)."""
    syms = sorted(set(data))
    top = max(1, (len(syms) - 1).bit_length())
    short = (1 << top) - len(syms)
    by_count = sorted(syms, key=lambda b: (-data.count(b), b))
    lengths = {b: top - 1 if i < short else top for i, b in enumerate(by_count)}
    codes, code, prev = {}, 0, None
    for b in sorted(syms, key=lambda b: (-lengths[b], b)):
        if prev is not None:
            code = (code + 1) >> (prev - lengths[b])
        prev = lengths[b]
        codes[b] = (code, lengths[b])
    last = max(syms)  # its weight is implied
    weights = [top + 1 - lengths[b] if b in lengths else 0 for b in range(last)] + [0]
    desc = bytes([127 + last]) + bytes(weights[i] << 4 | weights[i + 1] for i in range(0, last, 2))
    return codes, desc


def huffman_stream(codes, symbols, cut=False):
    """One Huffman stream of symbols; cut drops the trailing 0 bits of the last code."""
    v = n = 1
    for b in symbols:
        c, length = codes[b]
        v, n = v << length | c, n + length
    if cut:
        while v & 1 == 0:
            v, n = v >> 1, n - 1
    return v.to_bytes((n + 7) // 8, "little")


def literals_block(desc, streams, regenerated, last=True):
    """A compressed block of Huffman-coded literals and no sequences: one stream (Size_Format
    00) or four (11), with the tree description desc, or treeless when desc is None."""
    four = len(streams) == 4
    body = (desc or b"") + (b"".join(len(st).to_bytes(2, "little") for st in streams[:3]) if four else b"")
    body += b"".join(streams)
    kind = 3 if desc is None else 2
    if four:
        header = (kind | 3 << 2 | regenerated << 4 | len(body) << 22).to_bytes(5, "little")
    else:
        header = (kind | regenerated << 4 | len(body) << 14).to_bytes(3, "little")
    block = header + body + b"\x00"
    return ((len(block) << 3) | 0b100 | int(last)).to_bytes(3, "little") + block


def split(data, sizes):
    out, at = [], 0
    for n in sizes:
        out.append(data[at:at + n])
        at += n
    return out


def compact_of(frame):
    return "kez:z1:" + b64u(frame)


class TestJcs(unittest.TestCase):
    def canon(self, b):
        return kez_jcs.canonicalize(b)

    def code(self, b):
        with self.assertRaises(KezError) as cm:
            kez_jcs.canonicalize(b)
        return cm.exception.code

    def test_spec_example(self):
        self.assertEqual(self.canon(b' { "b" : [1, 2.50, -0, 1e3], "a": "\\u0041\\n" } '),
                         b'{"a":"A\\n","b":[1,2.5,0,1000]}')

    def test_number_table(self):
        table = {b"-0": b"0", b"-0.0": b"0", b"0e5": b"0", b"1e-400": b"0", b"-1e-400": b"0",
                 b"2.50": b"2.5", b"1e3": b"1000", b"1e20": b"100000000000000000000",
                 b"1e21": b"1e+21", b"0.000001": b"0.000001", b"1.5e-7": b"1.5e-7",
                 b"123456789012345678": b"123456789012345680", b"5e-324": b"5e-324",
                 b"1e-7": b"1e-7", b"0.0000001": b"1e-7", b"-1.5": b"-1.5",
                 b"1.7976931348623157e308": b"1.7976931348623157e+308"}
        for tok, exp in table.items():
            self.assertEqual(self.canon(tok), exp, tok)
        for tok in (b"1E400", b"-1e400", b"1" * 400):
            self.assertEqual(self.code(tok), "bad_number", tok)

    def test_overflow_boundary(self):
        # 2^1024 - 2^970 is the first value that rounds to infinity.
        edge = (2**1024 - 2**970)
        self.assertEqual(self.code(str(edge).encode()), "bad_number")
        self.assertEqual(self.canon(str(edge - 1).encode()), b"1.7976931348623157e+308")

    def test_rejection_table(self):
        cases = {
            b"\"\xff\"": "invalid_utf8", b"[x,\"\xff\"": "invalid_utf8", b"\xed\xa0\x80": "invalid_utf8",
            b"\xc0\xaf": "invalid_utf8", b"\xf4\x90\x80\x80": "invalid_utf8", b"\"\xe2\x82": "invalid_utf8",
            b"": "json_syntax", b"   ": "json_syntax", b"01": "json_syntax", b"+1": "json_syntax",
            b".5": "json_syntax", b"1.": "json_syntax", b"1e": "json_syntax", b"-": "json_syntax",
            b"NaN": "json_syntax", b"Infinity": "json_syntax", b"[1,2,]": "json_syntax",
            b'{"a" 1}': "json_syntax", b'"\\x"': "json_syntax", b'"\t"': "json_syntax",
            b"\xef\xbb\xbf1": "json_syntax", b'"\\ud83d\\u00"': "json_syntax", b"'a'": "json_syntax",
            b"{a:1}": "json_syntax", b"[1]//": "trailing_data", b"/*x*/1": "json_syntax",
            b'{"a":1,}': "json_syntax", b"tru": "json_syntax", b'"\\u12"': "json_syntax",
            b'"\\ud800"': "lone_surrogate", b'"\\udc00\\ud800"': "lone_surrogate",
            b'"\\ud800': "lone_surrogate", b'"\\ud800\\': "lone_surrogate", b'"\\ud800\\n"': "lone_surrogate",
            b'"\\ud800\\u12': "json_syntax", b'"\\ud800\\ud800\\udc00"': "lone_surrogate",
            b'"\\ud83d\\u0041"': "lone_surrogate", b'"\\udfff"': "lone_surrogate",
            b"1e400": "bad_number", b"-1E400": "bad_number", b"[1e400,": "bad_number",
            b"[" * 33 + b"]" * 33: "too_deep", b"[1] x": "trailing_data", b"1 2": "trailing_data",
            b"[1]\x00": "trailing_data", b'{"a":1,"a":2}': "duplicate_key",
            b'{"a":1,"\\u0061":2}': "duplicate_key", b'[{"x":[{"a":1,"a":1}]}]': "duplicate_key",
            b'{"a":1,"a":2} x': "trailing_data", b'[{"a":1,"a":2},1e400]': "bad_number",
        }
        for inp, code in cases.items():
            self.assertEqual(self.code(inp), code, inp)

    def test_depth(self):
        self.assertEqual(self.canon(b"[" * 32 + b"]" * 32), b"[" * 32 + b"]" * 32)
        self.assertEqual(self.canon(b'{"a":' * 32 + b"1" + b"}" * 32), b'{"a":' * 32 + b"1" + b"}" * 32)
        self.assertEqual(self.code(b'{"a":' * 33 + b"1" + b"}" * 33), "too_deep")
        # depth is detected at the opening bracket, before a later syntax error
        self.assertEqual(self.code(b"[" * 33 + b"x"), "too_deep")
        self.assertEqual(self.code(b"[x" + b"[" * 40), "json_syntax")

    def test_strings(self):
        self.assertEqual(self.canon(b'"\\u001f\\u007f\\u2028/\\/\\b\\f\\n\\r\\t\\"\\\\"'),
                         b'"\\u001f\x7f\xe2\x80\xa8//\\b\\f\\n\\r\\t\\"\\\\"')
        self.assertEqual(self.canon(b'"\\uD83D\\uDE00"'), "\U0001F600".encode().join([b'"', b'"']))
        self.assertEqual(self.canon(b'"\x7f\xe2\x80\xa9"'), b'"\x7f\xe2\x80\xa9"')

    def test_sort_utf16(self):
        self.assertEqual(self.canon('{"\ue000":1,"\U00010000":2,"a":0,"":3,"aa":4}'.encode()),
                         '{"":3,"a":0,"aa":4,"\U00010000":2,"\ue000":1}'.encode())

    def test_idempotent(self):
        for b in (b'{"z":[1,{"b":2,"a":[]}],"a":"\\u00e9"}', b"[1e300, 0.1, -5e-7]"):
            once = self.canon(b)
            self.assertEqual(self.canon(once), once)

    def test_upstream_cyberphone(self):
        d = upstream_dir("jcs")
        names = sorted(os.listdir(os.path.join(d, "input")))
        self.assertEqual(len(names), 6)
        for name in names:
            with open(os.path.join(d, "input", name), "rb") as f:
                inp = f.read()
            with open(os.path.join(d, "output", name), "rb") as f:
                exp = f.read()
            self.assertEqual(self.canon(inp), exp, name)

    def test_upstream_es6_numbers(self):
        path = os.path.join(upstream_dir("jcs"), "es6testfile100k.txt")
        count = 0
        with open(path) as f:
            for line in f:
                h, exp = line.rstrip("\n").split(",")
                x = struct.unpack(">d", int(h, 16).to_bytes(8, "big"))[0]
                self.assertEqual(kez_jcs.es_number(x), exp, h)
                # and the same through the parser, from the expected text
                count += 1
        self.assertEqual(count, 100000)


class TestBech32(unittest.TestCase):
    KEY = bytes.fromhex("6d6caac248af96f6afa7f904f550253a0f3ef3f5aa2fe6838a95b216691468e2")

    def test_roundtrip(self):
        npub = kez_bech32.encode_npub(self.KEY)
        self.assertEqual("nostr:" + npub, NOSTR_REF)
        self.assertEqual(kez_bech32.decode_npub(npub), self.KEY)

    def test_rejects(self):
        npub = NOSTR_REF[6:]
        self.assertIsNone(kez_bech32.decode_npub(npub.upper()))
        self.assertIsNone(kez_bech32.decode_npub(npub[:-1] + ("q" if npub[-1] != "q" else "p")))
        self.assertIsNone(kez_bech32.decode_npub(npub[:-1]))
        self.assertIsNone(kez_bech32.decode_npub("nsec1" + npub[5:]))
        self.assertIsNone(kez_bech32.decode_npub(npub[:10] + "b" + npub[11:]))

    def test_bech32m_and_padding(self):
        hrp = kez_bech32.hrp_expand("npub")
        acc = int.from_bytes(self.KEY, "big") << 4
        vals = [(acc >> (5 * (51 - i))) & 31 for i in range(52)]

        def enc(vals, const):
            pm = kez_bech32.polymod(hrp + vals + [0] * 6) ^ const
            chk = [(pm >> (5 * (5 - i))) & 31 for i in range(6)]
            return "npub1" + "".join(kez_bech32.CHARSET[v] for v in vals + chk)

        self.assertEqual(kez_bech32.decode_npub(enc(vals, 1)), self.KEY)
        self.assertIsNone(kez_bech32.decode_npub(enc(vals, 0x2BC830A3)))
        padded = vals[:-1] + [vals[-1] | 1]
        self.assertIsNone(kez_bech32.decode_npub(enc(padded, 1)))


class TestBip340(unittest.TestCase):
    def test_upstream_csv(self):
        path = os.path.join(upstream_dir("bip340"), "test-vectors.csv")
        with open(path, "rb") as f:
            raw = f.read()
        self.assertIn(b"\r\n", raw)
        rows = [r for r in csv.reader(io.StringIO(raw.decode("ascii"))) if r][1:]
        self.assertEqual(len(rows), 19)
        for idx, sk, pk, aux, msg, sig, res, _ in rows:
            ok = kez_bip340.verify(bytes.fromhex(pk), bytes.fromhex(msg), bytes.fromhex(sig))
            self.assertEqual(ok, res == "TRUE", idx)
            if sk:
                got = kez_bip340.sign(int(sk, 16), bytes.fromhex(msg), bytes.fromhex(aux))
                self.assertEqual(got.hex(), sig.lower(), idx)

    def test_spec_claim_digest_and_sig(self):
        d = int.from_bytes(SEED, "big")
        self.assertEqual(kez_bip340.pubkey_from_secret(d), kez_bip340.pubkey_from_secret(kez_bip340.N - d))
        digest = bytes.fromhex("898616377466047b85d84151e7c38a8f587280b94d4bed0b74a5fbed7ce4f255")
        sig = kez_bip340.sign(d, digest, bytes(32))
        self.assertEqual(sig.hex(), "32855c21b844fa1c409ef1c6fb96a143b354ef3bc74889d1549afbaf1bdfcb8d"
                                    "374a119542385e7c1da2f7dffaeb4c4651b0cbe5ab87f77252eaa9c826eff131")

    def test_edge_rejections(self):
        d = 12345
        pub = kez_bip340.pubkey_from_secret(d)
        sig = kez_bip340.sign(d, b"", bytes(32))
        self.assertTrue(kez_bip340.verify(pub, b"", sig))
        self.assertFalse(kez_bip340.verify(pub, b"x", sig))
        self.assertFalse(kez_bip340.verify(pub[:31], b"", sig))
        self.assertFalse(kez_bip340.verify(pub, b"", sig[:63]))
        self.assertFalse(kez_bip340.verify(pub, b"", bytes(32) + sig[32:]))  # r = 0
        self.assertFalse(kez_bip340.verify(pub, b"", sig[:32] + bytes(32)))  # s = 0
        self.assertFalse(kez_bip340.verify(pub, b"", sig[:32] + kez_bip340.N.to_bytes(32, "big")))
        self.assertFalse(kez_bip340.verify(kez_bip340.P.to_bytes(32, "big"), b"", sig))
        long_msg = bytes(range(256)) * 5
        self.assertTrue(kez_bip340.verify(pub, long_msg, kez_bip340.sign(d, long_msg, bytes(32))))


class TestEd25519(unittest.TestCase):
    def test_upstream_wycheproof(self):
        path = os.path.join(upstream_dir("wycheproof"), "ed25519_test.json")
        with open(path) as f:
            data = json.load(f)
        n = 0
        for g in data["testGroups"]:
            pk = bytes.fromhex(g["publicKey"]["pk"])
            for t in g["tests"]:
                n += 1
                for pure in (False, True):
                    ok = kez_ed25519.verify(pk, bytes.fromhex(t["msg"]), bytes.fromhex(t["sig"]), force_pure=pure)
                    self.assertEqual(ok, t["result"] == "valid", (t["tcId"], pure))
        self.assertEqual(n, 151)

    def test_upstream_rfc8032(self):
        path = os.path.join(upstream_dir("rfc8032"), "rfc8032-ed25519.json")
        with open(path) as f:
            data = json.load(f)
        self.assertEqual(len(data["vectors"]), 5)
        for v in data["vectors"]:
            sk, pk = bytes.fromhex(v["secret_key"]), bytes.fromhex(v["public_key"])
            msg, sig = bytes.fromhex(v["message"]), bytes.fromhex(v["signature"])
            self.assertEqual(kez_ed25519.public_from_seed(sk), pk, v["name"])
            self.assertEqual(kez_ed25519.sign(sk, msg), sig, v["name"])
            self.assertTrue(kez_ed25519.verify(pk, msg, sig), v["name"])
            self.assertTrue(kez_ed25519.verify(pk, msg, sig, force_pure=True), v["name"])

    def test_strictness(self):
        pk = kez_ed25519.public_from_seed(SEED)
        msg = b"kez"
        sig = kez_ed25519.sign(SEED, msg)
        self.assertTrue(kez_ed25519.verify(pk, msg, sig))
        s = int.from_bytes(sig[32:], "little")
        # S + L: same equation, non-canonical S -> rejected
        self.assertFalse(kez_ed25519.verify(pk, msg, sig[:32] + (s + kez_ed25519.L).to_bytes(32, "little")))
        # small-order A (identity) and R (identity)
        ident = (1).to_bytes(32, "little")
        self.assertFalse(kez_ed25519.verify(ident, msg, ident + bytes(32)))
        # non-canonical R encoding (y + p) of the same R never verifies
        r_y = int.from_bytes(sig[:32], "little") & ((1 << 255) - 1)
        if r_y + kez_ed25519.P < 2**255:
            nc = (r_y + kez_ed25519.P) | (int.from_bytes(sig[:32], "little") & (1 << 255))
            self.assertFalse(kez_ed25519.verify(pk, msg, nc.to_bytes(32, "little") + sig[32:]))
        self.assertFalse(kez_ed25519.verify(pk[:31], msg, sig))
        self.assertFalse(kez_ed25519.verify(pk, msg, sig[:63]))

    def test_key_validity(self):
        self.assertTrue(kez_ed25519.is_valid_key(bytes.fromhex("03" + "00" * 31)))  # mixed order
        self.assertFalse(kez_ed25519.is_valid_key(bytes.fromhex("f0" + "ff" * 30 + "7f")))  # y = p + 3
        self.assertFalse(kez_ed25519.is_valid_key(bytes.fromhex("01" + "00" * 31)))  # identity
        self.assertFalse(kez_ed25519.is_valid_key(bytes.fromhex("02" + "00" * 31)))  # not on curve
        self.assertFalse(kez_ed25519.is_valid_key(bytes.fromhex("01" + "00" * 30 + "80")))  # x = 0, s = 1
        # the decoding itself is lenient for y >= p and for x = 0 with the sign bit set
        self.assertIsNotNone(kez_ed25519.decode(bytes.fromhex("f0" + "ff" * 30 + "7f")))
        self.assertIsNotNone(kez_ed25519.decode(bytes.fromhex("01" + "00" * 30 + "80")))


class TestKeys(unittest.TestCase):
    def test_refs(self):
        self.assertEqual(kez_keys.parse_keyref(ED_REF), ("ed25519", kez_ed25519.public_from_seed(SEED)))
        self.assertEqual(kez_keys.parse_keyref(NOSTR_REF)[0], "nostr")
        bad = ["NOSTR:" + NOSTR_REF[6:], "nostr:" + NOSTR_REF[6:].upper(), NOSTR_REF[6:],
               "nostr:6d6caac248af96f6afa7f904f550253a0f3ef3f5aa2fe6838a95b216691468e2",
               ED_REF.upper(), "ed25519:" + ED_REF[8:].upper(), ED_REF[:-2], ED_REF + "00",
               "ed25519:f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
               "ed25519:0100000000000000000000000000000000000000000000000000000000000000",
               "ed25519:0200000000000000000000000000000000000000000000000000000000000000", ""]
        for b in bad:
            with self.assertRaises(KezError) as cm:
                kez_keys.parse_keyref(b)
            self.assertEqual(cm.exception.code, "bad_key", b)
        # an npub whose x is not on the curve
        x = 5
        while kez_bip340.lift_x(x) is not None:
            x += 1
        with self.assertRaises(KezError):
            kez_keys.parse_keyref("nostr:" + kez_bech32.encode_npub(x.to_bytes(32, "big")))


class TestSubject(unittest.TestCase):
    def test_examples(self):
        table = [("GitHub:@Alice", "github:alice"), ("dns:Alice.Example.", "dns:alice.example"),
                 ("DNS:a.b", "dns:a.b"), ("dns:bücher.example", "dns:xn--bcher-kva.example"),
                 ("dns:MÜNCHEN.de", "dns:xn--mnchen-3ya.de"), ("dns:日本語.jp", "dns:xn--wgv71a119e.jp"),
                 ("dns:例え.テスト", "dns:xn--r8jz45g.xn--zckzah"), ("dns:ß.de", "dns:xn--zca.de"),
                 ("dns:İ.example", "dns:xn--i-9bb.example"), ("dns:xn--zz.example", "dns:xn--zz.example"),
                 ("mastodon:@Alice@Social.Example", "ap:@alice@social.example"),
                 ("ap:bob@host.example", "ap:@bob@host.example"), ("ap:a@B.EXAMPLE.", "ap:@a@b.example"),
                 ("ap:@a_b.c-d@bücher.example", "ap:@a_b.c-d@xn--bcher-kva.example"),
                 ("bluesky:@Alice.BSKY.social", "bluesky:alice.bsky.social"),
                 ("nostr:" + NOSTR_REF[6:].upper(), NOSTR_REF), ("dns:ｅxample.com", "dns:xn--xample-hy68a.com")]
        for inp, exp in table:
            self.assertEqual(kez_subject.normalize(inp), exp, inp)
            kez_subject.check_normalized(exp)

    def test_rejections(self):
        npub = NOSTR_REF[6:]
        bad = ["github:-a", "github:a--b", "github:a_b", "github:", "github:@@a", "github:" + "a" * 40,
               "dns:localhost", "dns:a..b", "dns:1.2.3.4", "dns:a.1", "dns:a_b.example", "dns:-a.example",
               "dns:example.com..", "dns:\u212a.example", "bluesky:alice", "bluesky:a.1b",
               "bluesky:alice.test.", "bluesky:bücher.example", "ap:alice", "ap:@a@b@c.example",
               "nostr:N" + npub[1:], "nostr:@" + npub, "nostr:npub1x", "web:x", "nope",
               "dns:" + ".".join(["a" * 63] * 4), "dns:" + "a" * 64 + ".com"]
        for b in bad:
            with self.assertRaises(KezError) as cm:
                kez_subject.normalize(b)
            self.assertEqual(cm.exception.code, "bad_subject", b)

    def test_not_normalized(self):
        for s in ("GitHub:alice", "github:@alice", "github:Alice", "dns:a.example.", "mastodon:@a@b.example",
                  "ap:a@b.example", "dns:bücher.example", "bluesky:@a.bsky.social"):
            with self.assertRaises(KezError) as cm:
                kez_subject.check_normalized(s)
            self.assertEqual(cm.exception.code, "bad_subject", s)


class TestZstd(unittest.TestCase):
    def dec(self, frame):
        return kez_zstd.decode_frame(frame)

    def code(self, frame):
        with self.assertRaises(KezError) as cm:
            kez_zstd.decode_frame(frame)
        return cm.exception.code

    def test_xxh64(self):
        self.assertEqual(kez_zstd.xxh64(b""), 0xEF46DB3751D8E999)
        self.assertEqual(kez_zstd.xxh64(b"a"), 0xD24EC4F1A98C6E5B)

    def test_spec_example_frame(self):
        frame = base64.urlsafe_b64decode(COMPACT1[7:] + "=" * (-len(COMPACT1[7:]) % 4))
        self.assertEqual(self.dec(frame), CLAIM1.encode())

    def test_library_frames(self):
        try:
            import zstandard
        except ImportError:
            self.skipTest("zstandard not installed")
        data = CLAIM1.encode() * 20
        for level in (1, 3, 19):
            for cs in (True, False):
                for fcs in (True, False):
                    f = zstandard.ZstdCompressor(level=level, write_checksum=cs, write_content_size=fcs).compress(data)
                    self.assertEqual(self.dec(f), data)

    def test_header_rules(self):
        p = b"hello"
        self.assertEqual(self.dec(raw_frame(p)), p)
        self.assertEqual(self.dec(raw_frame(p, fhd=0x14)), p)  # unused bit ignored
        self.assertEqual(self.dec(raw_frame(p, fhd=0x00, checksum=False)), p)
        self.assertEqual(self.code(b"\x28\xb5\x2f"), "bad_compression")
        self.assertEqual(self.code(b"\x50\x2a\x4d\x18" + b"\x00" * 8), "bad_compression")  # skippable
        self.assertEqual(self.code(raw_frame(p, fhd=0x0C)), "bad_compression")  # reserved bit
        self.assertEqual(self.code(raw_frame(p, fhd=0x05)), "bad_compression")  # dictionary id flag
        self.assertEqual(self.code(raw_frame(p, wd=0x39)), "bad_compression")  # window 147456
        self.assertEqual(self.dec(raw_frame(p, wd=0x38)), p)
        self.assertEqual(self.code(kez_zstd.MAGIC + b"\x04"), "bad_compression")  # truncated header
        # single segment: window = content size
        ss = raw_frame(p, fhd=0x24, wd=None, fcs=bytes([5]))
        self.assertEqual(self.dec(ss), p)
        self.assertEqual(self.code(raw_frame(p, fhd=0xA4, wd=None, fcs=(70000).to_bytes(4, "little"))), "too_large")
        self.assertEqual(self.code(raw_frame(p, fhd=0xA4, wd=None, fcs=(200000).to_bytes(4, "little"))),
                         "bad_compression")
        self.assertEqual(self.code(raw_frame(p, fhd=0x84, fcs=(70000).to_bytes(4, "little"))), "too_large")
        # declared size other than the decoded size
        self.assertEqual(self.code(raw_frame(p, fhd=0x24, wd=None, fcs=bytes([6]))), "bad_compression")
        self.assertEqual(self.code(raw_frame(p, fhd=0x84, fcs=(4).to_bytes(4, "little"))), "bad_compression")
        two = raw_frame(b"x" * 300, fhd=0x44, fcs=(300 - 256).to_bytes(2, "little"))  # 2-byte size + 256
        self.assertEqual(self.dec(two), b"x" * 300)

    def test_blocks_checksum_trailing(self):
        p = b"payload"
        good = raw_frame(p)
        self.assertEqual(self.code(good[:-1]), "bad_compression")  # checksum truncated
        self.assertEqual(self.code(good[:-4]), "bad_compression")  # checksum missing
        self.assertEqual(self.code(good[:-5]), "bad_compression")  # block truncated
        bad = bytearray(good)
        bad[-1] ^= 1
        self.assertEqual(self.code(bytes(bad)), "bad_compression")  # checksum mismatch
        self.assertEqual(self.code(good + b"\x00"), "bad_compression")  # trailing byte
        self.assertEqual(self.code(good + good), "bad_compression")  # second frame
        self.assertEqual(self.code(good + b"\x50\x2a\x4d\x18\x00\x00\x00\x00"), "bad_compression")
        reserved = raw_frame(p, blocks=((len(p) << 3) | 0b111).to_bytes(3, "little") + p)
        self.assertEqual(self.code(reserved), "bad_compression")
        rle = raw_frame(b"aaaa", blocks=((4 << 3) | 0b011).to_bytes(3, "little") + b"a")
        self.assertEqual(self.dec(rle), b"aaaa")
        nolast = raw_frame(p, blocks=((len(p) << 3) | 0).to_bytes(3, "little") + p, checksum=False)
        self.assertEqual(self.code(nolast), "bad_compression")

    def test_output_bound(self):
        ok = b"a" * 65536
        self.assertEqual(self.dec(raw_frame(ok)), ok)
        self.assertEqual(self.code(raw_frame(b"a" * 65537)), "too_large")
        # RLE bomb: 16 RLE blocks of 128 KiB, bounded without decoding all of it
        blocks = b"".join(((131072 << 3) | 0b010 | (1 if i == 15 else 0)).to_bytes(3, "little") + b"a"
                          for i in range(16))
        self.assertEqual(self.code(raw_frame(b"", blocks=blocks, checksum=False)), "too_large")
        # output exceeding the limit comes before a later malformed block
        blocks = ((70000 << 3) | 0b010).to_bytes(3, "little") + b"a" + b"\x07\x00\x00"
        self.assertEqual(self.code(raw_frame(b"", blocks=blocks, checksum=False)), "too_large")

    def test_upstream_golden(self):
        d = upstream_dir("zstd-golden")

        def read(*parts):
            with open(os.path.join(d, *parts), "rb") as f:
                return f.read()

        self.assertEqual(kez_zstd.decode_frame(read("golden-decompression", "zeroSeq_2B.zst")), b"Hello World!\n")
        self.assertEqual(kez_zstd.decode_frame(read("golden-decompression", "empty-block.zst")), b"")
        self.assertEqual(self.code(read("golden-decompression", "block-128k.zst")), "too_large")
        big = kez_zstd.decode_frame(read("golden-decompression", "block-128k.zst"), limit=1 << 20)
        self.assertEqual(big, bytes(131068))
        self.assertEqual(self.code(read("golden-decompression", "rle-first-block.zst")), "bad_compression")
        for name in os.listdir(os.path.join(d, "golden-decompression-errors")):
            self.assertEqual(self.code(read("golden-decompression-errors", name)), "bad_compression", name)


class TestHuffmanStreams(unittest.TestCase):
    """SPEC.md 9.2 step 7: each Huffman stream holds exactly its share and ends exactly."""

    FUZZ = os.path.join(HERE, "..", "..", "..", "fuzz")

    def frame(self, *blocks):
        return kez_zstd.MAGIC + b"\x00\x38" + b"".join(blocks)

    def refused(self, frame, why="Huffman"):
        with self.assertRaises(KezError) as cm:
            kez_zstd.decode_frame(frame)
        self.assertEqual(cm.exception.code, "bad_compression")
        self.assertIn(why, str(cm.exception))

    def test_stream_counts_are_exact(self):
        # direct weights of symbols 0 and 1 (1 each), symbol 2 implied (2): codes of 2, 2, 1 bits
        table = kez_zstd.huffman_table(bytes([129, 0x11]))
        self.assertEqual(table, (bytes([2, 2, 1, 1]), 2))
        # the start marker, then `00`: one 2-bit code
        one = bytes([0b100])
        self.assertEqual([kez_zstd.check_stream(table, one, n) for n in range(4)], [False, True, False, False])
        empty = b"\x01"  # the marker alone: no symbol
        self.assertTrue(kez_zstd.check_stream(table, empty, 0))
        self.assertFalse(kez_zstd.check_stream(table, empty, 1))
        self.assertFalse(kez_zstd.check_stream(table, b"", 0))  # no marker at all
        self.assertFalse(kez_zstd.check_stream(table, b"\x04\x00", 1))  # last byte 0: no marker
        self.assertFalse(kez_zstd.check_stream(table, bytes([0b10]), 1))  # the 2-bit code cut to 1 bit

    def test_tree_descriptions(self):
        # RFC 8878 4.2.1.1: weights 4 3 2 0 1 (and 1 implied) give codes of 1, 2, 3, -, 4, 4 bits
        table, max_bits = kez_zstd.huffman_table(bytes([132, 0x43, 0x20, 0x10]))
        self.assertEqual(max_bits, 4)
        self.assertEqual(table, bytes([4, 4, 3, 3] + [2] * 4 + [1] * 8))
        for desc in (bytes([128, 0xC0]),  # weight 12
                     bytes([128, 0x00]),  # no weight at all
                     bytes([129, 0x31]),  # 4 + 1 does not complete to a power of two
                     bytes([129, 0xBB])):  # two weights of 11 (and 11 implied): 12-bit codes
            with self.assertRaises(KezError, msg=desc.hex()):
                kez_zstd.huffman_table(desc)

    def test_fuzz_frames(self):
        def read(*parts):
            with open(os.path.join(self.FUZZ, *parts), "rb") as f:
                return f.read()

        # streams of 345, 346, 345, 344 of 1380 literals: the total is right, the shares are not
        self.refused(read("regressions", "compact_zstd", "huffman-stream-shares-differ.zst"), "Huffman stream 2 of 4")
        self.refused(read("seeds", "compact_zstd", "c-decodes-kez-refuses.zst"), "Huffman stream 4 of 4")
        self.assertEqual(len(kez_zstd.decode_frame(read("seeds", "compact_zstd", "c-fast.zst"))), 3000)
        text = compact_of(read("regressions", "compact_zstd", "huffman-stream-shares-differ.zst")) + "\n"
        code, out, _ = run_cli(["claim", "verify", "-", "--now", "1764115300", "--json"], text.encode())
        self.assertEqual(code, 2)
        self.assertIn(b'"bad_compression"', out)

    def test_hand_built_claim_frames(self):
        body = CLAIM1.encode()
        n = len(body)
        codes, desc = huffman_code(body)
        share = (n + 3) // 4
        rest = n - 3 * share

        def four(sizes, regenerated=n, lits=body, tree=desc, last=True):
            return literals_block(tree, [huffman_stream(codes, p) for p in split(lits, sizes)], regenerated, last)

        def raw(lits):
            return ((len(lits) << 3) | 1).to_bytes(3, "little") + lits

        self.assertEqual(kez_zstd.decode_frame(self.frame(four([share, share, share, rest]))), body)
        self.refused(self.frame(four([share + 1, share - 1, share, rest])), "Huffman stream 1 of 4")
        self.refused(self.frame(four([share, share + 1, share, rest - 1])), "Huffman stream 2 of 4")
        self.refused(self.frame(four([share, share, share, rest - 1])), "Huffman stream 4 of 4")
        # one stream: all of them, ending exactly
        self.assertEqual(kez_zstd.decode_frame(self.frame(literals_block(desc, [huffman_stream(codes, body)], n))),
                         body)
        self.refused(self.frame(literals_block(desc, [huffman_stream(codes, body + b"}")], n)), "stream 1 of 1")
        cut = max(k for k in range(2, n + 1) if codes[body[k - 1]][0] & 1 == 0)  # last code ends in 0
        self.refused(self.frame(literals_block(desc, [huffman_stream(codes, body[:cut], cut=True)], cut, False),
                                raw(body[cut:])), "stream 1 of 1")
        # four streams need 6 literals; 6 leave the fourth stream empty
        self.refused(self.frame(four([1, 1, 1, 1], 4, last=False), raw(body[4:])), "fewer than 6")
        self.assertEqual(kez_zstd.decode_frame(self.frame(four([2, 2, 2, 0], 6, last=False), raw(body[6:]))), body)
        # a treeless section reuses the tree of the section before it
        half = n // 2
        q1, q2 = (half + 3) // 4, (n - half + 3) // 4
        first = four([q1, q1, q1, half - 3 * q1], half, body[:half], last=False)
        tail = body[half:]
        good = four([q2, q2, q2, len(tail) - 3 * q2], len(tail), tail, tree=None)
        self.assertEqual(kez_zstd.decode_frame(self.frame(first, good)), body)
        bad = four([q2 + 1, q2 - 1, q2, len(tail) - 3 * q2], len(tail), tail, tree=None)
        self.refused(self.frame(first, bad), "Huffman stream 1 of 4")
        # treeless with no tree before it: libzstd refuses the block
        self.refused(self.frame(good), "corrupt block")

    def test_order_and_room(self):
        body = CLAIM1.encode()
        codes, desc = huffman_code(body)
        share = (len(body) + 3) // 4
        sizes = [share + 1, share - 1, share, len(body) - 3 * share]
        bad = literals_block(desc, [huffman_stream(codes, p) for p in split(body, sizes)], len(body))
        # the blocks before are decoded first: a too_large among them comes first
        big = ((70000 << 3) | 0b010).to_bytes(3, "little") + b"a"
        with self.assertRaises(KezError) as cm:
            kez_zstd.decode_frame(self.frame(big, bad))
        self.assertEqual(cm.exception.code, "too_large")
        self.refused(self.frame(((3 << 3) | 0b010).to_bytes(3, "little") + b"a", bad))
        # a section regenerating more than the room is left to the decoder (the output cannot fit)
        section = bad[3:]
        self.assertIsNone(kez_zstd.check_literals(section, None, len(body) - 1)[1])
        self.assertIsNotNone(kez_zstd.check_literals(section, None, len(body))[1])

    def test_library_frames_pass(self):
        try:
            import zstandard
        except ImportError:
            self.skipTest("zstandard not installed")
        with open(os.path.join(HERE, "..", "..", "..", "SPEC.md"), "rb") as f:
            spec = f.read()
        fse_four = 0
        for level in (1, 3, 19):
            for start, size in ((0, 300), (5000, 1500), (20000, 9000), (40000, 60000)):
                data = spec[start:start + size]
                frame = zstandard.ZstdCompressor(level=level).compress(data)
                self.assertEqual(kez_zstd.decode_frame(frame), data, (level, size))
                lit = frame[kez_zstd.parse_header(frame).end + 3:]
                if lit[0] & 3 == 2 and lit[0] >> 2 & 3 and lit[(3, 3, 4, 5)[lit[0] >> 2 & 3]] < 128:
                    fse_four += 1
        self.assertGreater(fse_four, 3)  # four streams with FSE-compressed weights


class TestClaims(unittest.TestCase):
    def verify_text(self, text, now):
        _, payload = kez_claim.detect_and_decode(text.encode() if isinstance(text, str) else text)
        c = kez_claim.parse_claim(payload)
        return kez_claim.verify_claim(c, now)[0]

    def code(self, text, now=0):
        with self.assertRaises(KezError) as cm:
            self.verify_text(text, now)
        return cm.exception.code

    def test_spec_examples(self):
        self.assertEqual(self.verify_text(CLAIM1, 1764115200), "valid")
        self.assertEqual(self.verify_text(CLAIM_NOSTR, 0), "valid")
        self.assertEqual(self.verify_text(CLAIM_EXP, 1795651199), "valid")
        self.assertEqual(self.verify_text(CLAIM_EXP, 1795651200), "expired")
        self.assertEqual(self.verify_text(COMPACT1, 5), "valid")
        self.assertEqual(self.verify_text("```kez\n" + COMPACT1 + "\n```\n", 5), "valid")
        self.assertEqual(self.verify_text(DNS_EXP, 1795651200), "expired")
        rdata = '"' + COMPACT1[:255] + '" "' + COMPACT1[255:] + '"\n'
        self.assertEqual(self.verify_text(rdata, 5), "valid")

    def test_digest(self):
        c = kez_claim.parse_claim(CLAIM1.encode())
        self.assertEqual(kez_claim.signing_digest(c.obj).hex(),
                         "499cb528c073cc8057eead38abc06a8323b8373d2fc57d39578f373af008ae3d")

    def test_bad_signature_is_status(self):
        bad = CLAIM1.replace('"sig":"c2', '"sig":"c3')
        self.assertEqual(self.verify_text(bad, 0), "invalid")
        bad_exp = CLAIM_EXP.replace('"sig":"64', '"sig":"65')
        self.assertEqual(self.verify_text(bad_exp, 2**63), "invalid")

    def test_any_json_form(self):
        pretty = '  {\n "type" : "kez-claim-v1", "\\u0073ubject":"github:alice", "sig":"%s",\n"key":"%s","iat":1764115200}\n' % (
            CLAIM1.split('"sig":"')[1][:128], ED_REF)
        self.assertEqual(self.verify_text(pretty, 0), "valid")

    def test_parse_order(self):
        cases = [
            ("[1]", "bad_encoding"), ('{"a":1}', "bad_claim"),
            (CLAIM1.replace('"type":"kez-claim-v1"', '"type":"kez-claim-v2"'), "bad_claim"),
            (CLAIM1.replace('"subject":"github:alice"', '"subject":"github:\\u0061lice"'), "bad_claim"),
            (CLAIM1.replace(ED_REF, ED_REF.upper()), "bad_key"),
            (CLAIM1.replace("github:alice", "github:Alice"), "bad_subject"),
            (CLAIM1.replace("1764115200", "1764115200.0"), "bad_claim"),
            (CLAIM1.replace("1764115200", "9007199254740992"), "bad_claim"),
            (CLAIM1.replace("1764115200", "-0"), "bad_claim"),
            (CLAIM1.replace("1764115200", "1e3"), "bad_claim"),
            (CLAIM1.replace("1764115200", "01"), "json_syntax"),
            (CLAIM_EXP.replace("1795651200", "1764115200"), "bad_claim"),
            (CLAIM1.replace('"sig":"c2', '"sig":"C2'), "bad_claim"),
            (CLAIM1.replace('"iat":1764115200,', '"iat":1,"iat":2,'), "duplicate_key"),
            # the first failing check in 5.4 order wins
            (CLAIM1.replace("github:alice", "github:Alice").replace(ED_REF, "ed25519:00"), "bad_key"),
            (CLAIM1.replace('"type":"kez-claim-v1"', '"type":"x","zzz":1'), "bad_claim"),
        ]
        for text, code in cases:
            self.assertEqual(self.code(text), code, text)
        self.assertEqual(self.verify_text(CLAIM1.replace("1764115200", "9007199254740991"), 0), "invalid")

    def test_size(self):
        pad = 65536 - len(CLAIM1)
        text = CLAIM1[:-1] + " " * (pad - 0) + "}"
        self.assertEqual(len(text), 65536 + 0)
        self.assertEqual(self.verify_text(text, 0), "valid")
        self.assertEqual(self.code(text[:-1] + " }"), "too_large")

    def test_detection(self):
        self.assertEqual(self.code(b"\xef\xbb\xbf" + CLAIM1.encode()), "bad_encoding")
        self.assertEqual(self.code(b"[" + CLAIM1.encode() + b"]"), "bad_encoding")
        self.assertEqual(self.code(b"hello " + CLAIM1.encode() + b"\xff"), "invalid_utf8")
        self.assertEqual(self.code("```kez\n" + COMPACT1 + "\n"), "bad_encoding")
        self.assertEqual(self.code(""), "bad_encoding")
        self.assertEqual(self.code("x TXT"), "bad_encoding")
        self.assertEqual(self.verify_text("\n\t " + COMPACT1 + " \r\n", 0), "valid")

    def test_compact_rules(self):
        self.assertEqual(self.code("KEZ:z1:" + COMPACT1[7:]), "bad_encoding")
        self.assertEqual(self.code(COMPACT1 + "="), "bad_encoding")
        self.assertEqual(self.code(COMPACT1[:20] + " " + COMPACT1[20:]), "bad_encoding")
        self.assertEqual(len(COMPACT1[7:] + "AA") % 4, 1)
        self.assertEqual(self.code(COMPACT1 + "AA"), "bad_encoding")  # length mod 4 == 1
        self.assertEqual(self.code("kez:z1:"), "bad_compression")
        self.assertEqual(self.code("kez:z1:" + "A" * 90106), "too_large")
        payload = CLAIM1.encode()
        self.assertEqual(self.verify_text(compact_of(raw_frame(payload)), 0), "valid")
        self.assertEqual(self.code(compact_of(raw_frame(payload + b"\n"))), "non_canonical")
        self.assertEqual(self.code(compact_of(raw_frame(b" " + payload))), "non_canonical")
        self.assertEqual(self.code(compact_of(raw_frame(b""))), "json_syntax")
        self.assertEqual(self.code(compact_of(raw_frame(b'{"a":1,"a":1}'))), "duplicate_key")
        self.assertEqual(self.code(compact_of(raw_frame(b'"x"'))), "bad_claim")
        # non-zero unused bits in the last character
        frame = raw_frame(payload)
        s = b64u(frame)
        if len(s) % 4 in (2, 3):
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            last = alphabet[alphabet.index(s[-1]) | 1]
            if last != s[-1]:
                self.assertEqual(self.code("kez:z1:" + s[:-1] + last), "bad_encoding")

    def test_markdown(self):
        ok = ["```kez\n%s\n```" % COMPACT1, "intro\n   ```kez  \r\n%s\n```\t\nafter" % COMPACT1,
              "```kez\n%s\n```\n```kez\ngarbage\n```" % CLAIM1, "```kez\n\n  %s  \n\n   ```\n" % COMPACT1,
              "```other\n```kez\n%s\n```\n```" % COMPACT1]
        for t in ok:
            self.assertEqual(self.verify_text(t, 0), "valid", t)
        # leading whitespace of the whole input is removed before the fence scan (9.5)
        self.assertEqual(self.verify_text("    ```kez\n%s\n```" % COMPACT1, 0), "valid")
        bad = ["```kez \x20x\n%s\n```" % COMPACT1,
               "```KEZ\n%s\n```" % COMPACT1, "x\n```kez\n%s\n````" % COMPACT1,
               "x\n```kez\nhello\n```", "x\n```kez\n```", "x\n\t```kez\n%s\n```" % COMPACT1,
               "x\n    ```kez\n%s\n```" % COMPACT1]
        for t in bad:
            self.assertEqual(self.code(t), "bad_encoding", t)

    def test_dns(self):
        q1, q2 = COMPACT1[:255], COMPACT1[255:]
        ok = ['"%s" "%s"' % (q1, q2), '"%s"\t "%s"' % (q1, q2), 'x. TXT "%s%s"' % (q1[:200], "") + ' "%s%s"' % (q1[200:], q2),
              'owner IN 60 txt "%s" "%s"' % (q1, q2), 'owner 60 \tIN\x0cTXT\t"%s" "%s"' % (q1, q2),
              '_kez.a.b. 3600 IN TXT "%s" "%s"\n' % (q1, q2)]
        for t in ok:
            self.assertEqual(self.verify_text(t, 0), "valid", t)
        bad = ['"%s"' % COMPACT1, '"%s""%s"' % (q1, q2), '"%s" "%s" x' % (q1, q2), '"%s" "" "%s"' % (q1, q2),
               'owner TXT "%s"\n"%s"' % (q1, q2), 'owner 60 60 TXT "%s" "%s"' % (q1, q2),
               'owner IN IN TXT "%s" "%s"' % (q1, q2), 'owner CH TXT "%s" "%s"' % (q1, q2),
               'TXT "%s" "%s"' % (q1, q2), 'owner TXT\n"%s" "%s"' % (q1, q2), 'owner 12345678901 TXT "%s" "%s"' % (q1, q2),
               'owner TXT ("%s" "%s")' % (q1, q2), 'owner\n60\tIN TXT\t"%s" "%s"' % (q1, q2), '"%s" "%s" ; c' % (q1, q2)]
        for t in bad:
            self.assertEqual(self.code(t), "bad_encoding", t)


SEED_B = bytes(range(32, 64))
BUNDLE_1410 = (
    '{"body":{"subject":"github:alice"},"chain":"%(A)s","iat":1764115200,"op":"add_claim","seq":1,"sig":"9c16b74a'
    '9b2d7ad78204a52219744652ae376016230399592abc6ad19b550a4cafe0ae40bca8e487345ff1a74ab9ef59b2f958a091fa41ea1957'
    '0f65b38b8b08","signer":"%(A)s","type":"kez-link-v1"}\n'
    '{"body":{"key":"%(B)s","proof":"0c20c4c4ca1da290d4c758acee90f30079ff640866f76cfa26a6e186f23c31352fa99f530167c2'
    '784a47f47a5bb9aa421982c1c39034e82194d2b5736201aa0e"},"chain":"%(A)s","iat":1764201600,"op":"rotate","prev":"a1e'
    '26184c18e2f72e2df069f8313278140ac51933f401ecbd72680d7aadaba7a","seq":2,"sig":"43d4a2723ba2f3b3188846369ee220dd'
    '2f74f7b3bcf7aa2ee8c6da9245fa6c4eae467ccebddaa2446e6fdbb0bb8b21cec71c6c3dd1123f796da12576bbeb1d03","signer":"%(A)s'
    '","type":"kez-link-v1"}\n'
    '{"body":{"claim":"499cb528c073cc8057eead38abc06a8323b8373d2fc57d39578f373af008ae3d"},"chain":"%(A)s","iat":176'
    '4288000,"op":"revoke","prev":"0e399e8f7e8adb73a095477372b636081b709fada0bc7f7732a5c86dcb2d3ffc","seq":3,"sig":"d'
    'a3974ee727d560ee15f49b895278da6c3febf9633721bbe67932dde79d4701952cebea44de0cbd693c576417910709ea27197bdfa37536a'
    'dd28345533724e0e","signer":"%(B)s","type":"kez-link-v1"}\n'
) % {"A": ED_REF, "B": "ed25519:29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"}
FORK_LINE_2 = (
    '{"body":{"subject":"github:bob"},"chain":"%(A)s","iat":1764115201,"op":"add_claim","prev":"a1e26184c18e2f72e2df0'
    '69f8313278140ac51933f401ecbd72680d7aadaba7a","seq":2,"sig":"a4914321c58ff47df6fb03f491b82d6ae30f6b601eb3b5d751e'
    'aebf0caf3eee072d4ff35140f74a2bb70194d582bb4478658f06b8f3788776963b247a118b40a","signer":"%(A)s","type":"kez-lin'
    'k-v1"}\n'
) % {"A": ED_REF}


def make_claim(seed, subject, iat, exp=None):
    key = "ed25519:" + kez_ed25519.public_from_seed(seed).hex()
    members = [("iat", iat), ("key", key), ("subject", subject), ("type", "kez-claim-v1")]
    if exp is not None:
        members.append(("exp", exp))
    obj = kez_jcs.JObject(members)
    sig = kez_ed25519.sign(seed, kez_claim.signing_digest(obj))
    return kez_jcs.canonical(kez_jcs.JObject(members + [("sig", sig.hex())])).decode()


def make_link(seed, chain, seq, prev, iat, op, body):
    signer = "ed25519:" + kez_ed25519.public_from_seed(seed).hex()
    members = [("body", kez_jcs.JObject(list(body.items()))), ("chain", chain), ("iat", iat), ("op", op),
               ("seq", seq), ("signer", signer), ("type", "kez-link-v1")]
    if prev is not None:
        members.append(("prev", prev))
    obj = kez_jcs.JObject(members)
    digest = hashlib.sha256(b"kez/link/v1\x00" + kez_jcs.canonical(obj)).digest()
    sig = kez_ed25519.sign(seed, digest)
    return kez_jcs.canonical(kez_jcs.JObject(members + [("sig", sig.hex())])) + b"\n"


class TestSigchain(unittest.TestCase):
    def replay(self, data):
        return kez_sigchain.replay(kez_sigchain.split_bundle(data))

    def test_worked_example(self):
        bundle = BUNDLE_1410.encode()
        self.assertEqual(len(bundle), 1596)
        self.assertEqual(hashlib.sha256(bundle).hexdigest(),
                         "0ea49553aff8a018520fd9c9acc08d4a3c7b2c5381eababba7e27952267a7f9e")
        lines = kez_sigchain.split_bundle(bundle)
        self.assertEqual([ln[1].hash for ln in lines],
                         ["a1e26184c18e2f72e2df069f8313278140ac51933f401ecbd72680d7aadaba7a",
                          "0e399e8f7e8adb73a095477372b636081b709fada0bc7f7732a5c86dcb2d3ffc",
                          "7b090c524f8b84e5cabe598c78c6d1c5f3f74876b472a159be1c8047ff485c63"])
        self.assertEqual(kez_sigchain.link_digest(lines[0][1]).hex(),
                         "b397875b8267b3898d3ee3061f685069114725e9748a1dff8470bb8c5532125b")
        st = self.replay(bundle)
        self.assertIsNone(st.error)
        self.assertIsNone(st.fork)
        self.assertEqual(st.head_seq, 3)
        self.assertEqual(st.history, [[ED_REF, 0, 2], [lines[1][1].body["key"], 2, None]])
        cid = "499cb528c073cc8057eead38abc06a8323b8373d2fc57d39578f373af008ae3d"
        self.assertEqual(st.by_id[cid]["revoked"], 3)
        key_b = lines[1][1].body["key"]
        self.assertEqual(kez_sigchain.judge(st, ED_REF, cid)[0], "revoked")
        other = kez_sigchain.claim_id(ED_REF, "dns:alice.example", 1764115300, None)
        self.assertEqual(kez_sigchain.judge(st, ED_REF, other)[0], "revoked")
        self.assertEqual(kez_sigchain.judge(st, key_b, other)[0], "valid")
        self.assertEqual(kez_sigchain.judge(st, "ed25519:" + "11" * 32, other)[0], "invalid")
        self.assertEqual(kez_sigchain.judge(self.replay(b""), ED_REF, cid)[0], "invalid")

    def test_fork_and_rules(self):
        lines = BUNDLE_1410.encode().split(b"\n")
        st = self.replay(lines[0] + b"\n" + lines[1] + b"\n" + FORK_LINE_2.encode())
        self.assertEqual(st.fork, (2, "0e399e8f7e8adb73a095477372b636081b709fada0bc7f7732a5c86dcb2d3ffc",
                                   "5b5e1c12a1d938afe1b860814265011c252a99752d25a325d588bdff253fe965"))
        self.assertEqual(kez_sigchain.judge(st, ED_REF, "00" * 32)[0], "fork")
        # duplicates are not forks
        st = self.replay(lines[0] + b"\n" + lines[0] + b"\n" + lines[1] + b"\n")
        self.assertIsNone(st.fork)
        self.assertIsNone(st.error)
        # a fourth link signed by A: old_key
        link4 = make_link(SEED, ED_REF, 4, "7b090c524f8b84e5cabe598c78c6d1c5f3f74876b472a159be1c8047ff485c63",
                          1764288001, "add_claim", {"subject": "github:x"})
        st = self.replay(BUNDLE_1410.encode() + link4)
        self.assertEqual(st.error.code, "old_key")
        self.assertEqual(st.head_seq, 3)
        # an unknown key: wrong_signer; seq gap; wrong prev; revoking an unknown claim
        first = make_link(SEED, ED_REF, 1, None, 10, "add_claim", {"subject": "github:a"})
        h1 = hashlib.sha256(first[:-1]).hexdigest()
        cases = [
            (make_link(SEED_B, ED_REF, 2, h1, 11, "add_claim", {"subject": "github:b"}), "wrong_signer"),
            (make_link(SEED, ED_REF, 3, h1, 11, "add_claim", {"subject": "github:b"}), "seq_gap"),
            (make_link(SEED, ED_REF, 2, "00" * 32, 11, "add_claim", {"subject": "github:b"}), "prev_mismatch"),
            (make_link(SEED, ED_REF, 2, h1, 11, "revoke", {"claim": "00" * 32}), "bad_target"),
            (make_link(SEED, ED_REF, 2, h1, 10, "add_claim", {"subject": "github:a"}), "bad_target"),
            (make_link(SEED, "ed25519:" + "22" * 32, 2, h1, 11, "add_claim", {"subject": "github:b"}), "wrong_chain"),
        ]
        for link, code in cases:
            st = self.replay(first + link)
            self.assertEqual(st.error.code if st.error else None, code, code)
        with self.assertRaises(KezError) as cm:
            self.replay(first + make_link(SEED, ED_REF, 2, h1, 9, "add_claim", {"subject": "github:b"}))
        self.assertEqual(cm.exception.code, "bad_link")

    def test_bundle_framing(self):
        lines = BUNDLE_1410.encode()
        for data, code in ((lines[:-1], "bad_link"), (b"\n" + lines, "bad_link"), (lines + b"\n", "bad_link"),
                           (b"x\n", "json_syntax"), (b"[1]\n", "bad_link"), (b"x", "bad_link")):  # framing before parse
            with self.assertRaises(KezError) as cm:
                kez_sigchain.split_bundle(data)
            self.assertEqual(cm.exception.code, code, data[:20])
        # non-canonical and unknown-op lines are kept for the replay
        kept = kez_sigchain.split_bundle(b"{ }\n")
        self.assertEqual(kept[0][1].code, "non_canonical")
        st = self.replay(b"{ }\n")
        self.assertEqual(st.error.code, "non_canonical")

    def test_cli_chain(self):
        with tempfile.TemporaryDirectory() as d:
            chain = os.path.join(d, "chain.jsonl")
            with open(chain, "w") as f:
                f.write(BUNDLE_1410)
            rc, out, _ = run_cli(["claim", "verify", "--now", "1764288000", "--chain", chain, "--json"], CLAIM1.encode())
            self.assertEqual(rc, 1)
            self.assertIn(b'"status":"revoked"', out)
            claim_b = make_claim(SEED_B, "dns:alice.example", 1764115300)
            rc, out, _ = run_cli(["claim", "verify", "--now", "1764288000", "--chain", chain, "--json"], claim_b.encode())
            self.assertEqual(rc, 0, out)
            rc, out, _ = run_cli(["claim", "verify", "-", "--now", "1", "--chain", "-", "--json"], CLAIM1.encode())
            self.assertEqual(rc, 2)
            self.assertIn(b'"usage"', out)


class TestCli(unittest.TestCase):
    def test_help_and_unsupported(self):
        for words in (["jcs"], ["sig", "verify"], ["claim", "verify"]):
            rc, out, _ = run_cli(words + ["--help"])
            self.assertEqual(rc, 0, words)
            self.assertTrue(out)
        for words in (["identity", "new"], ["claim", "create"], ["claim", "convert"], ["sigchain", "verify"]):
            rc, out, err = run_cli(words + ["--help"])
            self.assertEqual(rc, 2, words)
            self.assertEqual(err.count(b"\n"), 1)
        self.assertEqual(run_cli(["--help"])[0], 0)
        self.assertEqual(run_cli(["--version"])[0], 0)
        rc, out, err = run_cli([])
        self.assertEqual(rc, 2)

    def test_jcs(self):
        rc, out, err = run_cli(["jcs", "-"], b' {"b":1, "a" : [2.50]} ')
        self.assertEqual((rc, out, err), (0, b'{"a":[2.5],"b":1}\n', b""))
        rc, out, err = run_cli(["jcs", "--json", "-"], b"[1,]")
        self.assertEqual(rc, 2)
        self.assertEqual(out, b'{"error":{"code":"json_syntax","message":"unexpected character \']\' at offset 3"}}\n')
        self.assertRegex(err, rb"^kez: [^\n]* \[json_syntax\]\n$")
        rc, out, err = run_cli(["jcs", "--json"], b"[1]" + b" " * 1048574)
        self.assertEqual(rc, 2)
        self.assertIn(b'"too_large"', out)
        rc, out, err = run_cli(["jcs"], b"[1]" + b" " * 1048573)
        self.assertEqual(rc, 0)
        rc, out, err = run_cli(["jcs", "/nonexistent/file", "--json"])
        self.assertEqual(rc, 2)
        self.assertIn(b'"io"', out)

    def test_jcs_es6_batch(self):
        path = os.path.join(upstream_dir("jcs"), "es6testfile100k.txt")
        texts, expect = [], []
        with open(path) as f:
            for idx, line in enumerate(f):
                if idx >= 10000:
                    break
                h, exp = line.rstrip("\n").split(",")
                x = struct.unpack(">d", int(h, 16).to_bytes(8, "big"))[0]
                texts.append(repr(x))
                expect.append(exp)
        rc, out, _ = run_cli(["jcs", "--json", "-"], ("[" + ",".join(texts) + "]").encode())
        self.assertEqual(rc, 0)
        self.assertEqual(out, ("[" + ",".join(expect) + "]\n").encode())

    def test_sig_verify(self):
        pk = kez_ed25519.public_from_seed(SEED)
        sig = kez_ed25519.sign(SEED, b"")
        args = ["sig", "verify", "--alg", "ed25519", "--pub", pk.hex().upper(), "--msg", "", "--sig", sig.hex()]
        self.assertEqual(run_cli(args), (0, b"valid\n", b""))
        self.assertEqual(run_cli(args + ["--json"]), (0, b'{"status":"valid"}\n', b""))
        bad = list(args)
        bad[5] = "00"
        self.assertEqual(run_cli(bad), (1, b"invalid\n", b""))
        bad = list(args)
        bad[7] = "abc"
        rc, out, err = run_cli(bad + ["--json"])
        self.assertEqual(rc, 2)
        self.assertIn(b'"usage"', out)
        for extra in (["--alg", "x"], ["--bogus", "1"]):
            self.assertEqual(run_cli(["sig", "verify", "--pub", "", "--msg", "", "--sig", ""] + extra)[0], 2)
        self.assertEqual(run_cli(["sig", "verify", "--alg", "bip340", "--pub", "", "--msg", "", "--sig", ""])[0], 1)
        self.assertEqual(run_cli(["sig", "verify", "--alg", "bip340", "--pub", "00"])[0], 2)

    def test_claim_verify(self):
        rc, out, err = run_cli(["claim", "verify", "-", "--now", "1764115200", "--json"], CLAIM1.encode() + b"\n")
        self.assertEqual(rc, 0)
        self.assertEqual(out, ('{"key":"%s","reason":"signature verified","status":"valid","subject":"github:alice"}\n'
                               % ED_REF).encode())
        rc, out, err = run_cli(["claim", "verify", "--json", "--now", "1795651200"], CLAIM_EXP.encode())
        self.assertEqual(rc, 1)
        self.assertIn(b'"status":"expired"', out)
        rc, out, err = run_cli(["claim", "verify", "--now", "18446744073709551615"], COMPACT1.encode())
        self.assertEqual(rc, 0)
        for now in ("18446744073709551616", "-1", "1.5", "", "0x10"):
            rc, out, err = run_cli(["claim", "verify", "--now", now, "--json"], CLAIM1.encode())
            self.assertEqual(rc, 2, now)
            self.assertIn(b'"usage"', out)
        rc, out, err = run_cli(["claim", "verify", "--json"], CLAIM1.encode())
        self.assertEqual(rc, 2)
        rc, out, err = run_cli(["claim", "verify", "--now", "1", "--json"], b"\xff")
        self.assertEqual(rc, 2)
        self.assertIn(b'"invalid_utf8"', out)
        self.assertEqual(err.count(b"\n"), 1)
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "c.md")
            with open(p, "w") as f:
                f.write("```kez\n" + COMPACT1 + "\n```\n")
            self.assertEqual(run_cli(["claim", "verify", p, "--now", "1"])[0], 0)
            self.assertEqual(run_cli(["claim", "verify", d, "--now", "1"])[0], 2)

    def test_never_traceback(self):
        for stdin in (b"", b"\x00" * 10, b"{" * 5000, b"[" * 100000, b'"\\ud800', b"kez:z1:KLUv_Q"):
            for args in (["jcs"], ["claim", "verify", "--now", "0"]):
                rc, out, err = run_cli(args + ["--json"], stdin)
                self.assertEqual(rc, 2, (args, stdin[:20]))
                self.assertNotIn(b"Traceback", err)
                self.assertEqual(err.count(b"\n"), 1)


if __name__ == "__main__":
    unittest.main()
