//! Why a write could not be taken.

use cairn_storage::StorageError;

use crate::log::LogError;

/// A write the pipeline refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The store refused (the collection does not exist, say).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The log could not make the write durable; nothing of it was kept.
    #[error("the write could not be made durable: {0}")]
    Log(#[from] LogError),
    /// The disk is full; nothing of the write was kept. Reads go on working.
    #[error("the disk holding the ingest log is full; the write was not kept: {0}")]
    DiskFull(LogError),
    /// The disk's free space is below what indexing what the log holds needs, plus a
    /// reserve; nothing of the write was kept (deletes are still taken). Writes resume once
    /// space is freed (a collection dropped, deleted or expired documents compacted away, or
    /// room made outside Cairn).
    #[error(
        "the disk holding {} is nearly full ({free} bytes free, {needed} needed to index this write and what is \
         pending, with a reserve); the write was not kept. Writes resume once space is freed",
        dir.display()
    )]
    DiskLow {
        /// The collection's directory.
        dir: std::path::PathBuf,
        /// Bytes free.
        free: u64,
        /// Bytes needed.
        needed: u64,
    },
    /// The server is shutting down and takes no more writes.
    #[error("the server is shutting down; the write was not taken")]
    ShutDown,
    /// The indexer is too far behind the log; the writer waited and then gave up.
    #[error(
        "ingest is too far behind to take more writes ({records} records, {bytes} bytes not yet indexed; \
         limits {max_records} records, {max_bytes} bytes); retry later"
    )]
    Overloaded {
        /// Records appended but not applied.
        records: u64,
        /// Bytes appended but not applied.
        bytes: u64,
        /// The bound on records.
        max_records: u64,
        /// The bound on bytes.
        max_bytes: u64,
    },
}

impl IngestError {
    /// The error of a failed append: disk full, or another failure of the log.
    pub(crate) fn from_log(e: LogError) -> IngestError {
        if e.is_disk_full() {
            IngestError::DiskFull(e)
        } else {
            IngestError::Log(e)
        }
    }
}
