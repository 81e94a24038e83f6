//! CSV input: a header line naming the columns (or names given), one document per row.
//! Values are typed the way a user expects from a spreadsheet: an empty field is null,
//! integers (without leading zeros, so `007` stays text) are ints, decimals are floats,
//! `true` and `false` are booleans, and everything else is text (an `_id` column is always
//! text). A row with more or fewer
//! fields than there are columns is reported with its line and skipped.

use std::io::Read;

use cairn_storage::{Object, Value};
use serde::{Deserialize, Serialize};

use super::{BadRecord, Item, Place};

/// How CSV is read (Rockset's `csv` format parameters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CsvOptions {
    /// Between fields.
    pub separator: char,
    /// Around fields that hold separators, quotes or line breaks.
    pub quote: char,
    /// Before a quote inside a quoted field, when not doubled quotes.
    pub escape: Option<char>,
    /// Whether the first line names the columns.
    pub header: bool,
    /// The columns' names, when the input has no header (or to override it).
    pub column_names: Option<Vec<String>>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { separator: ',', quote: '"', escape: None, header: true, column_names: None }
    }
}

/// One byte of an option (CSV's separators are single ASCII characters).
fn byte(c: char) -> u8 {
    if c.is_ascii() {
        c as u8
    } else {
        b','
    }
}

/// The rows of `input` as documents.
pub(super) fn csv_records(input: Box<dyn Read + Send>, options: &CsvOptions) -> impl Iterator<Item = Item> + Send {
    let mut builder = csv::ReaderBuilder::new();
    builder.has_headers(false).flexible(true).delimiter(byte(options.separator)).quote(byte(options.quote));
    if let Some(e) = options.escape {
        builder.escape(Some(byte(e))).double_quote(false);
    }
    let mut reader = builder.from_reader(input);
    let mut names = options.column_names.clone();
    let mut header_pending = options.header;
    let mut done = false;
    let mut record = csv::StringRecord::new();
    std::iter::from_fn(move || loop {
        if done {
            return None;
        }
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => {
                done = true;
                return None;
            }
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(line);
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    done = true;
                }
                return Some(Err(BadRecord { place: Place::Line(line), reason: format!("malformed CSV: {e}") }));
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        if header_pending {
            header_pending = false;
            if names.is_none() {
                names = Some(record.iter().map(str::to_owned).collect());
            }
            continue;
        }
        // No header and no names: the columns are numbered by the first row.
        let columns = names.get_or_insert_with(|| (1..=record.len()).map(|i| format!("column{i}")).collect());
        return Some(row_document(&record, columns, line));
    })
}

/// The document of one row.
fn row_document(record: &csv::StringRecord, columns: &[String], line: u64) -> Item {
    if record.len() != columns.len() {
        return Err(BadRecord {
            place: Place::Line(line),
            reason: format!("the row has {} fields, but there are {} columns", record.len(), columns.len()),
        });
    }
    let doc: Object = columns
        .iter()
        .zip(record.iter())
        .map(|(name, field)| {
            // An `_id` is a string, whatever it looks like.
            let value = if name == "_id" && !field.is_empty() { Value::String(field.to_owned()) } else { typed(field) };
            (name.clone(), value)
        })
        .collect();
    Ok(Value::Object(doc))
}

/// A field's value, typed as a user expects.
pub(super) fn typed(field: &str) -> Value {
    if field.is_empty() {
        return Value::Null;
    }
    match field {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    let digits = field.strip_prefix('-').unwrap_or(field);
    let plain_int =
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && (digits == "0" || !digits.starts_with('0'));
    if plain_int {
        if let Ok(n) = field.parse::<i64>() {
            return Value::Int(n);
        }
    }
    let numeric = digits.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    let leading_zero = digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.");
    if numeric && !leading_zero && digits.bytes().next().is_some_and(|b| b.is_ascii_digit() || b == b'.') {
        if let Ok(f) = field.parse::<f64>() {
            if f.is_finite() {
                return Value::Float(f);
            }
        }
    }
    Value::String(field.to_owned())
}
