"""Sigchains (SPEC.md section 14): link parsing, bundles, replay, judging a claim.

Used by `kez claim verify --chain FILE` (SPEC 11.7). Only a single source is replayed
here (the merge of several bundles, 14.9, is not needed by that command).
"""

import hashlib
import re

import kez_bech32
import kez_jcs
import kez_keys
import kez_subject
from kez_errors import KezError

MAX_LINK_JSON = 16384
MAX_BUNDLE = 67108864
LINK_TAG = b"kez/link/v1"
ROTATE_TAG = b"kez/rotate/v1"
DEVICE_TAG = b"kez/device/v1"
CLAIM_TAG = b"kez/claim/v1"
MAX_INT = 2**53 - 1

OPS = ("add_claim", "revoke", "rotate", "add_device", "remove_device")
LINK_MEMBERS = ("type", "chain", "seq", "prev", "iat", "op", "body", "signer", "sig")
BODY_NAMES = ("subject", "exp", "claim", "key", "device", "proof")
# op -> (required members in the order of the op table, optional members)
OP_BODY = {
    "add_claim": (("subject",), ("exp",)),
    "revoke": (("claim",), ()),
    "rotate": (("key", "proof"), ()),
    "add_device": (("device", "proof"), ()),
    "remove_device": (("device",), ()),
}
# chain-rule classes: the answer "no" rather than malformed input (11.7)
CHAIN_RULES = frozenset(["non_canonical", "unknown_op", "wrong_chain", "seq_gap", "prev_mismatch",
                         "wrong_signer", "old_key", "bad_signature", "bad_target"])
KEPT_PARSE_FAILURES = frozenset(["non_canonical", "unknown_op"])

_CLAIM_INT = re.compile(r"0|[1-9][0-9]{0,15}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")


def _bl(msg):
    return KezError("bad_link", msg)


def _claim_int(v):
    if not isinstance(v, kez_jcs.JNumber) or not _CLAIM_INT.fullmatch(v.token):
        return None
    n = int(v.token)
    return n if n <= MAX_INT else None


def _plain(v):
    """The verbatim string value, or None if not a string or holding a backslash."""
    if not isinstance(v, kez_jcs.JString) or "\\" in v.raw:
        return None
    return v.value


def keyref_syntax_ok(s):
    """SPEC 14.1 key-reference syntax: 3.1 without the validity of the 32 bytes."""
    if s.startswith("nostr:"):
        return kez_bech32.decode_npub(s[6:]) is not None
    if s.startswith("ed25519:"):
        return _HEX64.fullmatch(s[8:]) is not None
    return False


class Link:
    __slots__ = ("line", "hash", "obj", "chain", "seq", "prev", "iat", "op", "body", "signer", "sig")


_MISSING = object()


