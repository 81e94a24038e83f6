//! Scalar functions over dynamically typed values. The expression planner and the rewrite rule
//! ([`crate::plan`]) route operators on variant values here: comparisons,
//! path access (`a.b`, `a['b']`, `a[1]`, `->`, `->>`, `#>`, `#>>`), containment (`@>`), key
//! tests (`?`), casts, IS NULL and numeric use. `TYPEOF(x)` and `JSON_PARSE(text)` are
//! callable directly.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, LargeBinaryBuilder, StringBuilder};
use arrow_array::{Array, ArrayRef, Float64Array, LargeBinaryArray};
use arrow_schema::{DataType, Field, FieldRef};
use cairn_storage::value::keycode::tag;
use cairn_storage::Value;
use datafusion::arrow::compute::CastOptions;
use datafusion::common::{exec_err, ScalarValue};
use datafusion::error::Result as DFResult;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::semantics::{self, CmpOp, Step};
use crate::error::to_df;
use crate::types::variant::{self, values_of, VARIANT};

/// What a dynamic function does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// `TYPEOF(x)`: the value's type name, `undefined` when missing.
    TypeOf,
    /// The value at a path (field names and 0-based positions), as a variant.
    Get,
    /// The value at a path of one known scalar type, as that SQL type (the last argument is a
    /// NULL of it); values of other types are null.
    GetTyped,
    /// The value at a path as text (`->>`, `#>>`).
    GetText,
    /// jsonb containment, `a @> b`.
    Contains,
    /// `a ? key`.
    HasKey,
    /// A comparison that is false across incompatible types.
    Cmp(CmpOp),
    /// The number in a value (ints and floats; other values are null).
    Number,
    /// The string in a value (other values are null).
    Text,
    /// Missing or JSON null.
    IsNull,
    /// CAST (strict: bad input is an error) or TRY_CAST (bad input is null).
    Cast { strict: bool },
    /// The `UNDEFINED` of `IS [NOT] UNDEFINED`; only valid there.
    Undefined,
    /// `x IS UNDEFINED`: the value is missing.
    IsUndefined,
    /// JSON text parsed into a value (`json_parse(text)`, `text::jsonb`).
    ParseJson,
    /// The equality key of a value: equal keys exactly when `=` holds (ints and floats of
    /// equal value share one key, types never do); null for JSON null and missing values.
    /// `a = b` on variants compares keys, so joins on variants hash.
    EqKey,
}

impl Kind {
    /// The SQL name of the function.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::TypeOf => "typeof",
            Kind::Get => "cairn_get",
            Kind::GetTyped => "cairn_get_typed",
            Kind::GetText => "cairn_get_text",
            Kind::Contains => "cairn_contains",
            Kind::HasKey => "cairn_has_key",
            Kind::Cmp(op) => op.function_name(),
            Kind::Number => "cairn_number",
            Kind::Text => "cairn_text",
            Kind::IsNull => "cairn_is_null",
            Kind::Cast { strict: true } => "cairn_cast",
            Kind::Cast { strict: false } => "cairn_try_cast",
            Kind::Undefined => "cairn_undefined",
            Kind::IsUndefined => "cairn_is_undefined",
            Kind::ParseJson => "json_parse",
            Kind::EqKey => "cairn_eq_key",
        }
    }

    /// Every function, for registration.
    pub(crate) const ALL: [Kind; 21] = [
        Kind::TypeOf,
        Kind::Get,
        Kind::GetTyped,
        Kind::GetText,
        Kind::Contains,
        Kind::HasKey,
        Kind::Cmp(CmpOp::Eq),
        Kind::Cmp(CmpOp::NotEq),
        Kind::Cmp(CmpOp::Lt),
        Kind::Cmp(CmpOp::LtEq),
        Kind::Cmp(CmpOp::Gt),
        Kind::Cmp(CmpOp::GtEq),
        Kind::Number,
        Kind::Text,
        Kind::IsNull,
        Kind::Cast { strict: true },
        Kind::Cast { strict: false },
        Kind::Undefined,
        Kind::IsUndefined,
        Kind::ParseJson,
        Kind::EqKey,
    ];
}

