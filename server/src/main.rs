//! # cairn (cairn-server)
//!
//! The `cairn` binary. `cairn serve` runs every role in one process (the embedded default):
//! a store in a local data directory and the PostgreSQL wire protocol on 127.0.0.1:5433. It
//! stops cleanly on SIGINT or SIGTERM, closing every collection's RocksDB.

mod auth;
mod config;
mod http;
mod pg;
mod statement;
mod tls;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use cairn_connectors::{Ingest, IngestOptions};
use cairn_engine::Engine;
use cairn_storage::{Store, StoreOptions};
use clap::{Parser, Subcommand};
use config::{ServeArgs, Settings};
use tokio::net::TcpListener;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Cairn: a real-time analytics database for schemaless JSON, spoken to over the PostgreSQL
/// wire protocol.
#[derive(Parser, Debug)]
#[command(name = "cairn", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run Cairn: every role in one process, over a local data directory.
    Serve(ServeArgs),
}

/// Why `cairn serve` could not start or stopped.
#[derive(Debug, thiserror::Error)]
enum ServeError {
    #[error("refusing to listen on {0}: it is reachable from other machines, and role \"cairn\" has no password (connect locally and run ALTER ROLE cairn PASSWORD '…' first)")]
    OpenBind(SocketAddr),
    #[error("reading roles: {0}")]
    Auth(#[from] auth::AuthError),
    #[error("opening the store in {path}: {source}")]
    Store { path: String, source: cairn_storage::StorageError },
    #[error("{0}")]
    Config(#[from] config::ConfigError),
    #[error("{0} must be a positive number small enough to count bytes of")]
    Setting(&'static str),
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    #[error("starting the query engine: {0}")]
    Engine(cairn_engine::EngineError),
    #[error("starting the write path: {0}")]
    Ingest(cairn_connectors::IngestError),
    #[error("listening on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("waiting for a shutdown signal: {0}")]
    Signal(std::io::Error),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let args: Settings = args.settings()?;
    // Checked before anything is opened: a TLS configuration that cannot load stops the start.
    let tls = tls::acceptors(args.tls_cert.as_deref(), args.tls_key.as_deref())?;
    if args.tls_required && tls.is_none() {
        return Err(ServeError::Tls(tls::TlsError::Incomplete("--tls-cert (TLS is required)")));
    }
    let mib = |name: &'static str, n: usize| n.checked_mul(1 << 20).filter(|b| *b > 0).ok_or(ServeError::Setting(name));
    let options = StoreOptions { cache_bytes: mib("cache_mib", args.cache_mib)?, ..Default::default() };
    if args.max_connections == 0 {
        return Err(ServeError::Setting("max_connections"));
    }
    if args.http_max_concurrent == 0 {
        return Err(ServeError::Setting("http_max_concurrent"));
    }
    let limits = http::Limits {
        max_body_bytes: mib("http_max_body_mib", args.http_max_body_mib)?,
        max_concurrent: args.http_max_concurrent,
    };
    let store = Store::open(&args.data_dir, options)
        .map_err(|source| ServeError::Store { path: args.data_dir.display().to_string(), source })?;
    let store = Arc::new(store);
    let auth = auth::Auth::new(store.clone());
    // Roles without a password may connect from this machine only; beyond loopback, the
    // superuser at least must need one.
    for addr in [args.pg_listen, args.http_listen] {
        if !addr.ip().is_loopback() && !auth.superuser_has_password()? {
            return Err(ServeError::OpenBind(addr));
        }
    }
    let ingest = Ingest::open(store.clone(), IngestOptions::default()).map_err(ServeError::Ingest)?;
    let engine =
        Engine::with_memory_limit(ingest.clone(), mib("query_memory_mib", args.query_memory_mib)?).map_err(ServeError::Engine)?;
    let engine = Arc::new(engine);
    let listener =
        TcpListener::bind(args.pg_listen).await.map_err(|source| ServeError::Listen { addr: args.pg_listen, source })?;
    let pg_addr = listener.local_addr().unwrap_or(args.pg_listen);
    let http_listener =
        TcpListener::bind(args.http_listen).await.map_err(|source| ServeError::Listen { addr: args.http_listen, source })?;
    let http_addr = http_listener.local_addr().unwrap_or(args.http_listen);
    tracing::info!(data_dir = %args.data_dir.display(), "store open");
    tracing::info!("PostgreSQL wire protocol on {pg_addr}: psql -h {} -p {} -U cairn cairn", pg_addr.ip(), pg_addr.port());
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!("REST API on {scheme}://{http_addr}/v1/orgs/self (OpenAPI document at /openapi.json)");
    let (pg_tls, http_tls) = tls.map(|t| (t.pg, t.http)).unzip();
    let frontend = Arc::new(pg::Frontend::new(engine.clone(), auth.clone(), args.tls_required));
    let pg_server = tokio::spawn(pg::serve(listener, frontend, pg_tls, args.max_connections));
    let http_server = tokio::spawn(http::serve(http_listener, http::router(engine, ingest.clone(), auth, limits), http_tls));
    let stopped = shutdown_signal().await;
    tracing::info!("shutting down");
    pg_server.abort();
    http_server.abort();
    // The indexers finish the batch they are applying; what is left stays in the logs.
    ingest.shutdown();
    // Open connections hold the engine: the store closes once the runtime ends their tasks.
    drop(store);
    stopped
}

/// Waits for SIGINT or SIGTERM.
async fn shutdown_signal() -> Result<(), ServeError> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(ServeError::Signal)?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.map_err(ServeError::Signal),
        _ = term.recv() => Ok(()),
    }
}
