//! Index lookups: predicates on field paths answered from the search and range indexes as
//! sets of document numbers, which callers intersect and union.

use std::ops::Bound;

use roaring::RoaringBitmap;

use super::ShardSnapshot;
use crate::error::{corrupt, Result, StorageError};
use crate::index::entries::{bucket_len, range_bucket};
use crate::index::keys::{self, cf, prefix_end};
use crate::value::keycode::{decode_key, encode_key, encode_string_prefix, tag};
use crate::value::{Value, ValueType};

/// A predicate the indexes can answer. Paths are in text form (`a.b`, `tags.*`); a path
/// through `*` matches when any array element matches.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexPredicate {
    /// Value equals (ints and floats compare numerically; other types strictly).
    Eq {
        /// The field path.
        path: String,
        /// The value.
        value: Value,
    },
    /// Value equals one of these.
    In {
        /// The field path.
        path: String,
        /// The values.
        values: Vec<Value>,
    },
    /// String value starts with `prefix`.
    Prefix {
        /// The field path.
        path: String,
        /// The prefix.
        prefix: String,
    },
    /// Value within bounds; both bounds must be of one type family (numbers, strings, …),
    /// and only values of that family match.
    Range {
        /// The field path.
        path: String,
        /// The lower bound.
        lower: Bound<Value>,
        /// The upper bound.
        upper: Bound<Value>,
    },
    /// Value is JSON null.
    Null {
        /// The field path.
        path: String,
    },
    /// The path holds a value of any type (including null).
    Defined {
        /// The field path.
        path: String,
    },
    /// The path is missing (undefined).
    Undefined {
        /// The field path.
        path: String,
    },
    /// Every sub-predicate holds.
    And(Vec<IndexPredicate>),
    /// Some sub-predicate holds.
    Or(Vec<IndexPredicate>),
}

impl ShardSnapshot {
    /// Document numbers matching `pred`.
    pub fn lookup(&self, pred: &IndexPredicate) -> Result<RoaringBitmap> {
        match pred {
            IndexPredicate::Eq { path, value } => self.lookup_eq(path, value),
            IndexPredicate::In { path, values } => {
                let mut out = RoaringBitmap::new();
                for v in values {
                    out |= self.lookup_eq(path, v)?;
                }
                Ok(out)
            }
            IndexPredicate::Prefix { path, prefix } => {
                let Some(id) = self.path_id(path) else { return Ok(RoaringBitmap::new()) };
                let mut p = Vec::new();
                encode_string_prefix(prefix, &mut p);
                let start = keys::value_key(id, &p);
                let end = prefix_end(&start);
                self.union_postings(&start, end)
            }
            IndexPredicate::Range { path, lower, upper } => self.lookup_range(path, lower, upper),
            IndexPredicate::Null { path } => self.lookup_eq(path, &Value::Null),
            IndexPredicate::Defined { path } => match self.path_id(path) {
                Some(id) => self.posting(&keys::exists_key(id)),
                None => Ok(RoaringBitmap::new()),
            },
            IndexPredicate::Undefined { path } => {
                let mut all = self.all_docs()?;
                if let Some(id) = self.path_id(path) {
                    all -= self.posting(&keys::exists_key(id))?;
                }
                Ok(all)
            }
            IndexPredicate::And(preds) => {
                let mut it = preds.iter();
                let Some(first) = it.next() else { return self.all_docs() };
                let mut acc = self.lookup(first)?;
                for p in it {
                    if acc.is_empty() {
                        break;
                    }
                    acc &= self.lookup(p)?;
                }
                Ok(acc)
            }
            IndexPredicate::Or(preds) => {
                let mut acc = RoaringBitmap::new();
                for p in preds {
                    acc |= self.lookup(p)?;
                }
                Ok(acc)
            }
        }
    }

    /// Number of documents whose `path` equals `value` (the posting size the planner costs with).
    pub fn count_eq(&self, path: &str, value: &Value) -> Result<u64> {
        let Some(id) = self.path_id(path) else { return Ok(0) };
        let mut n = 0;
        for k in equal_keys(value)? {
            n += self.posting_len(&keys::value_key(id, &k))?;
        }
        Ok(n)
    }

