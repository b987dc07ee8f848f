//! One relay's task: its WebSocket, its token bucket, its queue of events to send, the events
//! waiting for an `OK`, and the subscriptions it serves.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt as _, StreamExt as _};
use kez_nostr::wire::{self, RelayMessage};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::header::{HeaderValue, USER_AGENT};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::PoolConfig;
use super::nip11::{self, Nip11};
use crate::event::Event;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Bytes a client message adds around an event: `["EVENT",` and `]`.
pub(crate) const EVENT_FRAMING: usize = 10;

/// Events queued or waiting for an `OK` on one relay; callers wait beyond that.
const QUEUE_CAP: usize = 256;
/// Events sent and not yet answered on one relay.
const MAX_IN_FLIGHT: usize = 128;
/// Attempts per event (the first send, then retries after `rate-limited:` or a lost connection).
const MAX_ATTEMPTS: u32 = 10;
/// Slowest pace a rate-limited relay is brought down to, events per second.
const RATE_FLOOR: f64 = 0.2;
/// Fastest configurable pace; an unpaced relay that was once rate-limited goes back to
/// unpaced when its recovered rate passes this.
const RATE_CEILING: f64 = 10_000.0;
/// Growth of the rate after each accepted event, after a cut.
const RATE_RECOVERY: f64 = 1.05;
/// Rate assumed for an unpaced relay when it first says `rate-limited:` (before halving).
const UNPACED_START: f64 = 5.0;
/// Reconnection backoff: first delay, cap.
const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(60);
/// Subscriptions served per relay.
const MAX_SUBSCRIPTIONS: usize = 32;
/// Event ids remembered per subscription for deduplication.
const DEDUPE_CAP: usize = 100_000;
/// How far gift wraps may be backdated (SPEC.md §16.5), and the margin for clock skew.
const BACKDATE: u64 = 2 * 24 * 60 * 60;
const SKEW_MARGIN: u64 = 15 * 60;

/// The pool's configuration, normalized.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) rate: Option<f64>,
    pub(crate) burst: f64,
    pub(crate) timeout: Duration,
    pub(crate) max_message: usize,
    tls: Result<Arc<rustls::ClientConfig>, String>,
}

impl Settings {
    pub(crate) fn from_config(config: &PoolConfig) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|builder| {
                let roots = rustls::RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                };
                Arc::new(builder.with_root_certificates(roots).with_no_client_auth())
            })
            .map_err(|e| format!("no TLS configuration ({e})"));
        let rate = config.rate.map(|r| {
            if r.is_nan() {
                UNPACED_START
            } else {
                r.clamp(RATE_FLOOR, RATE_CEILING)
            }
        });
        Self {
            rate,
            burst: f64::from(config.burst.max(1)),
            timeout: config.timeout.max(Duration::from_millis(1)),
            max_message: config.max_message.max(1024),
            tls,
        }
    }
}

/// The relay's first connection attempt and NIP-11 document.
#[derive(Debug, Clone)]
pub(crate) struct Probe {
    pub(crate) reachable: bool,
    pub(crate) nip11: Option<Nip11>,
}

/// One event for one relay, with where to send the relay's answer.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) id: [u8; 32],
    pub(crate) message: Arc<str>,
    pub(crate) reply: oneshot::Sender<Result<(), String>>,
}

/// What the pool asks of a relay task.
#[derive(Debug)]
pub(crate) enum Command {
    Publish(Job),
    Subscribe(Arc<SubShared>, mpsc::Sender<Event>),
    Shutdown,
}

/// A subscription as all relay tasks share it.
#[derive(Debug)]
pub(crate) struct SubShared {
    pub(crate) id: String,
    filter: Value,
    seen: Mutex<Seen>,
    pub(crate) eose: AtomicUsize,
    pub(crate) invalid: AtomicUsize,
}

impl SubShared {
    pub(crate) fn new(id: String, filter: Value) -> Self {
        Self {
            id,
            filter,
            seen: Mutex::new(Seen::default()),
            eose: AtomicUsize::new(0),
            invalid: AtomicUsize::new(0),
        }
    }

