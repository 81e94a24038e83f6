//! Workspace and collection DDL, which Cairn runs itself instead of handing to DataFusion:
//! its own `CREATE/DROP WORKSPACE|COLLECTION` (which SQL parsers do not know, so they are read
//! from the text) and the standard `CREATE/DROP SCHEMA|TABLE` mapped onto them.

use cairn_connectors::SourceSpec;
use datafusion::sql::sqlparser::ast::{ObjectType, SchemaName, Statement};

use super::ast::{object_table_name, split_name, table_name, TableName};
use super::collection_options::{collection_options, CollectionOptions};
use super::source_clause::source_clause;
use crate::error::{EngineError, Result};

/// A workspace or collection definition statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ddl {
    /// `CREATE WORKSPACE` / `CREATE SCHEMA`.
    CreateWorkspace { name: String, if_not_exists: bool },
    /// `DROP WORKSPACE` / `DROP SCHEMA`.
    DropWorkspace { name: String, if_exists: bool, cascade: bool },
    /// `CREATE COLLECTION [FROM <source> (…)] [WITH (…)]` / `CREATE TABLE` (column
    /// definitions are accepted and ignored: collections are schemaless).
    CreateCollection { name: TableName, if_not_exists: bool, options: CollectionOptions, source: Option<SourceSpec> },
    /// `DROP COLLECTION` / `DROP TABLE`.
    DropCollection { name: TableName, if_exists: bool },
}

/// Parses Cairn's own DDL (`CREATE|DROP WORKSPACE|COLLECTION`), which SQL parsers do not know.
/// None when `sql` is something else.
pub(crate) fn parse_cairn_ddl(sql: &str) -> Result<Option<Ddl>> {
    let text = sql.trim().trim_end_matches(';');
    let words: Vec<&str> = text.split_whitespace().collect();
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
    // The clauses after the name, as text: `FROM <source> (…)`, then `WITH (…)`.
    let mut clauses = words.get(name_at + 1).map_or("", |word| &text[word.as_ptr() as usize - text.as_ptr() as usize..]);
    let mut source = None;
    if create && !workspace && kw.get(name_at + 1).is_some_and(|w| *w == "FROM") {
        let (spec, rest) = source_clause(clauses)?;
        source = Some(spec);
        clauses = rest.trim();
    }
    let upper_clauses = clauses.to_ascii_uppercase();
    let tail: Vec<&str> = upper_clauses.split_whitespace().collect();
    let with = create && !workspace && tail.first().is_some_and(|w| *w == "WITH" || w.starts_with("WITH("));
    let config = if with { collection_options(clauses)? } else { CollectionOptions::default() };
    let cascade = match tail.as_slice() {
        [] => false,
        [_, ..] if with => false,
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
        (false, true) => Ddl::CreateCollection { name: table_name(parts)?, if_not_exists: flag, options: config, source },
        (false, false) => Ddl::DropCollection { name: table_name(parts)?, if_exists: flag },
    }))
}

/// The standard DDL statements Cairn maps onto workspaces and collections.
pub(crate) fn standard_ddl(stmt: &Statement) -> Result<Option<Ddl>> {
    Ok(match stmt {
        Statement::CreateSchema { schema_name: SchemaName::Simple(name), if_not_exists, .. } => {
            let t = object_table_name(name)?;
            if t.workspace.is_some() {
                return Err(EngineError::Invalid(format!("schema name '{name}' must not be qualified")));
            }
            Some(Ddl::CreateWorkspace { name: t.collection, if_not_exists: *if_not_exists })
        }
        Statement::CreateTable(ct) if ct.query.is_none() && ct.like.is_none() && !ct.external => Some(Ddl::CreateCollection {
            name: object_table_name(&ct.name)?,
            if_not_exists: ct.if_not_exists,
            options: CollectionOptions::default(),
            source: None,
        }),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cairn_ddl_forms() {
        assert_eq!(
            parse_cairn_ddl("create collection if not exists Ws.\"Events\";").unwrap(),
            Some(Ddl::CreateCollection {
                name: TableName { workspace: Some("ws".into()), collection: "Events".into() },
                if_not_exists: true,
                options: CollectionOptions::default(),
                source: None,
            })
        );
        let Some(Ddl::CreateCollection { options, source: Some(SourceSpec::Files(f)), .. }) =
            parse_cairn_ddl("CREATE COLLECTION ev FROM FILES (path = '/d/*.json') WITH (shards = 3)").unwrap()
        else {
            panic!("not a collection with a source");
        };
        assert_eq!((f.path.as_str(), options.shards), ("/d/*.json", Some(3)));
        assert!(parse_cairn_ddl("CREATE COLLECTION ev FROM FILES (path = '/d') extra").is_err());
        let Some(Ddl::CreateCollection { options: config, .. }) =
            parse_cairn_ddl("CREATE COLLECTION ev WITH (retention = '1 day', shards = 3);").unwrap()
        else {
            panic!("not a collection");
        };
        assert_eq!((config.shards, config.retention_micros), (Some(3), Some(86_400_000_000)));
        assert!(parse_cairn_ddl("CREATE COLLECTION ev WITH (nope = 1)").is_err());
        assert_eq!(
            parse_cairn_ddl("DROP WORKSPACE IF EXISTS w CASCADE").unwrap(),
            Some(Ddl::DropWorkspace { name: "w".into(), if_exists: true, cascade: true })
        );
        assert_eq!(parse_cairn_ddl("select 1").unwrap(), None);
        assert!(parse_cairn_ddl("create collection").is_err());
        assert!(parse_cairn_ddl("create collection a b").is_err());
    }
}
