//! The DataFusion sessions an engine plans in, with everything Cairn adds: the catalog over
//! the store, PostgreSQL's system catalog, the expression and relation planners, the dynamic
//! functions, and the logical and physical rules.

use std::sync::Arc;

use cairn_connectors::Ingest;
use cairn_storage::DEFAULT_WORKSPACE;
use datafusion::execution::context::{SessionConfig, SessionContext};
use datafusion::execution::registry::FunctionRegistry;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::execution::SessionStateDefaults;
use datafusion::logical_expr::planner::ExprPlanner;
use datafusion::logical_expr::ScalarUDF;
use datafusion::optimizer::{Optimizer, OptimizerRule};

use super::CATALOG;
use crate::catalog::{pg_catalog, CairnCatalog, InformationSchema, INFORMATION_SCHEMA};
use crate::functions::{self, json_docs::JsonDocs};
use crate::plan::dynamic_rewrite::DynamicRewrite;
use crate::plan::expr_planner::{CairnPlanner, CairnTypes};
use crate::plan::lateral_unnest::LateralUnnest;
use crate::plan::nested_columns::NestedColumns;
use crate::plan::ordinality::{OrdinalityPlanner, WithOrdinality};
use crate::scan::IndexAggregates;

/// The context statements are planned in, and the session state for queries of the system
/// catalog (PostgreSQL's coercions, PostgreSQL's information_schema).
pub(super) fn contexts(ingest: &Arc<Ingest>, runtime: Arc<RuntimeEnv>) -> (SessionContext, SessionState) {
    let store = ingest.store();
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
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
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
    pg_catalog::install(&ctx, CATALOG, ingest).expect("pg_catalog installs");
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
    (ctx, catalog_state)
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
