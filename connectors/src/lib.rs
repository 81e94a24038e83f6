//! # cairn-connectors
//!
//! Cairn's ingest side. Every write reaches a collection through its durable [`log`] first;
//! the [`ingest`] pipeline appends writes to it (with back-pressure), runs the leaf indexer
//! that tails it and applies records to the collection's shards, and lets readers wait until
//! given offsets are applied. [`source`]s read upstream systems (files today; Kafka, Kinesis,
//! DynamoDB Streams, MongoDB change streams and S3 next) in the [`format`]s they hold, and
//! append to the same log, each batch with the source's position.

mod atomic_file;
pub mod format;
pub mod ingest;
pub mod log;
pub mod source;

pub use ingest::{Accepted, CollectionPipeline, Ingest, IngestError, IngestOptions, PipelineStats, Written};
pub use log::{FileLog, FileLogOptions, Log, LogEntry, LogError, LogReader};
pub use source::{SourceDef, SourceError, SourceInfo, SourceSpec, SourceState, SourceStatus, Sources};
