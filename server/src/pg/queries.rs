//! Running statements for a connection, over the simple and the extended query protocol. Each
//! statement is classified once (see [`crate::statement`]): session commands are answered
//! here, statements about roles by [`Auth`], COPY by [`super::bulk`], and everything else by
//! the engine in the connection's session, under its statement timeout. A prepared statement
//! is classified and described when it is parsed (its parameters' types and result columns)
//! and runs with its bound values each time it is executed.

use std::fmt::Debug;
use std::sync::Arc;

use arrow_schema::SchemaRef;
use async_trait::async_trait;
use cairn_engine::{split_statements, Description, Engine, Output, SqlState, Statement};
use datafusion::common::ScalarValue;
use datafusion_postgres::arrow_pg::datatypes::into_pg_type;
use datafusion_postgres::pgwire::api::portal::{Format, Portal};
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::results::{FieldInfo, Response, Tag};
use datafusion_postgres::pgwire::api::stmt::QueryParser;
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::api::{ClientInfo, ClientPortalStore, Type};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::startup::ParameterStatus;
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::types::format::FormatOptions;
use futures::{Sink, SinkExt};

use super::encode::{self, refuse};
use super::{bulk, params, roles, settings};
use crate::auth::Auth;
use crate::statement::session_command::Command;
use crate::statement::{self, classify, Refusal, Request};

/// A parsed statement of the extended protocol.
#[derive(Debug, Clone)]
pub(super) struct Prepared {
    /// What it is.
    request: Request,
    /// What it takes and returns.
    description: Description,
}

/// Runs the statements of every connection on one engine, each checked against its role.
pub(super) struct Queries {
    engine: Arc<Engine>,
    auth: Auth,
    parser: Arc<Parser>,
}

impl Queries {
    /// Statements run on `engine`, as the roles of `auth`.
    pub(super) fn new(engine: Arc<Engine>, auth: Auth) -> Queries {
        Queries { parser: Arc::new(Parser { engine: engine.clone() }), engine, auth }
    }

    /// The engine statements run on.
    pub(super) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Runs one classified statement for `client`, with `params` bound, its rows in
    /// `format`; a prepared statement passes the columns it was described with, which the
    /// rows must still have. The caller has dropped an unfinished COPY (`bulk::forget`).
    async fn run<C>(
        &self,
        client: &mut C,
        request: &Request,
        params: &[ScalarValue],
        format: &Format,
        described: Option<&SchemaRef>,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let statement = match request {
            Request::Session(command) => return apply(client, command.clone()).await,
            Request::Roles(statement) => return roles::run(&self.auth, &roles::role(client)?, statement.clone(), format),
            Request::CopyIn(copy) => {
                self.auth.check(&roles::role(client)?, request.privilege()).map_err(Refusal::from)?;
                return bulk::start_copy_in(&self.engine, client, copy);
            }
            Request::CopyOut { query, options } => return bulk::copy_out(self.execute(client, query, &[]).await?, options),
            Request::Engine(statement) => statement,
        };
        let output = self.execute(client, statement, params).await?;
        if let (Some(described), Output::Rows { schema, .. }) = (described, &output) {
            let same = described.fields().len() == schema.fields().len()
                && described.fields().iter().zip(schema.fields()).all(|(a, b)| a.data_type() == b.data_type());
            if !same {
                return Err(refuse(
                    SqlState::FeatureNotSupported,
                    "cached plan must not change result type: prepare the statement again",
                ));
            }
        }
        let options = Arc::new(settings::format_options(client.metadata()));
        encode::response(output, format, options)
    }
}

impl Queries {
    /// Runs an engine statement for `client`: as its role, in its session, once the
    /// offsets it set in `cairn.read_after` are applied, under its statement timeout.
    async fn execute<C: ClientInfo>(&self, client: &C, statement: &Statement, params: &[ScalarValue]) -> PgWireResult<Output> {
        let role = roles::role(client)?;
        let session = settings::session(client.metadata());
        let (fences, wait) = settings::read_after(client.metadata());
        if !fences.is_empty() {
            self.engine.wait_for(&session, &fences, wait).await.map_err(Refusal::from)?;
        }
        let timeout = settings::statement_timeout(client.metadata());
        Ok(statement::run(&self.engine, &self.auth, &role, &session, statement, params, timeout).await?)
    }
}

