"""Claims (SPEC.md 5, 7) and their four encodings (SPEC.md 9): decoding side."""

import base64
import hashlib
import re

import kez_jcs
import kez_keys
import kez_subject
import kez_zstd
from kez_errors import KezError

MAX_CLAIM_JSON = 65536
MAX_COMPACT_LEN = 90112
CLAIM_TAG = b"kez/claim/v1"
MAX_INT = 2**53 - 1
COMPACT_PREFIX = "kez:z1:"

_MEMBERS = ("type", "key", "subject", "iat", "exp", "sig")
_CLAIM_INT = re.compile(r"0|[1-9][0-9]{0,15}")
_SIG = re.compile(r"[0-9a-f]{128}")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_B64VAL = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}
_TRIM = " \t\r\n"


class Claim:
    __slots__ = ("obj", "key", "suite", "key_bytes", "subject", "iat", "exp", "sig")


def _bc(msg):
    return KezError("bad_claim", msg)


def _claim_int(v, name):
    if not isinstance(v, kez_jcs.JNumber) or not _CLAIM_INT.fullmatch(v.token):
        raise _bc("%s is not a claim integer" % name)
    n = int(v.token)
    if n > MAX_INT:
        raise _bc("%s exceeds 2^53 - 1" % name)
    return n


def _plain_string(v, name):
    if not isinstance(v, kez_jcs.JString):
        raise _bc("%s is missing or not a string" % name)
    if "\\" in v.raw:
        raise _bc("%s contains an escape" % name)
    return v.value


def parse_claim(data):
    """SPEC 5.4 on the bytes of a claim JSON text."""
    if len(data) > MAX_CLAIM_JSON:  # 1
        raise KezError("too_large", "claim text of %d bytes exceeds %d" % (len(data), MAX_CLAIM_JSON))
    obj = kez_jcs.parse(data)  # 2
    if not isinstance(obj, kez_jcs.JObject):  # 3
        raise _bc("a claim must be a JSON object")
    for name in obj.names():  # 4
        if name not in _MEMBERS:
            raise _bc("unknown member %s" % kez_jcs.jcs_string(name))
    c = Claim()
    c.obj = obj
    if _plain_string(obj.get("type"), "type") != "kez-claim-v1":  # 5
        raise _bc("type is not kez-claim-v1")
    c.key = _plain_string(obj.get("key"), "key")  # 6
    c.suite, c.key_bytes = kez_keys.parse_keyref(c.key)
    c.subject = _plain_string(obj.get("subject"), "subject")  # 7
    kez_subject.check_normalized(c.subject)
    c.iat = _claim_int(obj.get("iat"), "iat")  # 8
    exp = obj.get("exp", _MISSING)  # 9
    if exp is _MISSING:
        c.exp = None
    else:
        c.exp = _claim_int(exp, "exp")
        if c.exp <= c.iat:
            raise _bc("exp is not after iat")
    sig = obj.get("sig")  # 10
    if not isinstance(sig, kez_jcs.JString) or not _SIG.fullmatch(sig.raw):
        raise _bc("sig is missing or not 128 lowercase hex digits")
    c.sig = bytes.fromhex(sig.raw)
    return c


_MISSING = object()


def signing_digest(obj, tag=CLAIM_TAG):
    rest = kez_jcs.JObject([(k, v) for k, v in obj.members if k != "sig"])
    return hashlib.sha256(tag + b"\x00" + kez_jcs.canonical(rest)).digest()


def verify_claim(c, now):
    """SPEC 7 steps 3-5. Returns (status, reason)."""
    digest = signing_digest(c.obj)
    if not kez_keys.verify(c.suite, c.key_bytes, digest, c.sig):
        return "invalid", "signature does not verify"
    if c.exp is not None and now >= c.exp:
        return "expired", "expired at %d" % c.exp
    return "valid", "signature verified"


# ---------------------------------------------------------------- encodings

def _be(msg):
    return KezError("bad_encoding", msg)


def b64url_decode(s):
    if not _B64URL.fullmatch(s):
        raise _be("not base64url (alphabet, padding or whitespace)")
    rem = len(s) % 4
    if rem == 1:
        raise _be("base64url length mod 4 is 1")
    if rem == 2 and _B64VAL[s[-1]] & 0x0F:
        raise _be("non-zero unused bits in the last base64url character")
    if rem == 3 and _B64VAL[s[-1]] & 0x03:
        raise _be("non-zero unused bits in the last base64url character")
    return base64.urlsafe_b64decode(s + "=" * ((4 - rem) % 4))


