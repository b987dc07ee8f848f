#!/usr/bin/env python3
"""The footprint of kez-core on a Cortex-M4F, measured: prints a Markdown section to stdout.

    core/embedded-check/footprint.py            # print the section
    core/embedded-check/footprint.py --write    # and write it to core/embedded-check/FOOTPRINT.md

What it builds (all for thumbv7em-none-eabihf, from this crate, fat LTO, one codegen unit):
  * the lean `footprint` image (one JSON claim verify per suite, no allocator, no printing) at
    opt-level "z" (profile release) and 3 (profile release-o3), with both suites, each suite
    alone, no suite, and the bare runtime (`baseline`): flash is .vector_table + .text + .rodata
    + .data, from the ELF's section headers; each image is also booted to check it verifies;
  * the `measure` image at both levels, run under QEMU with `-icount shift=0`: peak stack of one
    verify (stack painted before, scanned after) and instructions (SysTick ticks, calibrated
    against a loop of known length: QEMU does not model DWT CYCCNT);
  * the `compact` image: the heap a compact claim's decoding needs (a counting allocator);
  * the conformance image (`embedded-check`): the largest heap any vector needed, and the count
    of JSON claims verified with no allocation.

Needs: cargo with the thumbv7em-none-eabihf target, qemu-system-arm, llvm-nm (on PATH or from
rustup's llvm-tools component). Build output goes to $KEZ_EMBEDDED_TARGET_DIR, else
$CARGO_TARGET_DIR/embedded-check, else core/embedded-check/target. Progress goes to stderr.
"""

import glob
import os
import re
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = "thumbv7em-none-eabihf"
QEMU = ["qemu-system-arm", "-machine", "mps2-an386", "-cpu", "cortex-m4", "-nographic",
        "-semihosting-config", "enable=on,target=native"]
GOAL_FLASH = 80 * 1024
GOAL_STACK = 16 * 1024
OPTS = [("z", "release"), ("3", "release-o3")]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def target_dir():
    if os.environ.get("KEZ_EMBEDDED_TARGET_DIR"):
        return os.environ["KEZ_EMBEDDED_TARGET_DIR"]
    if os.environ.get("CARGO_TARGET_DIR"):
        return os.path.join(os.environ["CARGO_TARGET_DIR"], "embedded-check")
    return os.path.join(HERE, "target")


def tool(name):
    """llvm-nm from PATH, or from rustup's llvm-tools component (installed if missing)."""
    found = shutil.which(name)
    if found:
        return found
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True,
                             check=True).stdout.strip()
    pattern = os.path.join(sysroot, "lib", "rustlib", "*", "bin", name)
    if not glob.glob(pattern):
        log(f"footprint: {name} not found; installing rustup's llvm-tools")
        subprocess.run(["rustup", "component", "add", "llvm-tools"], check=True)
    hits = glob.glob(pattern)
    if not hits:
        sys.exit(f"footprint: {name} not found (install LLVM or `rustup component add llvm-tools`)")
    return hits[0]


def build(label, profile, features, binary, env_dir):
    """Builds one image and keeps a copy of its ELF under a name of its own."""
    log(f"footprint: building {label} (profile {profile}, features {features or '-'})")
    cmd = ["cargo", "build", "--quiet", "--profile", profile, "--bin", binary,
           "--no-default-features"]
    if features:
        cmd += ["--features", features]
    env = dict(os.environ, CARGO_TARGET_DIR=env_dir)
    env.pop("RUSTFLAGS", None)
    subprocess.run(cmd, cwd=HERE, env=env, check=True)
    elf = os.path.join(env_dir, TARGET, profile, binary)
    keep = os.path.join(env_dir, "footprint", f"{label}.elf")
    os.makedirs(os.path.dirname(keep), exist_ok=True)
    shutil.copyfile(elf, keep)
    return keep


