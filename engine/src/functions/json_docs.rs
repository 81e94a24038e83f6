//! `json_docs(text)`: JSON documents as a table, for `INSERT INTO coll SELECT * FROM
//! json_docs('…')`. The text holds one document, a JSON array of documents, or one document
//! per line (NDJSON). Every top-level field of any document is a variant column; a document
//! without a field has a missing (undefined) value there, so inserting the rows reproduces the
//! documents exactly.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema};
use cairn_storage::{Object, Value};
use datafusion::catalog::{TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result as DFResult, ScalarValue};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::Expr;

use crate::types::variant::{variant_array, VARIANT};

/// The `json_docs` table function.
#[derive(Debug, Default)]
pub(crate) struct JsonDocs;

impl TableFunctionImpl for JsonDocs {
    fn call(&self, args: &[Expr]) -> DFResult<Arc<dyn TableProvider>> {
        let text = match args {
            [Expr::Literal(ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)), _)] => {
                s
            }
            _ => return plan_err!("json_docs takes one text literal holding JSON documents"),
        };
        let docs = parse_documents(text)?;
        let mut names: Vec<String> = Vec::new();
        for d in &docs {
            for k in d.keys() {
                if !names.contains(k) {
                    names.push(k.clone());
                }
            }
        }
        let schema = Arc::new(Schema::new(names.iter().map(|n| Field::new(n, VARIANT, true)).collect::<Vec<_>>()));
        let columns: Vec<ArrayRef> = names.iter().map(|n| variant_array(docs.iter().map(|d| d.get(n).cloned()))).collect();
        let batch = if names.is_empty() {
            RecordBatch::new_empty(schema.clone())
        } else {
            RecordBatch::try_new(schema.clone(), columns)?
        };
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}

/// The documents in `text`: one object, an array of objects, or one object per line.
fn parse_documents(text: &str) -> DFResult<Vec<Object>> {
    let whole = Value::from_json_str(text);
    let values = match whole {
        Ok(Value::Array(items)) => items,
        Ok(v) => vec![v],
        Err(first_error) => {
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            if lines.len() < 2 {
                return plan_err!("json_docs: {first_error}");
            }
            let mut out = Vec::with_capacity(lines.len());
            for (i, line) in lines.iter().enumerate() {
                match Value::from_json_str(line) {
                    Ok(v) => out.push(v),
                    Err(e) => return plan_err!("json_docs: document {} (line {}): {e}", i + 1, i + 1),
                }
            }
            out
        }
    };
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Object(o) => Ok(o),
            other => plan_err!("json_docs: document {} is a {}, not an object", i + 1, other.value_type().name()),
        })
        .collect()
}
