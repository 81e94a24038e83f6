//! REST errors, shaped like Rockset's `ErrorModel`: `{"type", "message", "error_id"}` with the
//! HTTP status that says what went wrong (400 bad input, 401/403, 404, 408, 409, 413, 429,
//! 500, 507), derived from the error's SQLSTATE where it has one.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cairn_connectors::IngestError;
use cairn_engine::{EngineError, SqlState};
use cairn_storage::StorageError;
use serde_json::{json, Value as Json_};

use crate::auth::AuthError;
use crate::statement::Refusal;

/// A failed request: its status, Rockset's error type, a message a user can act on, and
/// optionally more fields for the body (per-document statuses of a partly failed write).
#[derive(Debug)]
pub(crate) struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Rockset's error type (`INVALIDINPUT`, `NOTFOUND`, …).
    pub kind: &'static str,
    /// What went wrong.
    pub message: String,
    /// Extra fields merged into the body.
    pub extra: Option<serde_json::Map<String, Json_>>,
}

impl ApiError {
    /// An error with `status`, `kind` and `message`.
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, kind, message: message.into(), extra: None }
    }

    /// 400 `INVALIDINPUT`.
    pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALIDINPUT", message)
    }

    /// 404 `NOTFOUND`.
    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "NOTFOUND", message)
    }

    /// 401 `AUTHEXCEPTION`.
    pub(crate) fn unauthenticated(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "AUTHEXCEPTION", message)
    }

    /// 500 `INTERNALERROR`.
    pub(crate) fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNALERROR", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error_id = uuid::Uuid::new_v4().to_string();
        if self.status.is_server_error() {
            tracing::error!(%error_id, message = %self.message, "request failed");
        }
        let mut body = json!({ "type": self.kind, "message": self.message, "error_id": error_id });
        if let (Some(extra), Some(map)) = (self.extra, body.as_object_mut()) {
            map.extend(extra);
        }
        (self.status, Json(body)).into_response()
    }
}

/// The HTTP status and Rockset error type of each SQLSTATE.
impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        use SqlState as S;
        let (status, kind) = match r.state {
            // What a statement computes from bad values is Rockset's query error.
            S::DataException | S::SyntaxError | S::UndefinedColumn => (StatusCode::BAD_REQUEST, "QUERY_ERROR"),
            S::ProtocolViolation
            | S::CharacterNotInRepertoire
            | S::InvalidParameterValue
            | S::InvalidTextRepresentation
            | S::BadCopyFileFormat
            | S::ProgramLimitExceeded
            | S::CantChangeRuntimeParam => (StatusCode::BAD_REQUEST, "INVALIDINPUT"),
            S::FeatureNotSupported => (StatusCode::BAD_REQUEST, "NOTSUPPORTED"),
            S::InvalidAuthorizationSpecification | S::InvalidPassword => (StatusCode::UNAUTHORIZED, "AUTHEXCEPTION"),
            S::InsufficientPrivilege => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            S::InvalidCatalogName | S::InvalidSchemaName | S::UndefinedObject | S::UndefinedFunction | S::UndefinedTable => {
                (StatusCode::NOT_FOUND, "NOTFOUND")
            }
            S::DuplicateObject | S::DuplicateSchema | S::DuplicateTable => (StatusCode::CONFLICT, "ALREADYEXISTS"),
            S::OutOfMemory | S::TooManyConnections | S::ConfigurationLimitExceeded => {
                (StatusCode::TOO_MANY_REQUESTS, "RESOURCEEXCEEDED")
            }
            S::DiskFull => (StatusCode::INSUFFICIENT_STORAGE, "RESOURCEEXCEEDED"),
            S::QueryCanceled => (StatusCode::REQUEST_TIMEOUT, "QUERY_TIMEOUT"),
            S::AdminShutdown => (StatusCode::SERVICE_UNAVAILABLE, "SERVICEUNAVAILABLE"),
            S::InternalError | S::DataCorrupted | S::IoError => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNALERROR"),
        };
        ApiError::new(status, kind, r.message)
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> ApiError {
        Refusal::new(SqlState::from(&e), e.to_string()).into()
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> ApiError {
        Refusal::new(SqlState::from(&e), e.to_string()).into()
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        Refusal::from(e).into()
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        Refusal::from(e).into()
    }
}

/// A request body that is not the JSON the endpoint takes.
pub(super) fn bad_json(e: &serde_json::Error) -> ApiError {
    ApiError::invalid(format!("invalid JSON in the request body at line {}, column {}: {e}", e.line(), e.column()))
}

#[cfg(test)]
mod tests {
    use cairn_storage::ObjectKind;

    use super::*;

    fn status(e: impl Into<ApiError>) -> (u16, &'static str) {
        let e = e.into();
        (e.status.as_u16(), e.kind)
    }

    #[test]
    fn statuses_follow_the_sqlstate() {
        assert_eq!(status(EngineError::Task("the INSERT task failed".into())), (500, "INTERNALERROR"));
        let missing = StorageError::NotFound { kind: ObjectKind::Collection, name: "commons.nope".into() };
        assert_eq!(status(missing), (404, "NOTFOUND"));
        let exists = StorageError::AlreadyExists { kind: ObjectKind::Workspace, name: "shop".into() };
        assert_eq!(status(exists), (409, "ALREADYEXISTS"));
        assert_eq!(status(StorageError::InvalidDocument("no".into())), (400, "INVALIDINPUT"));
        assert_eq!(status(AuthError::Denied { role: "app".into(), what: "read" }), (403, "FORBIDDEN"));
        assert_eq!(status(Refusal::new(SqlState::QueryCanceled, "late")), (408, "QUERY_TIMEOUT"));
        assert_eq!(status(Refusal::new(SqlState::OutOfMemory, "big")), (429, "RESOURCEEXCEEDED"));
        // A statement failing on bad values is a query error; a bad document is bad input.
        assert_eq!(status(Refusal::new(SqlState::DataException, "division by zero")), (400, "QUERY_ERROR"));
        assert_eq!(status(StorageError::Json { offset: 3, message: "expected a value".into() }), (400, "INVALIDINPUT"));
    }
}
