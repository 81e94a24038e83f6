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
use datafusion::execution::registry::FunctionRegistry;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::DFSchema;
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::{
    col, lit, when, Expr, ColumnarValue, LogicalPlanBuilder, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use datafusion_pg_catalog::pg_catalog::catalog_info::CatalogInfo;
use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_pg_catalog::pg_catalog::{PgCatalogSchemaProvider, PgCatalogStaticTables};
use datafusion_pg_catalog::setup_pg_catalog;

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    visit_expressions_mut, Expr as SqlExpr, GroupByExpr, SelectItem, SetExpr, Statement, Value as SqlValue,
};

use crate::error::{EngineError, Result};
use crate::statements::function_call;
use crate::planner::CairnTypes;
use crate::variant::{is_dynamic, VARIANT};

/// The PostgreSQL release whose protocol and catalog Cairn follows.
pub const PG_VERSION: &str = "16.6";
/// The version Cairn reports as PostgreSQL's `server_version`.
pub const SERVER_VERSION: &str = concat!("16.6 (Cairn ", env!("CARGO_PKG_VERSION"), ")");

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
    ctx.state_ref().write().register_function_rewrite(Arc::new(LikeEscape))?;
    for udf in [CurrentSchema::udf(false), CurrentSchema::udf(true), version(), owner(), to_regtype(), session_user(SUPERUSER), CurrentSetting::udf(), crate::functions::pg_format::Format::udf()]
        .into_iter()
        .chain(undescribed())
        .chain(["pg_type_is_visible", "pg_function_is_visible"].map(visible))
    {
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
        self.inner.table_exist(name)
    }
}

/// Tables whose rows describe PostgreSQL's own system tables, not Cairn's collections (which
/// have no declared constraints or indexes), and their array columns, which datafusion-pg-catalog
/// keeps as text: they are empty here, with those columns `int2[]` as tools `unnest` them.
const ARRAY_COLUMNS: &[(&str, &[&str])] = &[
    ("pg_constraint", &["conkey", "confkey"]),
    ("pg_index", &["indkey", "indclass", "indoption", "indcollation"]),
];

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

/// `current_setting(name [, missing_ok])`: the server's settings tools ask for at connect
/// (`server_version_num`, `search_path`, …); an unknown one is an error unless `missing_ok`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CurrentSetting {
    signature: Signature,
}

impl CurrentSetting {
    fn udf() -> ScalarUDF {
        let signature = Signature::one_of(
            vec![
                datafusion::logical_expr::TypeSignature::Exact(vec![DataType::Utf8]),
                datafusion::logical_expr::TypeSignature::Exact(vec![DataType::Utf8, DataType::Boolean]),
            ],
            Volatility::Stable,
        );
        ScalarUDF::new_from_impl(CurrentSetting { signature })
    }

    /// The value of setting `name` (case-insensitive) in a session planning in `schema`.
    fn value(name: &str, schema: &str) -> Option<String> {
        let fixed = match name.to_ascii_lowercase().as_str() {
            "search_path" => return Some(format!("\"$user\", {schema}")),
            "server_version" => SERVER_VERSION,
            "server_version_num" => return Some(version_num()),
            "server_encoding" | "client_encoding" => "UTF8",
            "datestyle" => "ISO, MDY",
            "timezone" | "log_timezone" => "UTC",
            "intervalstyle" => "postgres",
            "standard_conforming_strings" | "integer_datetimes" => "on",
            "max_identifier_length" => "63",
            "block_size" => "8192",
            "default_transaction_isolation" | "transaction_isolation" => "read committed",
            "default_transaction_read_only" | "transaction_read_only" => "off",
            "lc_collate" | "lc_ctype" => "C.UTF-8",
            "application_name" => "",
            _ => return None,
        };
        Some(fixed.to_owned())
    }
}

/// `server_version_num` for [`PG_VERSION`]: 16.6 is 160006.
fn version_num() -> String {
    let mut parts = PG_VERSION.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major * 10000 + minor).to_string()
}

impl ScalarUDFImpl for CurrentSetting {
    fn name(&self) -> &str {
        "current_setting"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DFResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DFResult<ColumnarValue> {
        let name = match args.args.first() {
            Some(ColumnarValue::Scalar(ScalarValue::Utf8(Some(n)))) => n.clone(),
            _ => return exec_err!("current_setting takes a constant setting name"),
        };
        let missing_ok = matches!(args.args.get(1), Some(ColumnarValue::Scalar(ScalarValue::Boolean(Some(true)))));
        match CurrentSetting::value(&name, &args.config_options.catalog.default_schema) {
            Some(v) => Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(v)))),
            None if missing_ok => Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None))),
            None => exec_err!("unrecognized configuration parameter \"{name}\""),
        }
    }
}

