"""Key references (SPEC.md 3.1, 3.2)."""

import re

import kez_bech32
import kez_bip340
import kez_ed25519
from kez_errors import KezError

_LHEX64 = re.compile(r"[0-9a-f]{64}")


def parse_keyref(s):
    """Return (suite, 32 key bytes) with suite 'nostr' or 'ed25519', else raise bad_key."""
    if s.startswith("nostr:"):
        key = kez_bech32.decode_npub(s[6:])
        if key is None:
            raise KezError("bad_key", "not a valid npub key reference")
        if not kez_bip340.is_valid_pubkey(key):
            raise KezError("bad_key", "npub is not a valid BIP-340 key")
        return "nostr", key
    if s.startswith("ed25519:"):
        h = s[8:]
        if len(h) != 64 or not _LHEX64.fullmatch(h):
            raise KezError("bad_key", "ed25519 key reference is not 64 lowercase hex digits")
        key = bytes.fromhex(h)
        if not kez_ed25519.is_valid_key(key):
            raise KezError("bad_key", "not a valid Ed25519 key (point, canonical, small order)")
        return "ed25519", key
    raise KezError("bad_key", "unknown key reference form")


def keyref(suite, key):
    if suite == "nostr":
        return "nostr:" + kez_bech32.encode_npub(key)
    return "ed25519:" + key.hex()


def verify(suite, key, msg, sig):
    if suite == "nostr":
        return kez_bip340.verify(key, msg, sig)
    return kez_ed25519.verify(key, msg, sig)
