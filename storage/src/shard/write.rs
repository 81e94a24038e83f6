//! The write path: applies a batch of document operations to a shard as one RocksDB write
//! batch. Each document's index entries are diffed against its previous version so only
//! changed fragments, postings, column values and counters are touched; posting and column
//! edits for the whole batch are grouped into one merge operand per key. Value postings go to
//! the shard's pending runs (one record per batch) and reach the search index in folds.

use ahash::AHashMap as HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rocksdb::{ReadOptions, WriteOptions};

use super::batch_buffers::BatchBuffers;
use super::sorted_batch::SortedBatch;
use super::{poisoned, Shard, WriterState};
use crate::document::{event_time_of, id_of, EVENT_TIME_FIELD, ID_FIELD};
use crate::error::{ObjectKind, Result, RocksContext, StorageError};
use crate::index::column::{self, chunk_of};
use crate::index::edits::EditGroups;
use crate::index::entries::{diff_sorted, DocEntries};
use crate::index::keys::{self, cf};
use crate::index::pending::{self, Pending, RunBuilder};
use crate::index::posting;
use crate::patch::{self, PatchOp};
use crate::value::codec::encode_value;
use crate::value::{Object, Value, ValueType};

/// One document operation routed to a shard.
#[derive(Debug, Clone)]
pub enum ShardOp {
    /// Insert or replace a normalized document (it has `_id` and `_event_time`).
    Put(Object),
    /// Apply a JSON Patch to an existing document.
    Patch {
        /// The document's `_id`.
        id: String,
        /// The patch's operations, applied in order.
        ops: Vec<PatchOp>,
    },
    /// Delete a document.
    Delete {
        /// The document's `_id`.
        id: String,
    },
}

/// What a successful operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// A new document was added.
    Inserted,
    /// An existing document was replaced.
    Replaced,
    /// An existing document was patched.
    Patched,
    /// A document was deleted.
    Deleted,
}

/// The outcome of one successful operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The document's `_id`.
    pub id: String,
    /// What happened.
    pub kind: WriteKind,
    /// Collection-wide sequence number; durable once returned.
    pub seq: u64,
}

impl Shard {
    /// Applies `ops` atomically per document, in order, as one write batch; sequence numbers
    /// come from `seq`. A per-document failure (bad patch, missing document) leaves the other
    /// documents' operations in place.
    pub fn apply(self: &Arc<Self>, ops: Vec<ShardOp>, seq: &AtomicU64, sync: bool) -> Vec<Result<Applied>> {
        let n = ops.len();
        let Ok(mut writer) = self.writer.lock() else { return (0..n).map(|_| Err(StorageError::Poisoned)).collect() };
        match self.apply_locked(&mut writer, ops, seq, sync, None) {
            Ok(outcomes) => outcomes,
            Err((outcomes, e)) => {
                let msg = e.to_string();
                outcomes.into_iter().map(|o| o.and(Err(StorageError::WriteFailed(msg.clone())))).collect()
            }
        }
    }

    /// Applies the ingest-log records `ops` (offset, write) that this shard has not applied
    /// yet, and records `last` as its applied offset in the same write batch, so a crash
    /// neither loses a record nor applies one twice. Returns the outcome of each record it
    /// applied (records at or below its applied offset are skipped), or the error of the
    /// write itself, when nothing of it was stored.
    pub fn apply_logged(
        self: &Arc<Self>,
        ops: Vec<(u64, ShardOp)>,
        last: u64,
        seq: &AtomicU64,
    ) -> Result<Vec<(u64, Result<Applied>)>> {
        let mut writer = self.writer.lock().map_err(poisoned)?;
        let applied = writer.log_offset;
        if last <= applied {
            return Ok(Vec::new());
        }
        let (offsets, ops): (Vec<u64>, Vec<ShardOp>) = ops.into_iter().filter(|(o, _)| *o > applied).unzip();
        let results = self.apply_locked(&mut writer, ops, seq, false, Some(last)).map_err(|(_, e)| e)?;
        Ok(offsets.into_iter().zip(results).collect())
    }

