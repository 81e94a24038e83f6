//! SQL for roles and API keys, run by the server itself (the engine knows nothing of roles):
//! `CREATE ROLE|USER`, `ALTER ROLE|USER`, `DROP ROLE|USER`, `GRANT|REVOKE pg_read_all_data |
//! pg_write_all_data TO|FROM role`, and Cairn's `CREATE API KEY name [ROLE role]` and
//! `DROP API KEY name [ROLE role]`. Keys are also made over REST (see `http`); both go through
//! [`Auth::create_key`] and [`Auth::drop_key`].

use cairn_storage::document::now_micros;
use cairn_storage::{AccessState, ApiKey, Role, SUPERUSER};
use datafusion::sql::sqlparser::ast::{
    AlterRoleOperation, CreateRole, Expr, Ident, ObjectType, Password, RoleOption, Statement, Value,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::secrets::{key_hash, new_api_key, scram_secret};
use super::{Auth, AuthError};

/// The predefined role granting read access to every collection.
pub(crate) const READ_ALL: &str = "pg_read_all_data";
/// The predefined role granting write access to every collection.
pub(crate) const WRITE_ALL: &str = "pg_write_all_data";

/// A statement about roles or keys.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AuthStatement {
    /// `CREATE ROLE` (or `CREATE USER`, which may log in by default).
    CreateRole {
        /// The new role.
        name: String,
        /// `IF NOT EXISTS`: an existing role is no error.
        if_not_exists: bool,
        /// LOGIN, SUPERUSER, PASSWORD.
        options: Vec<RoleOption>,
        /// Predefined roles it joins (`IN ROLE pg_read_all_data`).
        in_role: Vec<String>,
    },
    /// `ALTER ROLE … [WITH] options`.
    AlterRole {
        /// The role changed.
        name: String,
        /// LOGIN, SUPERUSER, PASSWORD.
        options: Vec<RoleOption>,
    },
    /// `ALTER ROLE … RENAME TO …`.
    RenameRole {
        /// The role's name.
        name: String,
        /// Its new name.
        to: String,
    },
    /// `DROP ROLE [IF EXISTS] a, b` (their API keys go too).
    DropRole {
        /// The roles.
        names: Vec<String>,
        /// `IF EXISTS`: a missing role is no error.
        if_exists: bool,
    },
    /// `GRANT|REVOKE pg_read_all_data|pg_write_all_data TO|FROM role, …`.
    Membership {
        /// GRANT (else REVOKE).
        grant: bool,
        /// The predefined roles granted or revoked.
        privileges: Vec<String>,
        /// The roles given them or losing them.
        roles: Vec<String>,
    },
    /// `CREATE API KEY name [ROLE role]`.
    CreateKey {
        /// The key's name.
        name: String,
        /// The role it acts as; the caller's when None.
        role: Option<String>,
    },
    /// `DROP API KEY name [ROLE role]`.
    DropKey {
        /// The key's name.
        name: String,
        /// Its role; the caller's when None.
        role: Option<String>,
    },
}

/// The columns a new API key is shown in, over SQL and REST alike.
pub(crate) const KEY_COLUMNS: [&str; 3] = ["name", "role", "key"];

/// What running a statement produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Done: the command tag.
    Done(&'static str),
    /// A new API key, shown once.
    Key {
        /// Its name.
        name: String,
        /// The role it acts as.
        role: String,
        /// The key itself.
        key: String,
    },
}

