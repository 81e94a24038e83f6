//! Conversions between the storage engine's values and Arrow: JSON text for encoded columns on
//! the way out, typed values from query results on the way in (INSERT).

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BinaryArray, RecordBatch, RecordBatchOptions, StringArray};
use arrow_schema::SchemaRef;
use cairn_storage::value::codec::decode_value_exact;
use cairn_storage::{Object, Value};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result as DFResult};

use crate::error::to_df;
use crate::schema::{ColumnKind, SqlColumn};

/// Turns a storage scan batch into the SQL schema's batch: encoded columns become JSON text.
pub fn to_sql_batch(batch: RecordBatch, columns: &[SqlColumn], schema: &SchemaRef) -> DFResult<RecordBatch> {
    if columns.is_empty() {
        let opts = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        return Ok(RecordBatch::try_new_with_options(schema.clone(), vec![], &opts)?);
    }
    let arrays = batch
        .columns()
        .iter()
        .zip(columns)
        .map(|(a, c)| match c.kind {
            ColumnKind::Json => json_text(a),
            ColumnKind::Typed(_) => Ok(a.clone()),
        })
        .collect::<DFResult<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), arrays)?)
}

fn json_text(a: &ArrayRef) -> DFResult<ArrayRef> {
    let bin = a
        .as_any()
        .downcast_ref::<BinaryArray>()
        .ok_or_else(|| DataFusionError::Internal("encoded column is not binary".into()))?;
    let out: StringArray = bin
        .iter()
        .map(|v| v.map(|bytes| decode_value_exact(bytes).map(|v| v.to_json_string())).transpose())
        .collect::<cairn_storage::Result<_>>()
        .map_err(to_df)?;
    Ok(Arc::new(out))
}

/// The documents held by a query result's rows, fields named by `names` (SQL NULL is stored
/// as null).
pub fn rows_to_documents(batch: &RecordBatch, names: &[String]) -> DFResult<Vec<Value>> {
    let mut docs = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut doc = Object::new();
        for (name, col) in names.iter().zip(batch.columns()) {
            doc.insert(name.clone(), scalar_to_value(ScalarValue::try_from_array(col, row)?)?);
        }
        docs.push(Value::Object(doc));
    }
    Ok(docs)
}

/// A SQL value as a storage value.
pub fn scalar_to_value(s: ScalarValue) -> DFResult<Value> {
    use ScalarValue as S;
    if s.is_null() {
        return Ok(Value::Null);
    }
    Ok(match s {
        S::Boolean(Some(b)) => Value::Bool(b),
        S::Int8(Some(i)) => Value::Int(i.into()),
        S::Int16(Some(i)) => Value::Int(i.into()),
        S::Int32(Some(i)) => Value::Int(i.into()),
        S::Int64(Some(i)) => Value::Int(i),
        S::UInt8(Some(i)) => Value::Int(i.into()),
        S::UInt16(Some(i)) => Value::Int(i.into()),
        S::UInt32(Some(i)) => Value::Int(i.into()),
        S::UInt64(Some(i)) => i64::try_from(i).map(Value::Int).unwrap_or(Value::Float(i as f64)),
        S::Float16(Some(f)) => Value::Float(f.to_f64()),
        S::Float32(Some(f)) => Value::Float(f.into()),
        S::Float64(Some(f)) => Value::Float(f),
        S::Decimal128(Some(v), _, scale) => Value::Float(v as f64 / 10f64.powi(scale.into())),
        S::Utf8(Some(s)) | S::LargeUtf8(Some(s)) | S::Utf8View(Some(s)) => Value::String(s),
        S::Binary(Some(b)) | S::LargeBinary(Some(b)) | S::BinaryView(Some(b)) => Value::Bytes(b),
        S::Date32(Some(d)) => Value::Date(d),
        S::Time64Microsecond(Some(t)) => Value::Time(t),
        S::TimestampMicrosecond(Some(t), tz) => timestamp(t, tz.is_some()),
        S::TimestampMillisecond(Some(t), tz) => timestamp(t.saturating_mul(1_000), tz.is_some()),
        S::TimestampSecond(Some(t), tz) => timestamp(t.saturating_mul(1_000_000), tz.is_some()),
        S::TimestampNanosecond(Some(t), tz) => timestamp(t / 1_000, tz.is_some()),
        other => {
            return Err(DataFusionError::NotImplemented(format!(
                "storing values of SQL type {} in a document",
                other.data_type()
            )))
        }
    })
}

fn timestamp(micros: i64, zoned: bool) -> Value {
    if zoned {
        Value::Timestamp(micros)
    } else {
        Value::DateTime(micros)
    }
}
