//! RocksDB options of a shard: one column family per index family (universal compaction for the
//! search index, leveled elsewhere), lz4 above the bottom level, zstd with a sampled dictionary at
//! the bottom, bloom filters where lookups are by exact key or by document prefix, merge operators
//! for column chunks, posting lists and counters.

use rocksdb::{BlockBasedOptions, Cache, ColumnFamilyDescriptor, DBCompressionType, Options, SliceTransform};

use crate::index::keys::cf;
use crate::index::{column, posting};

/// Options shared by every shard of a store.
#[derive(Clone)]
pub struct SharedResources {
    /// One block cache for all shards.
    pub cache: Cache,
    /// Pending value postings a shard folds into its search index at this size.
    pub pending_fold_bytes: usize,
}

impl SharedResources {
    /// Creates resources with a block cache of `cache_bytes`; shards fold pending postings at
    /// `pending_fold_bytes`.
    pub fn new(cache_bytes: usize, pending_fold_bytes: usize) -> SharedResources {
        SharedResources { cache: Cache::new_lru_cache(cache_bytes), pending_fold_bytes }
    }
}

/// Database-wide options.
pub(super) fn db_options() -> Options {
    let mut o = Options::default();
    o.create_if_missing(true);
    o.create_missing_column_families(true);
    o.set_max_background_jobs(2);
    o.set_bytes_per_sync(1 << 20);
    // Start writing the WAL out in the background as it grows, so the sync before each fold
    // of pending postings (see `Shard::fold_frozen`) finds little left to write.
    o.set_wal_bytes_per_sync(1 << 20);
    o.set_max_open_files(512);
    // A write-ahead log file goes once every family holding data from it is flushed; families
    // that take few writes (metadata) would otherwise keep up to four write buffers' worth of
    // files (over a GiB) alive. Past this size RocksDB flushes the families holding the oldest.
    o.set_max_total_wal_size(256 << 20);
    o.set_keep_log_file_num(2);
    o
}

/// Column family descriptors for a shard.
pub(super) fn column_families(res: &SharedResources) -> Vec<ColumnFamilyDescriptor> {
    cf::ALL.iter().map(|name| ColumnFamilyDescriptor::new(*name, cf_options(name, res))).collect()
}

/// Options for writing SST files destined for the search index (folded pending postings).
pub(super) fn search_sst_options(res: &SharedResources) -> Options {
    cf_options(cf::SEARCH, res)
}

fn cf_options(name: &str, res: &SharedResources) -> Options {
    let mut o = Options::default();
    o.set_level_compaction_dynamic_level_bytes(true);
    o.set_write_buffer_size(32 << 20);
    // Fewer, larger L0→base compactions: the search index's keys land all over its key space,
    // so each compaction rewrites most of the base level.
    o.set_level_zero_file_num_compaction_trigger(8);
    // lz4 above the bottom: flushes write half the bytes for less CPU than the copy would cost.
    o.set_compression_per_level(&[
        DBCompressionType::Lz4,
        DBCompressionType::Lz4,
        DBCompressionType::Lz4,
        DBCompressionType::Lz4,
        DBCompressionType::Lz4,
        DBCompressionType::Lz4,
        DBCompressionType::Zstd,
    ]);
    o.set_bottommost_compression_type(DBCompressionType::Zstd);
    // window_bits, level, strategy, max_dict_bytes: a 16 KiB dictionary per file, built from
    // sampled blocks (zstd's trainer costs more CPU than it saves bytes on this data).
    o.set_bottommost_compression_options(-14, 3, 0, 16 << 10, true);

    let mut t = BlockBasedOptions::default();
    t.set_block_cache(&res.cache);
    t.set_block_size(16 << 10);
    t.set_cache_index_and_filter_blocks(true);
    t.set_pin_l0_filter_and_index_blocks_in_cache(true);
    match name {
        cf::ROWS => {
            // A document's fragments share its 4-byte document number: prefix bloom on it.
            o.set_prefix_extractor(SliceTransform::create_fixed_prefix(4));
            o.set_memtable_prefix_bloom_ratio(0.1);
            t.set_bloom_filter(10.0, false);
            t.set_whole_key_filtering(false);
        }
        cf::SEARCH => {
            o.set_merge_operator("cairn.posting", posting::full_merge, posting::partial_merge);
            // Every insert first looks its `_id` up: a memtable bloom answers "absent" cheaply.
            o.set_memtable_prefix_bloom_ratio(0.05);
            o.set_memtable_whole_key_filtering(true);
            // Most keys are new values (ids, timestamps) at random positions: 64 MiB balances
            // flush count against skiplist insert cost (measured against 32, 96 and 128 MiB).
            o.set_write_buffer_size(64 << 20);
            // Universal compaction: random-position keys rewrite less data than leveled does.
            o.set_compaction_style(rocksdb::DBCompactionStyle::Universal);
            o.set_max_successive_merges(SUCCESSIVE_POSTING_MERGES);
            t.set_bloom_filter(10.0, false);
        }
        cf::RANGE => {
            o.set_merge_operator("cairn.posting", posting::full_merge, posting::partial_merge);
            o.set_max_successive_merges(SUCCESSIVE_POSTING_MERGES);
        }
        cf::COLS => {
            o.set_merge_operator("cairn.column", column::full_merge, column::partial_merge);
            o.set_write_buffer_size(64 << 20);
            t.set_block_size(64 << 10);
        }
        cf::PENDING => {
            // Records live from one batch to the next fold: most die in the memtable.
            o.set_write_buffer_size(64 << 20);
            o.set_compression_per_level(&[DBCompressionType::None; 7]);
            o.set_bottommost_compression_type(DBCompressionType::None);
        }
        cf::META => {
            o.set_merge_operator_associative("cairn.counter", counter_merge);
            t.set_bloom_filter(10.0, false);
        }
        _ => unreachable!("unknown column family {name}"),
    }
    o.set_block_based_table_factory(&t);
    o
}

/// Posting edits of one key the memtable holds before RocksDB folds them into the key's list
/// as it writes the next (when the list is in memory). Batches edit a few lists (every
/// document, each path's "defined" list, the newest time buckets) every time, so without a
/// bound every query re-applies every edit of them since the last flush, millions while
/// ingest runs.
const SUCCESSIVE_POSTING_MERGES: usize = 8;

/// Sums little-endian i64 counters.
fn counter_merge(_key: &[u8], existing: Option<&[u8]>, operands: &rocksdb::MergeOperands) -> Option<Vec<u8>> {
    let mut sum = 0i64;
    for v in existing.into_iter().chain(operands) {
        sum = sum.wrapping_add(i64::from_le_bytes(v.try_into().ok()?));
    }
    Some(sum.to_le_bytes().to_vec())
}
