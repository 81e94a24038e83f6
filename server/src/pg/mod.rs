//! The PostgreSQL wire-protocol frontend: accepts connections and hands each to pgwire with
//! Cairn's handlers for startup, queries (simple and extended protocol) and cancel requests.

mod bulk;
mod copy;
mod encode;
mod params;
mod queries;
mod settings;
mod startup;

use std::sync::Arc;

use cairn_engine::Engine;
use datafusion_postgres::pgwire::api::auth::StartupHandler;
use datafusion_postgres::pgwire::api::cancel::{CancelHandler, DefaultCancelHandler};
use datafusion_postgres::pgwire::api::copy::CopyHandler;
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::{ConnectionManager, PgWireServerHandlers};
use datafusion_postgres::pgwire::tokio::process_socket;
use tokio::net::TcpListener;

use queries::Queries;
use startup::Startup;

/// The handlers of every connection: one engine shared by all.
pub struct Frontend {
    queries: Arc<Queries>,
    startup: Arc<Startup>,
    cancel: Arc<DefaultCancelHandler>,
}

impl Frontend {
    /// A frontend running statements on `engine`.
    pub fn new(engine: Arc<Engine>) -> Frontend {
        let connections = Arc::new(ConnectionManager::new());
        Frontend {
            queries: Arc::new(Queries::new(engine)),
            startup: Arc::new(Startup::new(connections.clone())),
            cancel: Arc::new(DefaultCancelHandler::new(connections)),
        }
    }
}

impl PgWireServerHandlers for Frontend {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.queries.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.queries.clone()
    }

    fn copy_handler(&self) -> Arc<impl CopyHandler> {
        self.queries.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.startup.clone()
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.cancel.clone()
    }
}

/// Serves `frontend` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, frontend: Arc<Frontend>) {
    loop {
        match listener.accept().await {
            Ok((socket, peer)) => {
                let frontend = frontend.clone();
                tokio::spawn(async move {
                    if let Err(e) = process_socket(socket, None, frontend).await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            Err(e) => tracing::warn!(error = %e, "accepting a connection failed"),
        }
    }
}