    /// Each distinct value of scalar type `t` that `path` holds in some of `docs`, with how
    /// many of `docs` hold it, from posting-list sizes: a grouped count without reading a
    /// column. Values come in index order; floats come as the index keys them (`-0.0` as
    /// `0.0`, every NaN as one).
    pub fn value_counts(&self, path: &str, t: ValueType, docs: &RoaringBitmap) -> Result<Vec<(Value, u64)>> {
        let Some(id) = self.path_id(path) else { return Ok(Vec::new()) };
        let (start, end) = type_range(id, t)?;
        let head = start.len() - 1;
        let mut out = Vec::new();
        self.find_posting(cf::SEARCH, (&start, Some(&end)), false, |key, set| {
            let n = set.intersection_len(docs);
            if n > 0 {
                out.extend(typed_value(&key[head..], t)?.map(|v| (v, n)));
            }
            Ok(None::<()>)
        })?;
        Ok(out)
    }

    /// The least value of type `t` (the greatest with `greatest`) that `path` holds in one of
    /// `docs`, found by walking the ordered search index from that end: MIN and MAX without
    /// reading a column. Not for floats, whose index keys fold `-0.0` into `0.0`.
    pub fn extreme_value(&self, path: &str, t: ValueType, docs: &RoaringBitmap, greatest: bool) -> Result<Option<Value>> {
        if t == ValueType::Float {
            return Err(StorageError::InvalidArgument("no index extremes over floats".into()));
        }
        let Some(id) = self.path_id(path) else { return Ok(None) };
        let (start, end) = type_range(id, t)?;
        let head = start.len() - 1;
        self.find_posting(cf::SEARCH, (&start, Some(&end)), greatest, |key, set| {
            if set.is_disjoint(docs) {
                return Ok(None);
            }
            typed_value(&key[head..], t)
        })
    }

    fn lookup_eq(&self, path: &str, value: &Value) -> Result<RoaringBitmap> {
        let Some(id) = self.path_id(path) else { return Ok(RoaringBitmap::new()) };
        let mut out = RoaringBitmap::new();
        for k in equal_keys(value)? {
            out |= self.posting(&keys::value_key(id, &k))?;
        }
        Ok(out)
    }

    fn union_postings(&self, start: &[u8], end: Option<Vec<u8>>) -> Result<RoaringBitmap> {
        let mut out = RoaringBitmap::new();
        self.for_each_posting(cf::SEARCH, start, end, |_, set| out |= set)?;
        Ok(out)
    }

    fn lookup_range(&self, path: &str, lower: &Bound<Value>, upper: &Bound<Value>) -> Result<RoaringBitmap> {
        let family = |b: &Bound<Value>| match b {
            Bound::Included(v) | Bound::Excluded(v) => Some(type_family(v)),
            Bound::Unbounded => None,
        };
        let fam = match (family(lower), family(upper)) {
            (Some(a), Some(b)) if a != b => return Err(StorageError::InvalidArgument("range bounds of different types".into())),
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => return self.lookup(&IndexPredicate::Defined { path: path.to_owned() }),
        };
        let Some(id) = self.path_id(path) else { return Ok(RoaringBitmap::new()) };
        // Search keys are `V | path | value`: 0xFF padding puts a bound after every key of a value.
        let head = keys::value_key(id, &[]);
        let bound_key = |v: &Value, after: bool| {
            let mut k = head.clone();
            k.extend_from_slice(&encode_key(v));
            if after {
                k.extend_from_slice(&[0xFF; 5]);
            }
            k
        };
        let fam_start = [head.as_slice(), &[fam]].concat();
        // The family's tags end before the next family's first tag (bools span two tags).
        let fam_end = [head.as_slice(), &[if fam == tag::FALSE { tag::TRUE + 1 } else { fam + 1 }]].concat();
        let start = match lower {
            Bound::Included(v) => bound_key(v, false),
            Bound::Excluded(v) => bound_key(v, true),
            Bound::Unbounded => fam_start,
        };
        let end = match upper {
            Bound::Included(v) => bound_key(v, true),
            Bound::Excluded(v) => bound_key(v, false),
            Bound::Unbounded => fam_end,
        };
        if start >= end {
            return Ok(RoaringBitmap::new());
        }
        if bucket_len(fam).is_none() {
            // Strings, bytes, bools: the search index is ordered, scan it.
            return self.union_postings(&start, Some(end));
        }
        let bucket = |b: &Bound<Value>| match b {
            Bound::Included(v) | Bound::Excluded(v) => range_bucket(&encode_key(v)).map(<[u8]>::to_vec),
            Bound::Unbounded => None,
        };
        let (lo_bucket, hi_bucket) = (bucket(lower), bucket(upper));
        self.lookup_buckets(id, fam, &head, (&start, &end), lo_bucket, hi_bucket)
    }

