//! Where each source of a collection stands: the position its last appended batch reached.
//!
//! A source's batch is one log record holding its writes and its position after them
//! ([`record::encode_batch`]), so the log alone says where a source stands. The log drops
//! what the shards applied, though; before it does, the positions are written to
//! `<collection dir>/source_positions.json` (fsynced, replaced atomically). At start the file
//! is read and the log that is left is scanned for newer batches: a source resumes exactly
//! after the last batch that became durable, whether or not anything was applied yet.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cairn_storage::record;
use serde::{Deserialize, Serialize};

use crate::atomic_file::write_atomically;
use crate::log::{Log, LogEntry, LogError};

/// The file the positions are kept in, in the collection's directory.
const FILE: &str = "source_positions.json";

/// A source's last appended position and the offset of the record that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Mark {
    offset: u64,
    position: String,
}

/// The positions of a collection's sources.
pub(super) struct SourcePositions {
    path: PathBuf,
    state: Mutex<State>,
    /// Held from taking a snapshot of the positions until the file holds it, so writers of
    /// the file (the indexer, a source being removed) never interleave or go back in time.
    writing: Mutex<()>,
}

#[derive(Default)]
struct State {
    marks: HashMap<String, Mark>,
    /// Changed since the file was last written.
    dirty: bool,
}

impl SourcePositions {
    /// The positions kept in `dir`, brought up to date from what `log` still holds.
    pub(super) fn open(dir: &Path, log: &dyn Log) -> Result<SourcePositions, LogError> {
        let path = dir.join(FILE);
        let mut marks: HashMap<String, Mark> = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| LogError::Io {
                context: format!("reading {}", path.display()),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(source) => return Err(LogError::Io { context: format!("reading {}", path.display()), source }),
        };
        let mut dirty = false;
        if log.last_offset() >= log.first_offset() {
            let mut reader = log.reader(log.first_offset())?;
            loop {
                let entries = reader.read(8 << 20)?;
                if entries.is_empty() {
                    break;
                }
                for entry in entries {
                    let LogEntry::Record { offset, payload } = entry else { continue };
                    if let Some((source, position)) = record::source_position(&payload) {
                        if marks.get(&source).is_none_or(|m| m.offset < offset) {
                            marks.insert(source, Mark { offset, position });
                            dirty = true;
                        }
                    }
                }
            }
        }
        Ok(SourcePositions { path, state: Mutex::new(State { marks, dirty }), writing: Mutex::new(()) })
    }

    /// The position source `id` last reached (None: it has appended nothing yet).
    pub(super) fn get(&self, id: &str) -> Option<String> {
        self.state.lock().ok()?.marks.get(id).map(|m| m.position.clone())
    }

    /// Notes that the record at `offset` (durable) took source `id` to `position` (unless a
    /// later record of it was noted already). The writer notes it after its append, and the
    /// indexer again as it applies the record, so the position is known before the log may
    /// drop the record.
    pub(super) fn appended(&self, id: &str, offset: u64, position: &str) {
        if let Ok(mut s) = self.state.lock() {
            if s.marks.get(id).is_none_or(|m| m.offset < offset) {
                s.marks.insert(id.to_owned(), Mark { offset, position: position.to_owned() });
                s.dirty = true;
            }
        }
    }

    /// Forgets source `id` (it was removed).
    pub(super) fn forget(&self, id: &str) -> std::io::Result<()> {
        if let Ok(mut s) = self.state.lock() {
            s.dirty |= s.marks.remove(id).is_some();
        }
        self.persist()
    }

    /// Writes the positions to the file when they changed: before the log drops records,
    /// so that every position they held is kept.
    pub(super) fn persist(&self) -> std::io::Result<()> {
        let _writing = self.writing.lock().map_err(|_| std::io::Error::other("source positions poisoned"))?;
        let bytes = {
            let Ok(mut s) = self.state.lock() else { return Err(std::io::Error::other("source positions poisoned")) };
            if !s.dirty {
                return Ok(());
            }
            s.dirty = false;
            serde_json::to_vec(&s.marks).map_err(std::io::Error::other)?
        };
        let written = write_atomically(&self.path, &bytes);
        if written.is_err() {
            if let Ok(mut s) = self.state.lock() {
                s.dirty = true;
            }
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{FileLog, FileLogOptions};
    use cairn_storage::ShardOp;

    fn batch(source: &str, position: &str) -> Vec<u8> {
        record::encode_batch(source, position, [ShardOp::Delete { id: "x".into() }].iter())
    }

    #[test]
    fn positions_survive_truncation_and_come_back_from_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = FileLog::open(&dir.path().join("log"), FileLogOptions { segment_bytes: 256, ..Default::default() }, 0).unwrap();
        log.append(vec![batch("a", "1"), batch("b", "1"), record::encode(&ShardOp::Delete { id: "y".into() })]).unwrap();
        let p = SourcePositions::open(dir.path(), &log).unwrap();
        assert_eq!((p.get("a").as_deref(), p.get("b").as_deref(), p.get("c")), (Some("1"), Some("1"), None));
        // The file is written before the log drops what held the positions.
        p.persist().unwrap();
        for i in 2..40 {
            log.append(vec![batch("a", &i.to_string())]).unwrap();
        }
        log.truncate_below(log.last_offset()).unwrap();
        assert!(log.first_offset() > 3, "segments were dropped");
        let p = SourcePositions::open(dir.path(), &log).unwrap();
        assert_eq!((p.get("a").as_deref(), p.get("b").as_deref()), (Some("39"), Some("1")));
        p.forget("b").unwrap();
        let p = SourcePositions::open(dir.path(), &log).unwrap();
        assert_eq!(p.get("b"), None);
    }
}
