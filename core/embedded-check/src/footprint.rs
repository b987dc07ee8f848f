//! The footprint image: a claim verifier and nothing else, measured by footprint.sh.
//!
//! It verifies one valid JSON claim of each suite (taken from vectors/claims_verify.json by
//! build.rs) and exits 0 when each comes out as this build must say: `valid` for a suite that is
//! built in, `invalid` for one that is left out (kez-core's `bip340`/`ed25519` features). kez-core
//! is built without `alloc` and the image has no allocator, so the JSON path provably needs no
//! heap: with one, it would not link.
//!
//! Features add measurements, each in its own build so the lean image's size stays the size
//! of a verifier:
//! - `measure`: paints the stack below the current frame, verifies, and scans for the lowest
//!   overwritten word (the peak stack of one verify); counts SysTick ticks across the verify and
//!   turns them into instructions with a calibration loop of known length (under QEMU's
//!   `-icount shift=0` each instruction is one virtual nanosecond); prints both.
//! - `compact`: also decodes a compact claim of each suite (encodings.json) through a counting
//!   heap, and prints the heap it needed.
//! - `baseline`: verifies nothing (the runtime alone: vector table, reset, semihosting exit).
#![no_std]
#![no_main]

#[cfg(feature = "compact")]
extern crate alloc;

#[cfg(feature = "compact")]
mod heap;
mod rt;

#[cfg(feature = "compact")]
#[global_allocator]
static HEAP: heap::Counting = heap::Counting::new();

use core::hint::black_box;

use cortex_m_rt::entry;
use kez_core::Status;

include!(concat!(env!("OUT_DIR"), "/samples.rs"));

#[entry]
fn main() -> ! {
    #[cfg(feature = "measure")]
    let tools = measure::Tools::new();
    let mut ok = true;
    if !cfg!(feature = "baseline") {
        for (name, sample, built_in) in [
            ("bip340", JSON_BIP340, cfg!(feature = "bip340")),
            ("ed25519", JSON_ED25519, cfg!(feature = "ed25519")),
        ] {
            let want = if built_in {
                Status::Valid
            } else {
                Status::Invalid
            };
            #[cfg(feature = "measure")]
            let got = {
                // the two phases apart, then the whole verify (the figure that counts)
                tools.run(name, "  JCS into SHA-256 (signing digest)", || {
                    kez_core::signing_digest(kez_core::CLAIM_TAG, black_box(sample.0)).ok()
                });
                let claim = tools.run(name, "  parse (digest, members, key, subject)", || {
                    parse(sample.0)
                });
                if let Some(c) = claim {
                    tools.run(name, "  key point decode", || {
                        kez_core::KeyRef::from_bytes(c.key().alg(), black_box(*c.key().as_bytes()))
                            .ok()
                    });
                    tools.run(name, "  signature and expiry", || {
                        c.verify(black_box(sample.1))
                    });
                }
                tools.run(name, "JSON claim verify", || verify(sample))
            };
            #[cfg(not(feature = "measure"))]
            let got = verify(sample);
            let _ = name;
            ok &= got == Some(want);
        }
        #[cfg(feature = "compact")]
        for (name, sample, built_in) in [
            ("bip340", COMPACT_BIP340, cfg!(feature = "bip340")),
            ("ed25519", COMPACT_ED25519, cfg!(feature = "ed25519")),
        ] {
            let want = if built_in {
                Status::Valid
            } else {
                Status::Invalid
            };
            ok &= compact::run(&tools, name, sample) == Some(want);
        }
    }
    rt::exit(ok)
}

/// The parse phase alone (canonicalization into SHA-256, members, key point, subject).
#[cfg(feature = "measure")]
#[inline(never)]
fn parse(json: &[u8]) -> Option<kez_core::Claim<'_>> {
    kez_core::Claim::parse(black_box(json)).ok()
}

/// One verify of a JSON claim: what the measurements measure. Kept out of line, with opaque
/// inputs, so it is neither folded away nor merged into the caller's frame.
#[inline(never)]
fn verify((json, now): (&[u8], u64)) -> Option<Status> {
    kez_core::verify_json(black_box(json), black_box(now))
        .ok()
        .map(|(_, s)| s)
}

#[cfg(feature = "measure")]
mod measure {
    use core::ptr;

    use cortex_m::peripheral::SYST;
    use cortex_m::peripheral::syst::SystClkSource;
    use cortex_m_semihosting::hprintln;

    /// How far below the current stack pointer the stack is painted.
    const PROBE: usize = 64 * 1024;
    /// Left unpainted just below the stack pointer: the painter's own frame.
    const GUARD: usize = 512;
    const PAINT: u32 = 0xC0DE_CAFE;
    /// Iterations of the calibration loop (two instructions each).
    const CALIBRATION: u32 = 1_000_000;

    pub(crate) struct Tools {
        /// Instructions per SysTick tick, times 1000 (from the calibration loop).
        milli_insns_per_tick: u64,
    }

