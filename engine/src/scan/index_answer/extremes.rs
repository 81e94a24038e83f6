//! MIN, MAX and COUNT(*) without GROUP BY from the index: over a collection scan whose
//! filters the index answers exactly, `min(x)` and `max(x)` of a typed column (not floats) are
//! the first and last values of `x` in the ordered search index held by a matching document,
//! and `count(*)` is the number of matching documents: the aggregation's per-shard stage's
//! one row per shard ([`super::exec`]).

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use cairn_storage::{ShardSnapshot, ValueType};
use datafusion::common::{Result as DFResult, ScalarValue};
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::ExecutionPlan;
use roaring::RoaringBitmap;

use super::exec::{IndexAnswerExec, ShardAnswer};
use super::source::{counts_rows, first_stage, scalar, IndexSource};
use crate::error::to_df;
use crate::types::collection_schema::ColumnKind;

/// A filter matching less than one document in this many makes MIN/MAX read the matches
/// instead of walking the index.
const SELECTIVE_SHARE: u64 = 8;

/// One aggregate the index answers.
enum Answer {
    /// The least (`greatest: false`) or greatest value of the field at `path` of type `t`.
    Extreme { path: String, t: ValueType, greatest: bool },
    /// The number of documents.
    Count,
}

/// The index answer standing in for `node`, when it is the first stage of an ungrouped
/// aggregation of only MIN/MAX of typed columns and COUNT(*) over a collection scan.
pub(super) fn replacement(node: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    let (agg, scan, partitions) = first_stage(node)?;
    if !agg.group_expr().expr().is_empty() {
        return None;
    }
    let source = IndexSource::of(scan)?;
    let answers: Vec<Answer> = agg.aggr_expr().iter().map(|a| answer(a, &source)).collect::<Option<_>>()?;
    // Under a selective filter, walking the index from one end meets many values held by
    // no matching document before the first held by one: reading the few matches is cheaper.
    let walks = answers.iter().any(|a| matches!(a, Answer::Extreme { .. }));
    let selective = source.predicate.is_some() && source.estimated_rows.saturating_mul(SELECTIVE_SHARE) < source.total_rows;
    if answers.is_empty() || (walks && selective) {
        return None;
    }
    Some(Arc::new(IndexAnswerExec::new(source, Arc::new(Extremes(answers)), agg.schema(), partitions)))
}

/// How the index answers the aggregate `a` over `source`'s columns, if it can.
fn answer(a: &AggregateFunctionExpr, source: &IndexSource) -> Option<Answer> {
    if a.is_distinct() || !a.order_bys().is_empty() {
        return None;
    }
    if counts_rows(a) {
        return Some(Answer::Count);
    }
    let args = a.expressions();
    let greatest = match a.fun().name() {
        "min" => false,
        "max" => true,
        _ => return None,
    };
    let [arg] = args.as_slice() else { return None };
    let column = source.columns.get(arg.downcast_ref::<Column>()?.index())?;
    match column.kind {
        ColumnKind::Typed(t) if t != ValueType::Float => Some(Answer::Extreme { path: column.path.clone(), t, greatest }),
        _ => None,
    }
}

/// The aggregates of one stage, each answered from the index.
struct Extremes(Vec<Answer>);

impl ShardAnswer for Extremes {
    fn name(&self) -> &'static str {
        "IndexExtremesExec"
    }

    fn describe(&self) -> String {
        let answers: Vec<String> = self
            .0
            .iter()
            .map(|a| match a {
                Answer::Extreme { path, greatest: false, .. } => format!("min({path})"),
                Answer::Extreme { path, greatest: true, .. } => format!("max({path})"),
                Answer::Count => "count(*)".to_owned(),
            })
            .collect();
        format!("[{}]", answers.join(", "))
    }

    fn answer(
        &self,
        _source: &IndexSource,
        snapshot: &ShardSnapshot,
        docs: &RoaringBitmap,
        schema: &SchemaRef,
    ) -> DFResult<RecordBatch> {
        let mut columns = Vec::with_capacity(self.0.len());
        for (answer, field) in self.0.iter().zip(schema.fields()) {
            let value = match answer {
                Answer::Count => ScalarValue::Int64(Some(docs.len() as i64)),
                Answer::Extreme { path, t, greatest } => {
                    match snapshot.extreme_value(path, *t, docs, *greatest).map_err(to_df)? {
                        Some(v) => scalar(v).cast_to(field.data_type())?,
                        None => ScalarValue::try_from(field.data_type())?,
                    }
                }
            };
            columns.push(value.to_array_of_size(1)?);
        }
        Ok(RecordBatch::try_new(schema.clone(), columns)?)
    }
}