/// A dynamic function as a DataFusion scalar UDF.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct DynamicFn {
    kind: Kind,
    signature: Signature,
}

/// The UDF of a kind.
pub(crate) fn udf(kind: Kind) -> Arc<ScalarUDF> {
    let signature = match kind {
        Kind::Undefined => Signature::nullary(Volatility::Immutable),
        _ => Signature::variadic_any(Volatility::Immutable),
    };
    Arc::new(ScalarUDF::new_from_impl(DynamicFn { kind, signature }))
}

/// A call of a dynamic function.
pub(crate) fn call(kind: Kind, args: Vec<Expr>) -> Expr {
    Expr::ScalarFunction(ScalarFunction::new_udf(udf(kind), args))
}

/// The kind of a dynamic function call, if `e` is one.
pub(crate) fn kind_of(e: &Expr) -> Option<Kind> {
    match e {
        Expr::ScalarFunction(f) => Kind::ALL.into_iter().find(|k| k.name() == f.func.name()),
        _ => None,
    }
}

impl ScalarUDFImpl for DynamicFn {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> DFResult<DataType> {
        Ok(match self.kind {
            Kind::TypeOf | Kind::GetText | Kind::Text => DataType::Utf8,
            Kind::Get | Kind::ParseJson | Kind::EqKey => VARIANT,
            Kind::Contains | Kind::HasKey | Kind::Cmp(_) | Kind::IsNull | Kind::IsUndefined => DataType::Boolean,
            Kind::Number => match arg_types.first() {
                Some(t) if t.is_numeric() => t.clone(),
                _ => DataType::Float64,
            },
            Kind::Cast { .. } => arg_types.get(1).cloned().unwrap_or(DataType::Null),
            Kind::GetTyped => arg_types.last().cloned().unwrap_or(DataType::Null),
            Kind::Undefined => DataType::Null,
        })
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> DFResult<FieldRef> {
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        Ok(Arc::new(Field::new(self.name(), self.return_type(&types)?, true)))
    }

