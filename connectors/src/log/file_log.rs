//! The embedded log: a directory of segment files named by the offset of their first record
//! (`00000000000000000001.log`), each a run of [`frame`]s. Appends go to the last segment
//! until it passes its size, then a new one starts; truncation deletes whole segments.
//!
//! Group commit: an appender queues its records, and whichever appender finds no write in
//! progress becomes the leader: it takes every queued record, writes them with one `write`
//! and one `fdatasync`, and hands each appender its offsets. Appenders that arrive while a
//! leader is syncing wait and are written together by the next leader.
//!
//! On open, the last segment is scanned: a torn tail (a partial frame, garbage or zeros left
//! by a crash during a write) is cut off, so it is never read as records.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::ops::RangeInclusive;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::frame::{self, Frame};
use super::{Log, LogEntry, LogError, LogReader, LogResult};

/// Settings of a [`FileLog`].
#[derive(Debug, Clone)]
pub struct FileLogOptions {
    /// A segment at least this large is closed and a new one started.
    pub segment_bytes: u64,
    /// The largest record payload the log takes.
    pub max_record_bytes: usize,
}

impl Default for FileLogOptions {
    fn default() -> Self {
        FileLogOptions { segment_bytes: 32 << 20, max_record_bytes: 64 << 20 }
    }
}

/// A durable log in a directory of segment files.
pub struct FileLog {
    shared: Arc<Shared>,
}

struct Shared {
    dir: PathBuf,
    options: FileLogOptions,
    queue: Mutex<Queue>,
    queue_changed: Condvar,
    writer: Mutex<Writer>,
    /// Base offsets of the segments, ascending; the last one is being appended to.
    segments: RwLock<Vec<u64>>,
    /// The last durable offset.
    durable: AtomicU64,
    durable_lock: Mutex<()>,
    durable_changed: Condvar,
}

/// Appends waiting for a leader, and the outcomes of written ones.
#[derive(Default)]
struct Queue {
    next_ticket: u64,
    waiting: Vec<(u64, Vec<Vec<u8>>)>,
    done: HashMap<u64, LogResult<RangeInclusive<u64>>>,
    leading: bool,
}

/// The segment being appended to.
struct Writer {
    file: File,
    len: u64,
    next: u64,
    /// Why the log takes no more appends (a failed fsync leaves the file's state unknown;
    /// a closed log's collection was dropped); None while it takes them.
    refused: Option<String>,
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> LogError {
    let context = context.into();
    move |source| LogError::Io { context, source }
}

fn segment_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}.log"))
}

/// The same error again, for each appender of a failed batch.
fn replicate(e: &LogError) -> LogError {
    match e {
        LogError::Io { context, source } => {
            LogError::Io { context: context.clone(), source: std::io::Error::new(source.kind(), source.to_string()) }
        }
        LogError::TooLarge { size, limit } => LogError::TooLarge { size: *size, limit: *limit },
        LogError::Truncated { offset, start } => LogError::Truncated { offset: *offset, start: *start },
        LogError::Refused(why) => LogError::Refused(why.clone()),
        LogError::Poisoned => LogError::Poisoned,
    }
}

fn sync_dir(dir: &Path) -> LogResult<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(format!("syncing directory {}", dir.display())))
}

impl FileLog {
    /// Opens (creating if needed) the log in `dir`. `applied` is the last offset its
    /// consumers have applied: a log that ends below it (lost, or never written) continues
    /// after it, so offsets are never handed out twice.
    pub fn open(dir: &Path, options: FileLogOptions, applied: u64) -> LogResult<FileLog> {
        fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        let mut bases = Vec::new();
        for entry in fs::read_dir(dir).map_err(io(format!("listing {}", dir.display())))? {
            let entry = entry.map_err(io(format!("listing {}", dir.display())))?;
            let name = entry.file_name();
            let Some(base) = name.to_str().and_then(|n| n.strip_suffix(".log")).and_then(|n| n.parse::<u64>().ok()) else {
                continue;
            };
            bases.push(base);
        }
        bases.sort_unstable();
        let (writer, last) = match bases.last() {
            Some(&base) => recover(&segment_path(dir, base), base, &options)?,
            None => {
                bases.push(applied + 1);
                (create_segment(dir, applied + 1)?, applied)
            }
        };
        let mut log = FileLog {
            shared: Arc::new(Shared {
                dir: dir.to_owned(),
                options,
                queue: Mutex::default(),
                queue_changed: Condvar::new(),
                writer: Mutex::new(writer),
                segments: RwLock::new(bases),
                durable: AtomicU64::new(last),
                durable_lock: Mutex::new(()),
                durable_changed: Condvar::new(),
            }),
        };
        if last < applied {
            tracing::warn!(log = %dir.display(), last, applied, "the log ends before what was applied; continuing after it");
            log.restart_at(applied + 1)?;
        }
        Ok(log)
    }

