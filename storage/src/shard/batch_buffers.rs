//! The buffers a shard's write batches are built in, kept from one batch to the next so a
//! batch reuses the memory the previous one grew: allocating it afresh each time costs the
//! kernel zeroing new pages and the buffers copying themselves as they grow, which showed in
//! profiles of the leaf indexer. (RocksDB's own write batch is still allocated per batch.)
//! A shard lets them go when it settles, so quiet collections hold none.

use super::sorted_batch::SortedBatch;
use crate::index::edits::EditGroups;

/// Memory kept between batches at most; buffers an unusually large batch grew past it are
/// given back.
const KEEP_AT_MOST: usize = 32 << 20;

/// A write batch's buffers: row fragments and metadata, and the grouped index edits.
#[derive(Default)]
pub(crate) struct BatchBuffers {
    /// Row fragments and metadata.
    pub(crate) rows: SortedBatch,
    /// Search-index posting edits of values.
    pub(crate) search: EditGroups,
    /// Range-index posting edits.
    pub(crate) range: EditGroups,
    /// Column-chunk edits.
    pub(crate) chunks: EditGroups,
}

impl BatchBuffers {
    /// The buffers emptied for the next batch (fresh ones when these hold more than
    /// [`KEEP_AT_MOST`]). `rows` must have been emptied by taking its write batch.
    pub(crate) fn recycle(mut self) -> BatchBuffers {
        self.search.clear();
        self.range.clear();
        self.chunks.clear();
        let held = self.rows.capacity_bytes()
            + self.search.capacity_bytes()
            + self.range.capacity_bytes()
            + self.chunks.capacity_bytes();
        if held > KEEP_AT_MOST {
            BatchBuffers::default()
        } else {
            self
        }
    }
}
