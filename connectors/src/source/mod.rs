//! Sources: what reads an upstream system (files today; Kafka, Kinesis, DynamoDB, MongoDB
//! and S3 build on the same interface) and turns its records into document writes.
//!
//! A [`Source`] is opened at the position its collection's log says it reached
//! ([`crate::CollectionPipeline::source_position`]) and hands out [`SourceBatch`]es: writes,
//! and the position after them. The tailer ([`Sources`]) appends each batch to the
//! collection's log as one record with its position, so the writes and the position are
//! durable together: a source killed anywhere resumes exactly after its last durable batch,
//! with nothing lost and nothing applied twice. A failure (of the upstream system or of the
//! append) drops the source and opens it again from that position, after a backoff.

mod files;
mod spec;
mod status;
mod tailer;

use std::time::Duration;

use cairn_storage::WriteOp;

pub use files::FilesSpec;
pub use spec::{SourceDef, SourceSpec};
pub use status::{SourceState, SourceStatus};
pub use tailer::{SourceInfo, Sources};

/// How much a batch holds at most, and how long a source waits for data before it answers
/// that there is none.
#[derive(Debug, Clone)]
pub struct BatchLimits {
    /// Records in a batch.
    pub max_records: usize,
    /// Bytes of input in a batch (about).
    pub max_bytes: usize,
    /// How long to wait for the first record.
    pub wait: Duration,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits { max_records: 20_000, max_bytes: 4 << 20, wait: Duration::from_millis(200) }
    }
}

/// A record a source read but could not turn into a write: where it was and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Its place (`file.csv line 12`, `partition 3 offset 1200`).
    pub place: String,
    /// Why.
    pub reason: String,
}

/// What a source read since its last batch.
#[derive(Debug, Default)]
pub struct SourceBatch {
    /// The writes, in the order they happened upstream.
    pub writes: Vec<WriteOp>,
    /// The position after them (the source's own encoding).
    pub position: String,
    /// Records read, writes and rejected ones.
    pub records: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Records that could not be read.
    pub rejected: Vec<Rejected>,
}

/// Whether a source is reading what existed when it started or following changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading a snapshot (a scan, existing files).
    Snapshotting,
    /// Following new records.
    Streaming,
}

/// How far a source is behind its upstream, where it can tell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lag {
    /// Records upstream not yet read.
    pub records: Option<u64>,
    /// Age of the oldest record not yet read, in milliseconds.
    pub millis: Option<u64>,
}

/// Reads an upstream system from a position.
pub trait Source: Send {
    /// The next batch, or None when nothing new arrived within `limits.wait`.
    fn next_batch(&mut self, limits: &BatchLimits) -> Result<Option<SourceBatch>, SourceError>;

    /// What it is doing now.
    fn phase(&self) -> Phase;

    /// How far behind it is.
    fn lag(&self) -> Lag;
}

/// Why a source could not be defined, opened or read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Its definition is wrong.
    #[error("{0}")]
    Invalid(String),
    /// A position it cannot read (written by another version, or damaged).
    #[error("source position '{position}' cannot be read: {reason}")]
    Position {
        /// The position.
        position: String,
        /// Why.
        reason: String,
    },
    /// The file system failed.
    #[error("{context}: {source}")]
    Io {
        /// What the source was doing.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The upstream system failed or refused.
    #[error("{0}")]
    Upstream(String),
    /// The write path refused or failed.
    #[error("{0}")]
    Ingest(#[from] crate::IngestError),
}
