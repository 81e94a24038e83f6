//! The write path of a store: one [`CollectionPipeline`] per collection, each with its own
//! durable log (`<collection dir>/log/`) and a leaf indexer thread that tails it.
//!
//! A write is checked and normalized by the collection ([`Collection::prepare`]), appended
//! to the log as one record per document, and acknowledged with its last offset once the
//! records are durable. The indexer applies records in batches, storing the offset it
//! applied in the same RocksDB write batch as the data, so a crash at any point neither
//! loses a record nor applies one twice; on start it resumes after the stored offset.
//!
//! [`Collection::prepare`]: cairn_storage::Collection::prepare

mod disk;
mod error;
mod indexer;
mod pipeline;
mod positions;
mod upkeep;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cairn_storage::{StorageError, Store};

pub use error::IngestError;
pub use pipeline::{Accepted, CollectionPipeline, PipelineStats, Written};

use crate::log::FileLogOptions;
use crate::source::Sources;

/// Settings of the write path.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// The embedded log's settings.
    pub log: FileLogOptions,
    /// Records appended but not yet applied above which writers wait (back-pressure).
    pub max_lag_records: u64,
    /// Bytes appended but not yet applied above which writers wait.
    pub max_lag_bytes: u64,
    /// How long a writer waits for the indexer to catch up before it is refused.
    pub backpressure_wait: Duration,
    /// Bytes of records the indexer applies as one batch at most.
    pub batch_bytes: usize,
    /// How often the indexer lets the log drop what the shards have made durable.
    pub truncate_every: Duration,
    /// Free disk space below which writes are refused (at most a fifth of the disk), kept
    /// for indexing what the log already took.
    pub min_free_disk: u64,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            log: FileLogOptions::default(),
            max_lag_records: 2_000_000,
            max_lag_bytes: 512 << 20,
            backpressure_wait: Duration::from_secs(10),
            batch_bytes: 8 << 20,
            truncate_every: Duration::from_secs(2),
            min_free_disk: 1 << 30,
        }
    }
}

/// The write path of every collection of a store.
pub struct Ingest {
    store: Arc<Store>,
    options: IngestOptions,
    pipelines: Mutex<Pipelines>,
    /// Taken by the one collection compacting at a time.
    compaction_slot: Arc<AtomicBool>,
    /// Every collection's sources.
    sources: Sources,
}

/// The running pipelines, by workspace and collection; none start once shut down.
#[derive(Default)]
struct Pipelines {
    running: HashMap<(String, String), Arc<CollectionPipeline>>,
    shut_down: bool,
}

impl Ingest {
    /// The write path over `store`. Every existing collection's indexer starts at once and
    /// applies what its log holds beyond what the collection applied before; then its
    /// sources start, each where its log says it stopped.
    pub fn open(store: Arc<Store>, options: IngestOptions) -> Result<Arc<Ingest>, IngestError> {
        let ingest = Arc::new_cyclic(|me| Ingest {
            store,
            options,
            pipelines: Mutex::default(),
            compaction_slot: Arc::default(),
            sources: Sources::new(me.clone()),
        });
        let mut collections = Vec::new();
        for ws in ingest.store.workspaces()? {
            for name in ingest.store.collections(&ws)? {
                ingest.collection(&ws, &name)?;
                collections.push((ws.clone(), name));
            }
        }
        for (ws, name) in collections {
            if let Err(e) = ingest.sources.start_collection(&ws, &name) {
                tracing::error!(collection = %format!("{ws}.{name}"), error = %e, "the collection's sources cannot start");
            }
        }
        Ok(ingest)
    }

    /// Every collection's sources.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// The store written to.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The pipeline of collection `ws.name`, started on first use (and started anew for a
    /// collection that was dropped and created again).
    pub fn collection(&self, ws: &str, name: &str) -> Result<Arc<CollectionPipeline>, IngestError> {
        let collection = self.store.collection(ws, name)?;
        let mut pipelines = self.pipelines.lock().map_err(|_| StorageError::Poisoned)?;
        if pipelines.shut_down {
            return Err(IngestError::ShutDown);
        }
        let key = (ws.to_owned(), name.to_owned());
        if let Some(p) = pipelines.running.get(&key) {
            if Arc::ptr_eq(p.collection(), &collection) {
                return Ok(Arc::clone(p));
            }
            p.close();
        }
        let pipeline =
            CollectionPipeline::start(Arc::clone(&self.store), ws, name, collection, &self.options, &self.compaction_slot)?;
        pipelines.running.insert(key, Arc::clone(&pipeline));
        Ok(pipeline)
    }

    /// The figures of every running pipeline of a collection that still exists, by workspace
    /// and collection name (a collection not written since the server started has none).
    /// Starts nothing.
    pub fn running_stats(&self) -> Vec<(String, String, PipelineStats)> {
        let running: Vec<_> = match self.pipelines.lock() {
            Ok(p) => p.running.iter().map(|((ws, name), p)| (ws.clone(), name.clone(), Arc::clone(p))).collect(),
            Err(_) => return Vec::new(),
        };
        let mut out: Vec<_> = running
            .into_iter()
            .filter(|(ws, name, p)| self.store.collection(ws, name).is_ok_and(|c| Arc::ptr_eq(&c, p.collection())))
            .map(|(ws, name, p)| (ws, name, p.stats()))
            .collect();
        out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        out
    }

    /// Closes the pipeline of `ws.name` before the collection is dropped: its indexer stops
    /// and its log refuses appends, so nothing touches the directory once it is gone.
    pub fn close(&self, ws: &str, name: &str) {
        self.sources.stop_collection(ws, name);
        let closed = self.pipelines.lock().ok().and_then(|mut p| p.running.remove(&(ws.to_owned(), name.to_owned())));
        if let Some(p) = closed {
            p.close();
            p.join();
        }
    }

    /// Closes the pipelines of every collection of workspace `ws` (before it is dropped).
    pub fn close_workspace(&self, ws: &str) {
        let names: Vec<String> = match self.pipelines.lock() {
            Ok(p) => p.running.keys().filter(|(w, _)| w == ws).map(|(_, n)| n.clone()).collect(),
            Err(_) => return,
        };
        for name in names {
            self.close(ws, &name);
        }
    }

    /// Stops every indexer and waits for them (what was appended stays in the logs, to be
    /// applied at the next start); no pipeline starts after it.
    pub fn shutdown(&self) {
        self.sources.shutdown();
        let pipelines: Vec<_> = match self.pipelines.lock() {
            Ok(mut p) => {
                p.shut_down = true;
                p.running.drain().map(|(_, v)| v).collect()
            }
            Err(_) => return,
        };
        for p in &pipelines {
            p.stop();
        }
        for p in pipelines {
            p.join();
        }
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests;
