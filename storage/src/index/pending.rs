//! Pending value postings: the search-index edits of recent write batches, held in memory as a
//! few sorted runs (and durably as one record per batch, written in the batch's own RocksDB
//! write) until they are folded into the search index in bulk.
//!
//! Most values a batch indexes are new (ids, timestamps, URIs, hashes), so writing each one's
//! posting straight into RocksDB costs a memtable skiplist insert at a random position per
//! value, the largest part of ingest. A batch's edits instead become one record; readers apply
//! the runs' operands after what the search index holds; a fold writes all runs in key order,
//! where memtable inserts land next to each other and are cheap.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

use crate::error::{corrupt, Result};

/// Runs of one size class (sizes within a factor of this) are merged when this many gather, so
/// a lookup consults few runs and each entry is copied a few times before its fold.
const MERGE_FANIN: usize = 8;

/// Bytes of pending runs at which the writer folds them into the search index, by default.
pub const FOLD_BYTES: usize = 64 << 20;

/// One sorted run: distinct keys in ascending order, each with one posting merge operand (an
/// edit run: tag, then edits in the order they were made).
pub struct Run {
    /// The durable encoding: per entry, key length (u32 LE), key, operand length, operand.
    bytes: Vec<u8>,
    /// Per entry: key start, key end (its operand starts 4 bytes later), operand end.
    entries: Vec<[u32; 3]>,
    bloom: Bloom,
}

/// Builds a run from entries pushed in ascending key order.
#[derive(Default)]
pub struct RunBuilder {
    bytes: Vec<u8>,
    entries: Vec<[u32; 3]>,
}

impl RunBuilder {
    /// Appends an entry; keys must ascend strictly.
    pub fn push(&mut self, key: &[u8], operand: &[u8]) {
        self.bytes.extend_from_slice(&(key.len() as u32).to_le_bytes());
        let k = self.bytes.len() as u32;
        self.bytes.extend_from_slice(key);
        let e = self.bytes.len() as u32;
        self.bytes.extend_from_slice(&(operand.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(operand);
        self.entries.push([k, e, self.bytes.len() as u32]);
    }

    /// True when nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The finished run.
    pub fn finish(self) -> Run {
        let mut bloom = Bloom::new(self.entries.len());
        for e in &self.entries {
            bloom.insert(&self.bytes[e[0] as usize..e[1] as usize]);
        }
        debug_assert!(self.entries.windows(2).all(|w| {
            let key = |e: &[u32; 3]| &self.bytes[e[0] as usize..e[1] as usize];
            key(&w[0]) < key(&w[1])
        }));
        Run { bytes: self.bytes, entries: self.entries, bloom }
    }
}

impl Run {
    /// Parses a run from its durable encoding.
    pub fn decode(bytes: Vec<u8>) -> Result<Run> {
        let entries = parse_entries(&bytes)?;
        let b = RunBuilder { bytes, entries };
        let key = |e: &[u32; 3]| &b.bytes[e[0] as usize..e[1] as usize];
        if !b.entries.windows(2).all(|w| key(&w[0]) < key(&w[1])) {
            return Err(corrupt("pending postings", "keys out of order"));
        }
        Ok(b.finish())
    }

    /// The durable encoding.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the run has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn key(&self, i: usize) -> &[u8] {
        let e = self.entries[i];
        &self.bytes[e[0] as usize..e[1] as usize]
    }

    fn operand(&self, i: usize) -> &[u8] {
        let e = self.entries[i];
        &self.bytes[e[1] as usize + 4..e[2] as usize]
    }

    /// Entry `i` as (key, operand).
    pub fn entry(&self, i: usize) -> (&[u8], &[u8]) {
        (self.key(i), self.operand(i))
    }

    /// The operand stored for `key`.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        if !self.bloom.may_contain(key) {
            return None;
        }
        let i = self.lower_bound(key);
        (i < self.len() && self.key(i) == key).then(|| self.operand(i))
    }

    fn lower_bound(&self, key: &[u8]) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.key(mid) < key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Entries with `start <= key < end` (no upper limit when `end` is None), ascending.
    pub fn range<'a>(&'a self, start: &[u8], end: Option<&'a [u8]>) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        (self.lower_bound(start)..self.len()).map(|i| self.entry(i)).take_while(move |(k, _)| end.is_none_or(|e| *k < e))
    }

    /// One run holding every entry of `runs` (oldest first); a key in several gets their
    /// edits in age order.
    pub fn merge_all(runs: &[Arc<Run>]) -> Run {
        let mut out = RunBuilder {
            bytes: Vec::with_capacity(runs.iter().map(|r| r.bytes.len()).sum()),
            entries: Vec::with_capacity(runs.iter().map(|r| r.len()).sum()),
        };
        // Min-heap of (key, run index, entry index): equal keys pop oldest run first.
        let mut heap: BinaryHeap<Reverse<(&[u8], usize, usize)>> =
            runs.iter().enumerate().filter(|(_, r)| !r.is_empty()).map(|(i, r)| Reverse((r.key(0), i, 0))).collect();
        let mut joined = Vec::new();
        while let Some(Reverse((key, r, e))) = heap.pop() {
            joined.clear();
            joined.extend_from_slice(runs[r].operand(e));
            let advance = |r: usize, e: usize, heap: &mut BinaryHeap<_>| {
                if e + 1 < runs[r].len() {
                    heap.push(Reverse((runs[r].key(e + 1), r, e + 1)));
                }
            };
            advance(r, e, &mut heap);
            while let Some(Reverse((k, r2, e2))) = heap.peek().copied() {
                if k != key {
                    break;
                }
                heap.pop();
                joined.extend_from_slice(runs[r2].operand(e2).get(1..).unwrap_or_default());
                advance(r2, e2, &mut heap);
            }
            out.push(key, &joined);
        }
        out.finish()
    }
}

