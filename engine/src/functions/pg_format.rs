//! PostgreSQL's `format(formatstr, args…)`: `%s` (the value as text, NULL as nothing), `%I`
//! (quoted as an identifier when needed), `%L` (quoted as a literal, NULL as `NULL`) and
//! `%%`. Tools build qualified names with it (Metabase: `format('%I.%I', schema, table)`).

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, StringArray};
use arrow_schema::DataType;
use datafusion::common::{exec_err, Result as DFResult};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

/// The `format` function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Format {
    signature: Signature,
}

impl Format {
    /// The function, ready to register.
    pub(crate) fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(Format { signature: Signature::variadic_any(Volatility::Immutable) })
    }
}

impl ScalarUDFImpl for Format {
    fn name(&self) -> &str {
        "format"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DFResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DFResult<ColumnarValue> {
        let rows = args.number_rows;
        let texts = args
            .args
            .iter()
            .map(|a| {
                let array = a.to_array(rows)?;
                let text = datafusion::arrow::compute::cast(&array, &DataType::Utf8)?;
                Ok(text.as_any().downcast_ref::<StringArray>().cloned())
            })
            .collect::<DFResult<Vec<_>>>()?;
        let Some(Some(formats)) = texts.first() else { return exec_err!("format takes a format string") };
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            if formats.is_null(row) {
                out.push(None);
                continue;
            }
            let value = |i: usize| -> Option<&str> {
                texts.get(i).and_then(|t| t.as_ref()).filter(|t| !t.is_null(row)).map(|t| t.value(row))
            };
            out.push(Some(render(formats.value(row), &value, texts.len() - 1)?));
        }
        let array: ArrayRef = Arc::new(StringArray::from(out));
        Ok(ColumnarValue::Array(array))
    }
}

/// Renders one row's format string with its arguments (`value(1)` is the first).
fn render<'a>(format: &str, value: &dyn Fn(usize) -> Option<&'a str>, given: usize) -> DFResult<String> {
    let mut out = String::with_capacity(format.len());
    let mut next = 1;
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let spec = chars.next();
        if spec == Some('%') {
            out.push('%');
            continue;
        }
        if next > given {
            return exec_err!("too few arguments for format()");
        }
        let v = value(next);
        next += 1;
        match spec {
            Some('s') => out.push_str(v.unwrap_or_default()),
            Some('I') => match v {
                Some(v)
                    if v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                        && !v.is_empty()
                        && !v.starts_with(|c: char| c.is_ascii_digit()) =>
                {
                    out.push_str(v)
                }
                Some(v) => out.push_str(&format!("\"{}\"", v.replace('"', "\"\""))),
                None => return exec_err!("null values cannot be formatted as an SQL identifier"),
            },
            Some('L') => match v {
                Some(v) => out.push_str(&format!("'{}'", v.replace('\'', "''"))),
                None => out.push_str("NULL"),
            },
            other => {
                return exec_err!("unrecognized format() type specifier \"{}\"", other.map(String::from).unwrap_or_default())
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_postgresql() {
        let args = [Some("commons"), Some("My Table"), None];
        let value = |i: usize| args[i - 1];
        assert_eq!(render("%I.%I", &value, 3).unwrap(), "commons.\"My Table\"");
        assert_eq!(render("%s|%L|%L %%", &|i| [Some("a"), Some("it's"), None][i - 1], 3).unwrap(), "a|'it''s'|NULL %");
        assert!(render("%s %s", &|_| Some("x"), 1).is_err());
    }
}
