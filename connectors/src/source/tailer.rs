//! The tailer: runs every source of every collection, one thread each, and keeps their
//! definitions in `<collection dir>/sources.json`.
//!
//! A source's thread opens it at the position its collection's log holds, appends each batch
//! ([`CollectionPipeline::write_batch`]) and updates its status. Any failure (opening,
//! reading, appending) is shown in the status, waited out with a growing backoff, and
//! followed by opening the source again from its last durable position, so a failure never
//! loses or repeats a write and never takes the server down.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use cairn_storage::{ObjectKind, StorageError};

use super::status::{SourceState, SourceStatus};
use super::{BatchLimits, Phase, SourceDef, SourceError, SourceSpec};
use crate::atomic_file::write_atomically;
use crate::{CollectionPipeline, Ingest, IngestError};

/// The file a collection's sources are defined in.
const DEFINITIONS: &str = "sources.json";
/// The first wait after a failure, and the longest.
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// A source as users see it: where it writes, what it reads, how it does.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    /// The collection's workspace.
    pub workspace: String,
    /// The collection.
    pub collection: String,
    /// The source's definition.
    pub def: SourceDef,
    /// Its status now.
    pub status: SourceStatus,
}

/// One source and its thread.
struct Running {
    workspace: String,
    collection: String,
    def: SourceDef,
    status: Arc<Mutex<SourceStatus>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Every source of the server.
pub struct Sources {
    ingest: Weak<Ingest>,
    running: Mutex<HashMap<String, Running>>,
    /// Held by each operation that starts or stops sources or changes their definitions, so
    /// that two of them (a resume retried, a drop racing an add) never leave two threads on
    /// one source or lose each other's change to a definitions file.
    control: Mutex<()>,
    /// Set at shutdown: nothing starts after it.
    closed: AtomicBool,
}

impl Sources {
    pub(crate) fn new(ingest: Weak<Ingest>) -> Sources {
        Sources { ingest, running: Mutex::default(), control: Mutex::default(), closed: AtomicBool::new(false) }
    }

    fn control(&self) -> Result<std::sync::MutexGuard<'_, ()>, SourceError> {
        self.control.lock().map_err(|_| SourceError::Ingest(IngestError::Storage(StorageError::Poisoned)))
    }

    fn ingest(&self) -> Result<Arc<Ingest>, SourceError> {
        self.ingest.upgrade().ok_or(SourceError::Ingest(IngestError::ShutDown))
    }

    fn definitions_path(&self, ws: &str, name: &str) -> Result<PathBuf, SourceError> {
        let ingest = self.ingest()?;
        let collection = ingest.store().collection(ws, name).map_err(IngestError::from)?;
        Ok(collection.dir().join(DEFINITIONS))
    }

    fn read_definitions(&self, ws: &str, name: &str) -> Result<Vec<SourceDef>, SourceError> {
        let path = self.definitions_path(ws, name)?;
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| SourceError::Io {
                context: format!("reading {}", path.display()),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(SourceError::Io { context: format!("reading {}", path.display()), source }),
        }
    }

    fn write_definitions(&self, ws: &str, name: &str, defs: &[SourceDef]) -> Result<(), SourceError> {
        let path = self.definitions_path(ws, name)?;
        let bytes = serde_json::to_vec_pretty(defs).map_err(|e| SourceError::Invalid(e.to_string()))?;
        write_atomically(&path, &bytes)
            .map_err(|source| SourceError::Io { context: format!("writing {}", path.display()), source })
    }

    /// Adds a source reading `spec` into collection `ws.name` and starts it; its id.
    pub fn add(&self, ws: &str, name: &str, spec: SourceSpec) -> Result<String, SourceError> {
        spec.check()?;
        spec.check_outside(self.ingest()?.store().root())?;
        let _control = self.control()?;
        let def = SourceDef { id: format!("src_{}", uuid::Uuid::new_v4().simple()), spec, paused: false };
        let mut defs = self.read_definitions(ws, name)?;
        defs.push(def.clone());
        self.write_definitions(ws, name, &defs)?;
        tracing::info!(source = %def.id, collection = %format!("{ws}.{name}"), reads = %def.spec.describe(), "source added");
        let id = def.id.clone();
        self.launch(ws, name, def, None)?;
        Ok(id)
    }

