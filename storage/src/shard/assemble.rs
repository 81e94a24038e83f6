//! Column assembly: accumulates one output column's values for a batch, from column chunks
//! (scans) or from decoded values (fetches), into the Arrow array its [`ColumnOutput`] names.
//! Strings are gathered as raw bytes and offsets and validated as UTF-8 once per batch; a
//! chunk whose entries are exactly the batch's rows is copied in bulk.

use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, BooleanBuilder, LargeBinaryBuilder};
use arrow_array::types::{Date32Type, Float64Type, Int64Type, Time64MicrosecondType, TimestampMicrosecondType};
use arrow_array::{ArrayRef, PrimitiveArray, StringArray};
use arrow_buffer::{Buffer, NullBufferBuilder, OffsetBuffer, ScalarBuffer};

use super::scan::ColumnOutput;
use crate::error::{corrupt, Result, StorageError};
use crate::index::column::{ChunkView, CHUNK_BITS};
use crate::value::codec::encode_value;
use crate::value::keycode::{encode_key_into, encode_str_into};
use crate::value::{Value, ValueType};

/// Accumulates one column's values for a batch.
pub(super) enum Assembler {
    Fixed { t: ValueType, vals: Vec<u64>, nulls: NullBufferBuilder },
    Bool(BooleanBuilder),
    Str(StrParts),
    Bin { t: Option<ValueType>, b: BinaryBuilder },
    Key(LargeBinaryBuilder, Vec<u8>),
}

/// A string column under construction: concatenated bytes, end offsets and validity.
pub(super) struct StrParts {
    offsets: Vec<i32>,
    data: Vec<u8>,
    nulls: NullBufferBuilder,
}

impl StrParts {
    fn push(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
        self.offsets.push(self.data.len() as i32);
        self.nulls.append_non_null();
    }

    fn push_null(&mut self) {
        self.offsets.push(self.data.len() as i32);
        self.nulls.append_null();
    }

    /// Appends every entry of a string chunk: `offsets` holds n+1 little-endian u32 offsets into
    /// `data`, which must not decrease.
    fn extend_chunk(&mut self, offsets: &[u8], data: &[u8]) -> Result<()> {
        let bad = || corrupt("column chunk", "bad offsets");
        let at = |c: &[u8]| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize;
        let (first, last) = (at(&offsets[..4]), at(&offsets[offsets.len() - 4..]));
        let bytes = data.get(first..last).ok_or_else(bad)?;
        let base = self.data.len() as i64 - first as i64;
        self.data.extend_from_slice(bytes);
        let mut prev = first;
        for c in offsets[4..].chunks_exact(4) {
            let o = at(c);
            if o < prev || o > last {
                return Err(bad());
            }
            prev = o;
            self.offsets.push((base + o as i64) as i32);
        }
        self.nulls.append_n_non_nulls(offsets.len() / 4 - 1);
        Ok(())
    }

    fn finish(mut self) -> Result<ArrayRef> {
        if self.data.len() > i32::MAX as usize {
            return Err(StorageError::InvalidArgument("a batch's strings exceed 2 GiB".into()));
        }
        let offsets = OffsetBuffer::new(ScalarBuffer::from(self.offsets));
        let array = StringArray::try_new(offsets, Buffer::from_vec(self.data), self.nulls.finish())
            .map_err(|_| corrupt("column chunk", "bad string offsets or UTF-8"))?;
        Ok(Arc::new(array))
    }
}

impl Assembler {
    /// An empty column of `output` with room for `cap` values.
    pub(super) fn new(output: ColumnOutput, cap: usize) -> Assembler {
        match output {
            ColumnOutput::Encoded => Assembler::Bin { t: None, b: BinaryBuilder::with_capacity(cap, cap * 8) },
            ColumnOutput::Key => Assembler::Key(LargeBinaryBuilder::with_capacity(cap, cap * 8), Vec::new()),
            ColumnOutput::Typed(ValueType::Bool) => Assembler::Bool(BooleanBuilder::with_capacity(cap)),
            ColumnOutput::Typed(ValueType::String) => {
                let mut offsets = Vec::with_capacity(cap + 1);
                offsets.push(0);
                Assembler::Str(StrParts { offsets, data: Vec::with_capacity(cap * 16), nulls: NullBufferBuilder::new(cap) })
            }
            ColumnOutput::Typed(ValueType::Bytes) => {
                Assembler::Bin { t: Some(ValueType::Bytes), b: BinaryBuilder::with_capacity(cap, cap * 8) }
            }
            ColumnOutput::Typed(t) => Assembler::Fixed { t, vals: Vec::with_capacity(cap), nulls: NullBufferBuilder::new(cap) },
        }
    }

    /// Appends a missing value.
    pub(super) fn push_null(&mut self) {
        match self {
            Assembler::Fixed { vals, nulls, .. } => {
                vals.push(0);
                nulls.append_null();
            }
            Assembler::Bool(b) => b.append_null(),
            Assembler::Str(s) => s.push_null(),
            Assembler::Bin { b, .. } => b.append_null(),
            Assembler::Key(b, _) => b.append_null(),
        }
    }

