//! Snapshot-consistent reads of one shard: documents by `_id` or number, posting lists,
//! statistics that need the data (distinct values).

use std::mem::ManuallyDrop;
use std::sync::Arc;

use roaring::RoaringBitmap;
use rocksdb::{ReadOptions, Snapshot};

use super::{IndexPredicate, Shard};
use crate::document::{EVENT_TIME_FIELD, ID_FIELD};
use crate::error::{corrupt, Result, RocksContext};
use crate::index::keys::{self, cf, prefix_end};
use crate::index::pending::Pending;
use crate::index::posting;
use crate::value::codec::decode_value_exact;
use crate::value::keycode::encode_key;
use crate::value::{Object, Value};

/// Reads documents' row fragments, reusing one RocksDB iterator.
pub struct RowReader<'a> {
    it: rocksdb::DBRawIteratorWithThreadMode<'a, rocksdb::DB>,
}

impl RowReader<'_> {
    /// The chosen top-level fields of document `doc` (all when `fields` is None).
    pub fn read(&mut self, doc: u32, fields: Option<&[&str]>) -> Result<Object> {
        let prefix = doc.to_be_bytes();
        self.it.seek(prefix);
        let mut out = Object::new();
        while let (Some(k), Some(v)) = (self.it.key(), self.it.value()) {
            if !k.starts_with(&prefix) {
                break;
            }
            let field = std::str::from_utf8(&k[4..]).map_err(|_| corrupt("row key", "not UTF-8"))?;
            if fields.is_none_or(|f| f.contains(&field)) {
                out.insert(field.to_owned(), decode_value_exact(v)?);
            }
            self.it.next();
        }
        self.it.status().ctx("scanning row index")?;
        Ok(out)
    }
}

/// A consistent point-in-time view of one shard. Cheap to create; holds the shard open.
pub struct ShardSnapshot {
    // Declared before `shard`: the snapshot must be released while the database is open.
    snap: ManuallyDrop<Snapshot<'static>>,
    /// The pending value postings that belong with `snap`.
    pending: Arc<Pending>,
    shard: Arc<Shard>,
}

impl Drop for ShardSnapshot {
    fn drop(&mut self) {
        // SAFETY: `snap` borrows `shard.db`, which `self.shard` keeps alive until after this
        // runs; the snapshot is dropped exactly once, here.
        unsafe { ManuallyDrop::drop(&mut self.snap) }
    }
}

impl Shard {
    /// The document number of `_id` as seen by `ro` (a snapshot, or the latest state) and
    /// the pending postings that go with it.
    pub(crate) fn doc_number_with(&self, id: &str, ro: &ReadOptions, pending: &Pending) -> Result<Option<u32>> {
        let Some(path) = self.paths.read().map_err(super::poisoned)?.id(ID_FIELD) else { return Ok(None) };
        let key = keys::value_key(path, &encode_key(&Value::String(id.to_owned())));
        Ok(self.posting_with(&key, ro, pending)?.min())
    }

    /// The search-index posting list under `key` as `ro` sees it, `pending`'s edits applied.
    pub(crate) fn posting_with(&self, key: &[u8], ro: &ReadOptions, pending: &Pending) -> Result<RoaringBitmap> {
        let mut set = match self.db.get_pinned_cf_opt(self.cf(cf::SEARCH), key, ro).ctx("reading posting list")? {
            Some(v) => posting::decode(&v)?,
            None => RoaringBitmap::new(),
        };
        for op in pending.operands(key) {
            posting::apply(&mut set, op)?;
        }
        Ok(set)
    }