/// Entry offsets of an encoded run.
fn parse_entries(bytes: &[u8]) -> Result<Vec<[u32; 3]>> {
    let bad = || corrupt("pending postings", "truncated record");
    let len_at = |p: usize| -> Result<usize> {
        let b = bytes.get(p..p + 4).ok_or_else(bad)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let mut entries = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        let k = pos + 4;
        let e = k + len_at(pos)?;
        let end = e + 4 + len_at(e)?;
        if end > bytes.len() {
            return Err(bad());
        }
        entries.push([k as u32, e as u32, end as u32]);
        pos = end;
    }
    Ok(entries)
}

/// The pending runs of one shard at one moment. Immutable: the writer and the folder publish
/// new ones, readers keep the one they started with beside their RocksDB snapshot.
///
/// Runs are either frozen (handed to a fold in progress; the oldest records) or active
/// (taking new batches). The writer only changes the active part, the folder only the frozen
/// part, so each can publish its change onto the other's latest state.
#[derive(Default, Clone)]
pub struct Pending {
    frozen: Vec<Arc<Run>>,
    /// Active runs, oldest first (merging keeps older runs mostly larger).
    runs: Vec<Arc<Run>>,
    /// Bytes of the active runs.
    bytes: usize,
    /// Number of the oldest record not yet folded.
    first_record: u64,
    /// Records `first_record..frozen_end` are frozen.
    frozen_end: u64,
    /// Number the next batch's record gets.
    next_record: u64,
}

impl Pending {
    /// No pending runs; the next record is numbered `next_record`.
    pub fn empty_at(next_record: u64) -> Pending {
        Pending { first_record: next_record, frozen_end: next_record, next_record, ..Default::default() }
    }

    /// Bytes of the active runs.
    pub fn active_bytes(&self) -> usize {
        self.bytes
    }

    /// True when runs are frozen for a fold.
    pub fn has_frozen(&self) -> bool {
        !self.frozen.is_empty()
    }

    /// Number the next batch's record gets.
    pub fn next_record(&self) -> u64 {
        self.next_record
    }

    /// This state plus `run` (recorded as the next record). When [`MERGE_FANIN`] active runs
    /// of one size class gather, they merge.
    pub fn with_run(&self, run: Run) -> Pending {
        let mut runs = self.runs.clone();
        runs.push(Arc::new(run));
        loop {
            let class = |r: &Run| (r.len().max(1) as f64).log(MERGE_FANIN as f64) as u32;
            let last = class(&runs[runs.len() - 1]);
            let same = runs.iter().rev().take_while(|r| class(r) <= last).count();
            if same < MERGE_FANIN {
                break;
            }
            let merged = Run::merge_all(&runs[runs.len() - same..]);
            runs.truncate(runs.len() - same);
            runs.push(Arc::new(merged));
        }
        let bytes = runs.iter().map(|r| r.bytes.len()).sum();
        Pending { runs, bytes, next_record: self.next_record + 1, ..self.clone() }
    }

    /// `latest`'s frozen part with this state's active part (the writer's publication).
    pub fn with_frozen_of(&self, latest: &Pending) -> Pending {
        Pending {
            frozen: latest.frozen.clone(),
            first_record: latest.first_record,
            frozen_end: latest.frozen_end,
            ..self.clone()
        }
    }

    /// Every run frozen for a fold.
    pub fn freeze(&self) -> Pending {
        let mut frozen = self.frozen.clone();
        frozen.extend(self.runs.iter().cloned());
        Pending { frozen, runs: Vec::new(), bytes: 0, frozen_end: self.next_record, ..self.clone() }
    }

    /// The frozen runs merged into one and their record numbers (None when nothing is frozen).
    pub fn frozen_merged(&self) -> Option<(Run, std::ops::Range<u64>)> {
        self.has_frozen().then(|| (Run::merge_all(&self.frozen), self.first_record..self.frozen_end))
    }

    /// This state without the frozen runs, once they are folded (the folder's publication).
    pub fn without_frozen(&self) -> Pending {
        Pending { frozen: Vec::new(), first_record: self.frozen_end, ..self.clone() }
    }

    fn all_runs(&self) -> impl Iterator<Item = &Arc<Run>> {
        self.frozen.iter().chain(&self.runs)
    }

