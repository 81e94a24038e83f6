//! A prepared document write as bytes, the form the ingest log keeps it in: one record per
//! document. The first byte says what the write is (1 put, 2 patch, 3 delete); a put holds
//! the normalized document in the stored [`codec`](crate::value::codec) encoding, a patch its
//! `_id` and operations, a delete its `_id`. What the log holds was checked before it was
//! appended, so a leaf decodes and applies it without judging it again.

use crate::error::{corrupt, Result};
use crate::patch::PatchOp;
use crate::shard::ShardOp;
use crate::value::codec::{decode_value, encode_value, put_bytes, put_varint, Reader};
use crate::value::{Value, ValueType};

const PUT: u8 = 1;
const PATCH: u8 = 2;
const DELETE: u8 = 3;

/// The record of one write.
pub fn encode(op: &ShardOp) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    match op {
        ShardOp::Put(doc) => {
            out.push(PUT);
            out.push(ValueType::Object as u8);
            put_varint(doc.len() as u64, &mut out);
            for (k, v) in doc {
                put_bytes(k.as_bytes(), &mut out);
                encode_value(v, &mut out);
            }
        }
        ShardOp::Patch { id, ops } => {
            out.push(PATCH);
            put_bytes(id.as_bytes(), &mut out);
            put_varint(ops.len() as u64, &mut out);
            for op in ops {
                encode_patch_op(op, &mut out);
            }
        }
        ShardOp::Delete { id } => {
            out.push(DELETE);
            put_bytes(id.as_bytes(), &mut out);
        }
    }
    out
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
    fn damaged_records_are_errors() {
        let bytes = encode(&ShardOp::Delete { id: "abc".into() });
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(&[bytes.as_slice(), b"x"].concat()).is_err());
        assert!(decode(&[9, 1, 2]).is_err());
        assert!(decode(&[]).is_err());
    }
}