    /// Applies `ops` as one write batch; when the batch could not be committed, the error
    /// with each operation's outcome as it would have been.
    #[allow(clippy::type_complexity)]
    fn apply_locked(
        self: &Arc<Self>,
        writer: &mut WriterState,
        ops: Vec<ShardOp>,
        seq: &AtomicU64,
        sync: bool,
        log_offset: Option<u64>,
    ) -> std::result::Result<Vec<Result<Applied>>, (Vec<Result<Applied>>, StorageError)> {
        let Ok(pending) = self.pending.read().map(|p| Arc::clone(&p)) else {
            return Err((ops.iter().map(|_| Err(StorageError::Poisoned)).collect(), StorageError::Poisoned));
        };
        let mut b = BatchBuilder::new(self, *writer, pending);
        let outcomes: Vec<Result<(String, WriteKind)>> = ops.into_iter().map(|op| b.apply_op(op)).collect();
        let ok = outcomes.iter().filter(|o| o.is_ok()).count() as u64;
        let base = seq.fetch_add(ok, Ordering::SeqCst);
        b.state.last_seq = b.state.last_seq.max(base + ok);
        if let Some(offset) = log_offset {
            b.state.log_offset = offset;
        }
        let committed = b.commit(sync);
        let mut n = base;
        let outcomes: Vec<Result<Applied>> = outcomes
            .into_iter()
            .map(|o| {
                o.map(|(id, kind)| {
                    n += 1;
                    Applied { id, kind, seq: n }
                })
            })
            .collect();
        match committed {
            Ok(state) => {
                *writer = state;
                self.maybe_fold();
                Ok(outcomes)
            }
            Err(e) => Err((outcomes, StorageError::WriteFailed(e.to_string()))),
        }
    }
}

/// A document's current state as seen inside a batch.
type Current = Option<(u32, Object)>;

struct BatchBuilder<'a> {
    shard: &'a Shard,
    state: WriterState,
    /// The shard's pending value postings when the batch began (the writer lock keeps them).
    pending: Arc<Pending>,
    /// Row fragments and metadata.
    batch: SortedBatch,
    /// Search-index posting edits of values (many distinct keys).
    search: EditGroups,
    /// Edits of the all-documents posting list.
    all_docs: Vec<u8>,
    /// Edits of each path's "defined" posting list (few keys, each edited by most documents).
    exists: HashMap<u32, Vec<u8>>,
    /// Range-index posting edits.
    range: EditGroups,
    /// Column-chunk edits.
    chunks: EditGroups,
    overlay: HashMap<String, Current>,
    type_deltas: HashMap<(u32, ValueType), i64>,
    new_paths: HashMap<String, u32>,
    next_path: u32,
    doc_delta: i64,
    /// Scratch buffers for keys and values.
    key: Vec<u8>,
    value: Vec<u8>,
}

impl<'a> BatchBuilder<'a> {
    fn new(shard: &'a Shard, state: WriterState, pending: Arc<Pending>) -> Self {
        let next_path = shard.paths.read().map(|p| p.names.len() as u32).unwrap_or(0);
        let BatchBuffers { rows, search, range, chunks } =
            shard.buffers.lock().map(|mut b| std::mem::take(&mut *b)).unwrap_or_default();
        BatchBuilder {
            shard,
            state,
            pending,
            batch: rows,
            search,
            all_docs: Vec::new(),
            exists: HashMap::default(),
            range,
            chunks,
            overlay: HashMap::default(),
            type_deltas: HashMap::default(),
            new_paths: HashMap::default(),
            next_path,
            doc_delta: 0,
            key: Vec::new(),
            value: Vec::new(),
        }
    }

