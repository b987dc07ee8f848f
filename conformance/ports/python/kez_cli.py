#!/usr/bin/env python3
"""KEZ CLI conformance profile (SPEC.md section 11), second implementation in Python.

Supported commands:  kez jcs, kez sig verify, kez claim verify (also with --chain).
Every other profile command answers `--help` with exit 2 (unsupported), so that a
conformance runner marks it as skipped.
"""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kez_errors import KezError  # noqa: E402

VERSION = "kez-py 0.2.0 (KEZ protocol 0.2, CLI conformance profile subset)"
MAX_INPUT = 1048576

USAGE = """usage:
  kez jcs [--json] [FILE|-]
  kez sig verify --alg bip340|ed25519 --pub HEX --msg HEX --sig HEX [--json]
  kez claim verify [FILE|-] --now N [--chain FILE] [--json]
  kez --help | --version
"""

HELP = {
    ("jcs",): "usage: kez jcs [--json] [FILE|-]\n"
    "Reads one JSON text (default stdin) and writes its JCS form (RFC 8785) + LF.\n",
    ("sig", "verify"): "usage: kez sig verify --alg bip340|ed25519 --pub HEX --msg HEX --sig HEX [--json]\n"
    "Verifies a raw signature; prints `valid` (exit 0) or `invalid` (exit 1).\n",
    ("claim", "verify"): "usage: kez claim verify [FILE|-] --now N [--chain FILE] [--json]\n"
    "Verifies a claim (JSON, compact, Markdown or DNS TXT) offline at Unix time N,\n"
    "optionally judged against a sigchain bundle.\n",
}

_HEX_EVEN = re.compile(r"(?:[0-9a-fA-F]{2})*")
_DEC = re.compile(r"[0-9]+")


def _usage(msg):
    return KezError("usage", msg)


def _one_line(msg):
    msg = str(msg).encode("utf-8", "replace").decode("utf-8")  # no lone surrogates from argv
    return msg.replace("\r", " ").replace("\n", " ")


class Out:
    def __init__(self):
        self.json = False

    def stdout(self, data):
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except (BrokenPipeError, OSError) as e:
            raise KezError("io", "cannot write stdout: %s" % (e,))

    def error(self, err):
        msg = _one_line(err.message)
        if self.json:
            import kez_jcs

            body = kez_jcs.canonical({"error": {"code": err.code, "message": msg}}) + b"\n"
            try:
                sys.stdout.buffer.write(body)
                sys.stdout.buffer.flush()
            except Exception:
                pass
        try:
            sys.stderr.write("kez: %s [%s]\n" % (msg, err.code))
            sys.stderr.flush()
        except Exception:
            pass
        return 2


def parse_opts(args, takes_value, positional_max):
    """Options `--x VALUE` or `--x=VALUE` (each at most once) and positionals."""
    opts, pos = {}, []
    i = 0
    only_pos = False
    while i < len(args):
        a = args[i]
        if not only_pos and a == "--":
            only_pos = True
        elif not only_pos and a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            if name not in takes_value:
                raise _usage("unknown option --%s" % name)
            if name in opts:
                raise _usage("option --%s given twice" % name)
            if not eq:
                if i + 1 >= len(args):
                    raise _usage("option --%s needs a value" % name)
                i += 1
                val = args[i]
            opts[name] = val
        elif not only_pos and a.startswith("-") and a != "-":
            raise _usage("unknown option %s" % a)
        else:
            pos.append(a)
        i += 1
    if len(pos) > positional_max:
        raise _usage("unexpected argument %r" % (pos[positional_max],))
    return opts, pos


def read_input(name, limit=MAX_INPUT):
    """SPEC 11.2: FILE or '-' (stdin), at most `limit` bytes."""
    try:
        if name == "-":
            f = sys.stdin.buffer
            data = f.read(limit + 1)
        else:
            with open(name, "rb") as f:
                data = f.read(limit + 1)
    except OSError as e:
        raise KezError("io", "cannot read %s: %s" % ("stdin" if name == "-" else name, e.strerror or e))
    if len(data) > limit:
        raise KezError("too_large", "input larger than %d bytes" % limit)
    return data


def parse_n(s, name):
    if not _DEC.fullmatch(s) or int(s) >= 2**64:
        raise _usage("--%s must be a decimal integer 0 <= N < 2^64" % name)
    return int(s)


def parse_hex(s, name):
    if not _HEX_EVEN.fullmatch(s):
        raise _usage("--%s must be an even number of hex digits" % name)
    return bytes.fromhex(s)


def cmd_jcs(args, out):
    _, pos = parse_opts(args, (), 1)
    data = read_input(pos[0] if pos else "-")
    import kez_jcs

    out.stdout(kez_jcs.canonicalize(data) + b"\n")
    return 0


