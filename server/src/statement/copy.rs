//! `COPY` statements: `COPY coll [(fields)] FROM STDIN` loads documents, one per line of
//! NDJSON (`FORMAT ndjson`) or one per row of CSV (`FORMAT csv`) or PostgreSQL's text format
//! (the default); `COPY coll | (query) TO STDOUT` sends rows out as text or CSV. Reading or
//! writing a file on the server (`COPY … FROM 'file'`) is refused. The data itself travels
//! over the PostgreSQL protocol (see `pg::bulk`).

use cairn_engine::SqlState;
use datafusion::sql::sqlparser::ast::{
    CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget, ObjectName, Statement,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::Refusal;

/// How COPY data is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// PostgreSQL's text format: delimited fields, `\N` for null, backslash escapes.
    Text,
    /// CSV.
    Csv,
    /// One JSON document per line (COPY FROM only).
    Ndjson,
}

/// How a COPY reads or writes its data.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub layout: Layout,
    pub delimiter: char,
    pub header: bool,
    /// The text standing for null (text and CSV).
    pub null: String,
}

/// `COPY coll [(fields)] FROM STDIN`.
#[derive(Debug, Clone)]
pub(crate) struct CopyIn {
    /// The collection loaded.
    pub table: ObjectName,
    /// The fields each row's values go to; empty for the header's or the collection's.
    pub fields: Vec<String>,
    /// How the data is laid out.
    pub options: Options,
}

/// A parsed COPY.
#[derive(Debug, Clone)]
pub(crate) enum Copy {
    /// `COPY coll [(fields)] FROM STDIN`.
    In(CopyIn),
    /// `COPY coll [(fields)] TO STDOUT` or `COPY (query) TO STDOUT`: the query to run.
    Out { query: String, options: Options },
}

/// The COPY `sql` is, if it is one; why it cannot run if it is malformed or reads files.
pub(crate) fn parse(sql: &str) -> Option<Result<Copy, Refusal>> {
    let first = sql.split_whitespace().next()?;
    if !first.eq_ignore_ascii_case("copy") {
        return None;
    }
    Some(parse_copy(sql))
}

fn parse_copy(sql: &str) -> Result<Copy, Refusal> {
    let statement = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statement())
        .map_err(|e| Refusal::new(SqlState::SyntaxError, e.to_string()))?;
    let Statement::Copy { source, to, target, options, legacy_options, .. } = statement else {
        return Err(Refusal::new(SqlState::SyntaxError, format!("not a COPY statement: {sql}")));
    };
    match (&target, to) {
        (CopyTarget::Stdin, false) | (CopyTarget::Stdout, true) => {}
        _ => {
            return Err(Refusal::new(
                SqlState::InsufficientPrivilege,
                "COPY reads from STDIN and writes to STDOUT only: the server's files are not reachable",
            ))
        }
    }
    let options = copy_options(&options, &legacy_options, to)?;
    match source {
        CopySource::Table { table_name, columns } if !to => {
            Ok(Copy::In(CopyIn { table: table_name, fields: columns.into_iter().map(|c| c.value).collect(), options }))
        }
        CopySource::Table { table_name, columns } => {
            let list = if columns.is_empty() {
                "*".to_owned()
            } else {
                columns.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
            };
            Ok(Copy::Out { query: format!("SELECT {list} FROM {table_name}"), options })
        }
        CopySource::Query(q) if to => Ok(Copy::Out { query: q.to_string(), options }),
        CopySource::Query(_) => Err(Refusal::new(SqlState::SyntaxError, "COPY FROM loads into a collection, not a query")),
    }
}

fn copy_options(options: &[CopyOption], legacy: &[CopyLegacyOption], to: bool) -> Result<Options, Refusal> {
    let mut out = Options { layout: Layout::Text, delimiter: '\t', header: false, null: "\\N".into() };
    let mut delimiter = None;
    let mut null = None;
    for o in options {
        match o {
            CopyOption::Format(f) => {
                out.layout = match f.value.to_ascii_lowercase().as_str() {
                    "text" => Layout::Text,
                    "csv" => Layout::Csv,
                    "ndjson" | "json" if !to => Layout::Ndjson,
                    other => {
                        return Err(Refusal::new(
                            SqlState::InvalidParameterValue,
                            format!("COPY format \"{other}\" is not supported: use text, csv or ndjson"),
                        ))
                    }
                }
            }
            CopyOption::Delimiter(c) => delimiter = Some(*c),
            CopyOption::Null(s) => null = Some(s.clone()),
            CopyOption::Header(h) => out.header = *h,
            CopyOption::Encoding(e) if e.eq_ignore_ascii_case("utf8") || e.eq_ignore_ascii_case("utf-8") => {}
            CopyOption::Freeze(_) => {}
            other => return Err(Refusal::new(SqlState::FeatureNotSupported, format!("COPY option {other} is not supported"))),
        }
    }
    for o in legacy {
        match o {
            CopyLegacyOption::Csv(csv) => {
                out.layout = Layout::Csv;
                for c in csv {
                    match c {
                        CopyLegacyCsvOption::Header => out.header = true,
                        other => {
                            return Err(Refusal::new(
                                SqlState::FeatureNotSupported,
                                format!("COPY option {other} is not supported"),
                            ))
                        }
                    }
                }
            }
            CopyLegacyOption::Delimiter(c) => delimiter = Some(*c),
            CopyLegacyOption::Null(s) => null = Some(s.clone()),
            CopyLegacyOption::Header => out.header = true,
            other => return Err(Refusal::new(SqlState::FeatureNotSupported, format!("COPY option {other} is not supported"))),
        }
    }
    if out.layout == Layout::Csv {
        out.delimiter = ',';
        out.null = String::new();
    }
    if let Some(d) = delimiter {
        out.delimiter = d;
    }
    if let Some(n) = null {
        out.null = n;
    }
    if out.header && out.layout == Layout::Text {
        return Err(Refusal::new(SqlState::FeatureNotSupported, "HEADER is available in CSV mode only"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_in(sql: &str) -> (Vec<String>, Options) {
        match parse(sql).unwrap().unwrap() {
            Copy::In(CopyIn { fields, options, .. }) => (fields, options),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_copy_forms() {
        let (fields, o) = copy_in("COPY events (a, b) FROM STDIN");
        assert_eq!((fields, o.layout, o.delimiter), (vec!["a".into(), "b".into()], Layout::Text, '\t'));
        let (_, o) = copy_in("copy events from stdin with (format csv, header true)");
        assert_eq!((o.layout, o.header, o.delimiter, o.null.as_str()), (Layout::Csv, true, ',', ""));
        let (_, o) = copy_in("COPY events FROM STDIN CSV HEADER");
        assert_eq!((o.layout, o.header), (Layout::Csv, true));
        assert_eq!(copy_in("COPY ws.events FROM STDIN (FORMAT ndjson)").1.layout, Layout::Ndjson);
        match parse("COPY (SELECT 1) TO STDOUT WITH (FORMAT csv)").unwrap().unwrap() {
            Copy::Out { query, options } => assert_eq!((query.as_str(), options.layout), ("SELECT 1", Layout::Csv)),
            other => panic!("{other:?}"),
        }
        assert_eq!(parse("COPY events FROM '/etc/passwd'").unwrap().unwrap_err().state, SqlState::InsufficientPrivilege);
        assert_eq!(parse("COPY events TO '/tmp/x'").unwrap().unwrap_err().state, SqlState::InsufficientPrivilege);
        assert!(parse("SELECT 1").is_none());
    }
}
