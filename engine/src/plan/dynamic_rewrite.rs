//! The expression rewrite that gives SQL's non-operator forms Cairn's semantics on variant
//! values, before DataFusion's type coercion sees them: CAST and TRY_CAST per value, IS NULL
//! (missing or JSON null), IN, BETWEEN and LIKE; and casts
//! to JSON/JSONB, which parse text.

use arrow_schema::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result as DFResult, ScalarValue};
use datafusion::logical_expr::expr::{Between, Cast, InList, Like, TryCast};
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::{lit, not, Expr, ExprSchemable};

use crate::functions::semantics::CmpOp;
use crate::functions::{call, Kind};
use crate::types::variant::{is_dynamic, is_variant};

/// Cairn's rewrite of expressions over variant values.
#[derive(Debug, Default)]
pub(crate) struct DynamicRewrite;

impl FunctionRewrite for DynamicRewrite {
    fn name(&self) -> &str {
        "cairn_dynamic_types"
    }

    fn rewrite(&self, expr: Expr, schema: &DFSchema, _config: &ConfigOptions) -> DFResult<Transformed<Expr>> {
        let dynamic = |e: &Expr| is_dynamic(&e.get_type(schema).unwrap_or(DataType::Null));
        let cmp = |op: CmpOp, a: Expr, b: Expr| call(Kind::Cmp(op), vec![a, b]);
        Ok(Transformed::yes(match expr {
            // To JSON/JSONB: text is parsed, other values keep their own type.
            Expr::Cast(Cast { expr, field }) if is_variant(field.data_type()) => match expr.get_type(schema)? {
                t if is_dynamic(&t) => *expr,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => call(Kind::ParseJson, vec![*expr]),
                _ => call(Kind::Get, vec![*expr]),
            },
            Expr::Cast(Cast { expr, field }) if dynamic(&expr) => {
                call(Kind::Cast { strict: true }, vec![*expr, typed_null(field.data_type())?])
            }
            Expr::TryCast(TryCast { expr, field }) if dynamic(&expr) => {
                call(Kind::Cast { strict: false }, vec![*expr, typed_null(field.data_type())?])
            }
            Expr::IsNull(e) if dynamic(&e) => call(Kind::IsNull, vec![*e]),
            Expr::IsNotNull(e) if dynamic(&e) => not(call(Kind::IsNull, vec![*e])),
            // IN compares equality keys, as `=` does (see [`super::expr_planner`]): a hashed set lookup.
            Expr::InList(InList { expr, list, negated }) if dynamic(&expr) => {
                let key = |e: Expr| call(Kind::EqKey, vec![e]);
                Expr::InList(InList { expr: Box::new(key(*expr)), list: list.into_iter().map(key).collect(), negated })
            }
            Expr::Between(Between { expr, negated, low, high }) if dynamic(&expr) => {
                let within = cmp(CmpOp::GtEq, (*expr).clone(), *low).and(cmp(CmpOp::LtEq, *expr, *high));
                if negated {
                    not(within)
                } else {
                    within
                }
            }
            Expr::Like(like) if dynamic(&like.expr) => {
                Expr::Like(Like { expr: Box::new(call(Kind::Text, vec![*like.expr])), ..like })
            }
            other => return Ok(Transformed::no(other)),
        }))
    }
}

/// A NULL of `t`: how a cast's target type travels as a function argument.
fn typed_null(t: &DataType) -> DFResult<Expr> {
    Ok(lit(ScalarValue::try_from(t)?))
}
