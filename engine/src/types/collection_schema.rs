//! A collection's SQL schema, derived from its smart schema when a query is planned: every
//! top-level field becomes a column. A field that holds one scalar type and never null is a
//! typed column (an Arrow null there is a missing value); a field that only ever holds arrays
//! is a list of variants; objects, fields holding several types and fields holding nulls are
//! variant columns ([`super::variant`]).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use cairn_storage::document::{EVENT_TIME_FIELD, ID_FIELD};
use cairn_storage::path::push_field;
use cairn_storage::{arrow_type, CollectionStats, ColumnOutput, FieldPath, ValueType};

use super::variant::{self, VARIANT};

/// How one SQL column is read from the storage engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqlColumn {
    /// Top-level field name (also the column name).
    pub name: String,
    /// The field's path in the storage engine's text form.
    pub path: String,
    /// Typed column, array or variant.
    pub kind: ColumnKind,
}

/// The representation of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    /// Values of one scalar type; other values read as null.
    Typed(ValueType),
    /// Arrays, as lists of variants.
    Array,
    /// Any value, with its own type.
    Variant,
}

impl SqlColumn {
    /// The column's Arrow type.
    pub(crate) fn data_type(&self) -> DataType {
        match self.kind {
            ColumnKind::Typed(t) => arrow_type(ColumnOutput::Typed(t)).unwrap_or(VARIANT),
            ColumnKind::Array => variant::array_type(),
            ColumnKind::Variant => VARIANT,
        }
    }

    /// What the storage scan should produce for this column.
    pub(crate) fn output(&self) -> ColumnOutput {
        match self.kind {
            ColumnKind::Typed(t) => ColumnOutput::Typed(t),
            ColumnKind::Array | ColumnKind::Variant => ColumnOutput::Key,
        }
    }
}

/// The columns of a collection with these statistics: `_id`, `_event_time`, then the other
/// top-level fields by name.
pub(crate) fn columns(stats: &CollectionStats) -> Vec<SqlColumn> {
    let mut out: Vec<(String, String, Vec<ValueType>)> = Vec::new();
    for (path, t, _) in &stats.fields {
        let Ok(parsed) = FieldPath::parse(path) else { continue };
        if parsed.0.len() != 1 {
            continue;
        }
        let Some(name) = parsed.top_field() else { continue };
        match out.iter_mut().find(|(n, _, _)| n == name) {
            Some((_, _, types)) => types.push(*t),
            None => out.push((name.to_owned(), path.clone(), vec![*t])),
        }
    }
    let rank = |n: &str| match n {
        ID_FIELD => 0,
        EVENT_TIME_FIELD => 1,
        _ => 2,
    };
    out.sort_by(|a, b| rank(&a.0).cmp(&rank(&b.0)).then_with(|| a.0.cmp(&b.0)));
    if !out.iter().any(|(n, _, _)| n == ID_FIELD) {
        // An empty collection still has its key columns.
        out.insert(0, (EVENT_TIME_FIELD.into(), EVENT_TIME_FIELD.into(), vec![ValueType::Timestamp]));
        out.insert(0, (ID_FIELD.into(), ID_FIELD.into(), vec![ValueType::String]));
    }
    out.into_iter().map(|(name, path, types)| SqlColumn { name, path, kind: kind_of(&types) }).collect()
}

/// The representation of a field holding these types (each once).
fn kind_of(types: &[ValueType]) -> ColumnKind {
    match types {
        [ValueType::Array] => ColumnKind::Array,
        [t] if t.is_scalar() && *t != ValueType::Null => ColumnKind::Typed(*t),
        _ => ColumnKind::Variant,
    }
}

/// Paths below the top level that hold values outside arrays, in text form, with how each
/// would be read: the nested columns a query may read directly.
pub(crate) fn nested_paths(stats: &CollectionStats) -> HashMap<String, ColumnKind> {
    let mut types: HashMap<String, Vec<ValueType>> = HashMap::new();
    for (path, t, _) in &stats.fields {
        if FieldPath::parse(path).is_ok_and(|p| p.0.len() > 1 && !p.has_elements()) {
            types.entry(path.clone()).or_default().push(*t);
        }
    }
    types.into_iter().map(|(p, t)| (p, kind_of(&t))).collect()
}

