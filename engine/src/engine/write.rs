//! SQL writes: `INSERT` makes a document of each row its query produces; `UPDATE` and `DELETE`
//! run their selecting query, then patch or delete each document it found. Every document is
//! written atomically on its own through [`Collection::write`] (there are no multi-document
//! transactions); a statement reports how many were written, or how many were not.

use std::sync::Arc;

use arrow_array::{Array, RecordBatch, StringArray};
use cairn_storage::{Collection, PatchOp, Value, WriteOp};
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
        let ws = self.workspace_of(call.session, &insert.target);
        let collection = self.store.collection(&ws, &insert.target.collection)?;
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
        write_all(collection, docs.into_iter().map(WriteOp::Insert).collect(), "INSERT").await
    }

    /// Runs an UPDATE or DELETE: its query selects the documents, then each is patched or
    /// deleted on its own.
    pub(super) async fn modify(&self, call: Call<'_>, modify: &ModifyPlan) -> Result<Output> {
        let table = &modify.plan.table;
        let collection = self.store.collection(&self.workspace_of(call.session, table), &table.collection)?;
        let batches = self.dataframe(Call { hint: None, ..call }, &modify.query).await?.collect().await?;
        let targets = &modify.plan.targets;
        let docs = selected(&batches, targets)?;
        let ops: Vec<WriteOp> = docs
            .into_iter()
            .map(|(id, ops)| if targets.is_empty() { WriteOp::Delete { id } } else { WriteOp::Patch { id, ops } })
            .collect();
        write_all(collection, ops, modify.tag).await
    }
}

/// Writes `ops` (each document atomically, off the async runtime) and reports how many were
/// written; if any failed, the error counts them and names the first failure.
pub(super) async fn write_all(collection: Arc<Collection>, ops: Vec<WriteOp>, tag: &'static str) -> Result<Output> {
    let total = ops.len();
    let results = tokio::task::spawn_blocking(move || collection.write(ops)).await.map_err(|e| task_failed(tag, &e))?;
    let errors: Vec<String> = results.into_iter().filter_map(|r| r.err().map(|e| e.to_string())).collect();
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
