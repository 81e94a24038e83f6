//! Why a statement or request was refused, in the one form both frontends report: the
//! SQLSTATE a PostgreSQL client is sent (from which REST derives its HTTP status and error
//! type) and a message a user can act on.

use cairn_engine::{EngineError, SqlState};

use crate::auth::AuthError;

/// A refusal: its SQLSTATE and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// PostgreSQL's code for it.
    pub state: SqlState,
    /// What went wrong.
    pub message: String,
}

impl Refusal {
    /// A refusal with `state` and `message`.
    pub fn new(state: SqlState, message: impl Into<String>) -> Refusal {
        Refusal { state, message: message.into() }
    }
}

impl From<EngineError> for Refusal {
    fn from(e: EngineError) -> Refusal {
        Refusal::new(e.sqlstate(), e.to_string())
    }
}

impl From<AuthError> for Refusal {
    fn from(e: AuthError) -> Refusal {
        Refusal::new(e.sqlstate(), e.to_string())
    }
}
