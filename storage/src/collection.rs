//! Collections: documents spread over shards by a hash of `_id` (`_id` → one of
//! [`MICROSHARDS`] microshards → one of the collection's shards), written with per-document
//! atomicity and a collection-wide sequence number, read through per-shard snapshots.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::document::{self, normalize, now_micros};
use crate::error::{Result, StorageError};
use crate::patch::PatchOp;
use crate::shard::{Applied, Shard, ShardOp, ShardSnapshot, SharedResources, VerifyReport};
use crate::value::{Object, Value, ValueType};

/// Number of microshards `_id`s hash into; shards own contiguous ranges of them.
pub const MICROSHARDS: u32 = 4096;

/// Settings of a collection, fixed at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CollectionConfig {
    /// Number of shards (each its own RocksDB instance), 1 to [`MICROSHARDS`].
    pub shards: u32,
    /// Top-level field to take `_event_time` from (else `_event_time`, else write time).
    pub event_time_field: Option<String>,
    /// Documents whose event time is older than this many microseconds are expired.
    pub retention_micros: Option<i64>,
    /// fsync the log on every write (survives power loss, not just process crashes).
    pub sync_writes: bool,
}

impl Default for CollectionConfig {
    fn default() -> Self {
        CollectionConfig { shards: 2, event_time_field: None, retention_micros: None, sync_writes: false }
    }
}

/// A write to a collection.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// Insert a document (replacing one with the same `_id`).
    Insert(Value),
    /// Apply a JSON Patch to the document with this `_id`.
    Patch {
        /// The document's `_id`.
        id: String,
        /// The patch's operations, applied in order.
        ops: Vec<PatchOp>,
    },
    /// Delete the document with this `_id`.
    Delete {
        /// The document's `_id`.
        id: String,
    },
}

/// Per-collection statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectionStats {
    /// Live documents.
    pub doc_count: u64,
    /// Smart schema: (path, type, documents holding a value of that type there), sorted.
    pub fields: Vec<(String, ValueType, u64)>,
}

/// Bytes on disk of one index family, summed over shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilySize {
    /// Family (column family) name.
    pub family: &'static str,
    /// Bytes in SST files.
    pub sst_bytes: u64,
    /// Bytes still in memtables.
    pub memtable_bytes: u64,
}

/// An open collection.
pub struct Collection {
    dir: PathBuf,
    config: CollectionConfig,
    shards: Vec<Arc<Shard>>,
    seq: AtomicU64,
}

impl Drop for Collection {
    /// Background folds hold their shard open: wait for them so the collection's databases
    /// close with it (and can be reopened at once).
    fn drop(&mut self) {
        for s in &self.shards {
            s.wait_for_fold();
        }
    }
}

impl Collection {
    /// Opens (creating if needed) a collection stored in `dir`.
    pub fn open(dir: &Path, config: CollectionConfig, res: &SharedResources) -> Result<Collection> {
        if config.shards == 0 || config.shards > MICROSHARDS {
            return Err(StorageError::InvalidArgument(format!("shards must be between 1 and {MICROSHARDS}")));
        }
        let shards =
            (0..config.shards).map(|i| Shard::open(&dir.join(format!("shard-{i:04}")), res)).collect::<Result<Vec<_>>>()?;
        let seq = shards.iter().map(|s| s.last_seq()).max().unwrap_or(0);
        Ok(Collection { dir: dir.to_owned(), config, shards, seq: AtomicU64::new(seq) })
    }

    /// The collection's settings.
    pub fn config(&self) -> &CollectionConfig {
        &self.config
    }

    /// The directory holding the shards.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The shards, in order.
    pub fn shards(&self) -> &[Arc<Shard>] {
        &self.shards
    }

