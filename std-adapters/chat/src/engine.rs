//! Sending and receiving (SPEC.md §16.6): the one place where the store, the relay pool, the
//! wrapping and kez-core's bodies and assembler meet.
//!
//! A [`Chat`] is one identity's client. Sending stores first and publishes second, so that an
//! interrupted send resumes ([`Chat::resume`]). Receiving ([`Chat::listen`]) unwraps each event
//! for our key, keeps chunks in the store as they arrive (a restarted receiver continues where
//! it stopped), finalizes a file through kez-core's [`Assembler`] (sizes, order, SHA-256) and
//! saves it under a sanitized name. Silent transfers get resend requests; resend requests from a
//! file's recipient are answered; receipts mark messages delivered.

use std::collections::HashMap;
use std::fmt;
use std::io::Read as _;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt as _;
use kez_core::{
    Assembler, Body, Chunk, Error as CoreError, FileId, MAX_CHUNK_SIZE, MAX_FILE_SIZE,
    MAX_FILENAME, MAX_INLINE_SIZE, MIN_CHUNK_SIZE, Pointer, SecretKey, parse_body,
};
use sha2::{Digest as _, Sha256};

use crate::body;
use crate::event::Event;
use crate::pool::{PoolConfig, RelayPool};
use crate::store::{
    Attachment, Direction, Message, MessageState, NewMessage, Outgoing, Peer, Store, StoreError,
};
use crate::wrap::{self, BACKDATE_WINDOW, KIND_DM, KIND_FILE_BODY, Rumor};

/// `SUBSCRIBE_MARGIN` (SPEC.md §16.6): extra look-back of the subscription, in seconds.
pub const SUBSCRIBE_MARGIN: u64 = 600;
/// Rounds of publishing a chunk that no relay accepted before the transfer fails.
pub const PUBLISH_ROUNDS: u32 = 3;
/// The `["EVENT",` … `]` around an event in the message a relay limits.
const EVENT_MESSAGE_OVERHEAD: usize = r#"["EVENT",]"#.len();
/// Fewest seconds between two answers to resend requests for one transfer.
const RESEND_ANSWER_INTERVAL: Duration = Duration::from_secs(5);

/// How a [`Chat`] behaves (the relays are in [`PoolConfig`]).
#[derive(Clone, Debug)]
pub struct Settings {
    /// `RESEND_IDLE`: silence after which a pending transfer asks for what is missing.
    pub resend_idle: Duration,
    /// `RESEND_MAX`: requests per stall.
    pub resend_max: u32,
    /// `TRANSFER_EXPIRY`: age at which silent partial transfers fail and sent copies go.
    pub expiry: Duration,
    /// Send receipts for what we store.
    pub receipts: bool,
    /// Events of one transfer being wrapped or published at once.
    pub window: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            resend_idle: Duration::from_secs(30),
            resend_max: 3,
            expiry: Duration::from_secs(7 * 24 * 3600),
            receipts: true,
            window: 8,
        }
    }
}

/// Why a send or the listener stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum ChatError {
    /// The file is larger than `MAX_FILE_SIZE`: nothing was stored or published.
    TooLarge {
        /// The file's size in bytes.
        size: u64,
    },
    /// Even the smallest chunk does not fit the relays' event limit.
    RelaysTooSmall {
        /// The smallest relay limit, in bytes.
        limit: usize,
    },
    /// A local file could not be read.
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The store failed.
    Store(StoreError),
    /// No relay accepted an event of the message; the message is `failed`.
    NotAccepted {
        /// What was refused, with the relays' reasons.
        reason: String,
    },
    /// A key or a wrap could not be made.
    Crypto(String),
    /// The pool's subscription ended (the pool was shut down).
    Closed,
}

impl fmt::Display for ChatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { size } => write!(
                f,
                "the file is {size} bytes; files are limited to {MAX_FILE_SIZE} bytes (10 MiB): nothing was sent"
            ),
            Self::RelaysTooSmall { limit } => write!(
                f,
                "the relays accept events of at most {limit} bytes, too small for a {MIN_CHUNK_SIZE}-byte chunk: nothing was sent"
            ),
            Self::File { path, reason } => write!(f, "{}: {reason}", path.display()),
            Self::Store(e) => write!(f, "store: {e}"),
            Self::NotAccepted { reason } => write!(f, "not sent: {reason}"),
            Self::Crypto(e) => write!(f, "{e}"),
            Self::Closed => f.write_str("the relay subscription ended"),
        }
    }
}

impl std::error::Error for ChatError {}

impl From<StoreError> for ChatError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Progress of a send: events accepted by at least one relay, of the message's total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendProgress {
    /// Events accepted so far.
    pub done: u32,
    /// Events in the message (chunks and the pointer, or 1).
    pub total: u32,
}

/// The outcome of a send.
#[derive(Clone, Debug)]
pub struct SendReport {
    /// The message's id in the store.
    pub message_id: i64,
    /// The message's rumor id (what a receipt names).
    pub rumor_id: [u8; 32],
    /// Events published (chunks, pointer, or the one message).
    pub events: u32,
    /// The chunk size, for a chunked file.
    pub chunk_size: Option<u32>,
    /// Relays that accepted the last event.
    pub accepted_by: Vec<String>,
}

/// What the listener saw.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChatEvent {
    /// A text message, stored.
    Text {
        /// The sender.
        from: Peer,
        /// The text.
        text: String,
    },
    /// A chunked file progressed: "Receiving N/M".
    Progress {
        /// The sender.
        from: Peer,
        /// The transfer.
        file_id: [u8; 16],
        /// The file name from the pointer, once known (not sanitized).
        filename: Option<String>,
        /// Chunks in.
        received: u32,
        /// Chunks in all.
        total: u32,
    },
    /// A file is ready in the store.
    FileReady {
        /// The sender.
        from: Peer,
        /// Where it was saved.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// A file failed; it will never be ready.
    FileFailed {
        /// The sender.
        from: Peer,
        /// The file name, when known.
        filename: Option<String>,
        /// Why (SPEC.md §16.6).
        reason: String,
    },
    /// A message we sent was delivered.
    Delivered {
        /// The message's id in the store.
        message_id: i64,
    },
    /// We asked a sender for missing chunks.
    ResendRequested {
        /// The sender.
        to: Peer,
        /// The transfer.
        file_id: [u8; 16],
        /// How many chunks were listed.
        missing: u32,
    },
    /// We answered a recipient's resend request.
    ResendAnswered {
        /// The recipient.
        to: Peer,
        /// The transfer.
        file_id: [u8; 16],
        /// Chunks published again.
        chunks: u32,
    },
    /// An outgoing transfer interrupted earlier was completed.
    Resumed {
        /// The message's id in the store.
        message_id: i64,
    },
}

