//! What the aggregations answered from the index share: the collection scan they stand in for
//! ([`IndexSource`], found below DataFusion's wrappers by [`scan_below`]), the documents it
//! would have read in one shard, the aggregation stage they replace, and stored values as SQL
//! scalars.

use std::sync::Arc;

use cairn_storage::shard::Shard;
use cairn_storage::{Collection, IndexPredicate, ShardSnapshot, Value};
use datafusion::common::{internal_err, Result as DFResult, ScalarValue};
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_expr::expressions::Literal;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{ExecutionPlan, Partitioning};
use roaring::RoaringBitmap;

use crate::error::to_df;
use crate::scan::collection_scan::CollectionScanExec;
use crate::types::collection_schema::SqlColumn;

/// A collection scan whose filters the index answers exactly (and without a limit or a
/// forced column scan): its columns over the documents matching its predicate.
#[derive(Clone)]
pub(super) struct IndexSource {
    /// The collection.
    pub collection: Arc<Collection>,
    /// Its name, for EXPLAIN.
    pub name: String,
    /// The scan's columns.
    pub columns: Vec<SqlColumn>,
    /// The filter, answered exactly by the index (every live document without one).
    pub predicate: Option<IndexPredicate>,
    /// Estimated documents matching the predicate.
    pub estimated_rows: u64,
    /// Documents in the collection.
    pub total_rows: u64,
}

impl IndexSource {
    /// `scan` as the source of an aggregation answered from the index: its filters are all
    /// ones the index answers exactly, and neither a limit nor a hint forcing a column scan
    /// holds.
    pub(super) fn of(scan: &CollectionScanExec) -> Option<IndexSource> {
        let choice = scan.choice();
        if scan.limit().is_some() || choice.forced_scan {
            return None;
        }
        let predicate = match scan.filter() {
            Some(f) => Some(f.index.clone()),
            None => choice.path.predicate().cloned(),
        };
        Some(IndexSource {
            collection: scan.collection().clone(),
            name: scan.collection_name().to_owned(),
            columns: scan.columns().to_vec(),
            predicate,
            estimated_rows: choice.estimated_rows,
            total_rows: choice.total_rows,
        })
    }

    /// Shard `partition`, failing as a scan of it would when there is none.
    pub(super) fn shard(&self, partition: usize) -> DFResult<Arc<Shard>> {
        match self.collection.shards().get(partition) {
            Some(s) => Ok(s.clone()),
            None => internal_err!("no shard {partition} in collection {}", self.name),
        }
    }

    /// A snapshot of `shard` and the documents of it the scan would read.
    pub(super) fn docs(&self, shard: &Arc<Shard>) -> DFResult<(ShardSnapshot, RoaringBitmap)> {
        let snapshot = shard.snapshot();
        let mut docs = snapshot.all_docs().map_err(to_df)?;
        if let Some(p) = &self.predicate {
            docs &= snapshot.lookup(p).map_err(to_df)?;
        }
        Ok((snapshot, docs))
    }
}

/// `node` as the first stage of an aggregation over a collection scan, with the scan's
/// partition count: a partial aggregation, or a single one over a one-shard scan.
pub(super) fn first_stage(node: &Arc<dyn ExecutionPlan>) -> Option<(&AggregateExec, &CollectionScanExec, usize)> {
    let agg = node.downcast_ref::<AggregateExec>()?;
    let scan = scan_below(agg.input())?;
    let partitions = scan.properties().output_partitioning().partition_count();
    match agg.mode() {
        AggregateMode::Partial => {}
        AggregateMode::Single if partitions == 1 => {}
        _ => return None,
    }
    if agg.filter_expr().iter().any(Option::is_some) {
        return None;
    }
    Some((agg, scan, partitions))
}

/// True when `a` is `count(*)` (or `count` of any non-null literal): it counts rows.
pub(super) fn counts_rows(a: &AggregateFunctionExpr) -> bool {
    a.fun().name() == "count"
        && !a.is_distinct()
        && a.order_bys().is_empty()
        && a.expressions().iter().all(|e| e.downcast_ref::<Literal>().is_some_and(|l| !l.value().is_null()))
}

/// The collection scan feeding `plan` unchanged: the plan itself, or below the wrappers
/// DataFusion adds over a scan (cooperative scheduling, round-robin spreading of batches).
pub(super) fn scan_below(plan: &Arc<dyn ExecutionPlan>) -> Option<&CollectionScanExec> {
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

/// A stored scalar as the SQL scalar of a typed column (null for objects and arrays).
pub(super) fn scalar(v: Value) -> ScalarValue {
    match v {
        Value::Null | Value::Object(_) | Value::Array(_) => ScalarValue::Null,
        Value::Bool(b) => ScalarValue::Boolean(Some(b)),
        Value::Int(i) => ScalarValue::Int64(Some(i)),
        Value::Float(f) => ScalarValue::Float64(Some(f)),
        Value::String(s) => ScalarValue::Utf8(Some(s)),
        Value::Bytes(b) => ScalarValue::Binary(Some(b)),
        Value::Date(d) => ScalarValue::Date32(Some(d)),
        Value::Time(t) => ScalarValue::Time64Microsecond(Some(t)),
        Value::DateTime(t) => ScalarValue::TimestampMicrosecond(Some(t), None),
        Value::Timestamp(t) => ScalarValue::TimestampMicrosecond(Some(t), Some("UTC".into())),
    }
}