def boot(elf, icount):
    """Runs an image under QEMU; returns its output; fails unless it exits 0."""
    cmd = ["timeout", "120"] + QEMU + (["-icount", "shift=0"] if icount else []) + ["-kernel", elf]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"footprint: {os.path.basename(elf)} exited {run.returncode}:\n"
                 f"{run.stdout}{run.stderr}")
    return run.stdout


def sections(elf):
    """Section addresses and sizes from the ELF32 section headers: {name: (addr, size)}."""
    with open(elf, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 1:
        sys.exit(f"footprint: {elf} is not an ELF32 file")
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    headers = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    names_off = headers[shstrndx][4]
    out = {}
    for h in headers:
        start = names_off + h[0]
        name = data[start:data.index(b"\0", start)].decode()
        out[name] = (h[3], h[5])
    return out


def flash(elf):
    s = {name: size for name, (_, size) in sections(elf).items()}
    text, rodata = s.get(".text", 0), s.get(".rodata", 0)
    total = s.get(".vector_table", 0) + text + rodata + s.get(".data", 0)
    return text, rodata, total


def kib(n):
    return f"{n / 1024:.1f} KiB"


# What a verifier's bytes are for, by symbol name (first match wins).
COMPONENTS = [
    ("JSON numbers in JCS: f64 parsing (core::num::dec2flt), ryu-js formatting, soft double "
     "arithmetic", r"dec2flt|ryu_js|f64 as core::str::traits::FromStr|__(add|sub|mul|div|cmp|"
     r"eq|ne|lt|le|gt|ge|unord)df|__aeabi_[duil]+2d|__aeabi_d|__float|__fix"),
    ("SHA-512 (Ed25519's hash)", r"sha512"),
    ("SHA-256 (digests, BIP-340's tagged hash)", r"sha256|sha2::|digest::"),
    ("secp256k1 and BIP-340 (k256)", r"k256|crypto_bigint|elliptic_curve|primeorder|ecdsa"),
    ("Curve25519 and Ed25519 (dalek)", r"curve25519|ed25519"),
    ("kez-core: JCS, claim and key parsing, subjects, bech32", r"kez_core|bech32"),
    ("core library (UTF-8, string search, slicing)", r"core::|^<str>|^<char"),
    ("memory and integer builtins", r"^(mem[a-z]*$|__aeabi_|__u?(div|mod)|__ll|_udivmod|"
     r"compiler_builtins)"),
]


def legacy_demangle(name):
    """Names llvm-nm leaves in the legacy `_$LT$crate..path$GT$` form."""
    if not name.startswith("_$"):
        return name
    for enc, dec in (("$LT$", "<"), ("$GT$", ">"), ("$RF$", "&"), ("$u20$", " "),
                     ("$u5b$", "["), ("$u5d$", "]"), ("$C$", ","), ("..", "::")):
        name = name.replace(enc, dec)
    return name.removeprefix("_")


def breakdown(elf, nm, text_rodata):
    """Bytes of .text and .rodata by component, from the sized symbols in those sections."""
    out = subprocess.run([nm, "--print-size", "--demangle", "--radix=d", elf],
                         capture_output=True, text=True, check=True).stdout
    ranges = [sections(elf).get(name, (0, 0)) for name in (".text", ".rodata")]
    sums = {name: 0 for name, _ in COMPONENTS}
    rest = 0
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) != 4 or parts[2].lower() not in ("t", "r"):
            continue
        addr, size, name = int(parts[0]), int(parts[1]), legacy_demangle(parts[3])
        if not any(start <= addr < start + length for start, length in ranges):
            continue
        for comp, pattern in COMPONENTS:
            if re.search(pattern, name):
                sums[comp] += size
                break
        else:
            rest += size
    rows = sorted(sums.items(), key=lambda kv: -kv[1])
    rows.append(("other named symbols (constant-time helpers, runtime, outlined code)", rest))
    rows.append(("unnamed (anonymous constants, literal pools, padding)",
                 text_rodata - sum(n for _, n in rows)))
    return rows


