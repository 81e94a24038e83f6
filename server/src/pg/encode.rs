//! How results leave the engine for a PostgreSQL client: result sets as row descriptions and
//! data rows (in the text or binary format the client asked for, JSON values as `jsonb`),
//! commands as their tags, and errors with their SQLSTATE.

use std::error::Error;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use bytes::{BufMut, BytesMut};
use cairn_engine::{Output, SqlState, JSON_COLUMN};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion_postgres::arrow_pg::datatypes::arrow_schema_to_pg_fields;
use datafusion_postgres::arrow_pg::encoder::{encode_value, Encoder};
use datafusion_postgres::pgwire::api::portal::Format;
use datafusion_postgres::pgwire::api::results::{DataRowEncoder, FieldInfo, QueryResponse, Response, Tag};
use datafusion_postgres::pgwire::api::Type;
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::types::format::FormatOptions;
use datafusion_postgres::pgwire::types::ToSqlText;
use futures::stream;
use postgres_types::{to_sql_checked, IsNull, ToSql};

use crate::statement::Refusal;

/// The wire description of a result set's columns: JSON columns are `jsonb`, the others
/// take arrow-pg's mapping of their Arrow type.
pub(super) fn fields(schema: &Schema, format: &Format, options: Arc<FormatOptions>) -> PgWireResult<Vec<FieldInfo>> {
    let mut fields = arrow_schema_to_pg_fields(schema, format, Some(options.clone()))?;
    for (i, f) in schema.fields().iter().enumerate() {
        if is_json(f) {
            fields[i] = FieldInfo::new(f.name().clone(), None, None, Type::JSONB, format.format_for(i))
                .with_format_options(options.clone());
        }
    }
    Ok(fields)
}

fn is_json(f: &Field) -> bool {
    f.metadata().contains_key(JSON_COLUMN)
}

/// Checks that per-column result format codes, if the client sent them, number `width`:
/// pgwire looks each column's code up by position.
pub(super) fn check_formats(format: &Format, width: usize) -> PgWireResult<()> {
    match format {
        Format::Individual(codes) if codes.len() != width => Err(refuse(
            SqlState::ProtocolViolation,
            format!("bind message has {} result formats but {width} columns", codes.len()),
        )),
        _ => Ok(()),
    }
}

/// Columns of text, one per name.
pub(super) fn text_schema(names: &[&str]) -> SchemaRef {
    Arc::new(Schema::new(names.iter().map(|n| Field::new(*n, DataType::Utf8, false)).collect::<Vec<_>>()))
}

/// A result set of text columns, `columns[i]` holding the values of `names[i]`, in `format`.
pub(super) fn text_rows(names: &[&str], columns: Vec<Vec<String>>, format: &Format) -> PgWireResult<Response> {
    let schema = text_schema(names);
    let arrays = columns.into_iter().map(|c| Arc::new(StringArray::from(c)) as ArrayRef).collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| refuse(SqlState::InternalError, e.to_string()))?;
    response(Output::Rows { schema, batches: vec![batch] }, format, Arc::new(FormatOptions::default()))
}

/// The wire response for an engine result, in `format`.
pub(super) fn response(output: Output, format: &Format, options: Arc<FormatOptions>) -> PgWireResult<Response> {
    match output {
        Output::Rows { schema, batches } => {
            let fields = Arc::new(fields(&schema, format, options)?);
            let mut rows = Vec::with_capacity(batches.iter().map(|b| b.num_rows()).sum());
            let mut encoder = DataRowEncoder::new(fields.clone());
            for batch in &batches {
                encode_rows(&mut encoder, &fields, batch, &mut rows)?;
            }
            Ok(Response::Query(QueryResponse::new(fields, stream::iter(rows.into_iter().map(Ok)))))
        }
        Output::Done { tag, count } => Ok(Response::Execution(command_tag(tag, count))),
    }
}

/// A command's completion tag, with the row count PostgreSQL reports for it.
pub(super) fn command_tag(tag: &str, count: u64) -> Tag {
    match tag {
        "INSERT" => Tag::new(tag).with_oid(0).with_rows(count as usize),
        "UPDATE" | "DELETE" | "COPY" => Tag::new(tag).with_rows(count as usize),
        _ => Tag::new(tag),
    }
}

/// Appends the rows of `batch` to `rows`, encoded by `encoder` (data rows, or COPY data).
pub(super) fn encode_rows<E: Encoder>(
    encoder: &mut E,
    fields: &[FieldInfo],
    batch: &RecordBatch,
    rows: &mut Vec<E::Item>,
) -> PgWireResult<()> {
    let schema = batch.schema();
    for row in 0..batch.num_rows() {
        for (i, column) in batch.columns().iter().enumerate() {
            let (arrow_field, pg_field) = (schema.field(i), &fields[i]);
            if *pg_field.datatype() == Type::JSONB {
                let text = column.as_string_opt::<i32>().filter(|a| !a.is_null(row)).map(|a| JsonText(a.value(row)));
                encoder.encode_field(&text, pg_field)?;
            } else {
                encode_value(encoder, column, row, arrow_field, pg_field)?;
            }
        }
        rows.push(encoder.take_row());
    }
    Ok(())
}

/// JSON text sent as `jsonb`: as it is in the text format, after the version byte in the
/// binary one.
#[derive(Debug)]
struct JsonText<'a>(&'a str);

impl ToSql for JsonText<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        if *ty == Type::JSONB {
            out.put_u8(1);
        }
        out.put_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB || *ty == Type::JSON
    }

    to_sql_checked!();
}

impl ToSqlText for JsonText<'_> {
    fn to_sql_text(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
        _options: &FormatOptions,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
}

/// A refusal as PostgreSQL reports an error.
impl From<Refusal> for PgWireError {
    fn from(r: Refusal) -> PgWireError {
        PgWireError::UserError(Box::new(ErrorInfo::new("ERROR".to_owned(), r.state.code().to_owned(), r.message)))
    }
}

/// An error a client caused, with its SQLSTATE, as pgwire's error type.
pub(super) fn refuse(state: SqlState, message: impl Into<String>) -> PgWireError {
    Refusal::new(state, message).into()
}

#[cfg(test)]
mod tests {
    use cairn_engine::EngineError;

    use super::*;

    #[test]
    fn a_failed_task_is_an_internal_error() {
        let error = PgWireError::from(Refusal::from(EngineError::Task("the INSERT task failed".into())));
        let PgWireError::UserError(info) = error else { panic!("a user error: {error:?}") };
        assert_eq!((info.severity.as_str(), info.code.as_str()), ("ERROR", SqlState::InternalError.code()));
        assert_eq!(info.message, "the INSERT task failed");
    }

    #[test]
    fn jsonb_binary_has_its_version_byte() {
        let mut out = BytesMut::new();
        JsonText("{\"a\":1}").to_sql(&Type::JSONB, &mut out).unwrap();
        assert_eq!(&out[..], b"\x01{\"a\":1}");
        let mut out = BytesMut::new();
        JsonText("[1]").to_sql_text(&Type::JSONB, &mut out, &FormatOptions::default()).unwrap();
        assert_eq!(&out[..], b"[1]");
    }
}
