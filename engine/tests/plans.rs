//! Tests of how queries are executed (not only what they return): which columns and access
//! paths a scan uses, read from EXPLAIN as a user would.

use std::sync::Arc;

use arrow_array::{Array, StringArray};
use cairn_connectors::{Ingest, IngestOptions};
use cairn_engine::{Engine, Output};
use cairn_storage::synth::SplitMix;
use cairn_storage::{CollectionConfig, Store, StoreOptions, Value, WriteOp};

/// An engine over a fresh store, the store, and the directory keeping it alive.
fn engine_and_store() -> (Engine, Arc<Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store =
        Arc::new(Store::open(dir.path(), StoreOptions { cache_bytes: 16 << 20, ..Default::default() }).expect("open store"));
    (Engine::new(Ingest::open(store.clone(), IngestOptions::default()).expect("ingest")), store, dir)
}

fn engine() -> (Engine, tempfile::TempDir) {
    let (engine, _, dir) = engine_and_store();
    (engine, dir)
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
    plan.lines().find(|l| l.contains("CollectionScanExec")).unwrap_or_else(|| panic!("no scan in plan:\n{plan}"))
}

#[tokio::test]
async fn nested_paths_are_read_as_their_own_columns() {
    let (engine, _dir) = engine();
    engine.sql("CREATE COLLECTION ev").await.expect("create");
    engine
        .sql(r#"INSERT INTO ev (_id, commit) VALUES ('a', '{"collection":"x","record":{"text":"hi"}}'::jsonb)"#)
        .await
        .expect("insert");
    let plan = physical_plan(&engine, "SELECT commit.collection, max(_id) FROM ev GROUP BY commit.collection").await;
    assert!(scan_line(&plan).contains("projection=[_id, $.commit.collection]"), "{plan}");

    // Whole objects are read only when asked for.
    let plan = physical_plan(&engine, "SELECT commit, commit.record.text FROM ev").await;
    assert!(scan_line(&plan).contains("projection=[commit, $.commit.record.text]"), "{plan}");
}

/// A collection of random documents: a user per document (a few hundred users), a kind, a
/// number that is sometimes a string or missing, nested fields (one an int), and an array of tags.
fn random_events(store: &Store, docs: u64, seed: u64) {
    let coll = store.create_collection("commons", "ev", CollectionConfig { shards: 2, ..Default::default() }).expect("create");
    let mut rng = SplitMix::new(seed);
    let mut ops = Vec::new();
    for i in 0..docs {
        let n = match rng.below(10) {
            0 => "\"n\"".to_owned(),
            1 => "null".to_owned(),
            2 => String::new(),
            3 => format!("{}.5", rng.below(100)),
            _ => rng.below(100).to_string(),
        };
        let n_field = if n.is_empty() { String::new() } else { format!(r#","n":{n}"#) };
        let json = format!(
            r#"{{"_id":"d{i}","user":"u{}","kind":"{}","commit":{{"rkey":"r{}","op":"{}","n":{}}},"tags":["t{}","t{}"]{n_field}}}"#,
            rng.below(300),
            ["like", "post", "repost"][rng.below(3) as usize],
            rng.below(1000),
            ["create", "delete"][rng.below(2) as usize],
            rng.below(10),
            rng.below(20),
            rng.below(20),
        );
        ops.push(WriteOp::Insert(Value::from_json_str(&json).expect("json")));
    }
    for r in coll.write(ops) {
        r.expect("write");
    }
}

/// The rows of a query as sorted text lines.
async fn answer(engine: &Engine, sql: &str) -> Vec<String> {
    let Output::Rows { batches, .. } = engine.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")) else {
        panic!("{sql}: no rows");
    };
    let mut out = Vec::new();
    for b in &batches {
        let opts = datafusion::arrow::util::display::FormatOptions::default().with_null("NULL");
        let fmts: Vec<_> = b
            .columns()
            .iter()
            .map(|c| datafusion::arrow::util::display::ArrayFormatter::try_new(c.as_ref(), &opts).expect("formatter"))
            .collect();
        for row in 0..b.num_rows() {
            out.push(fmts.iter().map(|f| f.value(row).to_string()).collect::<Vec<_>>().join("|"));
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selective_filters_use_the_index_and_full_aggregations_scan_columns() {
    let (engine, store, _dir) = engine_and_store();
    random_events(&store, 20_000, 7);

    let plan = physical_plan(&engine, "SELECT _id, kind FROM ev WHERE _id = 'd123'").await;
    assert!(scan_line(&plan).contains("access_path=index_fetch estimated_rows=1 of 20000"), "{plan}");
    assert!(scan_line(&plan).contains("index_predicate=[_id = \"d123\"]"), "{plan}");

    // About 20 matches of 20,000: fetched by document number (nested paths are indexed too).
    let plan = physical_plan(&engine, "SELECT _id, kind, user FROM ev WHERE commit.rkey = 'r5'").await;
    assert!(scan_line(&plan).contains("access_path=index_fetch"), "{plan}");
    assert!(scan_line(&plan).contains("index_predicate=[commit.rkey = \"r5\"]"), "{plan}");

    let plan = physical_plan(&engine, "SELECT kind, max(user) FROM ev GROUP BY kind").await;
    assert!(scan_line(&plan).contains("access_path=column_scan"), "{plan}");

    // A filter matching a third of the documents is cheaper to scan than to fetch.
    let plan = physical_plan(&engine, "SELECT count(user) FROM ev WHERE kind = 'like'").await;
    assert!(!scan_line(&plan).contains("access_path=index_fetch"), "{plan}");

    let plan = physical_plan(&engine, "SELECT _id FROM ev HINT(access_path=column_scan) WHERE _id = 'd123'").await;
    assert!(scan_line(&plan).contains("access_path=column_scan"), "{plan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_paths_answer_like_a_forced_column_scan() {
    let (engine, store, _dir) = engine_and_store();
    random_events(&store, 6_000, 11);
    let mut rng = SplitMix::new(99);
    for _ in 0..40 {
        let u = rng.below(300);
        let k = rng.below(100);
        let filter = match rng.below(11) {
            0 => format!("user = 'u{u}'"),
            1 => format!("user IN ('u{u}', 'u{}')", rng.below(300)),
            2 => format!("n = {k}"),
            3 => format!("n > {k} AND user < 'u{u}'"),
            4 => format!("n BETWEEN {k} AND {}", k + 5),
            5 => format!("user LIKE 'u{}%'", rng.below(30)),
            6 => format!("n IS UNDEFINED AND kind = 'post' OR user = 'u{u}'"),
            7 => format!("commit.rkey = 'r{}' OR n IS NULL AND user = 'u{u}'", rng.below(1000)),
            8 => format!("kind = 'post' AND commit.op = 'create' AND user <= 'u{u}'"),
            9 => format!("commit.op IN ('delete') OR kind = '{}'", ["like", "post", "x"][rng.below(3) as usize]),
            _ => format!("n >= {k}.5 AND n < {}", k + 3),
        };
        let query = format!("SELECT _id, user, n FROM ev WHERE {filter}");
        let forced = format!("SELECT _id, user, n FROM ev HINT(access_path=column_scan) WHERE {filter}");
        let fetched = format!("SELECT _id, user, n FROM ev HINT(access_path=index_fetch) WHERE {filter}");
        let expected = answer(&engine, &forced).await;
        // Filters cannot pass a LIMIT: DataFusion applies every one of them above the scan.
        let unpushed = format!("SELECT _id, user, n FROM (SELECT * FROM ev LIMIT 1000000) t WHERE {filter}");
        assert_eq!(answer(&engine, &unpushed).await, expected, "{filter} (not pushed down)");
        assert_eq!(answer(&engine, &query).await, expected, "{filter}");
        assert_eq!(answer(&engine, &fetched).await, expected, "{filter} (index fetch)");
        let chunks = format!("SELECT _id, user, n FROM ev HINT(access_path=index_scan) WHERE {filter}");
        assert_eq!(answer(&engine, &chunks).await, expected, "{filter} (index scan)");
    }
}

#[tokio::test]
async fn count_star_comes_from_statistics() {
    let (engine, store, _dir) = engine_and_store();
    random_events(&store, 500, 3);
    let plan = physical_plan(&engine, "SELECT count(*) FROM ev").await;
    assert!(!plan.contains("CollectionScanExec"), "count(*) should not scan:\n{plan}");
    assert_eq!(answer(&engine, "SELECT count(*) FROM ev").await, vec!["500".to_owned()]);
    // A filter the scan applies itself leaves the count to be counted.
    let likes = answer(&engine, "SELECT count(*) FROM (SELECT * FROM ev LIMIT 1000000) t WHERE kind = 'like'").await;
    assert_eq!(answer(&engine, "SELECT count(*) FROM ev WHERE kind = 'like'").await, likes);
    let forced = "SELECT count(*) FROM ev HINT(access_path=column_scan) WHERE kind = 'like'";
    assert_eq!(answer(&engine, forced).await, likes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_filters_are_applied_by_the_scan() {
    let (engine, store, _dir) = engine_and_store();
    random_events(&store, 20_000, 13);
    // Equality on typed strings: the index answers it exactly, so DataFusion does not filter
    // again and the scan reads only the columns the query returns.
    let plan = physical_plan(&engine, "SELECT user FROM ev WHERE kind = 'post' AND commit.op = 'create'").await;
    assert!(!plan.contains("FilterExec"), "{plan}");
    assert!(scan_line(&plan).contains("access_path=index_scan"), "{plan}");
    assert!(scan_line(&plan).contains("projection=[user]"), "{plan}");
    // A forced column scan evaluates the filter itself.
    let plan = physical_plan(&engine, "SELECT user FROM ev HINT(access_path=column_scan) WHERE kind = 'post'").await;
    assert!(!plan.contains("FilterExec"), "{plan}");
    assert!(scan_line(&plan).contains("filter=[kind@1 = post]"), "{plan}");
    // A range is not exact, nor an int equality (the index also matches floats of equal
    // value): DataFusion checks them above the scan.
    for sql in ["SELECT user FROM ev WHERE user > 'u5'", "SELECT user FROM ev WHERE commit.n = 5"] {
        let plan = physical_plan(&engine, sql).await;
        assert!(plan.contains("FilterExec"), "{sql}:\n{plan}");
    }
    // With every filter applied by the scan, a limit goes into the scan.
    let rows = answer(&engine, "SELECT user FROM ev WHERE kind = 'post' LIMIT 7").await;
    assert_eq!(rows.len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_on_nested_values_hash() {
    let (engine, store, _dir) = engine_and_store();
    random_events(&store, 300, 5);
    let sql = "SELECT count(*) FROM ev a JOIN ev b ON a.commit.rkey = b.commit.rkey AND a._id <> b._id";
    let plan = physical_plan(&engine, sql).await;
    assert!(plan.contains("HashJoinExec"), "{plan}");
    let forced = answer(&engine, &sql.replace("JOIN ev b", "JOIN (SELECT _id, commit FROM ev) b")).await;
    assert_eq!(answer(&engine, sql).await, forced);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_counts_come_from_posting_sizes() {
    let (engine, store, _dir) = engine_and_store();
    random_events(&store, 5_000, 17);
    // `tag` is a typed string column missing from some documents: they count under NULL.
    let coll = store.collection("commons", "ev").expect("collection");
    let extra = (0..300).map(|i| {
        let json = if i % 3 == 0 { format!(r#"{{"_id":"x{i}"}}"#) } else { format!(r#"{{"_id":"x{i}","tag":"t{}"}}"#, i % 7) };
        WriteOp::Insert(Value::from_json_str(&json).expect("json"))
    });
    for r in coll.write(extra.collect()) {
        r.expect("write");
    }
    for sql in [
        "SELECT kind, count(*) FROM ev GROUP BY kind",
        "SELECT tag, count(*) AS n, count(1) FROM ev GROUP BY tag",
        "SELECT commit.op, count(*) FROM ev WHERE kind = 'post' GROUP BY commit.op",
        "SELECT user, count(*) FROM ev WHERE kind IN ('like', 'post') AND commit.op = 'create' GROUP BY user",
        "SELECT kind, count(*) FROM ev WHERE kind = 'nothing' GROUP BY kind",
    ] {
        let plan = physical_plan(&engine, sql).await;
        assert!(plan.contains("IndexCountExec"), "{sql}:\n{plan}");
        assert!(!plan.contains("CollectionScanExec"), "{sql}:\n{plan}");
        let unpushed = sql.replace("FROM ev", "FROM (SELECT * FROM ev LIMIT 1000000) t");
        assert_eq!(answer(&engine, sql).await, answer(&engine, &unpushed).await, "{sql}");
    }
    assert_eq!(
        answer(&engine, "SELECT tag, count(*) FROM ev WHERE _id LIKE 'x%' GROUP BY tag").await,
        ["NULL|100", "t0|28", "t1|29", "t2|29", "t3|28", "t4|29", "t5|29", "t6|28"]
    );
    // Filters the index does not answer exactly, other aggregates and a forced column scan
    // still scan.
    for sql in [
        "SELECT kind, count(*) FROM ev WHERE user > 'u5' GROUP BY kind",
        "SELECT kind, count(user) FROM ev GROUP BY kind",
        "SELECT kind, count(*) FROM ev HINT(access_path=column_scan) GROUP BY kind",
    ] {
        assert!(!physical_plan(&engine, sql).await.contains("IndexCountExec"), "{sql}");
    }
    // A one-shard collection aggregates in a single stage.
    let one = store.create_collection("commons", "one", CollectionConfig { shards: 1, ..Default::default() }).expect("create");
    let docs = (0..50).map(|i| WriteOp::Insert(Value::from_json_str(&format!(r#"{{"k":{}}}"#, i % 4)).expect("json")));
    for r in one.write(docs.collect()) {
        r.expect("write");
    }
    let sql = "SELECT k, count(*) FROM one GROUP BY k";
    assert!(physical_plan(&engine, sql).await.contains("IndexCountExec"), "{sql}");
    assert_eq!(answer(&engine, sql).await, ["0|13", "1|13", "2|12", "3|12"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_max_and_counts_come_from_the_ordered_index() {
    let (engine, store, _dir) = engine_and_store();
    random_events(&store, 5_000, 19);
    for sql in [
        "SELECT min(user), max(user), count(*) FROM ev",
        "SELECT min(commit.n), max(commit.n) FROM ev WHERE kind = 'post'",
        "SELECT max(_id), count(1) FROM ev WHERE kind IN ('like', 'repost') AND commit.op = 'create'",
        "SELECT count(*) FROM ev WHERE commit.op = 'delete'",
        "SELECT count(*) FROM ev WHERE kind = 'nothing'",
    ] {
        let plan = physical_plan(&engine, sql).await;
        assert!(plan.contains("IndexExtremesExec"), "{sql}:\n{plan}");
        assert!(!plan.contains("CollectionScanExec"), "{sql}:\n{plan}");
        let unpushed = sql.replace("FROM ev", "FROM (SELECT * FROM ev LIMIT 1000000) t");
        assert_eq!(answer(&engine, sql).await, answer(&engine, &unpushed).await, "{sql}");
    }
    assert_eq!(answer(&engine, "SELECT min(user) FROM ev WHERE kind = 'nothing'").await, ["NULL"]);
    // Variants, other aggregates, filters the index does not answer exactly, a forced
    // column scan and (for MIN/MAX) a selective filter still scan.
    for sql in [
        "SELECT min(n) FROM ev",
        "SELECT min(user) FROM ev WHERE kind = 'nothing'",
        "SELECT min(user), sum(commit.n) FROM ev",
        "SELECT max(user) FROM ev WHERE user > 'u5'",
        "SELECT max(user) FROM ev HINT(access_path=column_scan)",
    ] {
        assert!(!physical_plan(&engine, sql).await.contains("IndexExtremesExec"), "{sql}");
    }
}

/// Documents past a retention window never show, even before the background expiry (which
/// needs the collection's indexer; this store has none running) has dropped them.
#[tokio::test]
async fn documents_past_the_retention_window_never_show() {
    let (engine, store, _dir) = engine_and_store();
    let hour = 3_600_000_000i64;
    let config = CollectionConfig { retention_micros: Some(hour), ..Default::default() };
    let coll = store.create_collection("commons", "ev", config).expect("create");
    let now = cairn_storage::document::now_micros();
    let docs = [("old", now - 2 * hour, "a"), ("new", now - hour / 2, "a"), ("newer", now, "b")];
    let ops = docs
        .iter()
        .map(|(id, t, kind)| {
            WriteOp::Insert(
                Value::from_json_str(&format!(r#"{{"_id":"{id}","_event_time":{t},"kind":"{kind}"}}"#)).expect("json"),
            )
        })
        .collect();
    for r in coll.write(ops) {
        r.expect("write");
    }
    assert_eq!(coll.stats().doc_count, 3, "the old document is still stored");

    for (sql, expected) in [
        ("SELECT _id FROM ev", vec!["new", "newer"]),
        ("SELECT count(*) FROM ev", vec!["2"]),
        ("SELECT kind, count(*) FROM ev GROUP BY kind", vec!["a|1", "b|1"]),
        ("SELECT count(_id) FROM ev WHERE _id = 'old'", vec!["0"]),
        ("SELECT _id FROM ev WHERE kind = 'a'", vec!["new"]),
        ("SELECT min(_id) FROM ev", vec!["new"]),
        ("SELECT _id FROM ev ORDER BY _id LIMIT 1", vec!["new"]),
        ("SELECT _id FROM ev LIMIT 5", vec!["new", "newer"]),
        ("SELECT _id FROM ev WHERE kind = 'a' LIMIT 1", vec!["new"]),
    ] {
        assert_eq!(answer(&engine, sql).await, expected, "{sql}");
    }
    let plan = physical_plan(&engine, "SELECT count(*) FROM ev").await;
    assert!(plan.contains("FilterExec: _event_time@"), "{plan}");

    // Expiry drops the document; the answers stay the same, and with nothing expired left the
    // index answers aggregates again.
    assert_eq!(coll.expire(cairn_storage::document::now_micros()).expect("expire"), 1);
    assert_eq!(answer(&engine, "SELECT _id FROM ev").await, ["new", "newer"]);
    assert_eq!(answer(&engine, "SELECT min(kind), count(*) FROM ev").await, ["a|2"]);
    let plan = physical_plan(&engine, "SELECT min(kind), count(*) FROM ev").await;
    assert!(!plan.contains("FilterExec") && plan.contains("IndexExtremesExec"), "{plan}");
}