/// Field metadata key listing a variant column's nested paths of one scalar type, one
/// `path<TAB>type` per line: how the planner knows `commit.collection` is a string column.
pub(crate) const TYPED_PATHS: &str = "cairn.typed_paths";

/// The type of nested path `path` under a column, if the column's metadata lists it.
pub(crate) fn typed_path(field: &Field, path: &str) -> Option<ValueType> {
    let listed = field.metadata().get(TYPED_PATHS)?;
    let name = listed.lines().find_map(|l| l.split_once('\t').filter(|(p, _)| *p == path).map(|(_, t)| t))?;
    ValueType::ALL.into_iter().find(|t| t.name() == name)
}

/// The text form of the path of `keys` under top-level field `top`.
pub(crate) fn path_text(top: &str, keys: &[String]) -> String {
    let mut out = String::new();
    push_field(&mut out, true, top);
    for k in keys {
        push_field(&mut out, false, k);
    }
    out
}

/// The Arrow schema of these columns (every column nullable: a field may be missing); variant
/// columns list their typed nested paths in [`TYPED_PATHS`].
pub(crate) fn arrow_schema(columns: &[SqlColumn], nested: &HashMap<String, ColumnKind>) -> SchemaRef {
    let field = |c: &SqlColumn| {
        let f = Field::new(&c.name, c.data_type(), true);
        if c.kind != ColumnKind::Variant {
            return f;
        }
        let prefix = format!("{}.", c.path);
        let mut typed: Vec<String> = nested
            .iter()
            .filter_map(|(p, k)| match k {
                ColumnKind::Typed(t) if p.starts_with(&prefix) => Some(format!("{p}\t{}", t.name())),
                _ => None,
            })
            .collect();
        if typed.is_empty() {
            return f;
        }
        typed.sort();
        f.with_metadata([(TYPED_PATHS.to_owned(), typed.join("\n"))].into())
    };
    Arc::new(Schema::new(columns.iter().map(field).collect::<Vec<_>>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_json_and_key_columns() {
        let stats = CollectionStats {
            doc_count: 3,
            fields: vec![
                ("_event_time".into(), ValueType::Timestamp, 3),
                ("_id".into(), ValueType::String, 3),
                ("a".into(), ValueType::Int, 2),
                ("n".into(), ValueType::Int, 2),
                ("n".into(), ValueType::Null, 1),
                ("l".into(), ValueType::Array, 1),
                ("l.*".into(), ValueType::Int, 1),
                ("b".into(), ValueType::Int, 1),
                ("b".into(), ValueType::String, 1),
                ("c".into(), ValueType::Object, 1),
                ("c.d".into(), ValueType::Int, 1),
            ],
        };
        let cols = columns(&stats);
        let got: Vec<(&str, ColumnKind)> = cols.iter().map(|c| (c.name.as_str(), c.kind)).collect();
        assert_eq!(
            got,
            vec![
                ("_id", ColumnKind::Typed(ValueType::String)),
                ("_event_time", ColumnKind::Typed(ValueType::Timestamp)),
                ("a", ColumnKind::Typed(ValueType::Int)),
                ("b", ColumnKind::Variant),
                ("c", ColumnKind::Variant),
                ("l", ColumnKind::Array),
                ("n", ColumnKind::Variant),
            ]
        );
        assert_eq!(arrow_schema(&cols, &nested_paths(&stats)).field(2).data_type(), &DataType::Int64);
        assert_eq!(
            typed_path(arrow_schema(&cols, &nested_paths(&stats)).field_with_name("c").unwrap(), "c.d"),
            Some(ValueType::Int)
        );
    }

    #[test]
    fn empty_collection_has_key_columns() {
        let cols = columns(&CollectionStats::default());
        assert_eq!(cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec!["_id", "_event_time"]);
    }
}
