//! API keys over REST: `/users/{user}/apikeys` (`self` for the caller's own role). A key is
//! shown whole only when it is created; listings show its last four characters.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use cairn_storage::ApiKey;
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::JsonBody;
use super::{Api, ApiError, Caller};

/// `POST /users/{user}/apikeys` body.
#[derive(Deserialize)]
pub(super) struct CreateKey {
    name: String,
    /// The role the key acts as (the caller's own when absent).
    #[serde(default)]
    role: Option<String>,
}

fn key_json(k: &ApiKey, key: Option<&str>) -> Value {
    json!({
        "name": k.name,
        "key": key.map_or_else(|| format!("…{}", k.suffix), str::to_owned),
        "role": k.role,
        "created_by": k.role,
        "created_at": cairn_storage::value::format_timestamp(k.created_at),
        "state": "ACTIVE",
    })
}

/// The role `{user}` names: the caller for `self`.
fn user_role<'a>(caller: &'a Caller, user: &'a str) -> Option<&'a str> {
    (user != "self" && user != caller.0).then_some(user)
}

/// `POST /users/{user}/apikeys`.
pub(super) async fn create(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
    JsonBody(body): JsonBody<CreateKey>,
) -> Result<Json<Value>, ApiError> {
    let role = body.role.as_deref().or(user_role(&caller, &user));
    let (key, record) = api.auth.create_key(&caller.0, &body.name, role)?;
    Ok(Json(json!({ "data": key_json(&record, Some(&key)) })))
}

/// `GET /users/{user}/apikeys`.
pub(super) async fn list(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let keys = api.auth.keys(&caller.0, user_role(&caller, &user))?;
    Ok(Json(json!({ "data": keys.iter().map(|k| key_json(k, None)).collect::<Vec<_>>() })))
}

/// `GET /users/{user}/apikeys/{name}`.
pub(super) async fn show(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path((user, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let keys = api.auth.keys(&caller.0, user_role(&caller, &user))?;
    let key =
        keys.iter().find(|k| k.name == name).ok_or_else(|| ApiError::not_found(format!("API key \"{name}\" does not exist")))?;
    Ok(Json(json!({ "data": key_json(key, None) })))
}

/// `DELETE /users/{user}/apikeys/{name}`.
pub(super) async fn delete(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path((user, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let dropped = api.auth.drop_key(&caller.0, &name, user_role(&caller, &user))?;
    Ok(Json(json!({ "data": key_json(&dropped, None) })))
}
