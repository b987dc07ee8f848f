//! The local store of direct messages and files (SPEC.md §16.4, §16.6): one SQLite database
//! and two directories under a store directory.
//!
//! ```text
//! <dir>/kez.sqlite3   messages and their attachments, incoming partial transfers (the chunks
//!                     received so far), outgoing transfers (which chunks relays accepted),
//!                     the subscription cursor
//! <dir>/files/        received files, ready (never a half-written one)
//! <dir>/outgoing/     a copy of each file being sent, named by its file id, so an interrupted
//!                     send resumes, and a resend request is answered, even if the original moved
//! <dir>/tmp/          files being written, moved into place once complete and synced
//! ```
//!
//! The database runs in write-ahead-log mode with a busy timeout, so two processes (a `listen`
//! and a `send`) can use one store at once; every write is one short `IMMEDIATE` transaction.
//! The schema is versioned with `PRAGMA user_version` and migrated on open; a database from a
//! newer KEZ, a damaged database or a file that is no database is an error, never a panic.
//!
//! The API is synchronous; async callers run it on a blocking thread. A [`Store`] is `Send` and
//! `Sync` (its connection sits behind a mutex).

mod error;
mod files;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kez_core::{MAX_BODY, MAX_CHUNK_SIZE, MAX_CHUNKS, MAX_FILE_SIZE, MIN_CHUNK_SIZE};
use rusqlite::{Connection, OptionalExtension as _, Row, TransactionBehavior, params};

pub use error::StoreError;
use error::db;

/// A peer: the 32-byte x-only public key of a nostr (BIP-340) identity.
pub type Peer = [u8; 32];

/// The database file's name in the store directory.
pub const DB_FILE: &str = "kez.sqlite3";

/// How long a call waits for another process's write to finish before failing with
/// [`StoreError::Busy`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a message was sent or received.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Sent by this identity.
    Out,
    /// Received from the peer.
    In,
}

impl Direction {
    const fn code(self) -> i64 {
        match self {
            Self::Out => 0,
            Self::In => 1,
        }
    }

    fn from_code(code: i64) -> Result<Self, StoreError> {
        match code {
            0 => Ok(Self::Out),
            1 => Ok(Self::In),
            _ => Err(StoreError::Corrupt(format!("message direction {code}"))),
        }
    }
}

/// Where a message stands.
///
/// Outgoing: [`Sending`](Self::Sending) → [`Sent`](Self::Sent) (at least one relay accepted
/// every event) → [`Delivered`](Self::Delivered) (the peer confirmed it). Incoming text:
/// [`Received`](Self::Received). Incoming file: [`Pending`](Self::Pending) ("Receiving N/M")
/// → [`Ready`](Self::Ready) or [`Failed`](Self::Failed).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MessageState {
    /// Outgoing, being published.
    Sending,
    /// Outgoing, accepted by at least one relay for every event.
    Sent,
    /// Outgoing, confirmed by the peer.
    Delivered,
    /// Incoming text.
    Received,
    /// Incoming file, chunks still arriving.
    Pending,
    /// Incoming file, complete, checked and saved.
    Ready,
    /// Failed, with the reason (for example `hash_mismatch`, `expired`).
    Failed(String),
}

impl MessageState {
    fn encode(&self) -> (&'static str, Option<&str>) {
        match self {
            Self::Sending => ("sending", None),
            Self::Sent => ("sent", None),
            Self::Delivered => ("delivered", None),
            Self::Received => ("received", None),
            Self::Pending => ("pending", None),
            Self::Ready => ("ready", None),
            Self::Failed(reason) => ("failed", Some(reason)),
        }
    }

    fn decode(code: &str, reason: Option<String>) -> Result<Self, StoreError> {
        Ok(match code {
            "sending" => Self::Sending,
            "sent" => Self::Sent,
            "delivered" => Self::Delivered,
            "received" => Self::Received,
            "pending" => Self::Pending,
            "ready" => Self::Ready,
            "failed" => Self::Failed(reason.unwrap_or_default()),
            _ => return Err(StoreError::Corrupt(format!("message state {code:?}"))),
        })
    }
}

/// A file attached to a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// The file name as the sender gave it (sanitize it before using it as a path).
    pub filename: String,
    /// The MIME type as the sender gave it (never trusted for rendering).
    pub mime: String,
    /// Size in bytes.
    pub size: u64,
    /// The transfer's id, for a chunked file.
    pub file_id: Option<[u8; 16]>,
    /// SHA-256 of the whole file, once known.
    pub sha256: Option<[u8; 32]>,
    /// Chunks received (or, outgoing, accepted) so far.
    pub received_chunks: u32,
    /// Chunks in all (0 while unknown).
    pub total_chunks: u32,
    /// Where the ready file is on disk.
    pub path: Option<PathBuf>,
}

/// A message to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    /// The other party.
    pub peer: Peer,
    /// Sent or received.
    pub direction: Direction,
    /// The id of the rumor (the unsigned inner event) that carried it.
    pub rumor_id: [u8; 32],
    /// The rumor's `created_at` (seconds since 1970).
    pub created_at: u64,
    /// The text, for a text message.
    pub text: Option<String>,
    /// The file, for a file message.
    pub attachment: Option<Attachment>,
    /// Where it stands.
    pub state: MessageState,
}

/// A recorded message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The store's id of the message.
    pub id: i64,
    /// The other party.
    pub peer: Peer,
    /// Sent or received.
    pub direction: Direction,
    /// The id of the rumor that carried it.
    pub rumor_id: [u8; 32],
    /// The rumor's `created_at`.
    pub created_at: u64,
    /// The text, for a text message.
    pub text: Option<String>,
    /// The file, for a file message.
    pub attachment: Option<Attachment>,
    /// Where it stands.
    pub state: MessageState,
}

