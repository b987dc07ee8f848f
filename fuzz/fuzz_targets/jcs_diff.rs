//! JCS differential against serde_json's value model: see `kez_fuzz::jcs_diff`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _accepted = kez_fuzz::jcs_diff(data);
});
