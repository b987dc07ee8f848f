//! Real nostr relays in this process: rust-nostr's `LocalRelay`, each with an in-memory database,
//! optionally holding events from the start (so that a benchmark needs no publishing round trip
//! and no relay rate limit applies to its setup).

use nostr_relay_builder::prelude::{
    Event, EventBuilder, Keys, Kind, LocalRelay, MemoryDatabase, MemoryDatabaseOptions,
    NostrDatabase as _, RelayBuilder, SecretKey, Tag, Timestamp,
};

/// A KEZ proof event (SPEC.md §15.4): kind 30078 with the `d` tag `kez-proof:<claim key>`,
/// the compact claim as content, signed by the account's secret key.
#[must_use]
pub fn proof_event(
    account_secret: &[u8; 32],
    claim_key: &str,
    compact: &str,
    created_at: u64,
) -> Event {
    let keys = Keys::new(SecretKey::from_slice(account_secret).unwrap());
    EventBuilder::new(Kind::Custom(30078), compact)
        .tag(Tag::identifier(format!("kez-proof:{claim_key}")))
        .custom_created_at(Timestamp::from(created_at))
        .sign_with_keys(&keys)
        .unwrap()
}

/// Running relays; they stop when dropped.
#[derive(Debug)]
pub struct LocalRelays {
    /// Their `ws://127.0.0.1:PORT` URLs.
    pub urls: Vec<String>,
    relays: Vec<LocalRelay>,
}

impl LocalRelays {
    /// Starts `count` relays, each holding `events`.
    pub async fn start(count: usize, events: &[Event]) -> Self {
        let mut urls = Vec::new();
        let mut relays = Vec::new();
        for _ in 0..count {
            let db = MemoryDatabase::with_opts(MemoryDatabaseOptions {
                events: true,
                max_events: Some(100_000),
            });
            for event in events {
                db.save_event(event).await.unwrap();
            }
            let relay = LocalRelay::new(RelayBuilder::default().database(db));
            relay.run().await.unwrap();
            urls.push(relay.url().await.to_string());
            relays.push(relay);
        }
        Self { urls, relays }
    }

    /// Stops relay `i`.
    pub fn stop(&self, i: usize) {
        if let Some(r) = self.relays.get(i) {
            r.shutdown();
        }
    }
}
