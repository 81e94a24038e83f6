//! PostgreSQL's system catalog, for the tools that read it: psql's `\d` commands, drivers'
//! metadata calls (JDBC `getTables`, SQLAlchemy's inspector) and BI tools' connect-time
//! queries. `datafusion-pg-catalog` provides the `pg_catalog` schema (built from the catalog
//! on each read, so new collections and fields appear at once), its functions, and the
//! rewrite of PostgreSQL-only SQL those tools send. Cairn adjusts what is its own: variant
//! columns are `jsonb`, the current schema is the session's workspace, and `version()`
//! names the PostgreSQL release Cairn speaks for.

use std::fmt;
use std::sync::Arc;

use arrow_array::{ArrayRef, ListArray, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{CatalogProviderList, SchemaProvider, TableProvider};
use datafusion::datasource::TableType;
use datafusion::common::{exec_err, Result as DFResult, ScalarValue};
use datafusion::datasource::{provider_as_source, ViewTable};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::{
    col, lit, when, ColumnarValue, LogicalPlanBuilder, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use datafusion_pg_catalog::pg_catalog::catalog_info::CatalogInfo;
use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_pg_catalog::pg_catalog::{PgCatalogSchemaProvider, PgCatalogStaticTables};
use datafusion_pg_catalog::setup_pg_catalog;

use crate::error::{EngineError, Result};
use crate::planner::CairnTypes;
use crate::variant::{is_dynamic, VARIANT};

/// The PostgreSQL release whose protocol and catalog Cairn follows.
pub const PG_VERSION: &str = "16.6";

/// The schema name.
const PG_CATALOG: &str = "pg_catalog";

/// Installs `pg_catalog` into catalog `catalog` of `ctx`, with its functions.
pub fn install(ctx: &SessionContext, catalog: &str) -> Result<()> {
    setup_pg_catalog(ctx, catalog, EmptyContextProvider).map_err(|e| EngineError::DataFusion(*e))?;
    // pg_catalog installs its own type planner; Cairn's reads JSON types and defers to it.
    let state = ctx.state_ref();
    let existing = state.read().clone();
    *state.write() = SessionStateBuilder::new_from_existing(existing).with_type_planner(Arc::new(CairnTypes::default())).build();
    // The schema again, reading collections' columns as Cairn types them.
    let columns = CairnColumns(ctx.state().catalog_list().clone());
    let tables = PgCatalogStaticTables::try_new()?;
    let inner = Arc::new(PgCatalogSchemaProvider::try_new(columns, Arc::new(tables), EmptyContextProvider)?);
    let catalog = ctx.catalog(catalog).ok_or_else(|| EngineError::Invalid(format!("no catalog {catalog}")))?;
    catalog.register_schema(PG_CATALOG, Arc::new(PgCatalog { inner }))?;
    for udf in [CurrentSchema::udf(false), CurrentSchema::udf(true), version(), owner(), constant("session_user", SUPERUSER.to_owned())] {
        ctx.register_udf(udf);
    }
    Ok(())
}

/// The catalog as pg_catalog's tables read it: a collection's arrays (lists of variants) are
/// variants too, so every dynamically typed column reads as binary, which [`PgCatalog`] shows
/// as `jsonb`.
#[derive(Clone)]
struct CairnColumns(Arc<dyn CatalogProviderList>);

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
/// as `bytea`.
struct PgCatalog {
    inner: Arc<dyn SchemaProvider>,
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
        self.inner.table_names()
    }

    async fn table(&self, name: &str) -> DFResult<Option<Arc<dyn TableProvider>>> {
        let Some(table) = self.inner.table(name).await? else { return Ok(None) };
        if !name.eq_ignore_ascii_case("pg_attribute") {
            return Ok(Some(table));
        }
        let columns = table.schema().fields().iter().map(|f| col(f.name().as_str())).collect::<Vec<_>>();
        let columns = columns
            .into_iter()
            .map(|c| match &c {
                datafusion::logical_expr::Expr::Column(column) if column.name == "atttypid" => {
                    when(c.clone().eq(lit(BYTEA)), lit(JSONB)).otherwise(c).map(|e| e.alias("atttypid"))
                }
                _ => Ok(c),
            })
            .collect::<DFResult<Vec<_>>>()?;
        let plan = LogicalPlanBuilder::scan(name, provider_as_source(table), None)?.project(columns)?.build()?;
        Ok(Some(Arc::new(ViewTable::new(plan, None))))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.inner.table_exist(name)
    }
}

/// `current_schema()` and `current_schemas(implicit)`: the session's workspace (the default
/// schema it plans under), then with `implicit` the system schemas searched before it.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CurrentSchema {
    list: bool,
    signature: Signature,
}

impl CurrentSchema {
    fn udf(list: bool) -> ScalarUDF {
        let signature = match list {
            true => Signature::exact(vec![DataType::Boolean], Volatility::Stable),
            false => Signature::exact(vec![], Volatility::Stable),
        };
        ScalarUDF::new_from_impl(CurrentSchema { list, signature })
    }
}

impl ScalarUDFImpl for CurrentSchema {
    fn name(&self) -> &str {
        if self.list {
            "current_schemas"
        } else {
            "current_schema"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DFResult<DataType> {
        Ok(match self.list {
            true => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            false => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DFResult<ColumnarValue> {
        let current = args.config_options.catalog.default_schema.clone();
        if !self.list {
            return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(current))));
        }
        let implicit = match args.args.first() {
            Some(ColumnarValue::Scalar(ScalarValue::Boolean(b))) => b.unwrap_or(false),
            _ => return exec_err!("current_schemas takes a constant boolean"),
        };
        let mut names = Vec::new();
        if implicit {
            names.push(PG_CATALOG.to_owned());
        }
        names.push(current);
        let values: ArrayRef = Arc::new(StringArray::from(names));
        let list = ListArray::new(
            Arc::new(Field::new("item", DataType::Utf8, true)),
            arrow_buffer::OffsetBuffer::from_lengths([values.len()]),
            values,
            None,
        );
        Ok(ColumnarValue::Scalar(ScalarValue::List(Arc::new(list))))
    }
}

/// The one user until roles exist.
const SUPERUSER: &str = "cairn";

/// `pg_get_userbyid(oid)`: every object is the superuser's.
fn owner() -> ScalarUDF {
    datafusion::logical_expr::create_udf(
        "pg_get_userbyid",
        vec![DataType::Int32],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(|args: &[ColumnarValue]| {
            let rows = match args.first() {
                Some(ColumnarValue::Array(a)) => a.len(),
                _ => 1,
            };
            Ok(ColumnarValue::Array(Arc::new(StringArray::from(vec![SUPERUSER; rows]))))
        }),
    )
}

/// `version()`, as PostgreSQL words it (drivers and ORMs parse the release from it).
fn version() -> ScalarUDF {
    constant("version", format!("PostgreSQL {PG_VERSION} (Cairn {}) on x86_64-pc-linux-gnu, 64-bit", env!("CARGO_PKG_VERSION")))
}

/// A function of no arguments returning `value`.
fn constant(name: &str, value: String) -> ScalarUDF {
    datafusion::logical_expr::create_udf(
        name,
        vec![],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(move |_: &[ColumnarValue]| Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(value.clone()))))),
    )
}
