//! One collection's write path: appending writes to its log with back-pressure, waiting for
//! offsets to be applied, and the pipeline's figures.

use std::collections::VecDeque;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cairn_storage::{document, record, Collection, ShardOp, StorageError, Store, WriteOp};

use super::positions::SourcePositions;
use super::{disk, indexer, IngestError, IngestOptions};
use crate::log::{FileLog, Log};

/// A document the log took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Its record's offset.
    pub offset: u64,
    /// Its `_id` (generated for a new document that had none).
    pub id: String,
}

/// What a write did: per document, in input order, what the log took or why it was refused
/// before reaching the log; and the offset of the last record of the write (the log's last
/// offset when no document was taken).
#[derive(Debug)]
pub struct Written {
    /// Each document's record, or its error.
    pub outcomes: Vec<Result<Accepted, StorageError>>,
    /// The offset to wait for to see this write.
    pub last_offset: u64,
}

/// A collection's pipeline figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PipelineStats {
    /// The last offset appended to the log (durable).
    pub last_appended: u64,
    /// The last offset applied to every shard.
    pub last_applied: u64,
    /// Records appended but not yet applied.
    pub lag_records: u64,
    /// How long the oldest record not yet applied has waited, in milliseconds.
    pub lag_millis: u64,
    /// Records applied per second, over the last few seconds.
    pub ingest_rate: f64,
    /// Records the indexer could not apply (a patch of a missing document, say) since start.
    pub rejected: u64,
    /// Records lost to damage in the log since start.
    pub damaged: u64,
    /// The last such problem, with its offset.
    pub last_error: Option<String>,
    /// Bytes the log holds on disk.
    pub log_bytes: u64,
}

/// Where the indexer is, as writers and waiters see it.
#[derive(Default)]
pub(super) struct Progress {
    /// The last offset applied to every shard.
    pub(super) applied: u64,
    /// Payload bytes appended and applied since start (their difference is the lag).
    pub(super) appended_bytes: u64,
    pub(super) applied_bytes: u64,
    /// When recent appends ended at which offset, oldest first (for the lag in time).
    pub(super) appends: VecDeque<(u64, Instant)>,
    /// (when, applied) samples for the ingest rate.
    pub(super) samples: VecDeque<(Instant, u64)>,
    pub(super) rejected: u64,
    pub(super) damaged: u64,
    pub(super) last_error: Option<String>,
    /// The latest records the indexer could not apply, with why (oldest first).
    pub(super) failures: VecDeque<(u64, String)>,
}

/// Failed records remembered for writers to find theirs.
pub(super) const FAILURES_KEPT: usize = 4096;

/// Disk bytes a record's payload takes as it is indexed, at most: the shards' write-ahead log
/// and the flushed row, column and search index entries.
const INDEXING_ROOM: u64 = 4;

/// Appends remembered for the lag in time; older ones are merged.
const APPEND_MARKS: usize = 4096;

/// The write path of one collection.
pub struct CollectionPipeline {
    pub(super) ws: String,
    pub(super) name: String,
    pub(super) store: Arc<Store>,
    pub(super) collection: Arc<Collection>,
    pub(super) log: Arc<dyn Log>,
    /// Where each source writing here stands.
    pub(super) positions: SourcePositions,
    pub(super) options: IngestOptions,
    pub(super) progress: Mutex<Progress>,
    pub(super) progress_changed: Condvar,
    pub(super) stopping: AtomicBool,
    /// Held by the one collection of the store compacting ([`super::upkeep`]).
    pub(super) compaction_slot: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl CollectionPipeline {
    /// Opens the collection's log and starts its indexer.
    pub(super) fn start(
        store: Arc<Store>,
        ws: &str,
        name: &str,
        collection: Arc<Collection>,
        options: &IngestOptions,
        compaction_slot: &Arc<AtomicBool>,
    ) -> Result<Arc<CollectionPipeline>, IngestError> {
        // Shards resume from their own offsets; the log continues after the highest of them.
        let applied = collection.log_offset();
        let log = FileLog::open(&collection.dir().join("log"), options.log.clone(), collection.max_log_offset())?;
        let log_bytes = log.size_bytes();
        let positions = SourcePositions::open(collection.dir(), &log)?;
        let pipeline = Arc::new(CollectionPipeline {
            ws: ws.to_owned(),
            name: name.to_owned(),
            store,
            collection,
            log: Arc::new(log),
            positions,
            options: options.clone(),
            // What the log holds beyond `applied` counts as lag until it is replayed.
            progress: Mutex::new(Progress { applied, appended_bytes: log_bytes, ..Progress::default() }),
            progress_changed: Condvar::new(),
            stopping: AtomicBool::new(false),
            compaction_slot: Arc::clone(compaction_slot),
            thread: Mutex::default(),
        });
        let runner = Arc::clone(&pipeline);
        let thread = std::thread::Builder::new()
            .name(format!("indexer {ws}.{name}"))
            .spawn(move || indexer::run(&runner))
            .map_err(|e| StorageError::Io { context: "starting an indexer thread".into(), source: e })?;
        if let Ok(mut t) = pipeline.thread.lock() {
            *t = Some(thread);
        }
        Ok(pipeline)
    }

    /// The collection written to.
    pub fn collection(&self) -> &Arc<Collection> {
        &self.collection
    }

    pub(super) fn lock_progress(&self) -> Result<MutexGuard<'_, Progress>, IngestError> {
        self.progress.lock().map_err(|_| IngestError::Storage(StorageError::Poisoned))
    }