/// `LIKE … ESCAPE c` for any `c` (SQLAlchemy escapes with `/`): DataFusion takes only a
/// backslash, so the pattern's `c` becomes one (and its own backslashes are escaped).
#[derive(Debug)]
struct LikeEscape;

impl FunctionRewrite for LikeEscape {
    fn name(&self) -> &str {
        "cairn_like_escape"
    }

    fn rewrite(&self, expr: Expr, _schema: &DFSchema, _config: &ConfigOptions) -> DFResult<Transformed<Expr>> {
        let Expr::Like(like) = expr else { return Ok(Transformed::no(expr)) };
        let Some(escape) = like.escape_char.filter(|c| *c != '\\') else { return Ok(Transformed::no(Expr::Like(like))) };
        let replace = |e: Expr, from: String, to: &str| datafusion::functions::string::expr_fn::replace(e, lit(from), lit(to));
        let pattern = replace(replace(*like.pattern, "\\".into(), "\\\\"), escape.to_string(), "\\");
        Ok(Transformed::yes(Expr::Like(Like { pattern: Box::new(pattern), escape_char: Some('\\'), ..like })))
    }
}

/// Aggregates for the check below: a subquery projecting one of these already yields one row.
const AGGREGATES: &[&str] = &["count", "max", "min", "sum", "avg", "array_agg", "string_agg", "bool_and", "bool_or", "every"];

/// Adapts a catalog query, written for PostgreSQL, to what DataFusion plans: correlated
/// scalar subqueries become aggregates, `generate_subscripts` an `unnest`, and comment lookups
/// NULL (see each rewrite).
pub fn adapt_catalog_query(statement: &mut Statement) {
    let _visited = visit_expressions_mut(statement, |e| {
        subscripts_as_unnest(e);
        no_comments(e);
        aggregate_scalar_subquery(e);
        ControlFlow::<()>::Continue(())
    });
}

/// Makes a correlated scalar subquery an aggregate (`(SELECT x …)` becomes
/// `(SELECT max(x) …)`): PostgreSQL runs such a subquery as long as it returns at most one
/// row, which catalog lookups by oid do, while DataFusion requires the aggregate. Tools'
/// column-reflection queries (SQLAlchemy's, among others) are written this way.
fn aggregate_scalar_subquery(e: &mut SqlExpr) {
    let SqlExpr::Subquery(query) = e else { return };
    let SetExpr::Select(select) = query.body.as_mut() else { return };
    let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(g, _) if g.is_empty());
    if let ([SelectItem::UnnamedExpr(x) | SelectItem::ExprWithAlias { expr: x, .. }], false, None) =
        (select.projection.as_mut_slice(), grouped, &query.limit_clause)
    {
        if !function_named(x, AGGREGATES) {
            let inner = std::mem::replace(x, SqlExpr::value(SqlValue::Null));
            *x = function_call("max", inner);
        }
    }
}

/// Whether `e` calls a function with one of `names` (lower case), qualified or not.
fn function_named(e: &SqlExpr, names: &[&str]) -> bool {
    matches!(e, SqlExpr::Function(f) if f.name.0.last().and_then(|p| p.as_ident()).is_some_and(|i| names.contains(&i.value.to_ascii_lowercase().as_str())))
}

/// `generate_subscripts(a, 1)`, a set-returning function DataFusion lacks, becomes
/// `unnest(generate_series(1, cardinality(a)))`: the same subscripts, beside `unnest(a)` in a
/// select list (SQLAlchemy's constraint and index queries pair them).
fn subscripts_as_unnest(e: &mut SqlExpr) {
    if !function_named(e, &["generate_subscripts"]) {
        return;
    }
    let SqlExpr::Function(f) = e else { return };
    let datafusion::sql::sqlparser::ast::FunctionArguments::List(list) = &f.args else { return };
    let Some(datafusion::sql::sqlparser::ast::FunctionArg::Unnamed(datafusion::sql::sqlparser::ast::FunctionArgExpr::Expr(array))) =
        list.args.first()
    else {
        return;
    };
    let text = format!("unnest(generate_series(1, CAST(cardinality({array}) AS BIGINT)))");
    if let Ok(rewritten) = datafusion::sql::sqlparser::parser::Parser::new(&datafusion::sql::sqlparser::dialect::PostgreSqlDialect {})
        .try_with_sql(&text)
        .and_then(|mut p| p.parse_expr())
    {
        *e = rewritten;
    }
}

/// `col_description(…)`, `obj_description(…)` and `shobj_description(…)` are NULL without
/// evaluating their arguments: nothing in Cairn has a comment, and tools pass oids computed
/// in ways DataFusion cannot plan (Metabase: `format('%I.%I', schema, table)::regclass`).
fn no_comments(e: &mut SqlExpr) {
    if function_named(e, &["col_description", "obj_description", "shobj_description"]) {
        *e = SqlExpr::Cast {
            kind: datafusion::sql::sqlparser::ast::CastKind::Cast,
            expr: Box::new(SqlExpr::value(SqlValue::Null)),
            data_type: datafusion::sql::sqlparser::ast::DataType::Text,
            array: false,
            format: None,
        };
    }
}

