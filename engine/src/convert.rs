//! Conversions between the storage engine's values and Arrow: scan batches into the SQL
//! schema's representation on the way out, typed values from query results on the way in
//! (INSERT, UPDATE).


use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;
use cairn_storage::{Object, Value};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result as DFResult};

use crate::schema::{ColumnKind, SqlColumn};
use crate::variant;

/// Turns a storage scan batch into the SQL schema's batch: array columns become lists.
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
            ColumnKind::Array => variant::list_array(variant::values_of(a)?),
            ColumnKind::Typed(_) | ColumnKind::Variant => Ok(a.clone()),
        })
        .collect::<DFResult<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), arrays)?)
}

/// The documents held by a query result's rows, fields named by `names` (SQL NULL is stored
/// as null; a missing value in a variant column leaves the field out).
pub fn rows_to_documents(batch: &RecordBatch, names: &[String]) -> DFResult<Vec<Value>> {
    let mut docs = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut doc = Object::new();
        for (name, col) in names.iter().zip(batch.columns()) {
            if variant::is_dynamic(col.data_type()) && col.is_null(row) {
                continue; // A missing value stays missing.
            }
            doc.insert(name.clone(), cell_value(col, row)?);
        }
        docs.push(Value::Object(doc));
    }
    Ok(docs)
}

/// The value of one cell of a query result (SQL NULL and missing values are stored as null).
pub fn cell_value(col: &ArrayRef, row: usize) -> DFResult<Value> {
    if variant::is_dynamic(col.data_type()) {
        return Ok(variant::values_of(&col.slice(row, 1))?.pop().flatten().unwrap_or(Value::Null));
    }
    scalar_to_value(ScalarValue::try_from_array(col, row)?)
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
        S::Binary(Some(b)) | S::BinaryView(Some(b)) => Value::Bytes(b),
        S::LargeBinary(Some(b)) => variant::decode(&b)?,
        S::List(list) => {
            let list: ArrayRef = list;
            variant::values_of(&list)?.pop().flatten().unwrap_or(Value::Null)
        }
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
