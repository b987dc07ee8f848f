//! The store's error type.

use std::fmt;
use std::path::PathBuf;

/// Why a store operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// A file or directory of the store could not be read, written, created or renamed.
    Io {
        /// What the store was doing.
        what: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The database file exists but is not an SQLite database (or is encrypted or damaged
    /// beyond its header).
    NotADatabase {
        /// The database file.
        path: PathBuf,
    },
    /// The database is an SQLite database but not a KEZ store: it has tables of its own and
    /// no KEZ schema version.
    NotAStore {
        /// The database file.
        path: PathBuf,
    },
    /// The database was written by a newer version of KEZ whose schema this one does not know.
    TooNew {
        /// The schema version found in the database.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// A value read from the database is not what this schema allows (a damaged or hand-edited
    /// database).
    Corrupt(String),
    /// Another process held the database locked for longer than the busy timeout.
    Busy {
        /// What the store was doing.
        what: &'static str,
    },
    /// Any other SQLite failure.
    Database {
        /// What the store was doing.
        what: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The message, partial transfer or outgoing transfer named by the caller does not exist.
    NotFound(&'static str),
    /// An argument is out of range (a chunk index past the count, a chunk or file over the
    /// limits of SPEC.md §16.1, a time past 2^63, a path that is not UTF-8).
    Invalid(String),
    /// The request contradicts what the store already holds (a chunk count different from the
    /// one recorded for the transfer, an outgoing transfer begun twice).
    Conflict(String),
    /// The file copied for an outgoing transfer does not have the announced size or SHA-256
    /// (it changed after it was hashed).
    SourceMismatch {
        /// The file that was copied.
        path: PathBuf,
    },
    /// No free name was found for a file to save (every candidate up to a bound exists).
    NoFreeName(String),
    /// A thread panicked while holding the store's connection; the handle can no longer be
    /// used (open the store again).
    Poisoned,
}

impl StoreError {
    /// A short stable name of the error's class, for `--json` errors and logs.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Io { .. } => "io",
            Self::NotADatabase { .. } => "not_a_database",
            Self::NotAStore { .. } => "not_a_store",
            Self::TooNew { .. } => "too_new",
            Self::Corrupt(_) => "corrupt",
            Self::Busy { .. } => "busy",
            Self::Database { .. } => "database",
            Self::NotFound(_) => "not_found",
            Self::Invalid(_) => "invalid",
            Self::Conflict(_) => "conflict",
            Self::SourceMismatch { .. } => "source_mismatch",
            Self::NoFreeName(_) => "no_free_name",
            Self::Poisoned => "poisoned",
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { what, path, source } => {
                write!(f, "store: {what} {}: {source}", path.display())
            }
            Self::NotADatabase { path } => write!(
                f,
                "store: {} is not an SQLite database (damaged, or another kind of file)",
                path.display()
            ),
            Self::NotAStore { path } => write!(
                f,
                "store: {} is an SQLite database of another program, not a KEZ store",
                path.display()
            ),
            Self::TooNew { found, supported } => write!(
                f,
                "store: the database has schema version {found}, newer than this build's \
                 {supported}: upgrade KEZ"
            ),
            Self::Corrupt(what) => write!(f, "store: damaged database: {what}"),
            Self::Busy { what } => write!(
                f,
                "store: {what}: the database stayed locked by another process past the busy \
                 timeout"
            ),
            Self::Database { what, source } => write!(f, "store: {what}: {source}"),
            Self::NotFound(what) => write!(f, "store: no such {what}"),
            Self::Invalid(what) => write!(f, "store: invalid argument: {what}"),
            Self::Conflict(what) => write!(f, "store: conflict: {what}"),
            Self::SourceMismatch { path } => write!(
                f,
                "store: {} does not have the size or SHA-256 announced for it (it changed?)",
                path.display()
            ),
            Self::NoFreeName(name) => write!(f, "store: no free file name for {name:?}"),
            Self::Poisoned => write!(
                f,
                "store: a thread panicked while using the database; open the store again"
            ),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Database { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Maps an SQLite error to a [`StoreError`], telling "busy" and "not a database" apart.
pub(super) fn db(what: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |source| match source.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StoreError::Busy { what }
        }
        _ => StoreError::Database { what, source },
    }
}

/// Maps an I/O error on `path` to a [`StoreError`].
pub(super) fn io(
    what: &'static str,
    path: &std::path::Path,
) -> impl Fn(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        what,
        path: path.clone(),
        source,
    }
}