    /// The event if it checks and was not delivered before.
    fn admit(&self, value: &Value) -> Option<Event> {
        // a known id was verified when first seen: skip the signature check for repeats
        let claimed = value.get("id").and_then(Value::as_str);
        if let (Some(claimed), Ok(seen)) = (claimed, self.seen.lock()) {
            if seen.contains_hex(claimed) {
                return None;
            }
        }
        let Ok(event) = Event::from_value(value) else {
            self.invalid.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let mut seen = self.seen.lock().ok()?;
        seen.insert(event.id).then_some(event)
    }
}

/// A bounded set of ids: the oldest is forgotten first.
#[derive(Debug, Default)]
struct Seen {
    set: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
}

impl Seen {
    /// True when the id is new.
    fn insert(&mut self, id: [u8; 32]) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > DEDUPE_CAP {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }

    fn contains_hex(&self, hex: &str) -> bool {
        let mut id = [0u8; 32];
        let digits = hex.as_bytes();
        if digits.len() != 64 {
            return false;
        }
        for (byte, pair) in id.iter_mut().zip(digits.chunks_exact(2)) {
            let (Some(hi), Some(lo)) = (
                pair.first().and_then(|c| char::from(*c).to_digit(16)),
                pair.get(1).and_then(|c| char::from(*c).to_digit(16)),
            ) else {
                return false;
            };
            *byte = u8::try_from(hi * 16 + lo).unwrap_or(0);
        }
        self.set.contains(&id)
    }
}

/// A subscription on this relay.
#[derive(Debug)]
struct SubHere {
    shared: Arc<SubShared>,
    tx: mpsc::Sender<Event>,
    /// This relay has sent all its stored events for it at least once.
    eosed: bool,
    /// Newest `created_at` this relay delivered for it.
    newest: u64,
}

/// An event on its way to this relay.
#[derive(Debug)]
struct Pending {
    seq: u64,
    id: [u8; 32],
    message: Arc<str>,
    replies: Vec<oneshot::Sender<Result<(), String>>>,
    attempts: u32,
    sent_at: Instant,
    deadline: Instant,
}

impl Pending {
    fn finish(self, outcome: &Result<(), String>) {
        for reply in self.replies {
            let _ = reply.send(outcome.clone());
        }
    }
}

/// Per-relay pacing: a token bucket whose rate is cut when the relay says `rate-limited:`.
#[derive(Debug)]
struct Bucket {
    /// Current rate; `None`: unpaced.
    rate: Option<f64>,
    /// The configured rate, the most recovery goes back to.
    ceiling: Option<f64>,
    burst: f64,
    tokens: f64,
    last: Instant,
    hold_until: Option<Instant>,
    last_cut: Option<Instant>,
}

impl Bucket {
    fn new(rate: Option<f64>, burst: f64, now: Instant) -> Self {
        Self {
            rate,
            ceiling: rate,
            burst,
            tokens: burst,
            last: now,
            hold_until: None,
            last_cut: None,
        }
    }

    fn refill(&mut self, now: Instant) {
        if let Some(rate) = self.rate {
            let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * rate).min(self.burst);
        }
        self.last = now;
    }

