//! A repeated query reuses its plan, but never a stale one: new fields, new documents, a
//! replaced collection, a column changing type and values like `now()` all show at once.

use std::sync::Arc;

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

#[tokio::test]
async fn repeated_queries_see_the_store_as_it_is() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Engine::new(Arc::new(Store::open(dir.path(), StoreOptions::default()).expect("store")));
    exec(&engine, "CREATE COLLECTION t").await;
    exec(&engine, "INSERT INTO t (_id, a) VALUES ('x', 1)").await;
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
