//! Roles over the PostgreSQL protocol: the role a connection logged in as, the check of each
//! statement against its privileges, and statements about roles and API keys.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use cairn_engine::{Output, Privilege};
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion_postgres::pgwire::api::portal::Format;
use datafusion_postgres::pgwire::api::results::{Response, Tag};
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::types::format::FormatOptions;

use super::encode::{self, refuse};
use super::startup::LoggedIn;
use crate::auth::statements::{AuthStatement, Outcome};
use crate::auth::{Auth, AuthError};

/// The role `client` logged in as.
pub fn role<C: ClientInfo>(client: &C) -> PgWireResult<String> {
    client
        .session_extensions()
        .get::<LoggedIn>()
        .map(|l| l.0.clone())
        .ok_or_else(|| refuse("28000", "the connection has not logged in".to_owned()))
}

/// The error a client gets for a refused or failed statement about roles.
pub fn auth_error(e: &AuthError) -> PgWireError {
    refuse(e.sqlstate(), e.to_string())
}

/// Checks that `role` may run a statement needing `needed`.
pub fn check(auth: &Auth, role: &str, needed: Privilege) -> PgWireResult<()> {
    auth.check(role, needed).map_err(|e| auth_error(&e))
}

/// The columns `CREATE API KEY` returns; None for the other statements about roles.
pub fn columns(statement: &AuthStatement) -> Option<SchemaRef> {
    matches!(statement, AuthStatement::CreateKey { .. }).then(|| {
        let text = |name| Field::new(name, DataType::Utf8, false);
        Arc::new(Schema::new(vec![text("name"), text("role"), text("key")]))
    })
}

/// Runs a statement about roles or keys as `role`.
pub fn run(auth: &Auth, role: &str, statement: AuthStatement, format: &Format) -> PgWireResult<Response> {
    let schema = columns(&statement);
    match auth.run(role, statement).map_err(|e| auth_error(&e))? {
        Outcome::Done(tag) => Ok(Response::Execution(Tag::new(tag))),
        Outcome::Key { name, role, key } => {
            let schema = schema.ok_or_else(|| refuse("XX000", "a new key without its columns".to_owned()))?;
            let columns: Vec<ArrayRef> = [name, role, key].into_iter().map(|v| Arc::new(StringArray::from(vec![v])) as ArrayRef).collect();
            let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| refuse("XX000", e.to_string()))?;
            encode::response(Output::Rows { schema, batches: vec![batch] }, format, Arc::new(FormatOptions::default()))
        }
    }
}
