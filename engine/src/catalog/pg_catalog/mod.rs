//! PostgreSQL's system catalog, for the tools that read it: psql's `\d` commands, drivers'
//! metadata calls (JDBC `getTables`, SQLAlchemy's inspector) and BI tools' connect-time
//! queries. `datafusion-pg-catalog` provides the `pg_catalog` schema (built from the catalog
//! on each read, so new collections and fields appear at once), its functions, and the
//! rewrite of PostgreSQL-only SQL those tools send. Cairn adjusts what is its own: variant
//! columns are `jsonb` ([`tables`]), the current schema is the session's workspace and
//! `version()` names the PostgreSQL release Cairn speaks for ([`functions`]), and catalog
//! queries are adapted to what DataFusion plans ([`rewrite`]). Cairn's write path shows its
//! figures there too, in `pg_stat_ingest` ([`ingest_stats`]), and its sources theirs in
//! `pg_stat_sources` ([`source_stats`]).

mod functions;
mod ingest_stats;
mod rewrite;
mod source_stats;
mod tables;

use std::sync::Arc;

use cairn_connectors::Ingest;
use datafusion::execution::registry::FunctionRegistry;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_pg_catalog::pg_catalog::{PgCatalogSchemaProvider, PgCatalogStaticTables};
use datafusion_pg_catalog::setup_pg_catalog;

pub(crate) use functions::session_user;
pub use functions::SERVER_VERSION;
pub(crate) use ingest_stats::names_live_stats;
pub(crate) use rewrite::adapt_catalog_query;

use crate::error::{EngineError, Result};
use crate::plan::expr_planner::CairnTypes;
use rewrite::LikeEscape;
use tables::{CairnColumns, PgCatalog};

/// The schema name.
pub(crate) const PG_CATALOG: &str = "pg_catalog";

/// Installs `pg_catalog` into catalog `catalog` of `ctx`, with its functions; its
/// `pg_stat_ingest` reads the pipelines of `ingest`.
pub(crate) fn install(ctx: &SessionContext, catalog: &str, ingest: &Arc<Ingest>) -> Result<()> {
    setup_pg_catalog(ctx, catalog, EmptyContextProvider).map_err(|e| EngineError::DataFusion(*e))?;
    // pg_catalog installs its own type planner; Cairn's reads JSON types and defers to it.
    let state = ctx.state_ref();
    let existing = state.read().clone();
    *state.write() = SessionStateBuilder::new_from_existing(existing).with_type_planner(Arc::new(CairnTypes::default())).build();
    // The schema again, reading collections' columns as Cairn types them.
    let columns = CairnColumns(ctx.state().catalog_list().clone());
    let tables = PgCatalogStaticTables::try_new()?;
    let inner = Arc::new(PgCatalogSchemaProvider::try_new(columns, Arc::new(tables), EmptyContextProvider)?);
    let catalog = ctx.catalog(catalog).ok_or_else(|| EngineError::Invalid(format!("no catalog {catalog}")))?;
    catalog.register_schema(PG_CATALOG, Arc::new(PgCatalog { inner, ingest: Arc::clone(ingest) }))?;
    ctx.state_ref().write().register_function_rewrite(Arc::new(LikeEscape))?;
    for udf in functions::all() {
        ctx.register_udf(udf);
    }
    Ok(())
}
