//! The catalog: Cairn's workspaces are SQL schemas and their collections are tables, read from
//! the store on every lookup so new workspaces, collections and fields appear at once.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use cairn_storage::{StorageError, Store};
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use datafusion::error::Result as DFResult;

use crate::error::to_df;
use crate::table::CollectionTable;

/// Every workspace of a store, as schemas.
pub struct CairnCatalog {
    store: Arc<Store>,
}

impl CairnCatalog {
    /// A catalog over `store`.
    pub fn new(store: Arc<Store>) -> CairnCatalog {
        CairnCatalog { store }
    }
}

impl fmt::Debug for CairnCatalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CairnCatalog")
    }
}

impl CatalogProvider for CairnCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.store.workspaces().unwrap_or_default()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        let exists = self.store.workspaces().ok()?.iter().any(|w| w == name);
        exists.then(|| Arc::new(WorkspaceSchema { store: self.store.clone(), workspace: name.to_owned() }) as _)
    }
}

/// One workspace's collections, as tables.
pub struct WorkspaceSchema {
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
