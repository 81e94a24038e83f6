//! Grouped counts from the search index: `SELECT x, count(*) … GROUP BY x` over a typed bool,
//! int or string column, unfiltered or filtered only by what the index answers exactly, is
//! answered from posting-list sizes instead of a column scan: one row per value, plus the
//! documents without one under NULL, as the aggregation's per-shard stage would produce them
//! ([`super::exec`]).

use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::SchemaRef;
use cairn_storage::{ShardSnapshot, ValueType};
use datafusion::common::{internal_err, Result as DFResult, ScalarValue};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::ExecutionPlan;
use roaring::RoaringBitmap;

use super::exec::{IndexAnswerExec, ShardAnswer};
use super::source::{counts_rows, first_stage, scalar, IndexSource};
use crate::error::to_df;
use crate::types::collection_schema::ColumnKind;

/// The index count standing in for `node`, when it is the first stage of `count(*)` grouped
/// by the one column a collection scan reads.
pub(super) fn replacement(node: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    let (agg, scan, partitions) = first_stage(node)?;
    let group = agg.group_expr();
    match group.expr() {
        [(e, _)] if group.is_single() && e.downcast_ref::<Column>().is_some_and(|c| c.index() == 0) => {}
        _ => return None,
    }
    if agg.aggr_expr().is_empty() || !agg.aggr_expr().iter().all(|a| counts_rows(a)) {
        return None;
    }
    let source = IndexSource::of(scan)?;
    let [column] = source.columns.as_slice() else { return None };
    let ColumnKind::Typed(t @ (ValueType::Bool | ValueType::Int | ValueType::String)) = column.kind else { return None };
    let answer = Arc::new(GroupCount { path: column.path.clone(), value_type: t });
    Some(Arc::new(IndexAnswerExec::new(source, answer, agg.schema(), partitions)))
}

/// Counts documents per value of one column from posting-list sizes.
struct GroupCount {
    /// The grouped column's path and type (values of other types group under NULL).
    path: String,
    value_type: ValueType,
}

impl ShardAnswer for GroupCount {
    fn name(&self) -> &'static str {
        "IndexCountExec"
    }

    fn describe(&self) -> String {
        format!("group_by={}", self.path)
    }

    fn answer(
        &self,
        source: &IndexSource,
        snapshot: &ShardSnapshot,
        docs: &RoaringBitmap,
        schema: &SchemaRef,
    ) -> DFResult<RecordBatch> {
        let counts = snapshot.value_counts(&self.path, self.value_type, docs).map_err(to_df)?;
        let with_value: u64 = counts.iter().map(|(_, n)| n).sum();
        // Each document holds at most one value at the path.
        let Some(without) = docs.len().checked_sub(with_value) else {
            return internal_err!("posting lists of {} overlap in collection {}", self.path, source.name);
        };
        let mut rows: Vec<(ScalarValue, u64)> = counts.into_iter().map(|(v, n)| (scalar(v), n)).collect();
        if without > 0 {
            rows.push((ScalarValue::try_from(schema.field(0).data_type())?, without));
        }
        counts_batch(schema, rows)
    }
}

/// The aggregation stage's rows: the group value, then each count column.
fn counts_batch(schema: &SchemaRef, rows: Vec<(ScalarValue, u64)>) -> DFResult<RecordBatch> {
    if rows.is_empty() {
        return Ok(RecordBatch::new_empty(schema.clone()));
    }
    let counts: ArrayRef = Arc::new(Int64Array::from_iter_values(rows.iter().map(|(_, n)| *n as i64)));
    let mut columns = vec![ScalarValue::iter_to_array(rows.into_iter().map(|(k, _)| k))?];
    columns.extend((1..schema.fields().len()).map(|_| counts.clone()));
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}