def parse_link(line):
    """SPEC 14.1 parsing of one line (bytes, without its LF)."""
    if len(line) > MAX_LINK_JSON:  # 1
        raise KezError("too_large", "link line longer than %d bytes" % MAX_LINK_JSON)
    obj = kez_jcs.parse(line)  # 2
    if kez_jcs.canonical(obj) != line:  # 3
        raise KezError("non_canonical", "link line is not in JCS form")
    if not isinstance(obj, kez_jcs.JObject):  # 4
        raise _bl("a link must be a JSON object")
    for name in obj.names():  # 5
        if name not in LINK_MEMBERS:
            raise _bl("unknown link member %s" % kez_jcs.jcs_string(name))
    L = Link()
    L.line = line
    L.hash = hashlib.sha256(line).hexdigest()
    L.obj = obj
    if _plain(obj.get("type")) != "kez-link-v1":  # 6
        raise _bl("type is not kez-link-v1")
    L.chain = _plain(obj.get("chain"))  # 7
    if L.chain is None:
        raise _bl("chain is missing, not a string or escaped")
    if not keyref_syntax_ok(L.chain):
        raise KezError("bad_key", "chain is not a key reference")
    L.seq = _claim_int(obj.get("seq"))  # 8
    if L.seq is None or L.seq == 0:
        raise _bl("seq is missing, not a claim integer or 0")
    prev = obj.get("prev", _MISSING)  # 9
    if L.seq == 1 and prev is not _MISSING:
        raise _bl("prev present at seq 1")
    if L.seq > 1 and prev is _MISSING:
        raise _bl("prev absent at seq > 1")
    if prev is _MISSING:
        L.prev = None
    else:
        if not isinstance(prev, kez_jcs.JString) or not _HEX64.fullmatch(prev.raw):
            raise _bl("prev is not 64 lowercase hex digits")
        L.prev = prev.raw
    L.iat = _claim_int(obj.get("iat"))  # 10
    if L.iat is None:
        raise _bl("iat is missing or not a claim integer")
    L.op = _plain(obj.get("op"))  # 11
    if L.op is None:
        raise _bl("op is missing, not a string or escaped")
    if L.op not in OPS:
        raise KezError("unknown_op", "unknown op %s" % kez_jcs.jcs_string(L.op))
    body = obj.get("body")  # 12
    if not isinstance(body, kez_jcs.JObject):
        raise _bl("body is missing or not an object")
    for name in body.names():
        if name not in BODY_NAMES:
            raise _bl("unknown body member %s" % kez_jcs.jcs_string(name))
    required, optional = OP_BODY[L.op]
    names = set(body.names())
    if not set(required) <= names or not names <= set(required) | set(optional):
        raise _bl("body members do not match op %s" % L.op)
    L.body = {}
    for name in required + optional:
        v = body.get(name, _MISSING)
        if v is _MISSING:
            continue
        if name == "exp":
            n = _claim_int(v)
            if n is None:
                raise _bl("body exp is not a claim integer")
            L.body[name] = n
            continue
        s = _plain(v)
        if s is None:
            raise _bl("body %s is not a plain string" % name)
        if name == "claim" and not _HEX64.fullmatch(s):
            raise _bl("body claim is not 64 lowercase hex digits")
        if name == "proof" and not _HEX128.fullmatch(s):
            raise _bl("body proof is not 128 lowercase hex digits")
        if name == "subject":
            kez_subject.check_normalized(s)
        if name == "key" or (name == "device" and L.op == "add_device"):
            kez_keys.parse_keyref(s)  # full validity -> bad_key
        if name == "device" and L.op == "remove_device" and not keyref_syntax_ok(s):
            raise KezError("bad_key", "device is not a key reference")
        L.body[name] = s
    if L.op == "add_claim" and "exp" in L.body and L.body["exp"] <= L.iat:  # 13
        raise _bl("add_claim exp is not after iat")
    L.signer = _plain(obj.get("signer"))  # 14
    if L.signer is None:
        raise _bl("signer is missing, not a string or escaped")
    if not keyref_syntax_ok(L.signer):
        raise KezError("bad_key", "signer is not a key reference")
    sig = obj.get("sig")  # 15
    if not isinstance(sig, kez_jcs.JString) or not _HEX128.fullmatch(sig.raw):
        raise _bl("sig is missing or not 128 lowercase hex digits")
    L.sig = bytes.fromhex(sig.raw)
    return L


def split_bundle(data):
    """SPEC 14.6 + 11.7: [(line bytes, Link or KezError)]; raises the first malformed error."""
    out = []
    if not data:
        return out
    pos = 0
    n = len(data)
    while pos < n:
        nl = data.find(b"\n", pos)
        if nl < 0:
            raise _bl("the bundle does not end with LF")
        if nl == pos:
            raise _bl("empty line in the bundle")
        line = data[pos:nl]
        try:
            parsed = parse_link(line)
        except KezError as e:
            if e.code not in KEPT_PARSE_FAILURES:
                raise
            parsed = e
        out.append((line, parsed))
        pos = nl + 1
    return out


def _digest(tag, obj_without_sig):
    return hashlib.sha256(tag + b"\x00" + kez_jcs.canonical(obj_without_sig)).digest()


