//! Consistency check: rebuilds every index from the row index and compares it with what is
//! stored (search postings, exists and all-documents lists, range buckets, column chunks,
//! smart-schema counters, unique `_id`s). Used by tests after crashes
//! and random operation sequences, and available to operators.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use roaring::RoaringBitmap;

use super::ShardSnapshot;
use crate::document::{id_of, stored_event_time};
use crate::error::{corrupt, Result, RocksContext};
use crate::index::column::{chunk_of, fold, ChunkView, CHUNK_DOCS};
use crate::index::entries::DocEntries;
use crate::index::keys::{self, cf};
use crate::value::codec::decode_value_exact;
use crate::value::{Object, ValueType};

/// The result of a consistency check.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Documents found in the row index.
    pub documents: u64,
    /// Every disagreement found, described.
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// True when every index agrees with the row index.
    pub fn is_consistent(&self) -> bool {
        self.problems.is_empty()
    }
}

impl ShardSnapshot {
    /// Checks every index of this shard against its row index.
    pub fn verify(&self) -> Result<VerifyReport> {
        let mut report = VerifyReport::default();
        let docs = self.all_row_docs()?;
        report.documents = docs.len() as u64;
        let paths = self.shard().paths.read().map_err(super::poisoned)?;
        let mut unknown = BTreeSet::new();
        let mut postings: BTreeMap<Vec<u8>, RoaringBitmap> = BTreeMap::new();
        let mut ranges: BTreeMap<Vec<u8>, RoaringBitmap> = BTreeMap::new();
        let mut chunks: BTreeMap<[u8; 8], BTreeMap<u16, Vec<u8>>> = BTreeMap::new();
        let mut counts: HashMap<(u32, ValueType), i64> = HashMap::new();
        let mut ids = HashSet::new();
        for (doc, body) in &docs {
            let e = DocEntries::of(body, &mut |p: &str| {
                paths.id(p).unwrap_or_else(|| {
                    unknown.insert(p.to_owned());
                    u32::MAX
                })
            });
            postings.entry(keys::ALL_DOCS_KEY.to_vec()).or_default().insert(*doc);
            for p in e.paths() {
                postings.entry(keys::exists_key(p).to_vec()).or_default().insert(*doc);
            }
            for (p, t) in &e.types {
                *counts.entry((*p, *t)).or_default() += 1;
            }
            for (p, k) in e.values() {
                postings.entry(keys::value_key(p, k)).or_default().insert(*doc);
            }
            for (p, b) in e.buckets() {
                ranges.entry(keys::range_key(p, b)).or_default().insert(*doc);
            }
            for (p, v) in e.columns() {
                let off = (*doc % CHUNK_DOCS) as u16;
                chunks.entry(keys::col_key(p, chunk_of(*doc))).or_default().insert(off, v.to_vec());
            }
            match id_of(body) {
                Some(id) if !ids.insert(id.to_owned()) => report.problems.push(format!("_id '{id}' is held by two documents")),
                Some(_) => {}
                None => report.problems.push(format!("doc {doc} has no _id")),
            }
            if stored_event_time(body).is_none() {
                report.problems.push(format!("doc {doc} has no _event_time"));
            }
        }
        drop(paths);
        for p in unknown {
            report.problems.push(format!("path '{p}' is missing from the path dictionary"));
        }
        self.check_postings(cf::SEARCH, &postings, &mut report)?;
        self.check_postings(cf::RANGE, &ranges, &mut report)?;
        self.check_chunks(&chunks, &mut report)?;
        self.check_meta(&counts, &mut report)?;
        Ok(report)
    }