/// PostgreSQL's built-in types by name (and their SQL spellings), with their oids.
const TYPE_OIDS: &[(&str, i32)] = &[
    ("bool", 16), ("boolean", 16), ("bytea", 17), ("char", 18), ("name", 19), ("int8", 20), ("bigint", 20),
    ("int2", 21), ("smallint", 21), ("int4", 23), ("integer", 23), ("int", 23), ("text", 25), ("oid", 26),
    ("json", 114), ("xml", 142), ("float4", 700), ("real", 700), ("float8", 701), ("double precision", 701),
    ("bpchar", 1042), ("character", 1042), ("varchar", 1043), ("character varying", 1043), ("date", 1082),
    ("time", 1083), ("time without time zone", 1083), ("timestamp", 1114), ("timestamp without time zone", 1114),
    ("timestamptz", 1184), ("timestamp with time zone", 1184), ("interval", 1186), ("numeric", 1700),
    ("decimal", 1700), ("uuid", 2950), ("jsonb", 3802), ("regclass", 2205), ("regtype", 2206),
];

/// `to_regtype(name)`: the oid of a built-in type, NULL for a type Cairn does not have (drivers
/// probe for extension types such as `hstore` this way).
fn to_regtype() -> ScalarUDF {
    datafusion::logical_expr::create_udf(
        "to_regtype",
        vec![DataType::Utf8],
        DataType::Int32,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let names = ColumnarValue::values_to_arrays(args)?;
            let names = names.first().and_then(|a| a.as_any().downcast_ref::<StringArray>()).cloned().unwrap_or_else(|| StringArray::from(Vec::<&str>::new()));
            let oids: arrow_array::Int32Array = names
                .iter()
                .map(|n| {
                    let n = n?.trim().trim_start_matches("pg_catalog.").to_ascii_lowercase();
                    TYPE_OIDS.iter().find(|(name, _)| *name == n).map(|(_, oid)| *oid)
                })
                .collect();
            Ok(ColumnarValue::Array(Arc::new(oids)))
        }),
    )
}

/// `pg_type_is_visible(oid)` and its kin: everything Cairn lists is on the search path.
fn visible(name: &str) -> ScalarUDF {
    fixed(name, vec![DataType::Int32], Volatility::Stable, ScalarValue::Boolean(Some(true)))
}

/// Descriptions and definitions of what Cairn does not have (column comments, indexes):
/// `col_description(oid, n)` and `pg_get_indexdef(oid, n, pretty)` are NULL.
fn undescribed() -> [ScalarUDF; 2] {
    let null = ScalarValue::Utf8(None);
    [
        fixed("col_description", vec![DataType::Int32, DataType::Int64], Volatility::Stable, null.clone()),
        fixed("pg_get_indexdef", vec![DataType::Int32, DataType::Int64, DataType::Boolean], Volatility::Stable, null),
    ]
}

/// The superuser every store has.
pub use cairn_storage::access::SUPERUSER;

/// `pg_get_userbyid(oid)`: every object is the superuser's.
fn owner() -> ScalarUDF {
    fixed("pg_get_userbyid", vec![DataType::Int32], Volatility::Stable, ScalarValue::Utf8(Some(SUPERUSER.to_owned())))
}

/// `version()`, as PostgreSQL words it (drivers and ORMs parse the release from it).
fn version() -> ScalarUDF {
    constant("version", format!("PostgreSQL {PG_VERSION} (Cairn {}) on x86_64-pc-linux-gnu, 64-bit", env!("CARGO_PKG_VERSION")))
}

/// `session_user` (and so `current_user`) answering `role`.
pub(crate) fn session_user(role: &str) -> ScalarUDF {
    constant("session_user", role.to_owned())
}

/// A function of no arguments returning `value`.
fn constant(name: &str, value: String) -> ScalarUDF {
    fixed(name, vec![], Volatility::Immutable, ScalarValue::Utf8(Some(value)))
}

/// A function of `args` answering `value` whatever they are: one value per row when it is
/// given a column, else one value.
fn fixed(name: &str, args: Vec<DataType>, volatility: Volatility, value: ScalarValue) -> ScalarUDF {
    let returns = value.data_type();
    datafusion::logical_expr::create_udf(
        name,
        args,
        returns,
        volatility,
        Arc::new(move |args: &[ColumnarValue]| match args.first() {
            Some(ColumnarValue::Array(a)) => Ok(ColumnarValue::Array(value.to_array_of_size(a.len())?)),
            _ => Ok(ColumnarValue::Scalar(value.clone())),
        }),
    )
}
