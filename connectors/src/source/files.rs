//! Files on this machine: one file, a directory (every file under it) or a glob pattern.
//! Files are loaded in name order, each version once (a version is its size and
//! modification time: a file rewritten later is loaded again); new files are picked up as
//! they appear, once they have not changed for [`SETTLE`]. Hidden files (`.name`) and names
//! ending in `.tmp`, `.partial` or `~` are left alone, as files still being written.
//!
//! The position is the set of versions loaded and, for the file being loaded, how many of
//! its records were taken: a file is read again from its start after a restart and that
//! many records skipped.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cairn_storage::WriteOp;
use serde::{Deserialize, Serialize};

use super::{BatchLimits, Lag, Phase, Rejected, Source, SourceBatch, SourceError};
use crate::format::{self, Format};

/// How long a file must stay unchanged before it is loaded.
const SETTLE: Duration = Duration::from_millis(300);
/// How often the files are listed again while there is nothing to load.
const RESCAN_EVERY: Duration = Duration::from_millis(250);

/// A files source's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesSpec {
    /// A file, a directory, or a glob pattern (`/data/**/*.json.gz`).
    pub path: String,
    /// How the files are read.
    #[serde(default)]
    pub format: Format,
}

impl FilesSpec {
    pub(super) fn check(&self) -> Result<(), SourceError> {
        if !Path::new(&self.path).is_absolute() {
            return Err(SourceError::Invalid(format!("a files source needs an absolute path, got '{}'", self.path)));
        }
        glob::Pattern::new(&self.path)
            .map_err(|e| SourceError::Invalid(format!("'{}' is not a valid glob pattern: {e}", self.path)))?;
        Ok(())
    }

    /// Refuses a path inside the data directory `root` or above it (a directory or a `**`
    /// pattern there would reach into it).
    pub(super) fn check_outside(&self, root: &Path) -> Result<(), SourceError> {
        let root = fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
        // The part of the path before any glob character, resolved as far as it exists.
        let mut resolved: PathBuf = Path::new(&self.path)
            .components()
            .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
            .collect();
        while !resolved.exists() && resolved.pop() {}
        let resolved = fs::canonicalize(&resolved).unwrap_or(resolved);
        if resolved.starts_with(&root) || root.starts_with(&resolved) {
            return Err(SourceError::Invalid(format!(
                "a files source may not read Cairn's data directory ({}) or a directory holding it",
                root.display()
            )));
        }
        Ok(())
    }

    /// The glob pattern the spec's path stands for.
    fn pattern(&self) -> String {
        let is_glob = self.path.contains(['*', '?', '[']);
        if !is_glob && Path::new(&self.path).is_dir() {
            format!("{}/**/*", glob::Pattern::escape(self.path.trim_end_matches('/')))
        } else if is_glob {
            self.path.clone()
        } else {
            glob::Pattern::escape(&self.path)
        }
    }
}

/// A version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Version {
    size: u64,
    mtime_ns: u64,
}

/// Where a files source stands.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct FilesPosition {
    /// Versions loaded whole, by path.
    done: BTreeMap<String, Version>,
    /// The file being loaded and the records taken from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    current: Option<Current>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Current {
    path: String,
    version: Version,
    records: u64,
}

/// A file being read.
struct OpenFile {
    path: String,
    version: Version,
    records: Box<dyn Iterator<Item = format::Item> + Send>,
    bytes: Arc<AtomicU64>,
    bytes_counted: u64,
}

/// Reads files.
pub(super) struct FileSource {
    spec: FilesSpec,
    pattern: String,
    position: FilesPosition,
    open: Option<OpenFile>,
    /// Files to load, in name order, as last listed.
    pending: Vec<(String, Version)>,
    last_scan: Option<Instant>,
    /// Whether the last listing saw files still changing.
    unsettled: bool,
    /// Whether the files that were there at the start are loaded.
    caught_up: bool,
}

impl FileSource {
    pub(super) fn open(spec: FilesSpec, position: Option<&str>) -> Result<FileSource, SourceError> {
        spec.check()?;
        let position = match position {
            None => FilesPosition::default(),
            Some(p) => {
                serde_json::from_str(p).map_err(|e| SourceError::Position { position: p.to_owned(), reason: e.to_string() })?
            }
        };
        let pattern = spec.pattern();
        Ok(FileSource {
            spec,
            pattern,
            position,
            open: None,
            pending: Vec::new(),
            last_scan: None,
            unsettled: false,
            caught_up: false,
        })
    }