def cmd_sig_verify(args, out):
    opts, _ = parse_opts(args, ("alg", "pub", "msg", "sig"), 0)
    for name in ("alg", "pub", "msg", "sig"):
        if name not in opts:
            raise _usage("missing --%s" % name)
    alg = opts["alg"]
    if alg not in ("bip340", "ed25519"):
        raise _usage("--alg must be bip340 or ed25519")
    pub = parse_hex(opts["pub"], "pub")
    msg = parse_hex(opts["msg"], "msg")
    sig = parse_hex(opts["sig"], "sig")
    try:
        if alg == "bip340":
            import kez_bip340

            ok = kez_bip340.verify(pub, msg, sig)
        else:
            import kez_ed25519

            ok = kez_ed25519.verify(pub, msg, sig)
    except Exception:  # SPEC 11.4: anything that is not a verifying signature is `invalid`
        ok = False
    status = "valid" if ok else "invalid"
    if out.json:
        out.stdout(b'{"status":"%s"}\n' % status.encode())
    else:
        out.stdout(status.encode() + b"\n")
    return 0 if ok else 1


def cmd_claim_verify(args, out):
    opts, pos = parse_opts(args, ("now", "chain"), 1)
    if "now" not in opts:
        raise _usage("missing --now")
    now = parse_n(opts["now"], "now")
    source = pos[0] if pos else "-"
    chain_file = opts.get("chain")
    if chain_file == "-" and source == "-":
        raise _usage("--chain - needs the claim from a FILE, not stdin")
    data = read_input(source)
    import kez_claim
    import kez_jcs

    _, text = kez_claim.detect_and_decode(data)
    claim = kez_claim.parse_claim(text)
    status, reason = kez_claim.verify_claim(claim, now)
    if chain_file is not None:
        import kez_sigchain

        bundle = read_input(chain_file, kez_sigchain.MAX_BUNDLE)
        state = kez_sigchain.replay(kez_sigchain.split_bundle(bundle))
        if status == "invalid":
            pass
        elif state.error is not None:
            status, reason = "invalid", "the chain breaks a rule (%s): %s" % (state.error.code, state.error.message)
        else:
            cid = kez_claim.signing_digest(claim.obj).hex()
            verdict, why = kez_sigchain.judge(state, claim.key, cid)
            if verdict != "valid":
                status, reason = verdict, why
            elif status == "valid":
                reason = why
    if out.json:
        body = {"key": claim.key, "reason": reason, "status": status, "subject": claim.subject}
        out.stdout(kez_jcs.canonical(body) + b"\n")
    else:
        out.stdout(("%s: %s (key %s, subject %s)\n" % (status, reason, claim.key, claim.subject)).encode())
    return 0 if status == "valid" else 1


COMMANDS = {
    ("jcs",): cmd_jcs,
    ("sig", "verify"): cmd_sig_verify,
    ("claim", "verify"): cmd_claim_verify,
}


def run(argv, out):
    if "--json" in argv:
        out.json = True
        argv = [a for a in argv if a != "--json"]
    if not argv:
        raise _usage("missing command; try --help")
    if argv[0] in ("--help", "-h", "help"):
        out.stdout(USAGE.encode())
        return 0
    if argv[0] == "--version":
        out.stdout((VERSION + "\n").encode())
        return 0
    for words, fn in COMMANDS.items():
        if tuple(argv[:len(words)]) == words:
            rest = argv[len(words):]
            if "--help" in rest or "-h" in rest:
                out.stdout(HELP[words].encode())
                return 0
            if "--version" in rest:
                out.stdout((VERSION + "\n").encode())
                return 0
            return fn(rest, out)
    words = [a for a in argv[:2] if not a.startswith("-")]
    raise _usage("unsupported command %r" % " ".join(words))


def main(argv=None):
    out = Out()
    argv = sys.argv[1:] if argv is None else argv
    try:
        return run(argv, out)
    except KezError as e:
        return out.error(e)
    except KeyboardInterrupt:
        return out.error(KezError("io", "interrupted"))
    except MemoryError:
        return out.error(KezError("too_large", "out of memory"))
    except RecursionError:
        return out.error(KezError("too_deep", "nesting too deep"))
    except BaseException as e:  # a bug in this port: never a traceback
        if isinstance(e, SystemExit):
            raise
        cls = "usage"
        if argv and argv[0] == "jcs":
            cls = "json_syntax"
        elif argv[:2] == ["claim", "verify"]:
            cls = "bad_encoding"
        return out.error(KezError(cls, "internal error: %s: %s" % (type(e).__name__, e)))


if __name__ == "__main__":
    try:
        rc = main()
    except BaseException:
        rc = 2
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(rc)