/// Parses `sql` if it is a statement about roles or keys; None when it is something else.
pub(crate) fn parse(sql: &str) -> Option<Result<AuthStatement, AuthError>> {
    let text = sql.trim().trim_end_matches(';').trim();
    let words: Vec<&str> = text.split_whitespace().collect();
    let upper: Vec<String> = words.iter().take(3).map(|w| w.to_ascii_uppercase()).collect();
    let kw: Vec<&str> = upper.iter().map(String::as_str).collect();
    match kw.as_slice() {
        ["CREATE" | "DROP", "API", "KEY"] => Some(parse_key(kw[0] == "CREATE", &words[3..])),
        ["CREATE", "ROLE" | "USER", ..] => Some(parse_create(after_words(text, 2), kw[1] == "USER")),
        // `ALTER USER`/`DROP USER` are `ALTER ROLE`/`DROP ROLE`.
        ["ALTER" | "DROP", "ROLE" | "USER", ..] => Some(parse_sql(&format!("{} ROLE {}", kw[0], after_words(text, 2)))),
        ["GRANT" | "REVOKE", ..] => Some(parse_membership(kw[0] == "GRANT", &words[1..])),
        _ => None,
    }
}

/// `text` after its first `n` whitespace-separated words.
fn after_words(text: &str, n: usize) -> &str {
    let mut rest = text;
    for _ in 0..n {
        rest = rest.trim_start();
        rest = &rest[rest.find(char::is_whitespace).unwrap_or(rest.len())..];
    }
    rest
}

fn unsupported(what: &str) -> AuthError {
    AuthError::Invalid(format!("{what} is not supported"))
}

/// `CREATE ROLE|USER` followed by `rest`; `CREATE USER` is `CREATE ROLE … LOGIN`.
fn parse_create(rest: &str, user: bool) -> Result<AuthStatement, AuthError> {
    let sql = format!("CREATE ROLE {rest}");
    let Statement::CreateRole(c) = parse_one(&sql)? else { return Err(AuthError::Invalid(format!("cannot parse: {sql}"))) };
    let CreateRole { names, if_not_exists, login, password, superuser, in_role, .. } = &c;
    if c.create_db.is_some() || c.create_role.is_some() || c.replication.is_some() || c.bypassrls.is_some() {
        return Err(unsupported("CREATEDB, CREATEROLE, REPLICATION and BYPASSRLS"));
    }
    if c.connection_limit.is_some()
        || c.valid_until.is_some()
        || !c.in_group.is_empty()
        || !c.role.is_empty()
        || !c.admin.is_empty()
        || !c.user.is_empty()
    {
        return Err(unsupported("CONNECTION LIMIT, VALID UNTIL, IN GROUP, ROLE, ADMIN and USER"));
    }
    let [name] = names.as_slice() else { return Err(AuthError::Invalid("create one role at a time".into())) };
    let mut options = vec![RoleOption::Login(login.unwrap_or(user))];
    options.extend(superuser.map(RoleOption::SuperUser));
    options.extend(password.clone().map(RoleOption::Password));
    Ok(AuthStatement::CreateRole {
        name: object_name(name)?,
        if_not_exists: *if_not_exists,
        options,
        in_role: in_role.iter().map(ident).collect(),
    })
}

fn parse_sql(sql: &str) -> Result<AuthStatement, AuthError> {
    match parse_one(sql)? {
        Statement::AlterRole { name, operation: AlterRoleOperation::WithOptions { options } } => {
            Ok(AuthStatement::AlterRole { name: ident(&name), options })
        }
        Statement::AlterRole { name, operation: AlterRoleOperation::RenameRole { role_name } } => {
            Ok(AuthStatement::RenameRole { name: ident(&name), to: ident(&role_name) })
        }
        Statement::AlterRole { .. } => Err(unsupported("this form of ALTER ROLE")),
        Statement::Drop { object_type: ObjectType::Role, if_exists, names, .. } => {
            Ok(AuthStatement::DropRole { names: names.iter().map(object_name).collect::<Result<_, _>>()?, if_exists })
        }
        _ => Err(AuthError::Invalid(format!("cannot parse: {sql}"))),
    }
}

fn parse_one(sql: &str) -> Result<Statement, AuthError> {
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).map_err(|e| AuthError::Invalid(e.to_string()))?;
    match (statements.pop(), statements.is_empty()) {
        (Some(s), true) => Ok(s),
        _ => Err(AuthError::Invalid("one statement at a time".into())),
    }
}

