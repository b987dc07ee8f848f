//! Differential: kez-core's bounded zstd decoder (ruzstd, `zstd_decode_bounded` with the
//! compact limits: a [`MAX_DECOMPRESSED`] buffer and a [`MAX_WINDOW`] window) against the zstd
//! C library (`zstd::bulk::decompress` with the same output capacity). The input is one raw
//! zstd frame (the bytes a `kez:z1:` string carries after base64url).
//!
//! Whenever kez accepts, the C library must accept too and produce the same bytes. That is the
//! property this target asserts. The first run found
//! `fuzz/regressions/compact_zstd/huffman-stream-shares-differ.zst` (a C frame without
//! checksum, seven bytes of its block changed) that both decoders accepted with different
//! 3000-byte outputs: its four Huffman literal streams hold 345, 346, 345 and 344 symbols where
//! RFC 8878 wants 345 each. ruzstd decoded each stream until its bits ran out; libzstd's fast
//! Huffman decoder fills each stream's share and does not check that the stream ends there.
//! The frame is invalid; kez now checks each stream's share itself and refuses it
//! (`core/src/zstd_literals.rs`, SPEC.md §9.2 step 7, `fuzz/README.md`).
//!
//! The other direction is checked only with `KEZ_ZSTD_BOTH_WAYS=1` in the environment: the
//! first 30 s run found a frame (`fuzz/seeds/compact_zstd/c-decodes-kez-refuses.zst`, a C
//! frame with three bytes of its compressed block changed) that the C library decodes to 3000
//! bytes and ruzstd refuses (1379 literals where the section says 1380). Settled since: its
//! fourth Huffman stream holds 344 symbols where 345 are due, so the frame is invalid; libzstd's
//! fast Huffman decoder reads one symbol past the stream's start, and the same libzstd built
//! with `HUF_DISABLE_FAST_DECODE` refuses it ("Data corruption detected"). Refusing is right,
//! so it does not fail the default run.
//!
//! kez refuses on purpose some frames the C library decodes (SPEC.md §9: one frame, no
//! dictionary, bounded window). With `KEZ_ZSTD_BOTH_WAYS=1`, a frame the C library decodes
//! within the capacity but kez refuses is a failure unless it is one of these:
//! - a skippable frame (magic `0x184D2A5?`), or any other magic: kez knows only `28 B5 2F FD`;
//! - a frame header with `Dictionary_ID_flag` != 0 (even one declaring dictionary id 0);
//! - a window larger than [`MAX_WINDOW`] (128 KiB), from the Window_Descriptor, or from the
//!   Frame_Content_Size in a single-segment frame; the C library allows up to 128 MiB;
//! - anything after the first frame (a second frame, a skippable frame, junk): the C library
//!   decodes concatenated frames, kez wants exactly one.
//!
//! The rest must agree in both directions: corrupt blocks, bad checksums and a
//! Frame_Content_Size that does not match the blocks are refused by both. One known exception
//! is not in the list because the frame cannot tell it: libzstd's default (fast) Huffman
//! decoder does not check that each literal stream ends exactly after its share, so it decodes
//! some invalid frames that kez refuses (like the regression above, with one stream's extra
//! symbol dropped). `KEZ_ZSTD_BOTH_WAYS=1` may stop on such a frame; it is not a kez bug.
//!
//! This property needs the C library, so it is not in `src/lib.rs` and not replayed by
//! `cargo test` (which would then build C); the stable replay runs the kez half
//! ([`kez_fuzz::zstd_frame`]) on the seeds and regressions of this target.
#![no_main]

use kez_core::{MAX_DECOMPRESSED, MAX_WINDOW, zstd_decode_bounded};

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// Whether kez refuses `frame` on purpose (the list above), whatever the C library says.
fn refused_on_purpose(frame: &[u8]) -> bool {
    let (Some(magic), Some(&desc)) = (frame.get(..4), frame.get(4)) else {
        return true;
    };
    if magic != ZSTD_MAGIC || desc & 0b11 != 0 {
        return true;
    }
    match zstd::zstd_safe::find_frame_compressed_size(frame) {
        Ok(len) if len == frame.len() => {}
        _ => return true,
    }
    let single_segment = desc & 0x20 != 0;
    let window = if single_segment {
        // no Window_Descriptor: the window is the content size
        let fcs_len = match desc >> 6 {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => 8,
        };
        let Some(bytes) = frame.get(5..5 + fcs_len) else {
            return true;
        };
        let mut le = [0u8; 8];
        le[..fcs_len].copy_from_slice(bytes);
        let fcs = u64::from_le_bytes(le);
        if fcs_len == 2 { fcs + 256 } else { fcs }
    } else {
        let Some(&wd) = frame.get(5) else {
            return true;
        };
        let base = 1u64 << (10 + (wd >> 3));
        base + (base / 8) * u64::from(wd & 7)
    };
    window > MAX_WINDOW
}

/// Whether `KEZ_ZSTD_BOTH_WAYS=1` asks for the check of the other direction.
fn both_ways() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("KEZ_ZSTD_BOTH_WAYS").is_some_and(|v| v == "1"))
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _accepted = kez_fuzz::zstd_frame(data);
    let mut out = vec![0u8; MAX_DECOMPRESSED];
    let ours = zstd_decode_bounded(data, &mut out, MAX_WINDOW).map(|n| &out[..n]);
    let theirs = zstd::bulk::decompress(data, MAX_DECOMPRESSED);
    match (ours, theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, &b[..], "kez and the C library decode differently"),
        (Ok(a), Err(e)) => panic!(
            "kez accepts ({} bytes), the C library refuses: {e}",
            a.len()
        ),
        (Err(e), Ok(b)) => assert!(
            !both_ways() || refused_on_purpose(data),
            "the C library decodes {} bytes, kez refuses: {e:?}",
            b.len()
        ),
        (Err(_), Err(_)) => {}
    }
});
