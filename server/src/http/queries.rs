//! `POST /queries`: one SQL statement, with Rockset's named parameters, answered as Rockset
//! answers: `results`, `column_fields`, `stats`, `query_id`. Statements about roles and API
//! keys (see `auth::statements`) run here too.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::{Extension, Json};
use cairn_engine::{Output, Session, SqlState};
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::JsonBody;
use super::params::{positional, values, Parameter};
use super::{results, Api, ApiError, Caller};
use crate::auth::statements::{Outcome, KEY_COLUMNS};
use crate::statement::{self, classify, Refusal, Request};

/// The request body.
#[derive(Deserialize)]
pub(super) struct QueryRequest {
    sql: Sql,
    /// Longest a read may run, in milliseconds.
    #[serde(default)]
    timeout_ms: Option<u64>,
}

/// The statement and its parameters.
#[derive(Deserialize)]
pub(super) struct Sql {
    query: String,
    #[serde(default)]
    parameters: Vec<Parameter>,
    /// Most rows returned.
    #[serde(default)]
    default_row_limit: Option<usize>,
}

/// Runs the query.
pub(super) async fn run(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    JsonBody(request): JsonBody<QueryRequest>,
) -> Result<Json<Value>, ApiError> {
    let started = Instant::now();
    let query_id = uuid::Uuid::new_v4().to_string();
    let (sql, names) = positional(&request.sql.query)?;
    let params = values(&names, &request.sql.parameters)?;
    let (results, total, column_fields) = match classify(&api.engine, &sql)? {
        Request::Roles(statement) => match api.auth.run(&caller.0, statement)? {
            Outcome::Done(tag) => (vec![json!({ "command": tag })], 1, Vec::new()),
            Outcome::Key { name, role, key } => (
                vec![json!({ "name": name, "role": role, "key": key })],
                1,
                KEY_COLUMNS.iter().map(|n| json!({ "name": n, "type": "string" })).collect(),
            ),
        },
        Request::Engine(statement) => {
            let session = Session { workspace: None, user: Some(caller.0.clone()) };
            let timeout = request.timeout_ms.map(Duration::from_millis);
            let output = statement::run(&api.engine, &api.auth, &caller.0, &session, &statement, &params, timeout).await?;
            match output {
                Output::Rows { schema, batches } => {
                    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
                    (results::rows(&batches, request.sql.default_row_limit)?, total, results::column_fields(&schema))
                }
                Output::Done { tag, count } => (vec![json!({ "command": tag, "rows_affected": count })], 1, Vec::new()),
            }
        }
        Request::Session(_) | Request::CopyIn(_) | Request::CopyOut { .. } => {
            let message = "session commands and COPY belong to the PostgreSQL protocol: the REST API has no sessions \
                           (add documents with POST …/docs)";
            return Err(Refusal::new(SqlState::FeatureNotSupported, message).into());
        }
    };
    let elapsed = started.elapsed().as_millis() as u64;
    Ok(Json(json!({
        "query_id": query_id,
        "status": "COMPLETED",
        "collections": [],
        "results_total_doc_count": total,
        "results": results,
        "column_fields": column_fields,
        "stats": { "elapsed_time_ms": elapsed, "throttled_time_micros": 0 },
    })))
}
