//! What a statement runs under besides its text: the connection's settings that change how
//! names resolve, and the values of its parameters (`$1`, `$2`, … from a prepared statement).

use arrow_schema::{DataType, SchemaRef};
use datafusion::common::ScalarValue;

/// Per-connection settings a statement is planned under.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Session {
    /// The workspace unqualified collection names resolve in (PostgreSQL's `search_path`);
    /// None for the server's default workspace.
    pub workspace: Option<String>,
    /// The role running the statement (`session_user`, `current_user`); None for the
    /// superuser.
    pub user: Option<String>,
}

/// What a prepared statement takes and returns, known before it runs.
#[derive(Debug, Clone, Default)]
pub struct Description {
    /// The type of each parameter, `$1` first; None where the statement does not decide it
    /// (the value then keeps the type the client sends, text by default).
    pub params: Vec<Option<DataType>>,
    /// The columns of its result set; None for a statement without one.
    pub columns: Option<SchemaRef>,
}

/// One statement's context: its session, access-path hint and parameter values.
#[derive(Clone, Copy)]
pub(crate) struct Call<'a> {
    pub session: &'a Session,
    pub hint: Option<crate::sql::Hint>,
    pub params: &'a [ScalarValue],
}
