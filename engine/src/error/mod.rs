//! Engine errors: a SQL statement fails with one of these, carrying what a user needs to fix it
//! and the [`SqlState`] a client is told.

mod sqlstate;

use cairn_connectors::{IngestError, LogError};
use cairn_storage::{ObjectKind, StorageError};
use datafusion::error::DataFusionError;

pub use sqlstate::SqlState;

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
    /// A statement calls a function that does not exist.
    #[error("function {0} does not exist")]
    UnknownFunction(String),
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
    /// A task the statement ran on panicked or was cancelled.
    #[error("{0}")]
    Task(String),
    /// A read fence did not pass in time (see `Engine::wait_for`).
    #[error("{0}")]
    FenceTimeout(String),
    /// The write path refused a write as a whole (nothing of it was kept).
    #[error("{0}")]
    Ingest(#[from] IngestError),
}

impl EngineError {
    /// The SQLSTATE a client should see for this error.
    pub fn sqlstate(&self) -> SqlState {
        match self {
            EngineError::DataFusion(e) => datafusion_sqlstate(e),
            EngineError::Storage(e) => SqlState::from(e),
            EngineError::Invalid(_) => SqlState::SyntaxError,
            EngineError::UnknownFunction(_) => SqlState::UndefinedFunction,
            EngineError::Unsupported(_) => SqlState::FeatureNotSupported,
            EngineError::PartialWrite { .. } => SqlState::DataException,
            EngineError::Task(_) => SqlState::InternalError,
            EngineError::FenceTimeout(_) => SqlState::QueryCanceled,
            EngineError::Ingest(e) => SqlState::from(e),
        }
    }
}

/// The SQLSTATE of a refused write: a full disk, ingest too far behind, the log failing.
impl From<&IngestError> for SqlState {
    fn from(e: &IngestError) -> SqlState {
        match e {
            IngestError::Storage(e) => SqlState::from(e),
            IngestError::DiskFull(_) | IngestError::DiskLow { .. } => SqlState::DiskFull,
            IngestError::Overloaded { .. } => SqlState::ConfigurationLimitExceeded,
            IngestError::Log(LogError::TooLarge { .. }) => SqlState::ProgramLimitExceeded,
            IngestError::Log(_) => SqlState::IoError,
            IngestError::ShutDown => SqlState::AdminShutdown,
        }
    }
}

/// The SQLSTATE of a storage error: missing and duplicate objects, bad documents, damage.
impl From<&StorageError> for SqlState {
    fn from(e: &StorageError) -> SqlState {
        match e {
            StorageError::NotFound { kind: ObjectKind::Workspace, .. } => SqlState::InvalidSchemaName,
            StorageError::NotFound { kind: ObjectKind::Collection, .. } => SqlState::UndefinedTable,
            StorageError::NotFound { kind: ObjectKind::Document | ObjectKind::Source, .. } => SqlState::UndefinedObject,
            StorageError::AlreadyExists { kind: ObjectKind::Workspace, .. } => SqlState::DuplicateSchema,
            StorageError::AlreadyExists { kind: ObjectKind::Collection, .. } => SqlState::DuplicateTable,
            StorageError::AlreadyExists { kind: ObjectKind::Document | ObjectKind::Source, .. } => SqlState::DuplicateObject,
            StorageError::Json { .. } => SqlState::InvalidTextRepresentation,
            StorageError::InvalidDocument(_) | StorageError::Patch { .. } | StorageError::InvalidArgument(_) => {
                SqlState::InvalidParameterValue
            }
            StorageError::Corrupt { .. } => SqlState::DataCorrupted,
            StorageError::Rocks { .. }
            | StorageError::Io { .. }
            | StorageError::WriteFailed(_)
            | StorageError::Poisoned
            | StorageError::Arrow(_) => SqlState::InternalError,
        }
    }
}

/// The SQLSTATE of a DataFusion error, looking through the context it wraps it in.
fn datafusion_sqlstate(e: &DataFusionError) -> SqlState {
    match e.find_root() {
        DataFusionError::SQL(..) | DataFusionError::Plan(_) => SqlState::SyntaxError,
        DataFusionError::SchemaError(..) => SqlState::UndefinedColumn,
        DataFusionError::NotImplemented(_) => SqlState::FeatureNotSupported,
        DataFusionError::ResourcesExhausted(_) => SqlState::OutOfMemory,
        DataFusionError::External(inner) => match inner.downcast_ref::<StorageError>() {
            Some(s) => SqlState::from(s),
            None => SqlState::InternalError,
        },
        DataFusionError::ArrowError(..) | DataFusionError::Execution(_) => SqlState::DataException,
        _ => SqlState::InternalError,
    }
}

/// Result of engine operations.
pub type Result<T> = std::result::Result<T, EngineError>;

/// Wraps a storage error for DataFusion's interfaces.
pub(crate) fn to_df(e: cairn_storage::StorageError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}
