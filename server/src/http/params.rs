//! Rockset's named query parameters: `:name` in SQL, each given as `{"name", "type", "value"}`.
//! The names become PostgreSQL's positional `$1`, `$2`, … and the values typed scalars.

use arrow_schema::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use serde::Deserialize;
use serde_json::Value;

use super::ApiError;

/// One parameter of a query.
#[derive(Debug, Deserialize)]
pub struct Parameter {
    name: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    value: Value,
}

/// `sql` with each `:name` (outside strings, quoted names and comments; `::` is a cast)
/// replaced by `$n`, and the names in the order of their numbers.
pub fn positional(sql: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(sql.len());
    let mut names: Vec<String> = Vec::new();
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for (_, d) in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        // A doubled quote is an escaped quote: the literal goes on.
                        break;
                    }
                }
            }
            '-' if sql[i + 1..].starts_with('-') => {
                out.push(c);
                for (_, d) in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '/' if sql[i + 1..].starts_with('*') => {
                let end = sql[i + 2..].find("*/").map_or(sql.len(), |e| i + 2 + e + 2);
                out.push_str(&sql[i..end]);
                while chars.peek().is_some_and(|(j, _)| *j < end) {
                    chars.next();
                }
            }
            ':' if sql[i + 1..].starts_with(':') => {
                out.push_str("::");
                chars.next();
            }
            ':' if sql[i + 1..].starts_with(|n: char| n.is_ascii_alphabetic() || n == '_') => {
                let rest = &sql[i + 1..];
                let len = rest.find(|n: char| !(n.is_ascii_alphanumeric() || n == '_')).unwrap_or(rest.len());
                let name = &rest[..len];
                let number = match names.iter().position(|n| n == name) {
                    Some(at) => at + 1,
                    None => {
                        names.push(name.to_owned());
                        names.len()
                    }
                };
                out.push_str(&format!("${number}"));
                while chars.peek().is_some_and(|(j, _)| *j < i + 1 + len) {
                    chars.next();
                }
            }
            c => out.push(c),
        }
    }
    (out, names)
}

/// The values for `names`, in order, from the request's parameters.
pub fn values(names: &[String], given: &[Parameter]) -> Result<Vec<ScalarValue>, ApiError> {
    names
        .iter()
        .map(|name| {
            let p = given.iter().find(|p| &p.name == name).ok_or_else(|| ApiError::invalid(format!("no value given for parameter :{name}")))?;
            typed(p).map_err(|m| ApiError::invalid(format!("parameter :{name}: {m}")))
        })
        .collect()
}

/// A parameter's value as the scalar its type names (from a JSON string, or a JSON value of
/// the matching kind).
fn typed(p: &Parameter) -> Result<ScalarValue, String> {
    let text = match &p.value {
        Value::String(s) => s.clone(),
        Value::Null => return Ok(ScalarValue::Null),
        other => other.to_string(),
    };
    let kind = p.kind.as_deref().map(str::to_ascii_lowercase);
    let bad = |what: &str| format!("'{text}' is not {what}");
    Ok(match kind.as_deref() {
        Some("int" | "integer" | "bigint" | "long") => ScalarValue::Int64(Some(text.trim().parse().map_err(|_| bad("an int"))?)),
        Some("float" | "double") => ScalarValue::Float64(Some(text.trim().parse().map_err(|_| bad("a float"))?)),
        Some("bool" | "boolean") => ScalarValue::Boolean(Some(match text.trim().to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(bad("a bool")),
        })),
        Some("string") | None => ScalarValue::Utf8(Some(text)),
        Some("date") => cast(&text, DataType::Date32).ok_or_else(|| bad("a date (YYYY-MM-DD)"))?,
        Some("datetime") => {
            cast(&text, DataType::Timestamp(TimeUnit::Microsecond, None)).ok_or_else(|| bad("a datetime (YYYY-MM-DD HH:MM:SS)"))?
        }
        Some("timestamp") => cast(&text, DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())))
            .ok_or_else(|| bad("a timestamp (YYYY-MM-DDTHH:MM:SSZ)"))?,
        Some("time") => cast(&text, DataType::Time64(TimeUnit::Microsecond)).ok_or_else(|| bad("a time (HH:MM:SS)"))?,
        Some(other) => return Err(format!("unknown type '{other}' (int, float, bool, string, date, datetime, time, timestamp)")),
    })
}

fn cast(text: &str, to: DataType) -> Option<ScalarValue> {
    ScalarValue::Utf8(Some(text.trim().to_owned())).cast_to(&to).ok().filter(|v| !v.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_positions_outside_literals_and_casts() {
        let (sql, names) = positional("SELECT ':a', \"x:y\", b::int FROM t WHERE a = :a AND c > :c_2 -- :z\n OR d = :a /* :w */");
        assert_eq!(sql, "SELECT ':a', \"x:y\", b::int FROM t WHERE a = $1 AND c > $2 -- :z\n OR d = $1 /* :w */");
        assert_eq!(names, vec!["a", "c_2"]);
    }

    #[test]
    fn values_take_their_declared_types() {
        let p: Vec<Parameter> = serde_json::from_str(
            r#"[{"name":"n","type":"int","value":"5"},{"name":"d","type":"date","value":"2024-02-29"},{"name":"b","type":"bool","value":true}]"#,
        )
        .unwrap();
        let v = values(&["n".into(), "d".into(), "b".into()], &p).unwrap();
        assert_eq!(v[0], ScalarValue::Int64(Some(5)));
        assert!(matches!(v[1], ScalarValue::Date32(Some(_))));
        assert_eq!(v[2], ScalarValue::Boolean(Some(true)));
        assert!(values(&["missing".into()], &p).is_err());
        let bad: Vec<Parameter> = serde_json::from_str(r#"[{"name":"n","type":"int","value":"five"}]"#).unwrap();
        assert!(values(&["n".into()], &bad).is_err());
    }
}
