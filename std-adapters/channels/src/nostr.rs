//! The `nostr` channel (SPEC.md §15.4): the proof is a NIP-01 event of kind 30078 (NIP-78
//! application data, addressable) authored by the npub's key, with the tag
//! `["d", "kez-proof:<claim key reference>"]` and the compact claim as its content. Every
//! configured relay is asked at once for the author's events of that kind; an event counts only
//! if its id is the hash of its NIP-01 serialization and its BIP-340 signature verifies. Events
//! seen on several relays count once, and of the events with the same author and `d` tag only
//! the newest counts, as relays replace addressable events.
//!
//! The relay transport is in `relay.rs`; this module decides what the answers mean.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::future::join_all;
use kez_core::{Alg, KeyRef, SecretKey};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::event::{self, hex};
use crate::publish::{Credentials, Publication, PublishError, ToPublish};
use crate::relay::{Ack, RelayClient};
use crate::{Channel, ChannelError, Config, Proof};

/// The event kind of a proof (NIP-78, addressable).
const PROOF_KIND: u32 = 30078;
/// The start of a proof event's `d` tag value; the claim's key reference follows.
const D_PREFIX: &str = "kez-proof:";
/// The subscription id of the request (one subscription per connection).
const SUB_ID: &str = "kez";

/// The `nostr` channel.
#[derive(Debug, Clone)]
pub struct Nostr {
    client: RelayClient,
    relays: Vec<String>,
    max_proofs: usize,
    offline: bool,
}

/// A proof event whose id and signature verified.
#[derive(Debug, Clone)]
struct Event {
    id: [u8; 32],
    pubkey: [u8; 32],
    created_at: u64,
    d: String,
    content: String,
}

impl Event {
    /// Replaces `other` as the addressable event of the same author and `d` tag: newer
    /// `created_at`, or the same and a lower id.
    fn replaces(&self, other: &Self) -> bool {
        (self.created_at, std::cmp::Reverse(self.id))
            > (other.created_at, std::cmp::Reverse(other.id))
    }
}

/// What one event object received from a relay is.
#[derive(Debug)]
enum Checked {
    /// A proof event, verified.
    Proof(Event),
    /// Another kind, or a kind-30078 event of another application: not a proof.
    Ignored,
    /// Malformed, or its id or signature does not verify.
    Dropped,
}

impl Nostr {
    /// The channel with `config`'s relays, timeout and caps.
    #[must_use]
    pub fn new(config: &Config) -> Self {
        Self {
            client: RelayClient::new(config),
            relays: config.relays.clone(),
            max_proofs: config.max_proofs.max(1),
            offline: config.offline,
        }
    }

    /// Signs the proof event with the npub's key and sends it to every relay.
    pub(crate) async fn publish(
        &self,
        handle: &str,
        proof: &ToPublish,
        credentials: &Credentials,
    ) -> Result<Publication, PublishError> {
        let account =
            kez_core::decode_npub(handle).map_err(|e| PublishError::Subject(e.to_string()))?;
        let Some(key) = credentials.nostr_key.as_ref() else {
            return Err(PublishError::MissingCredential(
                "a nostr key file for the subject's npub",
            ));
        };
        if key.public().alg() != Alg::Bip340 || *key.public().as_bytes() != account {
            return Err(PublishError::Rejected(format!(
                "the key is {}, not nostr:{handle}: nothing was published",
                key.public()
            )));
        }
        if self.offline {
            return Err(PublishError::Unreachable(
                "offline: not sending to nostr relays".to_owned(),
            ));
        }
        if self.relays.is_empty() {
            return Err(PublishError::Unreachable(
                "no nostr relays configured".to_owned(),
            ));
        }
        let (claim, _) = kez_core::verify_json(proof.json.as_bytes(), 0)
            .map_err(|e| PublishError::Subject(e.to_string()))?;
        let d = format!("{D_PREFIX}{}", claim.key());
        let (id, event) = sign_event(key, unix_now(), &d, &proof.compact)
            .map_err(|e| PublishError::Rejected(format!("cannot sign the event: {e}")))?;
        let acks = join_all(
            self.relays
                .iter()
                .map(|relay| self.client.publish(relay, &id, &event)),
        )
        .await;
        publication(&self.relays, &id, acks)
    }
}

