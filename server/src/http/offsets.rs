//! Read-after-write over REST, as Rockset's clients do it: a write's reply carries
//! `last_offset`; `POST …/collections/{c}/offsets/commit` with `{"name": [offsets…]}` says
//! whether the collection has applied them all (`data.passed`), the highest one asked about
//! (`data.fence`) and the last offset applied (`offsets.commit`). Rockset answers at once
//! and clients poll; Cairn also waits when asked, up to `?wait_ms=` milliseconds (at most a
//! minute), answering as soon as the offsets are applied.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use cairn_engine::Privilege;
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::JsonBody;
use super::{Api, ApiError, Caller};

/// The longest `wait_ms` honoured.
const MAX_WAIT_MS: u64 = 60_000;

/// The body: the offsets (fences) to check, as `last_offset` gave them.
#[derive(Deserialize)]
pub(super) struct CommitRequest {
    #[serde(default)]
    name: Vec<String>,
}

/// `?wait_ms=`: how long to wait for the fences to pass.
#[derive(Deserialize)]
pub(super) struct Wait {
    wait_ms: Option<u64>,
}

/// `POST /ws/{ws}/collections/{c}/offsets/commit`.
pub(super) async fn commit(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path((ws, c)): Path<(String, String)>,
    Query(wait): Query<Wait>,
    JsonBody(body): JsonBody<CommitRequest>,
) -> Result<Json<Value>, ApiError> {
    api.auth.check(&caller.0, Privilege::Read)?;
    let pipeline = api.ingest.collection(&ws, &c)?;
    let fence = body.name.iter().map(|f| parse_offset(f)).collect::<Result<Vec<u64>, _>>()?.into_iter().max().unwrap_or(0);
    let wait = Duration::from_millis(wait.wait_ms.unwrap_or(0).min(MAX_WAIT_MS));
    let waiter = pipeline.clone();
    let passed = if wait.is_zero() {
        pipeline.applied_offset() >= fence
    } else {
        tokio::task::spawn_blocking(move || waiter.wait_applied(fence, wait))
            .await
            .map_err(|e| ApiError::internal(format!("waiting for offsets failed: {e}")))?
    };
    Ok(Json(json!({
        "data": { "fence": fence.to_string(), "passed": passed },
        "offsets": { "commit": pipeline.applied_offset().to_string() },
    })))
}

/// An offset as `last_offset` writes it (a decimal number).
fn parse_offset(text: &str) -> Result<u64, ApiError> {
    text.trim().parse().map_err(|_| ApiError::invalid(format!("'{text}' is not an offset this collection gave (a number)")))
}
