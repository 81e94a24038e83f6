//! A prepared document write as bytes, the form the ingest log keeps it in: one record per
//! document, or one record per batch of a source. The first byte says what the record is (1
//! put, 2 patch, 3 delete, 4 a source's batch); a put holds the normalized document in the
//! stored [`codec`](crate::value::codec) encoding, a patch its `_id` and operations, a delete
//! its `_id`. A source's batch holds the source's id and its position after the batch, then
//! its writes, so the writes and the position they reach are durable together or not at all.
//! What the log holds was checked before it was appended, so a leaf decodes and applies it
//! without judging it again.

use crate::error::{corrupt, Result};
use crate::patch::PatchOp;
use crate::shard::ShardOp;
use crate::value::codec::{decode_value, encode_value, put_bytes, put_varint, Reader};
use crate::value::{Value, ValueType};

const PUT: u8 = 1;
const PATCH: u8 = 2;
const DELETE: u8 = 3;
const BATCH: u8 = 4;

/// The record of one write.
pub fn encode(op: &ShardOp) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    encode_into(op, &mut out);
    out
}

/// The record of a source's batch: `ops`, and the `position` of source `source` after them.
pub fn encode_batch<'a>(source: &str, position: &str, ops: impl ExactSizeIterator<Item = &'a ShardOp>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + position.len() + 256 * ops.len());
    out.push(BATCH);
    put_bytes(source.as_bytes(), &mut out);
    put_bytes(position.as_bytes(), &mut out);
    put_varint(ops.len() as u64, &mut out);
    // Each write is framed by its length, so the batch is read without judging one by the
    // next.
    let mut one = Vec::with_capacity(256);
    for op in ops {
        one.clear();
        encode_into(op, &mut one);
        put_bytes(&one, &mut out);
    }
    out
}

/// The source and position a record ends at, for a source's batch; None for other records
/// (and for damaged ones). Reads only the record's head.
pub fn source_position(record: &[u8]) -> Option<(String, String)> {
    let (&kind, rest) = record.split_first()?;
    if kind != BATCH {
        return None;
    }
    let mut r = Reader { buf: rest };
    Some((string(&mut r).ok()?, string(&mut r).ok()?))
}

/// What a record holds: its writes, and for a source's batch the source and its position.
#[derive(Debug)]
pub struct Decoded {
    /// The writes, in order.
    pub ops: Vec<ShardOp>,
    /// The source's id and position after the writes, for a source's batch.
    pub source: Option<(String, String)>,
}

/// The writes a record of any kind holds.
pub fn decode_any(record: &[u8]) -> Result<Decoded> {
    let Some((&BATCH, rest)) = record.split_first() else {
        return Ok(Decoded { ops: vec![decode(record)?], source: None });
    };
    let mut r = Reader { buf: rest };
    let source = string(&mut r)?;
    let position = string(&mut r)?;
    let n = r.varint()? as usize;
    let mut ops = Vec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        let len = r.varint()? as usize;
        ops.push(decode(r.bytes(len)?)?);
    }
    if !r.buf.is_empty() {
        return Err(corrupt("log record", "trailing bytes after a batch"));
    }
    Ok(Decoded { ops, source: Some((source, position)) })
}

fn encode_into(op: &ShardOp, out: &mut Vec<u8>) {
    match op {
        ShardOp::Put(doc) => {
            out.push(PUT);
            out.push(ValueType::Object as u8);
            put_varint(doc.len() as u64, out);
            for (k, v) in doc {
                put_bytes(k.as_bytes(), out);
                encode_value(v, out);
            }
        }
        ShardOp::Patch { id, ops } => {
            out.push(PATCH);
            put_bytes(id.as_bytes(), out);
            put_varint(ops.len() as u64, out);
            for op in ops {
                encode_patch_op(op, out);
            }
        }
        ShardOp::Delete { id } => {
            out.push(DELETE);
            put_bytes(id.as_bytes(), out);
        }
    }
}

fn encode_patch_op(op: &PatchOp, out: &mut Vec<u8>) {
    let (tag, path, from, value) = match op {
        PatchOp::Add { path, value } => (0, path, None, Some(value)),
        PatchOp::Remove { path } => (1, path, None, None),
        PatchOp::Replace { path, value } => (2, path, None, Some(value)),
        PatchOp::Move { from, path } => (3, path, Some(from), None),
        PatchOp::Copy { from, path } => (4, path, Some(from), None),
        PatchOp::Test { path, value } => (5, path, None, Some(value)),
        PatchOp::Increment { path, value } => (6, path, None, Some(value)),
    };
    out.push(tag);
    put_bytes(path.as_bytes(), out);
    if let Some(from) = from {
        put_bytes(from.as_bytes(), out);
    }
    if let Some(value) = value {
        encode_value(value, out);
    }
}

