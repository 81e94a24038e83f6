//! Runs the sqllogictest files in `tests/slt/` against a fresh store each: SQL semantics as a
//! user sees them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::DataType;
use async_trait::async_trait;
use cairn_connectors::{Ingest, IngestOptions};
use cairn_engine::{Engine, EngineError, Output};
use cairn_storage::{Store, StoreOptions};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use sqllogictest::{DBOutput, DefaultColumnType};

struct CairnDb {
    engine: Arc<Engine>,
}

fn column_type(t: &DataType) -> DefaultColumnType {
    match t {
        t if t.is_integer() => DefaultColumnType::Integer,
        t if t.is_floating() => DefaultColumnType::FloatingPoint,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DefaultColumnType::Text,
        _ => DefaultColumnType::Any,
    }
}

fn rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let opts = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for b in batches {
        let fmts: Vec<ArrayFormatter> =
            b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).expect("formatter")).collect();
        for row in 0..b.num_rows() {
            out.push(
                fmts.iter()
                    .map(|f| {
                        let s = f.value(row).to_string();
                        if s.is_empty() {
                            "(empty)".to_owned()
                        } else {
                            s
                        }
                    })
                    .collect(),
            );
        }
    }
    out
}

#[async_trait]
impl sqllogictest::AsyncDB for CairnDb {
    type Error = EngineError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, EngineError> {
        Ok(match self.engine.sql(sql).await? {
            Output::Rows { schema, batches } => DBOutput::Rows {
                types: schema.fields().iter().map(|f| column_type(f.data_type())).collect(),
                rows: rows(&batches),
            },
            Output::Done { count, .. } => DBOutput::StatementComplete(count),
        })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "cairn"
    }
}

fn slt_files() -> Vec<PathBuf> {
    // Read when the test runs: a binary built in another clone sharing the target directory
    // carries that clone's path.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    let dir = Path::new(&manifest).join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/slt exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "slt"))
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqllogictest_files() {
    let files = slt_files();
    assert!(!files.is_empty(), "no .slt files found");
    for path in files {
        let dir = tempfile::tempdir().expect("temp dir");
        let store =
            Arc::new(Store::open(dir.path(), StoreOptions { cache_bytes: 32 << 20, ..Default::default() }).expect("open store"));
        let engine = Arc::new(Engine::new(Ingest::open(store, IngestOptions::default()).expect("ingest")));
        let mut runner = sqllogictest::Runner::new(move || {
            let engine = engine.clone();
            async move { Ok(CairnDb { engine }) }
        });
        if let Err(e) = runner.run_file_async(&path).await {
            panic!("{}: {e}", path.display());
        }
    }
}
