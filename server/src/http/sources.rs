//! A collection's sources over REST, as Rockset's API has them: in the create request's
//! `sources` array and under `/ws/{ws}/collections/{c}/sources` (list, add, show, delete,
//! `suspend`, `resume`), each answered as a Rockset source object with its `status`. Cairn
//! reads local files with a `files` source (`{"files": {"path": "/data/*.json"}}`), formats
//! given in Rockset's `format_params`.

use axum::extract::{Path, State};
use axum::Extension;
use axum::Json;
use cairn_connectors::format::{CsvOptions, Format};
use cairn_connectors::source::FilesSpec;
use cairn_connectors::{SourceError, SourceInfo, SourceSpec, SourceState};
use cairn_engine::Privilege;
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::JsonBody;
use super::{Api, ApiError, Caller};

type Reply = Result<Json<Value>, ApiError>;

/// A source in a request (Rockset's `Source` object; the kinds Cairn has).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SourceRequest {
    #[serde(default)]
    integration_name: Option<String>,
    #[serde(default)]
    format_params: Option<FormatParams>,
    #[serde(default)]
    files: Option<FilesRequest>,
    #[serde(default)]
    kafka: Option<Value>,
    #[serde(default)]
    kinesis: Option<Value>,
    #[serde(default)]
    dynamodb: Option<Value>,
    #[serde(default)]
    mongodb: Option<Value>,
    #[serde(default)]
    s3: Option<Value>,
}

/// `files`: local files (a Cairn source; Rockset uploaded files instead).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilesRequest {
    path: String,
}

/// Rockset's `format_params`: `{"json": true}` or `{"csv": {…}}`.
#[derive(Debug, Default, Deserialize)]
struct FormatParams {
    #[serde(default)]
    json: Option<bool>,
    #[serde(default)]
    csv: Option<CsvParams>,
}

/// Rockset's CSV parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CsvParams {
    #[serde(default)]
    first_line_as_column_names: Option<bool>,
    #[serde(default)]
    separator: Option<String>,
    #[serde(default)]
    quote_char: Option<String>,
    #[serde(default)]
    escape_char: Option<String>,
    #[serde(default)]
    column_names: Option<Vec<String>>,
}

fn one_char(name: &str, v: Option<String>) -> Result<Option<char>, ApiError> {
    let Some(v) = v else { return Ok(None) };
    let mut chars = v.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii() => Ok(Some(c)),
        _ => Err(ApiError::invalid(format!("format_params.csv.{name} must be one ASCII character, got '{v}'"))),
    }
}

impl FormatParams {
    fn format(self) -> Result<Format, ApiError> {
        let Some(csv) = self.csv else {
            return Ok(if self.json == Some(true) { Format::Json } else { Format::Auto });
        };
        let d = CsvOptions::default();
        Ok(Format::Csv(CsvOptions {
            separator: one_char("separator", csv.separator)?.unwrap_or(d.separator),
            quote: one_char("quoteChar", csv.quote_char)?.unwrap_or(d.quote),
            escape: one_char("escapeChar", csv.escape_char)?,
            header: csv.first_line_as_column_names.unwrap_or(csv.column_names.is_none()),
            column_names: csv.column_names,
        }))
    }
}

impl SourceRequest {
    /// The source the request defines.
    pub(super) fn spec(self) -> Result<SourceSpec, ApiError> {
        if self.integration_name.is_some() {
            return Err(ApiError::invalid("integrations are not available yet: Cairn reads local files (a `files` source)"));
        }
        let others = [
            ("kafka", &self.kafka),
            ("kinesis", &self.kinesis),
            ("dynamodb", &self.dynamodb),
            ("mongodb", &self.mongodb),
            ("s3", &self.s3),
        ];
        if let Some((kind, _)) = others.iter().find(|(_, v)| v.is_some()) {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "NOTSUPPORTED",
                format!("{kind} sources are not available yet: Cairn reads local files (a `files` source)"),
            ));
        }
        let files = self.files.ok_or_else(|| ApiError::invalid("a source needs one of: files"))?;
        let format = self.format_params.unwrap_or_default().format()?;
        let spec = SourceSpec::Files(FilesSpec { path: files.path, format });
        spec.check().map_err(ApiError::from)?;
        Ok(spec)
    }
}

impl From<SourceError> for ApiError {
    fn from(e: SourceError) -> ApiError {
        match e {
            SourceError::Invalid(m) => ApiError::invalid(m),
            SourceError::Ingest(e) => e.into(),
            other => ApiError::internal(other.to_string()),
        }
    }
}

