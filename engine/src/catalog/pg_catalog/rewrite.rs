//! Catalog queries, written for PostgreSQL, adapted to what DataFusion plans: `LIKE … ESCAPE`
//! with any escape character, correlated scalar subqueries as aggregates,
//! `generate_subscripts` as an `unnest`, comment lookups as NULL, and Cairn's own system
//! tables found without their schema as PostgreSQL's are.

use std::ops::ControlFlow;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result as DFResult};
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::{lit, Expr};
use datafusion::sql::sqlparser::ast::{
    visit_expressions_mut, visit_relations_mut, Expr as SqlExpr, GroupByExpr, Ident, ObjectNamePart, SelectItem, SetExpr,
    Statement, Value as SqlValue,
};

use crate::sql::function_call;

/// `LIKE … ESCAPE c` for any `c` (SQLAlchemy escapes with `/`): DataFusion takes only a
/// backslash, so the pattern's `c` becomes one (and its own backslashes are escaped).
#[derive(Debug)]
pub(super) struct LikeEscape;

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
pub(crate) fn adapt_catalog_query(statement: &mut Statement) {
    // PostgreSQL searches pg_catalog first; the rewriter before this one qualifies only the
    // tables it knows.
    let _visited = visit_relations_mut(statement, |name| {
        if name.0.len() == 1 && super::ingest_stats::names_live_stats(name) {
            name.0.insert(0, ObjectNamePart::Identifier(Ident::new(super::PG_CATALOG)));
        }
        ControlFlow::<()>::Continue(())
    });
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
    let Some(datafusion::sql::sqlparser::ast::FunctionArg::Unnamed(datafusion::sql::sqlparser::ast::FunctionArgExpr::Expr(
        array,
    ))) = list.args.first()
    else {
        return;
    };
    let text = format!("unnest(generate_series(1, CAST(cardinality({array}) AS BIGINT)))");
    if let Ok(rewritten) =
        datafusion::sql::sqlparser::parser::Parser::new(&datafusion::sql::sqlparser::dialect::PostgreSqlDialect {})
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
