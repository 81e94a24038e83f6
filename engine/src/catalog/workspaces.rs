//! The catalog: Cairn's workspaces are SQL schemas and their collections are tables, read from
//! the store on every lookup so new workspaces, collections and fields appear at once. System
//! schemas (`pg_catalog`) are registered beside them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use cairn_storage::{StorageError, Store};
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use datafusion::error::{DataFusionError, Result as DFResult};

use super::SYSTEM_SCHEMAS;
use crate::error::to_df;
use crate::scan::CollectionTable;

/// Every workspace of a store, as schemas, and the system schemas.
pub(crate) struct CairnCatalog {
    store: Arc<Store>,
    system: RwLock<BTreeMap<String, Arc<dyn SchemaProvider>>>,
}

impl CairnCatalog {
    /// A catalog over `store`.
    pub(crate) fn new(store: Arc<Store>) -> CairnCatalog {
        CairnCatalog { store, system: RwLock::default() }
    }
}

impl fmt::Debug for CairnCatalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CairnCatalog")
    }
}

impl CatalogProvider for CairnCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names = self.store.workspaces().unwrap_or_default();
        names.extend(self.system.read().map(|s| s.keys().cloned().collect::<Vec<_>>()).unwrap_or_default());
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if let Some(system) = self.system.read().ok().and_then(|s| s.get(name).cloned()) {
            return Some(system);
        }
        let exists = self.store.workspaces().ok()?.iter().any(|w| w == name);
        exists.then(|| Arc::new(WorkspaceSchema { store: self.store.clone(), workspace: name.to_owned() }) as _)
    }

    /// Registers a system schema (workspaces are created with `CREATE SCHEMA` instead).
    fn register_schema(&self, name: &str, schema: Arc<dyn SchemaProvider>) -> DFResult<Option<Arc<dyn SchemaProvider>>> {
        if !SYSTEM_SCHEMAS.contains(&name) {
            return Err(DataFusionError::Plan(format!("{name} is not a system schema: create workspaces with CREATE SCHEMA")));
        }
        let mut system = self.system.write().map_err(|_| DataFusionError::Internal("catalog lock poisoned".into()))?;
        Ok(system.insert(name.to_owned(), schema))
    }
}

/// One workspace's collections, as tables.
pub(super) struct WorkspaceSchema {
    store: Arc<Store>,
    workspace: String,
}

impl fmt::Debug for WorkspaceSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkspaceSchema").field("workspace", &self.workspace).finish()
    }
}

#[async_trait]
impl SchemaProvider for WorkspaceSchema {
    fn table_names(&self) -> Vec<String> {
        self.store.collections(&self.workspace).unwrap_or_default()
    }

    async fn table(&self, name: &str) -> DFResult<Option<Arc<dyn TableProvider>>> {
        match self.store.collection(&self.workspace, name) {
            Ok(c) => Ok(Some(Arc::new(CollectionTable::new(&self.workspace, name, c)))),
            Err(StorageError::NotFound { .. }) => Ok(None),
            Err(e) => Err(to_df(e)),
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        self.table_names().iter().any(|t| t == name)
    }
}
