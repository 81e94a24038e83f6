//! Which filters the converged index answers: a filter on a collection's column (or nested
//! path column) that is an equality, IN, range, prefix LIKE, IS NULL / IS UNDEFINED test, or a
//! conjunction or disjunction of these, becomes a storage [`IndexPredicate`]. Everything else
//! stays with DataFusion.

use std::ops::Bound;

use cairn_storage::{IndexPredicate, Value, ValueType};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::{Between, BinaryExpr, InList, Like, ScalarFunction};
use datafusion::logical_expr::{Expr, Operator};

use crate::functions::semantics::CmpOp;
use crate::functions::{kind_of, Kind};
use crate::types::collection_schema::{ColumnKind, SqlColumn};
use crate::types::variant;

/// The index predicate equivalent to `filter` over a table with these columns, if the
/// indexes can answer it. A conjunction keeps the parts the index answers (the rest is
/// checked by DataFusion, which re-applies every filter).
pub(crate) fn to_predicate(filter: &Expr, columns: &[SqlColumn]) -> Option<IndexPredicate> {
    let column = |e: &Expr| -> Option<&SqlColumn> {
        match e {
            Expr::Column(c) => columns.iter().find(|sc| sc.name == c.name),
            // `a = b` on variants compares equality keys (see `Kind::EqKey`).
            Expr::ScalarFunction(ScalarFunction { func, args }) if func.name() == Kind::EqKey.name() => match args.as_slice() {
                [Expr::Column(c)] => columns.iter().find(|sc| sc.name == c.name),
                _ => None,
            },
            _ => None,
        }
    };
    match filter {
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::And, right }) => {
            conjunction([left, right].into_iter().filter_map(|e| to_predicate(e, columns)).collect())
        }
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Or, right }) => {
            Some(IndexPredicate::Or(vec![to_predicate(left, columns)?, to_predicate(right, columns)?]))
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let op = cmp_op(*op)?;
            comparison(op, left, right, &column)
        }
        Expr::ScalarFunction(ScalarFunction { args, .. }) => match (kind_of(filter)?, args.as_slice()) {
            (Kind::Cmp(op), [l, r]) => comparison(op, l, r, &column),
            (Kind::IsUndefined, [c]) => Some(IndexPredicate::Undefined { path: column(c)?.path.clone() }),
            (Kind::IsNull, [c]) => {
                let path = column(c)?.path.clone();
                Some(IndexPredicate::Or(vec![IndexPredicate::Null { path: path.clone() }, IndexPredicate::Undefined { path }]))
            }
            _ => None,
        },
        Expr::Not(inner) => match inner.as_ref() {
            Expr::ScalarFunction(ScalarFunction { func, args }) if func.name() == Kind::IsUndefined.name() => {
                Some(IndexPredicate::Defined { path: column(args.first()?)?.path.clone() })
            }
            _ => None,
        },
        // A typed column never holds JSON null: an Arrow null there is a missing value.
        Expr::IsNull(c) if matches!(column(c)?.kind, ColumnKind::Typed(_)) => {
            Some(IndexPredicate::Undefined { path: column(c)?.path.clone() })
        }
        Expr::IsNotNull(c) if matches!(column(c)?.kind, ColumnKind::Typed(_)) => {
            Some(IndexPredicate::Defined { path: column(c)?.path.clone() })
        }
        Expr::InList(InList { expr, list, negated: false }) => {
            let path = column(expr)?.path.clone();
            let values: Option<Vec<Value>> = list.iter().map(literal).collect();
            Some(IndexPredicate::In { path, values: values? })
        }
        Expr::Between(Between { expr, negated: false, low, high }) => {
            let path = column(expr)?.path.clone();
            Some(IndexPredicate::Range { path, lower: Bound::Included(literal(low)?), upper: Bound::Included(literal(high)?) })
        }
        Expr::Like(Like { negated: false, expr, pattern, escape_char: None, case_insensitive: false }) => {
            let inner = match expr.as_ref() {
                Expr::ScalarFunction(ScalarFunction { func, args }) if func.name() == Kind::Text.name() => args.first()?,
                e => e,
            };
            let path = column(inner)?.path.clone();
            let Some(Value::String(p)) = literal(pattern) else { return None };
            let prefix = p.strip_suffix('%')?;
            if prefix.contains(['%', '_', '\\']) {
                return None;
            }
            Some(IndexPredicate::Prefix { path, prefix: prefix.to_owned() })
        }
        _ => None,
    }
}

