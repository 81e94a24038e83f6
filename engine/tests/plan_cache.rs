//! A repeated query reuses its plan, but never a stale one: new fields, new documents, a
//! replaced collection, a column changing type and values like `now()` all show at once.

use std::sync::Arc;

use cairn_connectors::{Ingest, IngestOptions};
use cairn_engine::{Engine, Output};
use cairn_storage::{Store, StoreOptions};

async fn rows(engine: &Engine, sql: &str) -> Vec<String> {
    let Output::Rows { batches, .. } = engine.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")) else {
        panic!("{sql}: no rows");
    };
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches).expect("format").to_string();
    text.lines().filter(|l| l.starts_with('|')).map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect()
}

async fn exec(engine: &Engine, sql: &str) {
    engine.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// An engine over a fresh store with collection `t` holding `values` (an INSERT's VALUES).
async fn engine_with(values: &str) -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(Store::open(dir.path(), StoreOptions::default()).expect("store"));
    let engine = Engine::new(Ingest::open(store, IngestOptions::default()).expect("ingest"));
    exec(&engine, "CREATE COLLECTION t").await;
    exec(&engine, &format!("INSERT INTO t (_id, a) VALUES {values}")).await;
    (engine, dir)
}

#[tokio::test]
async fn repeated_queries_see_the_store_as_it_is() {
    let (engine, _dir) = engine_with("('x', 1)").await;
    let all = "SELECT * FROM t ORDER BY _id";
    let header = |r: Vec<String>| r.first().cloned().unwrap_or_default();
    assert_eq!(header(rows(&engine, all).await), "| _id | _event_time | a |");
    assert_eq!(header(rows(&engine, all).await), "| _id | _event_time | a |");

    // A new field is a new column; a new document is counted.
    exec(&engine, "INSERT INTO t (_id, a, b) VALUES ('y', 2, 'new')").await;
    assert_eq!(header(rows(&engine, all).await), "| _id | _event_time | a | b |");
    let count = "SELECT count(*) AS n FROM t";
    assert_eq!(rows(&engine, count).await, ["| n |", "| 2 |"]);
    exec(&engine, "INSERT INTO t (_id) VALUES ('z')").await;
    assert_eq!(rows(&engine, count).await, ["| n |", "| 3 |"]);

    // A column that takes a second type is planned anew.
    let typed = "SELECT _id FROM t WHERE a = 1";
    assert_eq!(rows(&engine, typed).await, ["| _id |", "| x |"]);
    exec(&engine, "INSERT INTO t (_id, a) VALUES ('w', 'one')").await;
    assert_eq!(rows(&engine, typed).await, ["| _id |", "| x |"]);
    assert_eq!(rows(&engine, "SELECT TYPEOF(a) AS t FROM t WHERE _id = 'w'").await, ["| t |", "| string |"]);

    // A dropped and re-created collection is read anew.
    exec(&engine, "DROP COLLECTION t").await;
    exec(&engine, "CREATE COLLECTION t").await;
    exec(&engine, "INSERT INTO t (_id, a) VALUES ('v', 5)").await;
    assert_eq!(rows(&engine, count).await, ["| n |", "| 1 |"]);

    // `now()` is read at each run.
    let now = "SELECT CAST(now() AS VARCHAR) AS t";
    let first = rows(&engine, now).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_ne!(rows(&engine, now).await, first);
    // So is a table function's argument that reads it.
    let series = "SELECT value FROM generate_series(CAST(date_part('epoch', now()) * 1000 AS BIGINT), \
                  CAST(date_part('epoch', now()) * 1000 AS BIGINT))";
    let first = rows(&engine, series).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_ne!(rows(&engine, series).await, first);
}

#[tokio::test]
async fn a_repeated_query_runs_from_its_kept_plan() {
    let (engine, _dir) = engine_with("('x', 1), ('y', 2)").await;
    let query = "SELECT _id FROM t WHERE a > 1";
    let hits = |engine: &Engine| engine.kept_plan_hits();

    // Planned the first time, then run from the kept plan each time after.
    let before = hits(&engine);
    assert_eq!(rows(&engine, query).await, ["| _id |", "| y |"]);
    assert_eq!(hits(&engine), before);
    assert_eq!(rows(&engine, query).await, ["| _id |", "| y |"]);
    assert_eq!(hits(&engine), before + 1);
    // New documents show through the kept plan.
    exec(&engine, "INSERT INTO t (_id, a) VALUES ('z', 3)").await;
    assert_eq!(rows(&engine, query).await, ["| _id |", "| y |", "| z |"]);
    assert_eq!(hits(&engine), before + 2);

    // The same text under a hint is another plan: the hint is part of what a plan is kept by.
    let unhinted = "SELECT _id FROM t  WHERE a > 1"; // the hinted text below, without its hint
    let hinted = "SELECT _id FROM t HINT(access_path=column_scan) WHERE a > 1";
    rows(&engine, unhinted).await;
    assert_eq!(hits(&engine), before + 2);
    rows(&engine, unhinted).await;
    assert_eq!(hits(&engine), before + 3);
    rows(&engine, hinted).await;
    assert_eq!(hits(&engine), before + 3);
    rows(&engine, hinted).await;
    assert_eq!(hits(&engine), before + 4);

    // A new field changes the columns: planned anew, then kept again.
    exec(&engine, "INSERT INTO t (_id, a, b) VALUES ('w', 4, true)").await;
    rows(&engine, query).await;
    assert_eq!(hits(&engine), before + 4);
    rows(&engine, query).await;
    assert_eq!(hits(&engine), before + 5);

    // DDL forgets every kept plan.
    exec(&engine, "CREATE COLLECTION u").await;
    rows(&engine, query).await;
    assert_eq!(hits(&engine), before + 5);

    // A query reading the clock is never kept.
    let clock = "SELECT CAST(now() AS VARCHAR) AS t";
    rows(&engine, clock).await;
    rows(&engine, clock).await;
    assert_eq!(hits(&engine), before + 5);
}
