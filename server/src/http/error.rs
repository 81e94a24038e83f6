//! REST errors, shaped like Rockset's `ErrorModel`: `{"type", "message", "error_id"}` with the
//! HTTP status that says what went wrong (400 bad input, 401/403, 404, 409, 413, 429, 500).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cairn_engine::EngineError;
use cairn_storage::StorageError;
use serde_json::{json, Value as Json_};

use crate::auth::AuthError;

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

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> ApiError {
        let message = e.to_string();
        match e {
            StorageError::NotFound { .. } => ApiError::not_found(message),
            StorageError::AlreadyExists { .. } => ApiError::new(StatusCode::CONFLICT, "ALREADYEXISTS", message),
            StorageError::Json { .. }
            | StorageError::InvalidDocument(_)
            | StorageError::InvalidArgument(_)
            | StorageError::Patch { .. } => ApiError::invalid(message),
            _ => ApiError::internal(message),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        if let EngineError::Storage(s) = e {
            return s.into();
        }
        let message = e.to_string();
        match e.sqlstate() {
            "42P01" | "3F000" => ApiError::not_found(message),
            "42P07" | "42P06" => ApiError::new(StatusCode::CONFLICT, "ALREADYEXISTS", message),
            "53200" => ApiError::new(StatusCode::TOO_MANY_REQUESTS, "RESOURCEEXCEEDED", message),
            "0A000" => ApiError::new(StatusCode::BAD_REQUEST, "NOTSUPPORTED", message),
            code if code.starts_with("XX") => ApiError::internal(message),
            _ => ApiError::new(StatusCode::BAD_REQUEST, "QUERY_ERROR", message),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        let message = e.to_string();
        match e {
            AuthError::Denied { .. } => ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN", message),
            AuthError::NoRole(_) | AuthError::Missing(_) => ApiError::not_found(message),
            AuthError::Exists(_) => ApiError::new(StatusCode::CONFLICT, "ALREADYEXISTS", message),
            AuthError::Invalid(_) => ApiError::invalid(message),
            AuthError::Storage(s) => s.into(),
            AuthError::Random(_) => ApiError::internal(message),
        }
    }
}

/// A request body that is not the JSON the endpoint takes.
pub(super) fn bad_json(e: &serde_json::Error) -> ApiError {
    ApiError::invalid(format!("invalid JSON in the request body at line {}, column {}: {e}", e.line(), e.column()))
}