    /// Appends a value (null when missing or not of the column's type).
    pub(super) fn push_value(&mut self, v: Option<&Value>) {
        let Some(v) = v else { return self.push_null() };
        match (&mut *self, v) {
            (Assembler::Bin { t: None, b }, v) => {
                let mut enc = Vec::new();
                encode_value(v, &mut enc);
                b.append_value(enc);
            }
            (Assembler::Bin { t: Some(_), b }, Value::Bytes(x)) => b.append_value(x),
            (Assembler::Key(b, scratch), v) => {
                scratch.clear();
                encode_key_into(v, scratch);
                b.append_value(&scratch[..]);
            }
            (Assembler::Bool(b), Value::Bool(x)) => b.append_value(*x),
            (Assembler::Str(s), Value::String(x)) => s.push(x.as_bytes()),
            (Assembler::Fixed { t, vals, nulls }, v) => match fixed_bits(*t, v) {
                Some(bits) => {
                    vals.push(bits);
                    nulls.append_non_null();
                }
                None => {
                    vals.push(0);
                    nulls.append_null();
                }
            },
            _ => self.push_null(),
        }
    }

    /// Pushes entry `i` of a chunk.
    fn push_entry(&mut self, chunk: &ChunkView, i: usize) -> Result<()> {
        match self {
            Assembler::Bin { t: None, b } => {
                let mut enc = Vec::new();
                chunk.codec_bytes(i, &mut enc)?;
                b.append_value(enc);
            }
            Assembler::Key(b, scratch) if chunk.uniform_type() == Some(ValueType::String) => {
                scratch.clear();
                encode_str_into(chunk.var_bytes(i)?, scratch);
                b.append_value(&scratch[..]);
            }
            Assembler::Str(s) if chunk.uniform_type() == Some(ValueType::String) => s.push(chunk.var_bytes(i)?),
            _ => self.push_value(Some(&chunk.value(i)?)),
        }
        Ok(())
    }

    /// Appends a whole chunk whose entries are exactly the batch's rows, if its layout allows
    /// a bulk copy into this column; false when it does not.
    fn extend_dense(&mut self, chunk: &ChunkView) -> Result<bool> {
        match self {
            Assembler::Fixed { t, vals, nulls } if chunk.uniform_type() == Some(*t) => {
                let Some(bytes) = chunk.fixed_values() else { return Ok(false) };
                vals.extend(bytes.chunks_exact(8).map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])));
                nulls.append_n_non_nulls(bytes.len() / 8);
                Ok(true)
            }
            Assembler::Str(s) if chunk.uniform_type() == Some(ValueType::String) => match chunk.var_parts() {
                Some((offsets, data)) => s.extend_chunk(offsets, data).map(|_| true),
                None => Ok(false),
            },
            _ => Ok(false),
        }
    }

    /// The finished Arrow array.
    pub(super) fn finish(self) -> Result<ArrayRef> {
        Ok(match self {
            Assembler::Fixed { t, vals, mut nulls } => {
                let nulls = nulls.finish();
                let buf = Buffer::from_vec(vals);
                let len = buf.len() / 8;
                match t {
                    ValueType::Float => Arc::new(PrimitiveArray::<Float64Type>::new(ScalarBuffer::new(buf, 0, len), nulls)),
                    ValueType::Date => {
                        let days: Vec<i32> = ScalarBuffer::<i64>::new(buf, 0, len).iter().map(|d| *d as i32).collect();
                        Arc::new(PrimitiveArray::<Date32Type>::new(days.into(), nulls))
                    }
                    ValueType::Time => {
                        Arc::new(PrimitiveArray::<Time64MicrosecondType>::new(ScalarBuffer::new(buf, 0, len), nulls))
                    }
                    ValueType::DateTime => {
                        Arc::new(PrimitiveArray::<TimestampMicrosecondType>::new(ScalarBuffer::new(buf, 0, len), nulls))
                    }
                    ValueType::Timestamp => Arc::new(
                        PrimitiveArray::<TimestampMicrosecondType>::new(ScalarBuffer::new(buf, 0, len), nulls)
                            .with_timezone("UTC"),
                    ),
                    _ => Arc::new(PrimitiveArray::<Int64Type>::new(ScalarBuffer::new(buf, 0, len), nulls)),
                }
            }
            Assembler::Bool(mut b) => Arc::new(b.finish()),
            Assembler::Str(s) => return s.finish(),
            Assembler::Bin { mut b, .. } => Arc::new(b.finish()),
            Assembler::Key(mut b, _) => Arc::new(b.finish()),
        })
    }
}

/// The 8-byte image of a fixed-width value of type `t`, if `v` has that type.
fn fixed_bits(t: ValueType, v: &Value) -> Option<u64> {
    Some(match (t, v) {
        (ValueType::Int, Value::Int(i)) => *i as u64,
        (ValueType::Float, Value::Float(f)) => f.to_bits(),
        (ValueType::Date, Value::Date(d)) => *d as i64 as u64,
        (ValueType::Time, Value::Time(x))
        | (ValueType::DateTime, Value::DateTime(x))
        | (ValueType::Timestamp, Value::Timestamp(x)) => *x as u64,
        _ => return None,
    })
}

/// Fills one column for `rows` (document numbers of one chunk, ascending; `rows_le` their
/// offsets in the chunk as little-endian u16s) from the chunk, if any.
pub(super) fn fill_from_chunk(a: &mut Assembler, view: Option<&ChunkView>, rows: &[u32], rows_le: &[u8]) -> Result<()> {
    let Some(view) = view else {
        rows.iter().for_each(|_| a.push_null());
        return Ok(());
    };
    if view.len() == rows.len() && view.offsets_le() == rows_le && a.extend_dense(view)? {
        return Ok(());
    }
    let mut e = 0;
    for d in rows {
        let off = (*d & ((1 << CHUNK_BITS) - 1)) as u16;
        while e < view.len() && view.offset(e) < off {
            e += 1;
        }
        if e < view.len() && view.offset(e) == off {
            a.push_entry(view, e)?;
        } else {
            a.push_null();
        }
    }
    Ok(())
}
