//! A source's status as users read it (over SQL in `pg_stat_sources`, over REST in a
//! collection's `sources[].status`).

use std::time::SystemTime;

/// What a source is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    /// Opening.
    Starting,
    /// Reading what existed upstream when it started.
    Snapshotting,
    /// Following upstream.
    Streaming,
    /// Paused by a user.
    Paused,
    /// Failed; it tries again after a backoff (the error is in `last_error`).
    Failed,
}

impl SourceState {
    /// The state's name.
    pub fn name(self) -> &'static str {
        match self {
            SourceState::Starting => "starting",
            SourceState::Snapshotting => "snapshotting",
            SourceState::Streaming => "streaming",
            SourceState::Paused => "paused",
            SourceState::Failed => "failed",
        }
    }
}

/// A source's figures since the server started.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceStatus {
    /// What it is doing.
    pub state: SourceState,
    /// Records read upstream.
    pub records_read: u64,
    /// Bytes read upstream.
    pub bytes_read: u64,
    /// Documents written to the log.
    pub documents_written: u64,
    /// Records that could not be read or written.
    pub rejected: u64,
    /// Records upstream not yet read, where the source can tell.
    pub lag_records: Option<u64>,
    /// Age of the oldest record not yet read, where the source can tell.
    pub lag_millis: Option<u64>,
    /// The last error, while it lasts or until the next success.
    pub last_error: Option<String>,
    /// The last record refused, with its place.
    pub last_rejected: Option<String>,
    /// When the last batch was written.
    pub last_written_at: Option<SystemTime>,
    /// The offset of the last batch's log record.
    pub last_offset: u64,
}

impl SourceStatus {
    pub(super) fn new(state: SourceState) -> SourceStatus {
        SourceStatus {
            state,
            records_read: 0,
            bytes_read: 0,
            documents_written: 0,
            rejected: 0,
            lag_records: None,
            lag_millis: None,
            last_error: None,
            last_rejected: None,
            last_written_at: None,
            last_offset: 0,
        }
    }
}