    /// When the next event may go.
    fn ready_at(&mut self, now: Instant) -> Instant {
        if let Some(hold) = self.hold_until {
            if hold > now {
                return hold;
            }
            self.hold_until = None;
        }
        self.refill(now);
        match self.rate {
            Some(rate) if self.tokens < 1.0 => {
                now + Duration::from_secs_f64(((1.0 - self.tokens) / rate).min(60.0))
            }
            _ => now,
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        if self.ready_at(now) > now {
            return false;
        }
        if self.rate.is_some() {
            self.tokens -= 1.0;
        }
        true
    }

    /// The relay refused an event sent at `sent_at` as rate-limited: halve the rate once per
    /// burst of such answers (events sent before the last cut do not cut again) and pause.
    fn limited(&mut self, sent_at: Instant, now: Instant) {
        if self.last_cut.is_none_or(|cut| sent_at >= cut) {
            let rate = self.rate.unwrap_or(UNPACED_START);
            self.rate = Some((rate / 2.0).max(RATE_FLOOR));
            self.last_cut = Some(now);
        }
        self.tokens = 0.0;
        self.last = now;
        let rate = self.rate.unwrap_or(RATE_FLOOR);
        self.hold_until = Some(now + Duration::from_secs_f64(1.0 / rate));
    }

    fn accepted(&mut self, now: Instant) {
        if self.last_cut.is_none() {
            return;
        }
        self.refill(now);
        if let Some(rate) = self.rate {
            let grown = rate * RATE_RECOVERY;
            self.rate = match self.ceiling {
                Some(ceiling) if grown >= ceiling => {
                    self.last_cut = None;
                    Some(ceiling)
                }
                Some(_) => Some(grown),
                None if grown > RATE_CEILING => {
                    self.last_cut = None;
                    None
                }
                None => Some(grown),
            };
        }
    }
}

/// Why the relay has no connection, and when to try again.
#[derive(Debug)]
struct Down {
    reason: String,
    retry_at: Instant,
    /// The last connection attempt failed (rather than an open connection being lost).
    connect_failed: bool,
}

/// The task of one relay.
#[derive(Debug)]
pub(crate) struct RelayTask {
    url: String,
    settings: Arc<Settings>,
    commands: mpsc::Receiver<Command>,
    probe: watch::Sender<Option<Probe>>,
    http: Option<reqwest::Client>,
    ws: Option<Socket>,
    down: Option<Down>,
    failures: u32,
    lost_at: Option<u64>,
    nip11: Option<Nip11>,
    queue: VecDeque<Pending>,
    in_flight: HashMap<[u8; 32], Pending>,
    bucket: Bucket,
    subs: Vec<SubHere>,
    notice: Option<String>,
    seq: u64,
}

/// What one read from the socket gave.
enum Read {
    Message(Message),
    Lost(String),
}

impl RelayTask {
    pub(crate) fn new(
        url: String,
        settings: Arc<Settings>,
        commands: mpsc::Receiver<Command>,
        probe: watch::Sender<Option<Probe>>,
        http: Option<reqwest::Client>,
    ) -> Self {
        let now = Instant::now();
        Self {
            bucket: Bucket::new(settings.rate, settings.burst, now),
            url,
            settings,
            commands,
            probe,
            http,
            ws: None,
            down: None,
            failures: 0,
            lost_at: None,
            nip11: None,
            queue: VecDeque::new(),
            in_flight: HashMap::new(),
            subs: Vec::new(),
            notice: None,
            seq: 0,
        }
    }

    pub(crate) async fn run(mut self) {
        let fetch = async {
            match &self.http {
                Some(client) => nip11::fetch(client, &self.url, self.settings.timeout).await,
                None => None,
            }
        };
        let (nip11, connected) = tokio::join!(fetch, open(&self.url, &self.settings));
        self.nip11 = nip11.clone();
        let reachable = connected.is_ok();
        self.opened(connected).await;
        let _ = self.probe.send(Some(Probe { reachable, nip11 }));

        loop {
            self.pump().await;
            let wake = self.next_wake();
            let room = self.queue.len() + self.in_flight.len() < QUEUE_CAP;
            tokio::select! {
                command = self.commands.recv(), if room => match command {
                    None | Some(Command::Shutdown) => break,
                    Some(Command::Publish(job)) => self.publish(job).await,
                    Some(Command::Subscribe(shared, tx)) => self.subscribe(shared, tx).await,
                },
                read = read(&mut self.ws, self.settings.max_message) => match read {
                    Read::Message(message) => self.incoming(message).await,
                    Read::Lost(reason) => self.lost(reason),
                },
                () = sleep_until(wake) => self.timers().await,
            }
        }
        let left = Err("unreachable: the pool is shutting down".to_owned());
        self.fail_all(&left);
        if let Some(mut ws) = self.ws.take() {
            let _ = timeout(self.settings.timeout, ws.close(None)).await;
        }
    }

