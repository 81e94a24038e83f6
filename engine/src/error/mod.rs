//! Engine errors: a SQL statement fails with one of these, carrying what a user needs to fix it.

use cairn_storage::StorageError;
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
    PartialWrite {
        /// Documents not written.
        failed: usize,
        /// Documents the statement wrote or tried to.
        total: usize,
        /// Why the first of them was not.
        first: String,
    },
}

impl EngineError {
    /// The PostgreSQL error code (SQLSTATE) a client should see for this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            EngineError::DataFusion(e) => datafusion_sqlstate(e),
            EngineError::Storage(e) => storage_sqlstate(e),
            EngineError::Invalid(_) => "42601",
            EngineError::Unsupported(_) => "0A000",
            EngineError::PartialWrite { .. } => "22000",
        }
    }
}

/// Codes for storage errors: missing and duplicate objects, bad documents, damage.
fn storage_sqlstate(e: &StorageError) -> &'static str {
    match e {
        StorageError::NotFound { kind: "workspace", .. } => "3F000",
        StorageError::NotFound { .. } => "42P01",
        StorageError::AlreadyExists { kind: "workspace", .. } => "42P06",
        StorageError::AlreadyExists { .. } => "42P07",
        StorageError::Json { .. } => "22P02",
        StorageError::InvalidDocument(_) | StorageError::Patch { .. } | StorageError::InvalidArgument(_) => "22023",
        StorageError::Corrupt { .. } => "XX001",
        _ => "XX000",
    }
}

/// Codes for DataFusion errors, looking through the context it wraps them in.
fn datafusion_sqlstate(e: &DataFusionError) -> &'static str {
    match e.find_root() {
        DataFusionError::SQL(..) => "42601",
        DataFusionError::SchemaError(..) => "42703",
        DataFusionError::Plan(m) if m.contains("not found") => "42P01",
        DataFusionError::Plan(_) => "42601",
        DataFusionError::NotImplemented(_) => "0A000",
        DataFusionError::ResourcesExhausted(_) => "53200",
        DataFusionError::External(inner) => match inner.downcast_ref::<StorageError>() {
            Some(s) => storage_sqlstate(s),
            None => "XX000",
        },
        DataFusionError::ArrowError(..) | DataFusionError::Execution(_) => "22000",
        _ => "XX000",
    }
}

/// Result of engine operations.
pub type Result<T> = std::result::Result<T, EngineError>;

/// Wraps a storage error for DataFusion's interfaces.
pub(crate) fn to_df(e: cairn_storage::StorageError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}
