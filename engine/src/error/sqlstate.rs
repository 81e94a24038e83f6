//! PostgreSQL's error codes (SQLSTATE), the ones Cairn reports: every error a client sees,
//! over the PostgreSQL protocol or REST, is one of these, and both frontends derive what they
//! send from it. The codes are PostgreSQL's (Appendix A of its manual).

use std::fmt;

/// An SQLSTATE Cairn reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlState {
    /// `08P01`: a malformed or out-of-order protocol message.
    ProtocolViolation,
    /// `0A000`: valid, but not something Cairn does.
    FeatureNotSupported,
    /// `22000`: a value a statement computed or read is not acceptable.
    DataException,
    /// `22021`: text that is not UTF-8.
    CharacterNotInRepertoire,
    /// `22023`: a value that is not acceptable for what it sets.
    InvalidParameterValue,
    /// `22P02`: text that does not read as the value it should be (JSON, for one).
    InvalidTextRepresentation,
    /// `22P04`: COPY data that does not read as the format it claims.
    BadCopyFileFormat,
    /// `28000`: a login that is not allowed.
    InvalidAuthorizationSpecification,
    /// `28P01`: a wrong password (or no such role, to a client elsewhere).
    InvalidPassword,
    /// `3D000`: no such database.
    InvalidCatalogName,
    /// `3F000`: no such workspace (schema).
    InvalidSchemaName,
    /// `42501`: the role may not do this.
    InsufficientPrivilege,
    /// `42601`: the statement does not parse or plan.
    SyntaxError,
    /// `42703`: no such column.
    UndefinedColumn,
    /// `42704`: no such role, key, setting or document.
    UndefinedObject,
    /// `42883`: no such function.
    UndefinedFunction,
    /// `42710`: the role or key already exists.
    DuplicateObject,
    /// `42P01`: no such collection (table).
    UndefinedTable,
    /// `42P06`: the workspace already exists.
    DuplicateSchema,
    /// `42P07`: the collection already exists.
    DuplicateTable,
    /// `53100`: the disk is full; a write was not kept.
    DiskFull,
    /// `53200`: a query needs more memory than it may hold.
    OutOfMemory,
    /// `53300`: the server has as many connections as it takes.
    TooManyConnections,
    /// `53400`: a configured limit was reached (ingest too far behind to take more writes).
    ConfigurationLimitExceeded,
    /// `54000`: more than Cairn takes at once (COPY data held in memory, for one).
    ProgramLimitExceeded,
    /// `55P02`: a setting that cannot change while the server runs.
    CantChangeRuntimeParam,
    /// `57014`: cancelled, by request or by the statement timeout.
    QueryCanceled,
    /// `57P01`: the server is shutting down.
    AdminShutdown,
    /// `58030`: the file system failed (a write could not be made durable).
    IoError,
    /// `XX000`: a failure inside Cairn (a task that panicked, say): not the client's doing.
    InternalError,
    /// `XX001`: stored data that cannot be read.
    DataCorrupted,
}

impl SqlState {
    /// The five-character code.
    pub fn code(self) -> &'static str {
        match self {
            SqlState::ProtocolViolation => "08P01",
            SqlState::FeatureNotSupported => "0A000",
            SqlState::DataException => "22000",
            SqlState::CharacterNotInRepertoire => "22021",
            SqlState::InvalidParameterValue => "22023",
            SqlState::InvalidTextRepresentation => "22P02",
            SqlState::BadCopyFileFormat => "22P04",
            SqlState::InvalidAuthorizationSpecification => "28000",
            SqlState::InvalidPassword => "28P01",
            SqlState::InvalidCatalogName => "3D000",
            SqlState::InvalidSchemaName => "3F000",
            SqlState::InsufficientPrivilege => "42501",
            SqlState::SyntaxError => "42601",
            SqlState::UndefinedColumn => "42703",
            SqlState::UndefinedObject => "42704",
            SqlState::UndefinedFunction => "42883",
            SqlState::DuplicateObject => "42710",
            SqlState::UndefinedTable => "42P01",
            SqlState::DuplicateSchema => "42P06",
            SqlState::DuplicateTable => "42P07",
            SqlState::DiskFull => "53100",
            SqlState::OutOfMemory => "53200",
            SqlState::TooManyConnections => "53300",
            SqlState::ConfigurationLimitExceeded => "53400",
            SqlState::ProgramLimitExceeded => "54000",
            SqlState::CantChangeRuntimeParam => "55P02",
            SqlState::QueryCanceled => "57014",
            SqlState::AdminShutdown => "57P01",
            SqlState::IoError => "58030",
            SqlState::InternalError => "XX000",
            SqlState::DataCorrupted => "XX001",
        }
    }
}

impl fmt::Display for SqlState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::SqlState as S;

    /// Every code, as a test can list them.
    const ALL: [S; 31] = [
        S::ProtocolViolation,
        S::FeatureNotSupported,
        S::DataException,
        S::CharacterNotInRepertoire,
        S::InvalidParameterValue,
        S::InvalidTextRepresentation,
        S::BadCopyFileFormat,
        S::InvalidAuthorizationSpecification,
        S::InvalidPassword,
        S::InvalidCatalogName,
        S::InvalidSchemaName,
        S::InsufficientPrivilege,
        S::SyntaxError,
        S::UndefinedColumn,
        S::UndefinedObject,
        S::UndefinedFunction,
        S::DuplicateObject,
        S::UndefinedTable,
        S::DuplicateSchema,
        S::DuplicateTable,
        S::DiskFull,
        S::OutOfMemory,
        S::TooManyConnections,
        S::ConfigurationLimitExceeded,
        S::ProgramLimitExceeded,
        S::CantChangeRuntimeParam,
        S::QueryCanceled,
        S::AdminShutdown,
        S::IoError,
        S::InternalError,
        S::DataCorrupted,
    ];

    #[test]
    fn codes_are_distinct_and_well_formed() {
        let codes: HashSet<&str> = ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes.len(), ALL.len(), "two states share a code");
        for state in ALL {
            let code = state.code();
            assert!(code.len() == 5 && code.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()), "{state:?}: {code}");
            assert_eq!(state.to_string(), code);
        }
        assert_eq!(S::UndefinedTable.code(), "42P01");
        assert_eq!(S::InternalError.code(), "XX000");
    }
}
