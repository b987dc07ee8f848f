#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod body;
pub mod engine;
pub mod pool;
pub mod sanitize;
pub mod store;

/// NIP-01 events (SPEC.md §15.4, §16.5): the one implementation, in `kez-nostr`, re-exported
/// at its old path.
pub use kez_nostr::event;
/// Gift wrapping (SPEC.md §16.5): in `kez-nostr`, re-exported at its old path.
pub use kez_nostr::wrap;
