//! Running statements for a connection, over the simple and the extended query protocol.
//! Session commands (see [`settings`]) are answered here; everything else goes to the engine
//! in the connection's session, under its statement timeout. A prepared statement is described
//! by the engine when it is parsed (its parameters' types and result columns) and runs with
//! its bound values when executed.

use std::fmt::Debug;
use std::sync::Arc;

use arrow_schema::SchemaRef;
use async_trait::async_trait;
use cairn_engine::split_statements;
use cairn_engine::{Description, Engine, Output};
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

use super::access;
use super::bulk;
use super::copy::{self, Copy};
use super::encode::{self, engine_error, refuse};
use super::params;
use super::settings::{self, Command};
use crate::auth::{statements as auth_statements, Auth};
use cairn_engine::Privilege;

/// A parsed statement of the extended protocol.
#[derive(Debug, Clone)]
pub(super) struct Prepared {
    /// Its text.
    sql: String,
    /// The session command it is, if it is one.
    command: Option<Command>,
    /// What the engine said it takes and returns.
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

    /// Runs one statement for `client`, with `params` bound, its rows in `format`; a prepared
    /// statement passes the columns it was described with, which the rows must still have.
    async fn run<C>(
        &self,
        client: &mut C,
        sql: &str,
        params: &[ScalarValue],
        format: &Format,
        described: Option<&SchemaRef>,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        bulk::forget(client);
        if let Some(command) = settings::parse(sql) {
            let command = command.map_err(|(code, message)| refuse(code, message))?;
            return apply(client, command).await;
        }
        let role = access::role(client)?;
        if let Some(statement) = auth_statements::parse(sql) {
            let statement = statement.map_err(|e| access::auth_error(&e))?;
            return access::run(&self.auth, &role, statement, format);
        }
        let session = settings::session(client.metadata());
        if let Some(copy) = copy::parse(sql) {
            return match copy.map_err(|(code, message)| refuse(code, message))? {
                Copy::In { table, fields, options } => {
                    access::check(&self.auth, &role, Privilege::Write)?;
                    bulk::start_copy_in(&self.engine, client, table, fields, options)
                }
                Copy::Out { query, options } => {
                    access::check(&self.auth, &role, self.engine.privilege(&query).map_err(|e| engine_error(&e))?)?;
                    bulk::copy_out(&self.engine, &session, &query, &options).await
                }
            };
        }
        let needed = self.engine.privilege(sql).map_err(|e| engine_error(&e))?;
        access::check(&self.auth, &role, needed)?;
        let options = Arc::new(settings::format_options(client.metadata()));
        let running = self.engine.run(&session, sql, params);
        // A write that has started finishes even if the client stops waiting: the timeout
        // would report it cancelled while it commits, so it applies to reads only.
        let output = match settings::statement_timeout(client.metadata()).filter(|_| needed != Privilege::Write) {
            Some(limit) => tokio::time::timeout(limit, running)
                .await
                .map_err(|_| refuse("57014", "canceling statement due to statement timeout".to_owned()))?,
            None => running.await,
        };
        let output = output.map_err(|e| engine_error(&e))?;
        if let (Some(described), Output::Rows { schema, .. }) = (described, &output) {
            let same = described.fields().len() == schema.fields().len()
                && described.fields().iter().zip(schema.fields()).all(|(a, b)| a.data_type() == b.data_type());
            if !same {
                return Err(refuse("0A000", "cached plan must not change result type: prepare the statement again".to_owned()));
            }
        }
        encode::response(output, format, options)
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
            match self.run(client, statement, &[], &Format::UnifiedText, None).await {
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
        let prepared = &portal.statement.statement;
        if let Some(command) = &prepared.command {
            return apply(client, command.clone()).await;
        }
        let values = params::decode(portal, &prepared.description.params)?;
        let columns = prepared.description.columns.as_ref();
        encode::check_formats(&portal.result_column_format, columns.map_or(0, |c| c.fields().len()))?;
        self.run(client, &prepared.sql, &values, &portal.result_column_format, columns).await
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
            [one] => one.to_string(),
            _ => return Err(refuse("42601", "cannot insert multiple commands into a prepared statement".to_owned())),
        };
        if let Some(statement) = auth_statements::parse(&sql) {
            let statement = statement.map_err(|e| access::auth_error(&e))?;
            let description = Description { params: Vec::new(), columns: access::columns(&statement) };
            return Ok(Some(Prepared { sql, command: None, description }));
        }
        if let Some(copy) = copy::parse(&sql) {
            // A COPY into a missing collection fails here, before the client starts sending.
            if let Copy::In { table, .. } = copy.map_err(|(code, message)| refuse(code, message))? {
                let session = settings::session(client.metadata());
                self.engine.collection_columns(&session, &table).map_err(|e| engine_error(&e))?;
            }
            return Ok(Some(Prepared { sql, command: None, description: Description::default() }));
        }
        if let Some(command) = settings::parse(&sql) {
            let command = command.map_err(|(code, message)| refuse(code, message))?;
            let description = match &command {
                Command::Show(name) => {
                    Description { params: Vec::new(), columns: Some(encode::text_schema(&[name.to_ascii_lowercase().as_str()])) }
                }
                Command::ShowAll => Description { params: Vec::new(), columns: Some(encode::text_schema(&["name", "setting"])) },
                _ => Description::default(),
            };
            return Ok(Some(Prepared { sql, command: Some(command), description }));
        }
        let session = settings::session(client.metadata());
        let description =
            self.engine.describe(&session, &sql).await.map_err(|e| engine_error(&e))?;
        Ok(Some(Prepared { sql, command: None, description }))
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
            let (name, reported) = settings::set(client.metadata_mut(), &name, value).map_err(|(c, m)| refuse(c, m))?;
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
            let value = settings::value(client.metadata(), &name)
                .ok_or_else(|| refuse("42704", format!("unrecognized configuration parameter \"{name}\"")))?;
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
