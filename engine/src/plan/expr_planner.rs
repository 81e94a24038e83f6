//! SQL planning hooks for dynamically typed values: nested access (`a.b.c`, `a['b']`,
//! `a[1]`), PostgreSQL's JSON operators, and comparisons with Cairn's semantics (false across
//! incompatible types, no implicit string↔number coercion), `IS [NOT] UNDEFINED`, and SUM/AVG
//! over numbers only. Registered ahead of DataFusion's
//! own planners; anything not about variants is left to them.

use std::sync::Arc;

use arrow_schema::{DataType, Field, FieldRef};
use cairn_storage::{arrow_type, ColumnOutput, Value};
use datafusion::common::{plan_err, Column, DFSchema, Result as DFResult, ScalarValue, TableReference};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{
    ExprPlanner, PlannerResult, RawAggregateExpr, RawBinaryExpr, RawFieldAccessExpr, TypePlanner,
};
use datafusion::logical_expr::{lit, not, Expr, ExprSchemable, GetFieldAccess};
use datafusion::sql::sqlparser::ast::{BinaryOperator as B, DataType as SqlType};
use datafusion_pg_catalog::pg_catalog::oid_type_planner::PgOidTypePlanner;

use crate::error::to_df;
use crate::types::collection_schema as schema;

use crate::functions::semantics::CmpOp;
use crate::functions::{call, kind_of, Kind};
use crate::types::variant::{self, is_dynamic, is_variant};

/// Cairn's expression planner.
#[derive(Debug, Default)]
pub(crate) struct CairnPlanner {
    /// PostgreSQL's coercion between strings and numbers, for queries of the system catalog:
    /// tools compare oid columns with quoted literals (`WHERE c.oid = '16388'`).
    pub coerce: bool,
}

impl ExprPlanner for CairnPlanner {
    fn plan_binary_op(&self, expr: RawBinaryExpr, schema: &DFSchema) -> DFResult<PlannerResult<RawBinaryExpr>> {
        let lt = type_of(&expr.left, schema);
        let rt = type_of(&expr.right, schema);
        let (dl, dr) = (is_dynamic(&lt), is_dynamic(&rt));
        let RawBinaryExpr { op, left, right } = expr;
        if kind_of(&right) == Some(Kind::Undefined) {
            // `x IS [NOT] UNDEFINED` (see `crate::sql`): a missing value is an Arrow null.
            let missing = call(Kind::IsUndefined, vec![left]);
            return Ok(PlannerResult::Planned(if op == B::Eq { missing } else { not(missing) }));
        }
        if let Some(cmp) = comparison(&op) {
            if (dl || dr) && cmp == CmpOp::Eq {
                // Equality on keys: a plain `=` DataFusion can hash-join and fold constants in.
                let (l, r) = (call(Kind::EqKey, vec![left]), call(Kind::EqKey, vec![right]));
                return Ok(PlannerResult::Planned(l.eq(r)));
            }
            if dl || dr {
                return Ok(PlannerResult::Planned(call(Kind::Cmp(cmp), vec![left, right])));
            }
            if !self.coerce && incompatible(&lt, &rt) {
                return Ok(PlannerResult::Planned(lit(cmp == CmpOp::NotEq)));
            }
            return Ok(PlannerResult::Original(RawBinaryExpr { op, left, right }));
        }
        let planned = match &op {
            B::Arrow if dl => get(Kind::Get, left, vec![right]),
            B::LongArrow if dl => get(Kind::GetText, left, vec![right]),
            B::HashArrow if dl => get(Kind::Get, left, path_keys(&right)?),
            B::HashLongArrow if dl => get(Kind::GetText, left, path_keys(&right)?),
            B::AtArrow if dl => call(Kind::Contains, vec![left, json_operand(right)?]),
            B::ArrowAt if dr => call(Kind::Contains, vec![right, json_operand(left)?]),
            B::Question if dl => call(Kind::HasKey, vec![left, right]),
            B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo if dl || dr => {
                let num = |e: Expr, d: bool| if d { call(Kind::Number, vec![e]) } else { e };
                return Ok(PlannerResult::Original(RawBinaryExpr { op, left: num(left, dl), right: num(right, dr) }));
            }
            _ => return Ok(PlannerResult::Original(RawBinaryExpr { op, left, right })),
        };
        Ok(PlannerResult::Planned(planned))
    }

    fn plan_field_access(&self, expr: RawFieldAccessExpr, schema: &DFSchema) -> DFResult<PlannerResult<RawFieldAccessExpr>> {
        if !is_variant(&type_of(&expr.expr, schema)) {
            return Ok(PlannerResult::Original(expr));
        }
        let key = match expr.field_access {
            GetFieldAccess::NamedStructField { name } => lit(name),
            GetFieldAccess::ListIndex { key } => match *key {
                // SQL subscripts count from 1.
                Expr::Literal(ScalarValue::Int64(Some(i)), _) => lit(i - 1),
                other if type_of(&other, schema).is_integer() => other - lit(1i64),
                other => other,
            },
            GetFieldAccess::ListRange { .. } => return plan_err!("slices of variant values are not supported; use an array"),
        };
        Ok(PlannerResult::Planned(get(Kind::Get, expr.expr, vec![key])))
    }

