#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _accepted = kez_fuzz::sigchain(data);
});
