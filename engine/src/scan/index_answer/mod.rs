//! Aggregations answered from the index instead of a scan: one physical optimizer rule puts
//! [`exec::IndexAnswerExec`] in place of an aggregation's per-shard stage when the index can
//! produce that stage's rows — grouped counts ([`group_count`]) or MIN/MAX/COUNT without
//! grouping ([`extremes`]). The stages above are unchanged.

mod exec;
mod extremes;
mod group_count;
mod source;

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::Result as DFResult;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;

/// The rule that answers aggregations from the index.
#[derive(Debug, Default)]
pub(crate) struct IndexAggregates;

impl PhysicalOptimizerRule for IndexAggregates {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> DFResult<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            Ok(match group_count::replacement(&node).or_else(|| extremes::replacement(&node)) {
                Some(p) => Transformed::yes(p),
                None => Transformed::no(node),
            })
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "cairn_index_aggregates"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
