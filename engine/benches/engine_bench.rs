//! SQL benchmark (`cargo bench -p cairn-engine`): loads Jetstream-shaped events into Cairn and
//! prints the latency of a point lookup, a selective filter on one user, the five JSONBench
//! queries, a top-N and a join of likes to posts by URI; then runs the same queries on DuckDB
//! and chDB (ClickHouse) over the same NDJSON file, as JSONBench configures them
//! (`benches/peers.py`), and prints the ratios.
//!
//! `CAIRN_BENCH_DOCS` sets the number of documents (default 1,000,000); `CAIRN_BENCH_PEERS=0`
//! skips the peers; `CAIRN_BENCH_COMPACT=0` queries Cairn's shards without compacting them
//! first (by default they are compacted, as chDB's table is optimized); `CAIRN_BENCH_ONLY`
//! runs only the queries whose name contains it; `CAIRN_BENCH_REPS` sets the repetitions of
//! the fast queries (default 200) and `CAIRN_BENCH_SLOW_REPS` of the others (default 5);
//! `CAIRN_BENCH_EXPLAIN=1` prints each query's plans. Under `cargo test --benches` it runs a small smoke version
//! without peers.

use std::io::Write;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_connectors::{Ingest, IngestOptions};
use cairn_engine::{Engine, Output};
use cairn_storage::synth::EventGen;
use cairn_storage::{CollectionConfig, Store, StoreOptions, Value, WriteOp};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The benchmark's queries: name, repetitions class (fast/slow), Cairn SQL.
fn queries(id: &str, did: &str) -> Vec<(&'static str, bool, String)> {
    let filter = "kind = 'commit' AND commit.operation = 'create'";
    vec![
        ("point lookup by _id", true, format!("SELECT * FROM bluesky WHERE _id = '{id}'")),
        (
            "selective filter: one user's latest events",
            true,
            format!("SELECT time_us AS t, commit.collection FROM bluesky WHERE did = '{did}' ORDER BY t DESC LIMIT 10"),
        ),
        (
            "Q1 events per collection",
            false,
            "SELECT commit.collection AS event, count(*) AS count FROM bluesky GROUP BY event ORDER BY count DESC".into(),
        ),
        (
            "Q2 events and distinct users per collection",
            false,
            format!(
                "SELECT commit.collection AS event, count(*) AS count, count(DISTINCT did) AS users FROM bluesky \
                 WHERE {filter} GROUP BY event ORDER BY count DESC"
            ),
        ),
        (
            "Q3 events per hour of day",
            false,
            format!(
                "SELECT commit.collection AS event, date_part('hour', to_timestamp_micros(time_us)) AS hour_of_day, \
                 count(*) AS count FROM bluesky WHERE {filter} AND commit.collection IN \
                 ('app.bsky.feed.post', 'app.bsky.feed.repost', 'app.bsky.feed.like') \
                 GROUP BY event, hour_of_day ORDER BY hour_of_day, event"
            ),
        ),
        (
            "Q4 first posters",
            false,
            format!(
                "SELECT did AS user_id, min(to_timestamp_micros(time_us)) AS first_post_ts FROM bluesky \
                 WHERE {filter} AND commit.collection = 'app.bsky.feed.post' \
                 GROUP BY user_id ORDER BY first_post_ts ASC LIMIT 3"
            ),
        ),
        (
            "Q5 longest activity spans",
            false,
            format!(
                "SELECT did AS user_id, (max(time_us) - min(time_us)) / 1000 AS activity_span FROM bluesky \
                 WHERE {filter} AND commit.collection = 'app.bsky.feed.post' \
                 GROUP BY user_id ORDER BY activity_span DESC LIMIT 3"
            ),
        ),
        ("top-N users by events", false, "SELECT did, count(*) AS c FROM bluesky GROUP BY did ORDER BY c DESC LIMIT 10".into()),
        (
            "join likes to posts by URI",
            false,
            "SELECT count(*) FROM bluesky l JOIN bluesky p ON l.commit.record.subject.uri = \
             concat('at://', p.did, '/app.bsky.feed.post/', p.commit.rkey) \
             WHERE l.commit.collection = 'app.bsky.feed.like' AND p.commit.collection = 'app.bsky.feed.post'"
                .into(),
        ),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run(engine: &Engine, sql: &str) -> usize {
    match engine.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")) {
        Output::Rows { batches, .. } => batches.iter().map(|b| b.num_rows()).sum(),
        Output::Done { count, .. } => count as usize,
    }
}

/// Prints the physical plan of `sql`.
fn print_plan(rt: &tokio::runtime::Runtime, engine: &Engine, sql: &str) {
    if let Ok(Output::Rows { batches, .. }) = rt.block_on(engine.sql(&format!("EXPLAIN {sql}"))) {
        for b in &batches {
            let text = datafusion::arrow::util::pretty::pretty_format_batches(std::slice::from_ref(b))
                .map(|t| t.to_string())
                .unwrap_or_default();
            println!("{text}");
        }
    }
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let docs = env_or("CAIRN_BENCH_DOCS", if quick { 5_000 } else { 1_000_000 });
    let peers = !quick && env_or("CAIRN_BENCH_PEERS", 1) == 1;
    let (reps_fast, reps_slow) =
        if quick { (2, 1) } else { (env_or("CAIRN_BENCH_REPS", 200) as usize, env_or("CAIRN_BENCH_SLOW_REPS", 5) as usize) };
    let only = std::env::var("CAIRN_BENCH_ONLY").unwrap_or_default();
    let explain = env_or("CAIRN_BENCH_EXPLAIN", 0) == 1;
    let dir = tempfile::tempdir().expect("temp dir");

    // The same documents for everyone: NDJSON on disk, parsed and written into Cairn.
    let mut gen = EventGen::new(42, (docs / 10).max(10));
    let lines: Vec<String> = (0..docs).map(|i| format!(r#"{{"_id":"ev{i:08}",{}"#, &gen.next_json()[1..])).collect();
    let file = dir.path().join("events.ndjson");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).expect("ndjson file"));
    for l in &lines {
        writeln!(out, "{l}").expect("write ndjson");
    }
    out.flush().expect("flush ndjson");
    drop(out);

    let store = Arc::new(
        Store::open(&dir.path().join("cairn"), StoreOptions { cache_bytes: 1 << 30, ..Default::default() }).expect("open store"),
    );
    let coll =
        store.create_collection("commons", "bluesky", CollectionConfig { shards: 2, ..Default::default() }).expect("create");
    let t = Instant::now();
    for chunk in lines.chunks(5000) {
        let ops = chunk.iter().map(|l| WriteOp::Insert(Value::from_json_str(l).expect("json"))).collect();
        for r in coll.write(ops) {
            r.expect("write");
        }
    }
    let load = t.elapsed();
    drop(lines);
    println!("documents: {docs}; Cairn load {:.1} s", load.as_secs_f64());
    if env_or("CAIRN_BENCH_COMPACT", 1) == 1 {
        // Folds column-chunk deltas and posting edits into their base values first, as the
        // chDB side runs OPTIMIZE TABLE … FINAL after its load.
        let t = Instant::now();
        for shard in coll.shards() {
            shard.compact().expect("compact");
        }
        println!("full compaction before the queries: {:.1} s", t.elapsed().as_secs_f64());
    }

    let id = format!("ev{:08}", docs / 2);
    let did = EventGen::did(50);
    let engine = Engine::new(Ingest::open(store, IngestOptions::default()).expect("ingest"));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut cairn = Vec::new();
    for (name, fast, sql) in queries(&id, &did).into_iter().filter(|(name, _, _)| name.contains(only.as_str())) {
        let reps = if fast { reps_fast } else { reps_slow };
        if explain {
            print_plan(&rt, &engine, &sql);
        }
        let rows = rt.block_on(run(&engine, &sql)); // warm-up
        let mut samples: Vec<Duration> = (0..reps)
            .map(|_| {
                let t = Instant::now();
                rt.block_on(run(&engine, &sql));
                t.elapsed()
            })
            .collect();
        samples.sort();
        let (p50, p99) = (percentile(&samples, 0.5), percentile(&samples, 0.99));
        println!("cairn  {name:<46} p50 {:>9.3} ms  p99 {:>9.3} ms  ({rows} rows)", ms(p50), ms(p99));
        cairn.push((name, ms(p50)));
    }
    if !peers {
        return;
    }

    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    let script = format!("{manifest}/benches/peers.py");
    let output = Command::new("python3")
        .args([script.as_str(), &file.to_string_lossy(), &id, &did, &reps_fast.to_string(), &reps_slow.to_string()])
        .output()
        .expect("run peers.py");
    if !output.status.success() {
        println!("peers failed:\n{}", String::from_utf8_lossy(&output.stderr));
        return;
    }
    let peers: serde_json::Value = serde_json::from_slice(&output.stdout).expect("peers JSON");
    println!();
    println!(
        "{:<46} {:>10} {:>10} {:>10} {:>12} {:>12}",
        "query (p50 ms)", "cairn", "duckdb", "chdb", "cairn/duckdb", "cairn/chdb"
    );
    let (mut sum_cairn, mut sum_chdb) = (0.0, 0.0);
    for (name, c) in &cairn {
        let peer = |sys: &str| peers[sys][name]["p50_ms"].as_f64().unwrap_or(f64::NAN);
        let (d, h) = (peer("duckdb"), peer("chdb"));
        println!("{name:<46} {c:>10.3} {d:>10.3} {h:>10.3} {:>12.2} {:>12.2}", c / d, c / h);
        if name.starts_with('Q') {
            sum_cairn += c;
            sum_chdb += h;
        }
    }
    println!(
        "JSONBench Q1–Q5 together: cairn {sum_cairn:.1} ms, chdb {sum_chdb:.1} ms ({:.2}x); loads: duckdb {:.1} s, chdb {:.1} s",
        sum_cairn / sum_chdb,
        peers["duckdb"]["load_s"].as_f64().unwrap_or(f64::NAN),
        peers["chdb"]["load_s"].as_f64().unwrap_or(f64::NAN)
    );
}
