//! Small pieces of SQL syntax trees: identifiers and collection names as DataFusion resolves
//! them (unquoted names fold to lower case), and function calls built for rewrites of parsed
//! statements.

use datafusion::sql::sqlparser::ast::{
    Expr as SqlExpr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident, ObjectName,
    TableObject,
};

use crate::error::{EngineError, Result};

/// A collection name, optionally qualified by its workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableName {
    /// Workspace, when given.
    pub workspace: Option<String>,
    /// Collection.
    pub collection: String,
}

/// Splits `ws.coll` / `"Ws"."Coll"` into normalized parts (unquoted names are lowercased).
pub(crate) fn split_name(text: &str) -> Result<Vec<String>> {
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

pub(crate) fn table_name(mut parts: Vec<String>) -> Result<TableName> {
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
pub(crate) fn ident_name(id: &Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

/// A (possibly workspace-qualified) collection name from a SQL object name.
pub(crate) fn object_table_name(name: &ObjectName) -> Result<TableName> {
    let parts = name
        .0
        .iter()
        .map(|p| p.as_ident().map(ident_name).ok_or_else(|| EngineError::Invalid(format!("'{name}' is not a collection name"))))
        .collect::<Result<Vec<_>>>()?;
    table_name(parts)
}

/// The target collection of an `INSERT`.
pub(crate) fn insert_target(table: &TableObject) -> Result<TableName> {
    match table {
        TableObject::TableName(name) => object_table_name(name),
        other => Err(EngineError::Unsupported(format!("INSERT INTO {other}"))),
    }
}

/// `name(arg)` in SQL syntax.
pub(crate) fn function_call(name: &str, arg: SqlExpr) -> SqlExpr {
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
