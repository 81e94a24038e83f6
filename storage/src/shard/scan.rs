//! Column reads as Arrow record batches: a scan over column chunks (wide reads, one batch per
//! chunk of document numbers) and a fetch by document number from the row index (selective
//! reads). Both produce the same schema, so callers can pick either per query.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, UInt32Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use roaring::RoaringBitmap;

use super::assemble::{fill_from_chunk, Assembler};
use super::ShardSnapshot;
use crate::document::ID_FIELD;
use crate::error::{Result, RocksContext, StorageError};
use crate::index::column::{chunk_of, ChunkView, CHUNK_BITS};
use crate::index::keys::{self, cf};
use crate::path::{FieldPath, Segment};
use crate::value::codec::decode_path;
use crate::value::{Value, ValueType};

/// How a column's values come out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnOutput {
    /// Values of this scalar type as the matching Arrow type; other types and missing values
    /// become null.
    Typed(ValueType),
    /// Every value, codec-encoded, as Arrow binary ([`crate::value::codec::decode_value`]
    /// reads it); a missing (undefined) value is null, a JSON null is an encoded null.
    Encoded,
    /// Every value in the order-preserving key encoding, as Arrow large binary
    /// ([`crate::value::keycode::decode_key`] reads it): byte order is value order across
    /// types. A missing (undefined) value is null, a JSON null is an encoded null.
    Key,
}

/// One column to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Field path in text form; must not pass through `*`.
    pub path: String,
    /// Output representation.
    pub output: ColumnOutput,
}

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Columns, in output order.
    pub columns: Vec<ColumnSpec>,
    /// Restrict to these document numbers (intersected with the live documents).
    pub docs: Option<RoaringBitmap>,
    /// Prepend a `_doc_number` UInt32 column.
    pub with_doc_number: bool,
}

impl ScanOptions {
    /// The Arrow schema of every batch these options produce.
    pub fn schema(&self) -> Result<SchemaRef> {
        let mut fields = Vec::with_capacity(self.columns.len() + 1);
        if self.with_doc_number {
            fields.push(Field::new("_doc_number", DataType::UInt32, false));
        }
        for c in &self.columns {
            fields.push(Field::new(&c.path, arrow_type(c.output)?, true));
        }
        Ok(Arc::new(Schema::new(fields)))
    }

    fn parsed_paths(&self) -> Result<Vec<FieldPath>> {
        self.columns
            .iter()
            .map(|c| {
                let p = FieldPath::parse(&c.path)?;
                if p.has_elements() {
                    return Err(StorageError::InvalidArgument(format!(
                        "column '{}' passes through array elements; read the array column and unnest it",
                        c.path
                    )));
                }
                Ok(p)
            })
            .collect()
    }
}

/// The Arrow type of a column output.
pub fn arrow_type(output: ColumnOutput) -> Result<DataType> {
    Ok(match output {
        ColumnOutput::Encoded => DataType::Binary,
        ColumnOutput::Key => DataType::LargeBinary,
        ColumnOutput::Typed(t) => match t {
            ValueType::Bool => DataType::Boolean,
            ValueType::Int => DataType::Int64,
            ValueType::Float => DataType::Float64,
            ValueType::String => DataType::Utf8,
            ValueType::Bytes => DataType::Binary,
            ValueType::Date => DataType::Date32,
            ValueType::Time => DataType::Time64(TimeUnit::Microsecond),
            ValueType::DateTime => DataType::Timestamp(TimeUnit::Microsecond, None),
            ValueType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            other => {
                return Err(StorageError::InvalidArgument(format!(
                    "no typed column output for {}; use the encoded output",
                    other.name()
                )))
            }
        },
    })
}

/// How one column of a scan is read.
enum Source<'a> {
    /// From the column index.
    Chunks { path: u32, it: rocksdb::DBRawIteratorWithThreadMode<'a, rocksdb::DB> },
    /// The path holds objects (not in the column index): from row fragments.
    Rows,
    /// No document in this shard ever held the path.
    Absent,
}

/// An iterator of record batches over the column index, one batch per chunk of document
/// numbers that holds live (and selected) documents.
pub struct ColumnScan<'a> {
    snap: &'a ShardSnapshot,
    opts: &'a ScanOptions,
    schema: SchemaRef,
    paths: Vec<FieldPath>,
    sources: Vec<Source<'a>>,
    docs: RoaringBitmap,
    next_chunk: Option<u32>,
}

impl ShardSnapshot {
    /// Scans the chosen columns of the live (and, if given, selected) documents from the column index.
    pub fn scan<'a>(&'a self, opts: &'a ScanOptions) -> Result<ColumnScan<'a>> {
        let schema = opts.schema()?;
        let paths = opts.parsed_paths()?;
        let mut docs = self.all_docs()?;
        if let Some(sel) = &opts.docs {
            docs &= sel;
        }
        let object_paths: Vec<String> =
            self.shard().type_counts().into_iter().filter(|(_, t, _)| *t == ValueType::Object).map(|(p, _, _)| p).collect();
        let sources = opts
            .columns
            .iter()
            .map(|c| match self.path_id(&c.path) {
                None => Source::Absent,
                Some(_) if matches!(c.output, ColumnOutput::Encoded | ColumnOutput::Key) && object_paths.contains(&c.path) => {
                    Source::Rows
                }
                Some(path) => {
                    let lower = keys::col_key(path, 0);
                    let upper = keys::col_key(path + 1, 0);
                    let mut ro = self.bounded(&lower, Some(upper.to_vec()));
                    ro.set_readahead_size(2 << 20);
                    Source::Chunks { path, it: self.shard().db.raw_iterator_cf_opt(self.shard().cf(cf::COLS), ro) }
                }
            })
            .collect();
        let next_chunk = docs.min().map(chunk_of);
        Ok(ColumnScan { snap: self, opts, schema, paths, sources, docs, next_chunk })
    }