    /// Operands for `key`, oldest first.
    pub fn operands<'a>(&'a self, key: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.all_runs().filter_map(move |r| r.get(key))
    }

    /// Every key with `start <= key < end` and its operands joined oldest first.
    pub fn range(&self, start: &[u8], end: Option<&[u8]>) -> BTreeMap<Vec<u8>, Vec<u8>> {
        let mut out: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for run in self.all_runs() {
            for (k, op) in run.range(start, end) {
                match out.get_mut(k) {
                    Some(joined) => joined.extend_from_slice(op.get(1..).unwrap_or_default()),
                    None => {
                        out.insert(k.to_vec(), op.to_vec());
                    }
                }
            }
        }
        out
    }
}

/// Key of a pending record (its number, big-endian so records sort in write order).
pub fn record_key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// Number of a pending record from its key.
pub fn record_number(key: &[u8]) -> Result<u64> {
    let b: [u8; 8] = key.try_into().map_err(|_| corrupt("pending postings", "bad record key"))?;
    Ok(u64::from_be_bytes(b))
}

/// A bloom filter over a run's keys (10 bits per key, 4 probes), so a lookup of an absent key
/// (every new document's `_id`) skips the run's binary search.
struct Bloom {
    bits: Vec<u64>,
    mask: u64,
}

const SEEDS: (u64, u64, u64, u64) = (0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0, 0x082E_FA98_EC4E_6C89);

fn hash(key: &[u8]) -> u64 {
    ahash::RandomState::with_seeds(SEEDS.0, SEEDS.1, SEEDS.2, SEEDS.3).hash_one(key)
}

impl Bloom {
    fn new(keys: usize) -> Bloom {
        let nbits = (keys.max(1) * 10).next_power_of_two().max(64);
        Bloom { bits: vec![0; nbits / 64], mask: nbits as u64 - 1 }
    }

    fn probes(&self, key: &[u8]) -> [u64; 4] {
        let h = hash(key);
        let (a, b) = (h, (h >> 32) | 1);
        [0u64, 1, 2, 3].map(|i| a.wrapping_add(i.wrapping_mul(b)) & self.mask)
    }

    fn insert(&mut self, key: &[u8]) {
        for p in self.probes(key) {
            self.bits[(p / 64) as usize] |= 1 << (p % 64);
        }
    }

    fn may_contain(&self, key: &[u8]) -> bool {
        self.probes(key).iter().all(|p| self.bits[(p / 64) as usize] & (1 << (p % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(entries: &[(&str, &[u8])]) -> Run {
        let mut b = RunBuilder::default();
        for (k, op) in entries {
            b.push(k.as_bytes(), op);
        }
        b.finish()
    }

    #[test]
    fn lookups_ranges_and_round_trip() {
        let r = run(&[("a", &[3, 1]), ("c", &[3, 2]), ("d", &[3, 3])]);
        assert_eq!(r.get(b"c"), Some(&[3u8, 2][..]));
        assert_eq!(r.get(b"b"), None);
        let keys: Vec<&[u8]> = r.range(b"b", Some(b"d")).map(|(k, _)| k).collect();
        assert_eq!(keys, vec![&b"c"[..]]);
        let back = Run::decode(r.bytes().to_vec()).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back.get(b"d"), Some(&[3u8, 3][..]));
        assert!(Run::decode(r.bytes()[..5].to_vec()).is_err());
    }

    #[test]
    fn merges_keep_edit_order_and_stay_few() {
        let mut p = Pending::empty_at(7);
        for i in 0..100u8 {
            p = p.with_run(run(&[("k", &[3, i]), (&format!("u{i:03}"), &[3, i])]));
        }
        assert_eq!(p.next_record(), 107);
        assert!(p.runs.len() <= 2 * MERGE_FANIN, "{} runs", p.runs.len());
        let joined: Vec<u8> = p.operands(b"k").flat_map(|op| op[1..].to_vec()).collect();
        assert_eq!(joined, (0..100).collect::<Vec<u8>>());
        let range = p.range(b"k", Some(b"u002"));
        assert_eq!(range.len(), 3);
        assert_eq!(range[&b"k".to_vec()][1..], (0..100).collect::<Vec<u8>>()[..]);
        // Freezing keeps every operand visible; later runs stay behind the frozen ones.
        let p = p.freeze().with_run(run(&[("k", &[3, 200])]));
        assert_eq!(p.active_bytes(), run(&[("k", &[3, 200])]).bytes().len());
        let joined: Vec<u8> = p.operands(b"k").flat_map(|op| op[1..].to_vec()).collect();
        assert_eq!(joined.len(), 101);
        assert_eq!(joined[100], 200);
        let (all, records) = p.frozen_merged().unwrap();
        assert_eq!(records, 7..107);
        assert_eq!(all.len(), 101);
        assert_eq!(all.get(b"u042"), Some(&[3u8, 42][..]));
        let rest = p.without_frozen();
        assert!(!rest.has_frozen());
        assert_eq!(rest.operands(b"k").count(), 1);
        assert_eq!(rest.operands(b"u042").count(), 0);
    }
}
