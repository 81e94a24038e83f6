//! Statements Cairn runs itself instead of handing to DataFusion: workspace and collection DDL
//! (`CREATE/DROP WORKSPACE|COLLECTION`, and the standard `CREATE/DROP SCHEMA|TABLE` mapped onto
//! them) and the target of a schemaless `INSERT`; and a function call in SQL syntax, for
//! rewrites of parsed statements.

use datafusion::sql::sqlparser::ast::{
    Expr as SqlExpr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident, ObjectName,
    ObjectType, SchemaName, Statement, TableObject,
};

use crate::error::{EngineError, Result};

/// `name(arg)` in SQL syntax.
pub fn function_call(name: &str, arg: SqlExpr) -> SqlExpr {
    SqlExpr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))],
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// A workspace or collection definition statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ddl {
    /// `CREATE WORKSPACE` / `CREATE SCHEMA`.
    CreateWorkspace { name: String, if_not_exists: bool },
    /// `DROP WORKSPACE` / `DROP SCHEMA`.
    DropWorkspace { name: String, if_exists: bool, cascade: bool },
    /// `CREATE COLLECTION` / `CREATE TABLE` (column definitions are accepted and ignored:
    /// collections are schemaless).
    CreateCollection { name: TableName, if_not_exists: bool },
    /// `DROP COLLECTION` / `DROP TABLE`.
    DropCollection { name: TableName, if_exists: bool },
}

/// A collection name, optionally qualified by its workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    /// Workspace, when given.
    pub workspace: Option<String>,
    /// Collection.
    pub collection: String,
}

/// Parses Cairn's own DDL (`CREATE|DROP WORKSPACE|COLLECTION`), which SQL parsers do not know.
/// None when `sql` is something else.
pub fn parse_cairn_ddl(sql: &str) -> Result<Option<Ddl>> {
    let words: Vec<&str> = sql.trim().trim_end_matches(';').split_whitespace().collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let kw: Vec<&str> = upper.iter().map(String::as_str).collect();
    let (create, rest) = match kw.as_slice() {
        ["CREATE", "WORKSPACE" | "COLLECTION", ..] => (true, 2),
        ["DROP", "WORKSPACE" | "COLLECTION", ..] => (false, 2),
        _ => return Ok(None),
    };
    let workspace = kw[1] == "WORKSPACE";
    let (flag, name_at) = match (create, &kw[rest..]) {
        (true, ["IF", "NOT", "EXISTS", ..]) => (true, rest + 3),
        (false, ["IF", "EXISTS", ..]) => (true, rest + 2),
        _ => (false, rest),
    };
    let name = words.get(name_at).ok_or_else(|| EngineError::Invalid(format!("{} {} needs a name", kw[0], kw[1])))?;
    let tail = &kw[name_at + 1..];
    let cascade = match tail {
        [] => false,
        ["CASCADE"] if workspace && !create => true,
        _ => return Err(EngineError::Invalid(format!("unexpected '{}' after {} {} {name}", tail.join(" "), kw[0], kw[1]))),
    };
    let parts = split_name(name)?;
    Ok(Some(match (workspace, create) {
        (true, _) if parts.len() != 1 => {
            return Err(EngineError::Invalid(format!("workspace name '{name}' must not be qualified")))
        }
        (true, true) => Ddl::CreateWorkspace { name: parts[0].clone(), if_not_exists: flag },
        (true, false) => Ddl::DropWorkspace { name: parts[0].clone(), if_exists: flag, cascade },
        (false, true) => Ddl::CreateCollection { name: table_name(parts)?, if_not_exists: flag },
        (false, false) => Ddl::DropCollection { name: table_name(parts)?, if_exists: flag },
    }))
}

/// Splits `ws.coll` / `"Ws"."Coll"` into normalized parts (unquoted names are lowercased).
fn split_name(text: &str) -> Result<Vec<String>> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            '.' if !quoted => parts.push(finish(&mut cur, &mut was_quoted)),
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(EngineError::Invalid(format!("unterminated quoted name {text}")));
    }
    parts.push(finish(&mut cur, &mut was_quoted));
    Ok(parts)
}

fn finish(cur: &mut String, was_quoted: &mut bool) -> String {
    let s = std::mem::take(cur);
    let out = if *was_quoted { s } else { s.to_lowercase() };
    *was_quoted = false;
    out
}

fn table_name(mut parts: Vec<String>) -> Result<TableName> {
    match parts.len() {
        1 => Ok(TableName { workspace: None, collection: parts.remove(0) }),
        2 => {
            let collection = parts.remove(1);
            Ok(TableName { workspace: Some(parts.remove(0)), collection })
        }
        _ => Err(EngineError::Invalid(format!("'{}' is not a [workspace.]collection name", parts.join(".")))),
    }
}

/// The name of an identifier as DataFusion resolves it: unquoted names are lowercased.
pub fn ident_name(id: &Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

/// A (possibly workspace-qualified) collection name from a SQL object name.
pub fn object_table_name(name: &ObjectName) -> Result<TableName> {
    let parts = name
        .0
        .iter()
        .map(|p| p.as_ident().map(ident_name).ok_or_else(|| EngineError::Invalid(format!("'{name}' is not a collection name"))))
        .collect::<Result<Vec<_>>>()?;
    table_name(parts)
}

/// The standard DDL statements Cairn maps onto workspaces and collections.
pub fn standard_ddl(stmt: &Statement) -> Result<Option<Ddl>> {
    Ok(match stmt {
        Statement::CreateSchema { schema_name: SchemaName::Simple(name), if_not_exists, .. } => {
            let t = object_table_name(name)?;
            if t.workspace.is_some() {
                return Err(EngineError::Invalid(format!("schema name '{name}' must not be qualified")));
            }
            Some(Ddl::CreateWorkspace { name: t.collection, if_not_exists: *if_not_exists })
        }
        Statement::CreateTable(ct) if ct.query.is_none() && ct.like.is_none() && !ct.external => {
            Some(Ddl::CreateCollection { name: object_table_name(&ct.name)?, if_not_exists: ct.if_not_exists })
        }
        Statement::Drop { object_type: ObjectType::Schema, names, if_exists, cascade, .. } if names.len() == 1 => {
            let t = object_table_name(&names[0])?;
            Some(Ddl::DropWorkspace { name: t.collection, if_exists: *if_exists, cascade: *cascade })
        }
        Statement::Drop { object_type: ObjectType::Table, names, if_exists, .. } if names.len() == 1 => {
            Some(Ddl::DropCollection { name: object_table_name(&names[0])?, if_exists: *if_exists })
        }
        _ => None,
    })
}

/// The target collection of an `INSERT`.
pub fn insert_target(table: &TableObject) -> Result<TableName> {
    match table {
        TableObject::TableName(name) => object_table_name(name),
        other => Err(EngineError::Unsupported(format!("INSERT INTO {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cairn_ddl_forms() {
        assert_eq!(
            parse_cairn_ddl("create collection if not exists Ws.\"Events\";").unwrap(),
            Some(Ddl::CreateCollection {
                name: TableName { workspace: Some("ws".into()), collection: "Events".into() },
                if_not_exists: true
            })
        );
        assert_eq!(
            parse_cairn_ddl("DROP WORKSPACE IF EXISTS w CASCADE").unwrap(),
            Some(Ddl::DropWorkspace { name: "w".into(), if_exists: true, cascade: true })
        );
        assert_eq!(parse_cairn_ddl("select 1").unwrap(), None);
        assert!(parse_cairn_ddl("create collection").is_err());
        assert!(parse_cairn_ddl("create collection a b").is_err());
    }
}
