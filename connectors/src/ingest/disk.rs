//! Free space on the disk a collection lives on. Writes are refused while it is below a
//! reserve, so that indexing what the log already took (RocksDB's write-ahead log, flushes
//! and compactions) never runs out of space: RocksDB stops taking writes after a failed one
//! until it is reopened, and what was acknowledged must still be applied.

use std::path::Path;

/// Free and total bytes of the filesystem holding `dir` (None when it cannot be told).
pub(super) fn space(dir: &Path) -> Option<(u64, u64)> {
    let s = rustix::fs::statvfs(dir).ok()?;
    Some((s.f_bavail.saturating_mul(s.f_frsize), s.f_blocks.saturating_mul(s.f_frsize)))
}

/// The free space kept on a filesystem of `total` bytes: `wanted`, but at most a fifth of the
/// filesystem (so that a small disk still takes writes).
pub(super) fn reserve(wanted: u64, total: u64) -> u64 {
    wanted.min(total / 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_disk_keeps_a_fifth_free() {
        assert_eq!(reserve(1 << 30, 100 << 30), 1 << 30);
        assert_eq!(reserve(1 << 30, 64 << 20), (64 << 20) / 5);
        let (free, total) = space(Path::new(".")).expect("statvfs of the working directory");
        assert!(free <= total && total > 0);
    }
}