/// A role name as PostgreSQL resolves it: unquoted names are lowercased.
fn ident(id: &Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

/// A role name given as an object name: one identifier.
fn object_name(name: &datafusion::sql::sqlparser::ast::ObjectName) -> Result<String, AuthError> {
    match name.0.as_slice() {
        [part] => part.as_ident().map(ident).ok_or_else(|| AuthError::Invalid(format!("'{name}' is not a role name"))),
        _ => Err(AuthError::Invalid(format!("role name '{name}' must not be qualified"))),
    }
}

/// A name written in SQL: `"Quoted"` as is, otherwise lowercased.
fn word_name(word: &str) -> String {
    match word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        Some(quoted) => quoted.to_owned(),
        None => word.to_lowercase(),
    }
}

/// `GRANT a, b TO r, s` / `REVOKE a, b FROM r, s`, for the predefined roles only.
fn parse_membership(grant: bool, words: &[&str]) -> Result<AuthStatement, AuthError> {
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    if upper.iter().any(|w| w == "ON") {
        return Err(AuthError::Invalid(format!(
            "privileges on single objects are not supported: {} {READ_ALL} or {WRITE_ALL} to a role instead",
            if grant { "grant" } else { "revoke" }
        )));
    }
    let sep = if grant { "TO" } else { "FROM" };
    let at = upper.iter().position(|w| w == sep).ok_or_else(|| AuthError::Invalid(format!("expected {sep} role")))?;
    let list = |ws: &[&str]| -> Vec<String> {
        ws.join(" ").split(',').map(str::trim).filter(|s| !s.is_empty()).map(word_name).collect()
    };
    let privileges = list(&words[..at]);
    let roles = list(&words[at + 1..]);
    if privileges.is_empty() || roles.is_empty() {
        return Err(AuthError::Invalid(format!("expected {} role, … {sep} role, …", if grant { "GRANT" } else { "REVOKE" })));
    }
    if let Some(other) = privileges.iter().find(|p| *p != READ_ALL && *p != WRITE_ALL) {
        return Err(AuthError::Invalid(format!("cannot grant \"{other}\": only {READ_ALL} and {WRITE_ALL} can be granted")));
    }
    Ok(AuthStatement::Membership { grant, privileges, roles })
}

/// `name [ROLE role]` after `CREATE API KEY` / `DROP API KEY`.
fn parse_key(create: bool, words: &[&str]) -> Result<AuthStatement, AuthError> {
    let (name, role) = match words {
        [name] => (word_name(name), None),
        [name, kw, role] if kw.eq_ignore_ascii_case("ROLE") => (word_name(name), Some(word_name(role))),
        _ => {
            return Err(AuthError::Invalid(format!(
                "expected {} API KEY name [ROLE role]",
                if create { "CREATE" } else { "DROP" }
            )))
        }
    };
    Ok(if create { AuthStatement::CreateKey { name, role } } else { AuthStatement::DropKey { name, role } })
}

/// A string literal password, turned into its SCRAM secret (None for `PASSWORD NULL`).
fn password_secret(p: &Password) -> Result<Option<cairn_storage::ScramSecret>, AuthError> {
    let text = match p {
        Password::NullPassword => return Ok(None),
        Password::Password(Expr::Value(v)) => match &v.value {
            Value::SingleQuotedString(s)
            | Value::DollarQuotedString(datafusion::sql::sqlparser::ast::DollarQuotedString { value: s, .. }) => s,
            Value::Null => return Ok(None),
            _ => return Err(AuthError::Invalid("a password must be a string".into())),
        },
        Password::Password(_) => return Err(AuthError::Invalid("a password must be a string".into())),
    };
    if text.starts_with("SCRAM-SHA-256$") || (text.len() == 35 && text.starts_with("md5")) {
        return Err(AuthError::Invalid("give the password itself: hashed passwords cannot be imported".into()));
    }
    if text.is_empty() {
        return Err(AuthError::Invalid("a password must not be empty (use PASSWORD NULL to remove it)".into()));
    }
    Ok(Some(scram_secret(text)?))
}

