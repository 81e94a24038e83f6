//! Lateral UNNEST in FROM: `FROM ev CROSS JOIN UNNEST(ev.tags) AS u(tag)` (also with a comma,
//! and `WITH ORDINALITY`, see [`super::ordinality`]) plans as a join with a subquery that
//! refers to the outer row, which DataFusion cannot execute. This rule rewrites such a join
//! into an unnest over the left side's rows: each row repeated once per element of its array,
//! carrying the left side's columns next to the element's. A row whose array is empty, null
//! or missing yields no rows, as in PostgreSQL.

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchema, Result as DFResult};
use datafusion::logical_expr::{Expr, JoinType, LogicalPlan, LogicalPlanBuilder, Projection, SubqueryAlias};
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

/// Rewrites joins with a lateral UNNEST.
#[derive(Debug, Default)]
pub(crate) struct LateralUnnest;

impl OptimizerRule for LateralUnnest {
    fn name(&self) -> &str {
        "cairn_lateral_unnest"
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> DFResult<Transformed<LogicalPlan>> {
        plan.transform_up_with_subqueries(|node| {
            Ok(match unnest_join(&node)? {
                Some(p) => Transformed::yes(p),
                None => Transformed::no(node),
            })
        })
    }
}

/// The rewrite of `node` when it is an inner join without condition whose right side is a
/// subquery of projections over an UNNEST of values from the outer row.
fn unnest_join(node: &LogicalPlan) -> DFResult<Option<LogicalPlan>> {
    let LogicalPlan::Join(join) = node else { return Ok(None) };
    if join.join_type != JoinType::Inner || !join.on.is_empty() || join.filter.is_some() {
        return Ok(None);
    }
    let subquery = match join.right.as_ref() {
        LogicalPlan::SubqueryAlias(SubqueryAlias { input, .. }) => match input.as_ref() {
            LogicalPlan::Subquery(s) => s,
            _ => return Ok(None),
        },
        LogicalPlan::Subquery(s) => s,
        _ => return Ok(None),
    };
    let mut projections: Vec<&Projection> = Vec::new();
    let mut plan = subquery.subquery.as_ref();
    while let LogicalPlan::Projection(p) = plan {
        projections.push(p);
        plan = p.input.as_ref();
    }
    let LogicalPlan::Unnest(unnest) = plan else { return Ok(None) };
    let LogicalPlan::Projection(arrays) = unnest.input.as_ref() else { return Ok(None) };
    let one_row = matches!(arrays.input.as_ref(), LogicalPlan::EmptyRelation(e) if e.produce_one_row);
    if !one_row || projections.is_empty() || projections.iter().any(|p| p.expr.iter().any(refers_outside)) {
        return Ok(None);
    }
    // The arrays may only refer to the left side's row (not to a query further out).
    let left = join.left.as_ref().clone();
    if !arrays.expr.iter().all(|e| outer_refs(e).iter().all(|c| left.schema().has_column(c))) {
        return Ok(None);
    }

    // The left side's columns ride along every step, under names of their own so they cannot
    // clash with the subquery's.
    let left_columns = left.schema().columns();
    let carried: Vec<Expr> = (0..left_columns.len()).map(|i| Expr::Column(Column::new_unqualified(hidden("left", i)))).collect();
    let with = |exprs: Vec<Expr>| carried.iter().cloned().chain(exprs).collect::<Vec<_>>();
    let array_exprs = arrays.expr.iter().cloned().map(inline_outer_refs).collect::<DFResult<Vec<_>>>()?;
    let first: Vec<Expr> = left_columns
        .iter()
        .enumerate()
        .map(|(i, c)| Expr::Column(c.clone()).alias(hidden("left", i)))
        .chain(array_exprs)
        .collect();
    let mut builder = LogicalPlanBuilder::from(left)
        .project(first)?
        .unnest_columns_with_options(unnest.exec_columns.clone(), unnest.options.clone())?;
    // The subquery's own projections, bottom up; the top one's outputs get names of their own
    // so they cannot clash with the left side's.
    let top = projections.len() - 1;
    for (level, p) in projections.iter().rev().enumerate() {
        let exprs = if level == top {
            p.expr.iter().enumerate().map(|(i, e)| e.clone().unalias().alias(hidden("element", i))).collect()
        } else {
            p.expr.clone()
        };
        builder = builder.project(with(exprs))?;
    }
    // Then every column under the name and qualifier the join gave it.
    let named = |side: &str, schema: &DFSchema| {
        (0..schema.fields().len())
            .map(|i| {
                let (qualifier, field) = schema.qualified_field(i);
                Expr::Column(Column::new_unqualified(hidden(side, i))).alias_qualified(qualifier.cloned(), field.name())
            })
            .collect::<Vec<_>>()
    };
    let columns = named("left", join.left.schema()).into_iter().chain(named("element", join.right.schema()));
    Ok(Some(builder.project(columns)?.build()?))
}

/// The name a column is carried under through the rewrite.
fn hidden(side: &str, i: usize) -> String {
    format!("__cairn_lateral_{side}_{i}")
}

fn refers_outside(e: &Expr) -> bool {
    e.exists(|e| Ok(matches!(e, Expr::OuterReferenceColumn(..)))).unwrap_or(true)
}

/// The outer-row columns `e` refers to.
fn outer_refs(e: &Expr) -> Vec<Column> {
    let mut out = Vec::new();
    let _walked = e.apply(|e| {
        if let Expr::OuterReferenceColumn(_, c) = e {
            out.push(c.clone());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    out
}

/// `e` with each reference to the outer row made a plain column reference.
fn inline_outer_refs(e: Expr) -> DFResult<Expr> {
    e.transform(|e| {
        Ok(match e {
            Expr::OuterReferenceColumn(_, c) => Transformed::yes(Expr::Column(c)),
            e => Transformed::no(e),
        })
    })
    .map(|t| t.data)
}

#[cfg(test)]
mod tests {
    use datafusion::optimizer::OptimizerContext;

    use super::*;
    use crate::testing::{engine_with, lines};

    #[tokio::test]
    async fn a_lateral_unnest_becomes_an_unnest_of_the_left_rows() {
        let (engine, _dir) = engine_with(&[r#"{"_id":"a","tags":["x","y"]}"#, r#"{"_id":"b","tags":[]}"#]);
        let plan = engine.unoptimized_plan("SELECT ev._id, u.tag FROM ev CROSS JOIN UNNEST(ev.tags) AS u(tag)").await;
        // DataFusion plans a join with a subquery over the outer row, which it cannot run.
        assert!(lines(&plan).iter().any(|l| l.contains("Cross Join") || l.contains("Inner Join")), "{}", plan.display_indent());
        let rewritten = LateralUnnest.rewrite(plan, &OptimizerContext::new()).expect("rewrite");
        assert!(rewritten.transformed);
        let got = lines(&rewritten.data);
        // Each left row is repeated once per element of its array, its columns carried under
        // hidden names, then every column gets back the name and qualifier the join gave it.
        assert_eq!(
            got,
            [
                "Projection: ev._id, u.tag",
                "  Projection: __cairn_lateral_left_0 AS _id, __cairn_lateral_left_1 AS _event_time, __cairn_lateral_left_2 AS tags, \
                 __cairn_lateral_element_0 AS tag",
                "    Projection: __cairn_lateral_left_0, __cairn_lateral_left_1, __cairn_lateral_left_2, UNNEST(outer_ref(ev.tags)) \
                 AS __cairn_lateral_element_0",
                "      Projection: __cairn_lateral_left_0, __cairn_lateral_left_1, __cairn_lateral_left_2, \
                 __unnest_placeholder(outer_ref(ev.tags),depth=1) AS UNNEST(outer_ref(ev.tags))",
                "        Unnest: lists[__unnest_placeholder(outer_ref(ev.tags))|depth=1] structs[]",
                "          Projection: ev._id AS __cairn_lateral_left_0, ev._event_time AS __cairn_lateral_left_1, \
                 ev.tags AS __cairn_lateral_left_2, ev.tags AS __unnest_placeholder(outer_ref(ev.tags))",
                "            TableScan: ev",
            ]
        );
        // The rewritten plan runs: one row per element, none for the empty array.
        let sql = "SELECT ev._id, u.tag FROM ev CROSS JOIN UNNEST(ev.tags) AS u(tag) ORDER BY u.tag";
        let crate::output::Output::Rows { batches, .. } = engine.sql(sql).await.expect("run") else { panic!("no rows") };
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches).expect("format").to_string();
        let rows: Vec<String> = text.lines().filter(|l| l.starts_with('|')).map(|l| l.split_whitespace().collect()).collect();
        assert_eq!(rows, ["|_id|tag|", "|a|\"x\"|", "|a|\"y\"|"]);
    }
}
