//! A shard: one RocksDB instance holding the converged index (row, column, search and range
//! index families plus metadata) for the documents of a set of microshards.

mod assemble;
mod batch_buffers;
mod lookup;
mod options;
mod read;
mod scan;
mod sorted_batch;
mod verify;
mod write;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use rocksdb::{ColumnFamily, DB};

pub use lookup::IndexPredicate;
pub use options::SharedResources;
pub use read::{RowReader, ShardSnapshot};
pub use scan::{arrow_type, ColumnOutput, ColumnSpec, ScanOptions};
pub use verify::VerifyReport;
pub use write::{Applied, ShardOp, WriteKind};

use crate::error::{corrupt, Result, RocksContext, StorageError};
use crate::index::keys::{cf, STATE_KEY};
use crate::index::pending::{self, Pending, Run};
use crate::index::posting;
use crate::value::ValueType;

/// Field paths seen in a shard and their dense ids.
#[derive(Debug, Default)]
pub(crate) struct PathDict {
    ids: ahash::AHashMap<String, u32>,
    names: Vec<String>,
}

impl PathDict {
    pub(crate) fn id(&self, path: &str) -> Option<u32> {
        self.ids.get(path).copied()
    }

    pub(crate) fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(String::as_str)
    }

    fn insert(&mut self, path: String, id: u32) {
        if self.names.len() <= id as usize {
            self.names.resize(id as usize + 1, String::new());
        }
        self.names[id as usize] = path.clone();
        self.ids.insert(path, id);
    }
}

/// Writer-owned state, persisted under [`STATE_KEY`] in every write batch.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WriterState {
    next_doc: u32,
    last_seq: u64,
    /// The last ingest-log offset applied (0: none), written with the data it applied.
    log_offset: u64,
}

/// One shard of a collection.
pub struct Shard {
    db: DB,
    paths: RwLock<PathDict>,
    type_counts: RwLock<HashMap<(u32, ValueType), i64>>,
    writer: Mutex<WriterState>,
    /// Value postings not yet folded into the search index. Writers replace it while writing
    /// (holding the write lock across the RocksDB write); readers take it with their snapshot.
    pending: RwLock<Arc<Pending>>,
    /// Size of `pending` that triggers a fold.
    fold_bytes: usize,
    /// Table options of the SST files folds write.
    fold_options: rocksdb::Options,
    /// The background fold, if one was started.
    fold_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    doc_count: AtomicU64,
    /// The buffers the next write batch is built in (taken by the writer, given back after).
    buffers: Mutex<batch_buffers::BatchBuffers>,
}

impl Shard {
    /// Opens (creating if needed) the shard stored in `dir`.
    pub fn open(dir: &Path, res: &SharedResources) -> Result<Arc<Shard>> {
        let db = DB::open_cf_descriptors(&options::db_options(), dir, options::column_families(res))
            .ctx(format!("opening shard {}", dir.display()))?;
        let shard = Shard {
            db,
            paths: RwLock::default(),
            type_counts: RwLock::default(),
            writer: Mutex::default(),
            pending: RwLock::default(),
            fold_bytes: res.pending_fold_bytes,
            fold_options: options::search_sst_options(res),
            fold_thread: Mutex::default(),
            doc_count: AtomicU64::new(0),
            buffers: Mutex::default(),
        };
        shard.load()?;
        Ok(Arc::new(shard))
    }

