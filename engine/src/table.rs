//! The table provider of a collection: its schema comes from the smart schema when the query
//! is planned, and its scan reads the chosen columns from the column index, one partition per
//! shard so DataFusion scans shards in parallel.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use arrow_schema::SchemaRef;
use async_trait::async_trait;
use cairn_storage::shard::Shard;
use cairn_storage::{Collection, ColumnOutput, ColumnSpec, ScanOptions, ValueType};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result as DFResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::ExecutionPlan;

use crate::convert::to_sql_batch;
use crate::error::to_df;
use crate::schema::{self, ColumnKind, SqlColumn};

/// A collection as a SQL table.
pub struct CollectionTable {
    name: String,
    collection: Arc<Collection>,
    columns: Vec<SqlColumn>,
    schema: SchemaRef,
    /// Nested paths (not under arrays) the smart schema knows, for [`Self::with_nested`].
    nested: HashSet<String>,
}

impl fmt::Debug for CollectionTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CollectionTable").field("name", &self.name).field("columns", &self.columns).finish()
    }
}

impl CollectionTable {
    /// The table of `collection` as its smart schema stands now.
    pub fn new(name: &str, collection: Arc<Collection>) -> CollectionTable {
        let stats = collection.stats();
        let columns = schema::columns(&stats);
        let schema = schema::arrow_schema(&columns);
        let nested = schema::nested_paths(&stats);
        CollectionTable { name: name.to_owned(), collection, columns, schema, nested }
    }

    /// How many columns the table has.
    pub fn schema_len(&self) -> usize {
        self.columns.len()
    }

    /// This table with extra variant columns for nested paths (top-level field and keys),
    /// read straight from the column index; None when no path is known to the smart schema.
    /// Each column is named by [`nested_column_name`].
    pub fn with_nested(&self, paths: &[(String, Vec<String>)]) -> Option<CollectionTable> {
        let mut columns = self.columns.clone();
        for (top, keys) in paths {
            let path = schema::path_text(top, keys);
            let name = nested_column_name(top, keys);
            if self.nested.contains(&path) && !columns.iter().any(|c| c.name == name) {
                columns.push(SqlColumn { name, path, kind: ColumnKind::Variant });
            }
        }
        if columns.len() == self.columns.len() {
            return None;
        }
        let schema = schema::arrow_schema(&columns);
        Some(CollectionTable {
            name: self.name.clone(),
            collection: self.collection.clone(),
            columns,
            schema,
            nested: self.nested.clone(),
        })
    }
}

/// The column name a nested path is read under: its text form in JSONPath style
/// (`$.commit.collection`), which keeps it apart from top-level fields' columns.
pub fn nested_column_name(top: &str, keys: &[String]) -> String {
    format!("$.{}", schema::path_text(top, keys))
}

#[async_trait]
impl TableProvider for CollectionTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        let indices: Vec<usize> = projection.cloned().unwrap_or_else(|| (0..self.columns.len()).collect());
        let columns: Vec<SqlColumn> = indices.iter().map(|i| self.columns[*i].clone()).collect();
        let schema = Arc::new(self.schema.project(&indices)?);
        let partitions = self
            .collection
            .shards()
            .iter()
            .map(|shard| {
                Arc::new(ShardColumnScan { shard: shard.clone(), columns: columns.clone(), schema: schema.clone() })
                    as Arc<dyn PartitionStream>
            })
            .collect();
        Ok(Arc::new(StreamingTableExec::try_new(schema, partitions, None, vec![], false, limit)?))
    }
}

/// One shard's column-index scan of the chosen columns.
struct ShardColumnScan {
    shard: Arc<Shard>,
    columns: Vec<SqlColumn>,
    schema: SchemaRef,
}

impl fmt::Debug for ShardColumnScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardColumnScan").field("columns", &self.columns).finish()
    }
}

impl PartitionStream for ShardColumnScan {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema.clone(), 2);
        let tx = builder.tx();
        let (shard, columns, schema) = (self.shard.clone(), self.columns.clone(), self.schema.clone());
        builder.spawn_blocking(move || {
            let snapshot = shard.snapshot();
            // With no columns asked for (`count(*)`), `_id` is read for the row count.
            let specs = if columns.is_empty() {
                vec![ColumnSpec { path: "_id".into(), output: ColumnOutput::Typed(ValueType::String) }]
            } else {
                columns.iter().map(|c| ColumnSpec { path: c.path.clone(), output: c.output() }).collect()
            };
            let opts = ScanOptions { columns: specs, docs: None, with_doc_number: false };
            for batch in snapshot.scan(&opts).map_err(to_df)? {
                let batch = to_sql_batch(batch.map_err(to_df)?, &columns, &schema)?;
                if tx.blocking_send(Ok(batch)).is_err() {
                    break; // The consumer is gone (LIMIT reached or query cancelled).
                }
            }
            Ok(())
        });
        builder.build()
    }
}