/// A source as Rockset shows one, with Cairn's figures in its status.
pub(super) fn source_json(info: &SourceInfo) -> Value {
    let s = &info.status;
    let state = match s.state {
        SourceState::Starting => "INITIALIZING",
        SourceState::Snapshotting => "PROCESSING",
        SourceState::Streaming => "WATCHING",
        SourceState::Paused => "SUSPENDED",
        SourceState::Failed => "ERROR",
    };
    let last = s.last_written_at.map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339());
    let (details, format_params) = match &info.def.spec {
        SourceSpec::Files(f) => (json!({ "path": f.path }), format_json(&f.format)),
    };
    let mut source = json!({
        "id": info.def.id,
        "integration_name": null,
        "format_params": format_params,
        "status": {
            "state": state,
            "message": s.last_error,
            "last_processed_at": last,
            "total_processed_items": s.records_read,
            "detected_size_bytes": s.bytes_read,
            "documents_written": s.documents_written,
            "rejected_records": s.rejected,
            "last_rejected": s.last_rejected,
            "lag_records": s.lag_records,
            "lag_ms": s.lag_millis,
            "last_offset": s.last_offset.to_string(),
        },
    });
    if let Some(map) = source.as_object_mut() {
        map.insert(info.def.spec.kind().to_owned(), details);
    }
    source
}

fn format_json(format: &Format) -> Value {
    match format {
        Format::Auto => json!({}),
        Format::Json => json!({ "json": true }),
        Format::Csv(o) => json!({ "csv": {
            "firstLineAsColumnNames": o.header,
            "separator": o.separator.to_string(),
            "quoteChar": o.quote.to_string(),
            "escapeChar": o.escape.map(|c| c.to_string()),
            "columnNames": o.column_names,
        }}),
    }
}

/// The sources of collection `ws.c`, as Rockset shows them.
pub(super) fn sources_of(api: &Api, ws: &str, c: &str) -> Vec<Value> {
    api.ingest.sources().list().iter().filter(|s| s.workspace == ws && s.collection == c).map(source_json).collect()
}

fn one(api: &Api, ws: &str, c: &str, id: &str) -> Result<Value, ApiError> {
    api.store.collection(ws, c)?;
    api.ingest
        .sources()
        .list()
        .iter()
        .find(|s| s.workspace == ws && s.collection == c && s.def.id == id)
        .map(source_json)
        .ok_or_else(|| ApiError::not_found(format!("collection {ws}.{c} has no source {id}")))
}

/// `GET /ws/{ws}/collections/{c}/sources`.
pub(super) async fn list(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path((ws, c)): Path<(String, String)>,
) -> Reply {
    api.auth.check(&caller.0, Privilege::Read)?;
    api.store.collection(&ws, &c)?;
    Ok(Json(json!({ "data": sources_of(&api, &ws, &c) })))
}

/// `POST /ws/{ws}/collections/{c}/sources`.
pub(super) async fn create(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path((ws, c)): Path<(String, String)>,
    JsonBody(body): JsonBody<SourceRequest>,
) -> Reply {
    api.auth.check(&caller.0, Privilege::Write)?;
    let spec = body.spec()?;
    let id = api.ingest.sources().add(&ws, &c, spec)?;
    Ok(Json(json!({ "data": one(&api, &ws, &c, &id)? })))
}

/// `GET /ws/{ws}/collections/{c}/sources/{id}`.
pub(super) async fn show(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path((ws, c, id)): Path<(String, String, String)>,
) -> Reply {
    api.auth.check(&caller.0, Privilege::Read)?;
    Ok(Json(json!({ "data": one(&api, &ws, &c, &id)? })))
}

/// `DELETE /ws/{ws}/collections/{c}/sources/{id}`.
pub(super) async fn delete(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path((ws, c, id)): Path<(String, String, String)>,
) -> Reply {
    api.auth.check(&caller.0, Privilege::Write)?;
    let data = one(&api, &ws, &c, &id)?;
    let sources_api = api.clone();
    tokio::task::spawn_blocking(move || sources_api.ingest.sources().remove(&ws, &c, &id))
        .await
        .map_err(|e| ApiError::internal(format!("removing the source failed: {e}")))??;
    Ok(Json(json!({ "data": data })))
}

/// `POST /ws/{ws}/collections/{c}/sources/{id}/suspend`.
pub(super) async fn suspend(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path((ws, c, id)): Path<(String, String, String)>,
) -> Reply {
    set_paused(api, caller, ws, c, id, true).await
}

/// `POST /ws/{ws}/collections/{c}/sources/{id}/resume`.
pub(super) async fn resume(
    State(api): State<Api>,
    Extension(caller): Extension<Caller>,
    Path((ws, c, id)): Path<(String, String, String)>,
) -> Reply {
    set_paused(api, caller, ws, c, id, false).await
}

async fn set_paused(api: Api, caller: Caller, ws: String, c: String, id: String, paused: bool) -> Reply {
    api.auth.check(&caller.0, Privilege::Write)?;
    let (a, w, cc, i) = (api.clone(), ws.clone(), c.clone(), id.clone());
    tokio::task::spawn_blocking(move || a.ingest.sources().set_paused(&w, &cc, &i, paused))
        .await
        .map_err(|e| ApiError::internal(format!("changing the source failed: {e}")))??;
    Ok(Json(json!({ "data": one(&api, &ws, &c, &id)? })))
}