/// True when the index answers `filter` exactly, so the scan can apply it without DataFusion
/// checking it again: equalities and IN lists (and disjunctions of them) of a typed string or
/// bool column with literals of its type. Both sides agree on these for every document: a
/// typed column reads values of other types as null, and the index matches a string or bool
/// only to a value of that type. (Not ints: the index also matches an int to a float of
/// equal value, which a typed int column reads as null.)
pub(crate) fn is_exact(filter: &Expr, columns: &[SqlColumn]) -> bool {
    let typed = |e: &Expr| -> Option<ValueType> {
        let Expr::Column(c) = e else { return None };
        match columns.iter().find(|sc| sc.name == c.name)?.kind {
            ColumnKind::Typed(t @ (ValueType::String | ValueType::Bool)) => Some(t),
            _ => None,
        }
    };
    let of_type = |e: &Expr, t: ValueType| literal(e).is_some_and(|v| v.value_type() == t);
    match filter {
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::And | Operator::Or, right }) => {
            is_exact(left, columns) && is_exact(right, columns)
        }
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right }) => match (typed(left), typed(right)) {
            (Some(t), None) => of_type(right, t),
            (None, Some(t)) => of_type(left, t),
            _ => false,
        },
        Expr::InList(InList { expr, list, negated: false }) => typed(expr).is_some_and(|t| list.iter().all(|e| of_type(e, t))),
        _ => false,
    }
}

/// All of `parts` (None when there are none; a single part stands alone).
pub(crate) fn conjunction(mut parts: Vec<IndexPredicate>) -> Option<IndexPredicate> {
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(IndexPredicate::And(parts)),
    }
}

fn cmp_op(op: Operator) -> Option<CmpOp> {
    Some(match op {
        Operator::Eq => CmpOp::Eq,
        Operator::Lt => CmpOp::Lt,
        Operator::LtEq => CmpOp::LtEq,
        Operator::Gt => CmpOp::Gt,
        Operator::GtEq => CmpOp::GtEq,
        _ => return None,
    })
}

/// `column op literal` (either way round).
fn comparison<'a>(
    op: CmpOp,
    l: &'a Expr,
    r: &'a Expr,
    column: &impl Fn(&Expr) -> Option<&'a SqlColumn>,
) -> Option<IndexPredicate> {
    let (col, value, op) = match (column(l), column(r)) {
        (Some(c), None) => (c, literal(r)?, op),
        (None, Some(c)) => (c, literal(l)?, flip(op)),
        _ => return None,
    };
    if matches!(value, Value::Null) {
        return None;
    }
    let path = col.path.clone();
    Some(match op {
        CmpOp::Eq => IndexPredicate::Eq { path, value },
        CmpOp::NotEq => return None,
        CmpOp::Lt => IndexPredicate::Range { path, lower: Bound::Unbounded, upper: Bound::Excluded(value) },
        CmpOp::LtEq => IndexPredicate::Range { path, lower: Bound::Unbounded, upper: Bound::Included(value) },
        CmpOp::Gt => IndexPredicate::Range { path, lower: Bound::Excluded(value), upper: Bound::Unbounded },
        CmpOp::GtEq => IndexPredicate::Range { path, lower: Bound::Included(value), upper: Bound::Unbounded },
    })
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::LtEq => CmpOp::GtEq,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::GtEq => CmpOp::LtEq,
        other => other,
    }
}

