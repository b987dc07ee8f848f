"""Subjects and their normalization (SPEC.md section 6)."""

import re

import kez_bech32
import kez_bip340
from kez_errors import KezError

_LDH = re.compile(r"[a-z0-9-]{1,63}")
_GITHUB = re.compile(r"[A-Za-z0-9-]{1,39}")
_BSKY_LABEL = re.compile(r"[A-Za-z0-9-]{1,63}")
_AP_USER = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _bad(msg):
    return KezError("bad_subject", msg)


def ascii_lower(s):
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in s)


def normalize_domain(d):
    if d.endswith("."):
        d = d[:-1]
    labels = []
    for label in d.split("."):
        if label.isascii():
            label = ascii_lower(label)
        else:
            # Full default lowercase mapping, one code point at a time (no context rules).
            low = "".join(c.lower() for c in label)
            if len(low) > 63:
                raise _bad("label longer than 63 code points")
            try:
                label = "xn--" + low.encode("punycode").decode("ascii")
            except (UnicodeError, ValueError):
                raise _bad("label cannot be Punycode-encoded")
        if not _LDH.fullmatch(label) or label.startswith("-") or label.endswith("-"):
            raise _bad("invalid domain label")
        labels.append(label)
    if len(labels) < 2:
        raise _bad("a domain needs at least 2 labels")
    out = ".".join(labels)
    if len(out) > 253:
        raise _bad("domain longer than 253 bytes")
    if labels[-1].isdigit():
        raise _bad("last label is all digits")
    return out


def _github(h):
    if h.startswith("@"):
        h = h[1:]
    if not _GITHUB.fullmatch(h) or h.startswith("-") or h.endswith("-") or "--" in h:
        raise _bad("invalid GitHub login")
    return ascii_lower(h)


def _nostr(h):
    if len(h.encode("utf-8")) != 63:
        raise _bad("npub must be 63 bytes")
    if any("a" <= c <= "z" for c in h) and any("A" <= c <= "Z" for c in h):
        raise _bad("mixed-case npub")
    h = ascii_lower(h)
    key = kez_bech32.decode_npub(h)
    if key is None or not kez_bip340.is_valid_pubkey(key):
        raise _bad("not a valid npub")
    return h


def _bluesky(h):
    if h.startswith("@"):
        h = h[1:]
    if not h.isascii() or len(h) > 253:
        raise _bad("invalid atproto handle")
    labels = h.split(".")
    if len(labels) < 2:
        raise _bad("atproto handle needs at least 2 labels")
    for lab in labels:
        if not _BSKY_LABEL.fullmatch(lab) or lab.startswith("-") or lab.endswith("-"):
            raise _bad("invalid atproto handle label")
    if not labels[-1][0].isalpha():
        raise _bad("last label must begin with a letter")
    return ascii_lower(h)


def _ap(h):
    if h.startswith("@"):
        h = h[1:]
    at = h.find("@")
    if at < 0:
        raise _bad("ActivityPub account needs user@host")
    user, host = h[:at], h[at + 1:]
    if not _AP_USER.fullmatch(user):
        raise _bad("invalid ActivityPub user")
    return "@" + ascii_lower(user) + "@" + normalize_domain(host)


_CHANNELS = {
    "dns": ("dns", normalize_domain),
    "github": ("github", _github),
    "nostr": ("nostr", _nostr),
    "bluesky": ("bluesky", _bluesky),
    "ap": ("ap", _ap),
    "mastodon": ("ap", _ap),
}


def normalize(subject):
    at = subject.find(":")
    if at < 0:
        raise _bad("subject has no ':'")
    ch = subject[:at]
    entry = _CHANNELS.get(ascii_lower(ch)) if ch.isascii() else None
    if entry is None:
        raise _bad("unknown channel")
    name, fn = entry
    return name + ":" + fn(subject[at + 1:])


def check_normalized(subject):
    if normalize(subject) != subject:
        raise _bad("subject is not in normalized form")