    /// `SUM` and `AVG` add up the numbers among their values and skip other types.
    fn plan_aggregate(&self, mut expr: RawAggregateExpr) -> DFResult<PlannerResult<RawAggregateExpr>> {
        if matches!(expr.func.name(), "sum" | "avg") {
            expr.args = expr.args.into_iter().map(|a| call(Kind::Number, vec![a])).collect();
        }
        Ok(PlannerResult::Original(expr))
    }

    fn plan_compound_identifier(
        &self,
        field: &Field,
        qualifier: Option<&TableReference>,
        nested_names: &[String],
    ) -> DFResult<PlannerResult<Vec<Expr>>> {
        if !is_dynamic(field.data_type()) {
            return Ok(PlannerResult::Original(vec![]));
        }
        let column = Expr::Column(Column::from((qualifier, field)));
        let mut keys: Vec<Expr> = nested_names.iter().map(|n| lit(n.as_str())).collect();
        // A path the smart schema gives one scalar type is a typed value, like a typed column.
        if let Some(t) = schema::typed_path(field, &schema::path_text(field.name(), nested_names)) {
            let target = arrow_type(ColumnOutput::Typed(t)).map_err(to_df)?;
            keys.push(lit(ScalarValue::try_from(&target)?));
            return Ok(PlannerResult::Planned(get(Kind::GetTyped, column, keys)));
        }
        Ok(PlannerResult::Planned(get(Kind::Get, column, keys)))
    }
}

/// SQL types Cairn adds: `JSON` and `JSONB` name the variant, so `'{"a":1}'::jsonb` parses
/// JSON text into a value; PostgreSQL's catalog types (`regclass`, `oid`, `pg_catalog.text`)
/// as pg_catalog's planner reads them.
#[derive(Debug, Default)]
pub(crate) struct CairnTypes {
    catalog: PgOidTypePlanner,
}

impl TypePlanner for CairnTypes {
    fn plan_type_field(&self, sql_type: &SqlType) -> DFResult<Option<FieldRef>> {
        if matches!(sql_type, SqlType::JSON | SqlType::JSONB) {
            return Ok(Some(Arc::new(Field::new("", variant::VARIANT, true))));
        }
        self.catalog.plan_type_field(sql_type)
    }
}

/// The type of an expression, Null when it has none yet (a parameter).
fn type_of(e: &Expr, schema: &DFSchema) -> DataType {
    e.get_type(schema).unwrap_or(DataType::Null)
}

fn comparison(op: &B) -> Option<CmpOp> {
    Some(match op {
        B::Eq => CmpOp::Eq,
        B::NotEq => CmpOp::NotEq,
        B::Lt => CmpOp::Lt,
        B::LtEq => CmpOp::LtEq,
        B::Gt => CmpOp::Gt,
        B::GtEq => CmpOp::GtEq,
        _ => return None,
    })
}

/// Strings and numbers never compare equal and never order against each other.
fn incompatible(a: &DataType, b: &DataType) -> bool {
    let stringy = |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    (stringy(a) && b.is_numeric()) || (a.is_numeric() && stringy(b))
}

/// A path access, extending an access it applies to (`a.b.c` is one access with two keys).
fn get(kind: Kind, base: Expr, keys: Vec<Expr>) -> Expr {
    let mut args = match base {
        Expr::ScalarFunction(ScalarFunction { func, args }) if func.name() == Kind::Get.name() => args,
        base => vec![base],
    };
    args.extend(keys);
    call(kind, args)
}

/// The keys of a `#>`/`#>>` path literal such as `'{a,b,0}'`.
fn path_keys(e: &Expr) -> DFResult<Vec<Expr>> {
    let text = match e {
        Expr::Literal(ScalarValue::Utf8(Some(s)), _) => s,
        _ => return plan_err!("the right side of #> and #>> must be a text array literal such as '{{a,b}}'"),
    };
    let inner = text.trim().strip_prefix('{').and_then(|t| t.strip_suffix('}'));
    let Some(inner) = inner else {
        return plan_err!("malformed path literal {text:?}: expected '{{key,key,...}}'");
    };
    Ok(inner.split(',').map(str::trim).filter(|k| !k.is_empty()).map(|k| lit(k.trim_matches('"'))).collect())
}

/// The operand of `@>`/`<@`: a text literal is parsed as JSON (as PostgreSQL reads a jsonb
/// literal); other expressions are used as they are.
fn json_operand(e: Expr) -> DFResult<Expr> {
    match &e {
        Expr::Literal(ScalarValue::Utf8(Some(s)), _) => match Value::from_json_str(s) {
            Ok(v) => Ok(lit(variant::variant_scalar(&v))),
            Err(err) => plan_err!("invalid JSON in containment operand: {err}"),
        },
        _ => Ok(e),
    }
}
