//! The database schema and its migrations, versioned by `PRAGMA user_version`.
//!
//! Version 0 is an empty database. Each migration moves the schema one version up inside the
//! same write transaction that reads the version, so two processes opening a new store at once
//! cannot both migrate it.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::error::{StoreError, db};

/// The schema version this build writes and reads.
pub(super) const VERSION: i64 = 1;

/// Version 1: messages (with their attachment), incoming partial transfers and their chunks,
/// outgoing transfers and the chunks relays accepted, and small settings (the subscription
/// cursor).
const V1: &str = "
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    peer            BLOB    NOT NULL CHECK (length(peer) = 32),
    direction       INTEGER NOT NULL CHECK (direction IN (0, 1)),
    rumor_id        BLOB    NOT NULL CHECK (length(rumor_id) = 32),
    created_at      INTEGER NOT NULL CHECK (created_at >= 0),
    text            TEXT,
    state           TEXT    NOT NULL,
    state_reason    TEXT,
    has_attachment  INTEGER NOT NULL CHECK (has_attachment IN (0, 1)),
    filename        TEXT,
    mime            TEXT,
    size            INTEGER,
    file_id         BLOB    CHECK (file_id IS NULL OR length(file_id) = 16),
    sha256          BLOB    CHECK (sha256 IS NULL OR length(sha256) = 32),
    received_chunks INTEGER,
    total_chunks    INTEGER,
    path            TEXT,
    UNIQUE (direction, rumor_id)
);
CREATE INDEX messages_by_peer ON messages (peer, created_at, id);
CREATE INDEX messages_by_file ON messages (peer, file_id, direction) WHERE file_id IS NOT NULL;

CREATE TABLE partials (
    sender       BLOB    NOT NULL CHECK (length(sender) = 32),
    file_id      BLOB    NOT NULL CHECK (length(file_id) = 16),
    n            INTEGER NOT NULL CHECK (n >= 0),
    bytes        INTEGER NOT NULL CHECK (bytes >= 0),
    pointer_body TEXT,
    pointer_rumor BLOB   CHECK (pointer_rumor IS NULL OR length(pointer_rumor) = 32),
    message_id   INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (sender, file_id)
) WITHOUT ROWID;
CREATE INDEX partials_by_age ON partials (updated_at);

CREATE TABLE partial_chunks (
    sender  BLOB    NOT NULL,
    file_id BLOB    NOT NULL,
    idx     INTEGER NOT NULL CHECK (idx >= 0),
    data    BLOB    NOT NULL,
    PRIMARY KEY (sender, file_id, idx),
    FOREIGN KEY (sender, file_id) REFERENCES partials (sender, file_id) ON DELETE CASCADE
);

CREATE TABLE outgoing (
    file_id      BLOB    PRIMARY KEY CHECK (length(file_id) = 16),
    recipient    BLOB    NOT NULL CHECK (length(recipient) = 32),
    message_id   INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    filename     TEXT    NOT NULL,
    mime         TEXT    NOT NULL,
    size         INTEGER NOT NULL CHECK (size >= 0),
    chunk_size   INTEGER NOT NULL CHECK (chunk_size >= 0),
    n            INTEGER NOT NULL CHECK (n >= 0),
    sha256       BLOB    NOT NULL CHECK (length(sha256) = 32),
    pointer_sent INTEGER NOT NULL CHECK (pointer_sent IN (0, 1)),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER
) WITHOUT ROWID;

CREATE TABLE outgoing_sent (
    file_id BLOB    NOT NULL REFERENCES outgoing (file_id) ON DELETE CASCADE,
    idx     INTEGER NOT NULL CHECK (idx >= 0),
    PRIMARY KEY (file_id, idx)
) WITHOUT ROWID;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
";

/// Sets the connection up (busy timeout, WAL, foreign keys) and brings the schema to
/// [`VERSION`].
pub(super) fn prepare(
    conn: &mut Connection,
    path: &Path,
    busy: std::time::Duration,
) -> Result<(), StoreError> {
    conn.busy_timeout(busy)
        .map_err(db("setting the busy timeout"))?;
    // The first statement that reads the file is where a garbage file shows.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(|e| not_a_database(e, path, "turning on write-ahead logging"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "the database refused write-ahead logging (journal mode {mode})"
        )));
    }
    // NORMAL in WAL mode: a commit survives the process being killed (the kill tests); only
    // a power loss can take back the last commits, and then a resend request or the sender's
    // resume covers them. FULL fsyncs every commit, which made receiving a chunked file
    // crawl (three commits per chunk) on a loaded disk.
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
        .map_err(db("setting pragmas"))?;
    migrate(conn, path)
}

fn not_a_database(e: rusqlite::Error, path: &Path, what: &'static str) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => StoreError::NotADatabase {
            path: path.to_path_buf(),
        },
        _ => db(what)(e),
    }
}

/// Runs the migrations from the database's version to [`VERSION`].
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| not_a_database(e, path, "starting the schema check"))?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|e| not_a_database(e, path, "reading the schema version"))?;
    if version > VERSION {
        return Err(StoreError::TooNew {
            found: version,
            supported: VERSION,
        });
    }
    if version < 0 {
        return Err(StoreError::Corrupt(format!(
            "negative schema version {version}"
        )));
    }
    if version == VERSION {
        return Ok(());
    }
    if version == 0 {
        let tables: i64 = tx
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
                [],
                |row| row.get(0),
            )
            .map_err(db("reading the schema"))?;
        if tables > 0 {
            return Err(StoreError::NotAStore {
                path: path.to_path_buf(),
            });
        }
        tx.execute_batch(V1).map_err(db("creating the schema"))?;
    }
    // Later versions: `if version < 2 { ... }` and so on, each step in this transaction.
    tx.pragma_update(None, "user_version", VERSION)
        .map_err(db("writing the schema version"))?;
    tx.commit().map_err(db("committing the schema"))
}
