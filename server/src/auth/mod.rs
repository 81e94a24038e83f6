//! Who is asking and what they may do, for both frontends: roles log in over PostgreSQL (with
//! SCRAM-SHA-256 when they have a password, or without one from this machine only) and API
//! keys stand for their role over REST. Each statement is checked against its role's
//! privileges as they are when it runs, so a revoked privilege takes effect at once.

pub(crate) mod scram;
pub(crate) mod secrets;
pub(crate) mod statements;

use std::sync::Arc;

use cairn_engine::{Privilege, SqlState};
use cairn_storage::{Role, StorageError, Store};

pub(crate) use cairn_storage::SUPERUSER;

/// Why a request or statement was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthError {
    /// The role does not exist (any more).
    #[error("role \"{0}\" does not exist")]
    NoRole(String),
    /// The role lacks a privilege.
    #[error("permission denied: role \"{role}\" may not {what}")]
    Denied {
        /// The role refused.
        role: String,
        /// What it may not do (and how to allow it).
        what: &'static str,
    },
    /// The statement is malformed or asks for something impossible.
    #[error("{0}")]
    Invalid(String),
    /// The named role or key already exists.
    #[error("{0} already exists")]
    Exists(String),
    /// The named key does not exist.
    #[error("{0} does not exist")]
    Missing(String),
    /// Reading or writing the access settings failed.
    #[error("{0}")]
    Storage(#[from] StorageError),
    /// Making a secret failed.
    #[error("{0}")]
    Random(#[from] secrets::RandomFailed),
}

impl AuthError {
    /// The SQLSTATE a client is told.
    pub(crate) fn sqlstate(&self) -> SqlState {
        match self {
            AuthError::NoRole(_) | AuthError::Missing(_) => SqlState::UndefinedObject,
            AuthError::Denied { .. } => SqlState::InsufficientPrivilege,
            AuthError::Invalid(_) => SqlState::InvalidParameterValue,
            AuthError::Exists(_) => SqlState::DuplicateObject,
            AuthError::Storage(e) => SqlState::from(e),
            AuthError::Random(_) => SqlState::InternalError,
        }
    }
}

/// The roles and keys of a store, and the checks made with them.
#[derive(Clone)]
pub(crate) struct Auth {
    store: Arc<Store>,
}

impl Auth {
    /// Checks against the roles and keys kept in `store`.
    pub(crate) fn new(store: Arc<Store>) -> Auth {
        Auth { store }
    }

    /// The role named `name`.
    pub(crate) fn role(&self, name: &str) -> Result<Role, AuthError> {
        self.store.access().role(name)?.ok_or_else(|| AuthError::NoRole(name.to_owned()))
    }

    /// Whether the superuser has a password. Only then may the server listen beyond loopback
    /// (passwordless roles are refused to other machines anyway, see `pg::startup`), and
    /// only until then are REST requests without a key from this machine taken as its.
    pub(crate) fn superuser_has_password(&self) -> Result<bool, AuthError> {
        Ok(self.role(SUPERUSER)?.scram.is_some())
    }

    /// Checks that role `name` may run a statement needing `needed`.
    pub(crate) fn check(&self, name: &str, needed: Privilege) -> Result<(), AuthError> {
        let role = self.role(name)?;
        let (allowed, what) = match needed {
            Privilege::None => (true, ""),
            Privilege::Read => (role.can_read(), "read collections (GRANT pg_read_all_data to it)"),
            Privilege::Write => (role.can_write(), "write to collections or define them (GRANT pg_write_all_data to it)"),
        };
        if allowed {
            Ok(())
        } else {
            Err(AuthError::Denied { role: name.to_owned(), what })
        }
    }

    /// Checks that role `name` is a superuser.
    pub(crate) fn check_superuser(&self, name: &str, what: &'static str) -> Result<(), AuthError> {
        if self.role(name)?.superuser {
            Ok(())
        } else {
            Err(AuthError::Denied { role: name.to_owned(), what })
        }
    }

    /// The role an API key acts as; None for a key that does not exist.
    pub(crate) fn role_of_key(&self, key: &str) -> Result<Option<String>, AuthError> {
        let hash = secrets::key_hash(key);
        let state = self.store.access().snapshot()?;
        Ok(state.api_keys.into_iter().find(|k| k.hash == hash).map(|k| k.role))
    }

    /// The store the roles and keys are kept in.
    fn store(&self) -> &Store {
        &self.store
    }
}
