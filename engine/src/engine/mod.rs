//! The engine: a DataFusion session over a store's catalog, and the entry points that take one
//! SQL statement through its stages. [`Engine::prepare`] parses and classifies it once
//! ([`statement`]); the privilege check, [`Engine::describe`] and [`Engine::execute`] all work
//! from that one value. Cairn's own statements (DDL, schemaless writes, `DESCRIBE`) run here
//! ([`ddl`], [`write`]); everything else is planned and run by DataFusion ([`query`]).

mod ddl;
mod fence;
mod query;
mod setup;
mod statement;
mod write;

use std::sync::Arc;

use cairn_connectors::{CollectionPipeline, Ingest};
use cairn_storage::{Collection, Store, Value, WriteOp, DEFAULT_WORKSPACE};
use datafusion::common::ScalarValue;
use datafusion::execution::context::SessionContext;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::SessionState;
use datafusion::sql::sqlparser::ast::ObjectName;
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;

pub use statement::{Privilege, Statement};

use crate::catalog::describe;
use crate::error::Result;
use crate::output::{Description, Output};
use crate::plan::plan_cache::PlanCache;
use crate::session::Session;
use crate::sql::{object_table_name, TableName};
use crate::types::collection_schema::columns;
use statement::Kind;

/// Name of the one catalog (database) a Cairn server has.
pub(crate) const CATALOG: &str = "cairn";

/// Runs SQL over a store; its writes go through the store's write path.
pub struct Engine {
    store: Arc<Store>,
    ingest: Arc<Ingest>,
    ctx: SessionContext,
    /// The session state queries of the system catalog are planned in (see
    /// [`crate::catalog::reads_catalog`]).
    catalog_state: SessionState,
    plans: PlanCache,
    /// Rewrites PostgreSQL-only SQL (catalog casts and operators, tools' catalog queries).
    compat: PostgresCompatibilityParser,
}

impl Engine {
    /// An engine over the store `ingest` writes to, with `commons` as the default schema.
    pub fn new(ingest: Arc<Ingest>) -> Engine {
        Engine::with_runtime(ingest, Arc::new(RuntimeEnv::default()))
    }

    /// An engine whose queries together hold at most `bytes` of memory for their operators
    /// (sorts, hash tables); a query needing more fails with SQLSTATE 53200.
    pub fn with_memory_limit(ingest: Arc<Ingest>, bytes: usize) -> Result<Engine> {
        let runtime = RuntimeEnvBuilder::new().with_memory_limit(bytes, 1.0).build_arc()?;
        Ok(Engine::with_runtime(ingest, runtime))
    }

    fn with_runtime(ingest: Arc<Ingest>, runtime: Arc<RuntimeEnv>) -> Engine {
        let store = Arc::clone(ingest.store());
        let (ctx, catalog_state) = setup::contexts(&ingest, runtime);
        Engine { store, ingest, ctx, catalog_state, plans: PlanCache::default(), compat: PostgresCompatibilityParser::new() }
    }

    /// Runs one SQL statement in the default session, without parameters.
    pub async fn sql(&self, sql: &str) -> Result<Output> {
        let statement = self.prepare(sql)?;
        self.execute(&Session::default(), &statement, &[]).await
    }

    /// Runs `statement` in `session`, with `params` as the values of `$1`, `$2`, …. The caller
    /// has checked [`Statement::privilege`] against the role running it.
    pub async fn execute(&self, session: &Session, statement: &Statement, params: &[ScalarValue]) -> Result<Output> {
        let call = query::Call { session, hint: statement.hint, params };
        match &statement.kind {
            Kind::Ddl(ddl) => self.run_ddl(session, ddl),
            Kind::Insert(insert) => self.insert(call, insert).await,
            Kind::Modify(modify) => self.modify(call, modify).await,
            Kind::Describe(name) => self.describe_table(session, name),
            Kind::Query(parsed) => self.run_query(call, &statement.text, parsed).await,
        }
    }

    /// What `statement` takes and returns, without running it: its parameters' types and its
    /// result set's columns, as [`Self::execute`] would produce them.
    pub async fn describe(&self, session: &Session, statement: &Statement) -> Result<Description> {
        let call = query::Call { session, hint: statement.hint, params: &[] };
        match &statement.kind {
            Kind::Ddl(_) => Ok(Description::default()),
            Kind::Insert(insert) => self.describe_query(call, &insert.query, false).await,
            Kind::Modify(modify) => self.describe_query(call, &modify.query, false).await,
            Kind::Describe(name) => {
                let Output::Rows { schema, .. } = self.describe_table(session, name)? else {
                    return Ok(Description::default());
                };
                Ok(Description { params: Vec::new(), columns: Some(schema) })
            }
            Kind::Query(parsed) => self.describe_query(call, parsed, true).await,
        }
    }

    /// How many times a statement ran from a kept plan instead of being planned anew.
    pub fn kept_plan_hits(&self) -> u64 {
        self.plans.hits()
    }

    /// Inserts `docs` into collection `name` (`coll` or `ws.coll`, as in SQL) in `session`:
    /// how bulk loads (`COPY … FROM STDIN`) write. Each document lands on its own; the error
    /// counts those that did not.
    pub async fn insert_documents(&self, session: &Session, name: &ObjectName, docs: Vec<Value>) -> Result<u64> {
        let pipeline = self.pipeline(session, name)?;
        match write::write_all(pipeline, docs.into_iter().map(WriteOp::Insert).collect(), "INSERT").await? {
            Output::Done { count, .. } => Ok(count),
            Output::Rows { .. } => Ok(0),
        }
    }

    /// The columns of collection `name` in `session`, as `SELECT *` returns them.
    pub fn collection_columns(&self, session: &Session, name: &ObjectName) -> Result<Vec<String>> {
        Ok(columns(&self.collection(session, name)?.stats()).into_iter().map(|c| c.name).collect())
    }

    fn collection(&self, session: &Session, name: &ObjectName) -> Result<Arc<Collection>> {
        let name = object_table_name(name)?;
        Ok(self.store.collection(&self.workspace_of(session, &name), &name.collection)?)
    }

    /// The write path of collection `name` in `session`.
    fn pipeline(&self, session: &Session, name: &ObjectName) -> Result<Arc<CollectionPipeline>> {
        let name = object_table_name(name)?;
        self.table_pipeline(session, &name)
    }

    fn table_pipeline(&self, session: &Session, name: &TableName) -> Result<Arc<CollectionPipeline>> {
        Ok(self.ingest.collection(&self.workspace_of(session, name), &name.collection)?)
    }

    /// `DESCRIBE coll`.
    fn describe_table(&self, session: &Session, table_name: &ObjectName) -> Result<Output> {
        describe(&self.collection(session, table_name)?.stats())
    }

    /// The workspace `name` is in: its own, else the session's, else the server's default.
    fn workspace_of(&self, session: &Session, name: &TableName) -> String {
        name.workspace.clone().or_else(|| session.workspace.clone()).unwrap_or_else(|| DEFAULT_WORKSPACE.to_owned())
    }
}
