//! Rockset's named query parameters: `:name` in SQL, each given as `{"name", "type", "value"}`.
//! The names become PostgreSQL's positional `$1`, `$2`, … and the values typed scalars.

use arrow_schema::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use serde::Deserialize;
use serde_json::Value;

use super::ApiError;

/// One parameter of a query.
#[derive(Debug, Deserialize)]
pub(super) struct Parameter {
    name: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    value: Value,
}

/// `sql` with each `:name` replaced by `$n`, and the names in the order of their numbers.
/// Strings (`'…'`, `E'…'`, `$tag$…$tag$`), quoted names, comments (nested `/* */` too) and
/// casts (`::`) are left as they are. SQL that already has `$n` parameters cannot also have
/// named ones.
pub(super) fn positional(sql: &str) -> Result<(String, Vec<String>), ApiError> {
    let mut out = String::with_capacity(sql.len());
    let mut names: Vec<String> = Vec::new();
    let mut positional = false;
    let mut i = 0;
    while i < sql.len() {
        let rest = &sql[i..];
        let skip = if rest.starts_with('\'') || rest.starts_with('"') {
            quoted(rest, false)
        } else if (rest.starts_with("E'") || rest.starts_with("e'")) && !ident_before(sql, i) {
            1 + quoted(&rest[1..], true)
        } else if rest.starts_with("--") {
            rest.find('\n').map_or(rest.len(), |e| e + 1)
        } else if rest.starts_with("/*") {
            block_comment(rest)
        } else if let Some(len) = dollar_quoted(rest) {
            len
        } else if rest.starts_with("::") {
            2
        } else if rest.starts_with('$') && rest[1..].starts_with(|c: char| c.is_ascii_digit()) {
            positional = true;
            1
        } else if rest.starts_with(':') && rest[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            let len = rest[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len() - 1);
            let name = &rest[1..1 + len];
            let number = match names.iter().position(|n| n == name) {
                Some(at) => at + 1,
                None => {
                    names.push(name.to_owned());
                    names.len()
                }
            };
            out.push_str(&format!("${number}"));
            i += 1 + len;
            continue;
        } else {
            rest.chars().next().map_or(1, char::len_utf8)
        };
        out.push_str(&rest[..skip]);
        i += skip;
    }
    if positional && !names.is_empty() {
        return Err(ApiError::invalid("use :name parameters or $n ones, not both"));
    }
    Ok((out, names))
}

/// Whether an identifier character comes just before byte `i` (then `E'` is not a prefix).
fn ident_before(sql: &str, i: usize) -> bool {
    sql[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// Bytes of the quoted text `rest` starts with (its quote doubled inside is escaped; with
/// `backslashes`, a backslash escapes the next character). To the end when unterminated.
fn quoted(rest: &str, backslashes: bool) -> usize {
    let quote = rest.chars().next().unwrap_or('\'');
    let mut chars = rest.char_indices().skip(1);
    while let Some((at, c)) = chars.next() {
        if backslashes && c == '\\' {
            chars.next();
        } else if c == quote {
            return at + 1;
        }
    }
    rest.len()
}

/// Bytes of the (possibly nested) block comment `rest` starts with.
fn block_comment(rest: &str) -> usize {
    let mut depth = 0;
    let mut at = 0;
    while at < rest.len() {
        if rest[at..].starts_with("/*") {
            depth += 1;
            at += 2;
        } else if rest[at..].starts_with("*/") {
            depth -= 1;
            at += 2;
            if depth == 0 {
                return at;
            }
        } else {
            at += rest[at..].chars().next().map_or(1, char::len_utf8);
        }
    }
    rest.len()
}

/// Bytes of the dollar-quoted string `rest` starts with (`$$…$$`, `$tag$…$tag$`), if it does.
fn dollar_quoted(rest: &str) -> Option<usize> {
    let body = rest.strip_prefix('$')?;
    let tag_len = body.find('$')?;
    let tag = &body[..tag_len];
    if !tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || tag.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let delimiter = &rest[..tag_len + 2];
    let close = rest[delimiter.len()..].find(delimiter).map_or(rest.len(), |e| delimiter.len() + e + delimiter.len());
    Some(close)
}

/// The values for `names`, in order, from the request's parameters.
pub(super) fn values(names: &[String], given: &[Parameter]) -> Result<Vec<ScalarValue>, ApiError> {
    names
        .iter()
        .map(|name| {
            let p = given
                .iter()
                .find(|p| &p.name == name)
                .ok_or_else(|| ApiError::invalid(format!("no value given for parameter :{name}")))?;
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
        Some("datetime") => cast(&text, DataType::Timestamp(TimeUnit::Microsecond, None))
            .ok_or_else(|| bad("a datetime (YYYY-MM-DD HH:MM:SS)"))?,
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
        let (sql, names) =
            positional("SELECT ':a', \"x:y\", b::int FROM t WHERE a = :a AND c > :c_2 -- :z\n OR d = :a /* :w /* :v */ */")
                .unwrap();
        assert_eq!(sql, "SELECT ':a', \"x:y\", b::int FROM t WHERE a = $1 AND c > $2 -- :z\n OR d = $1 /* :w /* :v */ */");
        assert_eq!(names, vec!["a", "c_2"]);
        let (sql, names) = positional("SELECT E'it\\'s :x', $$ :y $$, $q$ :z $q$, :w, 'é:' || :w").unwrap();
        assert_eq!(sql, "SELECT E'it\\'s :x', $$ :y $$, $q$ :z $q$, $1, 'é:' || $1");
        assert_eq!(names, vec!["w"]);
        assert!(positional("SELECT $1, :a").is_err());
        assert_eq!(positional("SELECT $1").unwrap().1, Vec::<String>::new());
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