    /// A row reader over the state `ro` sees (a snapshot, or the latest state).
    pub(crate) fn row_reader_with(&self, mut ro: ReadOptions) -> RowReader<'_> {
        ro.set_prefix_same_as_start(true);
        RowReader { it: self.db.raw_iterator_cf_opt(self.cf(cf::ROWS), ro) }
    }

    /// Takes a snapshot of this shard.
    pub fn snapshot(self: &Arc<Self>) -> ShardSnapshot {
        // Writers hold the write lock across their RocksDB write, so the snapshot and the
        // pending postings taken under the read lock belong together.
        let published = self.pending.read().unwrap_or_else(|e| e.into_inner());
        let snap: Snapshot<'_> = self.db.snapshot();
        let pending = Arc::clone(&published);
        drop(published);
        // SAFETY: the snapshot only borrows `self.db`; the returned struct owns an `Arc` of the
        // shard, so the database outlives the snapshot (see `Drop for ShardSnapshot`).
        let snap: Snapshot<'static> = unsafe { std::mem::transmute::<Snapshot<'_>, Snapshot<'static>>(snap) };
        ShardSnapshot { snap: ManuallyDrop::new(snap), pending, shard: Arc::clone(self) }
    }
}

impl ShardSnapshot {
    /// The shard this snapshot reads.
    pub fn shard(&self) -> &Arc<Shard> {
        &self.shard
    }

    pub(crate) fn read_options(&self) -> ReadOptions {
        let mut o = ReadOptions::default();
        o.set_snapshot(&self.snap);
        o
    }

    pub(crate) fn bounded(&self, lower: &[u8], upper: Option<Vec<u8>>) -> ReadOptions {
        let mut o = self.read_options();
        o.set_iterate_lower_bound(lower.to_vec());
        if let Some(u) = upper {
            o.set_iterate_upper_bound(u);
        }
        o
    }

    /// The document number of `_id`, if the document exists (from the `_id` posting list).
    pub fn doc_number(&self, id: &str) -> Result<Option<u32>> {
        self.shard.doc_number_with(id, &self.read_options(), &self.pending)
    }

    /// The whole document with number `doc` (empty if it does not exist).
    pub fn read_doc(&self, doc: u32) -> Result<Object> {
        self.read_fields(doc, None)
    }

    /// The chosen top-level fields of document `doc` (all when `fields` is None): one prefix
    /// scan of the row index.
    pub fn read_fields(&self, doc: u32, fields: Option<&[&str]>) -> Result<Object> {
        self.row_reader().read(doc, fields)
    }

