//! `DESCRIBE coll`: the collection's smart schema, one row per (field path, type) with the
//! number of documents holding a value of that type there and the collection's document count.

use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use cairn_storage::CollectionStats;
use datafusion::error::DataFusionError;

use crate::error::Result;
use crate::output::Output;

/// The smart schema of a collection as a result set (paths in text form, arrays' elements as `*`).
pub(crate) fn describe(stats: &CollectionStats) -> Result<Output> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("field", DataType::Utf8, false),
        Field::new("type", DataType::Utf8, false),
        Field::new("occurrences", DataType::Int64, false),
        Field::new("total", DataType::Int64, false),
    ]));
    let n = stats.fields.len();
    let total = stats.doc_count as i64;
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(stats.fields.iter().map(|(p, _, _)| p.as_str()))),
            Arc::new(StringArray::from_iter_values(stats.fields.iter().map(|(_, t, _)| t.name()))),
            Arc::new(Int64Array::from_iter_values(stats.fields.iter().map(|(_, _, c)| *c as i64))),
            Arc::new(Int64Array::from(vec![total; n])),
        ],
    )
    .map_err(DataFusionError::from)?;
    Ok(Output::Rows { schema, batches: vec![batch] })
}