    fn apply_op(&mut self, op: ShardOp) -> Result<(String, WriteKind)> {
        match op {
            ShardOp::Put(doc) => {
                let id = id_of(&doc).ok_or_else(|| StorageError::InvalidDocument("missing _id".into()))?.to_owned();
                let current = self.current(&id)?;
                let kind = if current.is_some() { WriteKind::Replaced } else { WriteKind::Inserted };
                self.put(&id, current, doc)?;
                Ok((id, kind))
            }
            ShardOp::Patch { id, ops } => {
                let Some((doc, old)) = self.current(&id)? else {
                    return Err(StorageError::NotFound { kind: ObjectKind::Document, name: id });
                };
                let mut new = patch::apply(&old, &ops)?;
                check_patched(&id, &mut new)?;
                self.put(&id, Some((doc, old)), new)?;
                Ok((id, WriteKind::Patched))
            }
            ShardOp::Delete { id } => {
                let Some((doc, old)) = self.current(&id)? else {
                    return Err(StorageError::NotFound { kind: ObjectKind::Document, name: id });
                };
                self.remove(&id, doc, old)?;
                Ok((id, WriteKind::Deleted))
            }
        }
    }

    /// The document's number and body, from this batch or the database.
    fn current(&mut self, id: &str) -> Result<Current> {
        if let Some(c) = self.overlay.get(id) {
            return Ok(c.clone());
        }
        let Some(doc) = self.shard.doc_number_with(id, &ReadOptions::default(), &self.pending)? else { return Ok(None) };
        // The writer holds the shard lock: the latest state is this document's state.
        let body = self.shard.row_reader_with(ReadOptions::default()).read(doc, None)?;
        Ok(Some((doc, body)))
    }

    fn put(&mut self, id: &str, current: Current, new: Object) -> Result<()> {
        let (doc, old) = match current {
            Some((doc, old)) => (doc, Some(old)),
            None => {
                let doc = self.state.next_doc;
                self.state.next_doc = doc
                    .checked_add(1)
                    .ok_or_else(|| StorageError::InvalidArgument("shard is out of document numbers; use more shards".into()))?;
                posting::push_edit(&mut self.all_docs, true, doc);
                self.doc_delta += 1;
                (doc, None)
            }
        };
        let old_entries = old.as_ref().map(|o| self.entries(o));
        let new_entries = self.entries(&new);
        self.index_diff(doc, old_entries.as_ref(), Some(&new_entries));
        self.fragments_diff(doc, old.as_ref(), Some(&new));
        self.overlay.insert(id.to_owned(), Some((doc, new)));
        Ok(())
    }

    fn remove(&mut self, id: &str, doc: u32, old: Object) -> Result<()> {
        let entries = self.entries(&old);
        self.index_diff(doc, Some(&entries), None);
        self.fragments_diff(doc, Some(&old), None);
        posting::push_edit(&mut self.all_docs, false, doc);
        self.doc_delta -= 1;
        self.overlay.insert(id.to_owned(), None);
        Ok(())
    }

    fn entries(&mut self, doc: &Object) -> DocEntries {
        let guard = self.shard.paths.read().ok();
        let known = guard.as_deref();
        let new_paths = &mut self.new_paths;
        let next_path = &mut self.next_path;
        DocEntries::of(doc, &mut |p: &str| {
            if let Some(id) = known.and_then(|d| d.id(p)) {
                return id;
            }
            if let Some(id) = new_paths.get(p) {
                return *id;
            }
            let id = *next_path;
            *next_path += 1;
            new_paths.insert(p.to_owned(), id);
            id
        })
    }

    fn posting_edit(&mut self, path: u32, value: &[u8], add: bool, doc: u32) {
        self.key.clear();
        keys::value_key_into(&mut self.key, path, value);
        self.search.push(&self.key, |o| posting::push_edit(o, add, doc));
    }

