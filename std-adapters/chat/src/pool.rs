//! A pool of nostr relays (SPEC.md §16.6): every event is published to all of them, each relay
//! paced by its own token bucket; subscriptions run on all of them and deliver each verified
//! event once.
//!
//! One task per relay owns that relay's WebSocket (NIP-01 over `ws://`, or `wss://` with rustls
//! on the ring provider and the webpki roots) and its queue. Publishing is pipelined: a relay
//! sends queued events as fast as its bucket allows without waiting for the previous `OK`
//! (answers are matched by event id), so a transfer of many events costs the pacing time, not
//! one round trip per event. A relay that answers `rate-limited:` has its rate halved and the
//! event retried later; the rate recovers slowly after accepted events.
//!
//! Bounds: connecting, the NIP-11 fetch and each `OK` wait are bounded by the configured
//! timeout; every incoming WebSocket message and frame by `max_message`; each relay's queue,
//! each subscription's channel and the deduplication memory by fixed counts. A relay that is
//! down never holds up the others: its share of a publish fails with `unreachable: …`.
//!
//! Subscriptions survive reconnections: the request is sent again with `since` moved back to
//! the newest `created_at` that relay delivered, less two days (gift wraps are backdated by up
//! to two days, SPEC.md §16.5) and a margin for clock skew; what comes twice is dropped by id.
//!
//! A subscription's channel is bounded: a relay task waits while it is full, so a caller that
//! publishes and subscribes on one task should keep draining its subscriptions.

mod nip11;
mod relay;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::event::Event;

use self::relay::{Command, Job, Probe, Settings, SubShared};

/// Events buffered for one subscription before the relay tasks wait for the reader.
/// (Wraps of file chunks are up to about 220 KB each: 16 of them are about 3.5 MB.)
const SUBSCRIPTION_BUFFER: usize = 16;

/// Commands waiting for one relay's task (its queue of unsent events is bounded separately).
const COMMAND_BUFFER: usize = 64;

/// How the pool talks to its relays.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Relay URLs (`ws://` or `wss://`).
    pub relays: Vec<String>,
    /// Events per second per relay to start with (`None`: unpaced until a relay answers
    /// `rate-limited:`). Clamped to 0.2–10,000.
    pub rate: Option<f64>,
    /// Token-bucket burst: how many events a relay gets at once (at least 1).
    pub burst: u32,
    /// Bound of connecting, of the NIP-11 fetch, and of each wait for an `OK`.
    pub timeout: Duration,
    /// Cap of one incoming WebSocket message and frame, in bytes.
    pub max_message: usize,
    /// The longest event assumed to pass a relay whose NIP-11 document gives no limit.
    pub default_max_event: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            relays: Vec::new(),
            rate: Some(5.0),
            burst: 5,
            timeout: Duration::from_secs(10),
            max_message: 1024 * 1024,
            default_max_event: 65_536,
        }
    }
}

/// What one relay says about itself (NIP-11) and whether it could be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayInfo {
    /// The relay URL as configured.
    pub url: String,
    /// Whether the first WebSocket connection succeeded.
    pub reachable: bool,
    /// NIP-11 `limitation.max_message_length`: the longest client message it takes.
    pub max_message_length: Option<usize>,
    /// NIP-11 `limitation.max_content_length`: the longest event content it takes.
    pub max_content_length: Option<usize>,
    /// NIP-11 `limitation.max_event_tags`.
    pub max_event_tags: Option<usize>,
    /// NIP-11 `name` (control characters replaced, shortened).
    pub name: Option<String>,
}

impl RelayInfo {
    /// The longest event JSON this relay is expected to take: its message limit less the
    /// `["EVENT",…]` framing, and no more than its content limit (the content is part of the
    /// event); `default` when it advertises neither.
    #[must_use]
    pub fn max_event_len(&self, default: usize) -> usize {
        let from_message = self
            .max_message_length
            .map(|m| m.saturating_sub(relay::EVENT_FRAMING));
        match (from_message, self.max_content_length) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => default,
        }
    }
}

/// The outcome of publishing one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The event id.
    pub id: [u8; 32],
    /// Relays that answered `OK true` (or said they already had it).
    pub accepted: Vec<String>,
    /// Relays that refused it or gave no answer, with why.
    pub rejected: Vec<(String, String)>,
}

/// A pool of relays; cheap to clone (all clones share the relay tasks).
#[derive(Debug, Clone)]
pub struct RelayPool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    links: Vec<Link>,
    default_max_event: usize,
    wait_for_probe: Duration,
    next_sub: AtomicU64,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
    shutdown_wait: Duration,
}

#[derive(Debug)]
struct Link {
    url: String,
    commands: mpsc::Sender<Command>,
    probe: watch::Receiver<Option<Probe>>,
}