    /// Sends queued events while the bucket allows and the connection is up.
    async fn pump(&mut self) {
        while self.ws.is_some() && self.in_flight.len() < MAX_IN_FLIGHT {
            let now = Instant::now();
            if self.queue.is_empty() || !self.bucket.take(now) {
                return;
            }
            let Some(mut pending) = self.queue.pop_front() else {
                return;
            };
            pending.attempts += 1;
            pending.sent_at = now;
            pending.deadline = now + self.settings.timeout;
            let text = pending.message.to_string();
            self.in_flight.insert(pending.id, pending);
            if let Err(reason) = self.send(text).await {
                self.lost(reason);
                return;
            }
        }
    }

    fn next_wake(&mut self) -> Instant {
        let now = Instant::now();
        let mut wake = now + Duration::from_secs(3600);
        if self.ws.is_some() && !self.queue.is_empty() && self.in_flight.len() < MAX_IN_FLIGHT {
            wake = wake.min(self.bucket.ready_at(now));
        }
        for pending in self.in_flight.values() {
            wake = wake.min(pending.deadline);
        }
        if let (None, Some(down)) = (&self.ws, &self.down) {
            wake = wake.min(down.retry_at);
        }
        wake
    }

    async fn timers(&mut self) {
        let now = Instant::now();
        let late: Vec<[u8; 32]> = self
            .in_flight
            .values()
            .filter(|p| p.deadline <= now)
            .map(|p| p.id)
            .collect();
        for id in late {
            if let Some(pending) = self.in_flight.remove(&id) {
                let mut reason = format!("no OK within {} ms", self.settings.timeout.as_millis());
                if let Some(notice) = &self.notice {
                    reason.push_str(&format!("; last NOTICE \"{notice}\""));
                }
                pending.finish(&Err(reason));
            }
        }
        let due = match (&self.ws, &self.down) {
            (None, Some(down)) => down.retry_at <= now,
            _ => false,
        };
        if due {
            self.reconnect().await;
        }
    }

    async fn reconnect(&mut self) {
        let opened = open(&self.url, &self.settings).await;
        self.opened(opened).await;
    }

    /// Takes the outcome of a connection attempt.
    async fn opened(&mut self, opened: Result<Socket, String>) {
        match opened {
            Ok(ws) => {
                self.ws = Some(ws);
                self.down = None;
                self.notice = None;
                let requests: Vec<String> = self
                    .subs
                    .iter()
                    .filter(|s| !s.tx.is_closed())
                    .map(|s| self.request(s))
                    .collect();
                for request in requests {
                    if let Err(reason) = self.send(request).await {
                        self.lost(reason);
                        return;
                    }
                }
            }
            Err(reason) => {
                let retry_at = Instant::now() + backoff(self.failures);
                self.failures = self.failures.saturating_add(1);
                let outcome = Err(format!("unreachable: {reason}"));
                self.fail_all(&outcome);
                self.down = Some(Down {
                    reason,
                    retry_at,
                    connect_failed: true,
                });
            }
        }
    }

    /// The open connection failed: events waiting for an `OK` go back to the queue and the
    /// next attempt is at once the first time, later after a growing delay.
    fn lost(&mut self, reason: String) {
        self.ws = None;
        self.lost_at = Some(unix_now());
        let delay = if self.failures == 0 {
            Duration::ZERO
        } else {
            backoff(self.failures)
        };
        self.failures = self.failures.saturating_add(1);
        let mut back: Vec<Pending> = self.in_flight.drain().map(|(_, p)| p).collect();
        back.sort_by_key(|p| p.seq);
        for pending in back.into_iter().rev() {
            if pending.attempts >= MAX_ATTEMPTS {
                pending.finish(&Err(format!("connection lost ({reason})")));
            } else {
                self.queue.push_front(pending);
            }
        }
        if delay > self.settings.timeout {
            let outcome = Err(format!("unreachable: connection lost ({reason})"));
            self.fail_all(&outcome);
        }
        self.down = Some(Down {
            reason: format!("connection lost ({reason})"),
            retry_at: Instant::now() + delay,
            connect_failed: false,
        });
    }

