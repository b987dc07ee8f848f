"""Strict JSON parser and JCS (RFC 8785) canonicalizer, per SPEC.md section 2.

Written from the SPEC only; Python's json module is deliberately not used (it accepts
duplicate names, NaN, lone surrogates, ...).

Parsed values:
  JObject   - members as a list of (name, value) pairs in input order
  list      - JSON array
  JString   - .value (unescaped str) and .raw (the token text between the quotes)
  JNumber   - .value (binary64 float) and .token (the exact number token text)
  True, False, None for the literals
"""

import re

from kez_errors import KezError

MAX_DEPTH = 32
MAX_JSON_LEN = 1 << 32


class JObject:
    __slots__ = ("members",)

    def __init__(self, members):
        self.members = members  # list of (name: str, value)

    def get(self, name, default=None):
        for k, v in self.members:
            if k == name:
                return v
        return default

    def names(self):
        return [k for k, _ in self.members]


class JString:
    __slots__ = ("value", "raw")

    def __init__(self, value, raw):
        self.value = value
        self.raw = raw


class JNumber:
    __slots__ = ("value", "token")

    def __init__(self, value, token):
        self.value = value
        self.token = token


_WS = " \t\n\r"
_STR_RUN = re.compile(r'[^"\\\x00-\x1f]*')
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_HEX = frozenset("0123456789abcdefABCDEF")
_SIMPLE_ESC = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _err(code, msg, pos):
    return KezError(code, "%s at offset %d" % (msg, pos))


class _Parser:
    def __init__(self, text):
        self.s = text
        self.n = len(text)
        self.objects = []  # every object, for the deferred duplicate check

    def ws(self, i):
        s, n = self.s, self.n
        while i < n and s[i] in _WS:
            i += 1
        return i

    def value(self, i, depth):
        s, n = self.s, self.n
        if i >= n:
            raise _err("json_syntax", "unexpected end of input, expected a value", i)
        c = s[i]
        if c == "{":
            return self.obj(i, depth + 1)
        if c == "[":
            return self.arr(i, depth + 1)
        if c == '"':
            return self.string(i)
        if c == "-" or "0" <= c <= "9":
            return self.number(i)
        for lit, val in (("true", True), ("false", False), ("null", None)):
            if s.startswith(lit, i):
                return val, i + len(lit)
        raise _err("json_syntax", "unexpected character %r" % c, i)

    def obj(self, i, depth):
        if depth > MAX_DEPTH:
            raise _err("too_deep", "nesting deeper than %d" % MAX_DEPTH, i)
        s, n = self.s, self.n
        members = []
        i = self.ws(i + 1)
        if i < n and s[i] == "}":
            o = JObject(members)
            self.objects.append(o)
            return o, i + 1
        while True:
            if i >= n or s[i] != '"':
                raise _err("json_syntax", "expected a member name", i)
            name, i = self.string(i)
            i = self.ws(i)
            if i >= n or s[i] != ":":
                raise _err("json_syntax", "expected ':'", i)
            i = self.ws(i + 1)
            v, i = self.value(i, depth)
            members.append((name.value, v))
            i = self.ws(i)
            if i < n and s[i] == ",":
                i = self.ws(i + 1)
                continue
            if i < n and s[i] == "}":
                o = JObject(members)
                self.objects.append(o)
                return o, i + 1
            raise _err("json_syntax", "expected ',' or '}'", i)

    def arr(self, i, depth):
        if depth > MAX_DEPTH:
            raise _err("too_deep", "nesting deeper than %d" % MAX_DEPTH, i)
        s, n = self.s, self.n
        items = []
        i = self.ws(i + 1)
        if i < n and s[i] == "]":
            return items, i + 1
        while True:
            v, i = self.value(i, depth)
            items.append(v)
            i = self.ws(i)
            if i < n and s[i] == ",":
                i = self.ws(i + 1)
                continue
            if i < n and s[i] == "]":
                return items, i + 1
            raise _err("json_syntax", "expected ',' or ']'", i)

    def hex4(self, i):
        """Four hex digits at i (after a backslash-u). Returns the code unit."""
        s = self.s
        h = s[i:i + 4]
        if len(h) != 4 or any(ch not in _HEX for ch in h):
            raise _err("json_syntax", "malformed \\u escape", i)
        return int(h, 16)

    def string(self, i):
        s, n = self.s, self.n
        start = i + 1
        i = start
        out = []
        while True:
            m = _STR_RUN.match(s, i)
            j = m.end()
            if j > i:
                out.append(s[i:j])
            i = j
            if i >= n:
                raise _err("json_syntax", "unterminated string", i)
            c = s[i]
            if c == '"':
                return JString("".join(out), s[start:i]), i + 1
            if c != "\\":
                raise _err("json_syntax", "raw control character in string", i)
            if i + 1 >= n:
                raise _err("json_syntax", "unterminated escape", i)
            e = s[i + 1]
            if e in _SIMPLE_ESC:
                out.append(_SIMPLE_ESC[e])
                i += 2
                continue
            if e != "u":
                raise _err("json_syntax", "invalid escape \\%s" % e, i)
            cu = self.hex4(i + 2)
            i += 6
            if 0xDC00 <= cu <= 0xDFFF:
                raise _err("lone_surrogate", "low surrogate escape without a high surrogate", i - 6)
            if 0xD800 <= cu <= 0xDBFF:
                # Must be immediately followed by a low surrogate escape.
                # Not followed by "\u" (including at the end of input): a lone surrogate.
                # "\u" followed by malformed hex is a syntax error (SPEC 2.5 examples).
                if not s.startswith("\\u", i):
                    raise _err("lone_surrogate", "high surrogate escape not followed by a low one", i - 6)
                lo = self.hex4(i + 2)
                if not (0xDC00 <= lo <= 0xDFFF):
                    raise _err("lone_surrogate", "high surrogate escape not followed by a low one", i - 6)
                i += 6
                out.append(chr(0x10000 + ((cu - 0xD800) << 10) + (lo - 0xDC00)))
                continue
            out.append(chr(cu))

    def number(self, i):
        s, n = self.s, self.n
        m = _NUMBER.match(s, i)
        if m is None:
            raise _err("json_syntax", "malformed number", i)
        j = m.end()
        nxt = s[j] if j < n else ""
        int_part, frac, exp = m.group(1), m.group(2), m.group(3)
        if nxt.isascii() and nxt.isdigit() and int_part == "0" and frac is None and exp is None:
            raise _err("json_syntax", "leading zero in number", i)
        if nxt == "." and frac is None and exp is None:
            raise _err("json_syntax", "malformed fraction in number", j)
        if nxt in ("e", "E") and exp is None:
            raise _err("json_syntax", "malformed exponent in number", j)
        token = m.group(0)
        v = float(token)  # correctly rounded (round half to even), inf on overflow
        if v in (float("inf"), float("-inf")):
            raise _err("bad_number", "number overflows binary64", i)
        return JNumber(v, token), j


