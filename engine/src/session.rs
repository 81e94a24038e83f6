//! What a statement runs under besides its text and parameters: the connection's settings
//! that change how names resolve, and the role running it.

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