    /// Starts a new segment at `next`, for a log whose records below it are gone.
    fn restart_at(&mut self, next: u64) -> LogResult<()> {
        let s = &self.shared;
        let mut w = s.writer.lock().map_err(|_| LogError::Poisoned)?;
        *w = create_segment(&s.dir, next)?;
        s.segments.write().map_err(|_| LogError::Poisoned)?.push(next);
        s.durable.store(next - 1, Ordering::SeqCst);
        Ok(())
    }
}

/// Creates an empty segment starting at `base` and makes its name durable.
fn create_segment(dir: &Path, base: u64) -> LogResult<Writer> {
    let path = segment_path(dir, base);
    // An empty file of this name is left by an attempt whose directory sync failed.
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(&path)
        .map_err(io(format!("creating {}", path.display())))?;
    let len = file.metadata().map_err(io(format!("reading the size of {}", path.display())))?.len();
    if len != 0 {
        let found = std::io::Error::new(std::io::ErrorKind::AlreadyExists, format!("it already holds {len} bytes"));
        return Err(io(format!("creating segment {}", path.display()))(found));
    }
    sync_dir(dir)?;
    Ok(Writer { file, len: 0, next: base, refused: None })
}

/// Scans the last segment: keeps every intact record (skipping over damage that intact
/// records follow), cuts whatever follows the last one, and returns the writer positioned
/// after it with the last offset.
fn recover(path: &Path, base: u64, options: &FileLogOptions) -> LogResult<(Writer, u64)> {
    let bytes = fs::read(path).map_err(io(format!("reading {}", path.display())))?;
    let (mut pos, mut next) = (0usize, base);
    loop {
        match frame::parse(&bytes[pos..], options.max_record_bytes) {
            Frame::Record { offset, size, .. } if offset == next => {
                pos += size;
                next += 1;
            }
            _ => match frame::resync(&bytes[pos..], next.saturating_sub(1), options.max_record_bytes) {
                Some(at) => {
                    tracing::error!(segment = %path.display(), at = pos, "damaged records in the log; reading on after them");
                    pos += at;
                    if let Frame::Record { offset, .. } = frame::parse(&bytes[pos..], options.max_record_bytes) {
                        next = offset;
                    }
                }
                None => break,
            },
        }
    }
    let file = OpenOptions::new().append(true).read(true).open(path).map_err(io(format!("opening {}", path.display())))?;
    if pos < bytes.len() {
        tracing::warn!(segment = %path.display(), kept = pos, cut = bytes.len() - pos, "cutting a torn tail off the log");
        file.set_len(pos as u64).map_err(io(format!("cutting the torn tail of {}", path.display())))?;
        file.sync_all().map_err(io(format!("syncing {}", path.display())))?;
    }
    Ok((Writer { file, len: pos as u64, next, refused: None }, next - 1))
}

impl Shared {
    /// Writes every queued append as one write and one fsync (the leader's work).
    fn write_batch(&self, batch: Vec<(u64, Vec<Vec<u8>>)>) -> Vec<(u64, LogResult<RangeInclusive<u64>>)> {
        let mut w = match self.writer.lock() {
            Ok(w) => w,
            Err(_) => return batch.into_iter().map(|(t, _)| (t, Err(LogError::Poisoned))).collect(),
        };
        match self.write_locked(&mut w, &batch) {
            Ok(ranges) => batch.iter().map(|(t, _)| *t).zip(ranges.into_iter().map(Ok)).collect(),
            Err(e) => batch.iter().map(|(t, _)| (*t, Err(replicate(&e)))).collect(),
        }
    }

    fn write_locked(&self, w: &mut Writer, batch: &[(u64, Vec<Vec<u8>>)]) -> LogResult<Vec<RangeInclusive<u64>>> {
        if let Some(why) = &w.refused {
            return Err(LogError::Refused(why.clone()));
        }
        if w.len >= self.options.segment_bytes {
            self.roll(w)?;
        }
        let size: usize = batch.iter().flat_map(|(_, p)| p.iter()).map(|p| p.len() + frame::HEADER).sum();
        let mut buf = Vec::with_capacity(size);
        let mut next = w.next;
        let mut ranges = Vec::with_capacity(batch.len());
        for (_, payloads) in batch {
            let first = next;
            for p in payloads {
                frame::encode(next, p, &mut buf);
                next += 1;
            }
            ranges.push(first..=next - 1);
        }
        // Nothing of a failed batch may stay behind: a later batch reuses its offsets.
        if let Err(e) = w.file.write_all(&buf) {
            // A write that failed (a full disk, say) is undone; the next batch tries again.
            if let Err(undo) = w.file.set_len(w.len) {
                w.refused = Some(format!("a failed append could not be undone ({undo}); restart to recover the log"));
            }
            return Err(io("appending")(e));
        }
        if let Err(e) = w.file.sync_data() {
            // After a failed fsync what reached the disk is unknown: no more appends until
            // the log is opened again and recovers from what is there.
            let _ = w.file.set_len(w.len);
            w.refused = Some(format!("an fsync failed ({e}); restart to recover the log"));
            return Err(io("syncing")(e));
        }
        w.len += buf.len() as u64;
        w.next = next;
        let _guard = self.durable_lock.lock();
        self.durable.store(next - 1, Ordering::SeqCst);
        self.durable_changed.notify_all();
        Ok(ranges)
    }

