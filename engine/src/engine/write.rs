//! SQL writes: `INSERT` makes a document of each row its query produces; `UPDATE` and `DELETE`
//! run their selecting query, then patch or delete each document it found. Every document is
//! appended to the collection's log as its own record (there are no multi-document
//! transactions); a statement returns once its records are durable and applied, as a
//! PostgreSQL user expects of a committed statement, and reports how many were written, or
//! how many were not.

use std::sync::Arc;
use std::time::Duration;

use arrow_array::{Array, RecordBatch, StringArray};
use cairn_connectors::CollectionPipeline;
use cairn_storage::{PatchOp, Value, WriteOp};
use datafusion::error::DataFusionError;

use super::query::Call;
use super::statement::{InsertPlan, ModifyPlan};
use super::Engine;
use crate::error::{EngineError, Result};
use crate::output::Output;
use crate::types::collection_schema::columns;
use crate::types::convert::{cell_value, rows_to_documents};

impl Engine {
    /// `INSERT INTO coll [(fields)] VALUES … | SELECT …`: each result row becomes a document
    /// whose fields are named by the column list, else by the query's output columns (for
    /// VALUES without a list: the collection's columns in order).
    pub(super) async fn insert(&self, call: Call<'_>, insert: &InsertPlan) -> Result<Output> {
        let pipeline = self.table_pipeline(call.session, &insert.target)?;
        let collection = pipeline.collection();
        let df = self.dataframe(Call { hint: None, ..call }, &insert.query).await?;
        let produced: Vec<String> = df.schema().fields().iter().map(|f| f.name().clone()).collect();
        let names: Vec<String> = if !insert.fields.is_empty() {
            insert.fields.clone()
        } else if insert.values {
            columns(&collection.stats()).into_iter().take(produced.len()).map(|c| c.name).collect()
        } else {
            produced.clone()
        };
        if names.len() != produced.len() {
            return Err(EngineError::Invalid(format!(
                "INSERT names {} fields but its rows have {} values",
                names.len(),
                produced.len()
            )));
        }
        let batches = df.collect().await?;
        let mut docs = Vec::new();
        for b in &batches {
            docs.extend(rows_to_documents(b, &names)?);
        }
        write_all(pipeline, docs.into_iter().map(WriteOp::Insert).collect(), "INSERT").await
    }

    /// Runs an UPDATE or DELETE: its query selects the documents, then each is patched or
    /// deleted on its own.
    pub(super) async fn modify(&self, call: Call<'_>, modify: &ModifyPlan) -> Result<Output> {
        let table = &modify.plan.table;
        let pipeline = self.table_pipeline(call.session, table)?;
        let batches = self.dataframe(Call { hint: None, ..call }, &modify.query).await?.collect().await?;
        let targets = &modify.plan.targets;
        let docs = selected(&batches, targets)?;
        let ops: Vec<WriteOp> = docs
            .into_iter()
            .map(|(id, ops)| if targets.is_empty() { WriteOp::Delete { id } } else { WriteOp::Patch { id, ops } })
            .collect();
        write_all(pipeline, ops, modify.tag).await
    }
}

/// How long a statement waits for its records to be applied once they are durable. Past it
/// the statement still succeeds (its writes are kept and will be applied).
const APPLY_WAIT: Duration = Duration::from_secs(30);

/// Writes `ops` through the collection's log (off the async runtime), waits until they are
/// applied, and reports how many were written; if any were refused, the error counts them
/// and names the first.
pub(super) async fn write_all(pipeline: Arc<CollectionPipeline>, ops: Vec<WriteOp>, tag: &'static str) -> Result<Output> {
    let total = ops.len();
    let (written, failed) = tokio::task::spawn_blocking(move || {
        let written = pipeline.write(ops)?;
        let first = written.outcomes.iter().find_map(|o| o.as_ref().ok()).map(|a| a.offset);
        if !pipeline.wait_applied(written.last_offset, APPLY_WAIT) {
            tracing::warn!(tag, offset = written.last_offset, "a write is durable but not yet applied; returning without it");
        }
        // Documents the indexer could not apply (one deleted since UPDATE selected it, say).
        let failed = first.map(|f| pipeline.failures_in(f..=written.last_offset)).unwrap_or_default();
        Ok::<_, EngineError>((written, failed))
    })
    .await
    .map_err(|e| task_failed(tag, &e))??;
    let errors: Vec<String> = written
        .outcomes
        .into_iter()
        .filter_map(|r| r.err().map(|e| e.to_string()))
        .chain(failed.into_iter().map(|(_, why)| why))
        .collect();
    if let Some(first) = errors.first() {
        return Err(EngineError::PartialWrite { failed: errors.len(), total, first: first.clone() });
    }
    Ok(Output::Done { tag, count: total as u64 })
}

/// A write task that panicked or was cancelled: a failure inside Cairn, not the statement's.
fn task_failed(tag: &str, e: &tokio::task::JoinError) -> EngineError {
    EngineError::Task(format!("the {tag} task failed: {e}"))
}

/// The `_id`s and, for UPDATE, the patches of the selected documents: the first column of
/// `batches` holds the `_id`s, the next ones the new values of `targets`.
fn selected(batches: &[RecordBatch], targets: &[String]) -> Result<Vec<(String, Vec<PatchOp>)>> {
    let mut out = Vec::new();
    for b in batches {
        let ids = b
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| EngineError::Invalid("this collection's _id is not a string column".into()))?;
        for row in 0..b.num_rows() {
            if ids.is_null(row) {
                continue;
            }
            let ops = targets
                .iter()
                .enumerate()
                .map(|(i, path)| {
                    let value: Value = cell_value(b.column(i + 1), row)?;
                    Ok(PatchOp::Add { path: path.clone(), value })
                })
                .collect::<std::result::Result<Vec<_>, DataFusionError>>()?;
            out.push((ids.value(row).to_owned(), ops));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::SqlState;

    #[tokio::test]
    async fn a_panicked_write_task_is_an_internal_error() {
        let joined = tokio::task::spawn_blocking(|| panic!("a write went wrong")).await;
        let e = task_failed("INSERT", &joined.expect_err("the task panicked"));
        assert_eq!(e.sqlstate(), SqlState::InternalError);
        assert!(e.to_string().contains("INSERT task failed"), "{e}");
    }
}