/// The write a record holds.
pub fn decode(record: &[u8]) -> Result<ShardOp> {
    let (&kind, rest) = record.split_first().ok_or_else(|| corrupt("log record", "empty"))?;
    let mut r = Reader { buf: rest };
    let op = match kind {
        PUT => match value(&mut r)? {
            Value::Object(doc) => ShardOp::Put(doc),
            other => return Err(corrupt("log record", format!("a put of a {}", other.value_type().name()))),
        },
        PATCH => {
            let id = string(&mut r)?;
            let n = r.varint()? as usize;
            let ops = (0..n).map(|_| patch_op(&mut r)).collect::<Result<Vec<_>>>()?;
            ShardOp::Patch { id, ops }
        }
        DELETE => ShardOp::Delete { id: string(&mut r)? },
        other => return Err(corrupt("log record", format!("unknown kind {other}"))),
    };
    if !r.buf.is_empty() {
        return Err(corrupt("log record", "trailing bytes"));
    }
    Ok(op)
}

fn string(r: &mut Reader<'_>) -> Result<String> {
    let n = r.varint()? as usize;
    String::from_utf8(r.bytes(n)?.to_vec()).map_err(|_| corrupt("log record", "a string that is not UTF-8"))
}

fn value(r: &mut Reader<'_>) -> Result<Value> {
    let (v, rest) = decode_value(r.buf)?;
    r.buf = rest;
    Ok(v)
}

fn patch_op(r: &mut Reader<'_>) -> Result<PatchOp> {
    let tag = *r.bytes(1)?.first().ok_or_else(|| corrupt("log record", "truncated patch"))?;
    let path = string(r)?;
    Ok(match tag {
        0 => PatchOp::Add { path, value: value(r)? },
        1 => PatchOp::Remove { path },
        2 => PatchOp::Replace { path, value: value(r)? },
        3 => PatchOp::Move { path, from: string(r)? },
        4 => PatchOp::Copy { path, from: string(r)? },
        5 => PatchOp::Test { path, value: value(r)? },
        6 => PatchOp::Increment { path, value: value(r)? },
        other => return Err(corrupt("log record", format!("unknown patch operation {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Object;

    #[test]
    fn every_kind_of_write_reads_back() {
        let doc: Object = match Value::from_json_str(r#"{"_id":"a","n":[1,2.5,"x",{"y":null}],"t":true}"#).unwrap() {
            Value::Object(o) => o,
            _ => unreachable!(),
        };
        let ops = vec![
            ShardOp::Put(doc),
            ShardOp::Patch {
                id: "a".into(),
                ops: vec![
                    PatchOp::Add { path: "/a".into(), value: Value::Int(-3) },
                    PatchOp::Remove { path: "/b".into() },
                    PatchOp::Replace { path: "/c".into(), value: Value::String("é".into()) },
                    PatchOp::Move { from: "/d".into(), path: "/e".into() },
                    PatchOp::Copy { from: "/f".into(), path: "/g".into() },
                    PatchOp::Test { path: "/h".into(), value: Value::Null },
                    PatchOp::Increment { path: "/i".into(), value: Value::Float(0.5) },
                ],
            },
            ShardOp::Delete { id: "zz".into() },
        ];
        for op in ops {
            let back = decode(&encode(&op)).unwrap();
            assert_eq!(format!("{back:?}"), format!("{op:?}"));
        }
    }

    #[test]
    fn a_batch_holds_its_writes_and_its_position() {
        let ops = vec![
            ShardOp::Delete { id: "a".into() },
            ShardOp::Patch { id: "b".into(), ops: vec![PatchOp::Remove { path: "/x".into() }] },
        ];
        let bytes = encode_batch("src-1", r#"{"offset":7}"#, ops.iter());
        assert_eq!(source_position(&bytes), Some(("src-1".into(), r#"{"offset":7}"#.into())));
        let back = decode_any(&bytes).unwrap();
        assert_eq!(format!("{:?}", back.ops), format!("{ops:?}"));
        assert_eq!(back.source, Some(("src-1".into(), r#"{"offset":7}"#.into())));
        let empty = decode_any(&encode_batch("s", "p", [].iter())).unwrap();
        assert!(empty.ops.is_empty());
        assert!(decode_any(&bytes[..bytes.len() - 1]).is_err());
        let single = decode_any(&encode(&ops[0])).unwrap();
        assert_eq!((single.ops.len(), single.source), (1, None));
        assert_eq!(source_position(&encode(&ops[0])), None);
    }

    #[test]
    fn damaged_records_are_errors() {
        let bytes = encode(&ShardOp::Delete { id: "abc".into() });
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(&[bytes.as_slice(), b"x"].concat()).is_err());
        assert!(decode(&[9, 1, 2]).is_err());
        assert!(decode(&[]).is_err());
    }
}
