//! The physical scan of a collection: one partition per shard, each reading its documents
//! by the chosen access path (a column scan, or an index lookup followed by a fetch by
//! document number or a scan of the chunks holding the matches) on a blocking task (a fetch
//! of a few documents on the query's own task), in Arrow batches. Filters the index answers
//! exactly are applied by the scan (by the index, or evaluated over the column scan's
//! batches), not again above it. EXPLAIN shows the access path, the index predicate and the
//! estimate.

use std::fmt;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use cairn_storage::shard::Shard;
use cairn_storage::{Collection, ColumnOutput, ColumnSpec, IndexPredicate, ScanOptions, ShardSnapshot, ValueType};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::common::cast::as_boolean_array;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{internal_err, DataFusionError, Result as DFResult, Statistics};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::{RecordBatchReceiverStreamBuilder, RecordBatchStreamAdapter};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};
use futures::TryStreamExt;
use roaring::RoaringBitmap;

use super::access_path::{AccessPath, Choice};
use crate::error::to_df;
use crate::types::collection_schema::SqlColumn;
use crate::types::convert::to_sql_batch;

/// Documents fetched per batch on the index-fetch path.
const FETCH_BATCH: u64 = 4096;

/// An index fetch estimated at most this many documents reads them on the query's own task:
/// a round trip through the blocking pool costs more than the reads.
const INLINE_FETCH_ROWS: u64 = 256;

/// Filters a column scan applies itself (those the index answers exactly, which DataFusion
/// does not check again).
#[derive(Debug, Clone)]
pub(crate) struct ScanFilter {
    /// The columns read: the scan's own first, then those only the filter needs.
    pub columns: Vec<SqlColumn>,
    /// The SQL schema of those columns.
    pub schema: SchemaRef,
    /// The filter over that schema.
    pub predicate: Arc<dyn PhysicalExpr>,
    /// The same filter as the index answers it.
    pub index: IndexPredicate,
}

/// Scans one collection.
pub(crate) struct CollectionScanExec {
    collection: Arc<Collection>,
    name: String,
    columns: Vec<SqlColumn>,
    schema: SchemaRef,
    choice: Choice,
    filter: Option<ScanFilter>,
    limit: Option<usize>,
    properties: Arc<PlanProperties>,
}

impl CollectionScanExec {
    /// A scan of `columns` of `collection` (named `name`) by `choice`, producing `schema`,
    /// applying `filter` (on a column scan) and stopping after `limit` rows.
    pub(crate) fn new(
        collection: Arc<Collection>,
        name: &str,
        columns: Vec<SqlColumn>,
        schema: SchemaRef,
        choice: Choice,
        filter: Option<ScanFilter>,
        limit: Option<usize>,
    ) -> CollectionScanExec {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(collection.shards().len().max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        CollectionScanExec { collection, name: name.to_owned(), columns, schema, choice, filter, limit, properties }
    }

    /// The collection scanned.
    pub(crate) fn collection(&self) -> &Arc<Collection> {
        &self.collection
    }

    /// The collection's name, for EXPLAIN.
    pub(crate) fn collection_name(&self) -> &str {
        &self.name
    }

    /// The columns read.
    pub(crate) fn columns(&self) -> &[SqlColumn] {
        &self.columns
    }

    /// The access path chosen, with its estimate.
    pub(crate) fn choice(&self) -> &Choice {
        &self.choice
    }

    /// The filters the scan applies itself, on a column scan.
    pub(crate) fn filter(&self) -> Option<&ScanFilter> {
        self.filter.as_ref()
    }

    /// The most rows the scan returns.
    pub(crate) fn limit(&self) -> Option<usize> {
        self.limit
    }
}

impl fmt::Debug for CollectionScanExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CollectionScanExec").field("collection", &self.name).field("choice", &self.choice).finish()
    }
}