    /// Closes the active segment (it is already durable) and starts the next.
    fn roll(&self, w: &mut Writer) -> LogResult<()> {
        *w = create_segment(&self.dir, w.next)?;
        self.segments.write().map_err(|_| LogError::Poisoned)?.push(w.next);
        Ok(())
    }
}

impl Log for FileLog {
    fn append(&self, payloads: Vec<Vec<u8>>) -> LogResult<RangeInclusive<u64>> {
        let s = &self.shared;
        if let Some(p) = payloads.iter().find(|p| p.len() > s.options.max_record_bytes) {
            return Err(LogError::TooLarge { size: p.len(), limit: s.options.max_record_bytes });
        }
        if payloads.is_empty() {
            let last = self.last_offset();
            return Ok(last + 1..=last);
        }
        let mut q = s.queue.lock().map_err(|_| LogError::Poisoned)?;
        let ticket = q.next_ticket;
        q.next_ticket += 1;
        q.waiting.push((ticket, payloads));
        loop {
            if let Some(result) = q.done.remove(&ticket) {
                return result;
            }
            if !q.leading {
                q.leading = true;
                let batch = std::mem::take(&mut q.waiting);
                drop(q);
                let tickets: Vec<u64> = batch.iter().map(|(t, _)| *t).collect();
                // A leader that panicked must still hand its appenders an answer and give up
                // leading, or they would wait forever; the writer's lock is poisoned then, so
                // the log refuses appends until it is opened again.
                let results = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.write_batch(batch)))
                    .unwrap_or_else(|_| tickets.into_iter().map(|t| (t, Err(LogError::Poisoned))).collect());
                q = s.queue.lock().map_err(|_| LogError::Poisoned)?;
                q.done.extend(results);
                q.leading = false;
                s.queue_changed.notify_all();
                continue;
            }
            q = s.queue_changed.wait(q).map_err(|_| LogError::Poisoned)?;
        }
    }

    fn last_offset(&self) -> u64 {
        self.shared.durable.load(Ordering::SeqCst)
    }

    fn first_offset(&self) -> u64 {
        self.shared.segments.read().ok().and_then(|s| s.first().copied()).unwrap_or(1)
    }

    fn wait_beyond(&self, offset: u64, timeout: Duration) -> u64 {
        let s = &self.shared;
        let deadline = Instant::now() + timeout;
        let Ok(mut guard) = s.durable_lock.lock() else { return self.last_offset() };
        loop {
            let last = self.last_offset();
            let now = Instant::now();
            if last > offset || now >= deadline {
                return last;
            }
            match s.durable_changed.wait_timeout(guard, deadline - now) {
                Ok((g, _)) => guard = g,
                Err(_) => return self.last_offset(),
            }
        }
    }

    fn reader(&self, from: u64) -> LogResult<Box<dyn LogReader>> {
        let start = self.first_offset();
        if from < start {
            return Err(LogError::Truncated { offset: from, start });
        }
        Ok(Box::new(FileLogReader { shared: Arc::clone(&self.shared), next: from, segment: None }))
    }

    fn truncate_below(&self, offset: u64) -> LogResult<()> {
        let s = &self.shared;
        let doomed: Vec<u64> = {
            let mut segments = s.segments.write().map_err(|_| LogError::Poisoned)?;
            // A segment goes when the next one starts at or below `offset`; the last stays.
            let keep_from = segments.windows(2).take_while(|w| w[1] <= offset).count();
            segments.drain(..keep_from).collect()
        };
        for base in doomed {
            let path = segment_path(&s.dir, base);
            fs::remove_file(&path).map_err(io(format!("deleting {}", path.display())))?;
        }
        Ok(())
    }

    fn close(&self) {
        if let Ok(mut w) = self.shared.writer.lock() {
            w.refused = Some("its collection was dropped".into());
        }
    }

    fn size_bytes(&self) -> u64 {
        let bases = self.shared.segments.read().map(|s| s.clone()).unwrap_or_default();
        bases.iter().filter_map(|b| fs::metadata(segment_path(&self.shared.dir, *b)).ok()).map(|m| m.len()).sum()
    }
}

