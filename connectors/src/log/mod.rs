//! The ingest log: an ordered, durable sequence of records per collection that every write
//! lands in before any leaf indexes it. [`Log`] is the interface the write path and the leaf
//! indexer use; [`FileLog`] is the embedded implementation in the data directory (segmented
//! files of checksummed records, group commit). A Kafka-backed log implements the same trait
//! when Cairn runs as a cluster.
//!
//! Offsets start at 1 and have no gaps; offset 0 means "nothing". An appended record is
//! durable (fsynced) before [`Log::append`] returns, and readers only ever see durable
//! records.

mod file_log;
mod frame;

use std::ops::RangeInclusive;
use std::time::Duration;

pub use file_log::{FileLog, FileLogOptions};

/// Why a log operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The file system refused an operation.
    #[error("log {context}: {source}")]
    Io {
        /// What the log was doing.
        context: String,
        /// The error the file system gave.
        #[source]
        source: std::io::Error,
    },
    /// A record larger than the log takes.
    #[error("a log record of {size} bytes is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The record's size.
        size: usize,
        /// The largest record the log takes.
        limit: usize,
    },
    /// An offset below the first record the log still keeps.
    #[error("log offset {offset} was truncated (the log starts at {start})")]
    Truncated {
        /// The offset asked for.
        offset: u64,
        /// The first offset kept.
        start: u64,
    },
    /// The log takes no more appends, for this reason.
    #[error("the log takes no more writes: {0}")]
    Refused(String),
    /// A lock was poisoned by a panic in another thread.
    #[error("the log's state was poisoned by a panic")]
    Poisoned,
}

impl LogError {
    /// True when the error is the disk being full (ENOSPC, or EDQUOT for a quota).
    pub fn is_disk_full(&self) -> bool {
        match self {
            LogError::Io { source, .. } => {
                matches!(source.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
            }
            _ => false,
        }
    }
}

/// Results of log operations.
pub type LogResult<T> = std::result::Result<T, LogError>;

/// What a reader finds at an offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEntry {
    /// A record, as appended.
    Record {
        /// Its offset.
        offset: u64,
        /// Its bytes.
        payload: Vec<u8>,
    },
    /// Records that were durable but can no longer be read (a disk fault): their offsets and
    /// why. Readers skip past them.
    Damaged {
        /// The offsets lost.
        offsets: RangeInclusive<u64>,
        /// What was wrong.
        reason: String,
    },
}

impl LogEntry {
    /// The last offset this entry covers.
    pub fn last_offset(&self) -> u64 {
        match self {
            LogEntry::Record { offset, .. } => *offset,
            LogEntry::Damaged { offsets, .. } => *offsets.end(),
        }
    }
}

/// An ordered, durable record log.
pub trait Log: Send + Sync {
    /// Appends `payloads` as consecutive records and returns their offsets once they are
    /// durable. Appends from several threads at once share one fsync.
    fn append(&self, payloads: Vec<Vec<u8>>) -> LogResult<RangeInclusive<u64>>;

    /// The offset of the last durable record (0 when there has been none).
    fn last_offset(&self) -> u64;

    /// The first offset still kept (records below it were truncated).
    fn first_offset(&self) -> u64;

    /// Waits until a record after `offset` is durable or `timeout` passes; returns
    /// [`Log::last_offset`].
    fn wait_beyond(&self, offset: u64, timeout: Duration) -> u64;

    /// A reader positioned at `from` (at least [`Log::first_offset`]).
    fn reader(&self, from: u64) -> LogResult<Box<dyn LogReader>>;

    /// Lets the log drop every record below `offset` (it may keep some: it drops whole
    /// segments).
    fn truncate_below(&self, offset: u64) -> LogResult<()>;

    /// Refuses every append from now on (its collection is being dropped).
    fn close(&self);

    /// Bytes the log holds on disk.
    fn size_bytes(&self) -> u64;
}

/// Reads a log in order from a position.
pub trait LogReader: Send {
    /// The durable entries from the reader's position, about `max_bytes` of payload at most
    /// (at least one entry when there is one); empty when the reader is at the end.
    fn read(&mut self, max_bytes: usize) -> LogResult<Vec<LogEntry>>;

    /// The offset the next entry will have.
    fn position(&self) -> u64;
}
