//! The index entries one document contributes: smart-schema (path, type) pairs, search-index
//! values, column values and row fragments. Writers diff the entries of a document's old and
//! new versions and touch only what changed.

use crate::path::{push_elements, push_field};
use crate::value::codec::encode_value;
use crate::value::keycode::{encode_key_into, tag};
use crate::value::{Object, Value, ValueType};

/// Index entries of one document. Encoded values live in one buffer; each list is sorted and
/// free of duplicates.
#[derive(Debug, Default, Clone)]
pub struct DocEntries {
    /// (path id, type) for every value at every path, arrays' elements under `*`.
    pub types: Vec<(u32, ValueType)>,
    buf: Vec<u8>,
    /// Search-index values: key-encoded scalars, array elements individually; by (path, key).
    values: Vec<Slot>,
    /// Column values: codec-encoded scalars and whole arrays at paths not under an array; by path.
    columns: Vec<Slot>,
}

/// A path id and where its encoded bytes sit in [`DocEntries::buf`].
#[derive(Debug, Clone, Copy)]
struct Slot {
    path: u32,
    start: u32,
    end: u32,
}

impl DocEntries {
    /// Computes the entries of `doc`, resolving path text to ids with `path_id`.
    pub fn of(doc: &Object, path_id: &mut impl FnMut(&str) -> u32) -> DocEntries {
        let mut out = DocEntries::default();
        let mut path = String::new();
        for (k, v) in doc {
            push_field(&mut path, true, k);
            walk(v, &mut path, false, path_id, &mut out);
            path.clear();
        }
        out.types.sort_unstable();
        out.types.dedup();
        let buf = &out.buf;
        let bytes = |s: &Slot| &buf[s.start as usize..s.end as usize];
        out.values.sort_unstable_by(|a, b| a.path.cmp(&b.path).then_with(|| bytes(a).cmp(bytes(b))));
        out.values.dedup_by(|a, b| a.path == b.path && bytes(a) == bytes(b));
        out.columns.sort_by_key(|s| s.path);
        out
    }

    fn slice(&self, s: &Slot) -> (u32, &[u8]) {
        (s.path, &self.buf[s.start as usize..s.end as usize])
    }

    /// (path id, key-encoded value) for the search index, sorted by path then value.
    pub fn values(&self) -> impl Iterator<Item = (u32, &[u8])> + '_ {
        self.values.iter().map(|s| self.slice(s))
    }

    /// (path id, codec-encoded value) for the column index, sorted by path.
    pub fn columns(&self) -> impl Iterator<Item = (u32, &[u8])> + '_ {
        self.columns.iter().map(|s| self.slice(s))
    }

    /// (path id, range bucket) of every number and time, sorted and free of duplicates.
    pub fn buckets(&self) -> Vec<(u32, &[u8])> {
        let mut out: Vec<(u32, &[u8])> = self.values().filter_map(|(p, k)| Some((p, range_bucket(k)?))).collect();
        out.dedup();
        out
    }

    /// Distinct path ids present in the document.
    pub fn paths(&self) -> impl Iterator<Item = u32> + '_ {
        let mut last = None;
        self.types.iter().filter_map(move |(id, _)| {
            if last == Some(*id) {
                None
            } else {
                last = Some(*id);
                Some(*id)
            }
        })
    }

    fn push_value(&mut self, path: u32, v: &Value) {
        let start = self.buf.len() as u32;
        encode_key_into(v, &mut self.buf);
        self.values.push(Slot { path, start, end: self.buf.len() as u32 });
    }

    fn push_column(&mut self, path: u32, v: &Value) {
        let start = self.buf.len() as u32;
        encode_value(v, &mut self.buf);
        self.columns.push(Slot { path, start, end: self.buf.len() as u32 });
    }
}

fn walk(v: &Value, path: &mut String, in_array: bool, path_id: &mut impl FnMut(&str) -> u32, out: &mut DocEntries) {
    let id = path_id(path);
    out.types.push((id, v.value_type()));
    match v {
        Value::Object(o) => {
            let len = path.len();
            for (k, child) in o {
                push_field(path, false, k);
                walk(child, path, in_array, path_id, out);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            if !in_array {
                out.push_column(id, v);
            }
            let len = path.len();
            push_elements(path, false);
            for item in items {
                walk(item, path, true, path_id, out);
            }
            path.truncate(len);
        }
        scalar => {
            out.push_value(id, scalar);
            if !in_array {
                out.push_column(id, scalar);
            }
        }
    }
}

/// The range-index bucket of a key-encoded number or time: a prefix of its encoding, so a
/// bucket holds a contiguous run of values. Numbers keep the top 6 bytes of their f64 image
/// (2^16 ulps: about 16 ms for microsecond timestamps stored as ints, one bucket per value for
/// small numbers); times keep all but their low 3 bytes (2^24 µs, about 17 s); dates are
/// bucketed per day. None for other types.
pub fn range_bucket(key: &[u8]) -> Option<&[u8]> {
    key.get(..bucket_len(*key.first()?)?)
}

/// Length of the bucket prefix for values with this type tag (None: not range-indexed).
pub fn bucket_len(type_tag: u8) -> Option<usize> {
    match type_tag {
        tag::NUMBER => Some(7),
        tag::DATE => Some(5),
        tag::TIME | tag::DATETIME | tag::TIMESTAMP => Some(6),
        _ => None,
    }
}

/// Items only in `old` and items only in `new` (both sorted ascending).
pub fn diff_sorted<'a, T: Ord>(old: &'a [T], new: &'a [T]) -> (Vec<&'a T>, Vec<&'a T>) {
    let (mut gone, mut came) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    loop {
        match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                gone.push(a);
                i += 1;
            }
            (Some(a), None) => {
                gone.push(a);
                i += 1;
            }
            (_, Some(b)) => {
                came.push(b);
                j += 1;
            }
            (None, None) => return (gone, came),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn arrays_index_elements_and_column_whole() {
        let doc = Value::from_json_str(r#"{"a":{"b":[1,"x",1]},"c":null}"#).unwrap();
        let mut ids: HashMap<String, u32> = HashMap::new();
        let e = DocEntries::of(doc.as_object().unwrap(), &mut |p: &str| {
            let n = ids.len() as u32;
            *ids.entry(p.to_owned()).or_insert(n)
        });
        let id = |p: &str| ids[p];
        assert!(e.types.contains(&(id("a.b.*"), ValueType::Int)));
        assert!(e.types.contains(&(id("a.b"), ValueType::Array)));
        assert!(e.types.contains(&(id("c"), ValueType::Null)));
        assert_eq!(e.values().filter(|(p, _)| *p == id("a.b.*")).count(), 2);
        assert!(e.columns().any(|(p, _)| p == id("a.b")));
        assert!(!e.columns().any(|(p, _)| p == id("a.b.*")));
        assert_eq!(e.paths().count(), 4);
    }

    #[test]
    fn diff_reports_both_sides() {
        let (gone, came) = diff_sorted(&[1, 2, 4], &[2, 3, 5]);
        assert_eq!((gone, came), (vec![&1, &4], vec![&3, &5]));
    }
}
