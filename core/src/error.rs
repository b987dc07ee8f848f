//! The core's one error type (SPEC.md §10, "Error classes").
//!
//! Every variant maps to a stable class string through [`Error::kind`]; the class strings are
//! what the vectors, the CLI's `--json` errors and ports compare. Variants carry only `Copy`
//! context (byte offsets, limits), never secrets or signature internals.

use core::fmt;

/// Everything that can go wrong while decoding, canonicalizing, parsing or signing.
///
/// A failed signature check is *not* an error: it is the [`crate::Status::Invalid`] outcome of
/// a well-formed input.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The JSON text is not RFC 8259 JSON (bad token, bad escape, raw control character, ...).
    JsonSyntax {
        /// Byte offset of the offending input.
        offset: usize,
    },
    /// The input is not valid UTF-8.
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// A `\uD800`-`\uDFFF` escape that is not half of a surrogate pair.
    LoneSurrogate {
        /// Byte offset of the escape.
        offset: usize,
    },
    /// An object has two members with the same name (compared after unescaping).
    DuplicateKey {
        /// Byte offset of the object holding the duplicate.
        offset: usize,
    },
    /// A number that does not fit an IEEE-754 double (I-JSON), e.g. `1e400`.
    BadNumber {
        /// Byte offset of the number.
        offset: usize,
    },
    /// Arrays/objects nested deeper than [`crate::jcs::MAX_DEPTH`].
    TooDeep {
        /// Byte offset of the bracket that went too deep.
        offset: usize,
    },
    /// Non-whitespace input after the JSON value (or after a compact frame).
    TrailingData {
        /// Byte offset where the trailing data starts.
        offset: usize,
    },
    /// An input or output exceeds a limit of SPEC.md (or the caller's buffer).
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A key reference (`nostr:npub1...`, `ed25519:<hex>`) is malformed or not a valid point.
    BadKey,
    /// A key file is malformed or its public key does not match its secret.
    BadKeyFile,
    /// A subject is malformed, of an unknown channel, or not in normalized form.
    BadSubject,
    /// A claim object has a missing, unknown or ill-typed member.
    BadClaim,
    /// An encoding (compact, Markdown, DNS TXT) is malformed or not recognised.
    BadEncoding,
    /// The zstd frame of a compact claim is corrupt or uses a forbidden feature.
    BadCompression,
    /// A payload that must be canonical (compact, a bundle line) is not its own JCS form.
    NonCanonical,
    /// A sigchain link has a missing, unknown or ill-typed member, or a bundle line is empty or
    /// unterminated.
    BadLink,
    /// A fixed-capacity store (of a no-alloc sigchain replay) is full.
    Full,
    /// A link's `op` is not one of the five ops.
    UnknownOp,
    /// A link names a different chain than the links before it.
    WrongChain,
    /// A link's seq is not the next one.
    SeqGap {
        /// The seq that was due.
        expected: u64,
        /// The seq found.
        got: u64,
    },
    /// A link's `prev` is not the hash of the link before it.
    PrevMismatch {
        /// The link's seq.
        seq: u64,
    },
    /// The link's signer may not sign its op.
    WrongSigner {
        /// The link's seq.
        seq: u64,
    },
    /// The link is signed by a primary key the chain has rotated away from.
    OldKey {
        /// The link's seq.
        seq: u64,
    },
    /// A link signature (or a rotate/device proof) does not verify.
    BadSignature {
        /// The link's seq.
        seq: u64,
    },
    /// The op's target is wrong: revoking an unknown or revoked claim, adding a known key,
    /// removing an unknown device, recording the same claim twice.
    BadTarget {
        /// The link's seq.
        seq: u64,
    },
    /// A NIP-44 envelope is malformed: unknown version, bad base64, a payload too short, a bad
    /// length prefix or padding, or a plaintext of length zero (SPEC.md §16.2).
    BadEnvelope,
    /// A NIP-44 envelope's MAC does not verify: wrong conversation key or altered payload.
    BadMac,
    /// A body that claims a KEZ file type has a missing, unknown or ill-typed member or breaks
    /// one of its limits (SPEC.md §16.3).
    BadBody,
    /// A chunk does not fit the transfer being assembled (SPEC.md §16.4).
    BadChunk {
        /// The chunk's index (for a pointer that contradicts the chunks: the first chunk it
        /// contradicts, or 0).
        index: u32,
        /// What is wrong with it.
        fault: ChunkFault,
    },
    /// The assembled file is not the file the pointer describes: its SHA-256 differs.
    HashMismatch,
    /// The transfer cannot be finalized yet: chunks or the pointer are missing.
    Incomplete,
}

/// Why a chunk (or a pointer) was refused by the assembler (SPEC.md §16.4).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkFault {
    /// The body's `file_id` is not the transfer's.
    WrongFile,
    /// The body's `n` differs from the transfer's chunk count.
    WrongCount,
    /// The index is not below `n`.
    OutOfRange,
    /// The chunk's length is not the one the transfer requires (every chunk but the last has
    /// the chunk size; the last has the rest of the file).
    WrongLength,
    /// The chunk does not fit the caller's buffer.
    NoRoom,
    /// A second chunk with the same index and different bytes.
    Conflict,
    /// The pointer contradicts what the chunks already showed (count, chunk size, size).
    PointerMismatch,
}