/// The outcome of sending one event to every relay.
fn publication(
    relays: &[String],
    id: &str,
    acks: Vec<Result<Ack, String>>,
) -> Result<Publication, PublishError> {
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    let mut failed = Vec::new();
    for (relay, ack) in relays.iter().zip(acks) {
        match ack {
            Ok(Ack {
                accepted: true,
                message,
            }) if message.is_empty() => accepted.push(relay.clone()),
            Ok(Ack {
                accepted: true,
                message,
            }) => accepted.push(format!("{relay} (\"{message}\")")),
            Ok(Ack { message, .. }) => refused.push(format!("{relay}: \"{message}\"")),
            Err(e) => failed.push(format!("{relay}: {e}")),
        }
    }
    let others: Vec<String> = refused
        .iter()
        .map(|r| format!("refused by {r}"))
        .chain(failed.iter().map(|f| format!("no answer from {f}")))
        .collect();
    if !accepted.is_empty() {
        let mut detail = format!(
            "accepted by {} of {} relays: {}",
            accepted.len(),
            relays.len(),
            accepted.join(", ")
        );
        if !others.is_empty() {
            let _ = write!(detail, "; {}", others.join("; "));
        }
        return Ok(Publication::Posted {
            location: format!("nostr:{id}"),
            detail,
        });
    }
    if !refused.is_empty() {
        return Err(PublishError::Rejected(format!(
            "every relay that answered refused the event: {}",
            others.join("; ")
        )));
    }
    Err(PublishError::Unreachable(format!(
        "no relay answered: {}",
        failed.join("; ")
    )))
}

impl Channel for Nostr {
    fn name(&self) -> &'static str {
        "nostr"
    }

    async fn fetch(&self, handle: &str) -> Result<Vec<Proof>, ChannelError> {
        let Ok(account) = kez_core::decode_npub(handle) else {
            return Err(ChannelError::not_found(format!("{handle} is not an npub")));
        };
        if self.offline {
            return Err(ChannelError::unreachable(
                "offline: nostr relays are not asked",
            ));
        }
        if self.relays.is_empty() {
            return Err(ChannelError::unreachable("no nostr relays configured"));
        }
        let filter = serde_json::json!({
            "authors": [hex(&account)],
            "kinds": [PROOF_KIND],
            "limit": self.max_proofs,
        });
        let answers = join_all(
            self.relays
                .iter()
                .map(|relay| self.client.query(relay, SUB_ID, &filter, self.max_proofs)),
        )
        .await;

        // the newest event per (author, d tag), with the first relay (in configuration order)
        // that sent it
        let mut latest: HashMap<([u8; 32], String), (Event, usize)> = HashMap::new();
        // dropped events counted once each, by the hash of their JSON text (their `id` member
        // is whatever the forger chose)
        let mut dropped: HashSet<[u8; 32]> = HashSet::new();
        let mut answered = 0usize;
        let mut failures = Vec::new();
        for (i, (relay, answer)) in self.relays.iter().zip(answers).enumerate() {
            match answer.end {
                Ok(_) => answered += 1,
                Err(e) => failures.push(format!("{relay}: {e}")),
            }
            for value in &answer.events {
                match check_event(value) {
                    Checked::Proof(event) => {
                        let slot = (event.pubkey, event.d.clone());
                        let newer = latest.get(&slot).is_none_or(|(old, _)| event.replaces(old));
                        if newer {
                            latest.insert(slot, (event, i));
                        }
                    }
                    Checked::Ignored => {}
                    Checked::Dropped => {
                        dropped.insert(Sha256::digest(value.to_string().as_bytes()).into());
                    }
                }
            }
        }
        let mut found: Vec<(Event, usize)> = latest.into_values().collect();
        found.sort_by(|(a, _), (b, _)| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        found.truncate(self.max_proofs);
        if !found.is_empty() {
            return Ok(found
                .into_iter()
                .map(|(event, i)| {
                    let relay = self.relays.get(i).map(String::as_str).unwrap_or_default();
                    Proof {
                        publisher: npub(&event.pubkey),
                        location: format!("nostr:{} ({relay})", hex(&event.id)),
                        text: event.content,
                    }
                })
                .collect());
        }
        let dropped = match dropped.len() {
            0 => String::new(),
            n => format!("; {n} events dropped (malformed, or id or signature does not verify)"),
        };
        if answered > 0 {
            return Err(ChannelError::not_found(format!(
                "no kez proof event of {handle} on the {answered} of {} relays that answered{dropped}",
                self.relays.len()
            )));
        }
        Err(ChannelError::unreachable(format!(
            "no relay answered: {}{dropped}",
            failures.join("; ")
        )))
    }
}