    /// Checks and appends `ops`, one record per document; returns once they are durable.
    /// Documents that fail their check are refused alone (their outcome says why); when the
    /// indexer is too far behind the write waits, then is refused as a whole.
    pub fn write(&self, ops: Vec<WriteOp>) -> Result<Written, IngestError> {
        let prepared = self.collection.prepare(ops);
        let payloads: Vec<Vec<u8>> = prepared.iter().filter_map(|p| p.as_ref().ok()).map(record::encode).collect();
        // Nothing to append when every document was refused: the last offset is the log's.
        let (mut next, last_offset) = if payloads.is_empty() {
            (0, self.log.last_offset())
        } else {
            let range = self.append_checked(payloads, &prepared)?;
            (*range.start(), *range.end())
        };
        let outcomes = prepared
            .into_iter()
            .map(|p| {
                p.map(|op| {
                    next += 1;
                    Accepted { offset: next - 1, id: id_of(&op) }
                })
            })
            .collect();
        Ok(Written { outcomes, last_offset })
    }

    /// Checks and appends a source's batch as one record: `ops`, and the `position` source
    /// `source` reaches with them, durable together. Documents that fail their check are
    /// refused alone (their outcome says why; the position still moves past them); the batch
    /// as a whole waits and is refused like [`CollectionPipeline::write`]. Every accepted
    /// write of the batch has the batch's offset.
    pub fn write_batch(&self, source: &str, position: &str, ops: Vec<WriteOp>) -> Result<Written, IngestError> {
        let prepared = self.collection.prepare(ops);
        let taken: Vec<&ShardOp> = prepared.iter().filter_map(|p| p.as_ref().ok()).collect();
        let payload = record::encode_batch(source, position, taken.into_iter());
        let range = self.append_checked(vec![payload], &prepared)?;
        let offset = *range.end();
        self.positions.appended(source, offset, position);
        let outcomes = prepared.into_iter().map(|p| p.map(|op| Accepted { offset, id: id_of(&op) })).collect();
        Ok(Written { outcomes, last_offset: offset })
    }

    /// The position source `source` reached with its last durable batch (None: it has
    /// appended none).
    pub fn source_position(&self, source: &str) -> Option<String> {
        self.positions.get(source)
    }

    /// Forgets the position of source `source` (it was removed).
    pub fn forget_source(&self, source: &str) -> Result<(), IngestError> {
        self.positions
            .forget(source)
            .map_err(|e| IngestError::Storage(StorageError::Io { context: "writing the sources' positions".into(), source: e }))
    }

    /// Appends `payloads`, the records of the `prepared` writes, once the disk has room for
    /// them (deletes are taken however full it is) and the indexer is not too far behind;
    /// their offsets once durable.
    fn append_checked(
        &self,
        payloads: Vec<Vec<u8>>,
        prepared: &[Result<ShardOp, StorageError>],
    ) -> Result<RangeInclusive<u64>, IngestError> {
        let bytes: u64 = payloads.iter().map(|p| p.len() as u64).sum();
        if !prepared.iter().all(|p| matches!(p, Ok(ShardOp::Delete { .. }) | Err(_))) {
            self.check_space(bytes)?;
        }
        self.admit()?;
        let range = self.log.append(payloads).map_err(IngestError::from_log)?;
        self.appended(&range, bytes)?;
        Ok(range)
    }

    /// Refuses a write of `bytes` unless the disk has room, beyond the reserve, to index it
    /// and what the log holds unapplied ([`INDEXING_ROOM`] times their bytes) and to flush the
    /// memtables: what the log takes must always fit into the indexes.
    fn check_space(&self, bytes: u64) -> Result<(), IngestError> {
        let Some((free, reserve)) = self.free_and_reserve() else { return Ok(()) };
        let unapplied = self.lock_progress().map(|p| p.appended_bytes.saturating_sub(p.applied_bytes))?;
        let needed = reserve
            .saturating_add(bytes.saturating_add(unapplied).saturating_mul(INDEXING_ROOM))
            .saturating_add(self.collection.memtable_bytes());
        if free < needed {
            return Err(IngestError::DiskLow { dir: self.collection.dir().to_owned(), free, needed });
        }
        Ok(())
    }

