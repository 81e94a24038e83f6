//! Running COPY for a connection (the statements are parsed in `statement::copy`). `COPY … FROM
//! STDIN` keeps its state in the connection while the client sends data: NDJSON is written
//! in batches as whole lines arrive, CSV and text once all data is in (up to
//! [`MAX_BUFFERED`]). A bad line fails the COPY when the client finishes sending, as in
//! PostgreSQL; NDJSON batches before it are already written, and the error says how many.
//! `COPY … TO STDOUT` runs its query and streams the rows as text or CSV.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use cairn_engine::{Engine, Output, Session, SqlState};
use cairn_storage::Value;
use datafusion::sql::sqlparser::ast::ObjectName;
use datafusion_postgres::pgwire::api::copy::CopyHandler;
use datafusion_postgres::pgwire::api::results::{CopyCsvOptions, CopyEncoder, CopyResponse, Response};
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::copy::{CopyData, CopyDone, CopyFail};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::types::format::FormatOptions;
use futures::{stream, Sink, SinkExt};

use super::copy_data::{ndjson_document, row_documents};
use super::encode::{self, command_tag, refuse};
use super::queries::Queries;
use crate::statement::copy::{CopyIn, Layout, Options};
use crate::statement::Refusal;

/// CSV and text data held for one COPY at most; NDJSON streams and has no limit.
pub(super) const MAX_BUFFERED: usize = 256 << 20;
/// NDJSON documents written at a time.
const BATCH: usize = 10_000;

/// A COPY FROM STDIN in progress.
pub(super) struct Loading {
    session: Session,
    table: ObjectName,
    fields: Vec<String>,
    options: Options,
    /// Data not yet turned into documents.
    buffer: Vec<u8>,
    /// Documents not yet written.
    docs: Vec<Value>,
    /// Lines read so far.
    lines: usize,
    written: u64,
    /// The first problem; later data is ignored.
    failed: Option<Refusal>,
}

/// The connection's COPY in progress, kept in its session extensions.
#[derive(Default)]
pub(super) struct CopyState(Mutex<Option<Loading>>);

impl CopyState {
    fn take(&self) -> Option<Loading> {
        self.0.lock().ok().and_then(|mut s| s.take())
    }

    fn put(&self, loading: Loading) {
        if let Ok(mut s) = self.0.lock() {
            *s = Some(loading);
        }
    }
}

/// Drops a COPY the connection left unfinished (ended by a protocol error or a cancel).
pub(super) fn forget<C: ClientInfo>(client: &C) {
    if let Some(state) = client.session_extensions().get::<CopyState>() {
        let _abandoned = state.take();
    }
}

fn state<C: ClientInfo>(client: &C) -> Arc<CopyState> {
    client.session_extensions().get_or_insert_with(CopyState::default)
}

/// Starts `COPY table FROM STDIN`: the client is asked for its data.
pub(super) fn start_copy_in<C: ClientInfo>(engine: &Engine, client: &C, copy: &CopyIn) -> PgWireResult<Response> {
    let session = super::settings::session(client.metadata());
    let CopyIn { table, fields, options } = copy.clone();
    // Fails now, before any data is sent, when the collection does not exist.
    let columns = engine.collection_columns(&session, &table).map_err(Refusal::from)?;
    let width = if options.layout == Layout::Ndjson { 1 } else { fields.len().max(columns.len()).max(1) };
    let loading =
        Loading { session, table, fields, options, buffer: Vec::new(), docs: Vec::new(), lines: 0, written: 0, failed: None };
    state(client).put(loading);
    Ok(Response::CopyIn(CopyResponse::new(0, width, stream::empty())))
}

/// Answers with a query's rows as COPY data.
pub(super) fn copy_out(output: Output, options: &Options) -> PgWireResult<Response> {
    let Output::Rows { schema, batches } = output else {
        return Err(refuse(SqlState::SyntaxError, "COPY TO needs a query that returns rows"));
    };
    let fields = Arc::new(encode::fields(&schema, &Default::default(), Arc::new(FormatOptions::default()))?);
    let delimiter = options.delimiter.to_string();
    let mut encoder = match options.layout {
        Layout::Csv => CopyEncoder::new_csv(
            fields.clone(),
            CopyCsvOptions {
                delimiter: delimiter.as_str().into(),
                null_string: options.null.as_str().into(),
                ..Default::default()
            },
        ),
        _ => CopyEncoder::new_text(
            fields.clone(),
            datafusion_postgres::pgwire::api::results::CopyTextOptions {
                delimiter: delimiter.as_str().into(),
                null_string: options.null.as_str().into(),
            },
        ),
    };
    let mut rows = Vec::new();
    for batch in &batches {
        encode::encode_rows(&mut encoder, &fields, batch, &mut rows)?;
    }
    if options.header {
        let names: Vec<String> = schema.fields().iter().map(|f| csv_cell(f.name(), options.delimiter)).collect();
        let header = format!("{}\n", names.join(&delimiter));
        match rows.first_mut() {
            Some(first) => first.data = [header.as_bytes(), &first.data[..]].concat().into(),
            None => rows.push(CopyData::new(Bytes::from(header))),
        }
    }
    Ok(Response::CopyOut(CopyResponse::new(0, schema.fields().len(), stream::iter(rows.into_iter().map(Ok)))))
}

