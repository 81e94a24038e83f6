//! Workspace and collection definitions, from SQL (`CREATE/DROP WORKSPACE|COLLECTION|SCHEMA|
//! TABLE`) and from the REST API alike. Each clears the kept plans first: they hold
//! collections open, and a name may mean something else afterwards.

use std::sync::Arc;

use cairn_connectors::SourceError;
use cairn_storage::{Collection, CollectionConfig, StorageError};

use super::Engine;
use crate::error::{EngineError, Result};
use crate::output::Output;
use crate::session::Session;
use crate::sql::Ddl;

impl Engine {
    /// Runs workspace or collection DDL in `session`. `IF NOT EXISTS` forgives only an object
    /// that already exists, `IF EXISTS` only one that does not.
    pub(super) fn run_ddl(&self, session: &Session, ddl: &Ddl) -> Result<Output> {
        let exists_ok = |r: Result<()>, allowed: bool| match r {
            Err(EngineError::Storage(StorageError::AlreadyExists { .. })) if allowed => Ok(()),
            other => other,
        };
        let missing_ok = |r: Result<()>, allowed: bool| match r {
            Err(EngineError::Storage(StorageError::NotFound { .. })) if allowed => Ok(()),
            other => other,
        };
        let tag = match ddl {
            Ddl::CreateWorkspace { name, if_not_exists } => {
                exists_ok(self.create_workspace(name), *if_not_exists)?;
                "CREATE SCHEMA"
            }
            Ddl::DropWorkspace { name, if_exists, cascade } => {
                missing_ok(self.drop_workspace_with(name, *cascade), *if_exists)?;
                "DROP SCHEMA"
            }
            Ddl::CreateCollection { name, if_not_exists, options, source } => {
                let ws = self.workspace_of(session, name);
                let defaults = CollectionConfig::default();
                let config = CollectionConfig {
                    shards: options.shards.unwrap_or(defaults.shards),
                    event_time_field: options.event_time_field.clone(),
                    retention_micros: options.retention_micros,
                    ..defaults
                };
                let created = self.create_collection(&ws, &name.collection, config).map(|_| true);
                let created = match created {
                    Err(EngineError::Storage(StorageError::AlreadyExists { .. })) if *if_not_exists => false,
                    other => other?,
                };
                // A collection that already existed keeps its sources, as PostgreSQL leaves a
                // table that exists alone.
                if let (true, Some(spec)) = (created, source) {
                    if let Err(e) = self.ingest.sources().add(&ws, &name.collection, spec.clone()) {
                        let _ = self.drop_collection(&ws, &name.collection);
                        return Err(source_error(e));
                    }
                }
                "CREATE TABLE"
            }
            Ddl::DropCollection { name, if_exists } => {
                let ws = self.workspace_of(session, name);
                missing_ok(self.drop_collection(&ws, &name.collection), *if_exists)?;
                "DROP TABLE"
            }
        };
        Ok(Output::Done { tag, count: 0 })
    }

    /// Creates workspace `name`.
    pub fn create_workspace(&self, name: &str) -> Result<()> {
        self.plans.clear();
        Ok(self.store.create_workspace(name)?)
    }

    /// Drops the empty workspace `name`.
    pub fn drop_workspace(&self, name: &str) -> Result<()> {
        self.drop_workspace_with(name, false)
    }

    /// Drops workspace `name`, with `cascade` its collections too.
    fn drop_workspace_with(&self, name: &str, cascade: bool) -> Result<()> {
        self.plans.clear();
        if cascade {
            self.ingest.close_workspace(name);
        }
        Ok(self.store.drop_workspace(name, cascade)?)
    }

    /// Creates collection `name` in workspace `ws` with `config`.
    pub fn create_collection(&self, ws: &str, name: &str, config: CollectionConfig) -> Result<Arc<Collection>> {
        self.plans.clear();
        Ok(self.store.create_collection(ws, name, config)?)
    }

    /// Drops collection `name` of workspace `ws` and its documents.
    pub fn drop_collection(&self, ws: &str, name: &str) -> Result<()> {
        self.plans.clear();
        // Its indexer stops and its log refuses writes before its directory goes.
        self.ingest.close(ws, name);
        Ok(self.store.drop_collection(ws, name)?)
    }
}

/// A source's error as the engine's: a wrong definition is the user's, the rest the system's.
pub(super) fn source_error(e: SourceError) -> EngineError {
    match e {
        SourceError::Invalid(m) => EngineError::Storage(StorageError::InvalidArgument(m)),
        SourceError::Ingest(e) => EngineError::Ingest(e),
        other => EngineError::Task(other.to_string()),
    }
}
