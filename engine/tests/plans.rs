//! Tests of how queries are executed (not only what they return): which columns and access
//! paths a scan uses, read from EXPLAIN as a user would.

use std::sync::Arc;

use arrow_array::{Array, StringArray};
use cairn_engine::{Engine, Output};
use cairn_storage::{Store, StoreOptions};

/// An engine over a fresh store, and the directory keeping it alive.
fn engine() -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(Store::open(dir.path(), StoreOptions { cache_bytes: 16 << 20 }).expect("open store"));
    (Engine::new(store), dir)
}

/// The physical plan of `sql`, one operator per line.
async fn physical_plan(engine: &Engine, sql: &str) -> String {
    let Output::Rows { batches, .. } = engine.sql(&format!("EXPLAIN {sql}")).await.expect("explain") else {
        panic!("EXPLAIN returned no rows");
    };
    let mut out = String::new();
    for b in &batches {
        let kinds = b.column(0).as_any().downcast_ref::<StringArray>().expect("plan_type");
        let plans = b.column(1).as_any().downcast_ref::<StringArray>().expect("plan");
        for i in 0..b.num_rows() {
            if kinds.value(i) == "physical_plan" && !plans.is_null(i) {
                out.push_str(plans.value(i));
            }
        }
    }
    out
}

/// The scan operator's line of a physical plan.
fn scan_line(plan: &str) -> &str {
    plan.lines().find(|l| l.contains("StreamingTableExec")).unwrap_or_else(|| panic!("no scan in plan:\n{plan}"))
}

#[tokio::test]
async fn nested_paths_are_read_as_their_own_columns() {
    let (engine, _dir) = engine();
    engine.sql("CREATE COLLECTION ev").await.expect("create");
    engine
        .sql(r#"INSERT INTO ev (_id, commit) VALUES ('a', '{"collection":"x","record":{"text":"hi"}}'::jsonb)"#)
        .await
        .expect("insert");
    let plan = physical_plan(&engine, "SELECT commit.collection, count(*) FROM ev GROUP BY commit.collection").await;
    assert!(scan_line(&plan).contains("projection=[$.commit.collection]"), "{plan}");

    // Whole objects are read only when asked for.
    let plan = physical_plan(&engine, "SELECT commit, commit.record.text FROM ev").await;
    assert!(scan_line(&plan).contains("projection=[commit, $.commit.record.text]"), "{plan}");
}
