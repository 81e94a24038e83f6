//! The leaf indexer: a thread per collection that tails the collection's log and applies its
//! records to the shards in batches ([`Collection::apply_logged`] stores the offset with the
//! data). A record that cannot be decoded or applied is reported with its offset and skipped;
//! a failure of the write itself (a full disk) is retried until it succeeds, so nothing is
//! skipped for want of space. Every few seconds the shards' write-ahead logs are synced and
//! the log drops the segments below what they applied; every second, a collection with a
//! retention window drops the documents that left it; when the log is quiet, the collection
//! settles and compacts ([`super::upkeep`]).
//!
//! [`Collection::apply_logged`]: cairn_storage::Collection::apply_logged

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_storage::{document, record, ShardOp, StorageError};

use super::pipeline::{CollectionPipeline, FAILURES_KEPT};
use super::upkeep::Upkeep;
use crate::log::{LogEntry, LogReader};

/// How long an idle indexer waits for new records before it looks around.
const IDLE_WAIT: Duration = Duration::from_millis(200);
/// How long after a failed write or read the indexer tries again.
const RETRY_AFTER: Duration = Duration::from_millis(500);
/// Ingest-rate samples are this far apart, over this window.
const SAMPLE_EVERY: Duration = Duration::from_millis(500);
const RATE_WINDOW: Duration = Duration::from_secs(5);
/// How often documents past a collection's retention window are dropped.
const EXPIRE_EVERY: Duration = Duration::from_secs(1);

/// Runs the indexer of `p` until it is stopped or its collection is dropped.
pub(super) fn run(p: &Arc<CollectionPipeline>) {
    let mut reader: Option<Box<dyn LogReader>> = None;
    let mut last_truncate = Instant::now();
    let mut last_look = Instant::now();
    let mut truncated_to = 0;
    let mut last_expiry = Instant::now();
    let mut upkeep = Upkeep::new();
    while !p.stopping.load(Ordering::SeqCst) {
        if last_expiry.elapsed() >= EXPIRE_EVERY {
            last_expiry = Instant::now();
            if expire(p) {
                upkeep.expired();
            }
        }
        let applied = p.applied_offset();
        let r = match reader.as_mut() {
            Some(r) => r,
            None => match open_reader(p, applied) {
                Some(r) => reader.insert(r),
                None => {
                    std::thread::sleep(RETRY_AFTER);
                    continue;
                }
            },
        };
        let entries = match r.read(p.options.batch_bytes) {
            Ok(e) => e,
            Err(e) => {
                report(p, format!("reading the log after offset {applied}: {e}"), false);
                reader = None;
                std::thread::sleep(RETRY_AFTER);
                continue;
            }
        };
        if entries.is_empty() {
            if last_look.elapsed() >= Duration::from_secs(1) {
                last_look = Instant::now();
                if !still_current(p) {
                    break;
                }
            }
            if applied > truncated_to && last_truncate.elapsed() >= p.options.truncate_every {
                truncated_to = truncate(p, applied);
                last_truncate = Instant::now();
            }
            upkeep.idle(p);
            p.log.wait_beyond(applied, IDLE_WAIT);
            continue;
        }
        if !apply(p, &entries) {
            // The batch is read again from where the shards stand.
            reader = None;
            std::thread::sleep(RETRY_AFTER);
            continue;
        }
        upkeep.applied();
        if last_truncate.elapsed() >= p.options.truncate_every {
            truncated_to = truncate(p, p.applied_offset());
            last_truncate = Instant::now();
        }
    }
    upkeep.finish();
}

/// A reader after `applied`, or none (reported) when the log cannot be read.
fn open_reader(p: &CollectionPipeline, applied: u64) -> Option<Box<dyn LogReader>> {
    match p.log.reader(applied + 1) {
        Ok(r) => Some(r),
        Err(e) => {
            // The log lost records the collection never applied: go on from what it has.
            let start = p.log.first_offset();
            report(p, format!("the log cannot be read after offset {applied} ({e}); going on from offset {start}"), true);
            p.log.reader(start).ok()
        }
    }
}