    fn fail_all(&mut self, outcome: &Result<(), String>) {
        for pending in self.queue.drain(..) {
            pending.finish(outcome);
        }
        for (_, pending) in self.in_flight.drain() {
            pending.finish(outcome);
        }
    }

    async fn publish(&mut self, job: Job) {
        if let Some(limit) = self.nip11.as_ref().and_then(|n| n.max_message_length) {
            if job.message.len() > limit {
                let _ = job.reply.send(Err(format!(
                    "too large for this relay ({} bytes, its NIP-11 limit is {limit})",
                    job.message.len()
                )));
                return;
            }
        }
        // the same event twice: one send, both callers answered
        if let Some(pending) = self.in_flight.get_mut(&job.id) {
            pending.replies.push(job.reply);
            return;
        }
        if let Some(pending) = self.queue.iter_mut().find(|p| p.id == job.id) {
            pending.replies.push(job.reply);
            return;
        }
        if self.ws.is_none() {
            let now = Instant::now();
            match &self.down {
                Some(down) if down.connect_failed && now < down.retry_at => {
                    let _ = job.reply.send(Err(format!("unreachable: {}", down.reason)));
                    return;
                }
                _ => {}
            }
        }
        self.seq += 1;
        let now = Instant::now();
        self.queue.push_back(Pending {
            seq: self.seq,
            id: job.id,
            message: job.message,
            replies: vec![job.reply],
            attempts: 0,
            sent_at: now,
            deadline: now,
        });
        if self.ws.is_none() {
            self.reconnect().await;
        }
    }

    async fn subscribe(&mut self, shared: Arc<SubShared>, tx: mpsc::Sender<Event>) {
        self.subs.retain(|s| !s.tx.is_closed());
        if self.subs.len() >= MAX_SUBSCRIPTIONS {
            return;
        }
        let here = SubHere {
            shared,
            tx,
            eosed: false,
            newest: 0,
        };
        let request = self.request(&here);
        self.subs.push(here);
        if self.ws.is_some() {
            if let Err(reason) = self.send(request).await {
                self.lost(reason);
            }
        }
    }

    /// The `REQ` for a subscription: after this relay has served its stored events once,
    /// `since` moves up to the newest event it delivered (or the time the connection was
    /// lost), less the backdating window and a margin.
    fn request(&self, sub: &SubHere) -> String {
        let mut filter = sub.shared.filter.clone();
        if sub.eosed {
            let last = self.lost_at.unwrap_or_else(unix_now);
            let newest = if sub.newest == 0 {
                last
            } else {
                sub.newest.min(last)
            };
            let resume = newest.saturating_sub(BACKDATE + SKEW_MARGIN);
            if let Value::Object(members) = &mut filter {
                let since = members
                    .get("since")
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
                    .max(resume);
                members.insert("since".to_owned(), Value::from(since));
            }
        }
        serde_json::json!(["REQ", sub.shared.id, filter]).to_string()
    }

    async fn incoming(&mut self, message: Message) {
        let text = match message {
            Message::Text(text) => text,
            // pings are answered by the WebSocket layer; binary frames mean nothing here
            _ => return,
        };
        let Some(message) = wire::parse(text.as_str()).ok().filter(acted_on) else {
            return;
        };
        self.failures = 0;
        match message {
            RelayMessage::Ok {
                id,
                accepted,
                message,
            } => {
                if let Some(id) = wire::decode_id(&id) {
                    self.answered(id, accepted, &message);
                }
            }
            RelayMessage::Notice(text) => self.notice = Some(wire::quoted(&text)),
            RelayMessage::Event { sub, event } => self.event(&sub, &event).await,
            RelayMessage::Eose { sub } => {
                if let Some(here) = self.subs.iter_mut().find(|s| s.shared.id == sub) {
                    here.eosed = true;
                    here.shared.eose.fetch_add(1, Ordering::Relaxed);
                }
            }
            RelayMessage::Closed { sub, .. } => {
                // refused here; asked again after the next reconnection
                let _ = sub;
            }
            RelayMessage::Other => {}
        }
    }