impl DisplayAs for CollectionScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        write!(f, "CollectionScanExec: collection={} {} projection=[{}]", self.name, self.choice, names.join(", "))?;
        if let Some(filter) = &self.filter {
            write!(f, " filter=[{}]", filter.predicate)?;
        }
        if let Some(l) = self.limit {
            write!(f, " limit={l}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for CollectionScanExec {
    fn name(&self) -> &str {
        "CollectionScanExec"
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
            internal_err!("CollectionScanExec has no children")
        }
    }

    fn partition_statistics(&self, partition: Option<usize>) -> DFResult<Arc<Statistics>> {
        let mut stats = Statistics::new_unknown(&self.schema);
        if partition.is_none() {
            // An unfiltered, unlimited column scan returns every live document: an exact count.
            // (Each shard stops after `limit` rows, so a limit only caps the estimate.)
            let cap = |rows: u64| self.limit.map_or(rows as usize, |l| (rows as usize).min(l));
            stats.num_rows = match self.choice.path {
                AccessPath::ColumnScan if self.filter.is_none() && self.limit.is_none() => {
                    Precision::Exact(self.choice.total_rows as usize)
                }
                AccessPath::ColumnScan => Precision::Inexact(cap(self.choice.total_rows)),
                _ => Precision::Inexact(cap(self.choice.estimated_rows)),
            };
        }
        Ok(Arc::new(stats))
    }

    fn execute(&self, partition: usize, _ctx: Arc<TaskContext>) -> DFResult<SendableRecordBatchStream> {
        let Some(shard) = self.collection.shards().get(partition).cloned() else {
            return internal_err!("no shard {partition} in collection {}", self.name);
        };
        let read = Read {
            path: self.choice.path.clone(),
            columns: self.columns.clone(),
            schema: self.schema.clone(),
            filter: self.filter.clone(),
            limit: self.limit,
        };
        if matches!(read.path, AccessPath::IndexFetch(_)) && self.choice.estimated_rows <= INLINE_FETCH_ROWS {
            let batches = futures::stream::once(async move {
                let mut out = Vec::new();
                read_shard(&shard, &read, |batch| {
                    out.push(Ok(batch));
                    true
                })?;
                Ok::<_, DataFusionError>(futures::stream::iter(out))
            })
            .try_flatten();
            return Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), batches)));
        }
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema.clone(), 2);
        let tx = builder.tx();
        // Stops once the consumer is gone (LIMIT reached, query cancelled).
        builder.spawn_blocking(move || read_shard(&shard, &read, |batch| tx.blocking_send(Ok(batch)).is_ok()));
        Ok(builder.build())
    }
}

/// What one partition reads.
struct Read {
    path: AccessPath,
    columns: Vec<SqlColumn>,
    schema: SchemaRef,
    filter: Option<ScanFilter>,
    limit: Option<usize>,
}

/// Reads one shard's documents as `read` says, handing SQL batches to `send` until it returns
/// false or the limit's rows went out.
fn read_shard(shard: &Arc<Shard>, read: &Read, mut send: impl FnMut(RecordBatch) -> bool) -> DFResult<()> {
    let snapshot = shard.snapshot();
    let mut sent = 0usize;
    let mut send = |batch: RecordBatch| -> DFResult<bool> {
        sent += batch.num_rows();
        Ok(send(batch) && read.limit.is_none_or(|l| sent < l))
    };
    let (columns, schema) = (&read.columns, &read.schema);
    let mut send_sql = |b: RecordBatch| send(to_sql_batch(b, columns, schema)?);
    match (&read.path, &read.filter) {
        (AccessPath::ColumnScan, None) => scan(&snapshot, &scan_options(columns, None), &mut send_sql),
        (AccessPath::ColumnScan, Some(f)) => scan(&snapshot, &scan_options(&f.columns, None), &mut |b| {
            let batch = to_sql_batch(b, &f.columns, &f.schema)?;
            let mask = f.predicate.evaluate(&batch)?.into_array(batch.num_rows())?;
            let kept = filter_record_batch(&batch, as_boolean_array(&mask)?)?;
            send(kept.project(&(0..columns.len()).collect::<Vec<_>>())?)
        }),
        (AccessPath::IndexScan(pred), _) => {
            let docs = snapshot.lookup(pred).map_err(to_df)?;
            scan(&snapshot, &scan_options(columns, Some(docs)), &mut send_sql)
        }
        (AccessPath::IndexFetch(pred), _) => {
            let docs = snapshot.lookup(pred).map_err(to_df)?;
            fetch(&snapshot, &docs, &scan_options(columns, None), &mut send_sql)
        }
    }
}

/// What to read: the columns (`_id` alone when none are asked for, as with `count(*)`, so
/// rows are still counted), restricted to `docs` when given.
fn scan_options(columns: &[SqlColumn], docs: Option<RoaringBitmap>) -> ScanOptions {
    let specs = if columns.is_empty() {
        vec![ColumnSpec { path: "_id".into(), output: ColumnOutput::Typed(ValueType::String) }]
    } else {
        columns.iter().map(|c| ColumnSpec { path: c.path.clone(), output: c.output() }).collect()
    };
    ScanOptions { columns: specs, docs, with_doc_number: false }
}

fn scan(snapshot: &ShardSnapshot, opts: &ScanOptions, send: &mut impl FnMut(RecordBatch) -> DFResult<bool>) -> DFResult<()> {
    for batch in snapshot.scan(opts).map_err(to_df)? {
        if !send(batch.map_err(to_df)?)? {
            break;
        }
    }
    Ok(())
}

fn fetch(
    snapshot: &ShardSnapshot,
    docs: &RoaringBitmap,
    opts: &ScanOptions,
    send: &mut impl FnMut(RecordBatch) -> DFResult<bool>,
) -> DFResult<()> {
    let mut it = docs.iter().peekable();
    while it.peek().is_some() {
        let part: RoaringBitmap = it.by_ref().take(FETCH_BATCH as usize).collect();
        if !send(snapshot.fetch(&part, opts).map_err(to_df)?)? {
            break;
        }
    }
    Ok(())
}
