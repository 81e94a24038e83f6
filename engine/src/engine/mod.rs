//! The engine: a DataFusion session over a store's catalog, and the entry point that runs one
//! SQL statement, taking Cairn's own statements (DDL, schemaless INSERT) before DataFusion.

use std::ops::ControlFlow;
use std::sync::Arc;

use arrow_array::{Array, RecordBatch, StringArray};
use arrow_schema::{DataType, SchemaRef};
use cairn_storage::{Collection, CollectionConfig, PatchOp, StorageError, Store, Value, WriteOp, DEFAULT_WORKSPACE};
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::dataframe::DataFrame;
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use datafusion::execution::registry::FunctionRegistry;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::execution::SessionStateDefaults;
use datafusion::logical_expr::planner::ExprPlanner;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::expr::{Cast, TryCast};
use datafusion::logical_expr::{Expr, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::collect;
use datafusion::optimizer::{Optimizer, OptimizerRule};
use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{
    visit_relations, DescribeAlias, Expr as SqlExpr, Insert, ObjectName, Query, SetExpr, Statement, Value as SqlValue,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion_pg_catalog::sql::rules::{
    CurrentUserVariableToSessionUserFunctionCall, SqlStatementRewriteRule, StripCallableQualifier,
};
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;

use crate::catalog::{self, describe, is_system, reads_catalog, CairnCatalog, InformationSchema, INFORMATION_SCHEMA};
use crate::error::{EngineError, Result};
use crate::functions::json_docs::JsonDocs;
use crate::functions::{self, Kind};
use crate::output::Output;
use crate::plan::dynamic_rewrite::DynamicRewrite;
use crate::plan::expr_planner::{CairnPlanner, CairnTypes};
use crate::plan::lateral_unnest::LateralUnnest;
use crate::plan::nested_columns::NestedColumns;
use crate::plan::ordinality::{OrdinalityPlanner, WithOrdinality};
use crate::plan::plan_cache::PlanCache;
use crate::scan::{IndexAggregates, QueryHint};
use crate::session::{Call, Description, Session};
use crate::sql::{
    column_names, function_call, ident_name, insert_target, object_table_name, parse_cairn_ddl, plan_delete, plan_update,
    rewrite_undefined, standard_ddl, take_hint, Ddl, DmlPlan, TableName,
};
use crate::types::collection_schema::columns;
use crate::types::convert::{cell_value, rows_to_documents};
use crate::types::variant::{is_dynamic, render_result, render_schema};

/// Name of the one catalog (database) a Cairn server has.
pub const CATALOG: &str = "cairn";

/// Runs SQL over a store.
pub struct Engine {
    store: Arc<Store>,
    ctx: SessionContext,
    /// The session state queries of the system catalog are planned in (see [`reads_catalog`]).
    catalog_state: SessionState,
    plans: PlanCache,
    /// Rewrites PostgreSQL-only SQL (catalog casts and operators, tools' catalog queries).
    compat: PostgresCompatibilityParser,
}

impl Engine {
    /// An engine over `store`, with `commons` as the default schema.
    pub fn new(store: Arc<Store>) -> Engine {
        Engine::with_runtime(store, Arc::new(RuntimeEnv::default()))
    }

    /// An engine whose queries together hold at most `bytes` of memory for their operators
    /// (sorts, hash tables); a query needing more fails with SQLSTATE 53200.
    pub fn with_memory_limit(store: Arc<Store>, bytes: usize) -> Result<Engine> {
        let runtime = RuntimeEnvBuilder::new().with_memory_limit(bytes, 1.0).build_arc()?;
        Ok(Engine::with_runtime(store, runtime))
    }

    fn with_runtime(store: Arc<Store>, runtime: Arc<RuntimeEnv>) -> Engine {
        let mut config = SessionConfig::new()
            .with_information_schema(true)
            .with_create_default_catalog_and_schema(false)
            .with_default_catalog_and_schema(CATALOG, DEFAULT_WORKSPACE);
        // Dynamic filters (TopK bounds, join keys, aggregate bounds) are pushed into scans that
        // can skip data with them; a collection scan chooses its access path at planning time
        // and does not take them, so planning them only costs time.
        let optimizer = &mut config.options_mut().optimizer;
        optimizer.enable_dynamic_filter_pushdown = false;
        optimizer.enable_topk_dynamic_filter_pushdown = false;
        optimizer.enable_join_dynamic_filter_pushdown = false;
        optimizer.enable_aggregate_dynamic_filter_pushdown = false;
        let mut state =
            SessionStateBuilder::new().with_config(config).with_runtime_env(runtime).with_default_features()
            .with_expr_planners(expr_planners(false))
            .with_type_planner(Arc::new(CairnTypes::default()))
            .with_optimizer_rules(optimizer_rules())
            .with_physical_optimizer_rule(Arc::new(IndexAggregates))
            .with_relation_planners(vec![Arc::new(OrdinalityPlanner)])
            .build();
        for f in functions::all() {
            // Registering a new name replaces nothing; the result is the previous function.
            let _previous = state.register_udf(f);
        }
        let _previous = state.register_udf(Arc::new(ScalarUDF::new_from_impl(WithOrdinality::default())));
        let _previous = state.register_function_rewrite(Arc::new(DynamicRewrite));
        let ctx = SessionContext::new_with_state(state);
        ctx.register_udtf("json_docs", Arc::new(JsonDocs));
        ctx.register_catalog(CATALOG, Arc::new(CairnCatalog::new(store.clone())));
        // Built from data compiled into the binary: failing is a defect, not a condition.
        catalog::pg_catalog::install(&ctx, CATALOG).expect("pg_catalog installs");
        // Catalog queries read PostgreSQL's information_schema (views over pg_catalog), not
        // DataFusion's.
        let information_schema = Arc::new(InformationSchema::default());
        if let Some(catalog) = ctx.catalog(CATALOG) {
            // A system schema name: registering it cannot fail.
            let _none = catalog.register_schema(INFORMATION_SCHEMA, information_schema.clone());
        }
        let mut catalog_state = SessionStateBuilder::new_from_existing(ctx.state()).with_expr_planners(expr_planners(true)).build();
        catalog_state.config_mut().options_mut().catalog.information_schema = false;
        information_schema.plan_in(catalog_state.clone());
        Engine { store, ctx, catalog_state, plans: PlanCache::default(), compat: PostgresCompatibilityParser::new() }
    }

    /// Runs one SQL statement in the default session, without parameters.
    pub async fn sql(&self, sql: &str) -> Result<Output> {
        self.run(&Session::default(), sql, &[]).await
    }

    /// Runs one SQL statement in `session`, with `params` as the values of `$1`, `$2`, ….
    pub async fn run(&self, session: &Session, sql: &str, params: &[ScalarValue]) -> Result<Output> {
        if let Some(ddl) = parse_cairn_ddl(sql)? {
            return self.run_ddl(session, ddl);
        }
        let (sql, hint) = take_hint(sql).map_err(EngineError::Invalid)?;
        let call = Call { session, hint, params };
        // A kept plan has its parameters' values folded in: only plans without any are kept.
        let cached = params.is_empty();
        if cached {
            if let Some((plan, schema)) = self.plans.get(&sql, hint, session, &self.store)? {
                return self.run_optimized(&self.state_for(call, false), plan, schema).await;
            }
        }
        let generation = self.plans.generation();
        let statement = self.parse_one(&sql)?;
        if let DFStatement::Statement(s) = &statement {
            if let Some(ddl) = standard_ddl(s)? {
                return self.run_ddl(session, ddl);
            }
            match s.as_ref() {
                Statement::Insert(insert) => return self.insert(call, insert).await,
                Statement::Delete(d) => return self.apply_dml(call, plan_delete(d)?, "DELETE").await,
                Statement::Update(u) => return self.apply_dml(call, plan_update(u)?, "UPDATE").await,
                Statement::ExplainTable { describe_alias: DescribeAlias::Describe | DescribeAlias::Desc, table_name, .. } => {
                    return self.describe_table(session, table_name);
                }
                _ => {}
            }
        }
        let names = column_names::of(&statement);
        let df = self.dataframe(call, statement).await?;
        let schema = column_names::apply(Arc::new(df.schema().as_arrow().clone()), names.as_deref());
        let (state, plan) = df.into_parts();
        let optimized = state.optimize(&plan)?;
        if cached {
            self.plans.keep(&sql, hint, session, generation, (&plan, &optimized), schema.clone());
        }
        self.run_optimized(&state, optimized, schema).await
    }

    /// What `sql` takes and returns, without running it: its parameters' types and its result
    /// set's columns, as [`Self::run`] would produce them.
    pub async fn describe(&self, session: &Session, sql: &str) -> Result<Description> {
        if parse_cairn_ddl(sql)?.is_some() {
            return Ok(Description::default());
        }
        let (sql, hint) = take_hint(sql).map_err(EngineError::Invalid)?;
        let call = Call { session, hint, params: &[] };
        let statement = self.parse_one(&sql)?;
        let (plan, rows) = match &statement {
            DFStatement::Statement(s) => {
                if standard_ddl(s)?.is_some() {
                    return Ok(Description::default());
                }
                match s.as_ref() {
                    Statement::Insert(insert) => (self.dataframe(call, insert_query(insert)?).await?, false),
                    Statement::Delete(d) => (self.dataframe(call, self.parse_one(&plan_delete(d)?.query)?).await?, false),
                    Statement::Update(u) => (self.dataframe(call, self.parse_one(&plan_update(u)?.query)?).await?, false),
                    Statement::ExplainTable { describe_alias: DescribeAlias::Describe | DescribeAlias::Desc, table_name, .. } => {
                        let Output::Rows { schema, .. } = self.describe_table(session, table_name)? else {
                            return Ok(Description::default());
                        };
                        return Ok(Description { params: Vec::new(), columns: Some(schema) });
                    }
                    _ => (self.dataframe(call, statement.clone()).await?, true),
                }
            }
            _ => (self.dataframe(call, statement.clone()).await?, true),
        };
        let names = column_names::of(&statement);
        let columns = rows.then(|| render_schema(&column_names::apply(Arc::new(plan.schema().as_arrow().clone()), names.as_deref())));
        Ok(Description { params: parameter_types(plan.logical_plan())?, columns })
    }

    /// What running `sql` requires of its role: writing (documents, collections, workspaces),
    /// reading collections, or nothing (constants and PostgreSQL's system catalog, which every
    /// role may read, as in PostgreSQL).
    pub fn privilege(&self, sql: &str) -> Result<Privilege> {
        if parse_cairn_ddl(sql)?.is_some() {
            return Ok(Privilege::Write);
        }
        let (sql, _) = take_hint(sql).map_err(EngineError::Invalid)?;
        let DFStatement::Statement(s) = self.parse_one(&sql)? else { return Ok(Privilege::Read) };
        if standard_ddl(&s)?.is_some() || matches!(s.as_ref(), Statement::Insert(_) | Statement::Delete(_) | Statement::Update(_)) {
            return Ok(Privilege::Write);
        }
        // A collection may be named `pg_…` too: a one-part name is the system's only when
        // pg_catalog has that table.
        let pg_catalog = self.ctx.catalog(CATALOG).and_then(|c| c.schema("pg_catalog"));
        let system = |name: &ObjectName| {
            is_system(name)
                && (name.0.len() > 1
                    || name.0.first().and_then(|p| p.as_ident()).is_some_and(|i| pg_catalog.as_ref().is_some_and(|p| p.table_exist(&i.value.to_ascii_lowercase()))))
        };
        let reads_data = visit_relations(s.as_ref(), |name| if system(name) { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }).is_break();
        Ok(if reads_data || matches!(s.as_ref(), Statement::ExplainTable { .. }) { Privilege::Read } else { Privilege::None })
    }

    /// Parses exactly one statement in PostgreSQL's dialect, with the PostgreSQL-only forms
    /// DataFusion lacks rewritten.
    fn parse_one(&self, sql: &str) -> Result<DFStatement> {
        let sql = rewrite_undefined(sql);
        let mut statements = DFParser::parse_sql_with_dialect(&sql, &PostgreSqlDialect {})?;
        let statement = match (statements.pop_front(), statements.is_empty()) {
            (Some(s), true) => s,
            (None, _) => return Err(EngineError::Invalid("empty statement".into())),
            (Some(_), false) => return Err(EngineError::Invalid("one statement at a time".into())),
        };
        // Tools' catalog queries are rewritten into forms DataFusion plans; other statements
        // are left alone (the rewrite would take a field named `user` for `current_user`).
        if reads_catalog(&statement) {
            if let Ok(mut rewritten) = self.compat.parse(&sql) {
                if rewritten.len() == 1 {
                    let mut rewritten = rewritten.remove(0);
                    catalog::pg_catalog::adapt_catalog_query(&mut rewritten);
                    return Ok(DFStatement::Statement(Box::new(rewritten)));
                }
            }
        }
        // `current_user`, `user`, `current_catalog` and a bare `current_schema` are functions,
        // and `pg_catalog.version()` is `version()`.
        Ok(match statement {
            DFStatement::Statement(s) => {
                let s = CurrentUserVariableToSessionUserFunctionCall.rewrite(*s);
                DFStatement::Statement(Box::new(StripCallableQualifier.rewrite(s)))
            }
            other => other,
        })
    }

    /// Runs an optimized logical plan whose output schema is `schema`.
    async fn run_optimized(&self, state: &SessionState, plan: LogicalPlan, schema: SchemaRef) -> Result<Output> {
        let physical = state.query_planner().create_physical_plan(&plan, state).await?;
        let (schema, batches) = render_result(&schema, collect(physical, state.task_ctx()).await?)?;
        Ok(Output::Rows { schema, batches })
    }

    /// The session state for one statement: its session's workspace is the default schema, and
    /// its hint applies to every collection scan. Queries of the system catalog take
    /// PostgreSQL's coercions.
    fn state_for(&self, call: Call<'_>, catalog: bool) -> SessionState {
        let mut state = if catalog { self.catalog_state.clone() } else { self.ctx.state() };
        if let Some(ws) = &call.session.workspace {
            state.config_mut().options_mut().catalog.default_schema = ws.clone();
        }
        if let Some(user) = &call.session.user {
            // Replaces the superuser's `session_user` in this statement's copy of the state.
            let _superusers = state.register_udf(Arc::new(catalog::pg_catalog::session_user(user)));
        }
        if let Some(h) = call.hint {
            state.config_mut().set_extension(Arc::new(QueryHint(h)));
        }
        state
    }

    /// Plans a statement DataFusion runs, with the call's parameter values in place. Its own
    /// DDL and DML (external tables, in-memory tables, COPY TO files) would bypass the store:
    /// they are refused.
    async fn dataframe(&self, call: Call<'_>, statement: DFStatement) -> Result<DataFrame> {
        let state = self.state_for(call, reads_catalog(&statement));
        let mut plan = state.statement_to_plan(statement).await?;
        SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).verify_plan(&plan)?;
        if !call.params.is_empty() {
            plan = plan.replace_params_with_values(&ParamValues::from(call.params.to_vec()))?;
        }
        Ok(DataFrame::new(state, plan))
    }

    /// Inserts `docs` into collection `name` (`coll` or `ws.coll`, as in SQL) in `session`:
    /// how bulk loads (`COPY … FROM STDIN`) write. Each document lands on its own; the error
    /// counts those that did not.
    pub async fn insert_documents(&self, session: &Session, name: &ObjectName, docs: Vec<Value>) -> Result<u64> {
        let collection = self.collection(session, name)?;
        match write_all(collection, docs.into_iter().map(WriteOp::Insert).collect(), "INSERT").await? {
            Output::Done { count, .. } => Ok(count),
            Output::Rows { .. } => Ok(0),
        }
    }

    /// The columns of collection `name` in `session`, as `SELECT *` returns them.
    pub fn collection_columns(&self, session: &Session, name: &ObjectName) -> Result<Vec<String>> {
        Ok(columns(&self.collection(session, name)?.stats()).into_iter().map(|c| c.name).collect())
    }

    fn collection(&self, session: &Session, name: &ObjectName) -> Result<Arc<Collection>> {
        let name = object_table_name(name)?;
        Ok(self.store.collection(&self.workspace_of(session, &name), &name.collection)?)
    }

    /// `DESCRIBE coll`.
    fn describe_table(&self, session: &Session, table_name: &ObjectName) -> Result<Output> {
        describe(&self.collection(session, table_name)?.stats())
    }

    /// Runs an UPDATE or DELETE: its query selects the documents, then each is patched or
    /// deleted on its own.
    async fn apply_dml(&self, call: Call<'_>, plan: DmlPlan, tag: &'static str) -> Result<Output> {
        let collection = self.store.collection(&self.workspace_of(call.session, &plan.table), &plan.table.collection)?;
        let batches = self.dataframe(Call { hint: None, ..call }, self.parse_one(&plan.query)?).await?.collect().await?;
        let docs = selected(&batches, &plan.targets)?;
        let update = !plan.targets.is_empty();
        let ops: Vec<WriteOp> =
            docs.into_iter().map(|(id, ops)| if update { WriteOp::Patch { id, ops } } else { WriteOp::Delete { id } }).collect();
        write_all(collection, ops, tag).await
    }

    /// The workspace `name` is in: its own, else the session's, else the server's default.
    fn workspace_of(&self, session: &Session, name: &TableName) -> String {
        name.workspace.clone().or_else(|| session.workspace.clone()).unwrap_or_else(|| DEFAULT_WORKSPACE.to_owned())
    }

    fn run_ddl(&self, session: &Session, ddl: Ddl) -> Result<Output> {
        self.plans.clear();
        let ignore = |r: cairn_storage::Result<()>, allowed: bool| match r {
            Err(StorageError::AlreadyExists { .. } | StorageError::NotFound { .. }) if allowed => Ok(()),
            other => other,
        };
        let tag = match ddl {
            Ddl::CreateWorkspace { name, if_not_exists } => {
                ignore(self.store.create_workspace(&name), if_not_exists)?;
                "CREATE SCHEMA"
            }
            Ddl::DropWorkspace { name, if_exists, cascade } => {
                ignore(self.store.drop_workspace(&name, cascade), if_exists)?;
                "DROP SCHEMA"
            }
            Ddl::CreateCollection { name, if_not_exists } => {
                let ws = self.workspace_of(session, &name);
                let created = self.store.create_collection(&ws, &name.collection, CollectionConfig::default()).map(|_| ());
                ignore(created, if_not_exists)?;
                "CREATE TABLE"
            }
            Ddl::DropCollection { name, if_exists } => {
                let ws = self.workspace_of(session, &name);
                ignore(self.store.drop_collection(&ws, &name.collection), if_exists)?;
                "DROP TABLE"
            }
        };
        Ok(Output::Done { tag, count: 0 })
    }

    /// Creates workspace `name` (as `CREATE WORKSPACE` does, for the REST API).
    pub fn create_workspace(&self, name: &str) -> Result<()> {
        self.plans.clear();
        Ok(self.store.create_workspace(name)?)
    }

    /// Drops the empty workspace `name`.
    pub fn drop_workspace(&self, name: &str) -> Result<()> {
        self.plans.clear();
        Ok(self.store.drop_workspace(name, false)?)
    }

    /// Creates collection `name` in workspace `ws` with `config`.
    pub fn create_collection(&self, ws: &str, name: &str, config: CollectionConfig) -> Result<Arc<Collection>> {
        self.plans.clear();
        Ok(self.store.create_collection(ws, name, config)?)
    }

    /// Drops collection `name` of workspace `ws` and its documents. Kept plans go first: they
    /// hold the collection open.
    pub fn drop_collection(&self, ws: &str, name: &str) -> Result<()> {
        self.plans.clear();
        Ok(self.store.drop_collection(ws, name)?)
    }

    /// `INSERT INTO coll [(fields)] VALUES … | SELECT …`: each result row becomes a document
    /// whose fields are named by the column list, else by the query's output columns (for
    /// VALUES without a list: the collection's columns in order).
    async fn insert(&self, call: Call<'_>, insert: &Insert) -> Result<Output> {
        let target = insert_target(&insert.table)?;
        let ws = self.workspace_of(call.session, &target);
        let collection = self.store.collection(&ws, &target.collection)?;
        let source = insert_source(insert)?;
        let df = self.dataframe(Call { hint: None, ..call }, insert_query(insert)?).await?;
        let produced: Vec<String> = df.schema().fields().iter().map(|f| f.name().clone()).collect();
        let names: Vec<String> = if !insert.columns.is_empty() {
            insert.columns.iter().map(|c| c.0.last().and_then(|p| p.as_ident()).map(ident_name).unwrap_or_default()).collect()
        } else if matches!(*source.body, SetExpr::Values(_)) {
            columns(&collection.stats()).into_iter().take(produced.len()).map(|c| c.name).collect()
        } else {
            produced.clone()
        };
        if names.len() != produced.len() {
            return Err(EngineError::Invalid(format!(
                "INSERT names {} fields but its rows have {} values",
                names.len(),
                produced.len()
            )));
        }
        let batches = df.collect().await?;
        let mut docs = Vec::new();
        for b in &batches {
            docs.extend(rows_to_documents(b, &names)?);
        }
        write_all(collection, docs.into_iter().map(WriteOp::Insert).collect(), "INSERT").await
    }
}

/// DataFusion's optimizer rules, after Cairn's own (which must see path accesses before
/// projections are pruned).
fn optimizer_rules() -> Vec<Arc<dyn OptimizerRule + Send + Sync>> {
    let mut rules: Vec<Arc<dyn OptimizerRule + Send + Sync>> = vec![Arc::new(LateralUnnest), Arc::new(NestedColumns)];
    rules.extend(Optimizer::new().rules);
    rules
}

/// Cairn's expression planners, then DataFusion's; `coerce` for the system catalog's.
fn expr_planners(coerce: bool) -> Vec<Arc<dyn ExprPlanner>> {
    let mut planners: Vec<Arc<dyn ExprPlanner>> = vec![Arc::new(CairnPlanner { coerce })];
    planners.extend(SessionStateDefaults::default_expr_planners());
    planners
}

/// What a statement requires of the role running it (see [`Engine::privilege`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Privilege {
    /// Nothing: constants, settings, the system catalog.
    None,
    /// Reading collections.
    Read,
    /// Writing documents or defining collections and workspaces.
    Write,
}