    /// Highest sequence number handed out.
    pub fn last_seq(&self) -> u64 {
        self.seq.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The shard owning `_id`.
    pub fn shard_of(&self, id: &str) -> usize {
        let micro = (xxh3_64(id.as_bytes()) % MICROSHARDS as u64) as u32;
        (micro as u64 * self.shards.len() as u64 / MICROSHARDS as u64) as usize
    }

    /// Checks and normalizes writes for this collection (a document's `_id` and
    /// `_event_time`, taken as of now when it has none), without applying them: what the
    /// ingest log records. Each write gets its own result, in input order.
    pub fn prepare(&self, ops: Vec<WriteOp>) -> Vec<Result<ShardOp>> {
        let now = now_micros();
        ops.into_iter()
            .map(|op| match op {
                WriteOp::Insert(doc) => normalize(doc, self.config.event_time_field.as_deref(), now).map(ShardOp::Put),
                WriteOp::Patch { id, ops } => Ok(ShardOp::Patch { id, ops }),
                WriteOp::Delete { id } => Ok(ShardOp::Delete { id }),
            })
            .collect()
    }

    /// The shard a prepared write goes to.
    fn shard_of_op(&self, op: &ShardOp) -> usize {
        match op {
            ShardOp::Put(doc) => self.shard_of(document::id_of(doc).unwrap_or_default()),
            ShardOp::Patch { id, .. } | ShardOp::Delete { id } => self.shard_of(id),
        }
    }

    /// Runs `work` on each shard that has something to do, in parallel on the long-lived
    /// rayon pool (per-call threads would rebuild their allocator and RocksDB thread-local
    /// state on every write).
    fn on_shards<T: Send, R: Send>(&self, jobs: Vec<(usize, T)>, work: impl Fn(&Arc<Shard>, T) -> R + Sync) -> Vec<R> {
        let shards = &self.shards;
        if jobs.len() <= 1 {
            jobs.into_iter().map(|(s, t)| work(&shards[s], t)).collect()
        } else {
            jobs.into_par_iter().map(|(s, t)| work(&shards[s], t)).collect()
        }
    }

    /// Applies writes; each document is atomic and gets its own result, in input order.
    /// Shards are written in parallel.
    pub fn write(&self, ops: Vec<WriteOp>) -> Vec<Result<Applied>> {
        let n = ops.len();
        let mut results: Vec<Option<Result<Applied>>> = (0..n).map(|_| None).collect();
        let mut per_shard: Vec<(Vec<usize>, Vec<ShardOp>)> = (0..self.shards.len()).map(|_| Default::default()).collect();
        for (i, op) in self.prepare(ops).into_iter().enumerate() {
            match op {
                Ok(op) => {
                    let s = self.shard_of_op(&op);
                    per_shard[s].0.push(i);
                    per_shard[s].1.push(op);
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        let busy: Vec<_> = per_shard.into_iter().enumerate().filter(|(_, (idx, _))| !idx.is_empty()).collect();
        let sync = self.config.sync_writes;
        let outcomes = self.on_shards(busy, |shard, (idx, ops)| (idx, shard.apply(ops, &self.seq, sync)));
        for (idx, res) in outcomes {
            for (i, r) in idx.into_iter().zip(res) {
                results[i] = Some(r);
            }
        }
        results.into_iter().map(|r| r.unwrap_or(Err(StorageError::Poisoned))).collect()
    }

    /// Applies ingest-log records (offset, prepared write) up to and including offset `last`
    /// on every shard, each shard skipping what it applied before and storing `last` with
    /// the data: what the leaf indexer calls. Returns the records that failed (a patch of a
    /// missing document, say) with their errors; a failure of the write itself (the disk)
    /// fails the call. Shards that committed before it keep their offset, so the call can be
    /// repeated with the same records: they skip them, the others apply them.
    pub fn apply_logged(&self, records: Vec<(u64, ShardOp)>, last: u64) -> Result<Vec<(u64, StorageError)>> {
        let mut per_shard: Vec<Vec<(u64, ShardOp)>> = (0..self.shards.len()).map(|_| Vec::new()).collect();
        for (offset, op) in records {
            let s = self.shard_of_op(&op);
            per_shard[s].push((offset, op));
        }
        let outcomes =
            self.on_shards(per_shard.into_iter().enumerate().collect(), |shard, ops| shard.apply_logged(ops, last, &self.seq));
        let mut failed = Vec::new();
        for shard in outcomes {
            for (offset, result) in shard? {
                if let Err(e) = result {
                    failed.push((offset, e));
                }
            }
        }
        failed.sort_by_key(|(o, _)| *o);
        Ok(failed)
    }

    /// The last ingest-log offset every shard has applied (0: none).
    pub fn log_offset(&self) -> u64 {
        self.shards.iter().map(|s| s.log_offset()).min().unwrap_or(0)
    }

    /// The last ingest-log offset any shard has applied: the log never hands out an offset
    /// at or below it again.
    pub fn max_log_offset(&self) -> u64 {
        self.shards.iter().map(|s| s.log_offset()).max().unwrap_or(0)
    }

    /// Makes every shard's applied writes survive power loss (see [`Shard::sync_wal`]).
    pub fn sync_wal(&self) -> Result<()> {
        self.shards.iter().try_for_each(|s| s.sync_wal())
    }

    fn write_one(&self, op: WriteOp) -> Result<Applied> {
        self.write(vec![op]).pop().unwrap_or(Err(StorageError::Poisoned))
    }

    /// Inserts (or replaces) one document.
    pub fn insert(&self, doc: Value) -> Result<Applied> {
        self.write_one(WriteOp::Insert(doc))
    }

    /// Patches one document.
    pub fn patch(&self, id: &str, ops: Vec<PatchOp>) -> Result<Applied> {
        self.write_one(WriteOp::Patch { id: id.to_owned(), ops })
    }

    /// Deletes one document.
    pub fn delete(&self, id: &str) -> Result<Applied> {
        self.write_one(WriteOp::Delete { id: id.to_owned() })
    }

    /// Point read by `_id`.
    pub fn get(&self, id: &str) -> Result<Option<Object>> {
        self.shards[self.shard_of(id)].snapshot().get(id)
    }

    /// A snapshot of every shard (each consistent in itself).
    pub fn snapshot(&self) -> Vec<ShardSnapshot> {
        self.shards.iter().map(|s| s.snapshot()).collect()
    }

    /// Document count and smart schema.
    pub fn stats(&self) -> CollectionStats {
        let mut fields: std::collections::BTreeMap<(String, ValueType), u64> = Default::default();
        for s in &self.shards {
            for (p, t, n) in s.type_counts() {
                *fields.entry((p, t)).or_default() += n;
            }
        }
        CollectionStats {
            doc_count: self.shards.iter().map(|s| s.doc_count()).sum(),
            fields: fields.into_iter().map(|((p, t), n)| (p, t, n)).collect(),
        }
    }

    /// Distinct scalar values at `path` (exact per shard, summed: an upper bound when shards share values).
    pub fn distinct_estimate(&self, path: &str) -> Result<u64> {
        self.snapshot().iter().map(|s| s.distinct_values(path)).sum()
    }

    /// Deletes documents whose event time is older than the retention window, found through
    /// the time-ordered retention index (live documents are never scanned). Returns how many.
    pub fn expire(&self, now: i64) -> Result<u64> {
        let Some(window) = self.config.retention_micros else { return Ok(0) };
        let cutoff = now.saturating_sub(window);
        let mut total = 0;
        for shard in &self.shards {
            let ids = shard.snapshot().expired_ids(cutoff)?;
            for chunk in ids.chunks(1024) {
                let ops = chunk.iter().map(|id| ShardOp::Delete { id: id.clone() }).collect();
                for r in shard.apply(ops, &self.seq, self.config.sync_writes) {
                    match r {
                        Ok(_) => total += 1,
                        Err(StorageError::NotFound { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(total)
    }

    /// Whether any document's event time is before `cutoff`: documents a query must not show
    /// though the background expiry has not dropped them yet.
    pub fn any_expired(&self, cutoff: i64) -> Result<bool> {
        for shard in &self.shards {
            if shard.snapshot().any_expired(cutoff)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Checks every shard's indexes against its row index.
    pub fn verify(&self) -> Result<VerifyReport> {
        let mut total = VerifyReport::default();
        for (i, s) in self.snapshot().iter().enumerate() {
            let r = s.verify()?;
            total.documents += r.documents;
            total.problems.extend(r.problems.into_iter().map(|p| format!("shard {i}: {p}")));
        }
        Ok(total)
    }

    /// Flushes and fully compacts every shard.
    pub fn compact(&self) -> Result<()> {
        self.shards.iter().try_for_each(|s| s.compact())
    }

    /// Folds every shard's pending postings and flushes its memtables (see [`Shard::settle`]).
    pub fn settle(&self) -> Result<()> {
        self.shards.iter().try_for_each(|s| s.settle())
    }

    /// Settles, then fully compacts the collection one index family of one shard at a time
    /// while writes go on: step `i` is family `i % families` of shard `i / families`. Starts
    /// at step `from` (where an earlier call stopped) and asks `go` with the family's size
    /// before each step. Returns the step it stopped before when `go` said no, or `None`
    /// once it compacted the last.
    pub fn compact_while(&self, from: usize, go: impl Fn(u64) -> bool) -> Result<Option<usize>> {
        self.settle()?;
        let families = crate::index::keys::cf::ALL.len();
        for step in from..self.shards.len() * families {
            let (shard, family) = (&self.shards[step / families], step % families);
            if !go(shard.family_bytes(family)) {
                return Ok(Some(step));
            }
            shard.compact_family(family)?;
        }
        Ok(None)
    }

    /// Bytes of the collection's SST files (what it takes on disk once settled).
    pub fn disk_bytes(&self) -> u64 {
        let families = 0..crate::index::keys::cf::ALL.len();
        self.shards.iter().flat_map(|s| families.clone().map(|f| s.family_bytes(f))).sum()
    }

    /// SST files in level 0, every shard and family: flushed and not yet compacted into the
    /// sorted levels below.
    pub fn level0_files(&self) -> u64 {
        self.shards.iter().map(|s| s.level0_files()).sum()
    }

    /// Bytes held in memtables, not yet flushed to SST files (their write-ahead log is on
    /// disk, and the flush takes about as much room again).
    pub fn memtable_bytes(&self) -> u64 {
        self.shards.iter().map(|s| s.memtable_bytes()).sum()
    }

    /// Flushes every shard's memtables.
    pub fn flush(&self) -> Result<()> {
        self.shards.iter().try_for_each(|s| s.flush())
    }

    /// Size per index family, summed over shards.
    pub fn size_report(&self) -> Vec<FamilySize> {
        let mut out: Vec<FamilySize> = Vec::new();
        for s in &self.shards {
            for (family, sst, mem) in s.size_report() {
                match out.iter_mut().find(|f| f.family == family) {
                    Some(f) => {
                        f.sst_bytes += sst;
                        f.memtable_bytes += mem;
                    }
                    None => out.push(FamilySize { family, sst_bytes: sst, memtable_bytes: mem }),
                }
            }
        }
        out
    }
}
