//! A write batch that buffers operations per column family in one arena and hands them to
//! RocksDB in key order. RocksDB's memtable skiplist inserts ascending keys far faster than
//! random ones (it reuses the previous insert's position). The sort is stable, so operations on
//! one key keep their order.

use rocksdb::WriteBatch;

use super::Shard;
use crate::index::keys::cf;

#[derive(Clone, Copy)]
enum Kind {
    Put,
    Merge,
    Delete,
}

/// One buffered operation: where its key and value sit in the arena.
struct OpRef {
    key: (u32, u32),
    value: (u32, u32),
    kind: Kind,
}

/// Operations of one write, per column family, not yet ordered.
#[derive(Default)]
pub(crate) struct SortedBatch {
    arena: Vec<u8>,
    families: [Vec<OpRef>; cf::ALL.len()],
}

fn slot(family: &str) -> usize {
    cf::ALL.iter().position(|f| *f == family).unwrap_or_else(|| unreachable!("unknown column family {family}"))
}

impl SortedBatch {
    fn push(&mut self, family: &str, key: &[u8], value: &[u8], kind: Kind) {
        let k = self.arena.len() as u32;
        self.arena.extend_from_slice(key);
        let v = self.arena.len() as u32;
        self.arena.extend_from_slice(value);
        let end = self.arena.len() as u32;
        self.families[slot(family)].push(OpRef { key: (k, v), value: (v, end), kind });
    }

    /// Sets `key` to `value`.
    pub(crate) fn put(&mut self, family: &str, key: &[u8], value: &[u8]) {
        self.push(family, key, value, Kind::Put);
    }

    /// Adds a merge operand for `key`.
    pub(crate) fn merge(&mut self, family: &str, key: &[u8], operand: &[u8]) {
        self.push(family, key, operand, Kind::Merge);
    }

    /// Deletes `key`.
    pub(crate) fn delete(&mut self, family: &str, key: &[u8]) {
        self.push(family, key, &[], Kind::Delete);
    }

    /// Bytes of memory held.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.arena.capacity() + self.families.iter().map(|f| f.capacity() * std::mem::size_of::<OpRef>()).sum::<usize>()
    }

    /// The RocksDB batch, each family's keys ascending; leaves this batch empty, keeping its
    /// memory for the next one.
    pub(crate) fn take_write_batch(&mut self, shard: &Shard) -> WriteBatch {
        let mut batch =
            WriteBatch::with_capacity_bytes(self.arena.len() + 64 * self.families.iter().map(Vec::len).sum::<usize>());
        let arena = &self.arena;
        let bytes = |r: (u32, u32)| &arena[r.0 as usize..r.1 as usize];
        for (name, ops) in cf::ALL.iter().zip(self.families.iter_mut()) {
            ops.sort_by(|a, b| bytes(a.key).cmp(bytes(b.key)));
            let h = shard.cf(name);
            for op in ops.iter() {
                let k = bytes(op.key);
                match op.kind {
                    Kind::Put => batch.put_cf(h, k, bytes(op.value)),
                    Kind::Merge => batch.merge_cf(h, k, bytes(op.value)),
                    Kind::Delete => batch.delete_cf(h, k),
                }
            }
            ops.clear();
        }
        self.arena.clear();
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::SharedResources;

    #[test]
    fn a_taken_batch_leaves_nothing_behind_for_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let shard = Shard::open(dir.path(), &SharedResources::new(1 << 20, 1 << 20)).unwrap();
        let mut b = SortedBatch::default();
        b.put(cf::ROWS, b"b", b"2");
        b.put(cf::ROWS, b"a", b"1");
        b.delete(cf::META, b"m");
        assert_eq!(b.take_write_batch(&shard).len(), 3);
        let held = b.capacity_bytes();
        assert!(held > 0, "the memory is kept");
        b.delete(cf::ROWS, b"c");
        assert_eq!(b.take_write_batch(&shard).len(), 1, "only the second batch's operation");
        assert_eq!(b.capacity_bytes(), held);
    }
}
