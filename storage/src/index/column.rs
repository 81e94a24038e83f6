//! Column chunks: the values of one field path for a run of [`CHUNK_DOCS`] document numbers,
//! laid out so a scan of a single-typed column copies fixed-width values straight out.
//!
//! Folded layout (`CHUNK`): entry count; per entry the document's offset in the chunk (u16 LE,
//! ascending); a layout byte (the single value type of all entries, or `MIXED`); the payload:
//! fixed 8-byte little-endian values for ints, floats and times, one byte per bool, nothing for
//! nulls, (n+1) u32 offsets plus data for strings and bytes, and (n+1) u32 offsets plus
//! [`codec`](crate::value::codec)-encoded values for mixed types, arrays and objects.
//!
//! Writers emit `EDITS` operands (set or delete one document's value) through a RocksDB merge
//! operator, which folds them into the chunk on read and during compaction; updates and deletes
//! therefore never rewrite a chunk on the write path.

use std::collections::BTreeMap;

use crate::error::{corrupt, Result};
use crate::value::codec::{decode_value, put_varint, unzigzag, Reader};
use crate::value::{Value, ValueType};

/// Document numbers per chunk (a power of two).
pub const CHUNK_BITS: u32 = 12;
/// Number of document numbers one chunk spans.
pub const CHUNK_DOCS: u32 = 1 << CHUNK_BITS;

const CHUNK: u8 = 0xC1;
const EDITS: u8 = 0xC3;
const SET: u8 = 1;
const DELETE: u8 = 0;
const MIXED: u8 = 0xFF;

/// The chunk number holding `doc`.
pub fn chunk_of(doc: u32) -> u32 {
    doc >> CHUNK_BITS
}

/// Tag of a column merge operand: a run of set/delete edits (see [`EditGroups`](super::edits::EditGroups)).
pub const EDITS_TAG: u8 = EDITS;

/// Appends the edit "set `doc`'s value to the codec-encoded `value`" to an edit run.
pub fn push_set(out: &mut Vec<u8>, doc: u32, value: &[u8]) {
    push_head(out, SET, doc);
    put_varint(value.len() as u64, out);
    out.extend_from_slice(value);
}

/// Appends the edit "remove `doc`'s value" to an edit run.
pub fn push_delete(out: &mut Vec<u8>, doc: u32) {
    push_head(out, DELETE, doc);
}

fn push_head(out: &mut Vec<u8>, op: u8, doc: u32) {
    out.push(op);
    out.extend_from_slice(&((doc & (CHUNK_DOCS - 1)) as u16).to_le_bytes());
}

/// A read-only view of a folded chunk.
pub struct ChunkView<'a> {
    n: usize,
    offsets: &'a [u8],
    layout: u8,
    payload: &'a [u8],
}

impl<'a> ChunkView<'a> {
    /// Parses a folded chunk. Edits-only values (never folded) must go through [`fold`] first.
    pub fn parse(value: &'a [u8]) -> Result<ChunkView<'a>> {
        let (&kind, body) = value.split_first().ok_or_else(|| corrupt("column chunk", "empty"))?;
        if kind != CHUNK {
            return Err(corrupt("column chunk", "not folded"));
        }
        let mut r = Reader { buf: body };
        let n = r.varint()? as usize;
        let offsets = r.bytes(n * 2)?;
        let layout = r.bytes(1)?[0];
        Ok(ChunkView { n, offsets, layout, payload: r.buf })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when the chunk holds no entries.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Offset in the chunk (document number modulo [`CHUNK_DOCS`]) of entry `i`.
    pub fn offset(&self, i: usize) -> u16 {
        u16::from_le_bytes([self.offsets[2 * i], self.offsets[2 * i + 1]])
    }

    /// The entries' offsets as stored: little-endian u16s.
    pub fn offsets_le(&self) -> &'a [u8] {
        self.offsets
    }

    /// The single type of every entry, if they share one scalar type.
    pub fn uniform_type(&self) -> Option<ValueType> {
        if self.layout == MIXED {
            None
        } else {
            ValueType::from_u8(self.layout)
        }
    }

    /// Raw little-endian 8-byte values when the chunk is uniformly int-like or float.
    pub fn fixed_values(&self) -> Option<&'a [u8]> {
        match self.uniform_type()? {
            t if is_fixed(t) => self.payload.get(..self.n * 8),
            _ => None,
        }
    }

    /// The (n+1) little-endian u32 offsets and the data of a uniformly string or bytes chunk.
    pub fn var_parts(&self) -> Option<(&'a [u8], &'a [u8])> {
        match self.uniform_type()? {
            ValueType::String | ValueType::Bytes => {}
            _ => return None,
        }
        let split = 4 * (self.n + 1);
        (self.payload.len() >= split).then(|| self.payload.split_at(split))
    }

    /// The bytes of entry `i` of a string/bytes chunk.
    pub fn var_bytes(&self, i: usize) -> Result<&'a [u8]> {
        let at = |k: usize| -> Result<usize> {
            let b = self.payload.get(4 * k..4 * k + 4).ok_or_else(|| corrupt("column chunk", "short offsets"))?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        let data = self.payload.get(4 * (self.n + 1)..).ok_or_else(|| corrupt("column chunk", "short payload"))?;
        let (s, e) = (at(i)?, at(i + 1)?);
        data.get(s..e).ok_or_else(|| corrupt("column chunk", "bad offsets"))
    }

