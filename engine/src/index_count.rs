//! Grouped counts from the search index: `SELECT x, count(*) … GROUP BY x` over a typed bool,
//! int or string column, unfiltered or filtered only by what the index answers exactly, is
//! answered from posting-list sizes instead of a column scan. A physical optimizer rule puts
//! [`IndexCountExec`] in place of the aggregation's per-shard stage; it produces the same rows
//! (one per value, plus the documents without one under NULL), so the stages above are
//! unchanged.

use std::fmt;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::SchemaRef;
use cairn_storage::ValueType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{internal_err, Result as DFResult, ScalarValue, Statistics};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};

use crate::access::describe;
use crate::error::to_df;
use crate::index_source::{counts_rows, first_stage, one_batch, scalar, IndexSource};
use crate::schema::ColumnKind;

/// The rule that answers grouped counts from the index.
#[derive(Debug, Default)]
pub struct IndexGroupCount;

impl PhysicalOptimizerRule for IndexGroupCount {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> DFResult<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            Ok(match replacement(&node) {
                Some(p) => Transformed::yes(p),
                None => Transformed::no(node),
            })
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "cairn_index_group_count"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The index count standing in for `node`, when it is the first stage of `count(*)` grouped
/// by the one column a collection scan reads.
fn replacement(node: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    let (agg, scan, partitions) = first_stage(node)?;
    let group = agg.group_expr();
    match group.expr() {
        [(e, _)] if group.is_single() && e.downcast_ref::<Column>().is_some_and(|c| c.index() == 0) => {}
        _ => return None,
    }
    if agg.aggr_expr().is_empty() || !agg.aggr_expr().iter().all(|a| counts_rows(a)) {
        return None;
    }
    let source = scan.index_source()?;
    let [column] = source.columns.as_slice() else { return None };
    let ColumnKind::Typed(t @ (ValueType::Bool | ValueType::Int | ValueType::String)) = column.kind else { return None };
    let path = column.path.clone();
    Some(Arc::new(IndexCountExec::new(source, path, t, agg.schema(), partitions)))
}

/// Counts documents per value of one column from posting-list sizes, one partition per shard.
pub struct IndexCountExec {
    source: IndexSource,
    /// The grouped column's path and type (values of other types group under NULL).
    path: String,
    value_type: ValueType,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl IndexCountExec {
    fn new(source: IndexSource, path: String, value_type: ValueType, schema: SchemaRef, partitions: usize) -> IndexCountExec {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        IndexCountExec { source, path, value_type, schema, properties }
    }
}

impl fmt::Debug for IndexCountExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndexCountExec").field("collection", &self.source.name).field("path", &self.path).finish()
    }
}

impl DisplayAs for IndexCountExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "IndexCountExec: collection={} group_by={}", self.source.name, self.path)?;
        if let Some(p) = &self.source.predicate {
            write!(f, " index_predicate=[{}]", describe(p))?;
        }
        Ok(())
    }
}

impl ExecutionPlan for IndexCountExec {
    fn name(&self) -> &str {
        "IndexCountExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DFResult<TreeNodeRecursion>,
    ) -> DFResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> DFResult<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            internal_err!("IndexCountExec has no children")
        }
    }

    fn partition_statistics(&self, _partition: Option<usize>) -> DFResult<Arc<Statistics>> {
        Ok(Arc::new(Statistics::new_unknown(&self.schema)))
    }

    fn execute(&self, partition: usize, _ctx: Arc<TaskContext>) -> DFResult<SendableRecordBatchStream> {
        let shard = self.source.shard(partition)?;
        let (source, path, t, schema) = (self.source.clone(), self.path.clone(), self.value_type, self.schema.clone());
        Ok(one_batch(self.schema.clone(), move || {
            let (snapshot, docs) = source.docs(&shard)?;
            let counts = snapshot.value_counts(&path, t, &docs).map_err(to_df)?;
            let with_value: u64 = counts.iter().map(|(_, n)| n).sum();
            // Each document holds at most one value at the path.
            let Some(without) = docs.len().checked_sub(with_value) else {
                return internal_err!("posting lists of {path} overlap in collection {}", source.name);
            };
            let mut rows: Vec<(ScalarValue, u64)> = counts.into_iter().map(|(v, n)| (scalar(v), n)).collect();
            if without > 0 {
                rows.push((ScalarValue::try_from(schema.field(0).data_type())?, without));
            }
            counts_batch(&schema, rows)
        }))
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