    /// Reads the chosen columns of `docs` (those still live) from the row index, with one
    /// batched point read of the fragments they need: the access path for selective results.
    pub fn fetch(&self, docs: &RoaringBitmap, opts: &ScanOptions) -> Result<RecordBatch> {
        let schema = opts.schema()?;
        let paths = opts.parsed_paths()?;
        // Each column's top-level field and the object fields below it (None: the path goes
        // through array elements, which a document's top level never is).
        let steps: Vec<Option<(&str, Vec<&str>)>> = paths
            .iter()
            .map(|p| {
                let fields: Option<Vec<&str>> =
                    p.0.iter().map(|s| if let Segment::Field(f) = s { Some(f.as_str()) } else { None }).collect();
                fields.and_then(|f| Some((*f.first()?, f[1..].to_vec())))
            })
            .collect();
        // The top-level fragments to read, in key order; `_id` among them: every live document
        // has it, so a document without it is skipped.
        let mut tops: Vec<&str> = steps.iter().flatten().map(|(top, _)| *top).chain([ID_FIELD]).collect();
        tops.sort_unstable();
        tops.dedup();
        let slot = |field: &str| tops.iter().position(|t| *t == field);
        let id_slot = slot(ID_FIELD).unwrap_or_default();
        // Per column: which fragment holds it and the fields below that fragment's top.
        let reads: Vec<Option<(usize, &[&str])>> =
            steps.iter().map(|s| s.as_ref().and_then(|(top, below)| Some((slot(top)?, below.as_slice())))).collect();
        // One batched point read of every (document, fragment) key: documents ascend and
        // fragments are sorted, so the keys are in key order.
        let keys: Vec<Vec<u8>> = docs.iter().flat_map(|doc| tops.iter().map(move |t| keys::row_key(doc, t))).collect();
        let fragments = self
            .shard()
            .db
            .batched_multi_get_cf_opt(self.shard().cf(cf::ROWS), keys.iter().map(Vec::as_slice), true, &self.read_options())
            .into_iter()
            .collect::<std::result::Result<Vec<_>, _>>()
            .ctx("reading row fragments")?;
        let n = docs.len() as usize;
        let mut cols: Vec<Assembler> = opts.columns.iter().map(|c| Assembler::new(c.output, n)).collect();
        let mut live = Vec::with_capacity(n);
        for (doc, frags) in docs.iter().zip(fragments.chunks(tops.len())) {
            if frags[id_slot].is_none() {
                continue;
            }
            live.push(doc);
            for (a, read) in cols.iter_mut().zip(&reads) {
                let value = match read.and_then(|(i, below)| Some((frags[i].as_deref()?, below))) {
                    Some((bytes, below)) => decode_path(bytes, below)?,
                    None => None,
                };
                a.push_value(value.as_ref());
            }
        }
        finish_batch(schema, opts.with_doc_number.then_some(live), cols)
    }
}

fn finish_batch(schema: SchemaRef, doc_numbers: Option<Vec<u32>>, cols: Vec<Assembler>) -> Result<RecordBatch> {
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(cols.len() + 1);
    if let Some(d) = doc_numbers {
        arrays.push(Arc::new(UInt32Array::from(d)));
    }
    for c in cols {
        arrays.push(c.finish()?);
    }
    Ok(RecordBatch::try_new(schema, arrays)?)
}

impl ColumnScan<'_> {
    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn batch_for_chunk(&mut self, chunk: u32) -> Result<RecordBatch> {
        let base = chunk << CHUNK_BITS;
        let rows: Vec<u32> = self.docs.range(base..base + (1 << CHUNK_BITS)).collect();
        let rows_le: Vec<u8> = rows.iter().flat_map(|d| ((d - base) as u16).to_le_bytes()).collect();
        let mut cols = Vec::with_capacity(self.sources.len());
        let mut row_docs: Option<Vec<Value>> = None;
        for (i, source) in self.sources.iter_mut().enumerate() {
            let mut a = Assembler::new(self.opts.columns[i].output, rows.len());
            match source {
                Source::Absent => (0..rows.len()).for_each(|_| a.push_null()),
                Source::Rows => {
                    if row_docs.is_none() {
                        let mut reader = self.snap.row_reader();
                        let loaded: Result<Vec<Value>> = rows.iter().map(|d| reader.read(*d, None).map(Value::Object)).collect();
                        row_docs = Some(loaded?);
                    }
                    for root in row_docs.iter().flatten() {
                        a.push_value(self.paths[i].get(root));
                    }
                }
                Source::Chunks { path, it } => {
                    let key = keys::col_key(*path, chunk);
                    it.seek(key);
                    it.status().ctx("scanning column index")?;
                    let found = it.key().filter(|k| *k == key.as_slice()).and(it.value());
                    let folded = found.map(crate::index::column::folded).transpose()?;
                    let view = folded.as_deref().map(ChunkView::parse).transpose()?;
                    fill_from_chunk(&mut a, view.as_ref(), &rows, &rows_le)?;
                }
            }
            cols.push(a);
        }
        finish_batch(Arc::clone(&self.schema), self.opts.with_doc_number.then_some(rows), cols)
    }
}

impl Iterator for ColumnScan<'_> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let chunk = self.next_chunk?;
        let next_base = (chunk + 1).checked_mul(1 << CHUNK_BITS);
        self.next_chunk = next_base.and_then(|b| self.docs.range(b..).next()).map(chunk_of);
        Some(self.batch_for_chunk(chunk))
    }
}