    fn range_edit(&mut self, path: u32, bucket: &[u8], add: bool, doc: u32) {
        self.key.clear();
        keys::range_key_into(&mut self.key, path, bucket);
        self.range.push(&self.key, |o| posting::push_edit(o, add, doc));
    }

    fn column_edit(&mut self, path: u32, doc: u32, value: Option<&[u8]>) {
        let key = keys::col_key(path, chunk_of(doc));
        self.chunks.push(&key, |o| match value {
            Some(v) => column::push_set(o, doc, v),
            None => column::push_delete(o, doc),
        });
    }

    fn index_diff(&mut self, doc: u32, old: Option<&DocEntries>, new: Option<&DocEntries>) {
        let empty = DocEntries::default();
        let (o, n) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
        let (gone, came) = diff_sorted(&o.types, &n.types);
        for (p, t) in gone {
            *self.type_deltas.entry((*p, *t)).or_default() -= 1;
        }
        for (p, t) in came {
            *self.type_deltas.entry((*p, *t)).or_default() += 1;
        }
        let (op, np): (Vec<u32>, Vec<u32>) = (o.paths().collect(), n.paths().collect());
        let (gone, came) = diff_sorted(&op, &np);
        for (paths, add) in [(gone, false), (came, true)] {
            for p in paths {
                posting::push_edit(self.exists.entry(*p).or_default(), add, doc);
            }
        }
        let (ov, nv): (Vec<_>, Vec<_>) = (o.values().collect(), n.values().collect());
        let (gone, came) = diff_sorted(&ov, &nv);
        for (values, add) in [(gone, false), (came, true)] {
            for (p, k) in values {
                self.posting_edit(*p, k, add, doc);
            }
        }
        // A document leaves a bucket only when none of its values remain in it.
        let (ob, nb) = (o.buckets(), n.buckets());
        let (gone, came) = diff_sorted(&ob, &nb);
        for (buckets, add) in [(gone, false), (came, true)] {
            for (p, b) in buckets {
                self.range_edit(*p, b, add, doc);
            }
        }
        // Deletes first: a changed value shows up on both sides under the same chunk key.
        let (oc, nc): (Vec<_>, Vec<_>) = (o.columns().collect(), n.columns().collect());
        let (gone, came) = diff_sorted(&oc, &nc);
        for (p, _) in gone {
            self.column_edit(*p, doc, None);
        }
        for (p, v) in came {
            self.column_edit(*p, doc, Some(v));
        }
    }

    fn fragments_diff(&mut self, doc: u32, old: Option<&Object>, new: Option<&Object>) {
        let empty = Object::new();
        let (o, n) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
        for k in o.keys().filter(|k| !n.contains_key(*k)) {
            self.batch.delete(cf::ROWS, &keys::row_key(doc, k));
        }
        for (k, v) in n.iter().filter(|(k, v)| o.get(*k) != Some(*v)) {
            self.key.clear();
            keys::row_key_into(&mut self.key, doc, k);
            self.value.clear();
            encode_value(v, &mut self.value);
            self.batch.put(cf::ROWS, &self.key, &self.value);
        }
    }

    /// Hands the batch's buffers back to the shard for the next batch, once their contents
    /// are in the RocksDB batch.
    fn give_back_buffers(&mut self) {
        let buffers = BatchBuffers {
            rows: std::mem::take(&mut self.batch),
            search: std::mem::take(&mut self.search),
            range: std::mem::take(&mut self.range),
            chunks: std::mem::take(&mut self.chunks),
        };
        if let Ok(mut b) = self.shard.buffers.lock() {
            *b = buffers.recycle();
        }
    }