def parse_text(text):
    """Parse an already UTF-8-decoded JSON text (str). Raises KezError."""
    p = _Parser(text)
    i = p.ws(0)
    if i >= p.n:
        raise _err("json_syntax", "empty input", i)
    v, i = p.value(i, 0)
    i = p.ws(i)
    if i < p.n:
        raise _err("trailing_data", "data after the JSON value", i)
    for o in p.objects:
        seen = set()
        for k, _ in o.members:
            if k in seen:
                raise KezError("duplicate_key", "duplicate member name %s" % (jcs_string(k),))
            seen.add(k)
    return v


def decode_utf8(data):
    try:
        return data.decode("utf-8", "strict")
    except UnicodeDecodeError as e:
        raise KezError("invalid_utf8", "input is not well-formed UTF-8 (offset %d)" % e.start)


def parse(data):
    """Parse bytes per SPEC 2.5 (length, UTF-8, grammar, duplicates)."""
    if len(data) >= MAX_JSON_LEN:
        raise KezError("too_large", "JSON text of 2^32 bytes or more")
    return parse_text(decode_utf8(data))


# ---------------------------------------------------------------- output

_ESC_RE = re.compile(r'["\\\x00-\x1f]')
_ESC_MAP = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _esc(m):
    c = m.group(0)
    r = _ESC_MAP.get(c)
    return r if r is not None else "\\u%04x" % ord(c)


def jcs_string(s):
    return '"' + _ESC_RE.sub(_esc, s) + '"'


def es_number(x):
    """ECMAScript Number::toString for a finite float (SPEC 2.3)."""
    if x == 0:
        return "0"
    if x < 0:
        return "-" + es_number(-x)
    r = repr(x)  # shortest round-trip digits, closest to x
    if "e" in r:
        mant, e = r.split("e")
        e = int(e)
    else:
        mant, e = r, 0
    if "." in mant:
        ip, fp = mant.split(".")
    else:
        ip, fp = mant, ""
    digits = ip + fp
    point = len(ip) + e  # value = 0.digits * 10^point
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    d = stripped.rstrip("0")
    k = len(d)
    n = point
    if k <= n <= 21:
        return d + "0" * (n - k)
    if 0 < n <= 21:
        return d[:n] + "." + d[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + d
    m = n - 1
    es = ("e+" if m > 0 else "e-") + str(abs(m))
    if k == 1:
        return d + es
    return d[0] + "." + d[1:] + es


def _sort_key(name):
    return name.encode("utf-16-be")


def _ser(v, out):
    if isinstance(v, JObject):
        out.append("{")
        first = True
        for k, val in sorted(v.members, key=lambda kv: _sort_key(kv[0])):
            if not first:
                out.append(",")
            first = False
            out.append(jcs_string(k))
            out.append(":")
            _ser(val, out)
        out.append("}")
    elif isinstance(v, list):
        out.append("[")
        for idx, item in enumerate(v):
            if idx:
                out.append(",")
            _ser(item, out)
        out.append("]")
    elif isinstance(v, JString):
        out.append(jcs_string(v.value))
    elif isinstance(v, JNumber):
        out.append(es_number(v.value))
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif v is None:
        out.append("null")
    elif isinstance(v, str):  # convenience for values built by this port
        out.append(jcs_string(v))
    elif isinstance(v, int):
        out.append(es_number(float(v)))
    elif isinstance(v, dict):
        _ser(JObject(list(v.items())), out)
    else:
        raise TypeError("cannot serialize %r" % (v,))


def canonical(v):
    """JCS(v) as bytes."""
    out = []
    _ser(v, out)
    return "".join(out).encode("utf-8")


def canonicalize(data):
    """Parse bytes and return JCS bytes (no trailing LF)."""
    return canonical(parse(data))