/// The value of a literal (a variant literal keeps its type).
fn literal(e: &Expr) -> Option<Value> {
    match e {
        Expr::Literal(s, _) if !matches!(s, ScalarValue::List(_)) => variant::scalar_value(s).ok().flatten(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use cairn_storage::ValueType;
    use datafusion::logical_expr::{col, lit};

    use super::*;
    use crate::engine::Engine;
    use crate::scan::access_path::describe;
    use crate::testing::{engine_with, lines};
    use crate::types::collection_schema::{ColumnKind, SqlColumn};

    fn columns() -> Vec<SqlColumn> {
        let column = |name: &str, kind| SqlColumn { name: name.into(), path: name.into(), kind };
        vec![
            column("kind", ColumnKind::Typed(ValueType::String)),
            column("n", ColumnKind::Typed(ValueType::Int)),
            column("v", ColumnKind::Variant),
        ]
    }

    /// The index predicate of `filter`, as EXPLAIN shows it, and whether it is exact.
    fn pushed(filter: Expr) -> (Option<String>, bool) {
        let columns = columns();
        (to_predicate(&filter, &columns).map(|p| describe(&p)), is_exact(&filter, &columns))
    }

    #[test]
    fn filters_the_index_answers_become_predicates() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(pushed(col("kind").eq(lit("post"))), (some(r#"kind = "post""#), true));
        assert_eq!(pushed(lit("post").eq(col("kind"))), (some(r#"kind = "post""#), true));
        assert_eq!(pushed(col("kind").in_list(vec![lit("a"), lit("b")], false)), (some(r#"kind IN ("a", "b")"#), true));
        // The index matches an int to an equal float too, which a typed int column reads as
        // null: DataFusion checks int equality again.
        assert_eq!(pushed(col("n").eq(lit(3i64))), (some("n = 3"), false));
        assert_eq!(pushed(col("n").gt(lit(3i64))), (some("n > 3"), false));
        assert_eq!(pushed(lit(3i64).lt_eq(col("n"))), (some("n >= 3"), false));
        assert_eq!(pushed(col("n").between(lit(1i64), lit(5i64))), (some("n >= 1 AND n <= 5"), false));
        assert_eq!(pushed(col("kind").like(lit("po%"))), (some(r#"kind LIKE "po"%"#), false));
        assert_eq!(pushed(col("n").is_null()), (some("n IS UNDEFINED"), false));
        // A conjunction keeps what the index answers; a disjunction needs both sides.
        assert_eq!(pushed(col("kind").eq(lit("post")).and(col("n").not_eq(lit(1i64)))), (some(r#"kind = "post""#), false));
        assert_eq!(
            pushed(col("kind").eq(lit("a")).or(col("kind").eq(lit("b")))),
            (some(r#"(kind = "a") OR (kind = "b")"#), true)
        );
        assert_eq!(pushed(col("kind").eq(lit("a")).or(col("n").not_eq(lit(1i64)))), (None, false));
        // A comparison with NULL, an unknown column or a non-literal is not the index's.
        assert_eq!(pushed(col("n").eq(lit(ScalarValue::Int64(None)))), (None, false));
        assert_eq!(pushed(col("other").eq(lit(1i64))), (None, false));
        assert_eq!(pushed(col("n").eq(col("n"))), (None, false));
        assert_eq!(pushed(col("kind").like(lit("a_c%"))), (None, false));
    }

    /// The optimized plan of `sql` over `engine`, as EXPLAIN indents it.
    async fn optimized(engine: &Engine, sql: &str) -> Vec<String> {
        let plan = engine.unoptimized_plan(sql).await;
        lines(&engine.optimize(&plan).expect("optimize"))
    }

    #[tokio::test]
    async fn the_scan_takes_the_filters_the_index_answers() {
        let (engine, _dir) = engine_with(&[r#"{"_id":"a","kind":"post","n":4}"#, r#"{"_id":"b","kind":"like","n":2}"#]);
        // Exact: no filter is left above the scan.
        assert_eq!(
            optimized(&engine, "SELECT _id FROM ev WHERE kind = 'post'").await,
            ["TableScan: ev projection=[_id], full_filters=[ev.kind = Utf8(\"post\")]"]
        );
        // Inexact: the scan narrows by the index, DataFusion checks the filter again.
        assert_eq!(
            optimized(&engine, "SELECT _id FROM ev WHERE kind = 'post' AND n > 3").await,
            [
                "Projection: ev._id",
                "  Filter: ev.n > Int64(3)",
                "    TableScan: ev projection=[_id, n], full_filters=[ev.kind = Utf8(\"post\")], partial_filters=[ev.n > Int64(3)]",
            ]
        );
        // Not the index's: DataFusion filters the scanned rows.
        assert_eq!(
            optimized(&engine, "SELECT _id FROM ev WHERE n + 1 > 3").await,
            ["Projection: ev._id", "  Filter: ev.n + Int64(1) > Int64(3)", "    TableScan: ev projection=[_id, n]"]
        );
    }
}
