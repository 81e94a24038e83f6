//! # cairn-connectors
//!
//! Cairn's ingest side. Every write reaches a collection through its durable [`log`] first;
//! the [`ingest`] pipeline appends writes to it (with back-pressure), runs the leaf indexer
//! that tails it and applies records to the collection's shards, and lets readers wait until
//! given offsets are applied. Sources (Kafka, Kinesis, DynamoDB Streams, MongoDB change
//! streams, S3, files) and their formats come next, appending to the same log.

pub mod ingest;
pub mod log;

pub use ingest::{Accepted, CollectionPipeline, Ingest, IngestError, IngestOptions, PipelineStats, Written};
pub use log::{FileLog, FileLogOptions, Log, LogEntry, LogError, LogReader};