/// A conversation: every message with one peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    /// The other party.
    pub peer: Peer,
    /// `created_at` of the newest message.
    pub last_at: u64,
    /// How many messages.
    pub messages: u64,
}

/// An incoming transfer not complete yet, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partial {
    /// The pointer body (JSON text) once it arrived.
    pub pointer_body: Option<String>,
    /// The id of the rumor that carried the pointer (what a receipt names).
    pub pointer_rumor: Option<[u8; 32]>,
    /// The message shown for the transfer, once there is one.
    pub message_id: Option<i64>,
    /// The chunks received, by index, in increasing index order.
    pub chunks: Vec<(u32, Vec<u8>)>,
    /// The chunk count from the chunks (0 while only the pointer arrived).
    pub n: u32,
    /// When the transfer last received something (seconds since 1970).
    pub updated_at: u64,
}

/// A file being sent in chunks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The transfer's id.
    pub file_id: [u8; 16],
    /// The recipient.
    pub recipient: Peer,
    /// The outgoing message that shows the transfer.
    pub message_id: i64,
    /// The file name announced.
    pub filename: String,
    /// The MIME type announced.
    pub mime: String,
    /// Size in bytes, 1 to `MAX_FILE_SIZE`.
    pub size: u64,
    /// Chunk size, `MIN_CHUNK_SIZE` to `MAX_CHUNK_SIZE`.
    pub chunk_size: u32,
    /// Number of chunks, `ceil(size / chunk_size)`.
    pub n: u32,
    /// SHA-256 of the file.
    pub sha256: [u8; 32],
}

/// An outgoing transfer and how far it got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingState {
    /// The transfer.
    pub t: Outgoing,
    /// For each chunk, whether at least one relay accepted it (length `n`).
    pub sent: Vec<bool>,
    /// Whether at least one relay accepted the pointer.
    pub pointer_sent: bool,
    /// When [`Store::outgoing_finish`] was called, if it was (seconds since 1970).
    pub finished_at: Option<u64>,
}

/// The local store: a database and the files of one identity's messages.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    dir: PathBuf,
}

/// Seconds since 1970 now (0 for a clock before 1970).
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A time or size as SQLite's signed integer.
fn int(v: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Invalid(format!("{what} {v} is past 2^63")))
}

fn uint(v: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative {what} {v}")))
}

fn uint32(v: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v} out of range")))
}

fn bytes<const N: usize>(v: Vec<u8>, what: &str) -> Result<[u8; N], StoreError> {
    let len = v.len();
    v.try_into()
        .map_err(|_| StoreError::Corrupt(format!("{what} of {len} bytes, not {N}")))
}

fn path_text<'a>(path: &'a Path, what: &str) -> Result<&'a str, StoreError> {
    path.to_str()
        .ok_or_else(|| StoreError::Invalid(format!("{what} {} is not valid UTF-8", path.display())))
}

/// Attaches a description to an SQLite error.
trait Ctx<T> {
    fn ctx(self, what: &'static str) -> Result<T, StoreError>;
}

impl<T> Ctx<T> for rusqlite::Result<T> {
    fn ctx(self, what: &'static str) -> Result<T, StoreError> {
        self.map_err(db(what))
    }
}

const MESSAGE_COLUMNS: &str = "id, peer, direction, rumor_id, created_at, text, state, \
     state_reason, has_attachment, filename, mime, size, file_id, sha256, received_chunks, \
     total_chunks, path";

/// A `messages` row as SQLite types; checked into a [`Message`] by [`RawMessage::check`].
struct RawMessage {
    id: i64,
    peer: Vec<u8>,
    direction: i64,
    rumor_id: Vec<u8>,
    created_at: i64,
    text: Option<String>,
    state: String,
    state_reason: Option<String>,
    has_attachment: bool,
    filename: Option<String>,
    mime: Option<String>,
    size: Option<i64>,
    file_id: Option<Vec<u8>>,
    sha256: Option<Vec<u8>>,
    received_chunks: Option<i64>,
    total_chunks: Option<i64>,
    path: Option<String>,
}

impl RawMessage {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            peer: row.get(1)?,
            direction: row.get(2)?,
            rumor_id: row.get(3)?,
            created_at: row.get(4)?,
            text: row.get(5)?,
            state: row.get(6)?,
            state_reason: row.get(7)?,
            has_attachment: row.get(8)?,
            filename: row.get(9)?,
            mime: row.get(10)?,
            size: row.get(11)?,
            file_id: row.get(12)?,
            sha256: row.get(13)?,
            received_chunks: row.get(14)?,
            total_chunks: row.get(15)?,
            path: row.get(16)?,
        })
    }

    fn check(self) -> Result<Message, StoreError> {
        let attachment = if self.has_attachment {
            Some(Attachment {
                filename: self.filename.unwrap_or_default(),
                mime: self.mime.unwrap_or_default(),
                size: uint(self.size.unwrap_or(0), "size")?,
                file_id: self.file_id.map(|v| bytes(v, "file id")).transpose()?,
                sha256: self.sha256.map(|v| bytes(v, "SHA-256")).transpose()?,
                received_chunks: uint32(self.received_chunks.unwrap_or(0), "chunk count")?,
                total_chunks: uint32(self.total_chunks.unwrap_or(0), "chunk count")?,
                path: self.path.map(PathBuf::from),
            })
        } else {
            None
        };
        Ok(Message {
            id: self.id,
            peer: bytes(self.peer, "peer key")?,
            direction: Direction::from_code(self.direction)?,
            rumor_id: bytes(self.rumor_id, "rumor id")?,
            created_at: uint(self.created_at, "created_at")?,
            text: self.text,
            attachment,
            state: MessageState::decode(&self.state, self.state_reason)?,
        })
    }
}

