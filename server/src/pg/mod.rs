//! The PostgreSQL wire-protocol frontend: accepts connections and hands each to pgwire with
//! Cairn's handlers for startup, queries (simple and extended protocol) and cancel requests.

mod bulk;
mod copy_data;
mod encode;
mod params;
mod queries;
mod roles;
mod settings;
mod startup;

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use cairn_engine::{Engine, SqlState};
use datafusion_postgres::pgwire::api::auth::StartupHandler;
use datafusion_postgres::pgwire::api::cancel::{CancelHandler, DefaultCancelHandler};
use datafusion_postgres::pgwire::api::copy::CopyHandler;
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::{ConnectionManager, PgWireServerHandlers};
use datafusion_postgres::pgwire::error::ErrorInfo;
use datafusion_postgres::pgwire::messages::response::ErrorResponse;
use datafusion_postgres::pgwire::messages::Message;
use datafusion_postgres::pgwire::tokio::{process_socket, TlsAcceptor};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::auth::Auth;
use queries::Queries;
use startup::Startup;

/// The handlers of every connection: one engine shared by all.
pub(crate) struct Frontend {
    queries: Arc<Queries>,
    startup: Arc<Startup>,
    cancel: Arc<DefaultCancelHandler>,
}

impl Frontend {
    /// A frontend running statements on `engine` for the roles of `auth`; with
    /// `tls_required`, connections without TLS are refused at startup.
    pub(crate) fn new(engine: Arc<Engine>, auth: Auth, tls_required: bool) -> Frontend {
        let connections = Arc::new(ConnectionManager::new());
        Frontend {
            queries: Arc::new(Queries::new(engine, auth.clone())),
            startup: Arc::new(Startup::new(auth, connections.clone(), tls_required)),
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

/// Serves `frontend` on `listener` until the task is dropped, offering TLS when `tls` is set,
/// with at most `max_connections` connections open: the next one is told so (SQLSTATE 53300)
/// and closed.
pub(crate) async fn serve(listener: TcpListener, frontend: Arc<Frontend>, tls: Option<TlsAcceptor>, max_connections: usize) {
    let slots = Arc::new(Semaphore::new(max_connections));
    loop {
        match listener.accept().await {
            Ok((mut socket, peer)) => {
                let slot = slots.clone().try_acquire_owned().ok();
                let (frontend, tls) = (frontend.clone(), tls.clone());
                tokio::spawn(async move {
                    // A cancel request is served at the limit too: it is how a client stops
                    // a runaway query on a full server.
                    if slot.is_none() && !is_cancel_request(&socket).await {
                        tracing::warn!(%peer, max_connections, "connection refused: too many clients");
                        return refuse_connection(&mut socket).await;
                    }
                    if let Err(e) = process_socket(socket, tls, frontend).await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    drop(slot);
                });
            }
            Err(e) => tracing::warn!(error = %e, "accepting a connection failed"),
        }
    }
}

/// The code a CancelRequest packet carries where a startup packet has its protocol version.
const CANCEL_REQUEST_CODE: u32 = 80877102;

/// Whether the connection opens with a CancelRequest (waiting up to a second for its first
/// eight bytes, without consuming them).
async fn is_cancel_request(socket: &TcpStream) -> bool {
    let mut head = [0u8; 8];
    let peeked = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            match socket.peek(&mut head).await {
                Ok(8) => return true,
                Ok(0) | Err(_) => return false,
                Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    })
    .await;
    peeked.unwrap_or(false) && u32::from_be_bytes([head[4], head[5], head[6], head[7]]) == CANCEL_REQUEST_CODE
}

/// Tells a client over the connection limit so, as PostgreSQL does, and closes.
async fn refuse_connection(socket: &mut TcpStream) {
    let info = ErrorInfo::new(
        "FATAL".to_owned(),
        SqlState::TooManyConnections.code().to_owned(),
        "sorry, too many clients already".to_owned(),
    );
    let mut buf = BytesMut::new();
    if ErrorResponse::from(info).encode(&mut buf).is_ok() {
        // The client is going away either way.
        let _sent = socket.write_all(&buf).await;
    }
    let _closed = socket.shutdown().await;
}
