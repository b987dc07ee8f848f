#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(test)]
extern crate std;

mod assembler;
#[cfg(feature = "batch")]
mod batch;
#[cfg(feature = "bip340")]
mod bip340;
pub mod chain;
mod claim;
mod encoding;
mod error;
mod file_body;
pub mod jcs;
mod keyfile;
mod keys;
#[cfg(feature = "nip44")]
pub mod nip44;
mod status;
mod subject;
#[cfg(feature = "alloc")]
mod zstd_literals;

pub use assembler::{Added, Assembler};
#[cfg(feature = "batch")]
pub use batch::{BatchItem, MAX_BATCH, verify_batch, verify_claims};
#[cfg(feature = "libsecp256k1")]
pub use bip340::{Bip340Backend, verify_bip340_with};
pub use claim::{
    CLAIM_TAG, CLAIM_TYPE, Claim, ClaimDraft, MAX_CLAIM_JSON, MAX_INT, signing_digest, verify_json,
};
pub use encoding::{
    COMPACT_PREFIX, Encoding, MAX_COMPACT_LEN, MAX_DECOMPRESSED, MAX_WINDOW, TXT_CHUNK, ZONE_TTL,
    find_fence, join_txt, txt_strings, write_markdown, write_txt,
};
#[cfg(feature = "alloc")]
pub use encoding::{decode_any, decode_compact, encode_compact, zstd_decode_bounded};
pub use error::{ChunkFault, Error};
pub use file_body::{
    Body, CHUNK_TYPE, Chunk, Data, FILE_TYPE, FileId, Indices, InlineFile, MAX_BODY,
    MAX_CHUNK_SIZE, MAX_CHUNKS, MAX_FILE_SIZE, MAX_FILENAME, MAX_INLINE_SIZE, MAX_MIME,
    MIN_CHUNK_SIZE, Pointer, RECEIPT_TYPE, RESEND_TYPE, Resend, parse_body,
};
pub use keyfile::{KEYFILE_TYPE, MAX_KEYFILE, parse_keyfile, write_keyfile};
pub use keys::{Alg, KeyRef, SecretKey, decode_npub, verify_raw};
pub use status::Status;
pub use subject::{
    Channel, MAX_SUBJECT, check_normalized, is_atproto_handle, normalize as normalize_subject,
};
