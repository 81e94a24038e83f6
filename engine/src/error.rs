//! Engine errors: a SQL statement fails with one of these, carrying what a user needs to fix it.

use datafusion::error::DataFusionError;

/// Errors of the SQL engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Planning or execution failed inside DataFusion.
    #[error("{0}")]
    DataFusion(#[from] DataFusionError),
    /// The storage engine refused or failed.
    #[error("{0}")]
    Storage(#[from] cairn_storage::StorageError),
    /// The statement is not valid SQL or names something that does not exist.
    #[error("{0}")]
    Invalid(String),
    /// Valid SQL that Cairn does not support.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// Some documents of an INSERT, UPDATE or DELETE were rejected (the others were written).
    #[error("{failed} of {total} documents were not written; first error: {first}")]
    PartialWrite { failed: usize, total: usize, first: String },
}

/// Result of engine operations.
pub type Result<T> = std::result::Result<T, EngineError>;

/// Wraps a storage error for DataFusion's interfaces.
pub fn to_df(e: cairn_storage::StorageError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}