    /// Decodes entry `i` into a value.
    pub fn value(&self, i: usize) -> Result<Value> {
        let fixed = |i: usize| -> Result<[u8; 8]> {
            let b = self.payload.get(8 * i..8 * i + 8).ok_or_else(|| corrupt("column chunk", "short payload"))?;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            Ok(a)
        };
        Ok(match self.uniform_type() {
            None => decode_value(self.var_bytes(i)?)?.0,
            Some(ValueType::Null) => Value::Null,
            Some(ValueType::Bool) => Value::Bool(*self.payload.get(i).ok_or_else(|| corrupt("column chunk", "short"))? != 0),
            Some(ValueType::Int) => Value::Int(i64::from_le_bytes(fixed(i)?)),
            Some(ValueType::Float) => Value::Float(f64::from_le_bytes(fixed(i)?)),
            Some(ValueType::Date) => Value::Date(i64::from_le_bytes(fixed(i)?) as i32),
            Some(ValueType::Time) => Value::Time(i64::from_le_bytes(fixed(i)?)),
            Some(ValueType::DateTime) => Value::DateTime(i64::from_le_bytes(fixed(i)?)),
            Some(ValueType::Timestamp) => Value::Timestamp(i64::from_le_bytes(fixed(i)?)),
            Some(ValueType::String) => {
                Value::String(String::from_utf8(self.var_bytes(i)?.to_vec()).map_err(|_| corrupt("column chunk", "bad UTF-8"))?)
            }
            Some(ValueType::Bytes) => Value::Bytes(self.var_bytes(i)?.to_vec()),
            Some(ValueType::Object | ValueType::Array) => return Err(corrupt("column chunk", "bad layout")),
        })
    }

    /// Entry `i` in the value codec (for folding and for encoded output).
    pub fn codec_bytes(&self, i: usize, out: &mut Vec<u8>) -> Result<()> {
        match self.uniform_type() {
            None => out.extend_from_slice(self.var_bytes(i)?),
            Some(_) => crate::value::codec::encode_value(&self.value(i)?, out),
        }
        Ok(())
    }
}

fn is_fixed(t: ValueType) -> bool {
    matches!(
        t,
        ValueType::Int | ValueType::Float | ValueType::Date | ValueType::Time | ValueType::DateTime | ValueType::Timestamp
    )
}

/// Builds a folded chunk from entries sorted by offset, each value codec-encoded.
pub fn build(entries: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let n = entries.len();
    let mut out = Vec::with_capacity(8 + n * 10);
    out.push(CHUNK);
    put_varint(n as u64, &mut out);
    for (off, _) in entries {
        out.extend_from_slice(&off.to_le_bytes());
    }
    let first = entries.first().and_then(|(_, v)| v.first().copied());
    let uniform = first.filter(|t| entries.iter().all(|(_, v)| v.first() == Some(t))).and_then(ValueType::from_u8);
    let layout = match uniform {
        Some(t) if t.is_scalar() => t,
        _ => {
            out.push(MIXED);
            push_var(entries.iter().map(|(_, v)| v.as_slice()), &mut out);
            return out;
        }
    };
    out.push(layout as u8);
    match layout {
        ValueType::Null => {}
        ValueType::Bool => out.extend(entries.iter().map(|(_, v)| v.get(1).copied().unwrap_or(0))),
        ValueType::Float => entries.iter().for_each(|(_, v)| out.extend_from_slice(v.get(1..9).unwrap_or(&[0; 8]))),
        ValueType::String | ValueType::Bytes => {
            // Strip the type byte and length prefix: keep the raw bytes.
            let raw: Vec<&[u8]> = entries
                .iter()
                .map(|(_, v)| {
                    let mut r = Reader { buf: &v[1..] };
                    let len = r.varint().unwrap_or(0) as usize;
                    r.bytes(len).unwrap_or(&[])
                })
                .collect();
            push_var(raw.into_iter(), &mut out);
        }
        _ => {
            for (_, v) in entries {
                let i = Reader { buf: &v[1..] }.varint().map(unzigzag).unwrap_or(0);
                out.extend_from_slice(&i.to_le_bytes());
            }
        }
    }
    out
}

fn push_var<'a>(items: impl Iterator<Item = &'a [u8]> + Clone, out: &mut Vec<u8>) {
    let mut pos = 0u32;
    out.extend_from_slice(&pos.to_le_bytes());
    for it in items.clone() {
        pos += it.len() as u32;
        out.extend_from_slice(&pos.to_le_bytes());
    }
    for it in items {
        out.extend_from_slice(it);
    }
}

/// Decodes a folded chunk into (offset, codec bytes) entries.
fn entries_of(value: &[u8]) -> Result<Vec<(u16, Vec<u8>)>> {
    let view = ChunkView::parse(value)?;
    (0..view.len())
        .map(|i| {
            let mut b = Vec::new();
            view.codec_bytes(i, &mut b)?;
            Ok((view.offset(i), b))
        })
        .collect()
}

