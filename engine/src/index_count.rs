//! Grouped counts from the search index: `SELECT x, count(*) … GROUP BY x` over a typed bool,
//! int or string column, unfiltered or filtered only by what the index answers exactly (on an
//! index access path), is answered from posting-list sizes instead of a column scan. A physical optimizer rule puts
//! [`IndexCountExec`] in place of the aggregation's per-shard stage; it produces the same rows
//! (one per value, plus the documents without one under NULL), so the stages above are
//! unchanged.

use std::fmt;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::SchemaRef;
use cairn_storage::{Collection, IndexPredicate, Value, ValueType};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{internal_err, Result as DFResult, ScalarValue, Statistics};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};

use crate::access::describe;
use crate::error::to_df;
use crate::scan_exec::CollectionScanExec;

/// What a grouped count reads: one typed column of a collection, over the documents matching
/// an index predicate (all live documents without one).
#[derive(Clone)]
pub struct GroupedCount {
    /// The collection.
    pub collection: Arc<Collection>,
    /// Its name, for EXPLAIN.
    pub name: String,
    /// The grouped column's field path.
    pub path: String,
    /// The column's type; values of other types group under NULL.
    pub value_type: ValueType,
    /// The filter, answered exactly by the index.
    pub predicate: Option<IndexPredicate>,
}

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
    let agg = node.downcast_ref::<AggregateExec>()?;
    let scan = scan_below(agg.input())?;
    let partitions = scan.properties().output_partitioning().partition_count();
    let one_partition = partitions == 1;
    match agg.mode() {
        AggregateMode::Partial => {}
        AggregateMode::Single if one_partition => {}
        _ => return None,
    }
    let group = agg.group_expr();
    match group.expr() {
        [(e, _)] if group.is_single() && e.downcast_ref::<Column>().is_some_and(|c| c.index() == 0) => {}
        _ => return None,
    }
    let counts_rows = |a: &datafusion::physical_expr::aggregate::AggregateFunctionExpr| {
        a.fun().name() == "count"
            && !a.is_distinct()
            && a.order_bys().is_empty()
            && a.expressions().iter().all(|e| e.downcast_ref::<Literal>().is_some_and(|l| !l.value().is_null()))
    };
    if agg.aggr_expr().is_empty()
        || !agg.aggr_expr().iter().all(|a| counts_rows(a))
        || agg.filter_expr().iter().any(Option::is_some)
    {
        return None;
    }
    let source = scan.grouped_count()?;
    Some(Arc::new(IndexCountExec::new(source, agg.schema(), partitions)))
}

/// The collection scan feeding `plan` unchanged: the plan itself, or below the wrappers
/// DataFusion adds over a scan (cooperative scheduling, round-robin spreading of batches).
fn scan_below(plan: &Arc<dyn ExecutionPlan>) -> Option<&CollectionScanExec> {
    if let Some(scan) = plan.downcast_ref::<CollectionScanExec>() {
        return Some(scan);
    }
    if let Some(coop) = plan.downcast_ref::<CooperativeExec>() {
        return scan_below(coop.input());
    }
    match plan.downcast_ref::<RepartitionExec>() {
        Some(r) if matches!(r.partitioning(), Partitioning::RoundRobinBatch(_)) => scan_below(r.input()),
        _ => None,
    }
}

/// Counts documents per value of one column from posting-list sizes, one partition per shard.
pub struct IndexCountExec {
    source: GroupedCount,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl IndexCountExec {
    fn new(source: GroupedCount, schema: SchemaRef, partitions: usize) -> IndexCountExec {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        IndexCountExec { source, schema, properties }
    }
}

impl fmt::Debug for IndexCountExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndexCountExec").field("collection", &self.source.name).field("path", &self.source.path).finish()
    }
}

impl DisplayAs for IndexCountExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "IndexCountExec: collection={} group_by={}", self.source.name, self.source.path)?;
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
        let Some(shard) = self.source.collection.shards().get(partition).cloned() else {
            return internal_err!("no shard {partition} in collection {}", self.source.name);
        };
        let (source, schema) = (self.source.clone(), self.schema.clone());
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema.clone(), 1);
        let tx = builder.tx();
        builder.spawn_blocking(move || {
            let snapshot = shard.snapshot();
            let mut docs = snapshot.all_docs().map_err(to_df)?;
            if let Some(p) = &source.predicate {
                docs &= snapshot.lookup(p).map_err(to_df)?;
            }
            let mut counts = snapshot.value_counts(&source.path, source.value_type, &docs).map_err(to_df)?;
            let with_value: u64 = counts.iter().map(|(_, n)| n).sum();
            // Each document holds at most one value at the path.
            let Some(without) = docs.len().checked_sub(with_value) else {
                return internal_err!("posting lists of {} overlap in collection {}", source.path, source.name);
            };
            let mut keys = counts.drain(..).map(|(v, n)| (scalar(v), n)).collect::<Vec<_>>();
            if without > 0 {
                keys.push((ScalarValue::try_from(schema.field(0).data_type())?, without));
            }
            let batch = counts_batch(&schema, keys)?;
            // A closed receiver means the query is gone: nothing left to do.
            let _sent = tx.blocking_send(Ok(batch));
            Ok(())
        });
        Ok(builder.build())
    }
}

/// A stored bool, int or string as a SQL scalar.
fn scalar(v: Value) -> ScalarValue {
    match v {
        Value::Bool(b) => ScalarValue::Boolean(Some(b)),
        Value::Int(i) => ScalarValue::Int64(Some(i)),
        Value::String(s) => ScalarValue::Utf8(Some(s)),
        _ => ScalarValue::Null,
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
