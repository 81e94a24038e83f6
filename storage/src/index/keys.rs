//! Key layouts of a shard's column families. All integers are big-endian so keys sort by them.
//!
//! - `rows`: `doc | top-level field name` → codec value (a document's fragments are adjacent)
//! - `cols`: `path id | chunk number` → column chunk
//! - `search`: `V | path id | key-encoded value` → posting list; `X | path id` → posting list of
//!   documents holding the path; `A` → posting list of all live documents
//! - `range`: `path id | value bucket` → posting list (numbers and times; see
//!   [`range_bucket`](super::entries::range_bucket))
//! - `pending`: record number → a batch's pending value postings (see
//!   [`pending`](super::pending)), until they are folded into `search`
//! - `meta`: `P | path` → path id; `T | path id | type` → count (merge-added); `S` → shard state
//!
//! A document's number is found through the search index's posting list for its `_id`, and
//! expired documents through the range index on `_event_time`: no separate indexes for either.

/// Column family names.
pub mod cf {
    /// The row index.
    pub const ROWS: &str = "rows";
    /// The column index.
    pub const COLS: &str = "cols";
    /// The search index.
    pub const SEARCH: &str = "search";
    /// The range index.
    pub const RANGE: &str = "range";
    /// Counters, statistics and the document-number allocator.
    pub const META: &str = "meta";
    /// Pending value postings, one record per write batch, until folded into `search`.
    pub const PENDING: &str = "pending";
    /// Every family, in report order.
    pub const ALL: [&str; 6] = [ROWS, COLS, SEARCH, RANGE, META, PENDING];
}

/// Row-index key of one fragment.
pub fn row_key(doc: u32, field: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + field.len());
    row_key_into(&mut k, doc, field);
    k
}

/// Appends the row-index key of one fragment to `out`.
pub fn row_key_into(out: &mut Vec<u8>, doc: u32, field: &str) {
    out.extend_from_slice(&doc.to_be_bytes());
    out.extend_from_slice(field.as_bytes());
}

/// Column chunk key.
pub fn col_key(path: u32, chunk: u32) -> [u8; 8] {
    let mut k = [0u8; 8];
    k[..4].copy_from_slice(&path.to_be_bytes());
    k[4..].copy_from_slice(&chunk.to_be_bytes());
    k
}

/// Search-index key of one value's posting list.
pub fn value_key(path: u32, value_key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(5 + value_key.len());
    value_key_into(&mut k, path, value_key);
    k
}

/// Appends the search-index key of one value's posting list to `out`.
pub fn value_key_into(out: &mut Vec<u8>, path: u32, value_key: &[u8]) {
    out.push(b'V');
    out.extend_from_slice(&path.to_be_bytes());
    out.extend_from_slice(value_key);
}

/// Search-index key of the posting list of documents that hold `path`.
pub fn exists_key(path: u32) -> [u8; 5] {
    let mut k = [b'X'; 5];
    k[1..].copy_from_slice(&path.to_be_bytes());
    k
}

/// Search-index key of the posting list of all live documents.
pub const ALL_DOCS_KEY: &[u8] = b"A";

/// Range-index key of one bucket's posting list.
pub fn range_key(path: u32, bucket: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + bucket.len());
    range_key_into(&mut k, path, bucket);
    k
}

/// Appends the range-index key of one bucket's posting list to `out`.
pub fn range_key_into(out: &mut Vec<u8>, path: u32, bucket: &[u8]) {
    out.extend_from_slice(&path.to_be_bytes());
    out.extend_from_slice(bucket);
}

/// Meta key of a path's id.
pub fn path_key(path: &str) -> Vec<u8> {
    let mut k = vec![b'P'];
    k.extend_from_slice(path.as_bytes());
    k
}

/// Meta key of a (path, type) document count.
pub fn type_count_key(path: u32, t: u8) -> [u8; 6] {
    let mut k = [b'T'; 6];
    k[1..5].copy_from_slice(&path.to_be_bytes());
    k[5] = t;
    k
}

/// Meta key of the shard state (next document number, last sequence number).
pub const STATE_KEY: &[u8] = b"S";

/// The key just past every key starting with `prefix` (None when there is none).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}