    fn load(&self) -> Result<()> {
        let meta = self.cf(cf::META);
        let mut paths = PathDict::default();
        for item in self.db.prefix_iterator_cf(meta, b"P") {
            let (k, v) = item.ctx("loading paths")?;
            if k.first() != Some(&b'P') {
                break;
            }
            let name = String::from_utf8(k[1..].to_vec()).map_err(|_| corrupt("path dictionary", "not UTF-8"))?;
            let id = u32::from_be_bytes(v.as_ref().try_into().map_err(|_| corrupt("path dictionary", "bad id"))?);
            paths.insert(name, id);
        }
        let mut counts = HashMap::new();
        for item in self.db.prefix_iterator_cf(meta, b"T") {
            let (k, v) = item.ctx("loading statistics")?;
            if k.first() != Some(&b'T') {
                break;
            }
            let bad = || corrupt("statistics", "bad counter");
            let id = u32::from_be_bytes(k.get(1..5).ok_or_else(bad)?.try_into().map_err(|_| bad())?);
            let t = ValueType::from_u8(*k.get(5).ok_or_else(bad)?).ok_or_else(bad)?;
            let n = i64::from_le_bytes(v.as_ref().try_into().map_err(|_| bad())?);
            if n != 0 {
                counts.insert((id, t), n);
            }
        }
        let mut state = WriterState::default();
        if let Some(v) = self.db.get_cf(meta, STATE_KEY).ctx("loading shard state")? {
            // 12 bytes before the ingest log existed, 20 since.
            if v.len() != 12 && v.len() != 20 {
                return Err(corrupt("shard state", "bad length"));
            }
            let bad = |_| corrupt("shard state", "bad");
            state.next_doc = u32::from_le_bytes(v[..4].try_into().map_err(bad)?);
            state.last_seq = u64::from_le_bytes(v[4..12].try_into().map_err(bad)?);
            if v.len() == 20 {
                state.log_offset = u64::from_le_bytes(v[12..20].try_into().map_err(bad)?);
            }
        }
        let all = match self.db.get_cf(self.cf(cf::SEARCH), crate::index::keys::ALL_DOCS_KEY).ctx("loading doc count")? {
            Some(v) => posting::len(&v)?,
            None => 0,
        };
        let pending = self.load_pending()?;
        *self.paths.write().map_err(poisoned)? = paths;
        *self.pending.write().map_err(poisoned)? = Arc::new(pending);
        *self.type_counts.write().map_err(poisoned)? = counts;
        *self.writer.lock().map_err(poisoned)? = state;
        self.doc_count.store(all, Ordering::Relaxed);
        Ok(())
    }