/// Applies role options to `role` (a non-superuser reaches here only to set its password).
fn apply_options(role: &mut Role, options: &[RoleOption]) -> Result<(), AuthError> {
    for option in options {
        match option {
            RoleOption::Password(p) => role.scram = password_secret(p)?,
            RoleOption::Login(b) => role.login = *b,
            RoleOption::SuperUser(b) => role.superuser = *b,
            RoleOption::Inherit(_) => {}
            other => return Err(unsupported(&other.to_string())),
        }
    }
    Ok(())
}

fn set_membership(role: &mut Role, privilege: &str, on: bool) {
    if privilege == READ_ALL {
        role.read = on;
    } else {
        role.write = on;
    }
}

fn role_mut<'a>(state: &'a mut AccessState, name: &str) -> Result<&'a mut Role, AuthError> {
    state.roles.get_mut(name).ok_or_else(|| AuthError::NoRole(name.to_owned()))
}

fn check_key_name(name: &str) -> Result<(), AuthError> {
    cairn_storage::store::validate_name("API key", name).map_err(|e| AuthError::Invalid(e.to_string()))
}

impl Auth {
    /// Runs `statement` as role `caller`.
    pub(crate) fn run(&self, caller: &str, statement: AuthStatement) -> Result<Outcome, AuthError> {
        let manage = |what| self.check_superuser(caller, what);
        match statement {
            AuthStatement::CreateRole { name, if_not_exists, options, in_role } => {
                manage("create roles")?;
                if name.starts_with("pg_") {
                    return Err(AuthError::Invalid(format!("role name \"{name}\" is reserved (names starting with pg_ are)")));
                }
                self.update(|state| {
                    if state.roles.contains_key(&name) {
                        return if if_not_exists { Ok(()) } else { Err(AuthError::Exists(format!("role \"{name}\""))) };
                    }
                    let mut role = Role { created_at: now_micros(), ..Role::default() };
                    apply_options(&mut role, &options)?;
                    for p in &in_role {
                        if p != READ_ALL && p != WRITE_ALL {
                            return Err(AuthError::NoRole(p.clone()));
                        }
                        set_membership(&mut role, p, true);
                    }
                    state.roles.insert(name.clone(), role);
                    Ok(())
                })?;
                Ok(Outcome::Done("CREATE ROLE"))
            }
            AuthStatement::AlterRole { name, options } => {
                let only_password = options.iter().all(|o| matches!(o, RoleOption::Password(_)));
                if !(name == caller && only_password) {
                    manage("alter other roles")?;
                }
                if name == SUPERUSER
                    && options.iter().any(|o| matches!(o, RoleOption::SuperUser(false) | RoleOption::Login(false)))
                {
                    return Err(AuthError::Invalid(format!("role \"{SUPERUSER}\" stays a superuser that can log in")));
                }
                self.update(|state| apply_options(role_mut(state, &name)?, &options))?;
                Ok(Outcome::Done("ALTER ROLE"))
            }
            AuthStatement::RenameRole { name, to } => {
                manage("rename roles")?;
                if name == SUPERUSER || name == caller {
                    return Err(AuthError::Invalid(format!("role \"{name}\" cannot be renamed")));
                }
                self.update(|state| {
                    if state.roles.contains_key(&to) {
                        return Err(AuthError::Exists(format!("role \"{to}\"")));
                    }
                    // The secret does not depend on the name: the password stays.
                    let role = state.roles.remove(&name).ok_or_else(|| AuthError::NoRole(name.clone()))?;
                    state.roles.insert(to.clone(), role);
                    state.api_keys.iter_mut().filter(|k| k.role == name).for_each(|k| k.role = to.clone());
                    Ok(())
                })?;
                Ok(Outcome::Done("ALTER ROLE"))
            }
            AuthStatement::DropRole { names, if_exists } => {
                manage("drop roles")?;
                if let Some(n) = names.iter().find(|n| *n == SUPERUSER || *n == caller) {
                    return Err(AuthError::Invalid(format!(
                        "role \"{n}\" cannot be dropped: it is the superuser or the current user"
                    )));
                }
                self.update(|state| {
                    for n in &names {
                        if state.roles.remove(n).is_none() && !if_exists {
                            return Err(AuthError::NoRole(n.clone()));
                        }
                        state.api_keys.retain(|k| &k.role != n);
                    }
                    Ok(())
                })?;
                Ok(Outcome::Done("DROP ROLE"))
            }
            AuthStatement::Membership { grant, privileges, roles } => {
                manage(if grant { "grant privileges" } else { "revoke privileges" })?;
                self.update(|state| {
                    for r in &roles {
                        let role = role_mut(state, r)?;
                        privileges.iter().for_each(|p| set_membership(role, p, grant));
                    }
                    Ok(())
                })?;
                Ok(Outcome::Done(if grant { "GRANT ROLE" } else { "REVOKE ROLE" }))
            }
            AuthStatement::CreateKey { name, role } => {
                let (key, role) = self.create_key(caller, &name, role.as_deref())?;
                Ok(Outcome::Key { name, role: role.role, key })
            }
            AuthStatement::DropKey { name, role } => {
                self.drop_key(caller, &name, role.as_deref())?;
                Ok(Outcome::Done("DROP API KEY"))
            }
        }
    }

