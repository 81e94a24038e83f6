//! What running a statement gives back.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

/// The result of one statement.
#[derive(Debug)]
pub enum Output {
    /// A result set.
    Rows {
        /// The columns.
        schema: SchemaRef,
        /// The rows.
        batches: Vec<RecordBatch>,
    },
    /// A statement without a result set: its command tag and the number of rows it affected.
    Done {
        /// PostgreSQL's command tag (`INSERT`, `CREATE TABLE`, …).
        tag: &'static str,
        /// Rows (documents) affected.
        count: u64,
    },
}
