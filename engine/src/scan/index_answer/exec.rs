//! The operator that stands in for an aggregation's per-shard stage when the index answers
//! it: one partition per shard, each computing its one batch by a [`ShardAnswer`] on a
//! blocking thread.

use std::fmt;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use cairn_storage::ShardSnapshot;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{internal_err, Result as DFResult, Statistics};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};
use roaring::RoaringBitmap;

use super::source::IndexSource;
use crate::scan::access_path::describe;

/// What an aggregation stage answered from the index computes for one shard.
pub(super) trait ShardAnswer: Send + Sync + 'static {
    /// The operator's name in EXPLAIN.
    fn name(&self) -> &'static str;

    /// What it answers, for EXPLAIN (after the collection's name).
    fn describe(&self) -> String;

    /// The stage's rows for one shard: `docs` are the documents of `snapshot` the scan would
    /// have read; `schema` is the stage's output.
    fn answer(
        &self,
        source: &IndexSource,
        snapshot: &ShardSnapshot,
        docs: &RoaringBitmap,
        schema: &SchemaRef,
    ) -> DFResult<RecordBatch>;
}

/// An aggregation stage answered from the index, one partition per shard.
pub(super) struct IndexAnswerExec {
    source: IndexSource,
    answer: Arc<dyn ShardAnswer>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl IndexAnswerExec {
    /// The stage producing `schema` by `answer` over `source`'s `partitions` shards.
    pub(super) fn new(
        source: IndexSource,
        answer: Arc<dyn ShardAnswer>,
        schema: SchemaRef,
        partitions: usize,
    ) -> IndexAnswerExec {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        IndexAnswerExec { source, answer, schema, properties }
    }
}

impl fmt::Debug for IndexAnswerExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(self.answer.name())
            .field("collection", &self.source.name)
            .field("answer", &self.answer.describe())
            .finish()
    }
}

impl DisplayAs for IndexAnswerExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: collection={} {}", self.answer.name(), self.source.name, self.answer.describe())?;
        if let Some(p) = &self.source.predicate {
            write!(f, " index_predicate=[{}]", describe(p))?;
        }
        Ok(())
    }
}

impl ExecutionPlan for IndexAnswerExec {
    fn name(&self) -> &str {
        self.answer.name()
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
            internal_err!("{} has no children", self.answer.name())
        }
    }

    fn partition_statistics(&self, _partition: Option<usize>) -> DFResult<Arc<Statistics>> {
        Ok(Arc::new(Statistics::new_unknown(&self.schema)))
    }

    fn execute(&self, partition: usize, _ctx: Arc<TaskContext>) -> DFResult<SendableRecordBatchStream> {
        let shard = self.source.shard(partition)?;
        let (source, answer, schema) = (self.source.clone(), self.answer.clone(), self.schema.clone());
        // One batch per shard, computed on a blocking thread.
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema.clone(), 1);
        let tx = builder.tx();
        builder.spawn_blocking(move || {
            let (snapshot, docs) = source.docs(&shard)?;
            let batch = answer.answer(&source, &snapshot, &docs, &schema)?;
            // A closed receiver means the query is gone: nothing left to do.
            let _sent = tx.blocking_send(Ok(batch));
            Ok(())
        });
        Ok(builder.build())
    }
}