    /// A range over numbers or times: whole buckets strictly inside the bounds come from the
    /// range index; the (at most two) buckets holding a bound are read exactly from the
    /// ordered search index between `start` and `end`.
    fn lookup_buckets(
        &self,
        id: u32,
        fam: u8,
        head: &[u8],
        (start, end): (&[u8], &[u8]),
        lo_bucket: Option<Vec<u8>>,
        hi_bucket: Option<Vec<u8>>,
    ) -> Result<RoaringBitmap> {
        let mut out = RoaringBitmap::new();
        let inner_start = match &lo_bucket {
            Some(b) => prefix_end(&keys::range_key(id, b)),
            None => Some(keys::range_key(id, &[fam])),
        };
        let inner_end = match &hi_bucket {
            Some(b) => keys::range_key(id, b),
            None => keys::range_key(id, &[fam + 1]),
        };
        if let Some(inner_start) = inner_start.filter(|s| *s < inner_end) {
            self.for_each_posting(cf::RANGE, &inner_start, Some(inner_end), |_, set| out |= set)?;
        }
        let clamp = |a: Vec<u8>, b: &[u8]| if a.as_slice() < b { a } else { b.to_vec() };
        if let Some(b) = &lo_bucket {
            let bucket_end = prefix_end(&[head, b.as_slice()].concat()).unwrap_or_else(|| end.to_vec());
            let edge_end = clamp(bucket_end, end);
            if start < edge_end.as_slice() {
                out |= self.union_postings(start, Some(edge_end))?;
            }
        }
        if let Some(b) = hi_bucket.filter(|b| Some(b) != lo_bucket.as_ref()) {
            let bucket_start = [head, b.as_slice()].concat();
            let edge_start = if bucket_start.as_slice() > start { bucket_start } else { start.to_vec() };
            if edge_start.as_slice() < end {
                out |= self.union_postings(&edge_start, Some(end.to_vec()))?;
            }
        }
        Ok(out)
    }
}

/// The value a search key ends with (`key` starts at the value), if it has type `t`.
fn typed_value(key: &[u8], t: ValueType) -> Result<Option<Value>> {
    match decode_key(key)? {
        (_, rest) if !rest.is_empty() => Err(corrupt("search key", "bytes after the value")),
        // Numbers hold floats too: a typed int column reads them as null.
        (v, _) => Ok((v.value_type() == t).then_some(v)),
    }
}

/// The search-index keys of `path`'s values of scalar type `t` (ints share theirs with floats).
fn type_range(path: u32, t: ValueType) -> Result<(Vec<u8>, Vec<u8>)> {
    let (first, last) = match t {
        ValueType::Bool => (tag::FALSE, tag::TRUE),
        ValueType::Int | ValueType::Float => (tag::NUMBER, tag::NUMBER),
        ValueType::String => (tag::STRING, tag::STRING),
        ValueType::Bytes => (tag::BYTES, tag::BYTES),
        ValueType::Date => (tag::DATE, tag::DATE),
        ValueType::Time => (tag::TIME, tag::TIME),
        ValueType::DateTime => (tag::DATETIME, tag::DATETIME),
        ValueType::Timestamp => (tag::TIMESTAMP, tag::TIMESTAMP),
        other => return Err(StorageError::InvalidArgument(format!("{} values have no key range", other.name()))),
    };
    Ok((keys::value_key(path, &[first]), keys::value_key(path, &[last + 1])))
}

/// The type tag shared by every key of a value's family (true and false share one).
fn type_family(v: &Value) -> u8 {
    match encode_key(v)[0] {
        tag::TRUE => tag::FALSE,
        t => t,
    }
}

/// Key encodings equal to `value`: an int also matches the float of equal value and back.
fn equal_keys(value: &Value) -> Result<Vec<Vec<u8>>> {
    let mut out = vec![encode_key(value)];
    match value {
        Value::Int(i) => {
            let f = *i as f64;
            if f as i128 == *i as i128 {
                out.push(encode_key(&Value::Float(f)));
            }
        }
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => out.push(encode_key(&Value::Int(*f as i64))),
        Value::Object(_) | Value::Array(_) => {
            return Err(StorageError::InvalidArgument(
                "objects and arrays are not in the search index; compare their fields".into(),
            ))
        }
        _ => {}
    }
    Ok(out)
}