#[async_trait]
impl SimpleQueryHandler for Queries {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut responses = Vec::new();
        for statement in split_statements(query) {
            bulk::forget(client);
            let ran = match classify(&self.engine, statement) {
                Ok(request) => self.run(client, &request, &[], &Format::UnifiedText, None).await,
                Err(refusal) => Err(refusal.into()),
            };
            match ran {
                // The client sends COPY data next: statements after a COPY FROM do not run.
                Ok(response @ Response::CopyIn(_)) => {
                    responses.push(response);
                    break;
                }
                Ok(response) => responses.push(response),
                // PostgreSQL stops at the first failing statement of a simple query.
                Err(PgWireError::UserError(info)) => {
                    responses.push(Response::Error(info));
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(responses)
    }
}

#[async_trait]
impl ExtendedQueryHandler for Queries {
    type Statement = Prepared;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        self.parser.clone()
    }

    async fn do_query<C>(&self, client: &mut C, portal: &Portal<Prepared>, _max_rows: usize) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        bulk::forget(client);
        let prepared = &portal.statement.statement;
        if let Request::Session(command) = &prepared.request {
            return apply(client, command.clone()).await;
        }
        let values = params::decode(portal, &prepared.description.params)?;
        let columns = prepared.description.columns.as_ref();
        encode::check_formats(&portal.result_column_format, columns.map_or(0, |c| c.fields().len()))?;
        self.run(client, &prepared.request, &values, &portal.result_column_format, columns).await
    }
}

/// Parses and describes statements of the extended protocol.
pub(super) struct Parser {
    engine: Arc<Engine>,
}

#[async_trait]
impl QueryParser for Parser {
    type Statement = Prepared;

    async fn parse_sql<C>(&self, client: &C, sql: &str, _types: &[Option<Type>]) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let statements = split_statements(sql);
        let sql = match statements.as_slice() {
            [] => return Ok(None),
            [one] => *one,
            _ => return Err(refuse(SqlState::SyntaxError, "cannot insert multiple commands into a prepared statement")),
        };
        let request = classify(&self.engine, sql)?;
        let session = settings::session(client.metadata());
        let description = match &request {
            Request::Session(Command::Show(name)) => {
                Description { params: Vec::new(), columns: Some(encode::text_schema(&[name.to_ascii_lowercase().as_str()])) }
            }
            Request::Session(Command::ShowAll) => {
                Description { params: Vec::new(), columns: Some(encode::text_schema(&["name", "setting"])) }
            }
            Request::Session(_) | Request::CopyOut { .. } => Description::default(),
            Request::Roles(statement) => Description { params: Vec::new(), columns: roles::columns(statement) },
            Request::CopyIn(copy) => {
                // A COPY into a missing collection fails here, before the client starts sending.
                self.engine.collection_columns(&session, &copy.table).map_err(Refusal::from)?;
                Description::default()
            }
            Request::Engine(statement) => self.engine.describe(&session, statement).await.map_err(Refusal::from)?,
        };
        Ok(Some(Prepared { request, description }))
    }

    fn get_parameter_types(&self, stmt: &Prepared) -> PgWireResult<Vec<Type>> {
        // A parameter the statement does not type is text, as in PostgreSQL.
        Ok(stmt.description.params.iter().map(|t| t.as_ref().and_then(|t| into_pg_type(t).ok()).unwrap_or(Type::TEXT)).collect())
    }

    fn get_result_schema(&self, stmt: &Prepared, format: Option<&Format>) -> PgWireResult<Vec<FieldInfo>> {
        match &stmt.description.columns {
            Some(schema) => {
                let format = format.unwrap_or(&Format::UnifiedText);
                encode::check_formats(format, schema.fields().len())?;
                encode::fields(schema, format, Arc::new(FormatOptions::default()))
            }
            None => Ok(Vec::new()),
        }
    }
}

/// Carries out a session command for `client`.
async fn apply<C>(client: &mut C, command: Command) -> PgWireResult<Response>
where
    C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    Ok(match command {
        Command::Set { name, value } => {
            let (name, reported) = settings::set(client.metadata_mut(), &name, value)?;
            if let Some(value) = reported {
                client.feed(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(name, value))).await?;
            }
            Response::Execution(Tag::new("SET"))
        }
        Command::ResetAll { tag } => {
            settings::reset_all(client.metadata_mut());
            Response::Execution(Tag::new(tag))
        }
        Command::Show(name) => {
            let value = settings::value(client.metadata(), &name).ok_or_else(|| settings::unknown_setting(&name))?;
            encode::text_rows(&[name.to_ascii_lowercase().as_str()], vec![vec![value]], &Format::UnifiedText)?
        }
        Command::ShowAll => {
            let (names, values): (Vec<String>, Vec<String>) =
                settings::all(client.metadata()).into_iter().map(|(n, v)| (n.to_owned(), v)).unzip();
            encode::text_rows(&["name", "setting"], vec![names, values], &Format::UnifiedText)?
        }
        Command::Begin => Response::TransactionStart(Tag::new("BEGIN")),
        Command::Commit => Response::TransactionEnd(Tag::new("COMMIT")),
        Command::Rollback => Response::TransactionEnd(Tag::new("ROLLBACK")),
        Command::Accept(tag) => Response::Execution(Tag::new(tag)),
    })
}