/// Parses an edits operand into `edits` (last edit per offset wins).
fn collect_edits(op: &[u8], edits: &mut BTreeMap<u16, Option<Vec<u8>>>) -> Result<()> {
    let mut r = Reader { buf: &op[1..] };
    while !r.buf.is_empty() {
        let head = r.bytes(3)?;
        let off = u16::from_le_bytes([head[1], head[2]]);
        if head[0] == SET {
            let len = r.varint()? as usize;
            edits.insert(off, Some(r.bytes(len)?.to_vec()));
        } else {
            edits.insert(off, None);
        }
    }
    Ok(())
}

/// Folds an existing value (folded or edits) and operands into a folded chunk.
pub fn fold<'a>(existing: Option<&'a [u8]>, operands: impl Iterator<Item = &'a [u8]>) -> Result<Vec<u8>> {
    let mut base: Vec<(u16, Vec<u8>)> = Vec::new();
    let mut edits = BTreeMap::new();
    for (i, v) in existing.into_iter().chain(operands).enumerate() {
        match v.first() {
            Some(&CHUNK) => {
                if i != 0 {
                    return Err(corrupt("column chunk", "folded chunk among operands"));
                }
                base = entries_of(v)?;
            }
            Some(&EDITS) => collect_edits(v, &mut edits)?,
            Some(_) => return Err(corrupt("column chunk", "unknown kind")),
            None => {}
        }
    }
    if edits.is_empty() {
        return Ok(build(&base));
    }
    let mut map: BTreeMap<u16, Vec<u8>> = base.into_iter().collect();
    for (off, edit) in edits {
        match edit {
            Some(v) => map.insert(off, v),
            None => map.remove(&off),
        };
    }
    Ok(build(&map.into_iter().collect::<Vec<_>>()))
}

/// Reads a stored chunk value, folding it if it holds only edits.
pub fn folded(value: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    if value.first() == Some(&CHUNK) {
        Ok(std::borrow::Cow::Borrowed(value))
    } else {
        Ok(std::borrow::Cow::Owned(fold(Some(value), std::iter::empty())?))
    }
}

/// RocksDB full merge for the column family.
pub fn full_merge(_key: &[u8], existing: Option<&[u8]>, operands: &rocksdb::MergeOperands) -> Option<Vec<u8>> {
    fold(existing, operands.iter()).ok()
}

/// RocksDB partial merge: concatenate edit runs.
pub fn partial_merge(_key: &[u8], existing: Option<&[u8]>, operands: &rocksdb::MergeOperands) -> Option<Vec<u8>> {
    super::concat_edits(EDITS, existing, operands)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::codec::encode_value_vec;

    fn edits_for(vals: &[(u32, Option<Value>)]) -> Vec<u8> {
        let mut e = vec![EDITS_TAG];
        for (doc, v) in vals {
            match v {
                Some(v) => push_set(&mut e, *doc, &encode_value_vec(v)),
                None => push_delete(&mut e, *doc),
            }
        }
        e
    }

    fn values(chunk: &[u8]) -> Vec<(u16, Value)> {
        let v = ChunkView::parse(chunk).unwrap();
        (0..v.len()).map(|i| (v.offset(i), v.value(i).unwrap())).collect()
    }

    #[test]
    fn uniform_ints_are_fixed_width() {
        let op = edits_for(&[(3, Some(Value::Int(-7))), (1, Some(Value::Int(1 << 60)))]);
        let chunk = fold(None, [op.as_slice()].into_iter()).unwrap();
        let view = ChunkView::parse(&chunk).unwrap();
        assert_eq!(view.uniform_type(), Some(ValueType::Int));
        assert_eq!(view.fixed_values().unwrap().len(), 16);
        assert_eq!(values(&chunk), vec![(1, Value::Int(1 << 60)), (3, Value::Int(-7))]);
    }

    #[test]
    fn edits_replace_and_delete_over_a_folded_chunk() {
        let a = edits_for(&[(1, Some(Value::from("a"))), (2, Some(Value::from("b"))), (5, Some(Value::from("c")))]);
        let base = fold(None, [a.as_slice()].into_iter()).unwrap();
        let b = edits_for(&[(2, None), (5, Some(Value::Int(9))), (4, Some(Value::Null))]);
        let out = fold(Some(&base), [b.as_slice()].into_iter()).unwrap();
        assert_eq!(values(&out), vec![(1, Value::from("a")), (4, Value::Null), (5, Value::Int(9))]);
        assert_eq!(ChunkView::parse(&out).unwrap().uniform_type(), None);
    }

    #[test]
    fn later_edit_of_the_same_doc_wins() {
        let a = edits_for(&[(7, Some(Value::Bool(true)))]);
        let b = edits_for(&[(7, None), (7, Some(Value::Bool(false)))]);
        let out = fold(None, [a.as_slice(), b.as_slice()].into_iter()).unwrap();
        assert_eq!(values(&out), vec![(7, Value::Bool(false))]);
    }
}