    /// Lists the files that match and are not loaded (in this version), oldest name first.
    fn scan(&mut self) -> Result<(), SourceError> {
        self.last_scan = Some(Instant::now());
        let paths = glob::glob(&self.pattern).map_err(|e| SourceError::Invalid(e.to_string()))?;
        let now = SystemTime::now();
        let mut pending = Vec::new();
        let mut unsettled = false;
        for path in paths.filter_map(Result::ok) {
            let Some(name) = path.to_str() else { continue };
            if left_alone(&path) {
                continue;
            }
            let Ok(meta) = fs::metadata(&path) else { continue };
            if !meta.is_file() {
                continue;
            }
            let modified = meta.modified().unwrap_or(UNIX_EPOCH);
            let version = Version { size: meta.len(), mtime_ns: nanos(modified) };
            if self.position.done.get(name) == Some(&version) {
                continue;
            }
            if now.duration_since(modified).unwrap_or_default() < SETTLE {
                unsettled = true;
                continue;
            }
            pending.push((name.to_owned(), version));
        }
        pending.sort();
        self.unsettled = unsettled;
        // Taken from the end.
        pending.reverse();
        self.pending = pending;
        Ok(())
    }

    /// Opens the next file to load; false when there is none now.
    fn open_next(&mut self, rejected: &mut Vec<Rejected>) -> Result<bool, SourceError> {
        if self.pending.is_empty() && self.last_scan.is_none_or(|t| t.elapsed() >= RESCAN_EVERY) {
            self.scan()?;
        }
        // A file left half loaded goes first, when it has not changed since.
        let resume = self.position.current.take();
        let (path, version, skip) = match resume {
            Some(c) if self.pending.iter().any(|(p, v)| *p == c.path && *v == c.version) => {
                self.pending.retain(|(p, _)| *p != c.path);
                (c.path, c.version, c.records)
            }
            _ => match self.pending.pop() {
                Some((p, v)) => (p, v, 0),
                None => {
                    self.caught_up |= !self.unsettled;
                    return Ok(false);
                }
            },
        };
        let file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
            Err(e) => {
                rejected.push(Rejected { place: path.clone(), reason: format!("cannot be opened: {e}") });
                self.position.done.insert(path, version);
                return Ok(true);
            }
        };
        let bytes = Arc::new(AtomicU64::new(0));
        let counted = Counted { inner: file, bytes: Arc::clone(&bytes) };
        let mut records = format::records(Box::new(counted), &self.spec.format.for_name(&path));
        for _ in 0..skip {
            if records.next().is_none() {
                break;
            }
        }
        self.position.current = Some(Current { path: path.clone(), version, records: skip });
        // Bytes read to skip records taken before are not read anew.
        let bytes_counted = if skip == 0 { 0 } else { bytes.load(Ordering::Relaxed) };
        self.open = Some(OpenFile { path, version, records, bytes, bytes_counted });
        Ok(true)
    }

    fn position_text(&self) -> String {
        serde_json::to_string(&self.position).unwrap_or_default()
    }
}

impl Source for FileSource {
    fn next_batch(&mut self, limits: &BatchLimits) -> Result<Option<SourceBatch>, SourceError> {
        let deadline = Instant::now() + limits.wait;
        let mut batch = SourceBatch::default();
        loop {
            if self.open.is_none() && !self.open_next(&mut batch.rejected)? {
                if !batch.rejected.is_empty() {
                    batch.records = batch.rejected.len() as u64;
                    batch.position = self.position_text();
                    return Ok(Some(batch));
                }
                let now = Instant::now();
                if now >= deadline {
                    return Ok(None);
                }
                std::thread::sleep((deadline - now).min(RESCAN_EVERY));
                continue;
            }
            let Some(file) = self.open.as_mut() else { continue };
            let mut ended = false;
            let mut read = 0u64;
            while batch.writes.len() < limits.max_records
                && (file.bytes.load(Ordering::Relaxed) - file.bytes_counted) < limits.max_bytes as u64
            {
                match file.records.next() {
                    None => {
                        ended = true;
                        break;
                    }
                    Some(Ok(value)) => batch.writes.push(WriteOp::Insert(value)),
                    Some(Err(bad)) => {
                        batch.rejected.push(Rejected { place: format!("{} {}", file.path, bad.place), reason: bad.reason })
                    }
                }
                read += 1;
            }
            batch.records += read;
            let now_bytes = file.bytes.load(Ordering::Relaxed);
            batch.bytes += now_bytes - file.bytes_counted;
            file.bytes_counted = now_bytes;
            if let Some(c) = self.position.current.as_mut() {
                c.records += read;
            }
            if ended {
                let (path, version) = (file.path.clone(), file.version);
                self.open = None;
                self.position.current = None;
                self.position.done.insert(path, version);
            }
            batch.position = self.position_text();
            return Ok(Some(batch));
        }
    }

    fn phase(&self) -> Phase {
        if self.caught_up {
            Phase::Streaming
        } else {
            Phase::Snapshotting
        }
    }

    fn lag(&self) -> Lag {
        let now = nanos(SystemTime::now());
        let oldest = self.open.iter().map(|f| f.version.mtime_ns).chain(self.pending.iter().map(|(_, v)| v.mtime_ns)).min();
        Lag { records: None, millis: Some(oldest.map_or(0, |t| now.saturating_sub(t) / 1_000_000)) }
    }
}

/// Names of files still being written, by the usual conventions, and hidden files.
fn left_alone(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with('.') || name.ends_with(".tmp") || name.ends_with(".partial") || name.ends_with('~')
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// A reader that counts the bytes read through it.
struct Counted<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
