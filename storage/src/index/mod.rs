//! The converged index's building blocks: key layouts, posting lists, column chunks and the
//! per-document entries that feed them.

pub mod column;
pub mod edits;
pub mod entries;
pub mod keys;
pub mod pending;
pub mod posting;

/// Partial merge shared by the edit-based merge operators: concatenates operands that are all
/// edit runs tagged `tag` into one run (None, so RocksDB keeps them apart, if any is not).
pub(crate) fn concat_edits(tag: u8, existing: Option<&[u8]>, operands: &rocksdb::MergeOperands) -> Option<Vec<u8>> {
    let mut out = vec![tag];
    for op in existing.into_iter().chain(operands) {
        match op.split_first() {
            Some((t, body)) if *t == tag => out.extend_from_slice(body),
            Some(_) => return None,
            None => {}
        }
    }
    Some(out)
}