/// A reader's open segment.
struct OpenSegment {
    base: u64,
    file: File,
    pos: u64,
}

/// Reads a [`FileLog`] in order; sees only durable records.
struct FileLogReader {
    shared: Arc<Shared>,
    next: u64,
    segment: Option<OpenSegment>,
}

/// How much a reader reads from a segment at a time.
const READ_CHUNK: usize = 1 << 20;

impl FileLogReader {
    /// The base of the segment holding `offset` and of the one after it, if any.
    fn segment_for(&self, offset: u64) -> LogResult<(u64, Option<u64>)> {
        let segments = self.shared.segments.read().map_err(|_| LogError::Poisoned)?;
        let i = segments.partition_point(|&b| b <= offset);
        if i == 0 {
            let start = segments.first().copied().unwrap_or(1);
            return Err(LogError::Truncated { offset, start });
        }
        Ok((segments[i - 1], segments.get(i).copied()))
    }

    /// Skips to `to` past damage (or a segment's missing end), reporting the offsets lost.
    fn skip(&mut self, to: u64, reason: String, out: &mut Vec<LogEntry>) {
        if to > self.next {
            out.push(LogEntry::Damaged { offsets: self.next..=to - 1, reason });
            self.next = to;
        }
    }
}

impl LogReader for FileLogReader {
    fn read(&mut self, max_bytes: usize) -> LogResult<Vec<LogEntry>> {
        let max_payload = self.shared.options.max_record_bytes;
        let last = self.shared.durable.load(Ordering::SeqCst);
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let mut want = READ_CHUNK;
        while self.next <= last && (out.is_empty() || bytes < max_bytes) {
            let (base, following) = self.segment_for(self.next)?;
            if self.segment.as_ref().is_none_or(|s| s.base != base) {
                let path = segment_path(&self.shared.dir, base);
                let file = File::open(&path).map_err(io(format!("opening {}", path.display())))?;
                self.segment = Some(OpenSegment { base, file, pos: 0 });
            }
            let Some(seg) = self.segment.as_mut() else { break };
            let file_len = seg.file.metadata().map_err(io("reading a segment's size"))?.len();
            let avail = file_len.saturating_sub(seg.pos) as usize;
            // Where reading goes on when this segment has nothing more to give.
            let end_of_segment = following.unwrap_or(last + 1);
            if avail == 0 {
                let at = seg.pos;
                self.skip(end_of_segment, format!("records missing after byte {at} of segment {base}"), &mut out);
                if following.is_none() {
                    break;
                }
                continue;
            }
            let mut buf = vec![0u8; want.min(avail)];
            seg.file.read_exact_at(&mut buf, seg.pos).map_err(io(format!("reading segment {base}")))?;
            let whole_rest = buf.len() == avail;
            let mut at = 0usize;
            let mut damaged = false;
            want = READ_CHUNK;
            while self.next <= last && (out.is_empty() || bytes < max_bytes) {
                match frame::parse(&buf[at..], max_payload) {
                    // Beyond what is durable (after a gap): not to be read yet.
                    Frame::Record { offset, .. } if offset > last => break,
                    Frame::Record { offset, payload, size } => {
                        at += size;
                        if offset < self.next {
                            continue;
                        }
                        if offset > self.next {
                            out.push(LogEntry::Damaged {
                                offsets: self.next..=offset - 1,
                                reason: format!("records missing before offset {offset}"),
                            });
                        }
                        bytes += payload.len();
                        out.push(LogEntry::Record { offset, payload: payload.to_vec() });
                        self.next = offset + 1;
                    }
                    Frame::Incomplete { needs } if !whole_rest => {
                        want = needs.max(READ_CHUNK);
                        break;
                    }
                    Frame::Invalid if !whole_rest => {
                        // Read the rest of the segment to look for where intact records resume.
                        want = avail;
                        break;
                    }
                    Frame::Incomplete { .. } if at == buf.len() => break,
                    _ => {
                        damaged = true;
                        break;
                    }
                }
            }
            let Some(seg) = self.segment.as_mut() else { break };
            seg.pos += at as u64;
            if damaged {
                let from = seg.pos;
                match frame::resync(&buf[at..], self.next - 1, max_payload) {
                    Some(skip) => seg.pos += skip as u64,
                    None => {
                        seg.pos = file_len;
                        self.skip(end_of_segment, format!("damaged records at byte {from} of segment {base}"), &mut out);
                    }
                }
            }
        }
        Ok(out)
    }

    fn position(&self) -> u64 {
        self.next
    }
}
