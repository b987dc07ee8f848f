//! The link check of kez-nostd-verify.
//!
//! For a bare-metal target (`target_os = "none"`, e.g. `thumbv7em-none-eabihf`) this is a
//! complete `#![no_std]` `#![no_main]` image: an entry symbol that verifies a claim, and a
//! panic handler. Linking it (rust-lld, `--gc-sections`) proves that everything reachable from
//! `verify_claim` resolves without `std` or an allocator, and its size is what verification
//! costs in flash. It is a link check, not firmware: there is no vector table or memory map
//! (a board crate would get those from cortex-m-rt).
//!
//! On a hosted target it is an ordinary program that prints the sample claim's status, so the
//! workspace's `cargo test` and `cargo clippy --all-targets` can build the package.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod image {
    use core::hint::black_box;

    const SAMPLE: &[u8] = include_bytes!("sample-claim.json");

    /// The symbol rust-lld enters at by default; the root of everything that gets linked.
    /// `black_box` keeps the input opaque so the verifier cannot be folded away.
    #[allow(
        unsafe_code,
        reason = "an unmangled entry symbol is the only root a runtime-less image has"
    )]
    #[unsafe(no_mangle)]
    extern "C" fn _start() -> ! {
        black_box(kez_nostd_verify::verify_claim(
            black_box(SAMPLE),
            black_box(0),
        ));
        loop {
            core::hint::spin_loop();
        }
    }

    #[panic_handler]
    fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
        loop {
            core::hint::spin_loop();
        }
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    let code = kez_nostd_verify::verify_claim(include_bytes!("sample-claim.json"), 0);
    println!(
        "sample claim: {} (code {code})",
        kez_nostd_verify::code_name(code).unwrap_or("unknown")
    );
}
