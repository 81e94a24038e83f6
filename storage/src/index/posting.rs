//! Posting lists: sets of document numbers, compressed, maintained by a RocksDB merge operator.
//!
//! A stored posting list is either folded (`FOLDED_VARINT`: count + delta varints, used for
//! short lists; `FOLDED_ROARING`: a serialized roaring bitmap) or a run of edits (`EDITS`:
//! pairs of add/remove and a document number). Writers only ever emit edits as merge operands;
//! RocksDB folds them into the existing list on read and during compaction.

use roaring::RoaringBitmap;

use crate::error::{corrupt, Result};
use crate::value::codec::{put_varint, Reader};

const FOLDED_VARINT: u8 = 0x01;
const FOLDED_ROARING: u8 = 0x02;
const EDITS: u8 = 0x03;
const ADD: u8 = 1;
const REMOVE: u8 = 0;

/// Lists up to this long are stored as delta varints, longer ones as roaring bitmaps.
const VARINT_MAX: u64 = 64;

/// Tag of a posting merge operand: a run of add/remove edits (see [`EditGroups`](super::edits::EditGroups)).
pub const EDITS_TAG: u8 = EDITS;

/// Appends the edit "`doc` now holds the key" (`add`) or "no longer holds it" to an edit run.
pub fn push_edit(out: &mut Vec<u8>, add: bool, doc: u32) {
    out.push(if add { ADD } else { REMOVE });
    out.extend_from_slice(&doc.to_le_bytes());
}

/// Decodes a stored posting list (folded or edits applied to an empty list).
pub fn decode(value: &[u8]) -> Result<RoaringBitmap> {
    let mut set = RoaringBitmap::new();
    apply(&mut set, value)?;
    Ok(set)
}

/// Applies a stored value or an operand to `set`.
pub fn apply(set: &mut RoaringBitmap, value: &[u8]) -> Result<()> {
    let (&kind, body) = match value.split_first() {
        Some(x) => x,
        None => return Ok(()),
    };
    match kind {
        FOLDED_VARINT => {
            let mut r = Reader { buf: body };
            let n = r.varint()?;
            let mut doc = 0u64;
            for i in 0..n {
                let delta = r.varint()?;
                doc = if i == 0 { delta } else { doc + delta };
                set.insert(u32::try_from(doc).map_err(|_| corrupt("posting", "doc number overflow"))?);
            }
        }
        FOLDED_ROARING => {
            *set = RoaringBitmap::deserialize_from(body).map_err(|e| corrupt("posting", e.to_string()))?;
        }
        EDITS => {
            if body.len() % 5 != 0 {
                return Err(corrupt("posting", "truncated edit"));
            }
            for e in body.chunks_exact(5) {
                let doc = u32::from_le_bytes([e[1], e[2], e[3], e[4]]);
                if e[0] == ADD {
                    set.insert(doc);
                } else {
                    set.remove(doc);
                }
            }
        }
        other => return Err(corrupt("posting", format!("unknown kind {other:#x}"))),
    }
    Ok(())
}

/// Serializes a folded posting list.
pub fn encode(set: &RoaringBitmap) -> Vec<u8> {
    if set.len() <= VARINT_MAX {
        let mut out = vec![FOLDED_VARINT];
        put_varint(set.len(), &mut out);
        let mut prev = 0u32;
        for (i, d) in set.iter().enumerate() {
            put_varint(if i == 0 { d as u64 } else { (d - prev) as u64 }, &mut out);
            prev = d;
        }
        out
    } else {
        let mut out = Vec::with_capacity(1 + set.serialized_size());
        out.push(FOLDED_ROARING);
        // Writing into a Vec cannot fail.
        let _ = set.serialize_into(&mut out);
        out
    }
}

/// Number of documents in a stored posting list.
pub fn len(value: &[u8]) -> Result<u64> {
    match value.split_first() {
        Some((&FOLDED_VARINT, body)) => Reader { buf: body }.varint(),
        _ => Ok(decode(value)?.len()),
    }
}

/// RocksDB full merge: fold operands into the existing list.
pub fn full_merge(_key: &[u8], existing: Option<&[u8]>, operands: &rocksdb::MergeOperands) -> Option<Vec<u8>> {
    let mut set = RoaringBitmap::new();
    if let Some(e) = existing {
        apply(&mut set, e).ok()?;
    }
    for op in operands {
        apply(&mut set, op).ok()?;
    }
    Some(encode(&set))
}

/// RocksDB partial merge: concatenate edit runs (edits are order-dependent, so no folding).
pub fn partial_merge(_key: &[u8], existing: Option<&[u8]>, operands: &rocksdb::MergeOperands) -> Option<Vec<u8>> {
    super::concat_edits(EDITS, existing, operands)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_round_trips_small_and_large() {
        for n in [0u32, 1, 5, 64, 65, 10_000] {
            let set: RoaringBitmap = (0..n).map(|i| i * 3 + 7).collect();
            assert_eq!(decode(&encode(&set)).unwrap(), set);
            assert_eq!(len(&encode(&set)).unwrap(), n as u64);
        }
    }

    #[test]
    fn edits_apply_in_order() {
        let mut e = vec![EDITS_TAG];
        push_edit(&mut e, true, 5);
        push_edit(&mut e, true, 9);
        push_edit(&mut e, false, 5);
        let set = decode(&e).unwrap();
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![9]);
    }
}
