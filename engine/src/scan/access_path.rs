//! The cost-based choice of a scan's access path, from the collection's statistics: a full
//! column scan, or an index lookup whose matching documents are then either fetched one by
//! one from the row index (few matches) or read from the column chunks that hold them.
//!
//! Costs are in "column values scanned" units: reading one value from a column chunk costs
//! 1, fetching one document's fields from the row index costs [`FETCH_COST`], an index
//! lookup costs [`LOOKUP_COST`] per posting list it reads. `HINT(access_path=…)` after a
//! table name forces a path.

use std::fmt;
use std::ops::Bound;

use cairn_storage::{Collection, CollectionStats, IndexPredicate, Result, ShardSnapshot, ValueType};

use crate::sql::Hint;

/// Cost of fetching one document by number (a row-index seek), in scanned values.
pub(crate) const FETCH_COST: f64 = 2000.0;
/// Cost of reading one posting list.
pub(crate) const LOOKUP_COST: f64 = 200.0;
/// Documents per column chunk (a chunk is read whole).
const CHUNK_DOCS: f64 = 4096.0;

/// How a scan reads its documents.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AccessPath {
    /// Every live document's columns from the column index.
    ColumnScan,
    /// Documents matching the predicate, fetched from the row index.
    IndexFetch(IndexPredicate),
    /// Documents matching the predicate, read from the column chunks holding them.
    IndexScan(IndexPredicate),
}

impl AccessPath {
    /// The name EXPLAIN shows and hints use.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            AccessPath::ColumnScan => "column_scan",
            AccessPath::IndexFetch(_) => "index_fetch",
            AccessPath::IndexScan(_) => "index_scan",
        }
    }

    /// The predicate the index answers, if any.
    pub(crate) fn predicate(&self) -> Option<&IndexPredicate> {
        match self {
            AccessPath::ColumnScan => None,
            AccessPath::IndexFetch(p) | AccessPath::IndexScan(p) => Some(p),
        }
    }
}

/// The hint of the statement being planned, carried in the session config.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryHint(pub Hint);

/// The chosen path with the estimate behind it.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    /// The access path.
    pub path: AccessPath,
    /// Estimated matching documents (all documents for a column scan without a predicate).
    pub estimated_rows: u64,
    /// Documents in the collection.
    pub total_rows: u64,
    /// A hint forced a column scan: no index may stand in for it.
    pub forced_scan: bool,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "access_path={} estimated_rows={} of {}", self.path.name(), self.estimated_rows, self.total_rows)?;
        if let Some(p) = self.path.predicate() {
            write!(f, " index_predicate=[{}]", describe(p))?;
        }
        Ok(())
    }
}

/// A predicate in SQL-like text, for EXPLAIN.
pub(crate) fn describe(p: &IndexPredicate) -> String {
    let v = |v: &cairn_storage::Value| v.to_json_string();
    let bound = |path: &str, b: &Bound<cairn_storage::Value>, lower: bool| match (b, lower) {
        (Bound::Included(x), true) => Some(format!("{path} >= {}", v(x))),
        (Bound::Excluded(x), true) => Some(format!("{path} > {}", v(x))),
        (Bound::Included(x), false) => Some(format!("{path} <= {}", v(x))),
        (Bound::Excluded(x), false) => Some(format!("{path} < {}", v(x))),
        (Bound::Unbounded, _) => None,
    };
    let join = |ps: &[IndexPredicate], sep: &str| ps.iter().map(|q| format!("({})", describe(q))).collect::<Vec<_>>().join(sep);
    match p {
        IndexPredicate::Eq { path, value } => format!("{path} = {}", v(value)),
        IndexPredicate::In { path, values } => format!("{path} IN ({})", values.iter().map(v).collect::<Vec<_>>().join(", ")),
        IndexPredicate::Prefix { path, prefix } => format!("{path} LIKE {}%", v(&cairn_storage::Value::String(prefix.clone()))),
        IndexPredicate::Range { path, lower, upper } => {
            [bound(path, lower, true), bound(path, upper, false)].into_iter().flatten().collect::<Vec<_>>().join(" AND ")
        }
        IndexPredicate::Null { path } => format!("{path} IS JSON NULL"),
        IndexPredicate::Defined { path } => format!("{path} IS NOT UNDEFINED"),
        IndexPredicate::Undefined { path } => format!("{path} IS UNDEFINED"),
        IndexPredicate::And(ps) => join(ps, " AND "),
        IndexPredicate::Or(ps) => join(ps, " OR "),
    }
}