/// An `outgoing` row as SQLite types.
struct RawOutgoing {
    file_id: Vec<u8>,
    recipient: Vec<u8>,
    message_id: i64,
    filename: String,
    mime: String,
    size: i64,
    chunk_size: i64,
    n: i64,
    sha256: Vec<u8>,
    pointer_sent: bool,
    finished_at: Option<i64>,
}

const OUTGOING_COLUMNS: &str = "file_id, recipient, message_id, filename, mime, size, \
     chunk_size, n, sha256, pointer_sent, finished_at";

impl RawOutgoing {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            file_id: row.get(0)?,
            recipient: row.get(1)?,
            message_id: row.get(2)?,
            filename: row.get(3)?,
            mime: row.get(4)?,
            size: row.get(5)?,
            chunk_size: row.get(6)?,
            n: row.get(7)?,
            sha256: row.get(8)?,
            pointer_sent: row.get(9)?,
            finished_at: row.get(10)?,
        })
    }
}

impl Store {
    /// Opens the store in `dir`, creating the directory, its subdirectories and the database
    /// when missing, and migrating an older schema.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when a directory cannot be created; [`StoreError::NotADatabase`] when
    /// `kez.sqlite3` is not an SQLite database; [`StoreError::NotAStore`] when it is another
    /// program's; [`StoreError::TooNew`] when a newer KEZ wrote it; [`StoreError::Busy`] when
    /// another process keeps it locked; [`StoreError::Database`] for other SQLite failures.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with_timeout(dir, BUSY_TIMEOUT)
    }

    /// [`Store::open`] with another busy timeout than [`BUSY_TIMEOUT`]: how long each call waits
    /// for another process's write before failing with [`StoreError::Busy`].
    ///
    /// # Errors
    ///
    /// As [`Store::open`].
    pub fn open_with_timeout(dir: &Path, busy: Duration) -> Result<Self, StoreError> {
        for sub in ["", "files", "outgoing", "tmp"] {
            files::create_dir(&dir.join(sub))?;
        }
        files::remove_stale_temps(&dir.join("tmp"), files::STALE_TEMP);
        let path = dir.join(DB_FILE);
        let mut conn = Connection::open(&path).map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => {
                StoreError::NotADatabase { path: path.clone() }
            }
            _ => db("opening the database")(e),
        })?;
        schema::prepare(&mut conn, &path, busy)?;
        Ok(Self {
            conn: Mutex::new(conn),
            dir: dir.to_path_buf(),
        })
    }

    /// The store directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of ready received files.
    #[must_use]
    pub fn files_dir(&self) -> PathBuf {
        self.dir.join("files")
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }

    /// Runs `f` in one `IMMEDIATE` transaction (the write lock is taken at the start, so the
    /// busy timeout applies to it and no read-then-write upgrade can fail midway).
    fn write<T>(
        &self,
        what: &'static str,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(what)?;
        let out = f(&tx)?;
        tx.commit().ctx(what)?;
        Ok(out)
    }

    /// Records a message and returns its id. A message with the same direction and rumor id is
    /// recorded once: adding it again returns the existing id and changes nothing.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for a time or size past 2^63 or a non-UTF-8 attachment path;
    /// database errors.
    pub fn add_message(&self, m: &NewMessage) -> Result<i64, StoreError> {
        let created_at = int(m.created_at, "created_at")?;
        let (state, reason) = m.state.encode();
        let a = m.attachment.as_ref();
        let size = a.map(|a| int(a.size, "size")).transpose()?;
        let path = a
            .and_then(|a| a.path.as_deref())
            .map(|p| path_text(p, "attachment path"))
            .transpose()?;
        self.write("adding a message", |tx| {
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT id FROM messages WHERE direction = ?1 AND rumor_id = ?2",
                    params![m.direction.code(), &m.rumor_id[..]],
                    |row| row.get(0),
                )
                .optional()
                .ctx("looking up a message")?;
            if let Some(id) = existing {
                return Ok(id);
            }
            tx.execute(
                "INSERT INTO messages (peer, direction, rumor_id, created_at, text, state, \
                 state_reason, has_attachment, filename, mime, size, file_id, sha256, \
                 received_chunks, total_chunks, path) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                params![
                    &m.peer[..],
                    m.direction.code(),
                    &m.rumor_id[..],
                    created_at,
                    m.text,
                    state,
                    reason,
                    a.is_some(),
                    a.map(|a| &a.filename),
                    a.map(|a| &a.mime),
                    size,
                    a.and_then(|a| a.file_id.as_ref()).map(|f| &f[..]),
                    a.and_then(|a| a.sha256.as_ref()).map(|h| &h[..]),
                    a.map(|a| a.received_chunks),
                    a.map(|a| a.total_chunks),
                    path,
                ],
            )
            .ctx("adding a message")?;
            Ok(tx.last_insert_rowid())
        })
    }

    fn query_message(
        &self,
        condition: &str,
        params: impl rusqlite::Params,
    ) -> Result<Option<Message>, StoreError> {
        let conn = self.conn()?;
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE {condition}");
        conn.query_row(&sql, params, RawMessage::read)
            .optional()
            .ctx("reading a message")?
            .map(RawMessage::check)
            .transpose()
    }

    /// The message with this store id.
    ///
    /// # Errors
    ///
    /// Database errors; [`StoreError::Corrupt`] for a damaged row.
    pub fn message(&self, id: i64) -> Result<Option<Message>, StoreError> {
        self.query_message("id = ?1", params![id])
    }

    /// The message carried by this rumor (either direction; the outgoing one first if both).
    ///
    /// # Errors
    ///
    /// Database errors; [`StoreError::Corrupt`] for a damaged row.
    pub fn message_by_rumor(&self, rumor_id: &[u8; 32]) -> Result<Option<Message>, StoreError> {
        self.query_message(
            "rumor_id = ?1 ORDER BY direction LIMIT 1",
            params![&rumor_id[..]],
        )
    }

    /// The newest message with `peer` whose attachment has this file id, in this direction.
    ///
    /// # Errors
    ///
    /// Database errors; [`StoreError::Corrupt`] for a damaged row.
    pub fn message_by_file(
        &self,
        peer: &Peer,
        file_id: &[u8; 16],
        direction: Direction,
    ) -> Result<Option<Message>, StoreError> {
        self.query_message(
            "peer = ?1 AND file_id = ?2 AND direction = ?3 ORDER BY id DESC LIMIT 1",
            params![&peer[..], &file_id[..], direction.code()],
        )
    }

    /// Runs one `UPDATE` of a message; [`StoreError::NotFound`] when no row changed.
    fn update_message(
        &self,
        what: &'static str,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<(), StoreError> {
        self.write(what, |tx| match tx.execute(sql, params).ctx(what)? {
            0 => Err(StoreError::NotFound("message")),
            _ => Ok(()),
        })
    }

    /// Sets a message's state.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown id; database errors.
    pub fn set_state(&self, id: i64, state: &MessageState) -> Result<(), StoreError> {
        let (code, reason) = state.encode();
        self.update_message(
            "setting a message state",
            "UPDATE messages SET state = ?2, state_reason = ?3 WHERE id = ?1",
            params![id, code, reason],
        )
    }

    /// Sets the chunk counts of a message's attachment ("Receiving N/M").
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown id or a message without attachment; database
    /// errors.
    pub fn set_progress(&self, id: i64, received: u32, total: u32) -> Result<(), StoreError> {
        self.update_message(
            "setting progress",
            "UPDATE messages SET received_chunks = ?2, total_chunks = ?3 \
             WHERE id = ?1 AND has_attachment = 1",
            params![id, received, total],
        )
    }

    /// Sets where a message's attachment is on disk.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown id or a message without attachment;
    /// [`StoreError::Invalid`] for a non-UTF-8 path; database errors.
    pub fn set_attachment_path(&self, id: i64, path: &Path) -> Result<(), StoreError> {
        let text = path_text(path, "attachment path")?;
        self.update_message(
            "setting an attachment path",
            "UPDATE messages SET path = ?2 WHERE id = ?1 AND has_attachment = 1",
            params![id, text],
        )
    }

    /// Replaces a message's attachment fields (an incoming file's pointer arrived after its
    /// first chunks: its name, type, size and hash are known now).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown id or a message without attachment;
    /// [`StoreError::Invalid`] for a non-UTF-8 path; database errors.
    pub fn update_attachment(&self, id: i64, a: &Attachment) -> Result<(), StoreError> {
        let path = match &a.path {
            Some(p) => Some(path_text(p, "attachment path")?),
            None => None,
        };
        let size = int(a.size, "size")?;
        self.update_message(
            "updating an attachment",
            "UPDATE messages SET filename = ?2, mime = ?3, size = ?4, file_id = ?5, sha256 = ?6, \
             received_chunks = ?7, total_chunks = ?8, path = ?9 \
             WHERE id = ?1 AND has_attachment = 1",
            params![
                id,
                a.filename,
                a.mime,
                size,
                a.file_id.as_ref().map(|f| &f[..]),
                a.sha256.as_ref().map(|h| &h[..]),
                a.received_chunks,
                a.total_chunks,
                path
            ],
        )
    }

    /// Chunk `i` of the transfer (`sender`, `file_id`), if stored.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub fn partial_chunk(
        &self,
        sender: &Peer,
        file_id: &[u8; 16],
        i: u32,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = self.conn()?;
        conn.query_row(
            "SELECT data FROM partial_chunks WHERE sender = ?1 AND file_id = ?2 AND idx = ?3",
            params![&sender[..], &file_id[..], i],
            |r| r.get(0),
        )
        .optional()
        .ctx("reading a chunk")
    }

    /// Every conversation, the most recent first.
    ///
    /// # Errors
    ///
    /// Database errors; [`StoreError::Corrupt`] for a damaged row.
    pub fn conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare(
                "SELECT peer, max(created_at), count(*) FROM messages GROUP BY peer \
                 ORDER BY max(created_at) DESC, peer",
            )
            .ctx("listing conversations")?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    row.get::<_, Vec<u8>>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })
            .ctx("listing conversations")?;
        rows.map(|row| {
            let (peer, last_at, count) = row.ctx("listing conversations")?;
            Ok(Conversation {
                peer: bytes(peer, "peer key")?,
                last_at: uint(last_at, "created_at")?,
                messages: uint(count, "message count")?,
            })
        })
        .collect()
    }

    /// Every message with `peer`, oldest first (by `created_at`, then by arrival).
    ///
    /// # Errors
    ///
    /// Database errors; [`StoreError::Corrupt`] for a damaged row.
    pub fn messages(&self, peer: &Peer) -> Result<Vec<Message>, StoreError> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE peer = ?1 ORDER BY created_at, id"
        );
        let mut stmt = conn.prepare(&sql).ctx("listing messages")?;
        let rows = stmt
            .query_map(params![&peer[..]], RawMessage::read)
            .ctx("listing messages")?;
        rows.map(|row| row.ctx("listing messages")?.check())
            .collect()
    }

    // ----- incoming partial transfers -----

    /// Stores chunk `i` of `n` of the transfer (`sender`, `file_id`), creating the transfer if
    /// it is the first thing received. A chunk already stored at `i` is kept as it is (the
    /// caller compares and decides about conflicts).
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when `n` is 0 or over `MAX_CHUNKS`, `i ≥ n`, the chunk is empty
    /// or over `MAX_CHUNK_SIZE`, or the transfer's chunks would exceed `MAX_FILE_SIZE` in all;
    /// [`StoreError::Conflict`] when the transfer already has another chunk count; database
    /// errors.
    pub fn partial_put_chunk(
        &self,
        sender: &Peer,
        file_id: &[u8; 16],
        i: u32,
        n: u32,
        data: &[u8],
    ) -> Result<(), StoreError> {
        if n == 0 || n > MAX_CHUNKS {
            return Err(StoreError::Invalid(format!(
                "chunk count {n} (1 to {MAX_CHUNKS})"
            )));
        }
        if i >= n {
            return Err(StoreError::Invalid(format!("chunk index {i} of {n}")));
        }
        if data.is_empty() || data.len() > MAX_CHUNK_SIZE as usize {
            return Err(StoreError::Invalid(format!(
                "chunk of {} bytes (1 to {MAX_CHUNK_SIZE})",
                data.len()
            )));
        }
        let at = int(now(), "time")?;
        self.write("storing a chunk", |tx| {
            let key = params![&sender[..], &file_id[..]];
            let found: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT n, bytes FROM partials WHERE sender = ?1 AND file_id = ?2",
                    key,
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
                .ctx("reading a partial transfer")?;
            let held = match found {
                None => {
                    tx.execute(
                        "INSERT INTO partials (sender, file_id, n, bytes, created_at, updated_at) \
                         VALUES (?1, ?2, ?3, 0, ?4, ?4)",
                        params![&sender[..], &file_id[..], n, at],
                    )
                    .ctx("creating a partial transfer")?;
                    0
                }
                Some((0, held)) => {
                    tx.execute(
                        "UPDATE partials SET n = ?3 WHERE sender = ?1 AND file_id = ?2",
                        params![&sender[..], &file_id[..], n],
                    )
                    .ctx("updating a partial transfer")?;
                    held
                }
                Some((known, held)) if known == i64::from(n) => held,
                Some((known, _)) => {
                    return Err(StoreError::Conflict(format!(
                        "chunk count {n}, the transfer has {known}"
                    )));
                }
            };
            let added = tx
                .execute(
                    "INSERT OR IGNORE INTO partial_chunks (sender, file_id, idx, data) \
                     VALUES (?1, ?2, ?3, ?4)",
                    params![&sender[..], &file_id[..], i, data],
                )
                .ctx("storing a chunk")?;
            let len = data.len() as i64;
            let total = if added > 0 { held + len } else { held };
            if total > i64::from(MAX_FILE_SIZE) {
                // Dropping the transaction rolls the insert back.
                return Err(StoreError::Invalid(format!(
                    "the transfer's chunks would hold {total} bytes, over {MAX_FILE_SIZE}"
                )));
            }
            tx.execute(
                "UPDATE partials SET bytes = ?3, updated_at = ?4 WHERE sender = ?1 AND file_id = ?2",
                params![&sender[..], &file_id[..], total, at],
            )
            .ctx("updating a partial transfer")?;
            Ok(())
        })
    }

    /// Stores the pointer body of the transfer (`sender`, `file_id`) and the message that shows
    /// it, creating the transfer if the pointer comes first. A pointer or message already
    /// recorded is kept (the caller compares a second pointer with the first).
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for a body over `MAX_BODY`; [`StoreError::NotFound`] for an
    /// unknown message id; database errors.
    pub fn partial_put_pointer(
        &self,
        sender: &Peer,
        file_id: &[u8; 16],
        pointer_body: &str,
        pointer_rumor: &[u8; 32],
        message_id: i64,
    ) -> Result<(), StoreError> {
        if pointer_body.len() > MAX_BODY {
            return Err(StoreError::Invalid(format!(
                "pointer body of {} bytes, over {MAX_BODY}",
                pointer_body.len()
            )));
        }
        let at = int(now(), "time")?;
        self.write("storing a pointer", |tx| {
            let exists: Option<i64> = tx
                .query_row(
                    "SELECT id FROM messages WHERE id = ?1",
                    params![message_id],
                    |r| r.get(0),
                )
                .optional()
                .ctx("looking up a message")?;
            if exists.is_none() {
                return Err(StoreError::NotFound("message"));
            }
            tx.execute(
                "INSERT INTO partials (sender, file_id, n, bytes, pointer_body, pointer_rumor, \
                 message_id, created_at, updated_at) VALUES (?1, ?2, 0, 0, ?3, ?6, ?4, ?5, ?5) \
                 ON CONFLICT (sender, file_id) DO UPDATE SET \
                 pointer_rumor = CASE WHEN pointer_body IS NULL THEN excluded.pointer_rumor \
                 ELSE pointer_rumor END, \
                 pointer_body = coalesce(pointer_body, excluded.pointer_body), \
                 message_id = coalesce(message_id, excluded.message_id), \
                 updated_at = excluded.updated_at",
                params![
                    &sender[..],
                    &file_id[..],
                    pointer_body,
                    message_id,
                    at,
                    &pointer_rumor[..]
                ],
            )
            .ctx("storing a pointer")?;
            Ok(())
        })
    }

    /// The transfer (`sender`, `file_id`) as stored, if there is one.
    ///
    /// # Errors
    ///
    /// Database errors; [`StoreError::Corrupt`] for a damaged row.
    pub fn partial_load(
        &self,
        sender: &Peer,
        file_id: &[u8; 16],
    ) -> Result<Option<Partial>, StoreError> {
        let mut conn = self.conn()?;
        // One read transaction, so the chunks match the row even while another process writes.
        let tx = conn.transaction().ctx("loading a partial transfer")?;
        let key = params![&sender[..], &file_id[..]];
        #[allow(clippy::type_complexity)]
        let row: Option<(Option<String>, Option<Vec<u8>>, Option<i64>, i64, i64)> = tx
            .query_row(
                "SELECT pointer_body, pointer_rumor, message_id, n, updated_at FROM partials \
                 WHERE sender = ?1 AND file_id = ?2",
                key,
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .ctx("loading a partial transfer")?;
        let Some((pointer_body, pointer_rumor, message_id, n, updated_at)) = row else {
            return Ok(None);
        };
        let pointer_rumor =
            match pointer_rumor {
                None => None,
                Some(bytes) => Some(<[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                    StoreError::Corrupt("a pointer rumor id is not 32 bytes".into())
                })?),
            };
        let mut stmt = tx
            .prepare(
                "SELECT idx, data FROM partial_chunks WHERE sender = ?1 AND file_id = ?2 \
                 ORDER BY idx",
            )
            .ctx("loading chunks")?;
        let chunks = stmt
            .query_map(key, |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .ctx("loading chunks")?
            .map(|row| {
                let (i, data) = row.ctx("loading chunks")?;
                Ok((uint32(i, "chunk index")?, data))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(Partial {
            pointer_body,
            pointer_rumor,
            message_id,
            chunks,
            n: uint32(n, "chunk count")?,
            updated_at: uint(updated_at, "updated_at")?,
        }))
    }

    /// Every incoming transfer still open: sender, file id and when it last received something,
    /// the least recent first.
    ///
    /// # Errors
    ///
    /// Database errors; [`StoreError::Corrupt`] for a damaged row.
    pub fn partial_list(&self) -> Result<Vec<(Peer, [u8; 16], u64)>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare("SELECT sender, file_id, updated_at FROM partials ORDER BY updated_at")
            .ctx("listing partial transfers")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .ctx("listing partial transfers")?;
        rows.map(|row| {
            let (sender, file_id, at) = row.ctx("listing partial transfers")?;
            Ok((
                bytes(sender, "sender key")?,
                bytes(file_id, "file id")?,
                uint(at, "updated_at")?,
            ))
        })
        .collect()
    }

    /// Forgets the transfer (`sender`, `file_id`) and its chunks (done when it is complete or
    /// failed). Removing a transfer that is not there is not an error.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub fn partial_remove(&self, sender: &Peer, file_id: &[u8; 16]) -> Result<(), StoreError> {
        self.write("removing a partial transfer", |tx| {
            tx.execute(
                "DELETE FROM partials WHERE sender = ?1 AND file_id = ?2",
                params![&sender[..], &file_id[..]],
            )
            .ctx("removing a partial transfer")?;
            Ok(())
        })
    }

    /// Removes the incoming transfers that received nothing since `older_than` (seconds since
    /// 1970) and marks their messages still pending `Failed("expired")`. Returns how many
    /// transfers were removed.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for a time past 2^63; database errors.
    pub fn partial_cleanup(&self, older_than: u64) -> Result<usize, StoreError> {
        let before = int(older_than, "time")?;
        self.write("cleaning up partial transfers", |tx| {
            tx.execute(
                "UPDATE messages SET state = 'failed', state_reason = 'expired' \
                 WHERE state = 'pending' AND (\
                   id IN (SELECT message_id FROM partials \
                          WHERE updated_at < ?1 AND message_id IS NOT NULL) \
                   OR (direction = 1 AND EXISTS (SELECT 1 FROM partials p \
                          WHERE p.updated_at < ?1 AND p.sender = messages.peer \
                          AND p.file_id = messages.file_id)))",
                params![before],
            )
            .ctx("expiring messages")?;
            tx.execute(
                "DELETE FROM partials WHERE updated_at < ?1",
                params![before],
            )
            .ctx("removing partial transfers")
        })
    }

    // ----- ready attachments -----

    /// Saves a received file under `files/`, named after `suggested_name` once sanitized
    /// ([`crate::sanitize::filename`]); when the name is taken, ` (1)`, ` (2)`, … is added before
    /// the extension. The bytes are written to a temporary file and synced before the file
    /// appears under its name: `files/` never holds a half-written file, and no existing file
    /// is replaced. Returns the path of the saved file.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when writing fails (nothing is left behind);
    /// [`StoreError::NoFreeName`] when a thousand names are taken.
    pub fn save_file(&self, suggested_name: &str, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        files::save_unique(
            &self.dir.join("tmp"),
            &self.files_dir(),
            suggested_name,
            bytes,
        )
    }

    // ----- outgoing transfers -----

    /// Starts an outgoing transfer: copies `source` to `outgoing/<file id hex>` (checking its
    /// size and SHA-256 against `t`) and records the transfer with no chunk sent yet.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when `t` breaks the limits of SPEC.md §16.3 (size 1 to
    /// `MAX_FILE_SIZE`, chunk size `MIN_CHUNK_SIZE` to `MAX_CHUNK_SIZE`, `n = ceil(size /
    /// chunk_size)`); [`StoreError::SourceMismatch`] when the file is not what `t` says;
    /// [`StoreError::Conflict`] when a transfer with this file id exists;
    /// [`StoreError::NotFound`] for an unknown message id; [`StoreError::Io`]; database errors.
    pub fn outgoing_begin(&self, t: &Outgoing, source: &Path) -> Result<(), StoreError> {
        if t.size == 0 || t.size > u64::from(MAX_FILE_SIZE) {
            return Err(StoreError::Invalid(format!(
                "file size {} (1 to {MAX_FILE_SIZE})",
                t.size
            )));
        }
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&t.chunk_size) {
            return Err(StoreError::Invalid(format!(
                "chunk size {} ({MIN_CHUNK_SIZE} to {MAX_CHUNK_SIZE})",
                t.chunk_size
            )));
        }
        if u64::from(t.n) != t.size.div_ceil(u64::from(t.chunk_size)) {
            return Err(StoreError::Invalid(format!(
                "chunk count {} for {} bytes in chunks of {}",
                t.n, t.size, t.chunk_size
            )));
        }
        if self.outgoing_get(&t.file_id)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "outgoing transfer {} already exists",
                files::hex(&t.file_id)
            )));
        }
        let target = self.outgoing_data_path(&t.file_id);
        files::copy_checked(&self.dir.join("tmp"), source, &target, t.size, &t.sha256)?;
        let at = int(now(), "time")?;
        let size = int(t.size, "size")?;
        let recorded = self.write("recording an outgoing transfer", |tx| {
            let exists: Option<i64> = tx
                .query_row(
                    "SELECT id FROM messages WHERE id = ?1",
                    params![t.message_id],
                    |r| r.get(0),
                )
                .optional()
                .ctx("looking up a message")?;
            if exists.is_none() {
                return Err(StoreError::NotFound("message"));
            }
            let added = tx
                .execute(
                    "INSERT OR IGNORE INTO outgoing (file_id, recipient, message_id, filename, \
                     mime, size, chunk_size, n, sha256, pointer_sent, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?10)",
                    params![
                        &t.file_id[..],
                        &t.recipient[..],
                        t.message_id,
                        t.filename,
                        t.mime,
                        size,
                        t.chunk_size,
                        t.n,
                        &t.sha256[..],
                        at
                    ],
                )
                .ctx("recording an outgoing transfer")?;
            if added == 0 {
                return Err(StoreError::Conflict(format!(
                    "outgoing transfer {} already exists",
                    files::hex(&t.file_id)
                )));
            }
            Ok(())
        });
        if let Err(StoreError::NotFound(_)) = &recorded {
            // No row refers to the copy: do not leave it behind.
            files::remove_if_exists(&target)?;
        }
        recorded
    }

    /// Records that at least one relay accepted chunk `i` of an outgoing transfer.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown transfer; [`StoreError::Invalid`] when `i ≥ n`;
    /// database errors.
    pub fn outgoing_mark_sent(&self, file_id: &[u8; 16], i: u32) -> Result<(), StoreError> {
        let at = int(now(), "time")?;
        self.write("marking a chunk sent", |tx| {
            let n: Option<i64> = tx
                .query_row(
                    "SELECT n FROM outgoing WHERE file_id = ?1",
                    params![&file_id[..]],
                    |r| r.get(0),
                )
                .optional()
                .ctx("reading an outgoing transfer")?;
            let n = n.ok_or(StoreError::NotFound("outgoing transfer"))?;
            if i64::from(i) >= n {
                return Err(StoreError::Invalid(format!("chunk index {i} of {n}")));
            }
            tx.execute(
                "INSERT OR IGNORE INTO outgoing_sent (file_id, idx) VALUES (?1, ?2)",
                params![&file_id[..], i],
            )
            .ctx("marking a chunk sent")?;
            tx.execute(
                "UPDATE outgoing SET updated_at = ?2 WHERE file_id = ?1",
                params![&file_id[..], at],
            )
            .ctx("marking a chunk sent")?;
            Ok(())
        })
    }

    /// Records that at least one relay accepted the pointer of an outgoing transfer.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown transfer; database errors.
    pub fn outgoing_mark_pointer_sent(&self, file_id: &[u8; 16]) -> Result<(), StoreError> {
        let at = int(now(), "time")?;
        self.write("marking a pointer sent", |tx| {
            match tx
                .execute(
                    "UPDATE outgoing SET pointer_sent = 1, updated_at = ?2 WHERE file_id = ?1",
                    params![&file_id[..], at],
                )
                .ctx("marking a pointer sent")?
            {
                0 => Err(StoreError::NotFound("outgoing transfer")),
                _ => Ok(()),
            }
        })
    }

    fn outgoing_query(
        &self,
        condition: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<OutgoingState>, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction().ctx("reading outgoing transfers")?;
        let raws = {
            let sql = format!(
                "SELECT {OUTGOING_COLUMNS} FROM outgoing WHERE {condition} ORDER BY created_at"
            );
            let mut stmt = tx.prepare(&sql).ctx("reading outgoing transfers")?;
            let rows = stmt
                .query_map(params, RawOutgoing::read)
                .ctx("reading outgoing transfers")?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading outgoing transfers")?
        };
        let mut stmt = tx
            .prepare("SELECT idx FROM outgoing_sent WHERE file_id = ?1")
            .ctx("reading sent chunks")?;
        let mut out = Vec::with_capacity(raws.len());
        for raw in raws {
            let n = uint32(raw.n, "chunk count")?;
            if n > MAX_CHUNKS {
                return Err(StoreError::Corrupt(format!("chunk count {n}")));
            }
            let mut sent = vec![false; n as usize];
            let indices = stmt
                .query_map(params![&raw.file_id[..]], |r| r.get::<_, i64>(0))
                .ctx("reading sent chunks")?;
            for idx in indices {
                let idx = uint32(idx.ctx("reading sent chunks")?, "chunk index")?;
                let slot = sent
                    .get_mut(idx as usize)
                    .ok_or_else(|| StoreError::Corrupt(format!("sent chunk {idx} of {n}")))?;
                *slot = true;
            }
            out.push(OutgoingState {
                t: Outgoing {
                    file_id: bytes(raw.file_id, "file id")?,
                    recipient: bytes(raw.recipient, "recipient key")?,
                    message_id: raw.message_id,
                    filename: raw.filename,
                    mime: raw.mime,
                    size: uint(raw.size, "size")?,
                    chunk_size: uint32(raw.chunk_size, "chunk size")?,
                    n,
                    sha256: bytes(raw.sha256, "SHA-256")?,
                },
                sent,
                pointer_sent: raw.pointer_sent,
                finished_at: raw
                    .finished_at
                    .map(|t| uint(t, "finished_at"))
                    .transpose()?,
            });
        }
        Ok(out)
    }

    /// The outgoing transfers not finished yet (to resume after a restart), oldest first.
    ///
    /// # Errors
    ///
    /// Database errors; [`StoreError::Corrupt`] for a damaged row.
    pub fn outgoing_pending(&self) -> Result<Vec<OutgoingState>, StoreError> {
        self.outgoing_query("finished_at IS NULL", [])
    }

    /// The outgoing transfer with this file id, finished or not (to answer a resend request).
    ///
    /// # Errors
    ///
    /// Database errors; [`StoreError::Corrupt`] for a damaged row.
    pub fn outgoing_get(&self, file_id: &[u8; 16]) -> Result<Option<OutgoingState>, StoreError> {
        Ok(self
            .outgoing_query("file_id = ?1", params![&file_id[..]])?
            .into_iter()
            .next())
    }

    /// Where the copy of an outgoing file is kept: `outgoing/<file id as 32 hex digits>`.
    #[must_use]
    pub fn outgoing_data_path(&self, file_id: &[u8; 16]) -> PathBuf {
        self.dir.join("outgoing").join(files::hex(file_id))
    }

    /// Marks an outgoing transfer finished: it leaves [`Store::outgoing_pending`], but its row
    /// and copy stay (to answer resend requests) until [`Store::outgoing_cleanup`] removes them.
    /// Finishing twice keeps the first time.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown transfer; database errors.
    pub fn outgoing_finish(&self, file_id: &[u8; 16]) -> Result<(), StoreError> {
        let at = int(now(), "time")?;
        self.write("finishing an outgoing transfer", |tx| {
            match tx
                .execute(
                    "UPDATE outgoing SET finished_at = coalesce(finished_at, ?2), updated_at = ?2 \
                     WHERE file_id = ?1",
                    params![&file_id[..], at],
                )
                .ctx("finishing an outgoing transfer")?
            {
                0 => Err(StoreError::NotFound("outgoing transfer")),
                _ => Ok(()),
            }
        })
    }

    /// Removes the outgoing transfers finished before `older_than` (seconds since 1970), rows
    /// and copies, and copies in `outgoing/` that no transfer refers to and that were last
    /// modified before `older_than`. Unfinished transfers are kept. Returns how many transfers
    /// were removed.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for a time past 2^63; [`StoreError::Io`] when a copy cannot be
    /// removed (its row is removed all the same); database errors.
    pub fn outgoing_cleanup(&self, older_than: u64) -> Result<usize, StoreError> {
        let before = int(older_than, "time")?;
        let removed: Vec<Vec<u8>> = self.write("cleaning up outgoing transfers", |tx| {
            let ids = {
                let mut stmt = tx
                    .prepare("SELECT file_id FROM outgoing WHERE finished_at < ?1")
                    .ctx("cleaning up outgoing transfers")?;
                let rows = stmt
                    .query_map(params![before], |r| r.get::<_, Vec<u8>>(0))
                    .ctx("cleaning up outgoing transfers")?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
                    .ctx("cleaning up outgoing transfers")?
            };
            tx.execute(
                "DELETE FROM outgoing WHERE finished_at < ?1",
                params![before],
            )
            .ctx("cleaning up outgoing transfers")?;
            Ok(ids)
        })?;
        for id in &removed {
            files::remove_if_exists(&self.dir.join("outgoing").join(files::hex(id)))?;
        }
        self.remove_orphan_copies(older_than)?;
        Ok(removed.len())
    }

    /// Removes files in `outgoing/` that no transfer refers to (a crash between copying and
    /// recording) and that were last modified before `older_than`.
    fn remove_orphan_copies(&self, older_than: u64) -> Result<(), StoreError> {
        let dir = self.dir.join("outgoing");
        let entries = std::fs::read_dir(&dir).map_err(error::io("listing", &dir))?;
        let cutoff = UNIX_EPOCH + Duration::from_secs(older_than);
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(parse_hex16) else {
                continue;
            };
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < cutoff);
            if old && self.outgoing_get(&id)?.is_none() {
                files::remove_if_exists(&entry.path())?;
            }
        }
        Ok(())
    }

    // ----- subscription cursor -----

    /// The `created_at` of the newest wrap processed, if any was.
    ///
    /// # Errors
    ///
    /// Database errors; [`StoreError::Corrupt`] for a negative value.
    pub fn cursor(&self) -> Result<Option<u64>, StoreError> {
        let conn = self.conn()?;
        conn.query_row("SELECT value FROM settings WHERE key = 'cursor'", [], |r| {
            r.get::<_, i64>(0)
        })
        .optional()
        .ctx("reading the cursor")?
        .map(|v| uint(v, "cursor"))
        .transpose()
    }

    /// Records that wraps up to `at` were processed. The cursor only moves forward: a value
    /// older than the stored one (another process got further) is ignored.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for a time past 2^63; database errors.
    pub fn set_cursor(&self, at: u64) -> Result<(), StoreError> {
        let at = int(at, "cursor")?;
        self.write("setting the cursor", |tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES ('cursor', ?1) \
                 ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
                params![at],
            )
            .ctx("setting the cursor")?;
            Ok(())
        })
    }
}

/// 32 lowercase hex digits as 16 bytes.
fn parse_hex16(s: &str) -> Option<[u8; 16]> {
    if s.len() != 32 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 16];
    for (slot, pair) in out.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex16_round_trips() {
        let id = [0xa5u8; 16];
        assert_eq!(parse_hex16(&files::hex(&id)), Some(id));
        assert_eq!(parse_hex16("00"), None);
        assert_eq!(parse_hex16(&"A".repeat(32)), None);
        assert_eq!(parse_hex16(".tmp-0011223344556677889900aa"), None);
    }

    #[test]
    fn states_round_trip() {
        for s in [
            MessageState::Sending,
            MessageState::Sent,
            MessageState::Delivered,
            MessageState::Received,
            MessageState::Pending,
            MessageState::Ready,
            MessageState::Failed("hash_mismatch".into()),
        ] {
            let (code, reason) = s.encode();
            assert_eq!(
                MessageState::decode(code, reason.map(str::to_owned)).ok(),
                Some(s.clone())
            );
        }
        assert!(matches!(
            MessageState::decode("bogus", None),
            Err(StoreError::Corrupt(_))
        ));
    }
}
