//! A statement as the server takes it, for both frontends: the one place that tells apart
//! what the server answers itself (session commands, statements about roles and API keys,
//! COPY) from what the engine runs, and the one way an engine statement runs for a role
//! (checked against its privileges as they are now, and cut short by a timeout unless it
//! writes). The PostgreSQL frontend (`pg`) and REST (`http`) each take a [`Request`] from
//! [`classify`] and answer the kinds they serve.

pub(crate) mod copy;
mod refusal;
pub(crate) mod session_command;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use cairn_engine::{Engine, Output, Privilege, Session, SqlState, Statement};
use datafusion::common::ScalarValue;
use futures::FutureExt;

pub(crate) use refusal::Refusal;

use crate::auth::statements::{self as auth_statements, AuthStatement};
use crate::auth::Auth;
use copy::{Copy, CopyIn, Options};
use session_command::Command;

/// A statement, classified.
#[derive(Debug, Clone)]
pub(crate) enum Request {
    /// A session command (`SET`, `SHOW`, `BEGIN`, …), which the PostgreSQL frontend carries
    /// out on its connection.
    Session(Command),
    /// A statement about roles or API keys, which [`Auth`] runs (checking its own rules).
    Roles(AuthStatement),
    /// `COPY coll [(fields)] FROM STDIN`: documents the client sends next.
    CopyIn(CopyIn),
    /// `COPY coll | (query) TO STDOUT`: a query's rows as COPY data.
    CopyOut {
        /// The query.
        query: Statement,
        /// How the rows are laid out.
        options: Options,
    },
    /// A statement the engine runs.
    Engine(Statement),
}

/// Classifies one statement's text (parsing it once, the engine's statements included).
pub(crate) fn classify(engine: &Engine, sql: &str) -> Result<Request, Refusal> {
    if let Some(command) = session_command::parse(sql) {
        return Ok(Request::Session(command?));
    }
    if let Some(statement) = auth_statements::parse(sql) {
        return Ok(Request::Roles(statement?));
    }
    if let Some(copy) = copy::parse(sql) {
        return Ok(match copy? {
            Copy::In(copy_in) => Request::CopyIn(copy_in),
            Copy::Out { query, options } => Request::CopyOut { query: engine.prepare(&query)?, options },
        });
    }
    Ok(Request::Engine(engine.prepare(sql)?))
}

impl Request {
    /// What the role running the request must be allowed to do (statements about roles check
    /// their own rules).
    pub(crate) fn privilege(&self) -> Privilege {
        match self {
            Request::Session(_) | Request::Roles(_) => Privilege::None,
            Request::CopyIn(_) => Privilege::Write,
            Request::CopyOut { query, .. } | Request::Engine(query) => query.privilege(),
        }
    }
}

/// Runs `statement` for `role` in `session` with `params` bound: checked against the role's
/// privileges as they are now, and, unless it writes, cancelled after `timeout` (a write that
/// has started commits whatever the client does, so a timeout would report it cancelled while
/// it commits). A panic while it runs (DataFusion re-raises one from its scan threads) is an
/// internal error the client is told of, not a lost connection.
pub(crate) async fn run(
    engine: &Engine,
    auth: &Auth,
    role: &str,
    session: &Session,
    statement: &Statement,
    params: &[ScalarValue],
    timeout: Option<Duration>,
) -> Result<Output, Refusal> {
    auth.check(role, statement.privilege())?;
    let running = unpanicked(engine.execute(session, statement, params));
    match timeout.filter(|_| statement.privilege() != Privilege::Write) {
        Some(limit) => tokio::time::timeout(limit, running)
            .await
            .map_err(|_| Refusal::new(SqlState::QueryCanceled, "canceling statement due to statement timeout"))?,
        None => running.await,
    }
}

/// The outcome of `running`, where a panic while it runs is an internal error.
async fn unpanicked(running: impl Future<Output = cairn_engine::Result<Output>>) -> Result<Output, Refusal> {
    match AssertUnwindSafe(running).catch_unwind().await {
        Ok(output) => Ok(output?),
        Err(panic) => {
            let said = panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str));
            Err(Refusal::new(SqlState::InternalError, format!("internal error: {}", said.unwrap_or("a task panicked"))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_while_a_statement_runs_is_an_internal_error() {
        let refusal = unpanicked(async { panic!("a scan went wrong") }).await.expect_err("it panicked");
        assert_eq!(refusal, Refusal::new(SqlState::InternalError, "internal error: a scan went wrong"));
        let ok = unpanicked(async { Ok(Output::Done { tag: "SELECT", count: 0 }) }).await;
        assert!(matches!(ok, Ok(Output::Done { tag: "SELECT", count: 0 })));
    }
}
