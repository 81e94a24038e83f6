//! Document writes: add (insert or replace by `_id`), patch (JSON Patch) and delete, each
//! document on its own. As Rockset does, a request is acknowledged once its documents are
//! durable in the collection's log, before they are indexed: the reply lists every
//! document's status in input order (`ADDED`, `PATCHED`, `DELETED`, or `ERROR` for one that
//! was refused on sight) with `last_offset`, the offset to wait for to read them
//! (`…/offsets/commit`). When some documents were refused the reply is a 400 naming the
//! first one's index, and the others have still landed. A patch that cannot apply to the
//! stored document (it is missing, a `test` fails) is skipped by the indexer and counted in
//! the collection's stats.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use cairn_engine::Privilege;
use cairn_storage::{PatchOp, Value, WriteOp};
use serde::Deserialize;
use serde_json::{json, Value as JsonValue};

use super::body::JsonBody;
use super::{Api, ApiError, Caller};

/// The body of every document request: `{"data": [...]}`.
#[derive(Deserialize)]
pub(super) struct Documents {
    data: Vec<Value>,
}

/// `POST …/docs`: adds documents.
pub(super) async fn add(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path((ws, c)): Path<(String, String)>,
    JsonBody(body): JsonBody<Documents>,
) -> Result<Json<JsonValue>, ApiError> {
    let ops = body.data.into_iter().map(|d| Ok(WriteOp::Insert(d))).collect();
    write(api, caller, ws, c, ops).await
}

/// `PATCH …/docs`: applies `{"_id", "patch": [operations]}` to each document.
pub(super) async fn patch(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path((ws, c)): Path<(String, String)>,
    JsonBody(body): JsonBody<Documents>,
) -> Result<Json<JsonValue>, ApiError> {
    let ops = body
        .data
        .iter()
        .map(|d| {
            let id = id_of(d)?;
            let patch = d.as_object().and_then(|o| o.get("patch")).ok_or((id.clone(), "missing \"patch\"".to_owned()))?;
            let ops = PatchOp::parse_list(patch).map_err(|e| (id.clone(), e.to_string()))?;
            Ok(WriteOp::Patch { id, ops })
        })
        .collect();
    write(api, caller, ws, c, ops).await
}

/// `DELETE …/docs`: deletes `{"_id"}` documents.
pub(super) async fn delete(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path((ws, c)): Path<(String, String)>,
    JsonBody(body): JsonBody<Documents>,
) -> Result<Json<JsonValue>, ApiError> {
    let ops = body.data.iter().map(|d| id_of(d).map(|id| WriteOp::Delete { id })).collect();
    write(api, caller, ws, c, ops).await
}

/// A document's `_id` (a string, or a number written as one), or why it has none.
fn id_of(d: &Value) -> Result<String, (String, String)> {
    match d.as_object().and_then(|o| o.get("_id")) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Int(i)) => Ok(i.to_string()),
        Some(_) => Err((String::new(), "\"_id\" must be a string".to_owned())),
        None => Err((String::new(), "missing \"_id\"".to_owned())),
    }
}

/// Applies the well-formed operations; `ops` holds, per document, its operation or the id
/// and reason it was refused before reaching the store.
async fn write(
    api: Api,
    caller: Caller,
    ws: String,
    c: String,
    ops: Vec<Result<WriteOp, (String, String)>>,
) -> Result<Json<JsonValue>, ApiError> {
    api.auth.check(&caller.0, Privilege::Write)?;
    let pipeline = api.ingest.collection(&ws, &c)?;
    let total = ops.len();
    let mut statuses: Vec<Option<JsonValue>> = vec![None; total];
    let mut first_error: Option<(usize, String)> = None;
    let (mut valid, mut positions) = (Vec::with_capacity(total), Vec::with_capacity(total));
    for (i, op) in ops.into_iter().enumerate() {
        match op {
            Ok(op) => {
                valid.push(op);
                positions.push(i);
            }
            Err((id, message)) => {
                statuses[i] = Some(error_status(&c, &id, &message));
                first_error.get_or_insert((i, message));
            }
        }
    }
    let kinds: Vec<&'static str> = valid.iter().map(status_of).collect();
    // The `_id` an error names (a refused document has no generated one).
    let ids: Vec<String> = valid
        .iter()
        .map(|op| match op {
            WriteOp::Patch { id, .. } | WriteOp::Delete { id } => id.clone(),
            WriteOp::Insert(doc) => id_of(doc).unwrap_or_default(),
        })
        .collect();
    let written = tokio::task::spawn_blocking(move || pipeline.write(valid))
        .await
        .map_err(|e| ApiError::internal(format!("the write task failed: {e}")))??;
    for ((outcome, i), (kind, id)) in written.outcomes.into_iter().zip(positions).zip(kinds.into_iter().zip(ids)) {
        statuses[i] = Some(match outcome {
            Ok(taken) => json!({ "_collection": c, "_id": taken.id, "status": kind, "patch_id": null, "error": null }),
            Err(e) => {
                let message = e.to_string();
                first_error = first_error.filter(|(at, _)| *at < i).or(Some((i, message.clone())));
                error_status(&c, &id, &message)
            }
        });
    }
    let data: Vec<JsonValue> = statuses.into_iter().map(|s| s.unwrap_or(JsonValue::Null)).collect();
    let last_offset = written.last_offset.to_string();
    match first_error {
        None => Ok(Json(json!({ "data": data, "last_offset": last_offset }))),
        Some((index, message)) => {
            let mut error = ApiError::invalid(format!("document {index} was rejected: {message}"));
            let mut extra = serde_json::Map::new();
            extra.insert("index".to_owned(), json!(index));
            extra.insert("data".to_owned(), JsonValue::Array(data));
            extra.insert("last_offset".to_owned(), json!(last_offset));
            error.extra = Some(extra);
            Err(error)
        }
    }
}

/// The status a taken write reports.
fn status_of(op: &WriteOp) -> &'static str {
    match op {
        WriteOp::Insert(_) => "ADDED",
        WriteOp::Patch { .. } => "PATCHED",
        WriteOp::Delete { .. } => "DELETED",
    }
}

fn error_status(collection: &str, id: &str, message: &str) -> JsonValue {
    json!({
        "_collection": collection,
        "_id": if id.is_empty() { JsonValue::Null } else { json!(id) },
        "status": "ERROR",
        "patch_id": null,
        "error": { "type": "INVALIDINPUT", "message": message },
    })
}
