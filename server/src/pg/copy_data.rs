//! COPY data as documents. A CSV or text row becomes a document whose fields are named by
//! the column list, else the header (`HEADER`), else the collection's columns. A cell that
//! reads as a JSON number or boolean is one, an empty CSV cell or `\N` in text is null,
//! anything else is a string. An NDJSON line is one document.

use cairn_engine::SqlState;
use cairn_storage::{Object, Value};

use crate::statement::copy::{Layout, Options};
use crate::statement::Refusal;

/// A problem with COPY data, with the line it is on.
pub(super) fn bad_data(line: usize, message: impl std::fmt::Display) -> Refusal {
    Refusal::new(SqlState::BadCopyFileFormat, format!("COPY data, line {line}: {message}"))
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
pub(super) fn row_documents(
    data: &[u8],
    options: &Options,
    fields: &[String],
    columns: impl FnOnce() -> Vec<String>,
) -> Result<Vec<Value>, Refusal> {
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
            return Err(bad_data(
                i + first_line,
                format!("{} fields, expected {} ({})", row.len(), names.len(), names.join(", ")),
            ));
        }
        let doc: Object =
            names.iter().cloned().zip(row.into_iter().map(|cell| cell.map_or(Value::Null, |c| scalar(&c)))).collect();
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
    let delimiter = u8::try_from(options.delimiter)
        .map_err(|_| Refusal::new(SqlState::InvalidParameterValue, "the CSV delimiter must be one byte"))?;
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
    let text = std::str::from_utf8(data)
        .map_err(|e| Refusal::new(SqlState::CharacterNotInRepertoire, format!("COPY data is not UTF-8: {e}")))?;
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
    use crate::statement::copy::{parse, Copy, CopyIn};

    fn copy_in(sql: &str) -> Options {
        match parse(sql).unwrap().unwrap() {
            Copy::In(CopyIn { options, .. }) => options,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rows_become_documents() {
        let csv = copy_in("COPY t FROM STDIN CSV HEADER");
        let docs = row_documents(b"id,n,s,e\na,1,\"x,y\",\nb,2.5,true,\"\"\n", &csv, &[], Vec::new).unwrap();
        let doc = |j: &str| Value::from_json_str(j).unwrap();
        assert_eq!(docs, [doc(r#"{"id":"a","n":1,"s":"x,y","e":null}"#), doc(r#"{"id":"b","n":2.5,"s":true,"e":null}"#)]);
        let text = copy_in("COPY t (id, v) FROM STDIN");
        let docs = row_documents(b"a\tline\\none\nb\t\\N\n\\.\n", &text, &["id".into(), "v".into()], Vec::new).unwrap();
        assert_eq!(docs, [doc(r#"{"id":"a","v":"line\none"}"#), doc(r#"{"id":"b","v":null}"#)]);
        let short = row_documents(b"a\n", &text, &["id".into(), "v".into()], Vec::new).unwrap_err();
        assert_eq!(short.state, SqlState::BadCopyFileFormat);
        assert!(ndjson_document(b"[1]", 3).unwrap_err().message.contains("line 3"));
    }
}