/// Checks one event object (NIP-01): its shape, whether it is a proof event, its id, its
/// signature.
fn check_event(value: &Value) -> Checked {
    let Ok(event) = event::Event::from_value_unverified(value) else {
        return Checked::Dropped;
    };
    // the first `d` tag names an addressable event (NIP-01); a missing value is ""
    let Some(d) = event
        .tag("d")
        .filter(|d| event.kind == PROOF_KIND && d.starts_with(D_PREFIX))
    else {
        return Checked::Ignored;
    };
    let d = d.to_owned();
    if event.verify().is_err() {
        return Checked::Dropped;
    }
    Checked::Proof(Event {
        id: event.id,
        pubkey: event.pubkey,
        created_at: event.created_at,
        d,
        content: event.content,
    })
}

/// A signed proof event: its id (hex) and the event object.
fn sign_event(
    key: &SecretKey,
    created_at: u64,
    d: &str,
    content: &str,
) -> Result<(String, Value), kez_core::Error> {
    let tags = vec![vec!["d".to_owned(), d.to_owned()]];
    let event = event::Event::sign(key, created_at, PROOF_KIND, tags, content.to_owned())?;
    let id = event.id_hex();
    let value = serde_json::json!({
        "id": id,
        "pubkey": hex(&event.pubkey),
        "created_at": event.created_at,
        "kind": event.kind,
        "tags": event.tags,
        "content": event.content,
        "sig": hex(&event.sig),
    });
    Ok((id, value))
}

/// The lowercase npub (without `nostr:`) of a BIP-340 key; the hex key if it is not a point.
fn npub(key: &[u8; 32]) -> String {
    match KeyRef::from_bytes(Alg::Bip340, *key) {
        Ok(k) => {
            let text = k.to_string();
            text.strip_prefix("nostr:").unwrap_or(&text).to_owned()
        }
        Err(_) => hex(key),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;

    #[test]
    fn signed_event_checks() {
        let key = SecretKey::from_bytes(Alg::Bip340, &[0x11; 32]).unwrap();
        let (id, event) = sign_event(&key, 1_764_115_200, "kez-proof:k", "kez:z1:x").unwrap();
        assert_eq!(event["id"], id);
        let Checked::Proof(e) = check_event(&event) else {
            panic!("{event}")
        };
        assert_eq!(e.content, "kez:z1:x");
        assert_eq!(e.d, "kez-proof:k");

        // a changed member breaks the id; a changed id breaks the signature
        let mut forged = event.clone();
        forged["content"] = "kez:z1:y".into();
        assert!(matches!(check_event(&forged), Checked::Dropped));
        let mut forged = event.clone();
        forged["created_at"] = 1.into();
        assert!(matches!(check_event(&forged), Checked::Dropped));
        let mut bad_sig = event.clone();
        let sig = bad_sig["sig"].as_str().unwrap().to_owned();
        let flipped = if sig.starts_with('0') { "1" } else { "0" };
        bad_sig["sig"] = format!("{flipped}{}", &sig[1..]).into();
        assert!(matches!(check_event(&bad_sig), Checked::Dropped));
        let mut upper = event.clone();
        upper["id"] = id.to_ascii_uppercase().into();
        assert!(matches!(check_event(&upper), Checked::Dropped));

        // not a proof: another kind, another d tag
        let (_, other_app) = sign_event(&key, 1, "settings", "{}").unwrap();
        assert!(matches!(check_event(&other_app), Checked::Ignored));
        assert!(matches!(
            check_event(&serde_json::json!({"kind": 1})),
            Checked::Dropped
        ));
    }

    #[test]
    fn replacement_order() {
        let e = |created_at, id| Event {
            id: [id; 32],
            pubkey: [0; 32],
            created_at,
            d: String::new(),
            content: String::new(),
        };
        assert!(e(2, 9).replaces(&e(1, 0)));
        assert!(!e(1, 0).replaces(&e(2, 9)));
        assert!(e(1, 1).replaces(&e(1, 2)), "a tie goes to the lowest id");
        assert!(!e(1, 2).replaces(&e(1, 1)));
        assert!(!e(1, 1).replaces(&e(1, 1)));
    }
}