    /// Whether the disk has `bytes` free beyond the reserve (a full compaction's room, say).
    pub(super) fn has_room_for(&self, bytes: u64) -> bool {
        self.free_and_reserve().is_none_or(|(free, reserve)| free >= bytes.saturating_add(reserve))
    }

    /// The free bytes of the collection's disk and the reserve kept on it (None when the
    /// disk cannot be told).
    fn free_and_reserve(&self) -> Option<(u64, u64)> {
        let (free, total) = disk::space(self.collection.dir())?;
        Some((free, disk::reserve(self.options.min_free_disk, total)))
    }

    /// Waits while the indexer is more than the bounds behind; refuses after the wait.
    fn admit(&self) -> Result<(), IngestError> {
        let deadline = Instant::now() + self.options.backpressure_wait;
        let mut p = self.lock_progress()?;
        loop {
            let records = self.log.last_offset().saturating_sub(p.applied);
            let bytes = p.appended_bytes.saturating_sub(p.applied_bytes);
            if records <= self.options.max_lag_records && bytes <= self.options.max_lag_bytes {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline || self.stopping.load(Ordering::SeqCst) {
                return Err(IngestError::Overloaded {
                    records,
                    bytes,
                    max_records: self.options.max_lag_records,
                    max_bytes: self.options.max_lag_bytes,
                });
            }
            let wait = (deadline - now).min(Duration::from_millis(100));
            p = self.progress_changed.wait_timeout(p, wait).map_err(|_| StorageError::Poisoned)?.0;
        }
    }

    fn appended(&self, range: &RangeInclusive<u64>, bytes: u64) -> Result<(), IngestError> {
        let mut p = self.lock_progress()?;
        p.appended_bytes += bytes;
        if p.appends.len() >= APPEND_MARKS {
            // Keep the oldest mark (the lag is measured from it); merge the next one away.
            p.appends.remove(1);
        }
        p.appends.push_back((*range.end(), Instant::now()));
        Ok(())
    }

    /// The last offset applied to every shard.
    pub fn applied_offset(&self) -> u64 {
        self.progress.lock().map(|p| p.applied).unwrap_or(0)
    }

    /// The last offset appended (durable).
    pub fn appended_offset(&self) -> u64 {
        self.log.last_offset()
    }

    /// Waits until `offset` is applied or `timeout` passes; true when it was applied.
    pub fn wait_applied(&self, offset: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let Ok(mut p) = self.progress.lock() else { return false };
        loop {
            if p.applied >= offset {
                return true;
            }
            let now = Instant::now();
            if now >= deadline || self.stopping.load(Ordering::SeqCst) {
                return false;
            }
            match self.progress_changed.wait_timeout(p, deadline - now) {
                Ok((g, _)) => p = g,
                Err(_) => return false,
            }
        }
    }

    /// Why records in `offsets` could not be applied, for those the indexer refused (among
    /// the latest few thousand refusals).
    pub fn failures_in(&self, offsets: RangeInclusive<u64>) -> Vec<(u64, String)> {
        let Ok(p) = self.progress.lock() else { return Vec::new() };
        p.failures.iter().filter(|(o, _)| offsets.contains(o)).cloned().collect()
    }

    /// The pipeline's figures now.
    pub fn stats(&self) -> PipelineStats {
        let last_appended = self.log.last_offset();
        let log_bytes = self.log.size_bytes();
        let Ok(p) = self.progress.lock() else {
            let last_error = Some("the pipeline's state was poisoned".into());
            return PipelineStats { last_appended, last_error, log_bytes, ..PipelineStats::default() };
        };
        let lag_millis =
            p.appends.iter().find(|(end, _)| *end > p.applied).map(|(_, at)| at.elapsed().as_millis() as u64).unwrap_or(0);
        let ingest_rate = match (p.samples.front(), p.samples.back()) {
            (Some((t0, a0)), Some((t1, a1))) if t1 > t0 => (a1 - a0) as f64 / (*t1 - *t0).as_secs_f64(),
            _ => 0.0,
        };
        PipelineStats {
            last_appended,
            last_applied: p.applied,
            lag_records: last_appended.saturating_sub(p.applied),
            lag_millis,
            ingest_rate,
            rejected: p.rejected,
            damaged: p.damaged,
            last_error: p.last_error.clone(),
            log_bytes,
        }
    }

    /// Asks the indexer to stop (it finishes the batch it is applying, and a compaction the
    /// index family it is on).
    pub(super) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.progress_changed.notify_all();
    }

    /// Stops the indexer and makes the log refuse appends (the collection is going away).
    pub(super) fn close(&self) {
        self.log.close();
        self.stop();
    }

    /// Waits for the stopped indexer to end.
    pub(super) fn join(&self) {
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}

/// The `_id` a prepared write is about.
fn id_of(op: &ShardOp) -> String {
    match op {
        ShardOp::Put(doc) => document::id_of(doc).unwrap_or_default().to_owned(),
        ShardOp::Patch { id, .. } | ShardOp::Delete { id } => id.clone(),
    }
}
