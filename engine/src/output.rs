//! What a statement gives back: its result when it runs, and what it takes and returns when
//! it is described before running (prepared statements).

use arrow_array::RecordBatch;
use arrow_schema::{DataType, SchemaRef};

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

/// What a prepared statement takes and returns, known before it runs.
#[derive(Debug, Clone, Default)]
pub struct Description {
    /// The type of each parameter, `$1` first; None where the statement does not decide it
    /// (the value then keeps the type the client sends, text by default).
    pub params: Vec<Option<DataType>>,
    /// The columns of its result set; None for a statement without one.
    pub columns: Option<SchemaRef>,
}