    impl Tools {
        pub(crate) fn new() -> Self {
            let Some(mut p) = cortex_m::Peripherals::take() else {
                hprintln!("measure: peripherals already taken");
                crate::rt::exit(false)
            };
            // processor clock, the largest reload, no interrupt: a verify is far shorter than
            // one wrap, and a wrap is detected (COUNTFLAG) rather than counted
            p.SYST.set_clock_source(SystClkSource::Core);
            p.SYST.set_reload(0x00FF_FFFF);
            p.SYST.clear_current();
            p.SYST.enable_counter();
            let ticks = ticks(|| spin(CALIBRATION));
            let insns = u64::from(CALIBRATION) * 2;
            let milli = match ticks {
                Some(t) if t > 0 => insns * 1000 / t,
                _ => 0,
            };
            hprintln!(
                "calibration: {} instructions took {} SysTick ticks: {}.{:03} instructions per tick",
                insns,
                ticks.unwrap_or(0),
                milli / 1000,
                milli % 1000
            );
            Self {
                milli_insns_per_tick: milli,
            }
        }

        /// Runs `f` once on a painted stack and prints its peak stack and instruction count.
        pub(crate) fn run<T>(&self, suite: &str, what: &str, f: impl FnOnce() -> T) -> T {
            let top = paint();
            let mut out = None;
            let t = ticks(|| out = Some(f()));
            let used = scan(top);
            let insns = t.map(|t| t * self.milli_insns_per_tick / 1000);
            hprintln!(
                "measure: {} {}: stack {} bytes, {} SysTick ticks, ~{} instructions",
                suite,
                what,
                used,
                t.unwrap_or(0),
                insns.unwrap_or(0)
            );
            match out {
                Some(v) => v,
                None => crate::rt::exit(false),
            }
        }
    }

    /// SysTick ticks taken by `f` (`None` if the counter wrapped).
    fn ticks(f: impl FnOnce()) -> Option<u64> {
        let start = SYST::get_current();
        // reading COUNTFLAG clears it: clear before, test after
        let _ = wrapped();
        f();
        let end = SYST::get_current();
        if wrapped() {
            return None;
        }
        Some(u64::from(start.wrapping_sub(end) & 0x00FF_FFFF))
    }

    fn wrapped() -> bool {
        // SAFETY: a read of SysTick's control register; COUNTFLAG clears on read, which only
        // this module relies on.
        #[allow(unsafe_code, reason = "reading COUNTFLAG needs the register block")]
        unsafe {
            (*SYST::PTR).csr.read() & (1 << 16) != 0
        }
    }

    /// `n` iterations of a two-instruction loop (`subs`, `bne`).
    #[inline(never)]
    fn spin(n: u32) {
        // SAFETY: a register-only countdown loop; no memory is touched.
        #[allow(
            unsafe_code,
            reason = "a loop of a known instruction count needs assembly"
        )]
        unsafe {
            core::arch::asm!(
                "2:",
                "subs {n}, {n}, #1",
                "bne 2b",
                n = inout(reg) n => _,
                options(nomem, nostack)
            );
        }
    }

    /// Fills the stack below the caller's frame with the pattern; returns the top of the
    /// painted region's owner (the stack pointer at the call).
    #[inline(never)]
    fn paint() -> usize {
        let sp = cortex_m::register::msp::read() as usize;
        let mut at = sp - PROBE;
        while at < sp - GUARD {
            // SAFETY: the words between sp - PROBE and sp - GUARD are free stack (RAM, below
            // every live frame, above .bss: layout/memory.x gives the stack megabytes).
            #[allow(unsafe_code, reason = "painting free stack is a raw write")]
            unsafe {
                ptr::write_volatile(at as *mut u32, PAINT);
            }
            at += 4;
        }
        sp
    }

    /// Bytes of stack used below `top` since [`paint`]: from the lowest word that lost the
    /// pattern.
    #[inline(never)]
    fn scan(top: usize) -> usize {
        let mut at = top - PROBE;
        while at < top - GUARD {
            // SAFETY: the same free-stack words `paint` wrote.
            #[allow(unsafe_code, reason = "reading painted stack is a raw read")]
            let word = unsafe { ptr::read_volatile(at as *const u32) };
            if word != PAINT {
                break;
            }
            at += 4;
        }
        top - at
    }
}

#[cfg(feature = "compact")]
mod compact {
    use alloc::vec;

    use cortex_m_semihosting::hprintln;
    use kez_core::{MAX_DECOMPRESSED, Status};

    use crate::{HEAP, heap};

    /// Decodes a compact claim through the counting heap, prints what it needed, and verifies
    /// the decoded JSON.
    pub(crate) fn run(
        tools: &crate::measure::Tools,
        suite: &str,
        (compact, now): (&[u8], u64),
    ) -> Option<Status> {
        let text = core::str::from_utf8(compact).ok()?;
        // the caller's output buffer: the largest payload a compact claim may decode to
        let mut out = vec![0u8; MAX_DECOMPRESSED];
        heap::mark(&HEAP);
        let before = heap::usage(&HEAP);
        let n = tools.run(suite, "compact decode", || {
            kez_core::decode_compact(text, &mut out)
        });
        let used = heap::usage(&HEAP);
        hprintln!(
            "heap: {} compact decode ({} chars to {} bytes): peak {} bytes, {} allocation calls, {} bytes requested, {} live after",
            suite,
            text.len(),
            n.as_ref().map_or(0, |n| *n),
            used.peak - before.live,
            used.calls,
            used.requested,
            used.live - before.live
        );
        let json = out.get(..n.ok()?)?;
        crate::verify((json, now))
    }
}