impl ChunkFault {
    /// The fault's stable name (SPEC.md §16.4), e.g. `conflict`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::WrongFile => "wrong_file",
            Self::WrongCount => "wrong_count",
            Self::OutOfRange => "out_of_range",
            Self::WrongLength => "wrong_length",
            Self::NoRoom => "no_room",
            Self::Conflict => "conflict",
            Self::PointerMismatch => "pointer_mismatch",
        }
    }

    /// A short stable reason, e.g. for a failed transfer's state.
    #[must_use]
    pub const fn reason(self) -> &'static str {
        match self {
            Self::WrongFile => "chunk of another file",
            Self::WrongCount => "chunk count differs",
            Self::OutOfRange => "chunk index out of range",
            Self::WrongLength => "chunk length differs from the chunk size",
            Self::NoRoom => "chunk does not fit the buffer",
            Self::Conflict => "conflicting duplicate chunk",
            Self::PointerMismatch => "pointer contradicts the chunks",
        }
    }
}

impl Error {
    /// The stable error class (SPEC.md §10). Ports map their own errors onto these strings.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::JsonSyntax { .. } => "json_syntax",
            Self::InvalidUtf8 { .. } => "invalid_utf8",
            Self::LoneSurrogate { .. } => "lone_surrogate",
            Self::DuplicateKey { .. } => "duplicate_key",
            Self::BadNumber { .. } => "bad_number",
            Self::TooDeep { .. } => "too_deep",
            Self::TrailingData { .. } => "trailing_data",
            Self::TooLarge { .. } => "too_large",
            Self::BadKey => "bad_key",
            Self::BadKeyFile => "bad_key_file",
            Self::BadSubject => "bad_subject",
            Self::BadClaim => "bad_claim",
            Self::BadEncoding => "bad_encoding",
            Self::BadCompression => "bad_compression",
            Self::NonCanonical => "non_canonical",
            Self::BadLink => "bad_link",
            Self::Full => "too_large",
            Self::UnknownOp => "unknown_op",
            Self::WrongChain => "wrong_chain",
            Self::SeqGap { .. } => "seq_gap",
            Self::PrevMismatch { .. } => "prev_mismatch",
            Self::WrongSigner { .. } => "wrong_signer",
            Self::OldKey { .. } => "old_key",
            Self::BadSignature { .. } => "bad_signature",
            Self::BadTarget { .. } => "bad_target",
            Self::BadEnvelope => "bad_envelope",
            Self::BadMac => "bad_mac",
            Self::BadBody => "bad_body",
            Self::BadChunk { .. } => "bad_chunk",
            Self::HashMismatch => "hash_mismatch",
            Self::Incomplete => "incomplete",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::JsonSyntax { offset } => write!(f, "JSON syntax error at byte {offset}"),
            Self::InvalidUtf8 { offset } => write!(f, "invalid UTF-8 at byte {offset}"),
            Self::LoneSurrogate { offset } => write!(f, "lone surrogate escape at byte {offset}"),
            Self::DuplicateKey { offset } => {
                write!(f, "duplicate member name in the object at byte {offset}")
            }
            Self::BadNumber { offset } => {
                write!(
                    f,
                    "number at byte {offset} is outside the I-JSON (double) range"
                )
            }
            Self::TooDeep { offset } => write!(
                f,
                "nesting deeper than {} at byte {offset}",
                crate::jcs::MAX_DEPTH
            ),
            Self::TrailingData { offset } => write!(f, "trailing data at byte {offset}"),
            Self::TooLarge { limit } => {
                write!(f, "input or output exceeds the limit of {limit} bytes")
            }
            Self::BadKey => f.write_str("malformed or invalid key reference"),
            Self::BadKeyFile => {
                f.write_str("malformed key file, or its key does not match its secret")
            }
            Self::BadSubject => f.write_str("malformed, unknown or non-normalized subject"),
            Self::BadClaim => f.write_str("malformed claim: missing, unknown or ill-typed member"),
            Self::BadEncoding => f.write_str("unrecognised or malformed encoding"),
            Self::BadCompression => f.write_str("corrupt or forbidden zstd frame"),
            Self::NonCanonical => f.write_str("payload is not in canonical (JCS) form"),
            Self::BadLink => f.write_str("malformed sigchain link or bundle line"),
            Self::UnknownOp => f.write_str("unknown sigchain op"),
            Self::Full => f.write_str("the replay's fixed-capacity store is full"),
            Self::WrongChain => f.write_str("link belongs to another chain"),
            Self::SeqGap { expected, got } => {
                write!(f, "expected link seq {expected}, found {got}")
            }
            Self::PrevMismatch { seq } => {
                write!(f, "link {seq}: prev is not the hash of the link before it")
            }
            Self::WrongSigner { seq } => write!(f, "link {seq}: the signer may not sign this op"),
            Self::OldKey { seq } => {
                write!(f, "link {seq}: signed by a key the chain rotated away from")
            }
            Self::BadSignature { seq } => write!(f, "link {seq}: signature does not verify"),
            Self::BadTarget { seq } => write!(
                f,
                "link {seq}: the op's target is unknown, revoked or already present"
            ),
            Self::BadEnvelope => f.write_str("malformed NIP-44 envelope"),
            Self::BadMac => f.write_str("NIP-44 envelope MAC does not verify"),
            Self::BadBody => f.write_str("malformed KEZ file body"),
            Self::BadChunk { index, fault } => write!(f, "chunk {index}: {}", fault.reason()),
            Self::HashMismatch => f.write_str("assembled file does not match its SHA-256"),
            Self::Incomplete => f.write_str("transfer incomplete: chunks or pointer missing"),
        }
    }
}

impl core::error::Error for Error {}
