//! The table provider of a collection: its schema comes from the smart schema when the query
//! is planned; filters the converged index can answer are pushed into the scan (those it
//! answers exactly are not checked again above it), which picks
//! its access path by cost ([`super::access_path`]) and reads shards in parallel
//! ([`super::collection_scan`]). A collection with a retention window holding documents past
//! it is read through a filter on `_event_time`, so they never show, even before the
//! background expiry has dropped them.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use arrow_schema::SchemaRef;
use async_trait::async_trait;
use cairn_storage::document::{now_micros, EVENT_TIME_FIELD};
use cairn_storage::{Collection, CollectionStats, Store};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::error::Result as DFResult;
use datafusion::logical_expr::utils::conjunction as conjunction_expr;
use datafusion::logical_expr::{Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_expr::expressions::{BinaryExpr, Column as ColumnExpr, Literal};
use datafusion::physical_plan::filter::FilterExecBuilder;
use datafusion::physical_plan::ExecutionPlan;

use super::access_path::{choose, AccessPath, QueryHint};
use super::collection_scan::{CollectionScanExec, ScanFilter};
use super::pushdown::{conjunction, is_exact, to_predicate};
use crate::error::to_df;
use crate::types::collection_schema::{self as schema, ColumnKind, SqlColumn};

/// A collection as a SQL table.
pub(crate) struct CollectionTable {
    workspace: String,
    name: String,
    collection: Arc<Collection>,
    columns: Vec<SqlColumn>,
    schema: SchemaRef,
    /// The smart schema and counts the table was planned with (also the scan's statistics).
    stats: Arc<CollectionStats>,
    /// Nested paths (not under arrays) the smart schema knows, for [`Self::with_nested`].
    nested: HashMap<String, ColumnKind>,
}

impl fmt::Debug for CollectionTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CollectionTable").field("name", &self.name).field("columns", &self.columns).finish()
    }
}

impl CollectionTable {
    /// The table of `collection` (`name` in `workspace`) as its smart schema stands now.
    pub(crate) fn new(workspace: &str, name: &str, collection: Arc<Collection>) -> CollectionTable {
        let stats = collection.stats();
        let columns = schema::columns(&stats);
        let nested = schema::nested_paths(&stats);
        let schema = schema::arrow_schema(&columns, &nested);
        let (workspace, name) = (workspace.to_owned(), name.to_owned());
        CollectionTable { workspace, name, collection, columns, schema, stats: Arc::new(stats), nested }
    }

    /// This table as the store stands now: the same columns over fresh statistics, or None
    /// when the collection is gone or replaced, or its columns changed (so a plan made with
    /// this table would be stale).
    pub(crate) fn refreshed(&self, store: &Store) -> Option<CollectionTable> {
        let collection = store.collection(&self.workspace, &self.name).ok()?;
        if !Arc::ptr_eq(&collection, &self.collection) {
            return None;
        }
        let fresh = CollectionTable::new(&self.workspace, &self.name, collection);
        if self.columns.get(..fresh.columns.len())? != fresh.columns.as_slice() {
            return None;
        }
        // Nested paths read as their own columns must still be read the same way.
        let nested_hold = self.columns[fresh.columns.len()..].iter().all(|c| match (fresh.nested.get(&c.path), c.kind) {
            (Some(ColumnKind::Typed(now)), ColumnKind::Typed(then)) => *now == then,
            (Some(_), ColumnKind::Variant) => true,
            _ => false,
        });
        let schema = schema::arrow_schema(&self.columns, &fresh.nested);
        (nested_hold && schema == self.schema).then(|| CollectionTable { columns: self.columns.clone(), schema, ..fresh })
    }

    /// How many columns the table has.
    pub(crate) fn schema_len(&self) -> usize {
        self.columns.len()
    }

    /// This table with extra columns for nested paths (top-level field, keys, and whether the
    /// access expects the path's one scalar type or any value), read straight from the column
    /// index; None when no path is known to the smart schema as asked. Each column is named by
    /// [`nested_column_name`].
    pub(crate) fn with_nested(&self, paths: &[(String, Vec<String>, bool)]) -> Option<CollectionTable> {
        let mut columns = self.columns.clone();
        for (top, keys, typed) in paths {
            let path = schema::path_text(top, keys);
            let name = nested_column_name(top, keys, *typed);
            let kind = match self.nested.get(&path) {
                Some(ColumnKind::Typed(t)) if *typed => ColumnKind::Typed(*t),
                Some(_) if !typed => ColumnKind::Variant,
                _ => continue,
            };
            if !columns.iter().any(|c| c.name == name) {
                columns.push(SqlColumn { name, path, kind });
            }
        }
        if columns.len() == self.columns.len() {
            return None;
        }
        let schema = schema::arrow_schema(&columns, &self.nested);
        Some(CollectionTable {
            workspace: self.workspace.clone(),
            name: self.name.clone(),
            collection: self.collection.clone(),
            columns,
            schema,
            stats: self.stats.clone(),
            nested: self.nested.clone(),
        })
    }

