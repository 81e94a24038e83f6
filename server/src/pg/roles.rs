//! Roles over the PostgreSQL protocol: the role a connection logged in as, and statements
//! about roles and API keys answered as result sets or command tags.

use arrow_schema::SchemaRef;
use cairn_engine::SqlState;
use datafusion_postgres::pgwire::api::portal::Format;
use datafusion_postgres::pgwire::api::results::{Response, Tag};
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::error::PgWireResult;

use super::encode::{self, refuse};
use super::startup::LoggedIn;
use crate::auth::statements::{AuthStatement, Outcome, KEY_COLUMNS};
use crate::auth::Auth;
use crate::statement::Refusal;

/// The role `client` logged in as.
pub(super) fn role<C: ClientInfo>(client: &C) -> PgWireResult<String> {
    client
        .session_extensions()
        .get::<LoggedIn>()
        .map(|l| l.0.clone())
        .ok_or_else(|| refuse(SqlState::InvalidAuthorizationSpecification, "the connection has not logged in"))
}

/// The columns `CREATE API KEY` returns; None for the other statements about roles.
pub(super) fn columns(statement: &AuthStatement) -> Option<SchemaRef> {
    matches!(statement, AuthStatement::CreateKey { .. }).then(|| encode::text_schema(&KEY_COLUMNS))
}

/// Runs a statement about roles or keys as `role`.
pub(super) fn run(auth: &Auth, role: &str, statement: AuthStatement, format: &Format) -> PgWireResult<Response> {
    match auth.run(role, statement).map_err(Refusal::from)? {
        Outcome::Done(tag) => Ok(Response::Execution(Tag::new(tag))),
        Outcome::Key { name, role, key } => encode::text_rows(&KEY_COLUMNS, vec![vec![name], vec![role], vec![key]], format),
    }
}
