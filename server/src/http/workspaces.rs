//! Workspaces and collections: list, create, show and delete, answered as Rockset's
//! `{"data": …}` objects.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Extension;
use axum::Json;
use cairn_engine::Privilege;
use cairn_storage::{Collection, CollectionConfig, Store};
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::JsonBody;
use super::sources::{sources_of, SourceRequest};
use super::{Api, ApiError, Caller};

type Reply = Result<Json<Value>, ApiError>;

/// `POST /ws` body.
#[derive(Deserialize)]
pub(super) struct CreateWorkspace {
    name: String,
}

/// `POST /ws/{ws}/collections` body (Rockset's fields Cairn uses, plus `shards`).
#[derive(Deserialize)]
pub(super) struct CreateCollection {
    name: String,
    #[serde(default)]
    retention_secs: Option<i64>,
    #[serde(default)]
    event_time_info: Option<EventTimeInfo>,
    #[serde(default)]
    shards: Option<u32>,
    /// Sources the collection follows from the start.
    #[serde(default)]
    sources: Vec<SourceRequest>,
}

/// Which field holds a document's event time.
#[derive(Deserialize)]
pub(super) struct EventTimeInfo {
    field: String,
}

fn workspace_json(store: &Store, name: &str) -> Result<Value, ApiError> {
    let count = store.collections(name)?.len();
    Ok(json!({ "name": name, "description": null, "created_at": null, "created_by": null, "collection_count": count }))
}

fn collection_json(ws: &str, name: &str, c: &Collection) -> Value {
    let stats = c.stats();
    let sizes = c.size_report();
    let total: u64 = sizes.iter().map(|f| f.sst_bytes + f.memtable_bytes).sum();
    let config = c.config();
    json!({
        "name": name,
        "workspace": ws,
        "status": "READY",
        "created_at": null,
        "description": null,
        "retention_secs": config.retention_micros.map(|m| m / 1_000_000),
        "event_time_info": config.event_time_field.as_ref().map(|f| json!({ "field": f })),
        "shards": config.shards,
        "stats": { "doc_count": stats.doc_count, "total_size": total, "fields": stats.fields.len() },
    })
}

/// `GET /ws`.
pub(super) async fn list(State(api): State<Api>, Extension(caller): Extension<Caller>) -> Reply {
    api.auth.check(&caller.0, Privilege::Read)?;
    let data = api.store.workspaces()?.iter().map(|w| workspace_json(&api.store, w)).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "data": data })))
}

/// `POST /ws`.
pub(super) async fn create(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<CreateWorkspace>,
) -> Reply {
    api.auth.check(&caller.0, Privilege::Write)?;
    api.engine.create_workspace(&body.name)?;
    Ok(Json(json!({ "data": workspace_json(&api.store, &body.name)? })))
}

/// `GET /ws/{ws}`.
pub(super) async fn show(State(api): State<Api>, Extension(caller): Extension<Caller>, Path(ws): Path<String>) -> Reply {
    api.auth.check(&caller.0, Privilege::Read)?;
    Ok(Json(json!({ "data": workspace_json(&api.store, &ws)? })))
}

/// `DELETE /ws/{ws}`: the workspace must be empty.
pub(super) async fn delete(State(api): State<Api>, Extension(caller): Extension<Caller>, Path(ws): Path<String>) -> Reply {
    api.auth.check(&caller.0, Privilege::Write)?;
    let data = workspace_json(&api.store, &ws)?;
    api.engine.drop_workspace(&ws)?;
    Ok(Json(json!({ "data": data })))
}

/// `GET /collections`: every workspace's collections.
pub(super) async fn all_collections(State(api): State<Api>, Extension(caller): Extension<Caller>) -> Reply {
    api.auth.check(&caller.0, Privilege::Read)?;
    let mut data = Vec::new();
    for ws in api.store.workspaces()? {
        data.extend(collections_of(&api.store, &ws)?);
    }
    Ok(Json(json!({ "data": data })))
}

