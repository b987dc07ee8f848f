//! Real nostr relays in this process: rust-nostr's `LocalRelay`, each with an in-memory database,
//! optionally holding events from the start (so that a benchmark needs no publishing round trip
//! and no relay rate limit applies to its setup).
//!
//! [`LocalRelays::start_with`] puts a small front on each relay's port that behaves like the
//! relays found in the wild: a size cap on events (strfry's 65,536, nostr-rs-relay's 131,072),
//! a per-relay rate limit answering `rate-limited:`, a lossy relay that says `OK true` and keeps
//! nothing, and a NIP-11 document with `limitation`. `LocalRelay` itself serves no NIP-11 (its
//! port only speaks WebSocket) and its rate limiter only counts whole seconds and ties the burst
//! to the per-minute rate, so the front does both; behind it the relay runs unlimited. The front
//! can be stopped and restarted on the same port while the relay behind it keeps its events.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use nostr_relay_builder::prelude::{
    Event, EventBuilder, Keys, Kind, LocalRelay, MemoryDatabase, MemoryDatabaseOptions,
    NostrDatabase as _, RateLimit, RelayBuilder, SecretKey, Tag, Timestamp,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::Task;

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

/// How a relay started by [`LocalRelays::start_with`] behaves.
#[derive(Debug, Clone, Default)]
pub struct RelayOptions {
    /// Refuse (`OK false "invalid: event too large …"`) events whose JSON is longer than this,
    /// like strfry (65,536) or nostr-rs-relay (131,072).
    pub max_event_bytes: Option<usize>,
    /// `(burst, per minute)`: a token bucket per relay (all connections together, as real
    /// relays count per IP); an event without a token gets `OK false "rate-limited: slow
    /// down"`. `None`: unlimited.
    pub rate_limit: Option<(u32, u32)>,
    /// Answer `OK true` to every k-th event but keep and forward nothing: a lossy relay.
    pub drop_every: Option<u32>,
    /// Advertise `limitation.max_message_length` in the NIP-11 document.
    pub nip11_max_message: Option<usize>,
    /// Answer an event over `max_event_bytes` with a `NOTICE` and no `OK`, as nostr-rs-relay
    /// does, instead of `OK false`.
    pub silent_oversize: bool,
}

/// What a limited relay's front did with the events it was sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// `EVENT` messages received.
    pub received: u64,
    /// Refused as too large.
    pub too_large: u64,
    /// Refused as rate-limited.
    pub rate_limited: u64,
    /// Answered `OK true` and dropped.
    pub dropped: u64,
    /// Passed to the relay.
    pub forwarded: u64,
}

/// Running relays; they stop when dropped.
#[derive(Debug)]
pub struct LocalRelays {
    /// Their `ws://127.0.0.1:PORT` URLs.
    pub urls: Vec<String>,
    relays: Vec<LocalRelay>,
    fronts: Vec<Option<Front>>,
}

impl LocalRelays {
    /// Starts `count` relays, each holding `events`.
    pub async fn start(count: usize, events: &[Event]) -> Self {
        let mut urls = Vec::new();
        let mut relays = Vec::new();
        for _ in 0..count {
            let relay =
                running(|| async { RelayBuilder::default().database(database(events).await) })
                    .await;
            urls.push(relay.url().await.to_string());
            relays.push(relay);
        }
        let fronts = relays.iter().map(|_| None).collect();
        Self {
            urls,
            relays,
            fronts,
        }
    }

    /// Starts `count` empty relays behaving as `options` says, each serving NIP-11.
    pub async fn start_with(count: usize, options: RelayOptions) -> Self {
        let mut urls = Vec::new();
        let mut relays = Vec::new();
        let mut fronts = Vec::new();
        for i in 0..count {
            let unlimited = RateLimit {
                max_reqs: 500,
                notes_per_minute: u32::MAX,
            };
            let relay = running(|| async {
                RelayBuilder::default()
                    .database(database(&[]).await)
                    .rate_limit(unlimited.clone())
            })
            .await;
            let backend = relay.url().await.to_string();
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let rules = Arc::new(Rules {
                name: format!("kez-testkit relay {i}"),
                options: options.clone(),
                bucket: Mutex::new(
                    options
                        .rate_limit
                        .map(|(burst, _)| (f64::from(burst), Instant::now())),
                ),
                counter: AtomicU64::new(0),
                stats: Mutex::new(RelayStats::default()),
            });
            let front = Front {
                addr,
                backend,
                rules,
                running: Mutex::new(None),
            };
            front.serve(listener);
            urls.push(format!("ws://{addr}"));
            relays.push(relay);
            fronts.push(Some(front));
        }
        Self {
            urls,
            relays,
            fronts,
        }
    }