/// Chooses how to read `columns` columns of `collection` (whose statistics are `stats`) under
/// `predicate` (if the filters gave one); a column scan reads `scan_columns` (the columns plus
/// those of the filters it must apply itself).
pub(crate) fn choose(
    collection: &Collection,
    stats: &CollectionStats,
    predicate: Option<IndexPredicate>,
    (columns, scan_columns): (usize, usize),
    hint: Option<Hint>,
) -> Result<Choice> {
    let total = stats.doc_count;
    let Some(pred) = predicate else {
        let forced_scan = hint == Some(Hint::ColumnScan);
        return Ok(Choice { path: AccessPath::ColumnScan, estimated_rows: total, total_rows: total, forced_scan });
    };
    let estimate = estimate(&collection.snapshot(), stats, &pred)?.min(total);
    let (lookups, k, n, cols) = (lookups(&pred) as f64, estimate as f64, total as f64, columns.max(1) as f64);
    let scan = n * scan_columns.max(1) as f64;
    let fetch = lookups * LOOKUP_COST + k * FETCH_COST;
    let chunks = (n / CHUNK_DOCS).ceil().min(k);
    let chunk_scan = lookups * LOOKUP_COST + (chunks * CHUNK_DOCS).min(n) * cols;
    let path = match hint {
        Some(Hint::ColumnScan) => AccessPath::ColumnScan,
        Some(Hint::IndexFetch) => AccessPath::IndexFetch(pred),
        Some(Hint::IndexScan) => AccessPath::IndexScan(pred),
        Some(Hint::Index) if fetch <= chunk_scan => AccessPath::IndexFetch(pred),
        Some(Hint::Index) => AccessPath::IndexScan(pred),
        None if fetch <= chunk_scan && fetch < scan => AccessPath::IndexFetch(pred),
        None if chunk_scan < scan => AccessPath::IndexScan(pred),
        None => AccessPath::ColumnScan,
    };
    Ok(Choice { path, estimated_rows: estimate, total_rows: total, forced_scan: hint == Some(Hint::ColumnScan) })
}

/// Posting lists a lookup reads (roughly).
fn lookups(p: &IndexPredicate) -> usize {
    match p {
        IndexPredicate::In { values, .. } => values.len(),
        IndexPredicate::And(ps) | IndexPredicate::Or(ps) => ps.iter().map(lookups).sum(),
        _ => 1,
    }
}

/// Estimated documents matching `p`: exact posting sizes for equality, smart-schema counts
/// for null/defined tests, fixed selectivities for ranges and prefixes.
fn estimate(shards: &[ShardSnapshot], stats: &CollectionStats, p: &IndexPredicate) -> Result<u64> {
    let total = stats.doc_count;
    let holding = |path: &str, only: Option<ValueType>| -> u64 {
        stats.fields.iter().filter(|(fp, t, _)| fp == path && only.is_none_or(|o| o == *t)).map(|(_, _, n)| n).sum()
    };
    Ok(match p {
        IndexPredicate::Eq { path, value } => count_eq(shards, path, value)?,
        IndexPredicate::In { path, values } => {
            let mut n = 0;
            for v in values {
                n += count_eq(shards, path, v)?;
            }
            n
        }
        IndexPredicate::Null { path } => holding(path, Some(ValueType::Null)),
        IndexPredicate::Defined { path } => holding(path, None),
        IndexPredicate::Undefined { path } => total.saturating_sub(holding(path, None)),
        IndexPredicate::Prefix { path, .. } => holding(path, Some(ValueType::String)) / 10,
        IndexPredicate::Range { path, lower, upper } => {
            let bounded = |b: &Bound<_>| !matches!(b, Bound::Unbounded);
            let share = if bounded(lower) && bounded(upper) { 10 } else { 3 };
            holding(path, None) / share
        }
        IndexPredicate::And(ps) => {
            let mut best = total;
            for q in ps {
                best = best.min(estimate(shards, stats, q)?);
            }
            best
        }
        IndexPredicate::Or(ps) => {
            let mut sum = 0u64;
            for q in ps {
                sum = sum.saturating_add(estimate(shards, stats, q)?);
            }
            sum.min(total)
        }
    })
}

fn count_eq(shards: &[ShardSnapshot], path: &str, value: &cairn_storage::Value) -> Result<u64> {
    let mut n = 0;
    for snap in shards {
        n += snap.count_eq(path, value)?;
    }
    Ok(n)
}
