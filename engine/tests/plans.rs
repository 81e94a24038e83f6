//! Tests of how queries are executed (not only what they return): which columns and access
//! paths a scan uses, read from EXPLAIN as a user would.

use std::sync::Arc;

use arrow_array::{Array, StringArray};
use cairn_engine::{Engine, Output};
use cairn_storage::synth::SplitMix;
use cairn_storage::{CollectionConfig, Store, StoreOptions, Value, WriteOp};

/// An engine over a fresh store, the store, and the directory keeping it alive.
fn engine_and_store() -> (Engine, Arc<Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(Store::open(dir.path(), StoreOptions { cache_bytes: 16 << 20, ..Default::default() }).expect("open store"));
    (Engine::new(store.clone()), store, dir)
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
    let plan = physical_plan(&engine, "SELECT commit.collection, count(*) FROM ev GROUP BY commit.collection").await;
    assert!(scan_line(&plan).contains("projection=[$.commit.collection]"), "{plan}");

    // Whole objects are read only when asked for.
    let plan = physical_plan(&engine, "SELECT commit, commit.record.text FROM ev").await;
    assert!(scan_line(&plan).contains("projection=[commit, $.commit.record.text]"), "{plan}");
}

/// A collection of random documents: a user per document (a few hundred users), a kind, a
/// number that is sometimes a string or missing, nested fields, and an array of tags.
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
            r#"{{"_id":"d{i}","user":"u{}","kind":"{}","commit":{{"rkey":"r{}","op":"{}"}},"tags":["t{}","t{}"]{n_field}}}"#,
            rng.below(300),
            ["like", "post", "repost"][rng.below(3) as usize],
            rng.below(1000),
            ["create", "delete"][rng.below(2) as usize],
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

    let plan = physical_plan(&engine, "SELECT kind, count(*) FROM ev GROUP BY kind").await;
    assert!(scan_line(&plan).contains("access_path=column_scan"), "{plan}");

    // A filter matching a third of the documents is cheaper to scan than to fetch.
    let plan = physical_plan(&engine, "SELECT count(*) FROM ev WHERE kind = 'like'").await;
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
        let filter = match rng.below(9) {
            0 => format!("user = 'u{u}'"),
            1 => format!("user IN ('u{u}', 'u{}')", rng.below(300)),
            2 => format!("n = {k}"),
            3 => format!("n > {k} AND user < 'u{u}'"),
            4 => format!("n BETWEEN {k} AND {}", k + 5),
            5 => format!("user LIKE 'u{}%'", rng.below(30)),
            6 => format!("n IS UNDEFINED AND kind = 'post' OR user = 'u{u}'"),
            7 => format!("commit.rkey = 'r{}' OR n IS NULL AND user = 'u{u}'", rng.below(1000)),
            _ => format!("n >= {k}.5 AND n < {}", k + 3),
        };
        let query = format!("SELECT _id, user, n FROM ev WHERE {filter}");
        let forced = format!("SELECT _id, user, n FROM ev HINT(access_path=column_scan) WHERE {filter}");
        let fetched = format!("SELECT _id, user, n FROM ev HINT(access_path=index_fetch) WHERE {filter}");
        let expected = answer(&engine, &forced).await;
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