def link_digest(L):
    rest = kez_jcs.JObject([(k, v) for k, v in L.obj.members if k != "sig"])
    return _digest(LINK_TAG, rest)


def claim_id(signer, subject, iat, exp):
    members = [("iat", iat), ("key", signer), ("subject", subject), ("type", "kez-claim-v1")]
    if exp is not None:
        members.append(("exp", exp))
    return _digest(CLAIM_TAG, kez_jcs.JObject(members)).hex()


def _verify_under(keyref_str, msg, sig):
    suite, key = kez_keys.parse_keyref(keyref_str)
    return kez_keys.verify(suite, key, msg, sig)


class State:
    def __init__(self):
        self.chain = None
        self.head = None  # the last applied Link
        self.history = []  # [key, from, until or None]
        self.devices = []  # [key, added, removed or None]
        self.claims = []  # dicts
        self.by_id = {}
        self.fork = None  # (seq, hash1, hash2)
        self.error = None  # KezError of a broken chain rule

    @property
    def head_seq(self):
        return self.head.seq if self.head is not None else 0

    def primary_at(self, s, fallback=None):
        for key, frm, until in self.history:
            if frm < s and (until is None or s <= until):
                return key
        return fallback

    def former_primary(self, key, s):
        return any(k == key and frm < s for k, frm, _ in self.history)

    def device_active(self, key, s):
        return any(k == key and added < s and (removed is None or s <= removed)
                   for k, added, removed in self.devices)

    def known_key(self, key):
        return key == self.chain or any(k == key for k, _, _ in self.history) or \
            any(k == key for k, _, _ in self.devices)

    def authorize(self, L, s):
        """SPEC 14.3 at seq s. Returns None or the error class."""
        primary = self.primary_at(s, fallback=L.chain if self.head is None else None)
        K = L.signer
        if K == primary:
            return None
        ok = False
        if self.device_active(K, s):
            if L.op == "add_claim":
                ok = True
            elif L.op == "revoke":
                c = self.by_id.get(L.body["claim"])
                ok = c is not None and c["signer"] == K and c["added"] < s
            elif L.op == "remove_device":
                ok = L.body["device"] == K
        if ok:
            return None
        return "old_key" if self.former_primary(K, s) else "wrong_signer"


class _ChainRule(Exception):
    def __init__(self, err):
        self.err = err


def _rule(code, msg):
    return _ChainRule(KezError(code, msg))


def replay(lines):
    """SPEC 14.7 over one source. Malformed replay errors raise KezError; a broken chain
    rule ends the replay with state.error set."""
    st = State()
    for line, parsed in lines:
        if st.fork is not None:  # 0
            break
        try:
            _replay_line(st, line, parsed)
        except _ChainRule as cr:
            st.error = cr.err
            break
    return st


