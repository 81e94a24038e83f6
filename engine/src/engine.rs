//! The engine: a DataFusion session over a store's catalog, and the entry point that runs one
//! SQL statement, taking Cairn's own statements (DDL, schemaless INSERT) before DataFusion.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use cairn_storage::{Collection, CollectionConfig, StorageError, Store, WriteOp, DEFAULT_WORKSPACE};
use datafusion::dataframe::DataFrame;
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use datafusion::execution::registry::FunctionRegistry;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::execution::SessionStateDefaults;
use datafusion::logical_expr::planner::ExprPlanner;
use datafusion::logical_expr::{LogicalPlan, ScalarUDF};
use datafusion::physical_plan::collect;
use datafusion::optimizer::{Optimizer, OptimizerRule};
use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{DescribeAlias, Expr as SqlExpr, Insert, SetExpr, Statement, Value as SqlValue};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;

use crate::access::{take_hint, Hint, QueryHint};
use crate::catalog::CairnCatalog;
use crate::convert::rows_to_documents;
use crate::describe::describe;
use crate::dml::{plan_delete, plan_update, selected, DmlPlan};
use crate::error::{EngineError, Result};
use crate::schema::columns;
use crate::functions::{self, Kind};
use crate::index_answer::IndexAggregates;
use crate::json_docs::JsonDocs;
use crate::lateral::LateralUnnest;
use crate::nested::NestedColumns;
use crate::ordinality::{OrdinalityPlanner, WithOrdinality};
use crate::plan_cache::PlanCache;
use crate::planner::{CairnPlanner, CairnTypes};
use crate::rewrite::DynamicRewrite;
use crate::undefined::rewrite_undefined;
use crate::variant::render_result;
use crate::statements::{function_call, ident_name, insert_target, object_table_name, parse_cairn_ddl, standard_ddl, Ddl, TableName};

/// Name of the one catalog (database) a Cairn server has.
pub const CATALOG: &str = "cairn";

/// The result of one statement.
#[derive(Debug)]
pub enum Output {
    /// A result set.
    Rows { schema: SchemaRef, batches: Vec<RecordBatch> },
    /// A statement without a result set: its command tag and the number of rows it affected.
    Done { tag: &'static str, count: u64 },
}

/// Runs SQL over a store.
pub struct Engine {
    store: Arc<Store>,
    ctx: SessionContext,
    plans: PlanCache,
}

impl Engine {
    /// An engine over `store`, with `commons` as the default schema.
    pub fn new(store: Arc<Store>) -> Engine {
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
        let mut planners: Vec<Arc<dyn ExprPlanner>> = vec![Arc::new(CairnPlanner)];
        planners.extend(SessionStateDefaults::default_expr_planners());
        let mut state =
            SessionStateBuilder::new().with_config(config).with_default_features()
            .with_expr_planners(planners)
            .with_type_planner(Arc::new(CairnTypes))
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
        Engine { store, ctx, plans: PlanCache::default() }
    }

    /// Runs one SQL statement.
    pub async fn sql(&self, sql: &str) -> Result<Output> {
        if let Some(ddl) = parse_cairn_ddl(sql)? {
            return self.run_ddl(ddl);
        }
        let (sql, hint) = take_hint(sql).map_err(EngineError::Invalid)?;
        if let Some((plan, schema)) = self.plans.get(&sql, hint, &self.store)? {
            return self.run_optimized(&self.state_with(hint), plan, schema).await;
        }
        let generation = self.plans.generation();
        let statement = parse_one(&sql)?;
        if let DFStatement::Statement(s) = &statement {
            if let Some(ddl) = standard_ddl(s)? {
                return self.run_ddl(ddl);
            }
            match s.as_ref() {
                Statement::Insert(insert) => return self.insert(insert).await,
                Statement::Delete(d) => return self.apply_dml(plan_delete(d)?, "DELETE").await,
                Statement::Update(u) => return self.apply_dml(plan_update(u)?, "UPDATE").await,
                Statement::ExplainTable { describe_alias: DescribeAlias::Describe | DescribeAlias::Desc, table_name, .. } => {
                    let name = object_table_name(table_name)?;
                    let collection = self.store.collection(&self.workspace_of(&name), &name.collection)?;
                    return describe(&collection.stats());
                }
                _ => {}
            }
        }
        let df = self.dataframe(statement, hint).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let (state, plan) = df.into_parts();
        let optimized = state.optimize(&plan)?;
        self.plans.keep(&sql, hint, generation, (&plan, &optimized), schema.clone());
        self.run_optimized(&state, optimized, schema).await
    }

