//! # cairn-engine
//!
//! Cairn's SQL engine on Apache DataFusion: the catalog (workspaces as schemas, collections as
//! tables, schemas derived from each collection's smart schema), the table provider and scan
//! operators that read the converged index, the statements DataFusion does not know
//! (workspace and collection DDL, schemaless `INSERT`, `UPDATE`, `DELETE`), and the
//! dynamic-typing functions.
//!
//! The modules follow a statement's stages, each using only those before it: `sql` (text
//! and syntax before DataFusion), `types` (values of any type in Arrow), `functions`, `scan`
//! (reading collections by the cheapest access path), `plan` (planning hooks, logical
//! rewrites, kept plans), `catalog` (schemas and tables, PostgreSQL's system catalog) and
//! `engine`, which runs statements through them. `ARCHITECTURE.md` at the repository's top
//! draws the map.

mod catalog;
mod engine;
mod error;
mod functions;
mod output;
mod plan;
mod scan;
mod session;
mod sql;
#[cfg(test)]
mod testing;
mod types;

pub use catalog::pg_catalog::SERVER_VERSION;
pub use engine::{Engine, Privilege, Statement};
pub use error::{EngineError, Result, SqlState};
pub use output::{Description, Output};
pub use session::{ReadFence, Session};
pub use sql::split_statements;
pub use types::variant::{variant_scalar, JSON_COLUMN};