/// One identity's chat client.
#[derive(Clone)]
pub struct Chat {
    inner: Arc<Inner>,
}

impl fmt::Debug for Chat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chat")
            .field("me", &hex(&self.inner.me))
            .finish_non_exhaustive()
    }
}

struct Inner {
    key: SecretKey,
    me: Peer,
    store: Mutex<Store>,
    pool: RelayPool,
    settings: Settings,
    /// Incoming transfers being assembled, by (sender, file_id).
    transfers: Mutex<HashMap<(Peer, [u8; 16]), Transfer>>,
    /// When each outgoing transfer last answered a resend request.
    answered: Mutex<HashMap<[u8; 16], Instant>>,
    /// Publishing started by the listener (receipts, resend requests and answers), finished
    /// before [`Chat::listen`] returns.
    background: Mutex<tokio::task::JoinSet<()>>,
}

/// What the listener remembers of a pending incoming transfer (the chunks are in the store).
struct Transfer {
    n: u32,
    have: Vec<bool>,
    received: u32,
    pointer: Option<(Pointer, [u8; 32])>,
    message_id: i64,
    last_arrival: Instant,
    requests: u32,
}

impl Transfer {
    fn missing(&self) -> Vec<u32> {
        self.have
            .iter()
            .zip(0u32..)
            .filter(|(have, _)| !**have)
            .map(|(_, i)| i)
            .collect()
    }
}

impl Chat {
    /// A client for `key` with its store in `store_dir` and the relays of `pool`. Must be
    /// called inside a tokio runtime (the pool starts its relay tasks).
    ///
    /// # Errors
    /// The key is not a nostr (BIP-340) key, or the store cannot be opened.
    pub fn open(
        key: SecretKey,
        store_dir: &Path,
        pool: PoolConfig,
        settings: Settings,
    ) -> Result<Self, ChatError> {
        if key.public().alg() != kez_core::Alg::Bip340 {
            return Err(ChatError::Crypto(
                "direct messages need a nostr (BIP-340) key".to_owned(),
            ));
        }
        let me = *key.public().as_bytes();
        let store = Store::open(store_dir)?;
        Ok(Self {
            inner: Arc::new(Inner {
                key,
                me,
                store: Mutex::new(store),
                pool: RelayPool::new(pool),
                settings,
                transfers: Mutex::new(HashMap::new()),
                answered: Mutex::new(HashMap::new()),
                background: Mutex::new(tokio::task::JoinSet::new()),
            }),
        })
    }

    /// Our x-only public key.
    #[must_use]
    pub fn me(&self) -> Peer {
        self.inner.me
    }

    /// The relay pool.
    #[must_use]
    pub fn pool(&self) -> &RelayPool {
        &self.inner.pool
    }