impl RelayPool {
    /// Starts one task per relay on the current tokio runtime; each connects and fetches its
    /// NIP-11 document at once. Outside a runtime nothing runs and every relay is unreachable.
    #[must_use]
    pub fn new(config: PoolConfig) -> Self {
        let settings = Arc::new(Settings::from_config(&config));
        let http = reqwest::Client::builder()
            .user_agent(concat!("kez/", env!("CARGO_PKG_VERSION")))
            .timeout(settings.timeout)
            .build()
            .ok();
        let runtime = tokio::runtime::Handle::try_current().ok();
        let mut links = Vec::new();
        let mut tasks = Vec::new();
        for url in &config.relays {
            let (commands, receiver) = mpsc::channel(COMMAND_BUFFER);
            let (probe_tx, probe) = watch::channel(None);
            if let Some(runtime) = &runtime {
                let task = relay::RelayTask::new(
                    url.clone(),
                    Arc::clone(&settings),
                    receiver,
                    probe_tx,
                    http.clone(),
                );
                tasks.push(runtime.spawn(task.run()));
            } else {
                let _ = probe_tx.send(Some(Probe {
                    reachable: false,
                    nip11: None,
                }));
            }
            links.push(Link {
                url: url.clone(),
                commands,
                probe,
            });
        }
        Self {
            inner: Arc::new(Inner {
                links,
                default_max_event: config.default_max_event,
                // NIP-11 and the first connection run side by side, each within the timeout
                wait_for_probe: settings.timeout + Duration::from_secs(1),
                next_sub: AtomicU64::new(0),
                tasks: std::sync::Mutex::new(tasks),
                shutdown_wait: settings.timeout + Duration::from_secs(1),
            }),
        }
    }

    /// Each relay's NIP-11 limits and reachability, in configuration order (fetched once when
    /// the pool starts; this waits for that, bounded by the timeout).
    pub async fn info(&self) -> Vec<RelayInfo> {
        let wait = self.inner.wait_for_probe;
        let probes = self.inner.links.iter().map(|link| async move {
            let mut probe = link.probe.clone();
            let got = tokio::time::timeout(wait, probe.wait_for(Option::is_some))
                .await
                .ok()
                .and_then(Result::ok)
                .and_then(|p| p.clone());
            let (reachable, nip11) = got.map_or((false, None), |p| (p.reachable, p.nip11));
            let nip11 = nip11.unwrap_or_default();
            RelayInfo {
                url: link.url.clone(),
                reachable,
                max_message_length: nip11.max_message_length,
                max_content_length: nip11.max_content_length,
                max_event_tags: nip11.max_event_tags,
                name: nip11.name,
            }
        });
        futures_util::future::join_all(probes).await
    }

    /// The longest event JSON every reachable relay is expected to take (see
    /// [`RelayInfo::max_event_len`]); the configured default when none is reachable.
    pub async fn max_event_len(&self) -> usize {
        let default = self.inner.default_max_event;
        self.info()
            .await
            .iter()
            .filter(|info| info.reachable)
            .map(|info| info.max_event_len(default))
            .min()
            .unwrap_or(default)
    }

    /// Sends `event` to every relay, each paced by its bucket, and resolves once every relay
    /// has answered or failed (each within its pacing wait plus the timeout per attempt).
    pub async fn publish(&self, event: &Event) -> Published {
        let message: Arc<str> = format!("[\"EVENT\",{}]", event.to_json()).into();
        let id = event.id;
        let sends = self.inner.links.iter().map(|link| {
            let message = Arc::clone(&message);
            async move {
                let (reply, answer) = oneshot::channel();
                let job = Job { id, message, reply };
                let outcome = if link.commands.send(Command::Publish(job)).await.is_err() {
                    Err("unreachable: the pool is not running".to_owned())
                } else {
                    answer
                        .await
                        .unwrap_or_else(|_| Err("unreachable: the pool is not running".to_owned()))
                };
                (link.url.clone(), outcome)
            }
        });
        let mut published = Published {
            id,
            accepted: Vec::new(),
            rejected: Vec::new(),
        };
        for (url, outcome) in futures_util::future::join_all(sends).await {
            match outcome {
                Ok(()) => published.accepted.push(url),
                Err(reason) => published.rejected.push((url, reason)),
            }
        }
        published
    }

    /// Subscribes with one NIP-01 filter (a JSON object) on every relay. Relays that are down
    /// get the request when they come back.
    pub async fn subscribe(&self, filter: Value) -> Subscription {
        let n = self.inner.next_sub.fetch_add(1, Ordering::Relaxed);
        let mut tag = [0u8; 4];
        let _ = getrandom::fill(&mut tag);
        let id = format!("kez-{}-{n}", u32::from_le_bytes(tag));
        let shared = Arc::new(SubShared::new(id, filter));
        let (tx, rx) = mpsc::channel(SUBSCRIPTION_BUFFER);
        for link in &self.inner.links {
            let _ = link
                .commands
                .send(Command::Subscribe(Arc::clone(&shared), tx.clone()))
                .await;
        }
        Subscription { rx, shared }
    }

    /// Closes every relay connection and waits (bounded) for the relay tasks to end. Events
    /// still queued fail with "the pool is shutting down"; other clones stop working too.
    pub async fn shutdown(self) {
        for link in &self.inner.links {
            let _ = link.commands.send(Command::Shutdown).await;
        }
        let tasks = self
            .inner
            .tasks
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for mut task in tasks {
            if tokio::time::timeout(self.inner.shutdown_wait, &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

/// Verified events for one subscription from all relays, each id at most once.
#[derive(Debug)]
pub struct Subscription {
    rx: mpsc::Receiver<Event>,
    shared: Arc<SubShared>,
}

impl Subscription {
    /// The next event whose id and signature check, not seen before on this subscription;
    /// `None` once the pool has shut down.
    pub async fn next(&mut self) -> Option<Event> {
        self.rx.recv().await
    }

    /// The subscription id sent to the relays.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// How many times a relay has said `EOSE` (all stored events sent) for this subscription,
    /// counting again after each reconnection.
    #[must_use]
    pub fn eose_count(&self) -> usize {
        self.shared.eose.load(Ordering::Relaxed)
    }

    /// Events dropped because their id or signature did not check.
    #[must_use]
    pub fn invalid_count(&self) -> usize {
        self.shared.invalid.load(Ordering::Relaxed)
    }
}
