//! Grouped index edits of one write batch. A batch makes many small edits (posting-list adds
//! and removes, column-chunk sets and deletes) to many keys; they are kept in one arena and
//! handed out per key, in ascending key order, as one merge operand each: the edit run's tag
//! followed by that key's edits in the order they were made.

/// Edits to many keys, grouped when drained.
#[derive(Default)]
pub struct EditGroups {
    arena: Vec<u8>,
    items: Vec<Item>,
}

/// One edit: where its key and its bytes sit in the arena. `prefix` holds the key's first 16
/// bytes (zero-padded, big-endian) so most comparisons never touch the arena.
struct Item {
    prefix: u128,
    key: (u32, u32),
    edit: (u32, u32),
}

fn key_prefix(key: &[u8]) -> u128 {
    let mut b = [0u8; 16];
    let n = key.len().min(16);
    b[..n].copy_from_slice(&key[..n]);
    u128::from_be_bytes(b)
}

impl EditGroups {
    /// Records an edit of `key`; `write` appends the edit's bytes to the buffer it is given.
    pub fn push(&mut self, key: &[u8], write: impl FnOnce(&mut Vec<u8>)) {
        let k = self.arena.len() as u32;
        self.arena.extend_from_slice(key);
        let e = self.arena.len() as u32;
        write(&mut self.arena);
        let end = self.arena.len() as u32;
        self.items.push(Item { prefix: key_prefix(key), key: (k, e), edit: (e, end) });
    }

    /// Forgets every edit, keeping the memory for the next batch.
    pub fn clear(&mut self) {
        self.arena.clear();
        self.items.clear();
    }

    /// Bytes of memory held.
    pub fn capacity_bytes(&self) -> usize {
        self.arena.capacity() + self.items.capacity() * std::mem::size_of::<Item>()
    }

    /// Calls `f(key, operand)` once per distinct key in ascending key order, where the operand
    /// is `tag` followed by the key's edits in the order they were pushed.
    pub fn for_each_group(&mut self, tag: u8, mut f: impl FnMut(&[u8], &[u8])) {
        let arena = &self.arena;
        let key = |i: &Item| &arena[i.key.0 as usize..i.key.1 as usize];
        // Edits of one key keep their order: their arena offsets ascend.
        self.items.sort_unstable_by(|a, b| a.prefix.cmp(&b.prefix).then_with(|| key(a).cmp(key(b))).then(a.key.0.cmp(&b.key.0)));
        let mut operand = Vec::new();
        let mut i = 0;
        while i < self.items.len() {
            let k = key(&self.items[i]);
            operand.clear();
            operand.push(tag);
            let mut j = i;
            while j < self.items.len() && (j == i || key(&self.items[j]) == k) {
                let (s, e) = self.items[j].edit;
                operand.extend_from_slice(&arena[s as usize..e as usize]);
                j += 1;
            }
            f(k, &operand);
            i = j;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_per_key_in_key_order_keeping_edit_order() {
        let mut g = EditGroups::default();
        let long_a = b"0123456789abcdefZ".to_vec();
        let long_b = b"0123456789abcdefA".to_vec();
        g.push(b"b", |o| o.push(1));
        g.push(&long_a, |o| o.push(2));
        g.push(b"a", |o| o.push(3));
        g.push(b"b", |o| o.extend_from_slice(&[4, 5]));
        g.push(&long_b, |o| o.push(6));
        g.push(b"a\0", |o| o.push(7));
        let mut out = Vec::new();
        g.for_each_group(9, |k, op| out.push((k.to_vec(), op.to_vec())));
        assert_eq!(
            out,
            vec![
                (long_b, vec![9, 6]),
                (long_a, vec![9, 2]),
                (b"a".to_vec(), vec![9, 3]),
                (b"a\0".to_vec(), vec![9, 7]),
                (b"b".to_vec(), vec![9, 1, 4, 5]),
            ]
        );
    }
}
