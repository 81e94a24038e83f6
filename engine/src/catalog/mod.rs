//! The catalog SQL sees: Cairn's workspaces as schemas and their collections as tables, read
//! from the store on every lookup, beside PostgreSQL's system schemas (`pg_catalog`,
//! `information_schema`) for the tools that read them; and `DESCRIBE`, a collection's smart
//! schema as a result set.

mod describe;
mod information_schema;
pub(crate) mod pg_catalog;
mod workspaces;

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{visit_relations, ObjectName};

pub(crate) use describe::describe;
pub(crate) use information_schema::{InformationSchema, INFORMATION_SCHEMA};
pub(crate) use workspaces::CairnCatalog;

/// The schemas that are not workspaces.
pub(crate) const SYSTEM_SCHEMAS: &[&str] = &[pg_catalog::PG_CATALOG, INFORMATION_SCHEMA];

/// Whether a statement reads PostgreSQL's system catalog (`pg_catalog`, `information_schema`):
/// the queries tools send, written for PostgreSQL's SQL and typing.
pub(crate) fn reads_catalog(statement: &DFStatement) -> bool {
    let DFStatement::Statement(s) = statement else { return false };
    visit_relations(s.as_ref(), |name| if is_system(name) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) })
        .is_break()
}

/// `pg_catalog.x`, `information_schema.x`, or an unqualified `pg_x` (PostgreSQL searches
/// pg_catalog first).
pub(crate) fn is_system(name: &ObjectName) -> bool {
    let first = name.0.first().and_then(|p| p.as_ident()).map(|i| i.value.to_ascii_lowercase());
    match (name.0.len(), first.as_deref()) {
        (1, Some(n)) => n.starts_with("pg_"),
        (_, first) => first.is_some_and(|f| SYSTEM_SCHEMAS.contains(&f)),
    }
}
