//! # cairn-connectors
//!
//! Cairn's ingest side: the durable ingest log (embedded by default, Kafka when clustered),
//! sources (Kafka, Kinesis, DynamoDB Streams, MongoDB change streams, S3, files) and formats
//! (JSON, CSV, Parquet, Avro, XML), and the tailers that move records from sources into the
//! log and from the log onto the leaves that index them. Not yet built.
