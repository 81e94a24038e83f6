//! Reuse of optimized plans for repeated queries. Dashboards and applications send the same
//! query text again and again; parsing, planning and optimizing it each time costs more than
//! running a selective query. A query's optimized logical plan is kept by its text (and hint)
//! when it is safe to run again: it reads no value that changes between runs (`now()`,
//! `random()`), has no parameters, is a plain query, and reads only collections and
//! information_schema tables. Before a kept plan runs, each of its
//! collections is re-read from the store: fresh statistics for the access-path choice, and a
//! miss (so the text is planned anew) when a collection was dropped, replaced or changed its
//! columns, as when a new field appears.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow_schema::SchemaRef;
use cairn_storage::Store;
use datafusion::catalog::information_schema::INFORMATION_SCHEMA;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::Result as DFResult;
use datafusion::datasource::{provider_as_source, source_as_provider};
use datafusion::logical_expr::{Expr, LogicalPlan, TableScan, Volatility};

use crate::scan::CollectionTable;
use crate::session::Session;
use crate::sql::Hint;

/// Plans kept at most; when full, the cache starts over.
const MAX_PLANS: usize = 256;
/// Longer query texts are not kept (their plans tend to be as large).
const MAX_TEXT: usize = 16 << 10;

/// What a kept query needs to run again.
pub(crate) struct CachedPlan {
    /// The optimized logical plan.
    pub plan: LogicalPlan,
    /// Its output schema as DataFusion produces it.
    pub schema: SchemaRef,
}

/// What a plan is kept under: the query text, its hint, and the session it was planned in
/// (which decides what unqualified names mean).
type Key = (String, Option<Hint>, Session);

/// Optimized plans by query text and hint.
#[derive(Default)]
pub(crate) struct PlanCache {
    plans: Mutex<HashMap<Key, Arc<CachedPlan>>>,
    /// Bumped by [`Self::clear`]: a plan made before a clear is not kept.
    generation: AtomicU64,
    /// Kept plans handed out by [`Self::get`].
    hits: AtomicU64,
}

impl PlanCache {
    /// The plan kept for `sql` under `hint`, brought up to date with the store; None when
    /// there is none or it went stale.
    pub(crate) fn get(
        &self,
        sql: &str,
        hint: Option<Hint>,
        session: &Session,
        store: &Store,
    ) -> DFResult<Option<(LogicalPlan, SchemaRef)>> {
        let key = (sql.to_owned(), hint, session.clone());
        let Some(cached) = self.plans.lock().ok().and_then(|p| p.get(&key).cloned()) else { return Ok(None) };
        match refresh(&cached.plan, store).ok().flatten() {
            Some(plan) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Ok(Some((plan, cached.schema.clone())))
            }
            None => {
                if let Ok(mut plans) = self.plans.lock() {
                    plans.remove(&key);
                }
                Ok(None)
            }
        }
    }

    /// Forgets every plan (and with them the collections they hold open): before DDL, so a
    /// dropped collection closes and its name can be used again at once.
    pub(crate) fn clear(&self) {
        if let Ok(mut plans) = self.plans.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            plans.clear();
        }
    }

    /// How many times [`Self::get`] handed out a kept plan.
    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// The generation to hand to [`Self::keep`] for a plan made from now on.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Keeps `optimized` for `sql` under `hint` in `session` if `unoptimized` (the same query
    /// before the optimizer folded anything) may run again and no clear happened since
    /// `generation`.
    pub(crate) fn keep(
        &self,
        sql: &str,
        hint: Option<Hint>,
        session: &Session,
        generation: u64,
        plans: (&LogicalPlan, &LogicalPlan),
        schema: SchemaRef,
    ) {
        let (unoptimized, optimized) = plans;
        if sql.len() > MAX_TEXT || !reusable(unoptimized) {
            return;
        }
        if let Ok(mut plans) = self.plans.lock() {
            if self.generation() != generation {
                return;
            }
            if plans.len() >= MAX_PLANS {
                plans.clear();
            }
            plans.insert((sql.to_owned(), hint, session.clone()), Arc::new(CachedPlan { plan: optimized.clone(), schema }));
        }
    }
}

/// True when `plan` is a query that gives the same answer over the same data each time it
/// runs: no volatile or stable function, no parameter, no EXPLAIN, DML or DDL, and only
/// collections and information_schema tables read (a table function's arguments were
/// evaluated when it was planned: `generate_series(now() - …)`).
fn reusable(plan: &LogicalPlan) -> bool {
    if matches!(
        plan,
        LogicalPlan::Explain(_)
            | LogicalPlan::Analyze(_)
            | LogicalPlan::Dml(_)
            | LogicalPlan::Ddl(_)
            | LogicalPlan::Copy(_)
            | LogicalPlan::Statement(_)
            | LogicalPlan::DescribeTable(_)
    ) {
        return false;
    }
    let changing = |e: &Expr| match e {
        Expr::ScalarFunction(f) => f.func.signature().volatility != Volatility::Immutable,
        Expr::Placeholder(_) => true,
        _ => false,
    };
    let stored = |scan: &TableScan| {
        scan.table_name.schema() == Some(INFORMATION_SCHEMA)
            || source_as_provider(&scan.source).is_ok_and(|p| p.downcast_ref::<CollectionTable>().is_some())
    };
    let mut found = false;
    let walked = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            found |= !stored(scan);
        }
        node.apply_expressions(|e| {
            found |= e.exists(|e| Ok(changing(e)))?;
            Ok(TreeNodeRecursion::Continue)
        })?;
        Ok(if found { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
    });
    walked.is_ok() && !found
}

/// `plan` with each collection table re-read from `store`; None when one went stale.
fn refresh(plan: &LogicalPlan, store: &Store) -> DFResult<Option<LogicalPlan>> {
    let mut stale = false;
    let fresh = plan
        .clone()
        .transform_up_with_subqueries(|node| {
            let LogicalPlan::TableScan(scan) = node else { return Ok(Transformed::no(node)) };
            let provider = source_as_provider(&scan.source)?;
            let Some(table) = provider.downcast_ref::<CollectionTable>() else {
                return Ok(Transformed::no(LogicalPlan::TableScan(scan)));
            };
            match table.refreshed(store) {
                Some(t) => {
                    Ok(Transformed::yes(LogicalPlan::TableScan(TableScan { source: provider_as_source(Arc::new(t)), ..scan })))
                }
                None => {
                    stale = true;
                    Ok(Transformed::new(LogicalPlan::TableScan(scan), false, TreeNodeRecursion::Stop))
                }
            }
        })?
        .data;
    Ok((!stale).then_some(fresh))
}
