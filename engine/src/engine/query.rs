//! Queries DataFusion plans and runs: a statement's session state (its workspace, role and
//! hint), its logical plan with parameter values in place, a kept plan reused when the same
//! text comes again, and its description (parameter types and result columns) for prepared
//! statements.

use std::ops::ControlFlow;
use std::sync::Arc;

use arrow_schema::{DataType, SchemaRef};
use cairn_storage::{ObjectKind, StorageError};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, ParamValues, ScalarValue};
use datafusion::dataframe::DataFrame;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::registry::FunctionRegistry;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::expr::{Cast, TryCast};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::collect;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{Statement as SqlStatement, TableFactor, Visit, Visitor};

use super::statement::Parsed;
use super::Engine;
use crate::catalog::pg_catalog;
use crate::error::{EngineError, Result};
use crate::output::{Description, Output};
use crate::scan::QueryHint;
use crate::session::Session;
use crate::sql::{ident_name, Hint};
use crate::types::variant::{is_dynamic, render_result, render_schema};

/// One statement's context: its session, access-path hint and parameter values.
#[derive(Clone, Copy)]
pub(super) struct Call<'a> {
    pub(super) session: &'a Session,
    pub(super) hint: Option<Hint>,
    pub(super) params: &'a [ScalarValue],
}

impl Engine {
    /// Runs a query: from the plan kept for its text when there is one (and it has no
    /// parameters, whose values a kept plan would have folded in), else planned anew (and
    /// kept when it may run again).
    pub(super) async fn run_query(&self, call: Call<'_>, text: &str, parsed: &Parsed) -> Result<Output> {
        let cached = call.params.is_empty();
        if cached {
            if let Some((plan, schema)) = self.plans.get(text, call.hint, call.session, &self.store)? {
                return self.run_optimized(&self.state_for(call, false), plan, schema).await;
            }
        }
        let generation = self.plans.generation();
        let df = self.dataframe(call, parsed).await?;
        let schema = parsed.columns(&df);
        let (state, plan) = df.into_parts();
        let optimized = state.optimize(&plan)?;
        if cached {
            self.plans.keep(text, call.hint, call.session, generation, (&plan, &optimized), schema.clone());
        }
        self.run_optimized(&state, optimized, schema).await
    }

    /// What a query takes and returns: its parameters' types, and with `rows` its result
    /// set's columns.
    pub(super) async fn describe_query(&self, call: Call<'_>, parsed: &Parsed, rows: bool) -> Result<Description> {
        let df = self.dataframe(call, parsed).await?;
        let columns = rows.then(|| render_schema(&parsed.columns(&df)));
        Ok(Description { params: parameter_types(df.logical_plan())?, columns })
    }

    /// The logical plan of query `sql` as DataFusion plans it, before optimization.
    #[cfg(test)]
    pub(crate) async fn unoptimized_plan(&self, sql: &str) -> LogicalPlan {
        let statement = self.prepare(sql).expect("prepare");
        let super::statement::Kind::Query(parsed) = &statement.kind else { panic!("{sql} is not a query") };
        let call = Call { session: &Session::default(), hint: None, params: &[] };
        self.dataframe(call, parsed).await.expect("plan").into_parts().1
    }

    /// `plan` through the optimizer, as a query's plan goes.
    #[cfg(test)]
    pub(crate) fn optimize(&self, plan: &LogicalPlan) -> Result<LogicalPlan> {
        Ok(self.ctx.state().optimize(plan)?)
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
            let _superusers = state.register_udf(Arc::new(pg_catalog::session_user(user)));
        }
        if let Some(h) = call.hint {
            state.config_mut().set_extension(Arc::new(QueryHint(h)));
        }
        state
    }

    /// Plans a statement DataFusion runs, with the call's parameter values in place. Its own
    /// DDL and DML (external tables, in-memory tables, COPY TO files) would bypass the store:
    /// they are refused.
    pub(super) async fn dataframe(&self, call: Call<'_>, parsed: &Parsed) -> Result<DataFrame> {
        let state = self.state_for(call, parsed.catalog);
        let mut plan = match state.statement_to_plan(parsed.statement.clone()).await {
            Ok(plan) => plan,
            Err(e) => return Err(planning_error(&state, &parsed.statement, e)),
        };
        SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).verify_plan(&plan)?;
        if !call.params.is_empty() {
            plan = plan.replace_params_with_values(&ParamValues::from(call.params.to_vec()))?;
        }
        Ok(DataFrame::new(state, plan))
    }
}

/// Why planning `statement` failed with `error`: the first collection or table function the
/// query reads that does not exist, when there is one (DataFusion tells a missing table only
/// in its message's words), else `error` itself.
fn planning_error(state: &SessionState, statement: &DFStatement, error: DataFusionError) -> EngineError {
    let is_query = match statement {
        DFStatement::Statement(s) => matches!(s.as_ref(), SqlStatement::Query(_) | SqlStatement::Explain { .. }),
        DFStatement::Explain(_) => true,
        _ => false,
    };
    if !is_query || !matches!(error.find_root(), DataFusionError::Plan(_)) {
        return error.into();
    }
    missing_relation(state, statement).unwrap_or_else(|| error.into())
}

/// The first relation `statement` reads that does not exist: a collection (in a workspace
/// that may not exist either, as PostgreSQL reports a relation), or a table function.
fn missing_relation(state: &SessionState, statement: &DFStatement) -> Option<EngineError> {
    let options = &state.config_options().catalog;
    let calls = table_function_calls(statement);
    for reference in state.resolve_table_references(statement).ok()? {
        if reference.schema().is_none() && state.table_functions().contains_key(reference.table()) {
            continue;
        }
        if reference.schema().is_none() && calls.iter().any(|c| c == reference.table()) {
            return Some(EngineError::UnknownFunction(reference.table().to_owned()));
        }
        let resolved = reference.clone().resolve(&options.default_catalog, &options.default_schema);
        let ours = *resolved.catalog == *options.default_catalog;
        let exists = ours && state.schema_for_ref(reference).is_ok_and(|schema| schema.table_exist(&resolved.table));
        if !exists {
            let name = match ours {
                true => format!("{}.{}", resolved.schema, resolved.table),
                false => resolved.to_string(),
            };
            return Some(EngineError::Storage(StorageError::NotFound { kind: ObjectKind::Collection, name }));
        }
    }
    None
}

/// The names `statement` calls as table functions (`FROM f(…)`), as DataFusion resolves them.
fn table_function_calls(statement: &DFStatement) -> Vec<String> {
    struct Calls(Vec<String>);
    impl Visitor for Calls {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table { name, args: Some(_), .. } = factor {
                self.0.extend(name.0.last().and_then(|p| p.as_ident()).map(ident_name));
            }
            ControlFlow::Continue(())
        }
    }
    let mut calls = Calls(Vec::new());
    if let DFStatement::Statement(s) = statement {
        let _walked = s.visit(&mut calls);
    }
    calls.0
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
