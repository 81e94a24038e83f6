//! Request bodies: JSON read from the whole body, so that a body over the size limit is a
//! Rockset-style 413 and malformed JSON a 400 naming where it went wrong.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::{bad_json, ApiError};

/// A JSON request body of type `T`.
pub(super) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            let status = rejection.status();
            let kind = if status == StatusCode::PAYLOAD_TOO_LARGE { "CONTENTTOOLARGE" } else { "INVALIDINPUT" };
            ApiError::new(status, kind, rejection.body_text())
        })?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| bad_json(&e))
    }
}
