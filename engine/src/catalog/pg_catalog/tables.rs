//! `pg_catalog`'s tables as Cairn shows them: collections' dynamically typed columns read as
//! `jsonb`, `pg_class` with `reloptions`, and the constraint and index tables (which describe
//! PostgreSQL's own system tables) empty with `int2[]` key columns; and Cairn's own
//! `pg_stat_ingest` ([`super::ingest_stats`]) and `pg_stat_sources` ([`super::source_stats`]).

use std::fmt;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use cairn_connectors::Ingest;
use datafusion::catalog::{CatalogProviderList, SchemaProvider, TableProvider};
use datafusion::common::{Result as DFResult, ScalarValue};
use datafusion::datasource::{provider_as_source, TableType, ViewTable};
use datafusion::logical_expr::{col, lit, when, Expr, LogicalPlanBuilder};
use datafusion_pg_catalog::pg_catalog::catalog_info::CatalogInfo;

use super::ingest_stats::{self, PG_STAT_INGEST};
use super::source_stats::{self, PG_STAT_SOURCES};
use crate::types::variant::{is_dynamic, VARIANT};

/// The catalog as pg_catalog's tables read it: a collection's arrays (lists of variants) are
/// variants too, so every dynamically typed column reads as binary, which [`PgCatalog`] shows
/// as `jsonb`.
#[derive(Clone)]
pub(super) struct CairnColumns(pub(super) Arc<dyn CatalogProviderList>);

impl fmt::Debug for CairnColumns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CairnColumns")
    }
}

#[async_trait]
impl CatalogInfo for CairnColumns {
    async fn catalog_names(&self) -> DFResult<Vec<String>> {
        self.0.catalog_names().await
    }

    async fn schema_names(&self, catalog: &str) -> DFResult<Option<Vec<String>>> {
        self.0.schema_names(catalog).await
    }

    async fn table_names(&self, catalog: &str, schema: &str) -> DFResult<Option<Vec<String>>> {
        self.0.table_names(catalog, schema).await
    }

    async fn table_schema(&self, catalog: &str, schema: &str, table: &str) -> DFResult<Option<SchemaRef>> {
        let Some(columns) = self.0.table_schema(catalog, schema, table).await? else { return Ok(None) };
        let fields: Vec<Field> = columns
            .fields()
            .iter()
            .map(|f| match is_dynamic(f.data_type()) {
                true => Field::new(f.name(), VARIANT, f.is_nullable()),
                false => f.as_ref().clone(),
            })
            .collect();
        Ok(Some(Arc::new(Schema::new(fields))))
    }

    async fn table_type(&self, catalog: &str, schema: &str, table: &str) -> DFResult<Option<TableType>> {
        self.0.table_type(catalog, schema, table).await
    }
}

/// `pg_catalog` as datafusion-pg-catalog builds it, with variant columns typed `jsonb` in
/// `pg_attribute`: the only binary columns a collection has are variants, which arrive there
/// as `bytea`; with `pg_stat_ingest` beside its tables.
pub(super) struct PgCatalog {
    pub(super) inner: Arc<dyn SchemaProvider>,
    pub(super) ingest: Arc<Ingest>,
}

impl fmt::Debug for PgCatalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PgCatalog")
    }
}

/// PostgreSQL's type ids.
const BYTEA: i32 = 17;
const JSONB: i32 = 3802;

#[async_trait]
impl SchemaProvider for PgCatalog {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.inner.table_names();
        names.push(PG_STAT_INGEST.to_owned());
        names.push(PG_STAT_SOURCES.to_owned());
        names
    }

    async fn table(&self, name: &str) -> DFResult<Option<Arc<dyn TableProvider>>> {
        if name.eq_ignore_ascii_case(PG_STAT_INGEST) {
            return Ok(Some(ingest_stats::table(&self.ingest)?));
        }
        if name.eq_ignore_ascii_case(PG_STAT_SOURCES) {
            return Ok(Some(source_stats::table(&self.ingest)?));
        }
        let Some(table) = self.inner.table(name).await? else { return Ok(None) };
        if let Some(arrays) = ARRAY_COLUMNS.iter().find(|(t, _)| name.eq_ignore_ascii_case(t)).map(|(_, a)| a) {
            return Ok(Some(without_rows(&table.schema(), arrays)?));
        }
        if name.eq_ignore_ascii_case("pg_class") {
            return Ok(Some(with_reloptions(table)?));
        }
        if !name.eq_ignore_ascii_case("pg_attribute") {
            return Ok(Some(table));
        }
        let columns = all_columns(&table)
            .into_iter()
            .map(|c| match &c {
                Expr::Column(column) if column.name == "atttypid" => {
                    when(c.clone().eq(lit(BYTEA)), lit(JSONB)).otherwise(c).map(|e| e.alias("atttypid"))
                }
                _ => Ok(c),
            })
            .collect::<DFResult<Vec<_>>>()?;
        Ok(Some(view(name, table, columns)?))
    }

    fn table_exist(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case(PG_STAT_INGEST) || name.eq_ignore_ascii_case(PG_STAT_SOURCES) || self.inner.table_exist(name)
    }
}

/// Tables whose rows describe PostgreSQL's own system tables, not Cairn's collections (which
/// have no declared constraints or indexes), and their array columns, which datafusion-pg-catalog
/// keeps as text: they are empty here, with those columns `int2[]` as tools `unnest` them.
const ARRAY_COLUMNS: &[(&str, &[&str])] =
    &[("pg_constraint", &["conkey", "confkey"]), ("pg_index", &["indkey", "indclass", "indoption", "indcollation"])];

/// `pg_class` with PostgreSQL's `reloptions` (storage options, `text[]`): NULL, as no
/// collection has any.
fn with_reloptions(table: Arc<dyn TableProvider>) -> DFResult<Arc<dyn TableProvider>> {
    let mut columns = all_columns(&table);
    let text_list = DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
    columns.push(lit(ScalarValue::try_from(&text_list)?).alias("reloptions"));
    view("pg_class", table, columns)
}

/// Every column of `table`, as expressions to project.
fn all_columns(table: &Arc<dyn TableProvider>) -> Vec<Expr> {
    table.schema().fields().iter().map(|f| col(f.name().as_str())).collect()
}

/// A view of `table` (named `name`) projecting `columns`.
fn view(name: &str, table: Arc<dyn TableProvider>, columns: Vec<Expr>) -> DFResult<Arc<dyn TableProvider>> {
    let plan = LogicalPlanBuilder::scan(name, provider_as_source(table), None)?.project(columns)?.build()?;
    Ok(Arc::new(ViewTable::new(plan, None)))
}

/// An empty table with `schema`'s columns, `arrays` of them typed `int2[]`.
fn without_rows(schema: &SchemaRef, arrays: &[&str]) -> DFResult<Arc<dyn TableProvider>> {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match arrays.contains(&f.name().as_str()) {
            true => Field::new(f.name(), DataType::List(Arc::new(Field::new("item", DataType::Int16, true))), true),
            false => f.as_ref().clone(),
        })
        .collect();
    Ok(Arc::new(datafusion::datasource::MemTable::try_new(Arc::new(Schema::new(fields)), vec![vec![]])?))
}
