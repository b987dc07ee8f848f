//! What both images share: the exit through semihosting, and the panic, HardFault and default
//! handlers, each of which ends the run with a failure (cortex-m-rt's defaults spin forever,
//! which under QEMU would only show up as a timeout).
//!
//! The handlers print only in images that print anyway: the lean footprint image must not carry
//! `core::fmt` for a message nobody reads, or its size would not be the size of a verifier.

use cortex_m_rt::{ExceptionFrame, exception};
use cortex_m_semihosting::debug;

/// Prints a line through semihosting, in the images that print (see the module docs).
macro_rules! say {
    ($($arg:tt)*) => {
        #[cfg(any(feature = "conformance", feature = "measure"))]
        cortex_m_semihosting::hprintln!($($arg)*);
    };
}

/// Ends the run: QEMU exits with status 0 when `ok`, 1 otherwise.
pub(crate) fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    // only reached without a semihosting host (a real board with no debugger attached)
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    say!("PANIC: {}", info);
    let _ = info;
    exit(false)
}

#[allow(
    unsafe_code,
    reason = "cortex-m-rt declares exception handlers unsafe: they run outside normal control flow"
)]
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    say!("HARDFAULT: pc={:#010x} lr={:#010x}", frame.pc(), frame.lr());
    let _ = frame;
    exit(false)
}

#[allow(
    unsafe_code,
    reason = "cortex-m-rt declares exception handlers unsafe: they run outside normal control flow"
)]
#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    say!("UNEXPECTED EXCEPTION: {}", irqn);
    let _ = irqn;
    exit(false)
}