MEASURE = re.compile(r"^measure: (\S+) (.+?): stack (\d+) bytes, (\d+) SysTick ticks, ~(\d+) instructions$")
CALIBRATION = re.compile(r"^calibration: (\d+) instructions took (\d+) SysTick ticks: ([\d.]+) instructions per tick$")
COMPACT = re.compile(r"^heap: (\S+) compact decode \((\d+) chars to (\d+) bytes\): peak (\d+) bytes, (\d+) allocation calls, (\d+) bytes requested, (\d+) live after$")


def main():
    write = "--write" in sys.argv[1:]
    out_dir = target_dir()
    nm = tool("llvm-nm")
    if not shutil.which("qemu-system-arm"):
        sys.exit("footprint: qemu-system-arm not found (Debian: apt-get install qemu-system-arm)")
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True,
                           check=True).stdout.strip()
    qemu = subprocess.run(["qemu-system-arm", "--version"], capture_output=True, text=True,
                          check=True).stdout.splitlines()[0]

    # lean images: flash
    variants = [("both suites", "bip340,ed25519"),
                ("both suites, sha2-compact", "bip340,ed25519,sha2-compact"),
                ("BIP-340 only", "bip340"),
                ("Ed25519 only", "ed25519"), ("no suite (parse only)", ""),
                ("runtime alone (baseline)", "baseline")]
    sizes = {}
    elves = {}
    for opt, profile in OPTS:
        for name, feats in variants:
            features = ",".join(f for f in ["footprint", feats] if f)
            label = f"lean-o{opt}-{feats.replace(',', '-') or 'none'}"
            elf = build(label, profile, features, "footprint", out_dir)
            boot(elf, icount=False)
            sizes[(opt, name)] = flash(elf)
            elves[(opt, name)] = elf

    # measured images: stack and instructions
    measures = {}
    calibration = {}
    for opt, profile, extra in [("z", "release", ""), ("3", "release-o3", ""),
                                ("z", "release", ",sha2-compact")]:
        elf = build(f"measure-o{opt}{extra.replace(',', '-')}", profile,
                    f"measure,bip340,ed25519{extra}", "footprint", out_dir)
        key = opt + (" (sha2-compact)" if extra else "")
        for line in boot(elf, icount=True).splitlines():
            if m := MEASURE.match(line):
                measures[(key, m.group(1), m.group(2).strip())] = (int(m.group(3)), int(m.group(5)))
            elif m := CALIBRATION.match(line):
                calibration[key] = (int(m.group(1)), int(m.group(2)), m.group(3))

    # compact decoding: heap
    elf = build("compact-oz", "release", "compact,bip340,ed25519", "footprint", out_dir)
    compact = {}
    compact_stack = {}
    for line in boot(elf, icount=True).splitlines():
        if m := COMPACT.match(line):
            compact[m.group(1)] = tuple(int(m.group(i)) for i in range(2, 8))
        elif (m := MEASURE.match(line)) and m.group(2) == "compact decode":
            compact_stack[m.group(1)] = (int(m.group(3)), int(m.group(5)))

    # the conformance image: the heap of every vector
    elf = build("conformance-oz", "release", "conformance,bip340,ed25519", "embedded-check",
                out_dir)
    lines = boot(elf, icount=False).splitlines()
    conformance = [l for l in lines if l.startswith("heap: ")]
    summary = [l for l in lines if " passed, " in l]

    md = []
    p = md.append
    p("## Embedded footprint (Cortex-M4F)")
    p("")
    p("kez-core on `thumbv7em-none-eabihf`, measured by `core/embedded-check/footprint.py` "
      "(regenerate with `core/embedded-check/footprint.py --write`). Images: the crate "
      "`core/embedded-check`, fat LTO, one codegen unit, `panic = \"abort\"`; run on QEMU's "
      f"`mps2-an386` board (Cortex-M4F). Toolchain: {rustc}; {qemu}.")
    p("")
    p("### Flash")
    p("")
    p("The lean `footprint` image: it verifies one JSON claim of each suite "
      "(`kez_core::verify_json`: parse, JCS into SHA-256, subject check, key decoding, "
      "signature, expiry) and exits through semihosting; no allocator, no formatting. A suite "
      "left out (kez-core features `bip340`, `ed25519`) makes its claim verify as `invalid`, "
      "which the image checks. Flash = vector table + .text + .rodata + .data.")
    p("")
    p("| image | opt-level | .text | .rodata | text + rodata | flash |")
    p("| --- | --- | ---: | ---: | ---: | ---: |")
    for opt, _ in OPTS:
        for name, _ in variants:
            text, rodata, total = sizes[(opt, name)]
            p(f"| {name} | {opt} | {text} | {rodata} | {text + rodata} ({kib(text + rodata)}) "
              f"| {total} ({kib(total)}) |")
    p("")
    both = sizes[("z", "both suites")]
    compact_sha = sizes[("z", "both suites, sha2-compact")]
    base = sizes[("z", "runtime alone (baseline)")]
    p(f"At opt-level z a full claim verify with both suites takes {kib(both[0] + both[1])} of "
      f"text + rodata ({kib(both[2])} of flash with the vector table); the runtime alone is "
      f"{kib(base[2])}, so kez-core and its crypto account for "
      f"{kib(both[2] - base[2])}. sha2's compact round functions (`sha2-compact`, which "
      f"the firmware selects for every sha2 user in the image) save "
      f"{kib(both[2] - compact_sha[2])}.")
    p("")

    p("### Stack and instructions")
    p("")
    p("One claim verify per suite, in an image with both suites. Stack: the stack below the "
      "caller is painted with a pattern, the call runs, and the lowest overwritten word gives the "
      "peak. Instructions: QEMU runs with `-icount shift=0` (each instruction is one virtual "
      "nanosecond) and SysTick counts the processor clock (25 MHz on this board, so one tick is "
      "40 instructions); a calibration loop of known length checks the ratio on every run. QEMU "
      "7.2 does not model DWT CYCCNT (its registers read as unassigned), so SysTick it is. "
      "These are instructions, not cycles: a real Cortex-M4 adds wait states and multi-cycle "
      "instructions.")
    p("")
    for key, (insns, ticks, ratio) in calibration.items():
        p(f"- calibration at opt-level {key}: {insns} instructions took {ticks} ticks "
          f"({ratio} instructions per tick)")
    p("")
    p("| suite | step | opt-level | peak stack | instructions |")
    p("| --- | --- | --- | ---: | ---: |")
    steps = ["JSON claim verify", "JCS into SHA-256 (signing digest)",
             "parse (digest, members, key, subject)", "key point decode",
             "signature and expiry"]
    for suite in ("bip340", "ed25519"):
        for step in steps:
            for opt in calibration:
                if (opt, suite, step) in measures:
                    stack, insns = measures[(opt, suite, step)]
                    what = f"**{step}**" if step == steps[0] else step
                    p(f"| {suite} | {what} | {opt} | {stack} ({kib(stack)}) | {insns:,} |")
    p("")
    p("The phases are measured apart (each on a freshly painted stack); the full verify's peak "
      "is the largest phase plus the frames around it. Stack figures move by a few hundred bytes "
      "between builds as LTO inlines differently.")
    p("")

    p("### Heap")
    p("")
    p("- JSON claims: **none**. The footprint image has no `#[global_allocator]` and kez-core is "
      "built without `alloc`, so any allocation on the path would fail to link. The conformance "
      "image adds a counting allocator and fails a case whose JSON claim allocates: "
      + "; ".join(l.removeprefix("heap: none for JSON claims: ") for l in conformance
                  if "none for JSON" in l) + ".")
    for suite, (chars, size, peak, calls, requested, live) in compact.items():
        stack = compact_stack.get(suite)
        extra = f"; stack {stack[0]} bytes, {stack[1]:,} instructions" if stack else ""
        p(f"- Compact decode, {suite} claim ({chars} characters to {size} bytes, "
          f"`kez_core::decode_compact` into a caller's 64 KiB buffer): peak **{peak} bytes** live "
          f"on the heap, {calls} allocation calls, {requested} bytes requested, {live} live after"
          f"{extra}.")
    for line in conformance:
        if "none for JSON" not in line:
            p(f"- Over all vectors, {line.removeprefix('heap: ')}.")
    p("- The compact worst case is a hostile frame: its window (up to 128 KiB, SPEC.md §9.2) "
      "sizes the decoder's buffers before the output bound rejects it, so a device that accepts "
      "compact claims from strangers must budget that peak, or take JSON only.")
    p("")

    p("### Where the bytes go (opt-level z, both suites)")
    p("")
    p("The .text and .rodata of the lean image, by what the symbols are for (llvm-nm sizes; "
      "after LTO, code inlined into a caller counts for the caller, so kez-core's share holds "
      "some inlined library code).")
    p("")
    p("| component | bytes | share |")
    p("| --- | ---: | ---: |")
    total = both[0] + both[1]
    rows = breakdown(elves[("z", "both suites")], nm, total)
    for comp, n in rows:
        p(f"| {comp} | {n} ({kib(n)}) | {100 * n / total:.1f} % |")
    p(f"| total (.text + .rodata) | {total} ({kib(total)}) | 100 % |")
    p("")
    numbers = dict(rows).get(COMPONENTS[0][0], 0)
    p(("No JSON number code is left in this image. " if numbers == 0 else
       f"JSON number code takes {kib(numbers)} here. ") +
      "`Claim::parse` canonicalizes the whole claim "
      "text into SHA-256 without converting numbers: the overflow check (`bad_number`) is made "
      "on a number's digits, and a number is copied as written, which is its canonical form "
      "for every integer a valid claim may hold (`claim-int`, SPEC.md §5.1); a claim holding "
      "any other number fails as `bad_claim` afterwards, with the same error precedence as the "
      "full canonicalizer (the `claim_parse` fuzz target checks the digest against it). So "
      "neither f64 parsing nor ryu-js formatting links into a verifier (they took 28.0 KiB when they did). "
      "Object members are sorted by a heapsort of a few hundred bytes, not the standard "
      "library's sort (about 4 KiB). What is left is mostly SHA-512 (Ed25519 needs it; "
      "`sha2-compact` shrinks it), the two curves, and kez-core's parsers.")
    p("")

    p("### Goal")
    p("")
    stack_z = max(measures.get(("z", s, steps[0]), (0, 0))[0] for s in ("bip340", "ed25519"))
    flash_ok = both[2] <= GOAL_FLASH
    stack_ok = 0 < stack_z <= GOAL_STACK
    runtime = sizes[("z", "runtime alone (baseline)")][2]
    p(f"A full claim verify, both suites, opt-level z: flash {both[2]} bytes, {kib(both[2])} "
      f"(goal <= 80 KiB: {'met' if flash_ok else 'NOT met'}; of it, {both[2] - runtime} bytes "
      f"are kez-core and its crypto, the rest the runtime's vector table and reset code), "
      f"peak stack {kib(stack_z)} "
      f"(goal <= 16 KiB: {'met' if stack_ok else 'NOT met'}). With sha2's compact round "
      f"functions (firmware feature `sha2-compact`, same instruction count within 0.2 %): "
      f"flash {kib(compact_sha[2])}.")
    if summary:
        p("")
        p(f"Conformance on the same target: {summary[0].strip()} (the vectors of `vectors/`, "
          "run by `.ci/run` under QEMU).")
    text = "\n".join(md) + "\n"
    sys.stdout.write(text)
    if write:
        with open(os.path.join(HERE, "FOOTPRINT.md"), "w") as f:
            f.write("<!-- generated by core/embedded-check/footprint.py --write: do not edit -->\n")
            f.write(text)
        log("footprint: wrote core/embedded-check/FOOTPRINT.md")


if __name__ == "__main__":
    main()
