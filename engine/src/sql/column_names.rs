//! Result column names as PostgreSQL gives them: an unaliased column is named by its field
//! (`t.a.b` is `b`), a function call by the function (`count(*)` is `count`), a cast by what
//! it casts or else its type, anything else `?column?`. DataFusion names columns by their whole
//! expression; PostgreSQL clients and BI tools show the names, so results take PostgreSQL's.

use std::sync::Arc;

use arrow_schema::{Field, Schema, SchemaRef};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{DataType as SqlType, Expr, SelectItem, SetExpr, Statement};

use super::ast::ident_name as ident;

/// PostgreSQL's name for each output column of `statement`, when it is a query whose select
/// list names every column (no `*`); None otherwise.
pub(crate) fn of(statement: &DFStatement) -> Option<Vec<String>> {
    let DFStatement::Statement(s) = statement else { return None };
    let Statement::Query(query) = s.as_ref() else { return None };
    let mut body = query.body.as_ref();
    // A set operation takes its first branch's names.
    while let SetExpr::SetOperation { left, .. } = body {
        body = left.as_ref();
    }
    let SetExpr::Select(select) = body else { return None };
    select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(e) => Some(name(e)),
            SelectItem::ExprWithAlias { alias, .. } => Some(ident(alias)),
            _ => None,
        })
        .collect()
}

/// `schema` with its columns renamed to `names` (when there is one name per column).
pub(crate) fn apply(schema: SchemaRef, names: Option<&[String]>) -> SchemaRef {
    let Some(names) = names.filter(|n| n.len() == schema.fields().len()) else { return schema };
    if schema.fields().iter().zip(names).all(|(f, n)| f.name() == n) {
        return schema;
    }
    let fields: Vec<Field> = schema.fields().iter().zip(names).map(|(f, n)| f.as_ref().clone().with_name(n)).collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn name(e: &Expr) -> String {
    named(e).unwrap_or_else(|| "?column?".to_owned())
}

/// The name an expression gives its column, if it gives one.
fn named(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(ident(i)),
        Expr::CompoundIdentifier(parts) => parts.last().map(ident),
        Expr::Function(f) => f.name.0.last().and_then(|p| p.as_ident()).map(ident),
        Expr::Nested(inner) => named(inner),
        Expr::CompoundFieldAccess { root, .. } => named(root),
        Expr::Cast { expr, data_type, .. } => named(expr).or_else(|| Some(type_name(data_type))),
        Expr::Case { .. } => Some("case".to_owned()),
        Expr::Exists { .. } => Some("exists".to_owned()),
        _ => None,
    }
}

/// A cast's type as PostgreSQL names it in a column heading.
fn type_name(t: &SqlType) -> String {
    let sql = t.to_string().to_lowercase();
    match sql.as_str() {
        "int" | "integer" | "int4" => "int4".to_owned(),
        "bigint" | "int8" => "int8".to_owned(),
        "smallint" | "int2" => "int2".to_owned(),
        "real" | "float4" => "float4".to_owned(),
        "double precision" | "float8" | "double" => "float8".to_owned(),
        "boolean" | "bool" => "bool".to_owned(),
        "character varying" | "varchar" => "varchar".to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;

    fn names(sql: &str) -> Option<Vec<String>> {
        of(&DFParser::parse_sql(sql).unwrap()[0])
    }

    #[test]
    fn columns_are_named_as_postgresql_names_them() {
        let got =
            names("SELECT t.a.b, count(*), 1, x::int, '1'::bigint, COUNT(x) AS N, \"Q\", (y), CASE WHEN y THEN 1 END FROM t");
        let want = ["b", "count", "?column?", "x", "int8", "n", "Q", "y", "case"];
        assert_eq!(got, Some(want.iter().map(|s| s.to_string()).collect()));
        assert_eq!(names("SELECT * FROM t"), None);
        assert_eq!(names("SELECT a FROM t UNION ALL SELECT b FROM u"), Some(vec!["a".to_owned()]));
    }
}
