//! The store: workspaces containing collections, laid out on disk as
//! `<root>/workspaces/<workspace>/<collection>/` (a `collection.json` with the settings and one
//! directory per shard). The default workspace `commons` always exists. Dropped collections
//! and workspaces are first moved to `<root>/trash/` (atomic), then deleted; whatever a
//! reader still held open is deleted at the next open.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::collection::{Collection, CollectionConfig};
use crate::error::{ObjectKind, Result, StorageError};
use crate::roles::Access;
use crate::shard::{poisoned, SharedResources};

/// The workspace every store has.
pub const DEFAULT_WORKSPACE: &str = "commons";
const CONFIG_FILE: &str = "collection.json";

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Bytes of block cache shared by all shards.
    pub cache_bytes: usize,
    /// Bytes of pending value postings per shard at which they are folded into the search
    /// index (see [`pending`](crate::index::pending)).
    pub pending_fold_bytes: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { cache_bytes: 512 << 20, pending_fold_bytes: crate::index::pending::FOLD_BYTES }
    }
}

type Workspaces = BTreeMap<String, BTreeMap<String, Arc<Collection>>>;

/// All workspaces and collections under one data directory.
pub struct Store {
    root: PathBuf,
    res: SharedResources,
    workspaces: RwLock<Workspaces>,
    access: Access,
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> StorageError {
    move |source| StorageError::Io { context, source }
}

/// Checks a workspace or collection name: 1–100 ASCII letters, digits, `_` or `-`, not
/// starting with `-`.
pub fn validate_name(kind: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('-')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(StorageError::InvalidArgument(format!(
            "{kind} name '{name}' must be 1-100 ASCII letters, digits, '_' or '-', not starting with '-'"
        )))
    }
}

