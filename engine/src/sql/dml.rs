//! `UPDATE` and `DELETE` as queries: the documents a `WHERE` clause selects are found with a
//! `SELECT _id[, new values…]` over the collection (see [`crate::engine`] for how each is then
//! patched or deleted, atomically per document: there are no multi-document transactions).

use datafusion::sql::sqlparser::ast::{AssignmentTarget, Delete, FromTable, ObjectName, TableFactor, TableWithJoins, Update};

use super::ast::{ident_name, object_table_name, TableName};
use crate::error::{EngineError, Result};

/// What a DML statement will do once its selecting query has run.
#[derive(Debug, Clone)]
pub(crate) struct DmlPlan {
    /// The collection written.
    pub table: TableName,
    /// `SELECT _id[, new values…] FROM … WHERE …`.
    pub query: String,
    /// For UPDATE: the JSON Pointer of each assigned field, in the query's value order.
    pub targets: Vec<String>,
}

fn single_table(t: &TableWithJoins) -> Result<(&ObjectName, String)> {
    match (&t.relation, t.joins.is_empty()) {
        (TableFactor::Table { name, alias, args: None, .. }, true) => {
            Ok((name, alias.as_ref().map(|a| format!(" AS {a}")).unwrap_or_default()))
        }
        _ => Err(EngineError::Unsupported(format!("UPDATE/DELETE of '{t}': name one collection"))),
    }
}

fn where_clause(selection: &Option<datafusion::sql::sqlparser::ast::Expr>) -> String {
    selection.as_ref().map(|e| format!(" WHERE {e}")).unwrap_or_default()
}

/// Plans `DELETE FROM coll [WHERE …]`.
pub(crate) fn plan_delete(d: &Delete) -> Result<DmlPlan> {
    let tables = match &d.from {
        FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
    };
    if tables.len() != 1 || d.using.is_some() || !d.tables.is_empty() || d.returning.is_some() || d.limit.is_some() {
        return Err(EngineError::Unsupported("DELETE with USING, RETURNING, LIMIT or several tables".into()));
    }
    let (name, alias) = single_table(&tables[0])?;
    Ok(DmlPlan {
        table: object_table_name(name)?,
        query: format!("SELECT _id FROM {name}{alias}{}", where_clause(&d.selection)),
        targets: vec![],
    })
}

/// Plans `UPDATE coll SET a = …, b.c = … [WHERE …]`: a dotted target sets a nested field.
pub(crate) fn plan_update(u: &Update) -> Result<DmlPlan> {
    if u.from.is_some() || u.returning.is_some() || u.limit.is_some() {
        return Err(EngineError::Unsupported("UPDATE with FROM, RETURNING or LIMIT".into()));
    }
    let (name, alias) = single_table(&u.table)?;
    let mut values = Vec::new();
    let mut targets = Vec::new();
    for (i, a) in u.assignments.iter().enumerate() {
        let AssignmentTarget::ColumnName(target) = &a.target else {
            return Err(EngineError::Unsupported("UPDATE … SET (a, b) = …".into()));
        };
        let parts: Vec<String> = target.0.iter().filter_map(|p| p.as_ident()).map(ident_name).collect();
        if parts.first().map(String::as_str) == Some("_id") {
            return Err(EngineError::Invalid("UPDATE cannot change _id".into()));
        }
        targets.push(parts.iter().map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1"))).collect());
        values.push(format!(", ({}) AS \"__v{i}\"", a.value));
    }
    Ok(DmlPlan {
        table: object_table_name(name)?,
        query: format!("SELECT _id{} FROM {name}{alias}{}", values.concat(), where_clause(&u.selection)),
        targets,
    })
}