    /// Runs `f` on the store.
    ///
    /// # Errors
    /// What `f` returns.
    pub fn with_store<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, ChatError> {
        Ok(f(&self.store())?)
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // a panic while holding the lock cannot leave the store inconsistent (SQLite
        // transactions), so a poisoned lock is used as it is
        self.inner
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sends a text message (NIP-17 kind 14: other NIP-17 clients read it).
    ///
    /// # Errors
    /// The store failed, or no relay accepted the message (it is then `failed`).
    pub async fn send_text(&self, to: &Peer, text: &str) -> Result<SendReport, ChatError> {
        let now = unix_now();
        let rumor = Rumor::new(&self.inner.me, to, KIND_DM, text.to_owned(), now);
        let message_id = self.store().add_message(&NewMessage {
            peer: *to,
            direction: Direction::Out,
            rumor_id: rumor.id,
            created_at: now,
            text: Some(text.to_owned()),
            attachment: None,
            state: MessageState::Sending,
        })?;
        self.publish_message(message_id, to, &rumor).await
    }

    /// Publishes a message's one rumor and records the outcome.
    async fn publish_message(
        &self,
        message_id: i64,
        to: &Peer,
        rumor: &Rumor,
    ) -> Result<SendReport, ChatError> {
        let accepted = self.publish_rumor(to, rumor).await;
        match accepted {
            Ok(accepted_by) => {
                self.mark_sent(message_id)?;
                Ok(SendReport {
                    message_id,
                    rumor_id: rumor.id,
                    events: 1,
                    chunk_size: None,
                    accepted_by,
                })
            }
            Err(reason) => {
                self.store()
                    .set_state(message_id, &MessageState::Failed(reason.clone()))?;
                Err(ChatError::NotAccepted { reason })
            }
        }
    }

    /// `sent`, unless a receipt made it `delivered` already.
    fn mark_sent(&self, message_id: i64) -> Result<(), ChatError> {
        let store = self.store();
        let delivered = store
            .message(message_id)?
            .is_some_and(|m| m.state == MessageState::Delivered);
        if !delivered {
            store.set_state(message_id, &MessageState::Sent)?;
        }
        Ok(())
    }

    /// Wraps `rumor` for `to` and publishes it to every relay: the relays that accepted it, or
    /// why none did.
    async fn publish_rumor(&self, to: &Peer, rumor: &Rumor) -> Result<Vec<String>, String> {
        // wrapping is CPU work (two envelopes, two signatures): off the async threads, so the
        // OKs of earlier events keep being handled while later ones are wrapped
        let chat = self.clone();
        let (to_owned, rumor) = (*to, rumor.clone());
        let event = tokio::task::spawn_blocking(move || {
            wrap::wrap(&chat.inner.key, &to_owned, &rumor, unix_now())
        })
        .await
        .map_err(|e| format!("wrapping failed: {e}"))?
        .map_err(|e| format!("wrapping failed: {e}"))?;
        let published = self.inner.pool.publish(&event).await;
        if published.accepted.is_empty() {
            let reasons: Vec<String> = published
                .rejected
                .iter()
                .map(|(relay, why)| format!("{relay}: {why}"))
                .collect();
            Err(if reasons.is_empty() {
                "no relays".to_owned()
            } else {
                format!("no relay accepted it ({})", reasons.join("; "))
            })
        } else {
            Ok(published.accepted)
        }
    }

    /// Sends a file: refused over `MAX_FILE_SIZE` before anything happens; inline when it fits
    /// one event; else chunks sized for the relays, the pointer last (SPEC.md §16.6).
    /// `progress` is called after each accepted event.
    ///
    /// # Errors
    /// [`ChatError::TooLarge`], [`ChatError::RelaysTooSmall`], the file cannot be read, the
    /// store failed, or a chunk was accepted by no relay (the message is then `failed`).
    pub async fn send_file(
        &self,
        to: &Peer,
        path: &Path,
        progress: &(dyn Fn(SendProgress) + Send + Sync),
    ) -> Result<SendReport, ChatError> {
        let file_error = |reason: String| ChatError::File {
            path: path.to_owned(),
            reason,
        };
        let meta = std::fs::metadata(path).map_err(|e| file_error(e.to_string()))?;
        if !meta.is_file() {
            return Err(file_error("not a regular file".to_owned()));
        }
        if meta.len() > u64::from(MAX_FILE_SIZE) {
            return Err(ChatError::TooLarge { size: meta.len() });
        }
        let (size, sha256) = hash_file(path).map_err(file_error)?;
        if size > u64::from(MAX_FILE_SIZE) {
            return Err(ChatError::TooLarge { size });
        }
        let filename = file_name(path);
        let mime = guess_mime(&filename).to_owned();
        let budget = self.inner.pool.max_event_len().await;
        let now = unix_now();
        if size <= u64::from(MAX_INLINE_SIZE) {
            let data = read_bounded(path).map_err(file_error)?;
            if <[u8; 32]>::from(Sha256::digest(&data)) != sha256 {
                return Err(file_error("the file changed while it was read".to_owned()));
            }
            let text = body::inline(&filename, &mime, &data);
            if event_len(&text) <= budget {
                let rumor = Rumor::new(&self.inner.me, to, KIND_FILE_BODY, text, now);
                let message_id = self.store().add_message(&NewMessage {
                    peer: *to,
                    direction: Direction::Out,
                    rumor_id: rumor.id,
                    created_at: now,
                    text: None,
                    attachment: Some(Attachment {
                        filename,
                        mime,
                        size,
                        file_id: None,
                        sha256: Some(sha256),
                        received_chunks: 0,
                        total_chunks: 0,
                        path: Some(path.to_owned()),
                    }),
                    state: MessageState::Sending,
                })?;
                let report = self.publish_message(message_id, to, &rumor).await?;
                progress(SendProgress { done: 1, total: 1 });
                return Ok(report);
            }
        }
        let chunk_size = chunk_size_for(size, budget)?;
        let n = chunk_count(size, chunk_size);
        let mut file_id = [0u8; 16];
        getrandom::fill(&mut file_id)
            .map_err(|e| ChatError::Crypto(format!("no randomness for the file id: {e}")))?;
        let pointer = body::pointer(
            &FileId(file_id),
            &filename,
            &mime,
            size,
            chunk_size,
            n,
            &sha256,
        );
        let rumor = Rumor::new(&self.inner.me, to, KIND_FILE_BODY, pointer, now);
        let message_id = {
            let store = self.store();
            let message_id = store.add_message(&NewMessage {
                peer: *to,
                direction: Direction::Out,
                rumor_id: rumor.id,
                created_at: now,
                text: None,
                attachment: Some(Attachment {
                    filename: filename.clone(),
                    mime: mime.clone(),
                    size,
                    file_id: Some(file_id),
                    sha256: Some(sha256),
                    received_chunks: 0,
                    total_chunks: n,
                    path: Some(path.to_owned()),
                }),
                state: MessageState::Sending,
            })?;
            store.outgoing_begin(
                &Outgoing {
                    file_id,
                    recipient: *to,
                    message_id,
                    filename,
                    mime,
                    size,
                    chunk_size,
                    n,
                    sha256,
                },
                path,
            )?;
            message_id
        };
        self.run_outgoing(&file_id, None, progress).await?;
        Ok(SendReport {
            message_id,
            rumor_id: rumor.id,
            events: n + 1,
            chunk_size: Some(chunk_size),
            accepted_by: Vec::new(),
        })
    }

    /// Publishes what an outgoing transfer still lacks: the chunks no relay has accepted (or,
    /// for a resend request, the chunks in `only`), then the pointer.
    async fn run_outgoing(
        &self,
        file_id: &[u8; 16],
        only: Option<&[u32]>,
        progress: &(dyn Fn(SendProgress) + Send + Sync),
    ) -> Result<u32, ChatError> {
        let Some(state) = self.store().outgoing_get(file_id)? else {
            return Err(ChatError::NotAccepted {
                reason: "unknown transfer".to_owned(),
            });
        };
        let t = state.t;
        let message = self.store().message(t.message_id)?;
        let Some(message) = message else {
            return Err(ChatError::NotAccepted {
                reason: "the transfer's message is gone".to_owned(),
            });
        };
        let copy = self.store().outgoing_data_path(file_id);
        let copy_error = |reason: String| ChatError::File {
            path: copy.clone(),
            reason,
        };
        // the copy is hashed as a stream and read a chunk at a time: never whole in memory
        let (len, hash) = hash_file(&copy).map_err(copy_error)?;
        if hash != t.sha256 || len != t.size {
            let reason = "the stored copy of the file changed".to_owned();
            self.store()
                .set_state(t.message_id, &MessageState::Failed(reason.clone()))?;
            return Err(ChatError::NotAccepted { reason });
        }
        let file = std::sync::Mutex::new(
            std::fs::File::open(&copy).map_err(|e| copy_error(e.to_string()))?,
        );
        let mut sent = state.sent;
        sent.resize(t.n as usize, false);
        let mut todo: Vec<u32> = match only {
            Some(list) => list.iter().copied().filter(|&i| i < t.n).collect(),
            None => (0..t.n)
                .filter(|&i| !sent.get(i as usize).copied().unwrap_or(false))
                .collect(),
        };
        let total = t.n + 1;
        let mut done = t.n.saturating_sub(count(todo.len()));
        if only.is_none() {
            progress(SendProgress { done, total });
        }
        let fid = FileId(t.file_id);
        let mut published = 0u32;
        for round in 1..=PUBLISH_ROUNDS {
            if todo.is_empty() {
                break;
            }
            let mut failed = Vec::new();
            let mut results = futures_util::stream::iter(std::mem::take(&mut todo))
                .map(|i| {
                    let start = u64::from(i) * u64::from(t.chunk_size);
                    let len = (t.size - start.min(t.size)).min(u64::from(t.chunk_size));
                    let rumor = read_at(&file, start, len).map(|bytes| {
                        let text = body::chunk(&fid, i, t.n, &bytes);
                        Rumor::new(
                            &self.inner.me,
                            &t.recipient,
                            KIND_FILE_BODY,
                            text,
                            unix_now(),
                        )
                    });
                    async move {
                        match rumor {
                            Ok(rumor) => (i, self.publish_rumor(&t.recipient, &rumor).await),
                            Err(e) => (i, Err(format!("reading the stored copy: {e}"))),
                        }
                    }
                })
                .buffer_unordered(self.inner.settings.window.max(1));
            while let Some((i, result)) = results.next().await {
                match result {
                    Ok(_) => {
                        published += 1;
                        if only.is_none() {
                            self.store().outgoing_mark_sent(file_id, i)?;
                            done += 1;
                            progress(SendProgress { done, total });
                        }
                    }
                    Err(reason) => failed.push((i, reason)),
                }
            }
            drop(results);
            todo = failed.iter().map(|(i, _)| *i).collect();
            if !failed.is_empty() && round == PUBLISH_ROUNDS {
                let (i, why) = failed.swap_remove(0);
                let reason = format!("no relay accepted chunk {i}: {why}");
                self.store()
                    .set_state(t.message_id, &MessageState::Failed(reason.clone()))?;
                return Err(ChatError::NotAccepted { reason });
            }
        }
        let pointer = body::pointer(
            &fid,
            &t.filename,
            &t.mime,
            t.size,
            t.chunk_size,
            t.n,
            &t.sha256,
        );
        let rumor = Rumor::new(
            &self.inner.me,
            &t.recipient,
            KIND_FILE_BODY,
            pointer,
            message.created_at,
        );
        match self.publish_rumor(&t.recipient, &rumor).await {
            Ok(_) => {
                let store = self.store();
                store.outgoing_mark_pointer_sent(file_id)?;
                drop(store);
                if only.is_none() {
                    progress(SendProgress { done: total, total });
                    self.mark_sent(t.message_id)?;
                    self.store().outgoing_finish(file_id)?;
                }
                Ok(published)
            }
            Err(why) => {
                let reason = format!("no relay accepted the pointer: {why}");
                if only.is_none() {
                    self.store()
                        .set_state(t.message_id, &MessageState::Failed(reason.clone()))?;
                }
                Err(ChatError::NotAccepted { reason })
            }
        }
    }

    /// Completes every outgoing transfer that an earlier run left unfinished (a sender killed
    /// mid-send). Returns the ids of the messages completed.
    ///
    /// # Errors
    /// The store failed. A transfer that fails again is `failed` and skipped.
    pub async fn resume(
        &self,
        progress: &(dyn Fn(SendProgress) + Send + Sync),
    ) -> Result<Vec<i64>, ChatError> {
        let pending = self.store().outgoing_pending()?;
        let mut done = Vec::new();
        for state in pending {
            let id = state.t.message_id;
            if self
                .run_outgoing(&state.t.file_id, None, progress)
                .await
                .is_ok()
            {
                done.push(id);
            }
        }
        Ok(done)
    }

    /// Receives until `on_event` says stop or `stop` completes: subscribes on every relay,
    /// resumes interrupted sends, answers resend requests, sends receipts and resend requests,
    /// and expires stale transfers.
    ///
    /// # Errors
    /// The store failed, or the subscription ended.
    pub async fn listen(
        &self,
        stop: impl std::future::Future<Output = ()>,
        on_event: &mut (dyn FnMut(&ChatEvent) -> ControlFlow<()> + Send),
    ) -> Result<(), ChatError> {
        let expiry = self.inner.settings.expiry.as_secs();
        {
            let store = self.store();
            let cutoff = unix_now().saturating_sub(expiry);
            store.partial_cleanup(cutoff)?;
            store.outgoing_cleanup(cutoff)?;
        }
        self.load_transfers()?;
        let cursor = self.store().cursor()?.unwrap_or(0);
        let since = cursor.saturating_sub(BACKDATE_WINDOW + SUBSCRIBE_MARGIN);
        let filter = serde_json::json!({
            "kinds": [wrap::KIND_GIFT_WRAP],
            "#p": [hex(&self.inner.me)],
            "since": since,
        });
        let mut sub = self.inner.pool.subscribe(filter).await;
        let resumer = self.clone();
        let (resumed_tx, mut resumed_rx) = tokio::sync::mpsc::channel::<i64>(64);
        let resume_task = tokio::spawn(async move {
            if let Ok(ids) = resumer.resume(&|_| {}).await {
                for id in ids {
                    let _ = resumed_tx.send(id).await;
                }
            }
        });
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(stop);
        let result = loop {
            let mut events = Vec::new();
            tokio::select! {
                () = &mut stop => break Ok(()),
                next = sub.next() => match next {
                    Some(event) => self.handle(event, &mut events).await?,
                    None => break Err(ChatError::Closed),
                },
                Some(id) = resumed_rx.recv() => events.push(ChatEvent::Resumed { message_id: id }),
                _ = tick.tick() => self.stalled(&mut events).await?,
            }
            if events.iter().any(|e| on_event(e) == ControlFlow::Break(())) {
                break Ok(());
            }
        };
        resume_task.abort();
        self.flush().await;
        result
    }

    /// Runs `task` in the background; [`Chat::listen`] waits for it before returning.
    fn background(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let mut set = self
            .inner
            .background
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // reap what has finished so the set stays small
        while set.try_join_next().is_some() {}
        set.spawn(task);
    }

    /// Waits for the background publishing (each publish is bounded by the pool's timeouts,
    /// a resend answer by its chunks' pacing).
    async fn flush(&self) {
        let mut set = std::mem::take(
            &mut *self
                .inner
                .background
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        while set.join_next().await.is_some() {}
    }

    /// Rebuilds the pending incoming transfers from the store.
    fn load_transfers(&self) -> Result<(), ChatError> {
        let store = self.store();
        let mut transfers = self.transfers();
        for (sender, file_id, _) in store.partial_list()? {
            if transfers.contains_key(&(sender, file_id)) {
                continue;
            }
            let Some(partial) = store.partial_load(&sender, &file_id)? else {
                continue;
            };
            let pointer = partial
                .pointer_body
                .as_deref()
                .and_then(|text| match parse_body(text) {
                    Ok(Body::Pointer(p)) => Some(p),
                    _ => None,
                })
                .zip(partial.pointer_rumor);
            let n = pointer.as_ref().map_or(partial.n, |(p, _)| p.count);
            let mut have = vec![false; n as usize];
            let mut received = 0;
            for (i, _) in &partial.chunks {
                if let Some(slot) = have.get_mut(*i as usize) {
                    if !*slot {
                        *slot = true;
                        received += 1;
                    }
                }
            }
            let Some(message_id) = partial.message_id else {
                continue;
            };
            transfers.insert(
                (sender, file_id),
                Transfer {
                    n,
                    have,
                    received,
                    pointer,
                    message_id,
                    last_arrival: Instant::now(),
                    requests: 0,
                },
            );
        }
        Ok(())
    }

    fn transfers(&self) -> MutexGuard<'_, HashMap<(Peer, [u8; 16]), Transfer>> {
        self.inner
            .transfers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One wrap from a relay.
    async fn handle(&self, event: Event, out: &mut Vec<ChatEvent>) -> Result<(), ChatError> {
        let Ok(unwrapped) = wrap::unwrap(&self.inner.key, &event) else {
            // not for us, forged, or malformed: nothing to store
            return Ok(());
        };
        {
            let store = self.store();
            if store.cursor()?.is_none_or(|c| event.created_at > c) {
                store.set_cursor(event.created_at)?;
            }
        }
        let from = unwrapped.sender;
        let rumor = unwrapped.rumor;
        if rumor.kind == KIND_DM {
            return self.on_text(from, &rumor, out).await;
        }
        match parse_body(&rumor.content) {
            Ok(Body::Text(_)) => self.on_text(from, &rumor, out).await,
            Ok(Body::Inline(file)) => self.on_inline(from, &rumor, &file, out).await,
            Ok(Body::Chunk(chunk)) => self.on_chunk(from, &chunk, out).await,
            Ok(Body::Pointer(pointer)) => self.on_pointer(from, &rumor, pointer, out).await,
            Ok(Body::Resend(request)) => {
                let missing: Vec<u32> = request.missing().collect();
                self.on_resend(from, request.file_id.0, missing, out);
                Ok(())
            }
            Ok(Body::Receipt(id)) => self.on_receipt(from, &id, out),
            Err(e) => {
                // a file body we cannot read: stored as a failed file so the user sees it
                let id = self.store().add_message(&NewMessage {
                    peer: from,
                    direction: Direction::In,
                    rumor_id: rumor.id,
                    created_at: rumor.created_at,
                    text: None,
                    attachment: Some(Attachment {
                        filename: String::new(),
                        mime: String::new(),
                        size: 0,
                        file_id: None,
                        sha256: None,
                        received_chunks: 0,
                        total_chunks: 0,
                        path: None,
                    }),
                    state: MessageState::Failed(format!("{} ({e})", e.kind())),
                })?;
                let _ = id;
                out.push(ChatEvent::FileFailed {
                    from,
                    filename: None,
                    reason: format!("{} ({e})", e.kind()),
                });
                Ok(())
            }
        }
    }

    async fn on_text(
        &self,
        from: Peer,
        rumor: &Rumor,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), ChatError> {
        if self.store().message_by_rumor(&rumor.id)?.is_some() {
            return Ok(());
        }
        self.store().add_message(&NewMessage {
            peer: from,
            direction: Direction::In,
            rumor_id: rumor.id,
            created_at: rumor.created_at,
            text: Some(rumor.content.clone()),
            attachment: None,
            state: MessageState::Received,
        })?;
        out.push(ChatEvent::Text {
            from,
            text: rumor.content.clone(),
        });
        self.send_receipt(from, rumor.id);
        Ok(())
    }

    async fn on_inline(
        &self,
        from: Peer,
        rumor: &Rumor,
        file: &kez_core::InlineFile<'_>,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), ChatError> {
        if self.store().message_by_rumor(&rumor.id)?.is_some() {
            return Ok(());
        }
        let mut buf = vec![0u8; file.data.len()];
        let (state, path) = match file.decode_into(&mut buf) {
            Ok(bytes) => {
                let path = self.store().save_file(&file.filename, bytes)?;
                (MessageState::Ready, Some(path))
            }
            Err(e) => (MessageState::Failed(e.kind().to_owned()), None),
        };
        self.store().add_message(&NewMessage {
            peer: from,
            direction: Direction::In,
            rumor_id: rumor.id,
            created_at: rumor.created_at,
            text: None,
            attachment: Some(Attachment {
                filename: file.filename.to_string(),
                mime: file.mime.to_string(),
                size: file.data.len() as u64,
                file_id: None,
                sha256: Some(file.sha256),
                received_chunks: 1,
                total_chunks: 1,
                path: path.clone(),
            }),
            state: state.clone(),
        })?;
        match (state, path) {
            (MessageState::Ready, Some(path)) => {
                out.push(ChatEvent::FileReady {
                    from,
                    path,
                    size: file.data.len() as u64,
                });
                self.send_receipt(from, rumor.id);
            }
            (MessageState::Failed(reason), _) => out.push(ChatEvent::FileFailed {
                from,
                filename: Some(file.filename.to_string()),
                reason,
            }),
            _ => {}
        }
        Ok(())
    }

    /// Whether the transfer already ended (ready or failed): later events are ignored.
    fn transfer_ended(&self, from: &Peer, file_id: &[u8; 16]) -> Result<bool, ChatError> {
        Ok(self
            .store()
            .message_by_file(from, file_id, Direction::In)?
            .is_some_and(|m| matches!(m.state, MessageState::Ready | MessageState::Failed(_))))
    }

    /// The pending message of a transfer, created at its first event.
    fn transfer_message(
        &self,
        from: &Peer,
        file_id: &[u8; 16],
        n: u32,
        created_at: u64,
    ) -> Result<i64, ChatError> {
        let store = self.store();
        if let Some(m) = store.message_by_file(from, file_id, Direction::In)? {
            return Ok(m.id);
        }
        // before the pointer the message has no rumor id of its own: one derived from the
        // transfer's key stands in (receipts name the pointer's rumor id, kept with the partial)
        let mut h = Sha256::new();
        h.update(b"kez-transfer");
        h.update(from);
        h.update(file_id);
        let id = store.add_message(&NewMessage {
            peer: *from,
            direction: Direction::In,
            rumor_id: h.finalize().into(),
            created_at,
            text: None,
            attachment: Some(Attachment {
                filename: String::new(),
                mime: String::new(),
                size: 0,
                file_id: Some(*file_id),
                sha256: None,
                received_chunks: 0,
                total_chunks: n,
                path: None,
            }),
            state: MessageState::Pending,
        })?;
        Ok(id)
    }

    /// The in-memory state of a transfer, created (with its pending message) at its first
    /// chunk or pointer.
    fn ensure_transfer(
        &self,
        key: &(Peer, [u8; 16]),
        n: u32,
        created_at: u64,
    ) -> Result<(), ChatError> {
        if self.transfers().contains_key(key) {
            return Ok(());
        }
        let message_id = self.transfer_message(&key.0, &key.1, n, created_at)?;
        self.transfers().insert(
            *key,
            Transfer {
                n,
                have: vec![false; n as usize],
                received: 0,
                pointer: None,
                message_id,
                last_arrival: Instant::now(),
                requests: 0,
            },
        );
        Ok(())
    }

    async fn on_chunk(
        &self,
        from: Peer,
        chunk: &Chunk<'_>,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), ChatError> {
        let file_id = chunk.file_id.0;
        if self.transfer_ended(&from, &file_id)? {
            return Ok(());
        }
        let key = (from, file_id);
        self.ensure_transfer(&key, chunk.count, unix_now())?;
        let verdict = {
            let mut transfers = self.transfers();
            let Some(t) = transfers.get_mut(&key) else {
                return Ok(());
            };
            t.last_arrival = Instant::now();
            t.requests = 0;
            if chunk.count != t.n {
                Err(CoreError::BadChunk {
                    index: chunk.index,
                    fault: kez_core::ChunkFault::WrongCount,
                })
            } else if t.have.get(chunk.index as usize).copied().unwrap_or(false) {
                Ok(false)
            } else if let Some((p, _)) = &t.pointer
                && chunk.data.len() != p.chunk_len(chunk.index) as usize
            {
                Err(CoreError::BadChunk {
                    index: chunk.index,
                    fault: kez_core::ChunkFault::WrongLength,
                })
            } else {
                Ok(true)
            }
        };
        match verdict {
            Err(e) => return self.fail(&key, &e, out),
            Ok(false) => {
                // a duplicate index: the same bytes are ignored, others fail the transfer
                let stored = self.store().partial_chunk(&from, &file_id, chunk.index)?;
                let same = stored.is_some_and(|bytes| chunk.data.eq_bytes(&bytes));
                if !same {
                    let e = CoreError::BadChunk {
                        index: chunk.index,
                        fault: kez_core::ChunkFault::Conflict,
                    };
                    return self.fail(&key, &e, out);
                }
                return Ok(());
            }
            Ok(true) => {}
        }
        // the chunk's bytes are kept decoded (never more than MAX_CHUNK_SIZE each)
        let mut bytes = vec![0u8; chunk.data.len()];
        if let Err(e) = chunk.data.decode_into(&mut bytes) {
            return self.fail(&key, &e, out);
        }
        match self
            .store()
            .partial_put_chunk(&from, &file_id, chunk.index, chunk.count, &bytes)
        {
            Ok(()) => {}
            // the store's own limits (a transfer over MAX_FILE_SIZE, another chunk count):
            // this transfer fails, the listener goes on
            Err(e @ (StoreError::Invalid(_) | StoreError::Conflict(_))) => {
                let fault = CoreError::BadChunk {
                    index: chunk.index,
                    fault: match e {
                        StoreError::Conflict(_) => kez_core::ChunkFault::WrongCount,
                        _ => kez_core::ChunkFault::NoRoom,
                    },
                };
                return self.fail(&key, &fault, out);
            }
            Err(e) => return Err(e.into()),
        }
        let (received, total, filename, complete, message_id) = {
            let mut transfers = self.transfers();
            let Some(t) = transfers.get_mut(&key) else {
                return Ok(());
            };
            if let Some(slot) = t.have.get_mut(chunk.index as usize) {
                *slot = true;
            }
            t.received += 1;
            (
                t.received,
                t.n,
                t.pointer.as_ref().map(|(p, _)| p.filename.to_string()),
                t.pointer.is_some() && t.received == t.n,
                t.message_id,
            )
        };
        self.store().set_progress(message_id, received, total)?;
        out.push(ChatEvent::Progress {
            from,
            file_id,
            filename,
            received,
            total,
        });
        if complete {
            self.finalize(&key, out)?;
        }
        Ok(())
    }

    async fn on_pointer(
        &self,
        from: Peer,
        rumor: &Rumor,
        pointer: Pointer,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), ChatError> {
        let file_id = pointer.file_id.0;
        if self.transfer_ended(&from, &file_id)? {
            return Ok(());
        }
        let key = (from, file_id);
        self.ensure_transfer(&key, pointer.count, rumor.created_at)?;
        let verdict = {
            let mut transfers = self.transfers();
            let Some(t) = transfers.get_mut(&key) else {
                return Ok(());
            };
            t.last_arrival = Instant::now();
            match &t.pointer {
                Some((p, _)) if *p == pointer => Ok(None),
                Some(_) => Err(()),
                None if pointer.count != t.n => Err(()),
                None => {
                    t.pointer = Some((pointer.clone(), rumor.id));
                    Ok(Some((t.message_id, t.received, t.n)))
                }
            }
        };
        let (message_id, received, n) = match verdict {
            Ok(None) => return Ok(()),
            Err(()) => {
                let e = CoreError::BadChunk {
                    index: 0,
                    fault: kez_core::ChunkFault::PointerMismatch,
                };
                return self.fail(&key, &e, out);
            }
            Ok(Some(v)) => v,
        };
        {
            let store = self.store();
            store.partial_put_pointer(&from, &file_id, &rumor.content, &rumor.id, message_id)?;
            store.update_attachment(
                message_id,
                &Attachment {
                    filename: pointer.filename.to_string(),
                    mime: pointer.mime.to_string(),
                    size: u64::from(pointer.size),
                    file_id: Some(file_id),
                    sha256: Some(pointer.sha256),
                    received_chunks: received,
                    total_chunks: n,
                    path: None,
                },
            )?;
        }
        out.push(ChatEvent::Progress {
            from,
            file_id,
            filename: Some(pointer.filename.to_string()),
            received,
            total: n,
        });
        if received == n {
            self.finalize(&key, out)?;
        }
        Ok(())
    }

    /// Puts a complete transfer together from the store through kez-core's assembler (every
    /// rule of SPEC.md §16.4 and the SHA-256), saves the file, and sends the receipt.
    fn finalize(&self, key: &(Peer, [u8; 16]), out: &mut Vec<ChatEvent>) -> Result<(), ChatError> {
        let (from, file_id) = *key;
        // the pointer from memory (the listener keeps it), the chunks one at a time from the
        // store: the file is held once, in the assembler's buffer
        let Some((pointer, pointer_rumor, message_id)) = self
            .transfers()
            .get(key)
            .and_then(|t| t.pointer.clone().map(|(p, r)| (p, r, t.message_id)))
        else {
            return Ok(());
        };
        let mut buf = vec![0u8; pointer.size as usize];
        let store = self.store();
        let outcome = (|| {
            let mut assembler = Assembler::from_pointer(&pointer, &mut buf)?;
            for i in 0..pointer.count {
                let bytes = store
                    .partial_chunk(&from, &file_id, i)
                    .ok()
                    .flatten()
                    .ok_or(CoreError::Incomplete)?;
                // the stored bytes go through the same checks as a chunk from the network
                let text = body::chunk(&pointer.file_id, i, pointer.count, &bytes);
                if let Body::Chunk(chunk) = parse_body(&text)? {
                    assembler.add_chunk(&chunk)?;
                }
            }
            assembler.finalize().map(<[u8]>::len)
        })();
        drop(store);
        match outcome {
            Err(e) => self.fail(key, &e, out),
            Ok(len) => {
                let bytes = buf.get(..len).unwrap_or(&[]);
                let store = self.store();
                let path = store.save_file(&pointer.filename, bytes)?;
                store.set_attachment_path(message_id, &path)?;
                store.set_progress(message_id, pointer.count, pointer.count)?;
                store.set_state(message_id, &MessageState::Ready)?;
                store.partial_remove(&from, &file_id)?;
                drop(store);
                self.transfers().remove(key);
                out.push(ChatEvent::FileReady {
                    from,
                    path,
                    size: len as u64,
                });
                self.send_receipt(from, pointer_rumor);
                Ok(())
            }
        }
    }

    /// Marks a transfer failed (never ready) and drops its chunks.
    fn fail(
        &self,
        key: &(Peer, [u8; 16]),
        error: &CoreError,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), ChatError> {
        let reason = match error {
            CoreError::BadChunk { fault, .. } => format!("bad_chunk ({})", fault.name()),
            e => e.kind().to_owned(),
        };
        let t = self.transfers().remove(key);
        let store = self.store();
        let message_id = match t {
            Some(t) => Some(t.message_id),
            None => store
                .message_by_file(&key.0, &key.1, Direction::In)?
                .map(|m| m.id),
        };
        if let Some(id) = message_id {
            store.set_state(id, &MessageState::Failed(reason.clone()))?;
        }
        store.partial_remove(&key.0, &key.1)?;
        out.push(ChatEvent::FileFailed {
            from: key.0,
            filename: None,
            reason,
        });
        Ok(())
    }

    /// A resend request: answered only for the transfer's recipient, at most every few seconds.
    fn on_resend(
        &self,
        from: Peer,
        file_id: [u8; 16],
        missing: Vec<u32>,
        out: &mut Vec<ChatEvent>,
    ) {
        let Ok(Some(state)) = self.store().outgoing_get(&file_id) else {
            return;
        };
        if state.t.recipient != from {
            return;
        }
        {
            let mut answered = self
                .inner
                .answered
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            if answered
                .get(&file_id)
                .is_some_and(|at| now.duration_since(*at) < RESEND_ANSWER_INTERVAL)
            {
                return;
            }
            answered.insert(file_id, now);
        }
        let chunks = count(missing.iter().filter(|&&i| i < state.t.n).count());
        out.push(ChatEvent::ResendAnswered {
            to: from,
            file_id,
            chunks,
        });
        let chat = self.clone();
        self.background(async move {
            let _ = chat.run_outgoing(&file_id, Some(&missing), &|_| {}).await;
        });
    }

    fn on_receipt(
        &self,
        from: Peer,
        id: &[u8; 32],
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), ChatError> {
        let store = self.store();
        let Some(m) = store.message_by_rumor(id)? else {
            return Ok(());
        };
        if m.direction == Direction::Out && m.peer == from && m.state != MessageState::Delivered {
            store.set_state(m.id, &MessageState::Delivered)?;
            out.push(ChatEvent::Delivered { message_id: m.id });
        }
        Ok(())
    }

    fn send_receipt(&self, to: Peer, rumor_id: [u8; 32]) {
        if !self.inner.settings.receipts {
            return;
        }
        let rumor = Rumor::new(
            &self.inner.me,
            &to,
            KIND_FILE_BODY,
            body::receipt(&rumor_id),
            unix_now(),
        );
        let chat = self.clone();
        self.background(async move {
            let _ = chat.publish_rumor(&to, &rumor).await;
        });
    }

    /// Resend requests for transfers silent for `RESEND_IDLE × 2^k`.
    async fn stalled(&self, out: &mut Vec<ChatEvent>) -> Result<(), ChatError> {
        let idle = self.inner.settings.resend_idle;
        let max = self.inner.settings.resend_max;
        let mut requests = Vec::new();
        {
            let mut transfers = self.transfers();
            let now = Instant::now();
            for ((from, file_id), t) in transfers.iter_mut() {
                if t.requests >= max {
                    continue;
                }
                let wait = idle.saturating_mul(1 << t.requests.min(16));
                if now.duration_since(t.last_arrival) < wait {
                    continue;
                }
                t.requests += 1;
                t.last_arrival = now;
                if t.requests > 1 {
                    // the wait doubles from the previous request, not from the last arrival
                    t.last_arrival = now;
                }
                requests.push((*from, *file_id, t.missing()));
            }
        }
        for (from, file_id, missing) in requests {
            let text = body::resend(&FileId(file_id), &missing);
            let rumor = Rumor::new(&self.inner.me, &from, KIND_FILE_BODY, text, unix_now());
            let chat = self.clone();
            self.background(async move {
                let _ = chat.publish_rumor(&from, &rumor).await;
            });
            out.push(ChatEvent::ResendRequested {
                to: from,
                file_id,
                missing: count(missing.len()),
            });
        }
        Ok(())
    }
}

/// The length of the wrap event's JSON carrying `body` in a KEZ-kind rumor.
#[must_use]
pub fn event_len(body: &str) -> usize {
    wrap::wrapped_len(KIND_FILE_BODY, escaped_len(body))
}

/// The length of the `["EVENT",<wrap>]` message carrying `body` in a KEZ-kind rumor.
#[must_use]
pub fn message_len(body: &str) -> usize {
    event_len(body) + EVENT_MESSAGE_OVERHEAD
}

/// Bytes of `text` as a JSON string's inside, escaped as event serialization does.
fn escaped_len(text: &str) -> usize {
    text.chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if u32::from(c) < 0x20 => 6,
            c => c.len_utf8(),
        })
        .sum()
}