    fn schema_name(&self, args: &[Expr]) -> DFResult<String> {
        match (self.kind, args) {
            // Invisible in column names: `sum(x)` stays `sum(x)`.
            (Kind::Number, [arg]) => Ok(arg.schema_name().to_string()),
            // A path reads as written: `t.commit.collection`, `t.tags[2]`.
            (Kind::Get | Kind::GetTyped, [base, keys @ ..]) if !keys.is_empty() => {
                let keys = if self.kind == Kind::GetTyped { &keys[..keys.len() - 1] } else { keys };
                let mut name = base.schema_name().to_string();
                for k in keys {
                    match k {
                        Expr::Literal(ScalarValue::Utf8(Some(s)), _) => name.push_str(&format!(".{s}")),
                        Expr::Literal(ScalarValue::Int64(Some(i)), _) => name.push_str(&format!("[{}]", i + 1)),
                        other => name.push_str(&format!("[{}]", other.schema_name())),
                    }
                }
                Ok(name)
            }
            _ => {
                Ok(format!("{}({})", self.name(), args.iter().map(|a| a.schema_name().to_string()).collect::<Vec<_>>().join(",")))
            }
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DFResult<ColumnarValue> {
        let target = args.return_field.data_type().clone();
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        evaluate(self.kind, &arrays, &target).map(ColumnarValue::Array)
    }
}

fn evaluate(kind: Kind, arrays: &[ArrayRef], target: &DataType) -> DFResult<ArrayRef> {
    let Some(first) = arrays.first() else {
        return exec_err!("UNDEFINED can only be used in IS UNDEFINED and IS NOT UNDEFINED");
    };
    Ok(match kind {
        Kind::TypeOf => {
            let literal_null = *first.data_type() == DataType::Null;
            strings(
                values_of(first)?
                    .iter()
                    .map(|v| Some(if literal_null { "null" } else { semantics::type_name(v.as_ref()) }.to_owned())),
            )
        }
        Kind::Get => variant::variant_array(values_at_path(arrays)?),
        Kind::GetText => strings(values_at_path(arrays)?.into_iter().map(|v| semantics::text(&v?))),
        Kind::GetTyped => {
            let null = ScalarValue::try_from(target)?;
            let found = values_at_path(&arrays[..arrays.len() - 1])?;
            let typed = found.iter().map(|v| match v.as_ref().map(natural_scalar) {
                Some(s) if s.data_type() == *target => s,
                _ => null.clone(),
            });
            scalars_to_array(typed.collect(), target)?
        }
        Kind::Contains | Kind::HasKey | Kind::Cmp(_) => {
            let (a, b) = (values_of(first)?, values_of(second(arrays)?)?);
            let mut out = BooleanBuilder::with_capacity(a.len());
            for (x, y) in a.iter().zip(&b) {
                out.append_option(match kind {
                    Kind::Cmp(op) => semantics::compare(op, x.as_ref(), y.as_ref()),
                    Kind::Contains => x.as_ref().zip(y.as_ref()).map(|(x, y)| semantics::contains(x, y)),
                    _ => x.as_ref().zip(y.as_ref().and_then(Value::as_str)).map(|(x, k)| semantics::has_key(x, k)),
                });
            }
            Arc::new(out.finish())
        }
        Kind::Number if first.data_type().is_numeric() => first.clone(),
        Kind::Number => {
            Arc::new(values_of(first)?.iter().map(|v| v.as_ref().and_then(semantics::number)).collect::<Float64Array>())
        }
        Kind::Text => strings(values_of(first)?.into_iter().map(|v| match v {
            Some(Value::String(s)) => Some(s),
            _ => None,
        })),
        Kind::IsNull => {
            let b: arrow_array::BooleanArray =
                values_of(first)?.iter().map(|v| Some(matches!(v, None | Some(Value::Null)))).collect();
            Arc::new(b)
        }
        Kind::IsUndefined => Arc::new(datafusion::arrow::compute::is_null(first)?),
        Kind::Cast { strict } => cast(first, target, strict)?,
        Kind::EqKey => eq_keys(first)?,
        Kind::ParseJson => {
            let parsed = values_of(first)?.into_iter().map(|v| match v {
                Some(Value::String(s)) => Value::from_json_str(&s).map(Some).map_err(to_df),
                Some(Value::Null) | None => Ok(None),
                Some(other) => Ok(Some(other)),
            });
            variant::variant_array(parsed.collect::<DFResult<Vec<_>>>()?)
        }
        Kind::Undefined => return exec_err!("UNDEFINED can only be used in IS UNDEFINED and IS NOT UNDEFINED"),
    })
}

/// Equality keys: variant bytes pass through unless they hold a number (canonicalised) or a
/// JSON null (no key).
fn eq_keys(values: &ArrayRef) -> DFResult<ArrayRef> {
    if let Some(bin) = values.as_any().downcast_ref::<LargeBinaryArray>() {
        let mut b = LargeBinaryBuilder::with_capacity(bin.len(), bin.value_data().len());
        for v in bin.iter() {
            match v {
                None => b.append_null(),
                Some([tag::NULL, ..]) => b.append_null(),
                Some(bytes @ [tag::NUMBER, ..]) => match semantics::equality_form(variant::decode(bytes)?) {
                    Some(v) => b.append_value(variant::encode(&v)),
                    None => b.append_null(),
                },
                Some(bytes) => b.append_value(bytes),
            }
        }
        return Ok(Arc::new(b.finish()));
    }
    Ok(variant::variant_array(values_of(values)?.into_iter().map(|v| v.and_then(semantics::equality_form))))
}

/// The value at the path given by `arrays[1..]` (one key per row each) inside each value of
/// `arrays[0]`.
fn values_at_path(arrays: &[ArrayRef]) -> DFResult<Vec<Option<Value>>> {
    let Some((base, keys)) = arrays.split_first() else { return Ok(vec![]) };
    let keys = keys.iter().map(values_of).collect::<DFResult<Vec<_>>>()?;
    Ok(values_of(base)?
        .iter()
        .enumerate()
        .map(|(row, v)| {
            let steps: Option<Vec<Step>> = keys.iter().map(|k| step(k[row].as_ref()?)).collect();
            semantics::get(v.as_ref()?, &steps?).cloned()
        })
        .collect())
}

/// An array of `target` type from per-row scalars (of that type or typed nulls).
fn scalars_to_array(scalars: Vec<ScalarValue>, target: &DataType) -> DFResult<ArrayRef> {
    if scalars.is_empty() {
        return Ok(arrow_array::new_empty_array(target));
    }
    ScalarValue::iter_to_array(scalars)
}

fn second(arrays: &[ArrayRef]) -> DFResult<&ArrayRef> {
    match arrays.get(1) {
        Some(a) => Ok(a),
        None => exec_err!("this operator needs two operands"),
    }
}

fn strings(it: impl Iterator<Item = Option<String>>) -> ArrayRef {
    let mut b = StringBuilder::new();
    for s in it {
        b.append_option(s);
    }
    Arc::new(b.finish())
}

fn step(key: &Value) -> Option<Step> {
    match key {
        Value::String(s) => Some(Step::Field(s.clone())),
        Value::Int(i) => Some(Step::Index(*i)),
        _ => None,
    }
}

/// Casts each value to `target`: through its own type's SQL value, so CAST follows SQL's
/// rules per value (a string holding digits casts to a number, a word does not).
fn cast(values: &ArrayRef, target: &DataType, strict: bool) -> DFResult<ArrayRef> {
    let options = CastOptions { safe: !strict, ..Default::default() };
    let null = ScalarValue::try_from(target)?;
    let mut out = Vec::with_capacity(values.len());
    for v in values_of(values)? {
        let scalar = match v {
            None | Some(Value::Null) => null.clone(),
            Some(Value::Object(_) | Value::Array(_)) if *target != DataType::Utf8 => {
                if strict {
                    let t = semantics::type_name(v.as_ref());
                    return exec_err!("cannot cast a value of type {t} to {target}");
                }
                null.clone()
            }
            Some(v) => natural_scalar(&v).cast_to_with_options(target, &options)?,
        };
        out.push(scalar);
    }
    scalars_to_array(out, target)
}

/// The SQL value that represents a stored value of its own type.
fn natural_scalar(v: &Value) -> ScalarValue {
    match v {
        Value::Null => ScalarValue::Null,
        Value::Bool(b) => ScalarValue::Boolean(Some(*b)),
        Value::Int(i) => ScalarValue::Int64(Some(*i)),
        Value::Float(f) => ScalarValue::Float64(Some(*f)),
        Value::String(s) => ScalarValue::Utf8(Some(s.clone())),
        Value::Bytes(b) => ScalarValue::Binary(Some(b.clone())),
        Value::Date(d) => ScalarValue::Date32(Some(*d)),
        Value::Time(t) => ScalarValue::Time64Microsecond(Some(*t)),
        Value::DateTime(t) => ScalarValue::TimestampMicrosecond(Some(*t), None),
        Value::Timestamp(t) => ScalarValue::TimestampMicrosecond(Some(*t), Some("UTC".into())),
        Value::Object(_) | Value::Array(_) => ScalarValue::Utf8(Some(v.to_json_string())),
    }
}

/// Every dynamic function, to register with a session.
pub(crate) fn all() -> Vec<Arc<ScalarUDF>> {
    Kind::ALL.into_iter().map(udf).collect()
}