    /// A reader of many documents' fragments through one iterator (one seek per document);
    /// cheaper than [`ShardSnapshot::read_fields`] per document.
    pub fn row_reader(&self) -> RowReader<'_> {
        self.shard.row_reader_with(self.read_options())
    }

    /// The document with `_id`, if it exists.
    pub fn get(&self, id: &str) -> Result<Option<Object>> {
        match self.doc_number(id)? {
            Some(doc) => Ok(Some(self.read_doc(doc)?)),
            None => Ok(None),
        }
    }

    /// Reads the posting list stored under a search-index key.
    pub(crate) fn posting(&self, key: &[u8]) -> Result<RoaringBitmap> {
        self.shard.posting_with(key, &self.read_options(), &self.pending)
    }

    /// Number of documents in the search-index posting list under `key`.
    pub(crate) fn posting_len(&self, key: &[u8]) -> Result<u64> {
        if self.pending.operands(key).next().is_some() {
            return Ok(self.posting(key)?.len());
        }
        match self.shard.db.get_pinned_cf_opt(self.shard.cf(cf::SEARCH), key, &self.read_options()).ctx("reading posting")? {
            Some(v) => posting::len(&v),
            None => Ok(0),
        }
    }

    /// Calls `f` with every posting list of `family` (search or range index) whose key is in
    /// `start..end`, in key order, pending edits applied.
    pub(crate) fn for_each_posting(
        &self,
        family: &str,
        start: &[u8],
        end: Option<Vec<u8>>,
        mut f: impl FnMut(&[u8], &RoaringBitmap),
    ) -> Result<()> {
        self.find_posting(family, (start, end.as_deref()), false, |k, set| {
            f(k, set);
            Ok(None::<()>)
        })
        .map(|_| ())
    }

    /// Walks the posting lists of `family` (search or range index) with keys in `start..end`
    /// in key order (from the end with `reverse`), pending edits applied, until `visit` gives
    /// a result; that result.
    pub(crate) fn find_posting<T>(
        &self,
        family: &str,
        (start, end): (&[u8], Option<&[u8]>),
        reverse: bool,
        mut visit: impl FnMut(&[u8], &RoaringBitmap) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let pending = if family == cf::SEARCH { self.pending.range(start, end) } else { Default::default() };
        let mut pending: Box<dyn Iterator<Item = (&Vec<u8>, &Vec<u8>)>> =
            if reverse { Box::new(pending.iter().rev()) } else { Box::new(pending.iter()) };
        let mut next_pending = pending.next();
        let mut it = self.shard.db.raw_iterator_cf_opt(self.shard.cf(family), self.bounded(start, end.map(<[u8]>::to_vec)));
        if reverse {
            it.seek_to_last();
        } else {
            it.seek(start);
        }
        loop {
            if it.key().is_none() {
                // The index is done, or failed: pending-only keys may only follow a clean end.
                it.status().ctx("scanning posting lists")?;
            }
            // The next key in walking order: from the index (with its pending edits), or pending only.
            let from_index = match (it.key(), next_pending) {
                (None, None) => break,
                (Some(k), Some((p, _))) => (if reverse { k >= p.as_slice() } else { k <= p.as_slice() }).then_some(k),
                (k, _) => k,
            };
            let (key, set) = match (from_index, it.value()) {
                (Some(k), Some(v)) => {
                    let mut set = posting::decode(v)?;
                    if let Some((_, ops)) = next_pending.filter(|(p, _)| p.as_slice() == k) {
                        posting::apply(&mut set, ops)?;
                        next_pending = pending.next();
                    }
                    let key = k.to_vec();
                    if reverse {
                        it.prev();
                    } else {
                        it.next();
                    }
                    (key, set)
                }
                _ => match next_pending {
                    Some((k, ops)) => {
                        let mut set = RoaringBitmap::new();
                        posting::apply(&mut set, ops)?;
                        next_pending = pending.next();
                        (k.clone(), set)
                    }
                    None => break,
                },
            };
            if let Some(found) = visit(&key, &set)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// Every live document number.
    pub fn all_docs(&self) -> Result<RoaringBitmap> {
        self.posting(keys::ALL_DOCS_KEY)
    }

    /// The id of a path in this shard, if any document ever held it.
    pub fn path_id(&self, path: &str) -> Option<u32> {
        self.shard.paths.read().ok()?.id(path)
    }

    /// Number of distinct scalar values at `path` (exact, by walking its search-index keys).
    pub fn distinct_values(&self, path: &str) -> Result<u64> {
        let Some(id) = self.path_id(path) else { return Ok(0) };
        let prefix = keys::value_key(id, &[]);
        let mut n = 0;
        self.for_each_posting(cf::SEARCH, &prefix, prefix_end(&prefix), |_, set| n += u64::from(!set.is_empty()))?;
        Ok(n)
    }
}

impl ShardSnapshot {
    /// `_id`s of documents whose event time is before `cutoff`, from the range index on
    /// `_event_time` (only expired values are read, never live ones).
    pub fn expired_ids(&self, cutoff: i64) -> Result<Vec<String>> {
        let docs = self.lookup(&expired_before(cutoff))?;
        let mut ids = Vec::with_capacity(docs.len() as usize);
        let mut rows = self.row_reader();
        for doc in &docs {
            if let Some(Value::String(id)) = rows.read(doc, Some(&[ID_FIELD]))?.remove(ID_FIELD) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// Whether any document's event time is before `cutoff` (from the range index on
    /// `_event_time`, which holds only what the background expiry has not dropped yet).
    pub fn any_expired(&self, cutoff: i64) -> Result<bool> {
        Ok(!self.lookup(&expired_before(cutoff))?.is_empty())
    }
}

/// Documents whose event time is before `cutoff`.
fn expired_before(cutoff: i64) -> IndexPredicate {
    IndexPredicate::Range {
        path: EVENT_TIME_FIELD.into(),
        lower: std::ops::Bound::Unbounded,
        upper: std::ops::Bound::Excluded(Value::Timestamp(cutoff)),
    }
}