/// `ceil(size / chunk_size)`.
#[must_use]
pub fn chunk_count(size: u64, chunk_size: u32) -> u32 {
    u32::try_from(size.div_ceil(u64::from(chunk_size.max(1)))).unwrap_or(u32::MAX)
}

/// The chunk size rule of SPEC.md §16.6: the largest multiple of 3 in `[MIN_CHUNK_SIZE,
/// MAX_CHUNK_SIZE]` whose largest chunk's wrap event fits `budget` (an event length, as
/// [`RelayPool::max_event_len`] gives it).
///
/// # Errors
/// [`ChatError::RelaysTooSmall`] when even `MIN_CHUNK_SIZE` does not fit.
pub fn chunk_size_for(size: u64, budget: usize) -> Result<u32, ChatError> {
    let fits = |c: u32| {
        let n = chunk_count(size, c).max(1);
        chunk_event_len(c, n) <= budget
    };
    // multiples of 3: lo and hi are indices c / 3
    let mut lo = MIN_CHUNK_SIZE.div_ceil(3);
    let mut hi = MAX_CHUNK_SIZE / 3;
    if !fits(lo * 3) {
        return Err(ChatError::RelaysTooSmall { limit: budget });
    }
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid * 3) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Ok(lo * 3)
}

/// The wrap event length of chunk `n − 1` of `n` with `chunk_size` bytes of data.
fn chunk_event_len(chunk_size: u32, n: u32) -> usize {
    // every `"` of the body is escaped inside the rumor's JSON; base64 and digits never are
    let quotes = body::chunk(&FileId([0; 16]), 0, 1, &[])
        .matches('"')
        .count();
    let body_len = body::chunk_len(n - 1, n, chunk_size as usize);
    wrap::wrapped_len(KIND_FILE_BODY, body_len + quotes)
}

