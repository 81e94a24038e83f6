//! Formats of the data sources read: JSON (NDJSON, concatenated values or one array) and CSV
//! with a header, compressed with gzip or zstd or not (told by the data's first bytes). Each
//! yields documents in order with their place (line or byte offset); a record that cannot be
//! read is reported with its place and why, and reading goes on after it.

mod compression;
mod csv;
mod json;

use std::fmt;
use std::io::Read;

use cairn_storage::Value;
use serde::{Deserialize, Serialize};

pub use self::csv::CsvOptions;
pub use compression::decompressed;

/// How a source's bytes are read into documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Format {
    /// Told by the file name's extension (`.json`, `.ndjson`, `.jsonl`, `.csv`, `.tsv`, with
    /// `.gz` or `.zst` after it); JSON when it says nothing.
    #[default]
    Auto,
    /// JSON: one value per line, values one after the other, or one array of them.
    Json,
    /// CSV with these options.
    Csv(CsvOptions),
}

impl Format {
    /// The format named `name` (`auto`, `json`, `ndjson`, `csv`, `tsv`).
    pub fn named(name: &str) -> Option<Format> {
        Some(match name.to_ascii_lowercase().as_str() {
            "auto" => Format::Auto,
            "json" | "ndjson" | "jsonl" => Format::Json,
            "csv" => Format::Csv(CsvOptions::default()),
            "tsv" => Format::Csv(CsvOptions { separator: '\t', ..CsvOptions::default() }),
            _ => return None,
        })
    }

    /// The format to read `name` (a file or object name) in: this one, or for
    /// [`Format::Auto`] the one its extension says.
    pub fn for_name(&self, name: &str) -> Format {
        if *self != Format::Auto {
            return self.clone();
        }
        let lower = name.to_ascii_lowercase();
        let stem = [".gz", ".gzip", ".zst", ".zstd"].iter().find_map(|c| lower.strip_suffix(c)).unwrap_or(&lower);
        match stem.rsplit_once('.').map(|(_, ext)| ext) {
            Some("csv") => Format::Csv(CsvOptions::default()),
            Some("tsv") => Format::Csv(CsvOptions { separator: '\t', ..CsvOptions::default() }),
            _ => Format::Json,
        }
    }
}

/// Where in its input a record was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A line, counted from 1.
    Line(u64),
    /// A byte offset of the (decompressed) input.
    Offset(u64),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Line(n) => write!(f, "line {n}"),
            Place::Offset(n) => write!(f, "byte offset {n}"),
        }
    }
}

/// A record that could not be read: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    /// Where it was.
    pub place: Place,
    /// Why it was refused.
    pub reason: String,
}

/// What reading gives, record by record.
pub type Item = Result<Value, BadRecord>;

/// The records of `input` read as `format` (for [`Format::Auto`], as JSON), decompressed
/// first when its first bytes say it is compressed. An input that fails mid-way ends with a
/// [`BadRecord`] saying so.
pub fn records(input: Box<dyn Read + Send>, format: &Format) -> Box<dyn Iterator<Item = Item> + Send> {
    let input = match decompressed(input) {
        Ok(r) => r,
        Err(e) => {
            let bad = BadRecord { place: Place::Offset(0), reason: format!("cannot read the input: {e}") };
            return Box::new(std::iter::once(Err(bad)));
        }
    };
    match format {
        Format::Auto | Format::Json => Box::new(json::JsonRecords::new(input)),
        Format::Csv(options) => Box::new(csv::csv_records(input, options)),
    }
}

#[cfg(test)]
mod tests;