    /// Stops relay `i`: its port closes and open connections drop without a close frame. A
    /// relay started by [`LocalRelays::start_with`] keeps its events for [`LocalRelays::restart`].
    pub fn stop(&self, i: usize) {
        match self.fronts.get(i) {
            Some(Some(front)) => front.stop(),
            _ => {
                if let Some(r) = self.relays.get(i) {
                    r.shutdown();
                }
            }
        }
    }

    /// Starts relay `i` again on the same port (after [`LocalRelays::stop`]).
    pub async fn restart(&self, i: usize) {
        for _ in 0..100 {
            match self.fronts.get(i) {
                Some(Some(front)) => {
                    front.stop();
                    if let Ok(listener) = TcpListener::bind(front.addr).await {
                        front.serve(listener);
                        return;
                    }
                }
                _ => {
                    if self.relays[i].run().await.is_ok() {
                        return;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("relay {i} cannot listen on its port again");
    }

    /// What relay `i`'s front did so far (all zero for relays from [`LocalRelays::start`]).
    #[must_use]
    pub fn stats(&self, i: usize) -> RelayStats {
        match self.fronts.get(i) {
            Some(Some(front)) => *front.rules.stats.lock().unwrap(),
            _ => RelayStats::default(),
        }
    }
}

/// A started relay. The builder picks a free port and binds it a moment later, so a test
/// running beside others can lose the port in between (`AddrInUse`): then it tries again.
async fn running<F, B>(builder: B) -> LocalRelay
where
    B: Fn() -> F,
    F: std::future::Future<Output = RelayBuilder>,
{
    let mut attempts = 0;
    loop {
        let relay = LocalRelay::new(builder().await);
        match relay.run().await {
            Ok(()) => return relay,
            Err(e) if attempts < 20 => {
                attempts += 1;
                let _ = e;
            }
            Err(e) => panic!("no relay after {attempts} attempts: {e}"),
        }
    }
}

async fn database(events: &[Event]) -> MemoryDatabase {
    let db = MemoryDatabase::with_opts(MemoryDatabaseOptions {
        events: true,
        max_events: Some(100_000),
    });
    for event in events {
        db.save_event(event).await.unwrap();
    }
    db
}

#[derive(Debug)]
struct Rules {
    name: String,
    options: RelayOptions,
    /// Tokens and when they were last counted.
    bucket: Mutex<Option<(f64, Instant)>>,
    counter: AtomicU64,
    stats: Mutex<RelayStats>,
}

/// What the front does with one `EVENT`.
enum Verdict {
    Forward,
    Answer(bool, String),
    Notice(String),
}

impl Rules {
    fn judge(&self, event: &Value) -> Verdict {
        let mut stats = self.stats.lock().unwrap();
        stats.received += 1;
        if let Some(max) = self.options.max_event_bytes {
            let len = event.to_string().len();
            if len > max {
                stats.too_large += 1;
                if self.options.silent_oversize {
                    return Verdict::Notice(format!("event too large ({len} > {max} bytes)"));
                }
                return Verdict::Answer(
                    false,
                    format!("invalid: event too large ({len} > {max} bytes)"),
                );
            }
        }
        if let Some((burst, per_minute)) = self.options.rate_limit {
            let mut bucket = self.bucket.lock().unwrap();
            let (tokens, last) = bucket.get_or_insert((f64::from(burst), Instant::now()));
            let now = Instant::now();
            *tokens = (*tokens
                + now.duration_since(*last).as_secs_f64() * f64::from(per_minute) / 60.0)
                .min(f64::from(burst));
            *last = now;
            if *tokens < 1.0 {
                stats.rate_limited += 1;
                return Verdict::Answer(false, "rate-limited: slow down".to_owned());
            }
            *tokens -= 1.0;
        }
        if let Some(k) = self.options.drop_every.filter(|k| *k > 0) {
            let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
            if n % u64::from(k) == 0 {
                stats.dropped += 1;
                return Verdict::Answer(true, String::new());
            }
        }
        stats.forwarded += 1;
        Verdict::Forward
    }

    fn nip11(&self) -> String {
        let mut limitation = serde_json::Map::new();
        if let Some(max) = self.options.nip11_max_message {
            limitation.insert("max_message_length".to_owned(), json!(max));
        }
        json!({
            "name": self.name,
            "description": "a local test relay",
            "software": "kez-testkit",
            "supported_nips": [1, 11],
            "limitation": limitation,
        })
        .to_string()
    }
}

#[derive(Debug)]
struct Front {
    addr: SocketAddr,
    backend: String,
    rules: Arc<Rules>,
    running: Mutex<Option<(Task, watch::Sender<bool>)>>,
}

impl Front {
    fn serve(&self, listener: TcpListener) {
        let (stop_tx, stop) = watch::channel(false);
        let rules = Arc::clone(&self.rules);
        let backend = self.backend.clone();
        let accept = tokio::spawn(async move {
            let mut stopped = stop.clone();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        if let Ok((stream, _)) = accepted {
                            let rules = Arc::clone(&rules);
                            let backend = backend.clone();
                            let mut stop = stop.clone();
                            tokio::spawn(async move {
                                tokio::select! {
                                    () = connection(stream, &rules, &backend) => {}
                                    _ = stop.wait_for(|s| *s) => {}
                                }
                            });
                        }
                    }
                    _ = stopped.wait_for(|s| *s) => break,
                }
            }
        });
        *self.running.lock().unwrap() = Some((Task::new(accept), stop_tx));
    }

    fn stop(&self) {
        if let Some((task, stop)) = self.running.lock().unwrap().take() {
            let _ = stop.send(true);
            task.stop();
        }
    }
}

/// One client connection: NIP-11 over plain HTTP, or a WebSocket proxied to the relay with
/// the rules applied to `EVENT` messages.
async fn connection(mut stream: TcpStream, rules: &Rules, backend: &str) {
    let mut head = Vec::new();
    let end = loop {
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let mut buf = [0u8; 4096];
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await;
        match read {
            Ok(Ok(n)) if n > 0 && head.len() + n <= 16 * 1024 => head.extend_from_slice(&buf[..n]),
            _ => return,
        }
    };
    let rest = head.split_off(end);
    let text = String::from_utf8_lossy(&head).into_owned();
    let header = |name: &str| {
        text.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let upgrade = header("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    let Some(key) = header("sec-websocket-key").filter(|_| upgrade) else {
        let wants_nip11 = header("accept").is_some_and(|a| a.contains("application/nostr+json"));
        let (kind, body) = if wants_nip11 {
            ("application/nostr+json", rules.nip11())
        } else {
            (
                "text/plain",
                "a nostr relay: connect with a WebSocket".to_owned(),
            )
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\naccess-control-allow-origin: *\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
        return;
    };
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    if stream.write_all(response.as_bytes()).await.is_err() {
        return;
    }
    let config = WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let mut client =
        WebSocketStream::from_partially_read(stream, rest, Role::Server, Some(config)).await;
    let Ok((mut relay, _)) = tokio_tungstenite::connect_async(backend).await else {
        return;
    };
    loop {
        tokio::select! {
            from_client = client.next() => {
                let Some(Ok(message)) = from_client else { break };
                let Message::Text(text) = &message else {
                    if message.is_close() { break }
                    continue;
                };
                let value: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                let event = (value.get(0).and_then(Value::as_str) == Some("EVENT"))
                    .then(|| value.get(1))
                    .flatten()
                    .filter(|e| e.is_object());
                let verdict = event.map_or(Verdict::Forward, |e| rules.judge(e));
                match verdict {
                    Verdict::Forward => {
                        if relay.send(message).await.is_err() { break }
                    }
                    Verdict::Answer(accepted, reason) => {
                        let id = event.and_then(|e| e.get("id")).cloned().unwrap_or(Value::Null);
                        let ok = json!(["OK", id, accepted, reason]).to_string();
                        if client.send(Message::text(ok)).await.is_err() { break }
                    }
                    Verdict::Notice(text) => {
                        let notice = json!(["NOTICE", text]).to_string();
                        if client.send(Message::text(notice)).await.is_err() { break }
                    }
                }
            }
            from_relay = relay.next() => {
                let Some(Ok(message)) = from_relay else { break };
                if message.is_text() && client.send(message).await.is_err() { break }
            }
        }
    }
}