    fn answered(&mut self, id: [u8; 32], accepted: bool, message: &str) {
        let Some(mut pending) = self.in_flight.remove(&id) else {
            return;
        };
        let now = Instant::now();
        if accepted || message.starts_with("duplicate:") {
            self.bucket.accepted(now);
            pending.finish(&Ok(()));
        } else if message.starts_with("rate-limited:") {
            self.bucket.limited(pending.sent_at, now);
            if pending.attempts >= MAX_ATTEMPTS {
                pending.finish(&Err(format!(
                    "{} (gave up after {MAX_ATTEMPTS} attempts)",
                    wire::quoted(message)
                )));
            } else {
                pending.deadline = now;
                let at = self.queue.partition_point(|p| p.seq < pending.seq);
                self.queue.insert(at, pending);
            }
        } else if message.is_empty() {
            pending.finish(&Err("refused without a reason".to_owned()));
        } else {
            pending.finish(&Err(wire::quoted(message)));
        }
    }

    async fn event(&mut self, sub: &str, value: &Value) {
        let Some(index) = self.subs.iter().position(|s| s.shared.id == sub) else {
            return;
        };
        let Some(here) = self.subs.get_mut(index) else {
            return;
        };
        if here.tx.is_closed() {
            self.subs.remove(index);
            let close = serde_json::json!(["CLOSE", sub]).to_string();
            if let Err(reason) = self.send(close).await {
                self.lost(reason);
            }
            return;
        }
        if let Some(created_at) = value.get("created_at").and_then(Value::as_u64) {
            if created_at <= unix_now() + SKEW_MARGIN {
                here.newest = here.newest.max(created_at);
            }
        }
        if let Some(event) = here.shared.admit(value) {
            let _ = here.tx.send(event).await;
        }
    }

    async fn send(&mut self, text: String) -> Result<(), String> {
        let Some(ws) = self.ws.as_mut() else {
            return Err("not connected".to_owned());
        };
        match timeout(self.settings.timeout, ws.send(Message::text(text))).await {
            Err(_) => Err(format!(
                "timed out sending (more than {} ms)",
                self.settings.timeout.as_millis()
            )),
            Ok(Err(e)) => Err(format!(
                "cannot send ({})",
                ws_error(&e, self.settings.max_message)
            )),
            Ok(Ok(())) => Ok(()),
        }
    }
}

/// The next message, or why the connection is over; pending forever without a connection.
async fn read(ws: &mut Option<Socket>, cap: usize) -> Read {
    let Some(socket) = ws.as_mut() else {
        return std::future::pending().await;
    };
    match socket.next().await {
        None | Some(Ok(Message::Close(_))) => {
            Read::Lost("the relay closed the connection".to_owned())
        }
        Some(Err(e)) => Read::Lost(ws_error(&e, cap)),
        Some(Ok(message)) => Read::Message(message),
    }
}

/// Opens the WebSocket (TCP, TLS for `wss://`, the HTTP upgrade), bounded by the timeout.
async fn open(url: &str, settings: &Settings) -> Result<Socket, String> {
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or_default();
    let connector = if scheme.eq_ignore_ascii_case("wss") {
        Connector::Rustls(Arc::clone(settings.tls.as_ref().map_err(Clone::clone)?))
    } else if scheme.eq_ignore_ascii_case("ws") {
        Connector::Plain
    } else {
        return Err("not a ws:// or wss:// URL".to_owned());
    };
    let mut request = url
        .into_client_request()
        .map_err(|e| format!("bad relay URL ({e})"))?;
    request.headers_mut().insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("kez/", env!("CARGO_PKG_VERSION"))),
    );
    let config = WebSocketConfig::default()
        .max_message_size(Some(settings.max_message))
        .max_frame_size(Some(settings.max_message));
    let connecting = tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(config),
        true,
        Some(connector),
    );
    match timeout(settings.timeout, connecting).await {
        Err(_) => Err(format!(
            "timed out (no WebSocket connection within {} ms)",
            settings.timeout.as_millis()
        )),
        Ok(Err(e)) => Err(handshake_error(&e)),
        Ok(Ok((ws, _))) => Ok(ws),
    }
}

