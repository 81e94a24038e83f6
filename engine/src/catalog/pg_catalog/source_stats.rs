//! `pg_stat_sources`: one row per source of every collection — what it reads, its state
//! (starting, snapshotting, streaming, paused, failed), records and bytes read, documents
//! written, records rejected, its lag where the source can tell, the last error and the last
//! rejected record with its place — read when a query is planned, like `pg_stat_ingest`.
//! The same figures are a collection's `sources[].status` over REST.

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use cairn_connectors::{Ingest, SourceInfo};
use datafusion::catalog::TableProvider;
use datafusion::common::Result as DFResult;
use datafusion::datasource::MemTable;

/// The table's name in `pg_catalog`.
pub(super) const PG_STAT_SOURCES: &str = "pg_stat_sources";

/// The table as the sources of `ingest` stand now.
pub(super) fn table(ingest: &Ingest) -> DFResult<Arc<dyn TableProvider>> {
    let rows = ingest.sources().list();
    let text = |f: fn(&SourceInfo) -> Option<String>| -> ArrayRef { Arc::new(rows.iter().map(f).collect::<StringArray>()) };
    let int = |f: fn(&SourceInfo) -> Option<u64>| -> ArrayRef {
        Arc::new(rows.iter().map(|r| f(r).map(|n| n.min(i64::MAX as u64) as i64)).collect::<Int64Array>())
    };
    let written_at = rows
        .iter()
        .map(|r| r.status.last_written_at.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_micros() as i64))
        .collect::<TimestampMicrosecondArray>()
        .with_timezone("UTC");
    let columns: Vec<ArrayRef> = vec![
        text(|r| Some(r.workspace.clone())),
        text(|r| Some(r.collection.clone())),
        text(|r| Some(r.def.id.clone())),
        text(|r| Some(r.def.spec.kind().to_owned())),
        text(|r| Some(r.def.spec.describe())),
        text(|r| Some(r.status.state.name().to_owned())),
        int(|r| Some(r.status.records_read)),
        int(|r| Some(r.status.bytes_read)),
        int(|r| Some(r.status.documents_written)),
        int(|r| Some(r.status.rejected)),
        int(|r| r.status.lag_records),
        int(|r| r.status.lag_millis),
        int(|r| Some(r.status.last_offset)),
        Arc::new(written_at),
        text(|r| r.status.last_error.clone()),
        text(|r| r.status.last_rejected.clone()),
    ];
    let field = |name: &str, t: DataType| Field::new(name, t, false);
    let nullable = |name: &str, t: DataType| Field::new(name, t, true);
    let schema = Arc::new(Schema::new(vec![
        field("workspace", DataType::Utf8),
        field("collection", DataType::Utf8),
        field("source_id", DataType::Utf8),
        field("kind", DataType::Utf8),
        field("reads", DataType::Utf8),
        field("state", DataType::Utf8),
        field("records_read", DataType::Int64),
        field("bytes_read", DataType::Int64),
        field("documents_written", DataType::Int64),
        field("rejected_records", DataType::Int64),
        nullable("lag_records", DataType::Int64),
        nullable("lag_ms", DataType::Int64),
        field("last_offset", DataType::Int64),
        nullable("last_written_at", DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))),
        nullable("last_error", DataType::Utf8),
        nullable("last_rejected", DataType::Utf8),
    ]));
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}