/// Applies a batch of entries; false when the write failed and must be retried.
fn apply(p: &CollectionPipeline, entries: &[LogEntry]) -> bool {
    let Some(last) = entries.last().map(LogEntry::last_offset) else { return true };
    let mut records: Vec<(u64, ShardOp)> = Vec::with_capacity(entries.len());
    let mut problems = Vec::new();
    let mut bytes = 0u64;
    for entry in entries {
        match entry {
            LogEntry::Record { offset, payload } => {
                bytes += payload.len() as u64;
                match record::decode_any(payload) {
                    Ok(decoded) => {
                        if let Some((source, position)) = &decoded.source {
                            p.positions.appended(source, *offset, position);
                        }
                        records.extend(decoded.ops.into_iter().map(|op| (*offset, op)));
                    }
                    Err(e) => problems.push((format!("log record {offset} cannot be read: {e}"), true)),
                }
            }
            LogEntry::Damaged { offsets, reason } => {
                problems.push((format!("log records {}..={} are damaged: {reason}", offsets.start(), offsets.end()), true))
            }
        }
    }
    let mut failures = Vec::new();
    let failed = match p.collection.apply_logged(records, last) {
        Ok(failed) => failed,
        Err(e) => {
            report(p, format!("applying log records up to {last}: {e}"), false);
            return false;
        }
    };
    for (offset, e) in failed {
        let quiet = matches!(e, StorageError::NotFound { .. } | StorageError::Patch { .. } | StorageError::InvalidDocument(_));
        if !quiet {
            tracing::warn!(collection = %format!("{}.{}", p.ws, p.name), offset, error = %e, "a log record was not applied");
        }
        problems.push((format!("log record {offset} was not applied: {e}"), false));
        failures.push((offset, e.to_string()));
    }
    let Ok(mut progress) = p.progress.lock() else { return false };
    for (message, damaged) in problems {
        if damaged {
            tracing::error!(collection = %format!("{}.{}", p.ws, p.name), "{message}");
            progress.damaged += 1;
        } else {
            progress.rejected += 1;
        }
        progress.last_error = Some(message);
    }
    for failure in failures {
        if progress.failures.len() >= FAILURES_KEPT {
            progress.failures.pop_front();
        }
        progress.failures.push_back(failure);
    }
    progress.applied = last;
    progress.applied_bytes += bytes;
    while progress.appends.front().is_some_and(|(end, _)| *end <= last) {
        progress.appends.pop_front();
    }
    let now = Instant::now();
    if progress.samples.back().is_none_or(|(t, _)| now.duration_since(*t) >= SAMPLE_EVERY) {
        progress.samples.push_back((now, last));
        while progress.samples.front().is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW) {
            progress.samples.pop_front();
        }
    }
    drop(progress);
    p.progress_changed.notify_all();
    true
}

/// Records a problem in the pipeline's figures (and the server's log).
pub(super) fn report(p: &CollectionPipeline, message: String, damaged: bool) {
    tracing::error!(collection = %format!("{}.{}", p.ws, p.name), "{message}");
    if let Ok(mut progress) = p.progress.lock() {
        if damaged {
            progress.damaged += 1;
        }
        progress.last_error = Some(message);
    }
}

/// Syncs the shards' write-ahead logs, then lets the log drop what they applied; returns the
/// offset the log may now start after.
fn truncate(p: &CollectionPipeline, applied: u64) -> u64 {
    if let Err(e) = p.collection.sync_wal() {
        report(p, format!("syncing the shards before truncating the log: {e}"), false);
        return 0;
    }
    // The records about to go may hold the sources' latest positions.
    if let Err(e) = p.positions.persist() {
        report(p, format!("writing the sources' positions before truncating the log: {e}"), false);
        return 0;
    }
    if let Err(e) = p.log.truncate_below(applied + 1) {
        report(p, format!("truncating the log below offset {}: {e}", applied + 1), false);
        return 0;
    }
    applied
}

/// Drops the documents whose event time left the collection's retention window; true when
/// it dropped any.
fn expire(p: &CollectionPipeline) -> bool {
    if p.collection.config().retention_micros.is_none() {
        return false;
    }
    match p.collection.expire(document::now_micros()) {
        Ok(0) => false,
        Ok(n) => {
            tracing::debug!(collection = %format!("{}.{}", p.ws, p.name), expired = n, "retention");
            true
        }
        Err(e) => {
            report(p, format!("dropping expired documents: {e}"), false);
            false
        }
    }
}

/// False once the collection was dropped (or dropped and created again).
fn still_current(p: &CollectionPipeline) -> bool {
    p.store.collection(&p.ws, &p.name).is_ok_and(|c| Arc::ptr_eq(&c, &p.collection))
}