/// Whether the pool acts on a parsed message: an `OK` must name its event by 64 hex digits
/// (either case, as relays differ); one that does not is ignored like text that does not parse.
fn acted_on(message: &RelayMessage) -> bool {
    !matches!(message, RelayMessage::Ok { id, .. } if wire::decode_id(id).is_none())
}

/// Delay before reconnection attempt `failures + 1`: doubling from the base up to the cap,
/// then between 75 % and 125 % of that so many clients do not come back at once.
fn backoff(failures: u32) -> Duration {
    let doubled = BACKOFF_BASE.saturating_mul(1u32 << failures.min(16));
    let delay = doubled.min(BACKOFF_CAP);
    let mut byte = [0u8; 1];
    let spread = if getrandom::fill(&mut byte).is_ok() {
        0.75 + f64::from(byte[0]) / 510.0
    } else {
        1.0
    };
    delay.mul_f64(spread)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn ws_error(e: &tungstenite::Error, cap: usize) -> String {
    match e {
        tungstenite::Error::Capacity(_) => format!("message too large (more than {cap} bytes)"),
        tungstenite::Error::Utf8 => "malformed message (not UTF-8)".to_owned(),
        tungstenite::Error::Protocol(p) => format!("WebSocket protocol error ({p})"),
        tungstenite::Error::Io(io) => format!("connection failed ({io})"),
        other => format!("WebSocket error ({other})"),
    }
}

fn handshake_error(e: &tungstenite::Error) -> String {
    match e {
        tungstenite::Error::Http(response) => {
            let status = response.status().as_u16();
            if status == 429 {
                "rate limited (HTTP 429)".to_owned()
            } else {
                format!("HTTP {status} instead of a WebSocket upgrade")
            }
        }
        tungstenite::Error::Io(io) => format!("cannot connect ({io})"),
        tungstenite::Error::Tls(tls) => format!("TLS failed ({tls})"),
        tungstenite::Error::Url(url) => format!("bad relay URL ({url})"),
        other => format!("WebSocket handshake failed ({other})"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::cast_possible_truncation,
        clippy::unwrap_used
    )]
    use super::{BACKOFF_CAP, Bucket, Seen, acted_on, backoff};
    use kez_nostr::wire::parse;
    use std::time::Duration;
    use tokio::time::Instant;

    #[test]
    fn bucket_paces_after_the_burst() {
        let t0 = Instant::now();
        let mut bucket = Bucket::new(Some(10.0), 2.0, t0);
        assert!(bucket.take(t0));
        assert!(bucket.take(t0));
        assert!(!bucket.take(t0));
        let next = bucket.ready_at(t0);
        assert!(next >= t0 + Duration::from_millis(99) && next <= t0 + Duration::from_millis(101));
        assert!(bucket.take(t0 + Duration::from_millis(100)));
    }

    #[test]
    fn rate_limited_halves_once_per_burst_and_recovers() {
        let t0 = Instant::now();
        let mut bucket = Bucket::new(Some(8.0), 5.0, t0);
        let t1 = t0 + Duration::from_millis(10);
        bucket.limited(t0, t1);
        assert_eq!(bucket.rate, Some(4.0));
        // answers to events sent before the cut do not cut again
        bucket.limited(t0, t1);
        assert_eq!(bucket.rate, Some(4.0));
        assert!(!bucket.take(t1));
        assert!(bucket.ready_at(t1) >= t1 + Duration::from_millis(250));
        let t2 = t1 + Duration::from_secs(1);
        bucket.limited(t2, t2);
        assert_eq!(bucket.rate, Some(2.0));
        for _ in 0..100 {
            bucket.accepted(t2);
        }
        assert_eq!(bucket.rate, Some(8.0));
        for _ in 0..10 {
            bucket.limited(
                Instant::now() + Duration::from_secs(1000),
                Instant::now() + Duration::from_secs(1000),
            );
        }
        assert_eq!(bucket.rate, Some(0.2));
    }

    #[test]
    fn unpaced_until_limited() {
        let t0 = Instant::now();
        let mut bucket = Bucket::new(None, 1.0, t0);
        for _ in 0..1000 {
            assert!(bucket.take(t0));
        }
        bucket.limited(t0, t0);
        assert_eq!(bucket.rate, Some(2.5));
    }

    #[test]
    fn seen_forgets_the_oldest() {
        let mut seen = Seen::default();
        assert!(seen.insert([1; 32]));
        assert!(!seen.insert([1; 32]));
        assert!(seen.contains_hex(&"01".repeat(32)));
        assert!(!seen.contains_hex(&"02".repeat(32)));
        assert!(!seen.contains_hex("01"));
        for i in 0..super::DEDUPE_CAP {
            let mut id = [0u8; 32];
            id[..8].copy_from_slice(&(i as u64 + 7).to_le_bytes());
            seen.insert(id);
        }
        assert!(seen.insert([1; 32]));
    }

    #[test]
    fn resumed_request_moves_since_back_by_the_backdating_window() {
        use super::{BACKDATE, RelayTask, SKEW_MARGIN, Settings, SubHere, SubShared};
        use crate::pool::PoolConfig;
        use std::sync::Arc;
        use tokio::sync::{mpsc, watch};

        let settings = Arc::new(Settings::from_config(&PoolConfig::default()));
        let (_commands, receiver) = mpsc::channel(1);
        let (probe, _) = watch::channel(None);
        let mut task = RelayTask::new(
            "ws://127.0.0.1:1".to_owned(),
            settings,
            receiver,
            probe,
            None,
        );
        let (tx, _rx) = mpsc::channel(1);
        let filter = serde_json::json!({"kinds": [1059], "since": 100});
        let mut sub = SubHere {
            shared: Arc::new(SubShared::new("s".to_owned(), filter)),
            tx,
            eosed: false,
            newest: 0,
        };
        let since = |task: &RelayTask, sub: &SubHere| {
            let req: serde_json::Value = serde_json::from_str(&task.request(sub)).unwrap();
            assert_eq!(req[0], "REQ");
            assert_eq!(req[1], "s");
            assert_eq!(req[2]["kinds"][0], 1059);
            req[2]["since"].as_u64().unwrap()
        };
        // first request: the filter as given
        assert_eq!(since(&task, &sub), 100);
        // after EOSE and a loss: the newest delivered event less two days and the margin
        sub.eosed = true;
        sub.newest = 1_000_000_000;
        task.lost_at = Some(1_000_000_500);
        assert_eq!(since(&task, &sub), 1_000_000_000 - BACKDATE - SKEW_MARGIN);
        // an event from a clock ahead of ours does not move it past the time of the loss
        sub.newest = 1_000_009_000;
        assert_eq!(since(&task, &sub), 1_000_000_500 - BACKDATE - SKEW_MARGIN);
        // never earlier than the caller's own since
        sub.shared = Arc::new(SubShared::new(
            "s".to_owned(),
            serde_json::json!({"kinds": [1059], "since": 1_000_000_000}),
        ));
        assert_eq!(since(&task, &sub), 1_000_000_000);
    }

    #[test]
    fn backoff_grows_to_the_cap() {
        assert!(backoff(0) <= Duration::from_millis(625));
        assert!(backoff(0) >= Duration::from_millis(375));
        assert!(backoff(30) <= BACKOFF_CAP.mul_f64(1.25));
        assert!(backoff(30) >= BACKOFF_CAP.mul_f64(0.75));
    }

    #[test]
    fn ok_without_a_hex_id_is_ignored() {
        let acted = |text: &str| parse(text).is_ok_and(|m| acted_on(&m));
        assert!(acted(&format!(r#"["OK","{}",false,"x"]"#, "ab".repeat(32))));
        assert!(acted(&format!(r#"["OK","{}",true]"#, "AB".repeat(32))));
        assert!(!acted(r#"["OK","abc",true,""]"#));
        assert!(!acted(&format!(r#"["OK","{}",true]"#, "ag".repeat(32))));
        assert!(acted(r#"["NOTICE","hi"]"#));
        assert!(acted(r#"["EOSE","s"]"#));
    }
}
