//! Result sets as JSON: one object per row, keyed by column name. JSON columns (documents,
//! nested values) are embedded as JSON; numbers and booleans stay JSON numbers and booleans;
//! other values (dates, times, decimals) take their text form.

use arrow_schema::{DataType, Schema};
use cairn_engine::JSON_COLUMN;
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::common::ScalarValue;
use serde_json::{Map, Value};

use super::ApiError;

/// The rows of `batches`, at most `limit` of them.
pub(super) fn rows(batches: &[RecordBatch], limit: Option<usize>) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        for row in 0..batch.num_rows() {
            if limit.is_some_and(|l| out.len() >= l) {
                return Ok(out);
            }
            let mut object = Map::with_capacity(batch.num_columns());
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                let value = if field.metadata().contains_key(JSON_COLUMN) { json_cell(column, row) } else { cell(column, row)? };
                object.insert(field.name().clone(), value);
            }
            out.push(Value::Object(object));
        }
    }
    Ok(out)
}

/// A cell of a column of JSON text.
fn json_cell(column: &dyn Array, row: usize) -> Value {
    match ScalarValue::try_from_array(column, row) {
        Ok(ScalarValue::Utf8(Some(text)) | ScalarValue::LargeUtf8(Some(text)) | ScalarValue::Utf8View(Some(text))) => {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
        _ => Value::Null,
    }
}

/// A cell of any other column.
fn cell(column: &dyn Array, row: usize) -> Result<Value, ApiError> {
    let scalar = ScalarValue::try_from_array(column, row).map_err(|e| ApiError::internal(e.to_string()))?;
    if scalar.is_null() {
        return Ok(Value::Null);
    }
    Ok(match scalar {
        ScalarValue::Boolean(Some(b)) => Value::Bool(b),
        ScalarValue::Int8(Some(v)) => v.into(),
        ScalarValue::Int16(Some(v)) => v.into(),
        ScalarValue::Int32(Some(v)) => v.into(),
        ScalarValue::Int64(Some(v)) => v.into(),
        ScalarValue::UInt8(Some(v)) => v.into(),
        ScalarValue::UInt16(Some(v)) => v.into(),
        ScalarValue::UInt32(Some(v)) => v.into(),
        ScalarValue::UInt64(Some(v)) => v.into(),
        ScalarValue::Float32(Some(v)) => serde_json::Number::from_f64(v.into()).map_or(Value::Null, Value::Number),
        ScalarValue::Float64(Some(v)) => serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
        ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => Value::String(s),
        ScalarValue::List(list) => Value::Array(elements(list.values().as_ref())?),
        ScalarValue::LargeList(list) => Value::Array(elements(list.values().as_ref())?),
        ScalarValue::FixedSizeList(list) => Value::Array(elements(list.values().as_ref())?),
        ScalarValue::Struct(s) => {
            let mut object = Map::new();
            for (field, column) in s.fields().iter().zip(s.columns()) {
                object.insert(field.name().clone(), cell(column.as_ref(), 0)?);
            }
            Value::Object(object)
        }
        other => Value::String(other.to_string()),
    })
}

fn elements(values: &dyn Array) -> Result<Vec<Value>, ApiError> {
    (0..values.len()).map(|i| cell(values, i)).collect()
}

/// `column_fields`: each column's name and type.
pub(super) fn column_fields(schema: &Schema) -> Vec<Value> {
    schema
        .fields()
        .iter()
        .map(|f| {
            let kind = if f.metadata().contains_key(JSON_COLUMN) { "json".to_owned() } else { type_name(f.data_type()) };
            serde_json::json!({ "name": f.name(), "type": kind })
        })
        .collect()
}

fn type_name(t: &DataType) -> String {
    match t {
        DataType::Boolean => "bool".into(),
        t if t.is_integer() => "int".into(),
        t if t.is_floating() => "float".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Time32(_) | DataType::Time64(_) => "time".into(),
        DataType::Timestamp(_, None) => "datetime".into(),
        DataType::Timestamp(_, Some(_)) => "timestamp".into(),
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => "array".into(),
        DataType::Struct(_) => "object".into(),
        other => other.to_string().to_lowercase(),
    }
}
