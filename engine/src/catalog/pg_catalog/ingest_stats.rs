//! `pg_stat_ingest`: one row per collection with its write path's figures — the last offset
//! appended to its log and the last one applied, the lag in records and milliseconds, the
//! ingest rate, records refused or damaged, and the log's size — for every collection written
//! since the server started, read when a query is planned, as PostgreSQL's `pg_stat_*` views
//! show live figures. The same figures are a collection's `stats` over REST.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use cairn_connectors::{Ingest, PipelineStats};
use datafusion::catalog::TableProvider;
use datafusion::common::Result as DFResult;
use datafusion::datasource::MemTable;
use datafusion::sql::sqlparser::ast::ObjectName;

/// The table's name in `pg_catalog`.
pub(super) const PG_STAT_INGEST: &str = "pg_stat_ingest";

/// Whether `name` names one of the tables of live figures, `pg_stat_ingest` or
/// `pg_stat_sources`, qualified or not: they are read when planned, and reading them needs
/// the privilege to read data.
pub(crate) fn names_live_stats(name: &ObjectName) -> bool {
    name.0.last().and_then(|p| p.as_ident()).is_some_and(|i| {
        i.value.eq_ignore_ascii_case(PG_STAT_INGEST) || i.value.eq_ignore_ascii_case(super::source_stats::PG_STAT_SOURCES)
    })
}

/// The table as the pipelines of `ingest` stand now.
pub(super) fn table(ingest: &Ingest) -> DFResult<Arc<dyn TableProvider>> {
    let rows = ingest.running_stats();
    let int = |f: fn(&PipelineStats) -> u64| -> ArrayRef {
        Arc::new(rows.iter().map(|(_, _, s)| f(s).min(i64::MAX as u64) as i64).collect::<Int64Array>())
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|(ws, _, _)| Some(ws.as_str())).collect::<StringArray>()),
        Arc::new(rows.iter().map(|(_, name, _)| Some(name.as_str())).collect::<StringArray>()),
        int(|s| s.last_appended),
        int(|s| s.last_applied),
        int(|s| s.lag_records),
        int(|s| s.lag_millis),
        Arc::new(rows.iter().map(|(_, _, s)| s.ingest_rate).collect::<Float64Array>()),
        int(|s| s.rejected),
        int(|s| s.damaged),
        int(|s| s.log_bytes),
        Arc::new(rows.iter().map(|(_, _, s)| s.last_error.as_deref()).collect::<StringArray>()),
    ];
    let field = |name: &str, t: DataType| Field::new(name, t, false);
    let schema = Arc::new(Schema::new(vec![
        field("workspace", DataType::Utf8),
        field("collection", DataType::Utf8),
        field("last_offset_appended", DataType::Int64),
        field("last_offset_applied", DataType::Int64),
        field("lag_records", DataType::Int64),
        field("lag_ms", DataType::Int64),
        field("ingest_rate", DataType::Float64),
        field("rejected_records", DataType::Int64),
        field("damaged_records", DataType::Int64),
        field("log_size", DataType::Int64),
        Field::new("last_error", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}