    /// Writes the batch; returns the writer state to keep.
    fn commit(mut self, sync: bool) -> Result<WriterState> {
        for ((p, t), d) in &self.type_deltas {
            if *d != 0 {
                self.batch.merge(cf::META, &keys::type_count_key(*p, *t as u8), &d.to_le_bytes());
            }
        }
        for (name, id) in &self.new_paths {
            self.batch.put(cf::META, &keys::path_key(name), &id.to_be_bytes());
        }
        let mut state = [0u8; 20];
        state[..4].copy_from_slice(&self.state.next_doc.to_le_bytes());
        state[4..12].copy_from_slice(&self.state.last_seq.to_le_bytes());
        state[12..].copy_from_slice(&self.state.log_offset.to_le_bytes());
        self.batch.put(cf::META, keys::STATE_KEY, &state);
        let mut wo = WriteOptions::default();
        wo.set_sync(sync);
        let mut batch = self.batch.take_write_batch(self.shard);
        // Search keys in ascending order: `A` (all documents), `V…` (values), `X…` (paths).
        let search = self.shard.cf(cf::SEARCH);
        let tagged = |edits: &[u8]| [&[posting::EDITS_TAG], edits].concat();
        if !self.all_docs.is_empty() {
            batch.merge_cf(search, keys::ALL_DOCS_KEY, tagged(&self.all_docs));
        }
        let mut run = RunBuilder::default();
        self.search.for_each_group(posting::EDITS_TAG, |k, operand| run.push(k, operand));
        let mut exists: Vec<(u32, Vec<u8>)> = std::mem::take(&mut self.exists).into_iter().collect();
        exists.sort_unstable_by_key(|(p, _)| *p);
        for (p, edits) in exists {
            batch.merge_cf(search, keys::exists_key(p), tagged(&edits));
        }
        for (family, edits, tag) in
            [(cf::RANGE, &mut self.range, posting::EDITS_TAG), (cf::COLS, &mut self.chunks, column::EDITS_TAG)]
        {
            let h = self.shard.cf(family);
            edits.for_each_group(tag, |k, operand| batch.merge_cf(h, k, operand));
        }
        self.give_back_buffers();
        let pending = if run.is_empty() {
            None
        } else {
            let run = run.finish();
            batch.put_cf(self.shard.cf(cf::PENDING), pending::record_key(self.pending.next_record()), run.bytes());
            Some(self.pending.with_run(run))
        };
        let mut published = self.shard.pending.write().map_err(poisoned)?;
        self.shard.db.write_opt(batch, &wo).ctx("writing batch")?;
        if let Some(p) = pending {
            // A fold may have finished since the batch began: keep its (smaller) frozen part.
            *published = Arc::new(p.with_frozen_of(&published));
        }
        drop(published);

        let mut paths = self.shard.paths.write().map_err(poisoned)?;
        for (name, id) in self.new_paths {
            paths.insert(name, id);
        }
        drop(paths);
        let mut counts = self.shard.type_counts.write().map_err(poisoned)?;
        for (k, d) in self.type_deltas {
            let e = counts.entry(k).or_default();
            *e += d;
            if *e == 0 {
                counts.remove(&k);
            }
        }
        let n = self.shard.doc_count.load(Ordering::Relaxed) as i64 + self.doc_delta;
        self.shard.doc_count.store(n.max(0) as u64, Ordering::Relaxed);
        Ok(self.state)
    }
}

/// A patch may not change `_id` or remove `_event_time`; a patched `_event_time` is re-read.
fn check_patched(id: &str, doc: &mut Object) -> Result<()> {
    if id_of(doc) != Some(id) {
        return Err(StorageError::InvalidDocument("a patch cannot change or remove _id".into()));
    }
    let t = match doc.get(EVENT_TIME_FIELD) {
        Some(v) => event_time_of(v).map_err(StorageError::InvalidDocument)?,
        None => return Err(StorageError::InvalidDocument("a patch cannot remove _event_time".into())),
    };
    doc.insert(EVENT_TIME_FIELD.into(), Value::Timestamp(t));
    debug_assert!(doc.contains_key(ID_FIELD));
    Ok(())
}
