//! Cairn's per-value semantics for dynamically typed data: comparisons that are false across
//! incompatible types (ints and floats compare numerically), path access into objects and
//! arrays, PostgreSQL-style JSON containment and key tests, and type names.

use std::cmp::Ordering;

use cairn_storage::Value;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
}

impl CmpOp {
    /// The function name that applies this operator to dynamic values.
    pub(crate) fn function_name(self) -> &'static str {
        match self {
            CmpOp::Eq => "cairn_eq",
            CmpOp::NotEq => "cairn_ne",
            CmpOp::Lt => "cairn_lt",
            CmpOp::LtEq => "cairn_le",
            CmpOp::Gt => "cairn_gt",
            CmpOp::GtEq => "cairn_ge",
        }
    }
}

/// Compares two values: `None` (SQL NULL) when either is missing or null; otherwise values of
/// incompatible types are unequal and unordered (every ordering comparison is false).
pub(crate) fn compare(op: CmpOp, a: Option<&Value>, b: Option<&Value>) -> Option<bool> {
    let (a, b) = (a?, b?);
    if matches!(a, Value::Null) || matches!(b, Value::Null) {
        return None;
    }
    let ord = order(a, b);
    Some(match (op, ord) {
        (CmpOp::Eq, o) => o == Some(Ordering::Equal),
        (CmpOp::NotEq, o) => o != Some(Ordering::Equal),
        (_, None) => false,
        (CmpOp::Lt, Some(o)) => o == Ordering::Less,
        (CmpOp::LtEq, Some(o)) => o != Ordering::Greater,
        (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
        (CmpOp::GtEq, Some(o)) => o != Ordering::Less,
    })
}

/// The order of two values of compatible types (None across types).
fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Float(y)) => (*x as f64).partial_cmp(y),
        (Value::Float(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        _ if a.value_type() == b.value_type() => Some(a.total_cmp(b)),
        _ => None,
    }
}

/// The form of a value that equality compares: an int that a float can equal exactly becomes
/// that float, so `1 = 1.0`; JSON null has none (null equals nothing).
pub(crate) fn equality_form(v: Value) -> Option<Value> {
    match v {
        Value::Null => None,
        // 2^63 is the one float a cast back to i64 saturates from.
        Value::Int(i) if (i as f64) < 9_223_372_036_854_775_808.0 && (i as f64) as i64 == i => Some(Value::Float(i as f64)),
        other => Some(other),
    }
}

/// One step of a path into a value: an object field or a 0-based array position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// An object's field.
    Field(String),
    /// An array's element; negative counts from the end.
    Index(i64),
}

/// The value at `steps` inside `v`, if there is one.
pub(crate) fn get<'a>(v: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    let mut cur = v;
    for step in steps {
        cur = match (cur, step) {
            (Value::Object(o), Step::Field(k)) => o.get(k)?,
            (Value::Array(a), Step::Index(i)) => {
                let i = if *i < 0 { a.len() as i64 + i } else { *i };
                a.get(usize::try_from(i).ok()?)?
            }
            // A numeric-looking field name indexes an array (`#>> '{a,0}'`).
            (Value::Array(a), Step::Field(k)) => a.get(k.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The text form of a value for `->>`: strings without quotes, everything else as JSON; JSON
/// null is SQL NULL.
pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_json_string()),
    }
}

/// PostgreSQL's jsonb containment (`a @> b`): objects contain objects whose every field they
/// contain, arrays contain arrays whose every element some element of theirs contains (and a
/// scalar that is one of their elements), scalars contain equal scalars.
pub(crate) fn contains(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => y.iter().all(|(k, bv)| x.get(k).is_some_and(|av| contains(av, bv))),
        (Value::Array(x), Value::Array(y)) => y.iter().all(|bv| x.iter().any(|av| contains(av, bv))),
        (Value::Array(x), scalar) if !matches!(scalar, Value::Object(_)) => x.iter().any(|av| same_scalar(av, scalar)),
        (x, y) => same_scalar(x, y),
    }
}