    /// Applies a change to the access settings, durably, or nothing of it.
    fn update(&self, change: impl FnOnce(&mut AccessState) -> Result<(), AuthError>) -> Result<(), AuthError> {
        self.store().access().update(change)
    }

    /// Creates API key `name` for `role` (the caller's own role when None; another role's
    /// only by a superuser). Returns the key, which is not kept, and its record.
    pub(crate) fn create_key(&self, caller: &str, name: &str, role: Option<&str>) -> Result<(String, ApiKey), AuthError> {
        check_key_name(name)?;
        let role = self.key_owner(caller, role, "create API keys for other roles")?;
        self.role(&role)?;
        let key = new_api_key()?;
        let record = ApiKey {
            name: name.to_owned(),
            role: role.clone(),
            hash: key_hash(&key),
            suffix: key[key.len() - 4..].to_owned(),
            created_at: now_micros(),
        };
        let stored = record.clone();
        self.update(move |state| {
            if state.api_keys.iter().any(|k| k.role == stored.role && k.name == stored.name) {
                return Err(AuthError::Exists(format!("API key \"{}\" of role \"{}\"", stored.name, stored.role)));
            }
            state.api_keys.push(stored);
            Ok(())
        })?;
        Ok((key, record))
    }

    /// Deletes API key `name` of `role` (the caller's own when None).
    pub(crate) fn drop_key(&self, caller: &str, name: &str, role: Option<&str>) -> Result<ApiKey, AuthError> {
        let role = self.key_owner(caller, role, "drop API keys of other roles")?;
        let mut dropped = None;
        self.update(|state| {
            let at = state
                .api_keys
                .iter()
                .position(|k| k.role == role && k.name == name)
                .ok_or_else(|| AuthError::Missing(format!("API key \"{name}\" of role \"{role}\"")))?;
            dropped = Some(state.api_keys.remove(at));
            Ok(())
        })?;
        dropped.ok_or_else(|| AuthError::Missing(format!("API key \"{name}\"")))
    }

    /// The API keys of `role` (the caller's own when None).
    pub(crate) fn keys(&self, caller: &str, role: Option<&str>) -> Result<Vec<ApiKey>, AuthError> {
        let role = self.key_owner(caller, role, "list API keys of other roles")?;
        Ok(self.store().access().snapshot()?.api_keys.into_iter().filter(|k| k.role == role).collect())
    }

    /// The role whose keys `caller` works on: `role`, else its own; another's only for a
    /// superuser (else refused as `what`).
    fn key_owner(&self, caller: &str, role: Option<&str>, what: &'static str) -> Result<String, AuthError> {
        let role = role.unwrap_or(caller);
        if role != caller {
            self.check_superuser(caller, what)?;
        }
        Ok(role.to_owned())
    }
}