def decode_compact(text):
    """SPEC 9.2 decode steps 1-10; returns the canonical payload bytes."""
    if len(text.encode("utf-8")) > MAX_COMPACT_LEN:  # 1
        raise KezError("too_large", "compact text longer than %d bytes" % MAX_COMPACT_LEN)
    if not text.startswith(COMPACT_PREFIX):  # 2
        raise _be("missing kez:z1: prefix")
    raw = b64url_decode(text[len(COMPACT_PREFIX):])  # 3
    payload = kez_zstd.decode_frame(raw)  # 4-9
    value = kez_jcs.parse(payload)  # 10
    if kez_jcs.canonical(value) != payload:
        raise KezError("non_canonical", "compact payload is not in JCS form")
    return payload


def _fence_kind(line):
    """'open', 'close' or None for one LF-separated line (SPEC 9.3)."""
    line = line.rstrip("\r \t")
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3:
        return None
    if stripped == "```kez":
        return "open"
    if stripped == "```":
        return "close"
    return None


def markdown_content(text):
    """The content of the first kez fence, or None when there is no complete block."""
    lines = text.split("\n")
    offs = []
    o = 0
    for ln in lines:
        offs.append(o)
        o += len(ln) + 1
    opening = None
    for idx, ln in enumerate(lines):
        if _fence_kind(ln) == "open":
            opening = idx
            break
    if opening is None:
        return None
    for idx in range(opening + 1, len(lines)):
        if _fence_kind(lines[idx]) == "close":
            start = offs[opening] + len(lines[opening]) + 1
            return text[start:offs[idx]].strip(_TRIM)
    return None


def decode_markdown(text):
    content = markdown_content(text)
    if content is None:
        raise _be("no complete ```kez fenced block")
    if content.startswith(COMPACT_PREFIX):
        return decode_compact(content)
    if content.startswith("{"):
        return content.encode("utf-8")
    raise _be("fenced block holds neither a compact string nor a JSON claim")


_DNS_WSP = " \t\n\r\x0c"
_OWNER = re.compile(r"[\x21\x23-\x7e]+")
_TTL = re.compile(r"[0-9]{1,10}")
_QSTRINGS = re.compile(r'"[\x21\x23-\x5b\x5d-\x7e]{1,255}"(?:[ \t]+"[\x21\x23-\x5b\x5d-\x7e]{1,255}")*')


_WSP_RE = re.compile(r"[ \t\n\r\x0c]+")


def _split_words(s):
    return [w for w in _WSP_RE.split(s) if w]


def _ascii_upper(s):
    return "".join(chr(ord(c) - 32) if "a" <= c <= "z" else c for c in s)


def decode_dns(text):
    """SPEC 9.4 decode on already trimmed text; returns the canonical payload bytes."""
    q = text.find('"')
    if q < 0:
        raise _be("no quoted TXT string")
    head, rest = text[:q], text[q:]
    if head:
        if head[-1] not in " \t":
            raise _be("TXT record head must end in SP or HTAB")
        words = _split_words(head)
        if len(words) < 2 or not _OWNER.fullmatch(words[0]) or _ascii_upper(words[-1]) != "TXT":
            raise _be("malformed TXT record head")
        mid = words[1:-1]
        ttl = cls = 0
        for w in mid:
            if _TTL.fullmatch(w) and not ttl:
                ttl = 1
            elif _ascii_upper(w) == "IN" and not cls:
                cls = 1
            else:
                raise _be("malformed TXT record head (%r)" % w)
    if not _QSTRINGS.fullmatch(rest):
        raise _be("malformed TXT character-strings")
    joined = "".join(re.findall(r'"([^"]*)"', rest))
    if len(joined) > MAX_COMPACT_LEN:
        raise KezError("too_large", "joined TXT strings longer than %d bytes" % MAX_COMPACT_LEN)
    return decode_compact(joined)


def _first_line_has_txt(t):
    nl = t.find("\n")
    line = t if nl < 0 else t[:nl]
    if line.endswith("\r"):
        line = line[:-1]
    return any(_ascii_upper(w) == "TXT" for w in _split_words(line))


def detect_and_decode(data):
    """SPEC 9.5. Returns (encoding name, claim JSON bytes)."""
    text = kez_jcs.decode_utf8(data)
    t = text.lstrip(_TRIM)
    full = text.strip(_TRIM)
    if t.startswith(COMPACT_PREFIX):
        return "compact", decode_compact(full)
    if t.startswith("{"):
        return "json", full.encode("utf-8")
    if markdown_content(t) is not None:
        return "markdown", decode_markdown(full)
    if t.startswith('"') or _first_line_has_txt(t):
        return "dns", decode_dns(full)
    raise _be("unrecognised claim encoding")
