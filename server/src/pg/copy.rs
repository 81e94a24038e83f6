//! `COPY` over the wire. `COPY coll [(fields)] FROM STDIN` loads documents, one per line of
//! NDJSON (`FORMAT ndjson`) or one per row of CSV (`FORMAT csv`) or PostgreSQL's text format
//! (the default); `COPY coll | (query) TO STDOUT` sends rows out as text or CSV. Reading a
//! file on the server (`COPY … FROM 'file'`) is refused.
//!
//! A CSV or text row becomes a document whose fields are named by the column list, else the
//! header (`HEADER`), else the collection's columns. A cell that reads as a JSON number or
//! boolean is one, an empty CSV cell or `\N` in text is null, anything else is a string.

use cairn_storage::{Object, Value};
use datafusion::sql::sqlparser::ast::{
    CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget, ObjectName, Statement,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::settings::Refusal;

/// How COPY data is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// PostgreSQL's text format: delimited fields, `\N` for null, backslash escapes.
    Text,
    /// CSV.
    Csv,
    /// One JSON document per line (COPY FROM only).
    Ndjson,
}

/// How a COPY reads or writes its data.
#[derive(Debug, Clone)]
pub(super) struct Options {
    pub layout: Layout,
    pub delimiter: char,
    pub header: bool,
    /// The text standing for null (text and CSV).
    pub null: String,
}

/// A parsed COPY.
#[derive(Debug, Clone)]
pub(super) enum Copy {
    /// `COPY coll [(fields)] FROM STDIN`.
    In { table: ObjectName, fields: Vec<String>, options: Options },
    /// `COPY coll [(fields)] TO STDOUT` or `COPY (query) TO STDOUT`: the query to run.
    Out { query: String, options: Options },
}

/// The COPY `sql` is, if it is one; why it cannot run if it is malformed or reads files.
pub(super) fn parse(sql: &str) -> Option<Result<Copy, Refusal>> {
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
        .map_err(|e| ("42601", e.to_string()))?;
    let Statement::Copy { source, to, target, options, legacy_options, .. } = statement else {
        return Err(("42601", format!("not a COPY statement: {sql}")));
    };
    match (&target, to) {
        (CopyTarget::Stdin, false) | (CopyTarget::Stdout, true) => {}
        _ => return Err(("42501", "COPY reads from STDIN and writes to STDOUT only: the server's files are not reachable".into())),
    }
    let options = copy_options(&options, &legacy_options, to)?;
    match source {
        CopySource::Table { table_name, columns } if !to => {
            Ok(Copy::In { table: table_name, fields: columns.into_iter().map(|c| c.value).collect(), options })
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
        CopySource::Query(_) => Err(("42601", "COPY FROM loads into a collection, not a query".into())),
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
                    other => return Err(("22023", format!("COPY format \"{other}\" is not supported: use text, csv or ndjson"))),
                }
            }
            CopyOption::Delimiter(c) => delimiter = Some(*c),
            CopyOption::Null(s) => null = Some(s.clone()),
            CopyOption::Header(h) => out.header = *h,
            CopyOption::Encoding(e) if e.eq_ignore_ascii_case("utf8") || e.eq_ignore_ascii_case("utf-8") => {}
            CopyOption::Freeze(_) => {}
            other => return Err(("0A000", format!("COPY option {other} is not supported"))),
        }
    }
    for o in legacy {
        match o {
            CopyLegacyOption::Csv(csv) => {
                out.layout = Layout::Csv;
                for c in csv {
                    match c {
                        CopyLegacyCsvOption::Header => out.header = true,
                        other => return Err(("0A000", format!("COPY option {other} is not supported"))),
                    }
                }
            }
            CopyLegacyOption::Delimiter(c) => delimiter = Some(*c),
            CopyLegacyOption::Null(s) => null = Some(s.clone()),
            CopyLegacyOption::Header => out.header = true,
            other => return Err(("0A000", format!("COPY option {other} is not supported"))),
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
        return Err(("0A000", "HEADER is available in CSV mode only".into()));
    }
    Ok(out)
}

/// A problem with COPY data, with the line it is on.
pub(super) fn bad_data(line: usize, message: impl std::fmt::Display) -> Refusal {
    ("22P04", format!("COPY data, line {line}: {message}"))
}

/// One NDJSON line as a document.
pub(super) fn ndjson_document(line: &[u8], number: usize) -> Result<Value, Refusal> {
    match Value::from_json_slice(line) {
        Ok(doc @ Value::Object(_)) => Ok(doc),
        Ok(_) => Err(bad_data(number, "a document must be a JSON object")),
        Err(e) => Err(bad_data(number, format!("invalid JSON: {e}"))),
    }
}

