//! What a collection needs done without anyone asking, decided by its indexer when it finds
//! no new records. Once the log has been quiet for [`SETTLE_AFTER`] after records were
//! applied, the collection settles: pending postings are folded and memtables flushed, so
//! reads merge nothing pending and RocksDB deletes its write-ahead log files. Once a tenth of
//! the collection's size was applied since its last full compaction, a background thread
//! compacts it, one index family at a time while writes go on (one collection of the store at
//! a time, each family only when the disk has room for a copy of it beyond the reserve,
//! resuming where it stopped short when it did, and stopping after the family it is on once
//! the pipeline stops), so
//! data as it was loaded scans as fast as compacted data and takes no more room than it needs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::pipeline::CollectionPipeline;

/// How long the log must be quiet before the collection settles.
const SETTLE_AFTER: Duration = Duration::from_secs(2);

/// A full compaction is due once the bytes applied since the last one reach this share of
/// the collection's size on disk (so compaction rewrites each byte a bounded number of times).
const COMPACT_SHARE: u64 = 10;

/// How long after a compaction that stopped short (no room on the disk) it is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// The indexer's record of upkeep done.
pub(super) struct Upkeep {
    /// When the indexer last applied records (or started).
    last_applied_at: Instant,
    /// Payload bytes applied as of the last settle (None: not settled since start, when
    /// RocksDB may have recovered memtables from its write-ahead log).
    settled_at: Option<u64>,
    /// Payload bytes applied as of the last full compaction that completed.
    compacted_at: u64,
    /// When a compaction last stopped short.
    fell_short_at: Option<Instant>,
    /// The step ([`Collection::compact_while`]) the next compaction starts at: where the last
    /// one stopped short, or 0.
    ///
    /// [`Collection::compact_while`]: cairn_storage::Collection::compact_while
    resume_at: usize,
    /// Payload bytes applied when a compaction was last found not due (the collection's size
    /// is read again only once more was applied).
    not_due_at: Option<u64>,
    /// The compaction running, with the applied bytes it covers; it answers where it stopped
    /// short, if it did.
    compaction: Option<(JoinHandle<Option<usize>>, u64)>,
}

/// Holds the store's one compaction slot while a compaction runs (and frees it however the
/// thread ends).
struct Slot(Arc<AtomicBool>);

impl Slot {
    fn take(slot: &Arc<AtomicBool>) -> Option<Slot> {
        slot.compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst).ok().map(|_| Slot(Arc::clone(slot)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Upkeep {
    /// Nothing done yet.
    pub(super) fn new() -> Upkeep {
        Upkeep {
            last_applied_at: Instant::now(),
            settled_at: None,
            compacted_at: 0,
            fell_short_at: None,
            resume_at: 0,
            not_due_at: None,
            compaction: None,
        }
    }

    /// The indexer applied records.
    pub(super) fn applied(&mut self) {
        self.last_applied_at = Instant::now();
    }

    /// Documents past the retention window were deleted: their tombstones are settled like
    /// applied records.
    pub(super) fn expired(&mut self) {
        self.last_applied_at = Instant::now();
        self.settled_at = None;
        // The collection shrank: whether a compaction is due is asked again.
        self.not_due_at = None;
    }

    /// The indexer found no new records: settles and compacts when due.
    pub(super) fn idle(&mut self, p: &Arc<CollectionPipeline>) {
        if self.last_applied_at.elapsed() < SETTLE_AFTER {
            return;
        }
        let Ok(applied) = p.progress.lock().map(|g| g.applied_bytes) else { return };
        if self.settled_at != Some(applied) {
            if let Err(e) = p.collection.settle() {
                super::indexer::report(p, format!("folding and flushing the collection: {e}"), false);
                // Tried again after the next quiet spell.
                self.last_applied_at = Instant::now();
                return;
            }
            self.settled_at = Some(applied);
        }
        self.reap();
        self.compact_when_due(p, applied);
    }

    /// Notes how a finished compaction ended.
    fn reap(&mut self) {
        if !self.compaction.as_ref().is_some_and(|(t, _)| t.is_finished()) {
            return;
        }
        if let Some((t, covers)) = self.compaction.take() {
            match t.join() {
                Ok(None) => {
                    self.compacted_at = covers;
                    self.fell_short_at = None;
                    self.resume_at = 0;
                }
                Ok(Some(step)) => {
                    self.fell_short_at = Some(Instant::now());
                    self.resume_at = step;
                }
                Err(_) => self.fell_short_at = Some(Instant::now()),
            }
        }
    }

    /// Starts a full compaction in the background when enough was applied since the last one
    /// and the store's compaction slot is free.
    fn compact_when_due(&mut self, p: &Arc<CollectionPipeline>, applied: u64) {
        let since = applied.saturating_sub(self.compacted_at);
        if since == 0
            || self.compaction.is_some()
            || self.not_due_at == Some(applied)
            || self.fell_short_at.is_some_and(|t| t.elapsed() < RETRY_AFTER)
        {
            return;
        }
        // A compaction that stopped short is resumed whatever was applied since.
        if self.resume_at == 0 && since.saturating_mul(COMPACT_SHARE) < p.collection.disk_bytes() {
            self.not_due_at = Some(applied);
            return;
        }
        let Some(slot) = Slot::take(&p.compaction_slot) else { return };
        let pipeline = Arc::clone(p);
        let from = self.resume_at;
        let started = std::thread::Builder::new().name(format!("compact {}.{}", p.ws, p.name)).spawn(move || {
            let _slot = slot;
            compact(&pipeline, from)
        });
        match started {
            Ok(t) => self.compaction = Some((t, applied)),
            Err(e) => super::indexer::report(p, format!("starting a compaction thread: {e}"), false),
        }
    }

    /// Waits for a compaction in progress (once the pipeline stops, it ends after the index
    /// family it is on).
    pub(super) fn finish(&mut self) {
        if let Some((t, _)) = self.compaction.take() {
            let _ = t.join();
        }
    }
}

/// Compacts the collection from step `from` to the end, family by family while the pipeline
/// is not stopping and the disk has room for a copy of the next family; the step to resume
/// at when it stopped short or failed, None when it compacted everything.
fn compact(p: &CollectionPipeline, from: usize) -> Option<usize> {
    let t = Instant::now();
    let done = p.collection.compact_while(from, |bytes| !p.stopping.load(Ordering::SeqCst) && p.has_room_for(bytes));
    let collection = format!("{}.{}", p.ws, p.name);
    match done {
        Ok(None) => {
            tracing::info!(%collection, seconds = t.elapsed().as_secs_f64(), "compacted");
            None
        }
        Ok(Some(step)) => {
            if !p.stopping.load(Ordering::SeqCst) {
                tracing::warn!(%collection, "compaction stopped short: the disk has no room for a copy of the next index family");
            }
            Some(step)
        }
        Err(e) => {
            if !p.stopping.load(Ordering::SeqCst) {
                super::indexer::report(p, format!("compacting the collection: {e}"), false);
            }
            Some(from)
        }
    }
}
