//! Conversions between the storage engine's values and Arrow: scan batches into the SQL
//! schema's representation on the way out, typed values from query results on the way in
//! (INSERT, UPDATE).

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;
use cairn_storage::{Object, Value};
use datafusion::common::ScalarValue;
use datafusion::error::Result as DFResult;

use super::collection_schema::{ColumnKind, SqlColumn};
use super::variant::{self, scalar_to_value};

/// Turns a storage scan batch into the SQL schema's batch: array columns become lists.
pub(crate) fn to_sql_batch(batch: RecordBatch, columns: &[SqlColumn], schema: &SchemaRef) -> DFResult<RecordBatch> {
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
pub(crate) fn rows_to_documents(batch: &RecordBatch, names: &[String]) -> DFResult<Vec<Value>> {
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
pub(crate) fn cell_value(col: &ArrayRef, row: usize) -> DFResult<Value> {
    if variant::is_dynamic(col.data_type()) {
        return Ok(variant::values_of(&col.slice(row, 1))?.pop().flatten().unwrap_or(Value::Null));
    }
    scalar_to_value(ScalarValue::try_from_array(col, row)?)
}
