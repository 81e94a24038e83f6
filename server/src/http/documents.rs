//! Document writes: add (insert or replace by `_id`), patch (JSON Patch) and delete, each
//! document on its own. The reply lists every document's status in input order, with the
//! collection's `last_offset`; when some documents were rejected the reply is a 400 naming
//! the first one's index, and the others have still landed.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use cairn_engine::Privilege;
use cairn_storage::{Applied, PatchOp, StorageError, Value, WriteKind, WriteOp};
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
    let collection = api.store.collection(&ws, &c)?;
    let total = ops.len();
    let mut statuses: Vec<Option<JsonValue>> = vec![None; total];
    let mut ids = vec![String::new(); total];
    let mut first_error: Option<(usize, String)> = None;
    let (mut valid, mut positions) = (Vec::with_capacity(total), Vec::with_capacity(total));
    for (i, op) in ops.into_iter().enumerate() {
        match op {
            Ok(op) => {
                ids[i] = match &op {
                    WriteOp::Patch { id, .. } | WriteOp::Delete { id } => id.clone(),
                    WriteOp::Insert(doc) => id_of(doc).unwrap_or_default(),
                };
                valid.push(op);
                positions.push(i);
            }
            Err((id, message)) => {
                statuses[i] = Some(error_status(&c, &id, &message));
                first_error.get_or_insert((i, message));
            }
        }
    }
    let writer = collection.clone();
    let results = tokio::task::spawn_blocking(move || writer.write(valid))
        .await
        .map_err(|e| ApiError::internal(format!("the write task failed: {e}")))?;
    let mut last_offset = 0;
    for (result, i) in results.into_iter().zip(positions) {
        statuses[i] = Some(match result {
            Ok(applied) => {
                last_offset = last_offset.max(applied.seq);
                status(&c, &applied)
            }
            Err(e) => {
                let message = e.to_string();
                if !matches!(e, StorageError::NotFound { .. } | StorageError::Patch { .. } | StorageError::InvalidDocument(_)) {
                    tracing::warn!(error = %e, "a document write failed");
                }
                first_error = first_error.filter(|(at, _)| *at < i).or(Some((i, message.clone())));
                error_status(&c, &ids[i], &message)
            }
        });
    }
    let data: Vec<JsonValue> = statuses.into_iter().map(|s| s.unwrap_or(JsonValue::Null)).collect();
    let last_offset = if last_offset == 0 { collection.last_seq() } else { last_offset }.to_string();
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

fn status(collection: &str, applied: &Applied) -> JsonValue {
    let status = match applied.kind {
        WriteKind::Inserted => "ADDED",
        WriteKind::Replaced => "REPLACED",
        WriteKind::Patched => "PATCHED",
        WriteKind::Deleted => "DELETED",
    };
    json!({ "_collection": collection, "_id": applied.id, "status": status, "patch_id": null, "error": null })
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