/// The size and SHA-256 of a file, read as a stream (it may be larger than `MAX_FILE_SIZE`:
/// the caller compares).
fn hash_file(path: &Path) -> Result<(u64, [u8; 32]), String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or(&[]));
        size += n as u64;
        if size > u64::from(MAX_FILE_SIZE) {
            break;
        }
    }
    Ok((size, hasher.finalize().into()))
}

/// `len` bytes of `file` from `offset` (a short read is an error).
fn read_at(file: &Mutex<std::fs::File>, offset: u64, len: u64) -> Result<Vec<u8>, String> {
    use std::io::{Seek as _, SeekFrom};
    let mut file = file
        .lock()
        .map_err(|_| "the file lock is poisoned".to_owned())?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| e.to_string())?;
    let mut bytes = vec![0u8; usize::try_from(len).map_err(|e| e.to_string())?];
    file.read_exact(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// Reads a file of at most `MAX_FILE_SIZE` bytes (a file that grew past it is refused).
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut data = Vec::new();
    file.take(u64::from(MAX_FILE_SIZE) + 1)
        .read_to_end(&mut data)
        .map_err(|e| e.to_string())?;
    if data.len() > MAX_FILE_SIZE as usize {
        return Err(format!("larger than {MAX_FILE_SIZE} bytes (10 MiB)"));
    }
    Ok(data)
}