    fn all_row_docs(&self) -> Result<BTreeMap<u32, Object>> {
        let mut out: BTreeMap<u32, Object> = BTreeMap::new();
        let mut it = self.shard().db.raw_iterator_cf_opt(self.shard().cf(cf::ROWS), self.read_options());
        it.seek_to_first();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            let doc = u32::from_be_bytes(
                k.get(..4).ok_or_else(|| corrupt("row key", "short"))?.try_into().map_err(|_| corrupt("row key", "short"))?,
            );
            let field = String::from_utf8(k[4..].to_vec()).map_err(|_| corrupt("row key", "not UTF-8"))?;
            out.entry(doc).or_default().insert(field, decode_value_exact(v)?);
            it.next();
        }
        it.status().ctx("scanning row index")?;
        Ok(out)
    }

    fn check_postings(&self, family: &str, want: &BTreeMap<Vec<u8>, RoaringBitmap>, report: &mut VerifyReport) -> Result<()> {
        let mut seen = 0;
        self.for_each_posting(family, &[], None, |k, got| match want.get(k) {
            Some(w) if w == got => seen += 1,
            Some(w) => {
                seen += 1;
                report.problems.push(format!("{family} posting {k:?}: stored {} docs, rows say {}", got.len(), w.len()));
            }
            None if got.is_empty() => {}
            None => report.problems.push(format!("{family} posting {k:?}: {} docs not backed by rows", got.len())),
        })?;
        if seen != want.len() {
            report.problems.push(format!("{} posting lists missing from {family}", want.len() - seen));
        }
        Ok(())
    }

    fn check_chunks(&self, want: &BTreeMap<[u8; 8], BTreeMap<u16, Vec<u8>>>, report: &mut VerifyReport) -> Result<()> {
        let mut it = self.shard().db.raw_iterator_cf_opt(self.shard().cf(cf::COLS), self.read_options());
        it.seek_to_first();
        let mut got: BTreeMap<Vec<u8>, BTreeMap<u16, Vec<u8>>> = BTreeMap::new();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            let folded = fold(Some(v), std::iter::empty())?;
            let view = ChunkView::parse(&folded)?;
            let mut entries = BTreeMap::new();
            for i in 0..view.len() {
                let mut b = Vec::new();
                view.codec_bytes(i, &mut b)?;
                entries.insert(view.offset(i), b);
            }
            if !entries.is_empty() {
                got.insert(k.to_vec(), entries);
            }
            it.next();
        }
        it.status().ctx("scanning column index")?;
        let want: BTreeMap<Vec<u8>, _> = want.iter().map(|(k, v)| (k.to_vec(), v.clone())).collect();
        if got != want {
            let bad = want.iter().filter(|(k, v)| got.get(*k) != Some(v)).count()
                + got.keys().filter(|k| !want.contains_key(*k)).count();
            report.problems.push(format!("{bad} column chunks disagree with rows"));
        }
        Ok(())
    }

    fn check_meta(&self, counts: &HashMap<(u32, ValueType), i64>, report: &mut VerifyReport) -> Result<()> {
        let mem = self.shard().type_counts.read().map_err(super::poisoned)?;
        let mem: HashMap<_, _> = mem.iter().filter(|(_, n)| **n != 0).map(|(k, v)| (*k, *v)).collect();
        if &mem != counts {
            report.problems.push(format!(
                "smart schema counts in memory disagree with rows ({} vs {} entries)",
                mem.len(),
                counts.len()
            ));
        }
        let mut stored = HashMap::new();
        let mut it = self.shard().db.raw_iterator_cf_opt(self.shard().cf(cf::META), self.bounded(b"T", Some(b"U".to_vec())));
        it.seek(b"T");
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            let bad = || corrupt("statistics", "bad counter");
            let id = u32::from_be_bytes(k.get(1..5).ok_or_else(bad)?.try_into().map_err(|_| bad())?);
            let t = ValueType::from_u8(*k.get(5).ok_or_else(bad)?).ok_or_else(bad)?;
            let n = i64::from_le_bytes(v.try_into().map_err(|_| bad())?);
            if n != 0 {
                stored.insert((id, t), n);
            }
            it.next();
        }
        it.status().ctx("scanning statistics")?;
        if &stored != counts {
            report.problems.push(format!(
                "stored smart schema counts disagree with rows ({} vs {} entries)",
                stored.len(),
                counts.len()
            ));
        }
        let listed = self.all_docs()?.len();
        if self.shard().doc_count() != listed {
            report
                .problems
                .push(format!("doc count {} but {listed} documents in the all-documents list", self.shard().doc_count()));
        }
        Ok(())
    }
}
