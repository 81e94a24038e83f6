//! A write batch that buffers operations per column family and hands them to RocksDB in key
//! order. RocksDB's memtable skiplist inserts ascending keys far faster than random ones (it
//! reuses the previous insert's position), and one document batch touches keys all over the
//! search and range indexes. The sort is stable, so operations on one key keep their order.

use rocksdb::WriteBatch;

use super::Shard;
use crate::index::keys::cf;

enum Op {
    Put(Vec<u8>),
    Merge(Vec<u8>),
    Delete,
}

/// Operations of one write, per column family, not yet ordered.
#[derive(Default)]
pub(crate) struct SortedBatch {
    families: [Vec<(Vec<u8>, Op)>; cf::ALL.len()],
}

fn slot(family: &str) -> usize {
    cf::ALL.iter().position(|f| *f == family).unwrap_or_else(|| unreachable!("unknown column family {family}"))
}

impl SortedBatch {
    /// Sets `key` to `value`.
    pub(crate) fn put(&mut self, family: &str, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.families[slot(family)].push((key.into(), Op::Put(value.into())));
    }

    /// Adds a merge operand for `key`.
    pub(crate) fn merge(&mut self, family: &str, key: impl Into<Vec<u8>>, operand: impl Into<Vec<u8>>) {
        self.families[slot(family)].push((key.into(), Op::Merge(operand.into())));
    }

    /// Deletes `key`.
    pub(crate) fn delete(&mut self, family: &str, key: impl Into<Vec<u8>>) {
        self.families[slot(family)].push((key.into(), Op::Delete));
    }

    /// The RocksDB batch, each family's keys ascending.
    pub(crate) fn into_write_batch(self, shard: &Shard) -> WriteBatch {
        let mut batch = WriteBatch::default();
        for (name, mut ops) in cf::ALL.iter().zip(self.families) {
            ops.sort_by(|a, b| a.0.cmp(&b.0));
            let h = shard.cf(name);
            for (k, op) in ops {
                match op {
                    Op::Put(v) => batch.put_cf(h, k, v),
                    Op::Merge(v) => batch.merge_cf(h, k, v),
                    Op::Delete => batch.delete_cf(h, k),
                }
            }
        }
        batch
    }
}