    /// Removes source `id` of collection `ws.name`: it stops, and its position is forgotten.
    pub fn remove(&self, ws: &str, name: &str, id: &str) -> Result<(), SourceError> {
        let _control = self.control()?;
        self.update(ws, name, id, |defs| defs.retain(|d| d.id != id))?;
        if let Some(mut r) = self.take(id) {
            r.halt();
        }
        let pipeline = self.ingest()?.collection(ws, name)?;
        pipeline.forget_source(id)?;
        Ok(())
    }

    /// Pauses source `id` (it stays paused across restarts) or resumes it where it stopped.
    pub fn set_paused(&self, ws: &str, name: &str, id: &str, paused: bool) -> Result<(), SourceError> {
        let _control = self.control()?;
        let mut def = None;
        self.update(ws, name, id, |defs| {
            for d in defs.iter_mut().filter(|d| d.id == id) {
                d.paused = paused;
                def = Some(d.clone());
            }
        })?;
        let previous = self.take(id).map(|mut r| {
            r.halt();
            r.status.lock().map(|s| s.clone()).ok()
        });
        match def {
            Some(def) => self.launch(ws, name, def, previous.flatten()),
            None => Err(not_found(id)),
        }
    }

    /// Changes the definitions of `ws.name`, which must hold source `id` (the caller holds
    /// `control`).
    fn update(&self, ws: &str, name: &str, id: &str, change: impl FnOnce(&mut Vec<SourceDef>)) -> Result<(), SourceError> {
        let mut defs = self.read_definitions(ws, name)?;
        if !defs.iter().any(|d| d.id == id) {
            return Err(not_found(id));
        }
        change(&mut defs);
        self.write_definitions(ws, name, &defs)
    }

    fn take(&self, id: &str) -> Option<Running> {
        self.running.lock().ok()?.remove(id)
    }

    /// Starts the sources defined for collection `ws.name` (at server start).
    pub(crate) fn start_collection(&self, ws: &str, name: &str) -> Result<(), SourceError> {
        let _control = self.control()?;
        for def in self.read_definitions(ws, name)? {
            self.launch(ws, name, def, None)?;
        }
        Ok(())
    }

    /// Stops the sources of collection `ws.name` (before it is dropped).
    pub(crate) fn stop_collection(&self, ws: &str, name: &str) {
        let _control = self.control.lock();
        let stopped: Vec<Running> = match self.running.lock() {
            Ok(mut running) => {
                let ids: Vec<String> =
                    running.iter().filter(|(_, r)| r.workspace == ws && r.collection == name).map(|(id, _)| id.clone()).collect();
                ids.iter().filter_map(|id| running.remove(id)).collect()
            }
            Err(_) => return,
        };
        halt_all(stopped);
    }

    /// Stops every source.
    pub(crate) fn shutdown(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let _control = self.control.lock();
        let stopped: Vec<Running> = match self.running.lock() {
            Ok(mut running) => running.drain().map(|(_, r)| r).collect(),
            Err(_) => return,
        };
        halt_all(stopped);
    }

    /// Every source with its status, by collection then id.
    pub fn list(&self) -> Vec<SourceInfo> {
        let Ok(running) = self.running.lock() else { return Vec::new() };
        let mut out: Vec<SourceInfo> = running
            .values()
            .map(|r| SourceInfo {
                workspace: r.workspace.clone(),
                collection: r.collection.clone(),
                def: r.def.clone(),
                status: r.status.lock().map(|s| s.clone()).unwrap_or_else(|_| SourceStatus::new(SourceState::Failed)),
            })
            .collect();
        out.sort_by(|a, b| (&a.workspace, &a.collection, &a.def.id).cmp(&(&b.workspace, &b.collection, &b.def.id)));
        out
    }

    /// Registers `def` and, unless it is paused, starts its thread; its figures go on from
    /// `previous` (a source paused or resumed).
    fn launch(&self, ws: &str, name: &str, def: SourceDef, previous: Option<SourceStatus>) -> Result<(), SourceError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(SourceError::Ingest(IngestError::ShutDown));
        }
        // The source's old thread (if any) ends before a new one starts.
        if let Some(mut old) = self.take(&def.id) {
            old.halt();
        }
        let state = if def.paused { SourceState::Paused } else { SourceState::Starting };
        let mut status = previous.unwrap_or_else(|| SourceStatus::new(state));
        status.state = state;
        let status = Arc::new(Mutex::new(status));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = if def.paused {
            None
        } else {
            let run = Run {
                ingest: self.ingest.clone(),
                ws: ws.to_owned(),
                name: name.to_owned(),
                id: def.id.clone(),
                spec: def.spec.clone(),
                status: Arc::clone(&status),
                stop: Arc::clone(&stop),
            };
            let thread = std::thread::Builder::new()
                .name(format!("source {}", def.id))
                .spawn(move || run.run())
                .map_err(|source| SourceError::Io { context: "starting a source thread".into(), source })?;
            Some(thread)
        };
        let running = Running { workspace: ws.to_owned(), collection: name.to_owned(), def, status, stop, thread };
        let mut all = self.running.lock().map_err(|_| IngestError::Storage(StorageError::Poisoned))?;
        all.insert(running.def.id.clone(), running);
        Ok(())
    }
}