/// The source of an INSERT.
fn insert_source(insert: &Insert) -> Result<&Query> {
    insert.source.as_deref().ok_or_else(|| EngineError::Unsupported("INSERT without VALUES or a query".into()))
}

/// The query whose rows an INSERT writes: its VALUES or SELECT, with each VALUES cell keeping
/// its own type (VALUES would otherwise coerce a column to one type).
fn insert_query(insert: &Insert) -> Result<DFStatement> {
    let mut query = insert_source(insert)?.clone();
    if let SetExpr::Values(values) = query.body.as_mut() {
        for row in &mut values.rows {
            for cell in row.iter_mut() {
                *cell = own_type(std::mem::replace(cell, SqlExpr::value(SqlValue::Null)));
            }
        }
    }
    Ok(DFStatement::Statement(Box::new(Statement::Query(Box::new(query)))))
}

/// The type of each parameter, `$1` first: DataFusion's inference from what it is compared
/// with, else the type it is cast to (`$1::bigint`); None where neither decides, or where the
/// type is Cairn's variant (any value goes there, in the type the client sends).
fn parameter_types(plan: &LogicalPlan) -> Result<Vec<Option<DataType>>> {
    let mut found = plan.get_parameter_types()?;
    plan.apply_with_subqueries(|node| {
        node.apply_expressions(|e| {
            e.apply(|e| {
                if let Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) = e {
                    if let Expr::Placeholder(p) = expr.as_ref() {
                        let t = found.entry(p.id.clone()).or_default();
                        t.get_or_insert_with(|| field.data_type().clone());
                    }
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    })?;
    let index = |id: &str| id.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()).filter(|n| *n > 0);
    let count = found.keys().filter_map(|id| index(id)).max().unwrap_or(0);
    let mut types = vec![None; count];
    for (id, t) in found {
        if let Some(n) = index(&id) {
            types[n - 1] = t.filter(|t| !is_dynamic(t));
        }
    }
    Ok(types)
}

/// `cairn_get(e)`: the value of `e` as a variant, keeping its own type.
fn own_type(e: SqlExpr) -> SqlExpr {
    function_call(Kind::Get.name(), e)
}

/// Writes `ops` (each document atomically, off the async runtime) and reports how many were
/// written; if any failed, the error counts them and names the first failure.
async fn write_all(collection: Arc<Collection>, ops: Vec<WriteOp>, tag: &'static str) -> Result<Output> {
    let total = ops.len();
    let results = tokio::task::spawn_blocking(move || collection.write(ops))
        .await
        .map_err(|e| EngineError::Invalid(format!("{tag} task failed: {e}")))?;
    let errors: Vec<String> = results.into_iter().filter_map(|r| r.err().map(|e| e.to_string())).collect();
    if let Some(first) = errors.first() {
        return Err(EngineError::PartialWrite { failed: errors.len(), total, first: first.clone() });
    }
    Ok(Output::Done { tag, count: total as u64 })
}

/// The `_id`s and, for UPDATE, the patches of the selected documents.
fn selected(batches: &[RecordBatch], targets: &[String]) -> Result<Vec<(String, Vec<PatchOp>)>> {
    let mut out = Vec::new();
    for b in batches {
        let ids = b
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| EngineError::Invalid("this collection's _id is not a string column".into()))?;
        for row in 0..b.num_rows() {
            if ids.is_null(row) {
                continue;
            }
            let ops = targets
                .iter()
                .enumerate()
                .map(|(i, path)| {
                    let value: Value = cell_value(b.column(i + 1), row)?;
                    Ok(PatchOp::Add { path: path.clone(), value })
                })
                .collect::<std::result::Result<Vec<_>, datafusion::error::DataFusionError>>()?;
            out.push((ids.value(row).to_owned(), ops));
        }
    }
    Ok(out)
}
