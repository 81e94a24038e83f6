//! MIN, MAX and COUNT(*) without GROUP BY from the index: over a collection scan that only the
//! index filters, `min(x)` and `max(x)` of a typed column (not floats) are the first and last
//! values of `x` in the ordered search index held by a matching document, and `count(*)` is
//! the number of matching documents. A physical optimizer rule puts [`IndexExtremesExec`] in
//! place of the aggregation's per-shard stage; it produces that stage's one row per shard.

use std::fmt;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use cairn_storage::ValueType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{internal_err, Result as DFResult, ScalarValue, Statistics};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};

use crate::access::describe;
use crate::error::to_df;
use crate::index_source::{counts_rows, first_stage, one_batch, scalar, IndexSource};
use crate::schema::ColumnKind;

/// A filter matching less than one document in this many makes MIN/MAX read the matches
/// instead of walking the index.
const SELECTIVE_SHARE: u64 = 8;

/// One aggregate the index answers.
#[derive(Debug, Clone)]
enum Answer {
    /// The least (`greatest: false`) or greatest value of the field at `path` of type `t`.
    Extreme { path: String, t: ValueType, greatest: bool },
    /// The number of documents.
    Count,
}

/// The rule that answers MIN, MAX and COUNT(*) without grouping from the index.
#[derive(Debug, Default)]
pub struct IndexExtremes;

impl PhysicalOptimizerRule for IndexExtremes {
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
        "cairn_index_extremes"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The index answer standing in for `node`, when it is the first stage of an ungrouped
/// aggregation of only MIN/MAX of typed columns and COUNT(*) over a collection scan.
fn replacement(node: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    let (agg, scan, partitions) = first_stage(node)?;
    if !agg.group_expr().expr().is_empty() {
        return None;
    }
    let source = scan.index_source()?;
    let answers: Vec<Answer> = agg.aggr_expr().iter().map(|a| answer(a, &source)).collect::<Option<_>>()?;
    // Under a selective filter, walking the index from one end meets many values held by
    // no matching document before the first held by one: reading the few matches is cheaper.
    let walks = answers.iter().any(|a| matches!(a, Answer::Extreme { .. }));
    let selective = source.predicate.is_some() && source.estimated_rows.saturating_mul(SELECTIVE_SHARE) < source.total_rows;
    if answers.is_empty() || (walks && selective) {
        return None;
    }
    Some(Arc::new(IndexExtremesExec::new(source, answers, agg.schema(), partitions)))
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

/// Answers MIN, MAX and COUNT(*) per shard from the index.
pub struct IndexExtremesExec {
    source: IndexSource,
    answers: Vec<Answer>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl IndexExtremesExec {
    fn new(source: IndexSource, answers: Vec<Answer>, schema: SchemaRef, partitions: usize) -> IndexExtremesExec {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        IndexExtremesExec { source, answers, schema, properties }
    }
}

impl fmt::Debug for IndexExtremesExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndexExtremesExec").field("collection", &self.source.name).field("answers", &self.answers).finish()
    }
}

impl DisplayAs for IndexExtremesExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let answers: Vec<String> = self
            .answers
            .iter()
            .map(|a| match a {
                Answer::Extreme { path, greatest: false, .. } => format!("min({path})"),
                Answer::Extreme { path, greatest: true, .. } => format!("max({path})"),
                Answer::Count => "count(*)".to_owned(),
            })
            .collect();
        write!(f, "IndexExtremesExec: collection={} [{}]", self.source.name, answers.join(", "))?;
        if let Some(p) = &self.source.predicate {
            write!(f, " index_predicate=[{}]", describe(p))?;
        }
        Ok(())
    }
}

impl ExecutionPlan for IndexExtremesExec {
    fn name(&self) -> &str {
        "IndexExtremesExec"
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
            internal_err!("IndexExtremesExec has no children")
        }
    }

    fn partition_statistics(&self, _partition: Option<usize>) -> DFResult<Arc<Statistics>> {
        Ok(Arc::new(Statistics::new_unknown(&self.schema)))
    }

    fn execute(&self, partition: usize, _ctx: Arc<TaskContext>) -> DFResult<SendableRecordBatchStream> {
        let shard = self.source.shard(partition)?;
        let (source, answers, schema) = (self.source.clone(), self.answers.clone(), self.schema.clone());
        Ok(one_batch(self.schema.clone(), move || {
            let (snapshot, docs) = source.docs(&shard)?;
            let mut columns = Vec::with_capacity(answers.len());
            for (answer, field) in answers.iter().zip(schema.fields()) {
                let value = match answer {
                    Answer::Count => ScalarValue::Int64(Some(docs.len() as i64)),
                    Answer::Extreme { path, t, greatest } => {
                        match snapshot.extreme_value(path, *t, &docs, *greatest).map_err(to_df)? {
                            Some(v) => scalar(v).cast_to(field.data_type())?,
                            None => ScalarValue::try_from(field.data_type())?,
                        }
                    }
                };
                columns.push(value.to_array_of_size(1)?);
            }
            Ok(RecordBatch::try_new(schema.clone(), columns)?)
        }))
    }
}