impl Store {
    /// Opens the store at `root`, creating it (with workspace `commons`) if needed.
    pub fn open(root: &Path, options: StoreOptions) -> Result<Store> {
        let ws_dir = root.join("workspaces");
        fs::create_dir_all(ws_dir.join(DEFAULT_WORKSPACE)).map_err(io(format!("creating {}", ws_dir.display())))?;
        let trash = root.join("trash");
        if trash.exists() {
            fs::remove_dir_all(&trash).map_err(io(format!("emptying {}", trash.display())))?;
        }
        let res = SharedResources::new(options.cache_bytes, options.pending_fold_bytes);
        let mut workspaces = Workspaces::new();
        for ws in read_dirs(&ws_dir)? {
            let mut colls = BTreeMap::new();
            for coll in read_dirs(&ws_dir.join(&ws))? {
                let dir = ws_dir.join(&ws).join(&coll);
                let cfg_path = dir.join(CONFIG_FILE);
                let text = match fs::read_to_string(&cfg_path) {
                    Ok(t) => t,
                    // A directory without settings is a creation that never finished.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io(format!("reading {}", cfg_path.display()))(e)),
                };
                let config: CollectionConfig = serde_json::from_str(&text)
                    .map_err(|e| crate::error::corrupt("collection settings", format!("{}: {e}", cfg_path.display())))?;
                colls.insert(coll, Arc::new(Collection::open(&dir, config, &res)?));
            }
            workspaces.insert(ws, colls);
        }
        let access = Access::open(root)?;
        Ok(Store { root: root.to_owned(), res, workspaces: RwLock::new(workspaces), access })
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The store's roles and API keys.
    pub fn access(&self) -> &Access {
        &self.access
    }

    fn ws_dir(&self, ws: &str) -> PathBuf {
        self.root.join("workspaces").join(ws)
    }

    /// Workspace names, sorted.
    pub fn workspaces(&self) -> Result<Vec<String>> {
        Ok(self.workspaces.read().map_err(poisoned)?.keys().cloned().collect())
    }

    /// Creates a workspace.
    pub fn create_workspace(&self, name: &str) -> Result<()> {
        validate_name("workspace", name)?;
        // As in PostgreSQL, where workspaces are schemas: these names are the system's.
        if name.to_ascii_lowercase().starts_with("pg_") || name.eq_ignore_ascii_case("information_schema") {
            return Err(StorageError::InvalidArgument(format!("workspace name '{name}' is reserved for system schemas")));
        }
        let mut w = self.workspaces.write().map_err(poisoned)?;
        if w.contains_key(name) {
            return Err(StorageError::AlreadyExists { kind: ObjectKind::Workspace, name: name.into() });
        }
        fs::create_dir_all(self.ws_dir(name)).map_err(io(format!("creating workspace {name}")))?;
        w.insert(name.to_owned(), BTreeMap::new());
        Ok(())
    }

    /// Drops a workspace; it must be empty unless `cascade`.
    pub fn drop_workspace(&self, name: &str, cascade: bool) -> Result<()> {
        if name == DEFAULT_WORKSPACE {
            return Err(StorageError::InvalidArgument(format!("the workspace '{DEFAULT_WORKSPACE}' cannot be dropped")));
        }
        let mut w = self.workspaces.write().map_err(poisoned)?;
        let colls = w.get(name).ok_or_else(|| StorageError::NotFound { kind: ObjectKind::Workspace, name: name.into() })?;
        if !colls.is_empty() && !cascade {
            return Err(StorageError::InvalidArgument(format!(
                "workspace '{name}' still has {} collection(s); drop them first or cascade",
                colls.len()
            )));
        }
        w.remove(name);
        self.discard(&self.ws_dir(name))
    }

    /// Moves a directory to the trash, then deletes it unless something still has it open.
    fn discard(&self, dir: &Path) -> Result<()> {
        let trash = self.root.join("trash");
        fs::create_dir_all(&trash).map_err(io(format!("creating {}", trash.display())))?;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let target = trash.join(format!("{nanos}"));
        fs::rename(dir, &target).map_err(io(format!("moving {} to the trash", dir.display())))?;
        // A reader holding the collection may still write files there; the next open empties the trash.
        let _ = fs::remove_dir_all(&target);
        Ok(())
    }

    /// Collection names in a workspace, sorted.
    pub fn collections(&self, ws: &str) -> Result<Vec<String>> {
        let w = self.workspaces.read().map_err(poisoned)?;
        let colls = w.get(ws).ok_or_else(|| StorageError::NotFound { kind: ObjectKind::Workspace, name: ws.into() })?;
        Ok(colls.keys().cloned().collect())
    }

    /// Creates a collection.
    pub fn create_collection(&self, ws: &str, name: &str, config: CollectionConfig) -> Result<Arc<Collection>> {
        validate_name("collection", name)?;
        let mut w = self.workspaces.write().map_err(poisoned)?;
        let colls = w.get_mut(ws).ok_or_else(|| StorageError::NotFound { kind: ObjectKind::Workspace, name: ws.into() })?;
        if colls.contains_key(name) {
            return Err(StorageError::AlreadyExists { kind: ObjectKind::Collection, name: format!("{ws}.{name}") });
        }
        let dir = self.ws_dir(ws).join(name);
        if dir.exists() {
            // Left over from an interrupted creation or drop.
            fs::remove_dir_all(&dir).map_err(io(format!("clearing {}", dir.display())))?;
        }
        fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
        let coll = Arc::new(Collection::open(&dir, config.clone(), &self.res)?);
        let text = serde_json::to_string_pretty(&config).map_err(|e| StorageError::InvalidArgument(e.to_string()))?;
        let tmp = dir.join(format!("{CONFIG_FILE}.tmp"));
        fs::write(&tmp, text).map_err(io(format!("writing {}", tmp.display())))?;
        fs::rename(&tmp, dir.join(CONFIG_FILE)).map_err(io(format!("installing {}", tmp.display())))?;
        colls.insert(name.to_owned(), Arc::clone(&coll));
        Ok(coll)
    }

    /// Drops a collection and deletes its data.
    pub fn drop_collection(&self, ws: &str, name: &str) -> Result<()> {
        let mut w = self.workspaces.write().map_err(poisoned)?;
        let colls = w.get_mut(ws).ok_or_else(|| StorageError::NotFound { kind: ObjectKind::Workspace, name: ws.into() })?;
        let coll = colls
            .remove(name)
            .ok_or_else(|| StorageError::NotFound { kind: ObjectKind::Collection, name: format!("{ws}.{name}") })?;
        let dir = coll.dir().to_owned();
        drop(coll);
        self.discard(&dir)
    }

    /// An open collection.
    pub fn collection(&self, ws: &str, name: &str) -> Result<Arc<Collection>> {
        let w = self.workspaces.read().map_err(poisoned)?;
        let colls = w.get(ws).ok_or_else(|| StorageError::NotFound { kind: ObjectKind::Workspace, name: ws.into() })?;
        colls
            .get(name)
            .cloned()
            .ok_or_else(|| StorageError::NotFound { kind: ObjectKind::Collection, name: format!("{ws}.{name}") })
    }
}

fn read_dirs(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(format!("listing {}", dir.display())))? {
        let entry = entry.map_err(io(format!("listing {}", dir.display())))?;
        if entry.path().is_dir() {
            if let Some(name) = entry.file_name().to_str() {
                out.push(name.to_owned());
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspaces_and_collections_persist() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
            store.create_workspace("ws1").unwrap();
            let c = store.create_collection("ws1", "events", CollectionConfig { shards: 3, ..Default::default() }).unwrap();
            c.insert(crate::Value::from_json_str(r#"{"_id":"a","x":1}"#).unwrap()).unwrap();
            assert!(matches!(store.create_workspace("ws1"), Err(StorageError::AlreadyExists { .. })));
            assert!(store.create_collection("ws1", "bad name", CollectionConfig::default()).is_err());
            assert!(store.drop_workspace("ws1", false).is_err());
        }
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        assert_eq!(store.workspaces().unwrap(), vec!["commons", "ws1"]);
        let c = store.collection("ws1", "events").unwrap();
        assert_eq!(c.config().shards, 3);
        assert!(c.get("a").unwrap().is_some());
        store.drop_collection("ws1", "events").unwrap();
        assert!(matches!(store.collection("ws1", "events"), Err(StorageError::NotFound { .. })));
        store.drop_workspace("ws1", false).unwrap();
        assert!(store.drop_workspace(DEFAULT_WORKSPACE, true).is_err());
    }
}