fn collections_of(store: &Store, ws: &str) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::new();
    for name in store.collections(ws)? {
        // Dropped between listing and opening: not there any more.
        if let Ok(c) = store.collection(ws, &name) {
            out.push(collection_json(ws, &name, &c));
        }
    }
    Ok(out)
}

/// `GET /ws/{ws}/collections`.
pub(super) async fn collections(State(api): State<Api>, Extension(caller): Extension<Caller>, Path(ws): Path<String>) -> Reply {
    api.auth.check(&caller.0, Privilege::Read)?;
    Ok(Json(json!({ "data": collections_of(&api.store, &ws)? })))
}

/// `POST /ws/{ws}/collections`.
pub(super) async fn create_collection(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path(ws): Path<String>,
    JsonBody(body): JsonBody<CreateCollection>,
) -> Reply {
    api.auth.check(&caller.0, Privilege::Write)?;
    let mut config = CollectionConfig::default();
    if let Some(shards) = body.shards {
        config.shards = shards;
    }
    if let Some(secs) = body.retention_secs {
        if secs <= 0 {
            return Err(ApiError::invalid("retention_secs must be positive"));
        }
        config.retention_micros = Some(secs.saturating_mul(1_000_000));
    }
    config.event_time_field = body.event_time_info.map(|e| e.field);
    // Every source is checked before anything is created.
    let specs = body.sources.into_iter().map(SourceRequest::spec).collect::<Result<Vec<_>, _>>()?;
    let (a, name, ws2) = (api.clone(), body.name.clone(), ws.clone());
    let c: Arc<Collection> = tokio::task::spawn_blocking(move || -> Result<Arc<Collection>, ApiError> {
        let c = a.engine.create_collection(&ws2, &name, config)?;
        for spec in specs {
            if let Err(e) = a.ingest.sources().add(&ws2, &name, spec) {
                let _ = a.engine.drop_collection(&ws2, &name);
                return Err(e.into());
            }
        }
        Ok(c)
    })
    .await
    .map_err(|e| ApiError::internal(format!("creating the collection failed: {e}")))??;
    let mut data = collection_json(&ws, &body.name, &c);
    data["sources"] = json!(sources_of(&api, &ws, &body.name));
    Ok(Json(json!({ "data": data })))
}

/// `GET /ws/{ws}/collections/{c}`.
pub(super) async fn collection(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path((ws, c)): Path<(String, String)>,
) -> Reply {
    api.auth.check(&caller.0, Privilege::Read)?;
    let pipeline = api.ingest.collection(&ws, &c)?;
    let mut data = collection_json(&ws, &c, pipeline.collection());
    if let Some(stats) = data.get_mut("stats").and_then(Value::as_object_mut) {
        let p = pipeline.stats();
        stats.extend([
            ("last_offset_appended".to_owned(), json!(p.last_appended.to_string())),
            ("last_offset_applied".to_owned(), json!(p.last_applied.to_string())),
            ("lag_records".to_owned(), json!(p.lag_records)),
            ("lag_ms".to_owned(), json!(p.lag_millis)),
            ("ingest_rate".to_owned(), json!(p.ingest_rate)),
            ("rejected_records".to_owned(), json!(p.rejected)),
            ("damaged_records".to_owned(), json!(p.damaged)),
            ("last_error".to_owned(), json!(p.last_error)),
            ("log_size".to_owned(), json!(p.log_bytes)),
        ]);
    }
    data["sources"] = json!(sources_of(&api, &ws, &c));
    Ok(Json(json!({ "data": data })))
}

/// `DELETE /ws/{ws}/collections/{c}`.
pub(super) async fn drop_collection(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path((ws, c)): Path<(String, String)>,
) -> Reply {
    api.auth.check(&caller.0, Privilege::Write)?;
    let coll = api.store.collection(&ws, &c)?;
    let data = collection_json(&ws, &c, &coll);
    drop(coll);
    let engine = api.engine.clone();
    tokio::task::spawn_blocking(move || engine.drop_collection(&ws, &c))
        .await
        .map_err(|e| ApiError::internal(format!("dropping the collection failed: {e}")))??;
    Ok(Json(json!({ "data": data })))
}
