#![no_main]

// kez-nostr's properties are not in the fuzz library (kez-core's replay test includes it)
#[allow(dead_code)]
#[path = "../src/nostr.rs"]
mod nostr;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _accepted = nostr::relay_message(data);
});
