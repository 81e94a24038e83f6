//! The PostgreSQL wire-protocol frontend: accepts connections, and runs each statement of a
//! simple query through Cairn's engine, encoding results with `arrow-pg` and errors as
//! PostgreSQL error responses with their SQLSTATE.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use cairn_engine::sql_text::split_statements;
use cairn_engine::{Engine, EngineError, Output};
use datafusion_postgres::arrow_pg::datatypes::{arrow_schema_to_pg_fields, encode_recordbatch};
use datafusion_postgres::pgwire::api::portal::Format;
use datafusion_postgres::pgwire::api::query::SimpleQueryHandler;
use datafusion_postgres::pgwire::api::results::{QueryResponse, Response, Tag};
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::api::{ClientInfo, ClientPortalStore, PgWireServerHandlers};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::tokio::process_socket;
use futures::{stream, Sink};
use tokio::net::TcpListener;

/// The handlers of every connection: one engine shared by all.
pub struct Frontend {
    queries: Arc<Queries>,
}

impl Frontend {
    /// A frontend running statements on `engine`.
    pub fn new(engine: Arc<Engine>) -> Frontend {
        Frontend { queries: Arc::new(Queries { engine }) }
    }
}

impl PgWireServerHandlers for Frontend {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.queries.clone()
    }
}

/// Runs simple-protocol queries.
pub struct Queries {
    engine: Arc<Engine>,
}

#[async_trait]
impl SimpleQueryHandler for Queries {
    async fn do_query<C>(&self, _client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut responses = Vec::new();
        for statement in split_statements(query) {
            match self.engine.sql(statement).await {
                Ok(output) => responses.push(response(output)?),
                // PostgreSQL stops at the first failing statement of a simple query.
                Err(e) => {
                    responses.push(Response::Error(Box::new(error_info(&e))));
                    break;
                }
            }
        }
        Ok(responses)
    }
}

/// The wire response for an engine result.
fn response(output: Output) -> PgWireResult<Response> {
    match output {
        Output::Rows { schema, batches } => {
            let fields = Arc::new(arrow_schema_to_pg_fields(&schema, &Format::UnifiedText, None)?);
            let rows: Vec<_> = batches.into_iter().flat_map(|b| encode_recordbatch(fields.clone(), b)).collect();
            Ok(Response::Query(QueryResponse::new(fields, stream::iter(rows))))
        }
        Output::Done { tag, count } => {
            let tag = match tag {
                "INSERT" => Tag::new(tag).with_oid(0).with_rows(count as usize),
                "UPDATE" | "DELETE" => Tag::new(tag).with_rows(count as usize),
                _ => Tag::new(tag),
            };
            Ok(Response::Execution(tag))
        }
    }
}

/// An engine error as PostgreSQL reports one.
fn error_info(e: &EngineError) -> ErrorInfo {
    ErrorInfo::new("ERROR".to_owned(), e.sqlstate().to_owned(), e.to_string())
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