/// The documents of CSV or text `data`. `fields` names the fields, else the header does
/// (CSV); `columns` gives the names when neither does.
pub(super) fn row_documents(data: &[u8], options: &Options, fields: &[String], columns: impl FnOnce() -> Vec<String>) -> Result<Vec<Value>, Refusal> {
    let mut rows = match options.layout {
        Layout::Csv => csv_rows(data, options)?,
        _ => text_rows(data, options)?,
    };
    let mut first_line = 1;
    let header = if options.header && !rows.is_empty() {
        first_line = 2;
        Some(rows.remove(0).into_iter().map(Option::unwrap_or_default).collect::<Vec<_>>())
    } else {
        None
    };
    let names = match (fields.is_empty(), header) {
        (false, _) => fields.to_vec(),
        (true, Some(h)) => h,
        (true, None) => columns(),
    };
    let mut docs = Vec::with_capacity(rows.len());
    for (i, row) in rows.into_iter().enumerate() {
        if row.len() != names.len() {
            return Err(bad_data(i + first_line, format!("{} fields, expected {} ({})", row.len(), names.len(), names.join(", "))));
        }
        let doc: Object = names.iter().cloned().zip(row.into_iter().map(|cell| cell.map_or(Value::Null, |c| scalar(&c)))).collect();
        docs.push(Value::Object(doc));
    }
    Ok(docs)
}

/// A cell's value: a JSON number or boolean when it reads as one, else a string.
fn scalar(text: &str) -> Value {
    match Value::from_json_str(text) {
        Ok(v @ (Value::Int(_) | Value::Float(_) | Value::Bool(_))) => v,
        _ => Value::String(text.to_owned()),
    }
}

/// CSV rows; an unquoted empty cell (or the NULL text) is null.
fn csv_rows(data: &[u8], options: &Options) -> Result<Vec<Vec<Option<String>>>, Refusal> {
    let delimiter = u8::try_from(options.delimiter).map_err(|_| ("22023", "the CSV delimiter must be one byte".to_owned()))?;
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(data);
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad_data(i + 1, e))?;
        rows.push(record.iter().map(|c| (c != options.null).then(|| c.to_owned())).collect());
    }
    Ok(rows)
}

/// Rows of PostgreSQL's text format, up to the end marker `\.`.
fn text_rows(data: &[u8], options: &Options) -> Result<Vec<Vec<Option<String>>>, Refusal> {
    let text = std::str::from_utf8(data).map_err(|e| ("22021", format!("COPY data is not UTF-8: {e}")))?;
    let mut rows = Vec::new();
    for line in text.lines() {
        if line == "\\." {
            break;
        }
        rows.push(line.split(options.delimiter).map(|f| (f != options.null).then(|| unescape(f))).collect());
    }
    Ok(rows)
}

/// A text-format field with its backslash escapes decoded.
fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_in(sql: &str) -> (Vec<String>, Options) {
        match parse(sql).unwrap().unwrap() {
            Copy::In { fields, options, .. } => (fields, options),
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
        assert_eq!(parse("COPY events FROM '/etc/passwd'").unwrap().unwrap_err().0, "42501");
        assert_eq!(parse("COPY events TO '/tmp/x'").unwrap().unwrap_err().0, "42501");
        assert!(parse("SELECT 1").is_none());
    }

    #[test]
    fn rows_become_documents() {
        let (_, csv) = copy_in("COPY t FROM STDIN CSV HEADER");
        let docs = row_documents(b"id,n,s,e\na,1,\"x,y\",\nb,2.5,true,\"\"\n", &csv, &[], Vec::new).unwrap();
        let doc = |j: &str| Value::from_json_str(j).unwrap();
        assert_eq!(docs, [doc(r#"{"id":"a","n":1,"s":"x,y","e":null}"#), doc(r#"{"id":"b","n":2.5,"s":true,"e":null}"#)]);
        let (_, text) = copy_in("COPY t (id, v) FROM STDIN");
        let docs = row_documents(b"a\tline\\none\nb\t\\N\n\\.\n", &text, &["id".into(), "v".into()], Vec::new).unwrap();
        assert_eq!(docs, [doc(r#"{"id":"a","v":"line\none"}"#), doc(r#"{"id":"b","v":null}"#)]);
        let short = row_documents(b"a\n", &text, &["id".into(), "v".into()], Vec::new).unwrap_err();
        assert_eq!(short.0, "22P04");
        assert!(ndjson_document(b"[1]", 3).unwrap_err().1.contains("line 3"));
    }
}
