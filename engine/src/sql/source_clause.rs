//! `CREATE COLLECTION ws.c FROM FILES (path = '/data/*.json.gz', format = 'json')`: the
//! source a collection is created with, read from the clause's text (the form RisingWave's
//! and Materialize's users type: a connector's name, then its settings as `key = 'value'`).

use cairn_connectors::format::{CsvOptions, Format};
use cairn_connectors::source::FilesSpec;
use cairn_connectors::SourceSpec;

use super::collection_options::{split_outside_quotes, unquote};
use cairn_storage::StorageError;

use crate::error::{EngineError, Result};

/// A setting that is wrong (22023, as PostgreSQL answers an unknown or bad storage
/// parameter); the clause's shape being wrong is a syntax error instead.
fn bad_value(message: String) -> EngineError {
    EngineError::Storage(StorageError::InvalidArgument(message))
}

/// The source a `FROM <kind> (…)` clause defines (`text` starts at `FROM`), and the text
/// after the clause.
pub(crate) fn source_clause(text: &str) -> Result<(SourceSpec, &str)> {
    let bad = |m: String| EngineError::Invalid(m);
    let rest = text.trim_start().get(4..).unwrap_or("").trim_start();
    let kind_end = rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(rest.len());
    let (kind, rest) = rest.split_at(kind_end);
    let rest = rest.trim_start();
    let inner_end = closing_paren(rest).ok_or_else(|| bad(format!("expected FROM {kind} (setting = 'value', …)")))?;
    let (inner, after) = (&rest[1..inner_end], &rest[inner_end + 1..]);
    let mut settings = Settings { kind: kind.to_ascii_lowercase(), items: Vec::new() };
    for item in split_outside_quotes(inner) {
        let (key, value) = item.split_once('=').ok_or_else(|| bad(format!("source setting '{item}' needs '= value'")))?;
        settings.items.push((key.trim().to_ascii_lowercase(), unquote(value.trim()).to_owned(), false));
    }
    let spec = match settings.kind.as_str() {
        "files" | "file" => files(&mut settings)?,
        "" => return Err(bad("FROM needs a source kind, such as FROM FILES (path = '…')".into())),
        other => return Err(EngineError::Unsupported(format!("sources of kind {other} (files)"))),
    };
    settings.all_used()?;
    Ok((spec, after))
}

/// The byte index of the parenthesis closing the one `text` starts with.
fn closing_paren(text: &str) -> Option<usize> {
    if !text.starts_with('(') {
        return None;
    }
    let (mut depth, mut quoted) = (0, false);
    for (i, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// A clause's settings, each marked once it is read.
struct Settings {
    kind: String,
    items: Vec<(String, String, bool)>,
}

impl Settings {
    fn take(&mut self, key: &str) -> Option<String> {
        self.items.iter_mut().find(|(k, _, used)| k == key && !*used).map(|(_, v, used)| {
            *used = true;
            v.clone()
        })
    }

    fn required(&mut self, key: &str) -> Result<String> {
        self.take(key).ok_or_else(|| bad_value(format!("a {} source needs {key} = '…'", self.kind)))
    }

    fn all_used(&self) -> Result<()> {
        match self.items.iter().find(|(_, _, used)| !used) {
            Some((key, _, _)) => Err(bad_value(format!("unknown setting '{key}' for a {} source", self.kind))),
            None => Ok(()),
        }
    }

    fn char(&mut self, key: &str) -> Result<Option<char>> {
        let Some(v) = self.take(key) else { return Ok(None) };
        let v = match v.as_str() {
            "\\t" | "tab" => "\t".to_owned(),
            _ => v,
        };
        let mut chars = v.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii() => Ok(Some(c)),
            _ => Err(bad_value(format!("{key} must be one ASCII character, got '{v}'"))),
        }
    }
}

/// `FROM FILES (path = …, format = auto|json|csv|tsv, separator, quote, escape, header,
/// columns)`.
fn files(s: &mut Settings) -> Result<SourceSpec> {
    let path = s.required("path")?;
    let format = s.take("format").unwrap_or_else(|| "auto".into());
    let mut format =
        Format::named(&format).ok_or_else(|| bad_value(format!("unknown format '{format}' (auto, json, csv, tsv)")))?;
    let separator = s.char("separator")?;
    let quote = s.char("quote")?;
    let escape = s.char("escape")?;
    let header = match s.take("header").map(|h| h.to_ascii_lowercase()) {
        None => None,
        Some(h) if h == "true" => Some(true),
        Some(h) if h == "false" => Some(false),
        Some(h) => return Err(bad_value(format!("header must be true or false, got '{h}'"))),
    };
    let columns = s.take("columns").map(|c| c.split(',').map(|n| n.trim().to_owned()).collect::<Vec<_>>());
    let csv_settings = separator.is_some() || quote.is_some() || escape.is_some() || header.is_some() || columns.is_some();
    if csv_settings {
        let mut options = match format {
            Format::Csv(o) => o,
            Format::Auto => CsvOptions::default(),
            Format::Json => return Err(bad_value("CSV settings given for format 'json'".into())),
        };
        options.separator = separator.unwrap_or(options.separator);
        options.quote = quote.unwrap_or(options.quote);
        options.escape = escape.or(options.escape);
        options.header = header.unwrap_or(columns.is_none());
        options.column_names = columns;
        format = Format::Csv(options);
    }
    let spec = SourceSpec::Files(FilesSpec { path, format });
    spec.check().map_err(|e| bad_value(e.to_string()))?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_files_clause_is_read_with_its_settings() {
        let (spec, rest) = source_clause(
            "FROM files (path = '/d/*.csv', separator = ';', header = 'false', columns = 'a, b') WITH (shards = 2)",
        )
        .unwrap();
        let SourceSpec::Files(f) = spec;
        assert_eq!(f.path, "/d/*.csv");
        let Format::Csv(o) = f.format else { panic!("csv") };
        assert_eq!((o.separator, o.header, o.column_names), (';', false, Some(vec!["a".into(), "b".into()])));
        assert_eq!(rest.trim(), "WITH (shards = 2)");
        let (spec, rest) = source_clause("FROM FILES (path = '/d', format = 'json')").unwrap();
        assert_eq!(spec, SourceSpec::Files(FilesSpec { path: "/d".into(), format: Format::Json }));
        assert_eq!(rest, "");
        for bad in [
            "FROM FILES (format = 'json')",
            "FROM FILES (path = 'relative')",
            "FROM FILES (path = '/d', colour = 'red')",
            "FROM FILES (path = '/d', format = 'xls')",
            "FROM FILES path = '/d'",
            "FROM KAFKA (topic = 't')",
            "FROM (path = '/d')",
        ] {
            assert!(source_clause(bad).is_err(), "{bad}");
        }
    }
}
