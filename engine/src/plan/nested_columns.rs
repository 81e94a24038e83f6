//! The optimizer rule that reads nested fields straight from the column index: a path access
//! `commit.record.uri` on a collection's column (typed when the smart schema gives the path one
//! scalar type, see [`super::expr_planner`]) becomes a column of its own on the scan
//! (`commit.record.uri` has its own column chunks), so a query over a few nested fields never
//! assembles whole objects. Runs before DataFusion's rules, so projection pruning then drops
//! the top-level object column when nothing else needs it. Accesses it cannot place (on
//! values computed in a subquery, through arrays) stay path accesses evaluated per value.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchema, Result as DFResult, ScalarValue};
use datafusion::datasource::{provider_as_source, source_as_provider};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{Expr, LogicalPlan, TableScan, TableScanBuilder};
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use crate::functions::Kind;
use crate::scan::{nested_column_name, CollectionTable};

/// Reads nested paths as scan columns.
#[derive(Debug, Default)]
pub(crate) struct NestedColumns;

impl OptimizerRule for NestedColumns {
    fn name(&self) -> &str {
        "cairn_nested_columns"
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> DFResult<Transformed<LogicalPlan>> {
        let mut paths = BTreeSet::new();
        plan.apply_with_subqueries(|node| {
            node.apply_expressions(|e| {
                e.apply(|e| {
                    if let Some((column, keys, typed)) = path_access(e) {
                        paths.insert((column.name.clone(), keys, typed));
                    }
                    Ok(TreeNodeRecursion::Continue)
                })
            })
        })?;
        if paths.is_empty() {
            return Ok(Transformed::no(plan));
        }
        let paths: Vec<(String, Vec<String>, bool)> = paths.into_iter().collect();
        plan.transform_up_with_subqueries(|node| match node {
            LogicalPlan::TableScan(scan) => widen_scan(scan, &paths),
            other => replace_accesses(other),
        })
    }
}

/// `cairn_get(column, 'k1', 'k2', …)` (or its typed form) with literal field names: the
/// column, the keys, and whether the access is typed.
fn path_access(e: &Expr) -> Option<(&Column, Vec<String>, bool)> {
    let Expr::ScalarFunction(f) = e else { return None };
    let (args, typed) = match f.func.name() {
        n if n == Kind::Get.name() => (&f.args[..], false),
        n if n == Kind::GetTyped.name() => (f.args.split_last()?.1, true),
        _ => return None,
    };
    let (Expr::Column(c), keys) = args.split_first()? else { return None };
    let keys: Option<Vec<String>> = keys
        .iter()
        .map(|k| match k {
            Expr::Literal(ScalarValue::Utf8(Some(s)), _) => Some(s.clone()),
            _ => None,
        })
        .collect();
    keys.filter(|k| !k.is_empty()).map(|k| (c, k, typed))
}

/// A scan of a collection, with the nested paths it knows added as columns.
fn widen_scan(scan: TableScan, paths: &[(String, Vec<String>, bool)]) -> DFResult<Transformed<LogicalPlan>> {
    let provider = source_as_provider(&scan.source)?;
    let Some(table) = provider.downcast_ref::<CollectionTable>() else {
        return Ok(Transformed::no(LogicalPlan::TableScan(scan)));
    };
    let Some(wider) = table.with_nested(paths) else {
        return Ok(Transformed::no(LogicalPlan::TableScan(scan)));
    };
    let (old, new) = (table.schema_len(), wider.schema_len());
    let projection = scan.projection.map(|mut p| {
        p.extend(old..new);
        p
    });
    let widened = TableScanBuilder::new(scan.table_name, provider_as_source(Arc::new(wider)))
        .with_projection(projection)
        .with_filters(scan.filters)
        .with_fetch(scan.fetch)
        .build()?;
    Ok(Transformed::yes(LogicalPlan::TableScan(widened)))
}

/// Replaces path accesses whose nested column the node's input now has, keeping output names.
fn replace_accesses(node: LogicalPlan) -> DFResult<Transformed<LogicalPlan>> {
    let node = node.recompute_schema()?;
    let inputs: Vec<DFSchema> = node.inputs().iter().map(|p| p.schema().as_ref().clone()).collect();
    if inputs.is_empty() {
        return Ok(Transformed::no(node));
    }
    let names = NamePreserver::new(&node);
    let rewritten = node.map_expressions(|e| {
        let saved = names.save(&e);
        let out = e.transform_up(|e| {
            let Some((column, keys, typed)) = path_access(&e) else { return Ok(Transformed::no(e)) };
            let nested = Column::new(column.relation.clone(), nested_column_name(&column.name, &keys, typed));
            if inputs.iter().any(|s| s.has_column(&nested)) {
                Ok(Transformed::yes(Expr::Column(nested)))
            } else {
                Ok(Transformed::no(e))
            }
        })?;
        Ok(out.update_data(|e| saved.restore(e)))
    })?;
    if rewritten.transformed {
        Ok(Transformed::yes(rewritten.data.recompute_schema()?))
    } else {
        Ok(rewritten)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::optimizer::OptimizerContext;

    use super::*;
    use crate::testing::{engine_with, lines};

    #[tokio::test]
    async fn nested_paths_are_read_as_scan_columns() {
        let (engine, _dir) = engine_with(&[
            r#"{"_id":"a","commit":{"collection":"post","rev":1},"tags":[{"k":1}]}"#,
            r#"{"_id":"b","commit":{"collection":"like","rev":"x"}}"#,
        ]);
        // `commit.collection` holds only strings: a typed column of its own; `commit.rev`
        // holds two types: a variant column of its own. Both are added to the scan.
        let plan = engine.unoptimized_plan("SELECT commit.collection, commit.rev FROM ev").await;
        let rewritten = NestedColumns.rewrite(plan, &OptimizerContext::new()).expect("rewrite");
        assert!(rewritten.transformed);
        assert_eq!(
            lines(&rewritten.data),
            ["Projection: ev.$.commit.collection AS ev.commit.collection, ev.$:commit.rev AS ev.commit.rev", "  TableScan: ev",]
        );
        let LogicalPlan::Projection(projection) = &rewritten.data else { panic!("a projection") };
        let scan = projection.input.schema();
        let types: Vec<String> = scan.fields().iter().map(|f| format!("{} {}", f.name(), f.data_type())).collect();
        assert_eq!(
            types,
            [
                "_id Utf8",
                "_event_time Timestamp(µs, \"UTC\")",
                "commit LargeBinary",
                "tags List(LargeBinary)",
                "$.commit.collection Utf8",
                "$:commit.rev LargeBinary",
            ]
        );
        // Projection pushdown, which runs after the rule, then leaves the object unread.
        let optimized = lines(&engine.optimize(&rewritten.data).expect("optimize"));
        assert_eq!(optimized.last().map(String::as_str), Some("  TableScan: ev projection=[$.commit.collection, $:commit.rev]"));
        // A path through an array, or on a value computed in a subquery, stays an access.
        let plan = engine.unoptimized_plan("SELECT s.c.collection FROM (SELECT commit AS c FROM ev) s").await;
        let rewritten = NestedColumns.rewrite(plan, &OptimizerContext::new()).expect("rewrite");
        assert!(!rewritten.transformed, "{}", rewritten.data.display_indent());
    }
}
