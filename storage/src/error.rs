//! Typed errors of the storage engine.

use std::fmt;

use thiserror::Error;

/// What kind of thing a name that was not found, or already exists, names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A workspace.
    Workspace,
    /// A collection.
    Collection,
    /// A document, by `_id`.
    Document,
    /// A collection's source, by id.
    Source,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Workspace => "workspace",
            ObjectKind::Collection => "collection",
            ObjectKind::Document => "document",
            ObjectKind::Source => "source",
        })
    }
}

/// Everything that can go wrong in `cairn-storage`, with enough context to act on.
#[derive(Debug, Error)]
pub enum StorageError {
    /// Input was not valid JSON; `offset` is the byte offset where parsing failed.
    #[error("invalid JSON at byte offset {offset}: {message}")]
    Json {
        /// Byte offset of the failure.
        offset: usize,
        /// What the parser expected.
        message: String,
    },
    /// A document was well-formed JSON but not acceptable as a document.
    #[error("invalid document: {0}")]
    InvalidDocument(String),
    /// A JSON Patch could not be applied; the document is left unchanged.
    #[error("patch operation {index} ({op}) failed: {message}")]
    Patch {
        /// The failing operation's position in the patch.
        index: usize,
        /// Its name (`add`, `test`, …).
        op: String,
        /// Why it failed.
        message: String,
    },
    /// The named workspace, collection or document does not exist.
    #[error("{kind} '{name}' does not exist")]
    NotFound {
        /// What it names.
        kind: ObjectKind,
        /// The name (a collection's as `workspace.collection`).
        name: String,
    },
    /// The named workspace or collection already exists.
    #[error("{kind} '{name}' already exists")]
    AlreadyExists {
        /// What it names.
        kind: ObjectKind,
        /// The name (a collection's as `workspace.collection`).
        name: String,
    },
    /// A name or setting was rejected.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Stored bytes could not be decoded: the data directory is damaged or from another version.
    #[error("corrupt data in {what}: {message}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// What was wrong with it.
        message: String,
    },
    /// RocksDB reported an error.
    #[error("rocksdb error in {context}: {source}")]
    Rocks {
        /// What Cairn was doing.
        context: String,
        /// RocksDB's error.
        #[source]
        source: rocksdb::Error,
    },
    /// A filesystem operation failed.
    #[error("i/o error in {context}: {source}")]
    Io {
        /// What Cairn was doing.
        context: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The write batch holding this document failed as a whole; nothing of it was applied.
    #[error("write failed, nothing applied: {0}")]
    WriteFailed(String),
    /// An internal lock was poisoned by a panic in another thread.
    #[error("internal state lock poisoned by an earlier panic; reopen the store")]
    Poisoned,
    /// Building an Arrow batch failed.
    #[error("arrow error: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// Result alias for the storage engine.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Attaches context to RocksDB errors.
pub(crate) trait RocksContext<T> {
    fn ctx(self, context: impl Into<String>) -> Result<T>;
}

impl<T> RocksContext<T> for std::result::Result<T, rocksdb::Error> {
    fn ctx(self, context: impl Into<String>) -> Result<T> {
        self.map_err(|source| StorageError::Rocks { context: context.into(), source })
    }
}

/// Shorthand for a corruption error.
pub(crate) fn corrupt(what: &'static str, message: impl Into<String>) -> StorageError {
    StorageError::Corrupt { what, message: message.into() }
}
