//! The REST API, shaped like Rockset's so that code written for Rockset works by changing its
//! base URL: workspaces, collections, documents, SQL queries with named parameters and API
//! keys under `/v1/orgs/self`, and an OpenAPI document at `/openapi.json`. Requests carry
//! `Authorization: ApiKey <key>`; without one, a request from this machine acts as the
//! superuser while it has no password (as a PostgreSQL connection from loopback may).

mod body;
mod documents;
mod error;
mod keys;
mod offsets;
mod params;
mod queries;
mod results;
mod sources;
mod workspaces;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use cairn_connectors::Ingest;
use cairn_engine::Engine;
use cairn_storage::Store;
use datafusion_postgres::pgwire::tokio::TlsAcceptor;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::auth::{Auth, SUPERUSER};
pub(crate) use error::ApiError;

/// What every handler works with.
#[derive(Clone)]
pub(crate) struct Api {
    engine: Arc<Engine>,
    ingest: Arc<Ingest>,
    store: Arc<Store>,
    auth: Auth,
    /// Requests being served at once; one more is refused with 429.
    slots: Arc<Semaphore>,
}

/// Limits of the REST API.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Largest request body, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Requests served at once (429 beyond).
    pub max_concurrent: usize,
}

/// The role a request acts as.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub String);

/// The OpenAPI document describing this API.
const OPENAPI: &str = include_str!("openapi.json");

/// The API's routes over `engine` and the store `ingest` writes to.
pub(crate) fn router(engine: Arc<Engine>, ingest: Arc<Ingest>, auth: Auth, limits: Limits) -> Router {
    let store = Arc::clone(ingest.store());
    let api = Api { engine, ingest, store, auth, slots: Arc::new(Semaphore::new(limits.max_concurrent)) };
    let org = Router::new()
        .route("/ws", get(workspaces::list).post(workspaces::create))
        .route("/ws/{ws}", get(workspaces::show).delete(workspaces::delete))
        .route("/collections", get(workspaces::all_collections))
        .route("/ws/{ws}/collections", get(workspaces::collections).post(workspaces::create_collection))
        .route("/ws/{ws}/collections/{c}", get(workspaces::collection).delete(workspaces::drop_collection))
        .route("/ws/{ws}/collections/{c}/sources", get(sources::list).post(sources::create))
        .route("/ws/{ws}/collections/{c}/sources/{id}", get(sources::show).delete(sources::delete))
        .route("/ws/{ws}/collections/{c}/sources/{id}/suspend", post(sources::suspend))
        .route("/ws/{ws}/collections/{c}/sources/{id}/resume", post(sources::resume))
        .route("/ws/{ws}/collections/{c}/docs", post(documents::add).patch(documents::patch).delete(documents::delete))
        .route("/ws/{ws}/collections/{c}/offsets/commit", post(offsets::commit))
        .route("/queries", post(queries::run))
        .route("/users/{user}/apikeys", get(keys::list).post(keys::create))
        .route("/users/{user}/apikeys/{name}", get(keys::show).delete(keys::delete));
    Router::new()
        .nest("/v1/orgs/self", org)
        .route_layer(middleware::from_fn_with_state(api.clone(), authenticate))
        .route("/openapi.json", get(openapi))
        .fallback(|| async { ApiError::not_found("no such endpoint: see /openapi.json") })
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(api.clone(), admit))
        .with_state(api)
}

/// Serves `router` on `listener` until the task is dropped: HTTPS when `tls` is given, else
/// plain HTTP.
pub(crate) async fn serve(listener: TcpListener, router: Router, tls: Option<TlsAcceptor>) {
    let Some(tls) = tls else {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, service).await {
            tracing::error!(error = %e, "the HTTP server stopped");
        }
        return;
    };
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accepting an HTTPS connection failed");
                continue;
            }
        };
        let (tls, router) = (tls.clone(), router.clone());
        tokio::spawn(async move {
            // A client that never finishes its handshake does not hold the task forever.
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(socket)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
            };
            let service = TowerToHyperService::new(router.layer(Extension(ConnectInfo(peer))));
            if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(%peer, error = %e, "HTTPS connection ended with an error");
            }
        });
    }
}

/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Refuses a request with 429 while `max_concurrent` others are being served.
async fn admit(State(api): State<Api>, request: Request, next: Next) -> Response {
    match api.slots.clone().try_acquire_owned() {
        Ok(_slot) => next.run(request).await,
        Err(_) => ApiError::new(StatusCode::TOO_MANY_REQUESTS, "RESOURCEEXCEEDED", "too many requests at once; retry shortly")
            .into_response(),
    }
}

/// Finds the role a request acts as: its API key's, else (from this machine, while the
/// superuser has no password) the superuser's.
async fn authenticate(State(api): State<Api>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let header = request.headers().get(header::AUTHORIZATION).map(|h| h.to_str().map(str::to_owned));
    let role = match header {
        Some(Ok(value)) => match value.split_once(' ') {
            Some((scheme, key)) if scheme.eq_ignore_ascii_case("apikey") || scheme.eq_ignore_ascii_case("bearer") => {
                match api.auth.role_of_key(key.trim()) {
                    Ok(Some(role)) => role,
                    Ok(None) => return ApiError::unauthenticated("the API key is not valid").into_response(),
                    Err(e) => return ApiError::from(e).into_response(),
                }
            }
            _ => return ApiError::unauthenticated("the Authorization header must be \"ApiKey <key>\"").into_response(),
        },
        Some(Err(_)) => return ApiError::unauthenticated("the Authorization header is not text").into_response(),
        None => {
            let trusted = peer.is_some_and(|p| p.ip().is_loopback()) && matches!(api.auth.superuser_has_password(), Ok(false));
            if !trusted {
                return ApiError::unauthenticated("send an API key: Authorization: ApiKey <key>").into_response();
            }
            SUPERUSER.to_owned()
        }
    };
    request.extensions_mut().insert(Caller(role));
    next.run(request).await
}
