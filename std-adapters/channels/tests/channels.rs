//! The shared channel suite (STYLE rule 11): every channel runs the same scenarios against real
//! servers on 127.0.0.1, then its own extra cases (SPEC.md §15).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
#[path = "channels/suite.rs"]
mod suite;

#[path = "channels/ap.rs"]
mod ap;
#[path = "channels/bluesky.rs"]
mod bluesky;
#[path = "channels/dns.rs"]
mod dns;
#[path = "channels/github.rs"]
mod github;
#[path = "channels/nostr.rs"]
mod nostr;