/// The name a file is sent under: its last path component, cut to `MAX_FILENAME` bytes.
fn file_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "file".to_owned());
    let mut end = name.len().min(MAX_FILENAME);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.get(..end).unwrap_or("file").to_owned()
}

/// A MIME type from the file name's extension (a label for the receiver, never trusted).
fn guess_mime(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("txt" | "md") => "text/plain",
        Some("json") => "application/json",
        Some("pdf") => "application/pdf",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("zip") => "application/zip",
        Some("gz") => "application/gzip",
        Some("mp3") => "audio/mpeg",
        Some("mp4") => "video/mp4",
        _ => "application/octet-stream",
    }
}

/// A count as `u32` (counts here are bounded by `MAX_CHUNKS`).
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Lowercase hex.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The message a [`Message`] shows in an inbox: its state as SPEC.md §16.6 names it.
#[must_use]
pub fn state_text(m: &Message) -> String {
    match &m.state {
        MessageState::Sending => "sending".to_owned(),
        MessageState::Sent => "sent".to_owned(),
        MessageState::Delivered => "delivered".to_owned(),
        MessageState::Received => "received".to_owned(),
        MessageState::Pending => match &m.attachment {
            Some(a) => format!(
                "pending (Receiving {}/{})",
                a.received_chunks, a.total_chunks
            ),
            None => "pending".to_owned(),
        },
        MessageState::Ready => "ready".to_owned(),
        MessageState::Failed(reason) => format!("failed ({reason})"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn chunk_size_from_relay_limits() {
        // the event budgets of relays capping the whole message at 512, 256, 128 and 64 KiB
        // (SPEC.md §16.5 sizes): the largest multiple of 3 whose last chunk's wrap fits
        let size = 5_000_000;
        assert_eq!(chunk_size_for(size, 524_288 - 10).unwrap(), 81_918);
        assert_eq!(chunk_size_for(size, 262_144 - 10).unwrap(), 81_918);
        // nostr-rs-relay's 128 KiB and strfry's 64 KiB: about half and a quarter of that
        let c = chunk_size_for(size, 131_072 - 10).unwrap();
        assert!((40_000..43_000).contains(&c), "{c}");
        let c = chunk_size_for(size, 65_536 - 10).unwrap();
        assert!((20_000..21_500).contains(&c), "{c}");
        for budget in [8_000, 30_000, 65_526, 131_062, 200_000] {
            let c = chunk_size_for(size, budget).unwrap();
            assert_eq!(c % 3, 0);
            let n = chunk_count(size, c);
            assert!(chunk_event_len(c, n) <= budget);
            if c + 3 <= MAX_CHUNK_SIZE {
                assert!(chunk_event_len(c + 3, chunk_count(size, c + 3)) > budget);
            }
            // the real body agrees with the arithmetic
            let text = body::chunk(&FileId([7; 16]), n - 1, n, &vec![0; c as usize]);
            assert_eq!(event_len(&text), chunk_event_len(c, n));
        }
        assert!(matches!(
            chunk_size_for(size, 2_000),
            Err(ChatError::RelaysTooSmall { limit: 2_000 })
        ));
    }
}