/// A header cell, quoted when CSV needs it.
fn csv_cell(name: &str, delimiter: char) -> String {
    if name.contains([delimiter, '"', '\n', '\r']) {
        format!("\"{}\"", name.replace('"', "\"\""))
    } else {
        name.to_owned()
    }
}

impl Loading {
    /// Takes in a chunk of data. CSV and text are held until the end; NDJSON only up to its
    /// last complete line. Either way no more than [`MAX_BUFFERED`] is held.
    fn add(&mut self, data: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        if self.buffer.len() + data.len() > MAX_BUFFERED {
            let what = if self.options.layout == Layout::Ndjson { "one NDJSON line" } else { "COPY data in CSV or text" };
            let message = format!("{what} over {} MiB: load NDJSON, or load in parts", MAX_BUFFERED >> 20);
            self.failed = Some(Refusal::new(SqlState::ProgramLimitExceeded, message));
            self.buffer = Vec::new();
            return;
        }
        self.buffer.extend_from_slice(data);
        if self.options.layout != Layout::Ndjson {
            return;
        }
        let Some(end) = self.buffer.iter().rposition(|b| *b == b'\n') else { return };
        let complete: Vec<u8> = self.buffer.drain(..=end).collect();
        self.read_lines(&complete);
    }

    /// Reads NDJSON lines.
    fn read_lines(&mut self, data: &[u8]) {
        for line in data.split(|b| *b == b'\n') {
            self.lines += 1;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match ndjson_document(line, self.lines) {
                Ok(doc) => self.docs.push(doc),
                Err(e) => {
                    self.failed = Some(e);
                    return;
                }
            }
        }
    }

    /// Writes the documents read so far.
    async fn flush(&mut self, engine: &Engine) -> Result<(), Refusal> {
        let docs = std::mem::take(&mut self.docs);
        if docs.is_empty() {
            return Ok(());
        }
        let written = engine.insert_documents(&self.session, &self.table, docs).await?;
        self.written += written;
        Ok(())
    }

    /// After the last chunk: the rest of the data, then every document written.
    async fn finish(&mut self, engine: &Engine) -> Result<u64, Refusal> {
        if self.failed.is_none() {
            let rest = std::mem::take(&mut self.buffer);
            match self.options.layout {
                Layout::Ndjson => self.read_lines(&rest),
                _ => {
                    let columns = match self.fields.is_empty() && !self.options.header {
                        true => engine.collection_columns(&self.session, &self.table)?,
                        false => Vec::new(),
                    };
                    match row_documents(&rest, &self.options, &self.fields, || columns) {
                        Ok(docs) => self.docs = docs,
                        Err(e) => self.failed = Some(e),
                    }
                }
            }
        }
        if let Some(Refusal { state, message }) = self.failed.take() {
            let message = match self.written {
                0 => message,
                n => format!("{message} ({n} documents before it were loaded)"),
            };
            return Err(Refusal::new(state, message));
        }
        self.flush(engine).await?;
        Ok(self.written)
    }
}

#[async_trait::async_trait]
impl CopyHandler for Queries {
    async fn on_copy_data<C>(&self, client: &mut C, copy_data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let state = state(client);
        let Some(mut loading) = state.take() else { return Ok(()) };
        loading.add(&copy_data.data);
        if loading.docs.len() >= BATCH {
            if let Err(e) = loading.flush(self.engine()).await {
                loading.failed = Some(e);
            }
        }
        state.put(loading);
        Ok(())
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Some(mut loading) = state(client).take() else {
            return Err(refuse(SqlState::ProtocolViolation, "COPY data without a COPY in progress"));
        };
        let written = loading.finish(self.engine()).await?;
        client.send(PgWireBackendMessage::CommandComplete(command_tag("COPY", written).into())).await?;
        Ok(())
    }

    async fn on_copy_fail<C>(&self, client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let written = state(client).take().map_or(0, |l| l.written);
        refuse(
            SqlState::QueryCanceled,
            format!("COPY from stdin failed: {} ({written} documents were loaded before)", fail.message),
        )
    }
}