/// Stops `sources`: all are told first, then each is waited for.
fn halt_all(sources: Vec<Running>) {
    for r in &sources {
        r.stop.store(true, Ordering::SeqCst);
    }
    for mut r in sources {
        r.halt();
    }
}

fn not_found(id: &str) -> SourceError {
    SourceError::Ingest(IngestError::Storage(StorageError::NotFound { kind: ObjectKind::Source, name: id.to_owned() }))
}

/// What a source's thread needs.
struct Run {
    ingest: Weak<Ingest>,
    ws: String,
    name: String,
    id: String,
    spec: SourceSpec,
    status: Arc<Mutex<SourceStatus>>,
    stop: Arc<AtomicBool>,
}

impl Run {
    fn run(self) {
        let mut backoff = BACKOFF_FIRST;
        while !self.stopped() {
            match self.follow() {
                Ok(()) => return,
                Err(SourceError::Ingest(IngestError::ShutDown)) => return,
                Err(e) => {
                    let message = e.to_string();
                    tracing::warn!(source = %self.id, collection = %format!("{}.{}", self.ws, self.name), error = %message, retry_in = ?backoff, "source failed");
                    self.set(|s| {
                        s.state = SourceState::Failed;
                        s.last_error = Some(message);
                    });
                    self.sleep(backoff);
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn sleep(&self, d: Duration) {
        let until = Instant::now() + d;
        while !self.stopped() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
        }
    }

    fn set(&self, f: impl FnOnce(&mut SourceStatus)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }

    fn pipeline(&self) -> Result<Arc<CollectionPipeline>, SourceError> {
        let ingest = self.ingest.upgrade().ok_or(SourceError::Ingest(IngestError::ShutDown))?;
        Ok(ingest.collection(&self.ws, &self.name)?)
    }

    /// Opens the source at its durable position and appends its batches until stopped (Ok)
    /// or until something fails.
    fn follow(&self) -> Result<(), SourceError> {
        let pipeline = match self.pipeline() {
            // The collection was dropped: the source ends with it.
            Err(SourceError::Ingest(IngestError::Storage(StorageError::NotFound { .. }))) => return Ok(()),
            other => other?,
        };
        let mut source = self.spec.open(pipeline.source_position(&self.id).as_deref())?;
        let limits = BatchLimits::default();
        let mut healthy = false;
        while !self.stopped() {
            let batch = source.next_batch(&limits)?;
            let phase = source.phase();
            let lag = source.lag();
            let Some(batch) = batch else {
                self.set(|s| {
                    s.state = state_of(phase);
                    (s.lag_records, s.lag_millis) = (lag.records, lag.millis);
                    if healthy {
                        s.last_error = None;
                    }
                });
                healthy = true;
                continue;
            };
            let written = pipeline.write_batch(&self.id, &batch.position, batch.writes)?;
            let refused: Vec<String> = written.outcomes.iter().filter_map(|o| o.as_ref().err().map(|e| e.to_string())).collect();
            let documents = (written.outcomes.len() - refused.len()) as u64;
            let last_rejected = batch
                .rejected
                .last()
                .map(|r| format!("{}: {}", r.place, r.reason))
                .or_else(|| refused.last().map(|e| format!("a document was refused: {e}")));
            self.set(|s| {
                s.state = state_of(phase);
                s.records_read += batch.records;
                s.bytes_read += batch.bytes;
                s.documents_written += documents;
                s.rejected += batch.rejected.len() as u64 + refused.len() as u64;
                (s.lag_records, s.lag_millis) = (lag.records, lag.millis);
                if last_rejected.is_some() {
                    s.last_rejected = last_rejected;
                }
                s.last_written_at = Some(SystemTime::now());
                s.last_offset = written.last_offset;
                s.last_error = None;
            });
            healthy = true;
        }
        Ok(())
    }
}

fn state_of(phase: Phase) -> SourceState {
    match phase {
        Phase::Snapshotting => SourceState::Snapshotting,
        Phase::Streaming => SourceState::Streaming,
    }
}