    /// The pending records left by the last run, in write order.
    fn load_pending(&self) -> Result<Pending> {
        let mut it = self.db.raw_iterator_cf(self.cf(cf::PENDING));
        it.seek_to_first();
        let mut runs = Vec::new();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            runs.push((pending::record_number(k)?, Run::decode(v.to_vec())?));
            it.next();
        }
        it.status().ctx("loading pending postings")?;
        let Some(first) = runs.first().map(|(n, _)| *n) else { return Ok(Pending::default()) };
        let mut out = Pending::empty_at(first);
        for (n, run) in runs {
            if n != out.next_record() {
                return Err(corrupt("pending postings", format!("record {n} follows {}", out.next_record())));
            }
            out = out.with_run(run);
        }
        Ok(out)
    }

    /// Starts folding the active pending runs into the search index on a background thread
    /// once they reach the fold size. A fold still running when twice that has gathered is
    /// waited for (back-pressure). The caller holds the writer lock.
    pub(crate) fn maybe_fold(self: &Arc<Self>) {
        let Ok(current) = self.pending.read().map(|p| Arc::clone(&p)) else { return };
        if current.active_bytes() < self.fold_bytes {
            return;
        }
        let Ok(mut thread) = self.fold_thread.lock() else { return };
        if thread.as_ref().is_some_and(|t| !t.is_finished()) && current.active_bytes() < self.fold_bytes.saturating_mul(2) {
            return;
        }
        if let Some(t) = thread.take() {
            let _ = t.join();
        }
        if self.freeze_pending().is_err() {
            return;
        }
        let shard = Arc::clone(self);
        // A failed fold leaves its runs frozen; the next fold retries them.
        match std::thread::Builder::new().name("cairn-fold".into()).spawn(move || {
            let _ = shard.fold_frozen();
        }) {
            Ok(t) => *thread = Some(t),
            Err(_) => {
                let _ = self.fold_frozen();
            }
        }
    }

    /// Freezes every active pending run for the next fold.
    fn freeze_pending(&self) -> Result<()> {
        let mut published = self.pending.write().map_err(poisoned)?;
        *published = Arc::new(published.freeze());
        Ok(())
    }

    /// Waits for a background fold, if one is running.
    pub(crate) fn wait_for_fold(&self) {
        if let Some(t) = self.fold_thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }

    /// Folds the frozen pending runs into the search index: writes every key's edits, in key
    /// order, as merge entries of one SST file, ingests it, then deletes the folded records.
    ///
    /// A crash between the ingestion and the deletion leaves the records to be applied again
    /// on top of the folded file; edits re-applied in order after themselves change nothing,
    /// and nothing is folded after them before they are deleted.
    fn fold_frozen(&self) -> Result<()> {
        let current = Arc::clone(&*self.pending.read().map_err(poisoned)?);
        let Some((run, records)) = current.frozen_merged() else { return Ok(()) };
        let path = self.db.path().join("fold.sst");
        let write_sst = || -> std::result::Result<(), rocksdb::Error> {
            let mut w = rocksdb::SstFileWriter::create(&self.fold_options);
            w.open(&path)?;
            for i in 0..run.len() {
                let (k, op) = run.entry(i);
                w.merge(k, op)?;
            }
            w.finish()
        };
        write_sst().ctx("writing folded postings")?;
        let mut ingest = rocksdb::IngestExternalFileOptions::default();
        ingest.set_move_files(true);
        // The folded postings become durable with the ingestion; the rows and records they
        // came from must be durable first, or a power loss could keep postings of lost rows.
        self.db.flush_wal(true).ctx("syncing the write-ahead log before a fold")?;
        let mut published = self.pending.write().map_err(poisoned)?;
        self.db.ingest_external_file_cf_opts(self.cf(cf::SEARCH), &ingest, vec![&path]).ctx("ingesting folded postings")?;
        let mut done = rocksdb::WriteBatch::default();
        done.delete_range_cf(self.cf(cf::PENDING), pending::record_key(records.start), pending::record_key(records.end));
        self.db.write(done).ctx("deleting folded records")?;
        *published = Arc::new(published.without_frozen());
        Ok(())
    }

    pub(crate) fn cf(&self, name: &str) -> &ColumnFamily {
        // Every family is created at open, so the handle always exists.
        self.db.cf_handle(name).unwrap_or_else(|| unreachable!("column family {name} is created at open"))
    }

    /// Number of live documents.
    pub fn doc_count(&self) -> u64 {
        self.doc_count.load(Ordering::Relaxed)
    }

    /// Highest sequence number this shard has made durable.
    pub fn last_seq(&self) -> u64 {
        self.writer.lock().map(|w| w.last_seq).unwrap_or(0)
    }

    /// The last ingest-log offset this shard applied (0: none).
    pub fn log_offset(&self) -> u64 {
        self.writer.lock().map(|w| w.log_offset).unwrap_or(0)
    }

    /// Makes everything written so far survive power loss (syncs RocksDB's write-ahead log):
    /// after it, the log may drop what this shard applied.
    pub fn sync_wal(&self) -> Result<()> {
        self.db.flush_wal(true).ctx("syncing the write-ahead log")
    }

    /// Smart-schema counts: (path, type, number of documents), sorted by path then type.
    pub fn type_counts(&self) -> Vec<(String, ValueType, u64)> {
        let (Ok(counts), Ok(paths)) = (self.type_counts.read(), self.paths.read()) else {
            return vec![];
        };
        let mut out: Vec<_> = counts
            .iter()
            .filter(|(_, n)| **n > 0)
            .filter_map(|((id, t), n)| Some((paths.name(*id)?.to_owned(), *t, *n as u64)))
            .collect();
        out.sort();
        out
    }

    /// Folds pending postings, flushes memtables and compacts every family fully (used by
    /// benchmarks and tests).
    pub fn compact(&self) -> Result<()> {
        self.settle()?;
        (0..cf::ALL.len()).try_for_each(|family| self.compact_family(family))
    }

    /// Folds every pending posting into the search index, however few, and flushes the
    /// memtables: reads then merge no pending runs, and RocksDB deletes the write-ahead log
    /// files the memtables kept. The buffers kept for the next write batch are let go.
    pub fn settle(&self) -> Result<()> {
        {
            let _writer = self.writer.lock().map_err(poisoned)?;
            self.wait_for_fold();
            self.freeze_pending()?;
            self.fold_frozen()?;
            // A quiet shard holds no batch buffers.
            if let Ok(mut buffers) = self.buffers.lock() {
                *buffers = batch_buffers::BatchBuffers::default();
            }
        }
        self.flush()
    }

    /// Compacts the `family`th family of [`cf::ALL`] down to its bottom level in one sorted
    /// run, merging column deltas and posting edits into their values. Not exclusive: RocksDB
    /// goes on flushing and compacting what writes add meanwhile.
    pub(crate) fn compact_family(&self, family: usize) -> Result<()> {
        let Some(name) = cf::ALL.get(family) else { return Ok(()) };
        let mut o = rocksdb::CompactOptions::default();
        o.set_bottommost_level_compaction(rocksdb::BottommostLevelCompaction::Force);
        o.set_exclusive_manual_compaction(false);
        let errors = || self.db.property_int_value("rocksdb.background-errors").ok().flatten().unwrap_or(0);
        let before = errors();
        self.db.compact_range_cf_opt(self.cf(name), None::<&[u8]>, None::<&[u8]>, &o);
        // The call reports nothing; a job that failed shows in RocksDB's count of them.
        let failed = errors().saturating_sub(before);
        if failed > 0 {
            return Err(StorageError::WriteFailed(format!(
                "compacting index family {name}: {failed} RocksDB background jobs failed"
            )));
        }
        Ok(())
    }

    /// Bytes of the `family`th family's SST files.
    pub(crate) fn family_bytes(&self, family: usize) -> u64 {
        let Some(name) = cf::ALL.get(family) else { return 0 };
        self.db.property_int_value_cf(self.cf(name), "rocksdb.total-sst-files-size").ok().flatten().unwrap_or(0)
    }

    /// Bytes held in memtables, over every family.
    pub(crate) fn memtable_bytes(&self) -> u64 {
        let bytes = |name: &str| self.db.property_int_value_cf(self.cf(name), "rocksdb.cur-size-all-mem-tables").ok().flatten();
        cf::ALL.iter().filter_map(|name| bytes(name)).sum()
    }

    /// SST files in level 0, over every family.
    pub(crate) fn level0_files(&self) -> u64 {
        let files = |name: &str| self.db.property_int_value_cf(self.cf(name), "rocksdb.num-files-at-level0").ok().flatten();
        cf::ALL.iter().filter_map(|name| files(name)).sum()
    }

    /// Flushes memtables to SST files.
    pub fn flush(&self) -> Result<()> {
        for name in cf::ALL {
            self.db.flush_cf(self.cf(name)).ctx("flush")?;
        }
        Ok(())
    }

    /// Bytes on disk per index family (SST files) plus memtable bytes not yet flushed.
    pub fn size_report(&self) -> Vec<(&'static str, u64, u64)> {
        cf::ALL
            .iter()
            .map(|name| {
                let h = self.cf(name);
                let prop = |p: &str| self.db.property_int_value_cf(h, p).ok().flatten().unwrap_or(0);
                (*name, prop("rocksdb.total-sst-files-size"), prop("rocksdb.cur-size-all-mem-tables"))
            })
            .collect()
    }
}

pub(crate) fn poisoned<T>(_: T) -> StorageError {
    StorageError::Poisoned
}
