//! Local stand-ins for the services KEZ talks to, each on 127.0.0.1, started and stopped by the
//! tests and benchmarks that use them. They are real servers speaking the real wire formats: an
//! authoritative DNS server (hickory-server, UDP and TCP) whose zone can change while it runs,
//! and HTTP servers answering with the JSON shapes the public APIs document.
//!
//! Test infrastructure: failures to bind a port or malformed setups panic, as a test should.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod atproto;
pub mod dns;
pub mod github;
pub mod mastodon;
pub mod nostr;
pub mod nostr_rs_relay;
pub mod web;

use tokio::task::JoinHandle;

/// A server task, stopped when dropped (or by [`Task::stop`]).
#[derive(Debug)]
pub struct Task(JoinHandle<()>);

impl Task {
    /// Wraps a spawned server task.
    #[must_use]
    pub const fn new(handle: JoinHandle<()>) -> Self {
        Self(handle)
    }

    /// Stops the server now.
    pub fn stop(&self) {
        self.0.abort();
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}
