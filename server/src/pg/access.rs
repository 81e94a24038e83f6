//! Roles over the PostgreSQL protocol: the role a connection logged in as, the check of each
//! statement against its privileges, and statements about roles and API keys.

use arrow_schema::SchemaRef;
use cairn_engine::Privilege;
use datafusion_postgres::pgwire::api::portal::Format;
use datafusion_postgres::pgwire::api::results::{Response, Tag};
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};

use super::encode::{self, refuse};
use super::startup::LoggedIn;
use crate::auth::statements::{AuthStatement, Outcome, KEY_COLUMNS};
use crate::auth::{Auth, AuthError};

/// The role `client` logged in as.
pub(super) fn role<C: ClientInfo>(client: &C) -> PgWireResult<String> {
    client
        .session_extensions()
        .get::<LoggedIn>()
        .map(|l| l.0.clone())
        .ok_or_else(|| refuse("28000", "the connection has not logged in".to_owned()))
}

/// The error a client gets for a refused or failed statement about roles.
pub(super) fn auth_error(e: &AuthError) -> PgWireError {
    refuse(e.sqlstate(), e.to_string())
}

/// Checks that `role` may run a statement needing `needed`.
pub(super) fn check(auth: &Auth, role: &str, needed: Privilege) -> PgWireResult<()> {
    auth.check(role, needed).map_err(|e| auth_error(&e))
}

/// The columns `CREATE API KEY` returns; None for the other statements about roles.
pub(super) fn columns(statement: &AuthStatement) -> Option<SchemaRef> {
    matches!(statement, AuthStatement::CreateKey { .. }).then(|| encode::text_schema(&KEY_COLUMNS))
}

/// Runs a statement about roles or keys as `role`.
pub(super) fn run(auth: &Auth, role: &str, statement: AuthStatement, format: &Format) -> PgWireResult<Response> {
    match auth.run(role, statement).map_err(|e| auth_error(&e))? {
        Outcome::Done(tag) => Ok(Response::Execution(Tag::new(tag))),
        Outcome::Key { name, role, key } => encode::text_rows(&KEY_COLUMNS, vec![vec![name], vec![role], vec![key]], format),
    }
}