    /// Runs an optimized logical plan whose output schema is `schema`.
    async fn run_optimized(&self, state: &SessionState, plan: LogicalPlan, schema: SchemaRef) -> Result<Output> {
        let physical = state.query_planner().create_physical_plan(&plan, state).await?;
        let (schema, batches) = render_result(&schema, collect(physical, state.task_ctx()).await?)?;
        Ok(Output::Rows { schema, batches })
    }

    /// The session state for one statement: a hint applies to every collection scan of it.
    fn state_with(&self, hint: Option<Hint>) -> SessionState {
        let mut state = self.ctx.state();
        if let Some(h) = hint {
            state.config_mut().set_extension(Arc::new(QueryHint(h)));
        }
        state
    }

    /// Plans a statement DataFusion runs. Its own DDL and DML (external tables, in-memory
    /// tables, COPY TO files) would bypass the store: they are refused.
    async fn dataframe(&self, statement: DFStatement, hint: Option<Hint>) -> Result<DataFrame> {
        let state = self.state_with(hint);
        let plan = state.statement_to_plan(statement).await?;
        SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).verify_plan(&plan)?;
        Ok(DataFrame::new(state, plan))
    }

    /// Runs an UPDATE or DELETE: its query selects the documents, then each is patched or
    /// deleted on its own.
    async fn apply_dml(&self, plan: DmlPlan, tag: &'static str) -> Result<Output> {
        let collection = self.store.collection(&self.workspace_of(&plan.table), &plan.table.collection)?;
        let batches = self.dataframe(parse_one(&plan.query)?, None).await?.collect().await?;
        let docs = selected(&batches, &plan.targets)?;
        let update = !plan.targets.is_empty();
        let ops: Vec<WriteOp> =
            docs.into_iter().map(|(id, ops)| if update { WriteOp::Patch { id, ops } } else { WriteOp::Delete { id } }).collect();
        write_all(collection, ops, tag).await
    }

    fn workspace_of(&self, name: &TableName) -> String {
        name.workspace.clone().unwrap_or_else(|| self.ctx.state().config().options().catalog.default_schema.clone())
    }

    fn run_ddl(&self, ddl: Ddl) -> Result<Output> {
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
                let ws = self.workspace_of(&name);
                let created = self.store.create_collection(&ws, &name.collection, CollectionConfig::default()).map(|_| ());
                ignore(created, if_not_exists)?;
                "CREATE TABLE"
            }
            Ddl::DropCollection { name, if_exists } => {
                let ws = self.workspace_of(&name);
                ignore(self.store.drop_collection(&ws, &name.collection), if_exists)?;
                "DROP TABLE"
            }
        };
        Ok(Output::Done { tag, count: 0 })
    }

    /// `INSERT INTO coll [(fields)] VALUES … | SELECT …`: each result row becomes a document
    /// whose fields are named by the column list, else by the query's output columns (for
    /// VALUES without a list: the collection's columns in order).
    async fn insert(&self, insert: &Insert) -> Result<Output> {
        let target = insert_target(&insert.table)?;
        let ws = self.workspace_of(&target);
        let collection = self.store.collection(&ws, &target.collection)?;
        let source = insert.source.as_ref().ok_or_else(|| EngineError::Unsupported("INSERT without VALUES or a query".into()))?;
        let mut query = source.clone();
        if let SetExpr::Values(values) = query.body.as_mut() {
            // Each value keeps its own type: VALUES would otherwise coerce a column to one type.
            for row in &mut values.rows {
                for cell in row.iter_mut() {
                    *cell = own_type(std::mem::replace(cell, SqlExpr::value(SqlValue::Null)));
                }
            }
        }
        let query = DFStatement::Statement(Box::new(Statement::Query(query)));
        let df = self.dataframe(query, None).await?;
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

/// `cairn_get(e)`: the value of `e` as a variant, keeping its own type.
fn own_type(e: SqlExpr) -> SqlExpr {
    function_call(Kind::Get.name(), e)
}

/// Parses exactly one statement in PostgreSQL's dialect.
fn parse_one(sql: &str) -> Result<DFStatement> {
    let mut statements = DFParser::parse_sql_with_dialect(&rewrite_undefined(sql), &PostgreSqlDialect {})?;
    match (statements.pop_front(), statements.is_empty()) {
        (Some(s), true) => Ok(s),
        (None, _) => Err(EngineError::Invalid("empty statement".into())),
        (Some(_), false) => Err(EngineError::Invalid("one statement at a time".into())),
    }
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
