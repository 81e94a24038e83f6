//! Who may use the store: roles (with their privileges and SCRAM-SHA-256 secrets) and API
//! keys (stored as hashes), kept in `<root>/access.json`. Every change is written to a
//! temporary file, synced and renamed into place, so a crash leaves the old or the new state,
//! never a mix. This module only keeps what it is given: hashing and checking secrets is the
//! server's business.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

use crate::error::{corrupt, Result, StorageError};
use crate::shard::poisoned;

/// The superuser every store has.
pub const SUPERUSER: &str = "cairn";
const FILE: &str = "access.json";

/// A role's SCRAM-SHA-256 secret, as PostgreSQL keeps it: what the server needs to check a
/// client's proof, which is not enough to make one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScramSecret {
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// Salt, base64.
    pub salt: String,
    /// RFC 5802's StoredKey, base64.
    pub stored_key: String,
    /// RFC 5802's ServerKey, base64.
    pub server_key: String,
}

/// A role: who it is allowed to be and what it may do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Role {
    /// May do anything, including managing roles and keys.
    pub superuser: bool,
    /// May open PostgreSQL sessions.
    pub login: bool,
    /// May read every collection (membership in `pg_read_all_data`).
    pub read: bool,
    /// May write documents and create or drop collections and workspaces (membership in
    /// `pg_write_all_data`).
    pub write: bool,
    /// Password secret; None when the role has no password.
    pub scram: Option<ScramSecret>,
    /// Creation time, microseconds since the epoch.
    pub created_at: i64,
}

impl Role {
    /// Whether the role may read collections.
    pub fn can_read(&self) -> bool {
        self.superuser || self.read
    }

    /// Whether the role may write documents and define collections.
    pub fn can_write(&self) -> bool {
        self.superuser || self.write
    }
}

/// An API key: a secret that acts as its role over REST. Only its hash is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Name, unique for its role.
    pub name: String,
    /// The role the key acts as.
    pub role: String,
    /// SHA-256 of the key, hex.
    pub hash: String,
    /// The key's last four characters, to tell keys apart in listings.
    pub suffix: String,
    /// Creation time, microseconds since the epoch.
    pub created_at: i64,
}

/// Everything `access.json` holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessState {
    /// Roles by name.
    pub roles: BTreeMap<String, Role>,
    /// API keys, in creation order.
    pub api_keys: Vec<ApiKey>,
}

/// The roles and keys of one store.
pub struct Access {
    path: PathBuf,
    state: RwLock<AccessState>,
}

impl Access {
    /// Loads `<root>/access.json`, creating it with the superuser [`SUPERUSER`] (without a
    /// password) when missing.
    pub fn open(root: &Path) -> Result<Access> {
        let path = root.join(FILE);
        let state = match fs::read_to_string(&path) {
            Ok(text) => {
                serde_json::from_str(&text).map_err(|e| corrupt("access settings", format!("{}: {e}", path.display())))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut state = AccessState::default();
                let superuser = Role { superuser: true, login: true, read: true, write: true, ..Role::default() };
                state.roles.insert(SUPERUSER.to_owned(), superuser);
                write_atomically(&path, &state)?;
                state
            }
            Err(source) => return Err(StorageError::Io { context: format!("reading {}", path.display()), source }),
        };
        Ok(Access { path, state: RwLock::new(state) })
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> Result<AccessState> {
        Ok(self.state.read().map_err(poisoned)?.clone())
    }

    /// The role named `name`, if it exists.
    pub fn role(&self, name: &str) -> Result<Option<Role>> {
        Ok(self.state.read().map_err(poisoned)?.roles.get(name).cloned())
    }

    /// Changes the state with `change`, then makes the result durable; when `change` fails or
    /// the write does, nothing changes.
    pub fn update<T, E: From<StorageError>>(&self, change: impl FnOnce(&mut AccessState) -> Result<T, E>) -> Result<T, E> {
        let mut guard = self.state.write().map_err(poisoned)?;
        let mut next = guard.clone();
        let out = change(&mut next)?;
        write_atomically(&self.path, &next)?;
        *guard = next;
        Ok(out)
    }
}

/// Writes `state` to a temporary file beside `path`, syncs it, and renames it over `path`.
fn write_atomically(path: &Path, state: &AccessState) -> Result<()> {
    let io = |what: &str| {
        let context = format!("{what} {}", path.display());
        move |source| StorageError::Io { context, source }
    };
    let text = serde_json::to_vec_pretty(state).map_err(|e| StorageError::InvalidArgument(e.to_string()))?;
    let tmp = path.with_extension("json.tmp");
    // Secrets: readable by the server's user only.
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io("creating a temporary file for"))?;
    file.write_all(&text).map_err(io("writing"))?;
    file.sync_all().map_err(io("syncing"))?;
    fs::rename(&tmp, path).map_err(io("installing"))?;
    // Installed: the change holds from here. Should the directory not sync, it still
    // survives a crash of the process (if not of the machine); reporting a failure now would
    // leave memory and disk disagreeing.
    if let Some(dir) = path.parent() {
        let _synced = fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_keys_persist_and_failed_changes_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        {
            let access = Access::open(dir.path()).unwrap();
            assert!(access.role(SUPERUSER).unwrap().unwrap().superuser);
            access
                .update(|s| -> Result<()> {
                    s.roles.insert("app".into(), Role { login: true, read: true, ..Role::default() });
                    Ok(())
                })
                .unwrap();
            let failed: Result<()> = access.update(|s| -> Result<()> {
                s.roles.clear();
                Err(StorageError::InvalidArgument("no".into()))
            });
            assert!(failed.is_err());
        }
        let access = Access::open(dir.path()).unwrap();
        let app = access.role("app").unwrap().unwrap();
        assert!(app.can_read() && !app.can_write());
        assert_eq!(access.snapshot().unwrap().roles.len(), 2);
    }
}