fn same_scalar(a: &Value, b: &Value) -> bool {
    !matches!(a, Value::Object(_) | Value::Array(_)) && order(a, b) == Some(Ordering::Equal)
        || (matches!(a, Value::Null) && matches!(b, Value::Null))
}

/// PostgreSQL's `?`: an object has the key, an array has the string as an element, a string
/// equals it.
pub(crate) fn has_key(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(o) => o.contains_key(key),
        Value::Array(a) => a.iter().any(|e| e.as_str() == Some(key)),
        Value::String(s) => s == key,
        _ => false,
    }
}

/// The type name `TYPEOF` reports: a value's type, `undefined` when it is missing.
pub(crate) fn type_name(v: Option<&Value>) -> &'static str {
    v.map(|v| v.value_type().name()).unwrap_or("undefined")
}

/// The number in a value, for arithmetic and numeric aggregates (other types: none).
pub(crate) fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Value {
        Value::from_json_str(s).unwrap()
    }

    #[test]
    fn comparisons_across_types_are_false() {
        assert_eq!(compare(CmpOp::Eq, Some(&j("1")), Some(&j("1.0"))), Some(true));
        assert_eq!(compare(CmpOp::Lt, Some(&j("1")), Some(&j("1.5"))), Some(true));
        assert_eq!(compare(CmpOp::Eq, Some(&j("\"1\"")), Some(&j("1"))), Some(false));
        assert_eq!(compare(CmpOp::Gt, Some(&j("\"a\"")), Some(&j("1"))), Some(false));
        assert_eq!(compare(CmpOp::Lt, Some(&j("\"a\"")), Some(&j("1"))), Some(false));
        assert_eq!(compare(CmpOp::NotEq, Some(&j("\"a\"")), Some(&j("1"))), Some(true));
        assert_eq!(compare(CmpOp::Eq, None, Some(&j("1"))), None);
        assert_eq!(compare(CmpOp::Eq, Some(&Value::Null), Some(&Value::Null)), None);
        assert_eq!(equality_form(j("1")), equality_form(j("1.0")));
        assert_ne!(equality_form(j("9007199254740993")), equality_form(j("9007199254740992.0")));
        assert_ne!(equality_form(j("\"1\"")), equality_form(j("1")));
        assert_eq!(equality_form(Value::Null), None);
        assert_eq!(equality_form(Value::Int(i64::MAX)), Some(Value::Int(i64::MAX)));
    }

    #[test]
    fn paths_containment_and_keys() {
        let v = j(r#"{"a":{"b":[10,{"c":"x"}]}}"#);
        let steps = [Step::Field("a".into()), Step::Field("b".into()), Step::Index(1), Step::Field("c".into())];
        assert_eq!(get(&v, &steps), Some(&j("\"x\"")));
        assert_eq!(get(&v, &[Step::Field("a".into()), Step::Field("b".into()), Step::Index(-2)]), Some(&j("10")));
        assert_eq!(get(&v, &[Step::Field("z".into())]), None);
        assert!(contains(&v, &j(r#"{"a":{"b":[{"c":"x"}]}}"#)));
        assert!(!contains(&v, &j(r#"{"a":{"b":[11]}}"#)));
        assert!(contains(&j("[1,2,3]"), &j("[3,1]")));
        assert!(contains(&j("[1,2,3]"), &j("2")));
        assert!(has_key(&v, "a") && !has_key(&v, "b"));
        assert!(has_key(&j(r#"["x","y"]"#), "y"));
        assert_eq!(text(&j("\"s\"")), Some("s".into()));
        assert_eq!(text(&j("[1]")), Some("[1]".into()));
        assert_eq!(type_name(None), "undefined");
        assert_eq!(type_name(Some(&j("1.5"))), "float");
    }
}