def _replay_line(st, line, L):
    if isinstance(L, KezError):  # 1 (kept parse failures)
        raise _ChainRule(L)
    head = st.head
    if head is not None and L.chain != st.chain:  # 2
        raise _rule("wrong_chain", "link %d names another chain" % L.seq)
    if head is not None and L.seq == head.seq:  # 3
        if L.line == head.line:
            return  # duplicate
        if L.prev != head.prev:
            raise _rule("prev_mismatch", "link %d: prev differs from the head's" % L.seq)
        cls = st.authorize(L, head.seq)
        if cls:
            raise _rule(cls, "link %d: signer may not sign it" % L.seq)
        try:
            ok = _verify_under(L.signer, link_digest(L), L.sig)
        except KezError:
            raise KezError("bad_key", "link %d: signer is not a valid key" % L.seq)
        if not ok:
            raise _rule("bad_signature", "link %d: signature does not verify" % L.seq)
        st.fork = (L.seq, head.hash, L.hash)
        return
    if L.seq != st.head_seq + 1:  # 4
        raise _rule("seq_gap", "link seq %d after %d" % (L.seq, st.head_seq))
    if head is None and L.signer != L.chain:  # 5
        raise _rule("wrong_signer", "link 1 is not signed by the chain id")
    if head is not None and L.prev != head.hash:  # 6
        raise _rule("prev_mismatch", "link %d: prev is not the hash of link %d" % (L.seq, head.seq))
    if head is not None and L.iat < head.iat:  # 7
        raise KezError("bad_link", "link %d: iat before the previous link's" % L.seq)
    cls = st.authorize(L, L.seq)  # 8
    if cls:
        raise _rule(cls, "link %d: signer may not sign it" % L.seq)
    try:  # 9
        suite, key = kez_keys.parse_keyref(L.signer)
    except KezError:
        raise KezError("bad_key", "link %d: signer is not a valid key" % L.seq)
    if not kez_keys.verify(suite, key, link_digest(L), L.sig):
        raise _rule("bad_signature", "link %d: signature does not verify" % L.seq)
    chain = L.chain if head is None else st.chain  # 10
    if L.op == "add_claim":
        cid = claim_id(L.signer, L.body["subject"], L.iat, L.body.get("exp"))
        if cid in st.by_id:
            raise _rule("bad_target", "link %d: claim already recorded" % L.seq)
        c = {"id": cid, "subject": L.body["subject"], "signer": L.signer, "added": L.seq,
             "iat": L.iat, "exp": L.body.get("exp"), "revoked": None}
        apply = lambda: (st.claims.append(c), st.by_id.__setitem__(cid, c))  # noqa: E731
    elif L.op == "revoke":
        c = st.by_id.get(L.body["claim"])
        if c is None or c["revoked"] is not None:
            raise _rule("bad_target", "link %d: no such unrevoked claim" % L.seq)
        apply = lambda: c.__setitem__("revoked", L.seq)  # noqa: E731
    elif L.op in ("rotate", "add_device"):
        new = L.body["key"] if L.op == "rotate" else L.body["device"]
        if new == chain or st.known_key(new):
            raise _rule("bad_target", "link %d: key already known to the chain" % L.seq)
        proof = [("chain", chain), ("key", new), ("seq", L.seq)]
        if L.prev is not None:
            proof.append(("prev", L.prev))
        tag = ROTATE_TAG if L.op == "rotate" else DEVICE_TAG
        if not _verify_under(new, _digest(tag, kez_jcs.JObject(proof)), bytes.fromhex(L.body["proof"])):
            raise _rule("bad_signature", "link %d: proof does not verify" % L.seq)
        if L.op == "rotate":
            def apply():
                if not st.history:
                    st.history.append([chain, 0, None])
                for entry in st.history:
                    if entry[2] is None:
                        entry[2] = L.seq
                st.history.append([new, L.seq, None])
        else:
            apply = lambda: st.devices.append([new, L.seq, None])  # noqa: E731
    else:  # remove_device
        dev = None
        for entry in st.devices:
            if entry[0] == L.body["device"] and entry[2] is None:
                dev = entry
        if dev is None:
            raise _rule("bad_target", "link %d: not an active device" % L.seq)
        apply = lambda: dev.__setitem__(2, L.seq)  # noqa: E731
    if head is None:  # 11
        st.chain = L.chain
        st.history = [[L.chain, 0, None]]
    apply()
    st.head = L


def judge(st, key, cid):
    """SPEC 14.8: the chain's answer for a standalone claim (key ref, claim id hex)."""
    if st.head is None:
        return "invalid", "the chain is empty"
    if st.fork is not None:
        return "fork", "the chain forked at seq %d" % st.fork[0]
    c = st.by_id.get(cid)
    if c is not None:
        if c["revoked"] is not None:
            return "revoked", "revoked by link %d" % c["revoked"]
        return "valid", "recorded by link %d" % c["added"]
    s = st.head_seq + 1
    if key == st.primary_at(s) or st.device_active(key, s):
        return "valid", "signed by a current key of the chain"
    if st.known_key(key):
        return "revoked", "its key was rotated out or removed"
    return "invalid", "not a key of this chain"
