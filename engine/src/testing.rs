//! Fixtures for the engine's unit tests: an engine over a fresh store holding one collection,
//! and the logical plan DataFusion makes of a query before any optimizer rule runs.

use std::sync::Arc;

use cairn_connectors::{Ingest, IngestOptions};
use cairn_storage::{CollectionConfig, Store, StoreOptions, Value, WriteOp, DEFAULT_WORKSPACE};
use datafusion::logical_expr::LogicalPlan;

use crate::engine::Engine;

/// An engine whose workspace `commons` holds collection `ev` with `docs` (JSON objects); the
/// directory goes when the guard is dropped.
pub(crate) fn engine_with(docs: &[&str]) -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(Store::open(dir.path(), StoreOptions::default()).expect("store"));
    let collection = store.create_collection(DEFAULT_WORKSPACE, "ev", CollectionConfig::default()).expect("collection");
    let ops = docs.iter().map(|d| WriteOp::Insert(Value::from_json_str(d).expect("JSON"))).collect();
    for written in collection.write(ops) {
        written.expect("write");
    }
    (Engine::new(Ingest::open(store, IngestOptions::default()).expect("ingest")), dir)
}

/// `plan` as EXPLAIN indents it, one node per line, trailing spaces trimmed.
pub(crate) fn lines(plan: &LogicalPlan) -> Vec<String> {
    plan.display_indent().to_string().lines().map(|l| l.trim_end().to_owned()).collect()
}