    /// The `exact` filters as a column scan applies them (None when there are none): over the
    /// columns `read` (the scan's projection first, then the columns only the filter needs).
    fn scan_filter(&self, state: &dyn Session, read: &[usize], exact: Vec<Expr>) -> DFResult<Option<ScanFilter>> {
        let index = conjunction(exact.iter().filter_map(|f| to_predicate(f, &self.columns)).collect());
        let (Some(expr), Some(index)) = (conjunction_expr(exact), index) else { return Ok(None) };
        let schema = Arc::new(self.schema.project(read)?);
        let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
        // The scan's columns are unqualified; the filter names them by table.
        let expr = expr
            .transform(|e| match e {
                Expr::Column(c) => Ok(Transformed::yes(Expr::Column(Column::new_unqualified(c.name)))),
                e => Ok(Transformed::no(e)),
            })?
            .data;
        let predicate = state.create_physical_expr(expr, &df_schema)?;
        Ok(Some(ScanFilter { columns: read.iter().map(|i| self.columns[*i].clone()).collect(), schema, predicate, index }))
    }
}

/// `scan`'s rows whose event time (its output `column`) is at or after `cutoff`, projected
/// to its first `shown` columns.
fn unexpired(scan: Arc<dyn ExecutionPlan>, column: usize, cutoff: i64, shown: usize) -> DFResult<Arc<dyn ExecutionPlan>> {
    let schema = scan.schema();
    let field = schema.field(column);
    let cutoff = ScalarValue::TimestampMicrosecond(Some(cutoff), None).cast_to(field.data_type())?;
    let event_time = Arc::new(ColumnExpr::new(field.name(), column));
    let predicate = Arc::new(BinaryExpr::new(event_time, Operator::GtEq, Arc::new(Literal::new(cutoff))));
    let projection = (shown < schema.fields().len()).then(|| (0..shown).collect());
    Ok(Arc::new(FilterExecBuilder::new(predicate, scan).apply_projection(projection)?.build()?))
}

/// The column name a nested path is read under: its text form in JSONPath style
/// (`$.commit.collection` typed, `$:commit.collection` as variants), which keeps it apart
/// from top-level fields' columns.
pub(crate) fn nested_column_name(top: &str, keys: &[String], typed: bool) -> String {
    format!("${}{}", if typed { '.' } else { ':' }, schema::path_text(top, keys))
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
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        let mut indices: Vec<usize> = projection.cloned().unwrap_or_else(|| (0..self.columns.len()).collect());
        let shown = indices.len();
        // Past a retention window's cutoff, as of now, documents the background expiry has
        // not dropped yet are filtered out (the scan reads `_event_time` too); without any,
        // the scan stays as it is, and aggregates the index answers are still answered there.
        let cutoff = match self.collection.config().retention_micros {
            Some(window) => {
                let cutoff = now_micros().saturating_sub(window);
                self.collection.any_expired(cutoff).map_err(to_df)?.then_some(cutoff)
            }
            None => None,
        };
        let retention = cutoff.and_then(|cutoff| {
            let at = self.columns.iter().position(|c| c.path == EVENT_TIME_FIELD)?;
            let read_at = indices.iter().position(|i| *i == at).unwrap_or_else(|| {
                indices.push(at);
                indices.len() - 1
            });
            Some((read_at, cutoff))
        });
        let columns: Vec<SqlColumn> = indices.iter().map(|i| self.columns[*i].clone()).collect();
        let schema = Arc::new(self.schema.project(&indices)?);
        let predicate = conjunction(filters.iter().filter_map(|f| to_predicate(f, &self.columns)).collect());
        // Filters the index answers exactly are not checked again above the scan: the index
        // applies them, or a column scan evaluates them itself over a few more columns.
        let exact: Vec<Expr> = filters.iter().filter(|f| is_exact(f, &self.columns)).cloned().collect();
        // A limit holds when the scan applies every filter itself.
        let limit = if exact.len() == filters.len() && retention.is_none() { limit } else { None };
        let mut filter_only = BTreeSet::new();
        for c in exact.iter().flat_map(|e| e.column_refs()) {
            filter_only.insert(self.schema.index_of(&c.name)?);
        }
        let read: Vec<usize> = indices.iter().copied().chain(filter_only.into_iter().filter(|i| !indices.contains(i))).collect();
        let hint = state.config().get_extension::<QueryHint>().map(|h| h.0);
        let sizes = (columns.len(), read.len());
        let choice = choose(&self.collection, &self.stats, predicate, sizes, hint).map_err(to_df)?;
        let filter = match choice.path {
            AccessPath::ColumnScan => self.scan_filter(state, &read, exact)?,
            _ => None,
        };
        let scan = Arc::new(CollectionScanExec::new(self.collection.clone(), &self.name, columns, schema, choice, filter, limit));
        match retention {
            Some((column, cutoff)) => unexpired(scan, column, cutoff, shown),
            None => Ok(scan),
        }
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DFResult<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| match to_predicate(f, &self.columns) {
                Some(_) if is_exact(f, &self.columns) => TableProviderFilterPushDown::Exact,
                Some(_) => TableProviderFilterPushDown::Inexact,
                None => TableProviderFilterPushDown::Unsupported,
            })
            .collect())
    }
}
