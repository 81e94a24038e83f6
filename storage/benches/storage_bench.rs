//! Storage benchmark (`cargo bench -p cairn-storage`): ingests Jetstream-shaped events and
//! prints ingest rate, on-disk size per index family against raw JSON, point-lookup latency,
//! single-column scan rate and selective search-index lookup latency.
//!
//! `CAIRN_BENCH_DOCS` sets the number of documents (default 1,000,000);
//! `CAIRN_BENCH_SHARDS` the shard count (default 2).

use std::hint::black_box;
use std::time::{Duration, Instant};

use arrow_array::{Array, Int64Array};
use cairn_storage::synth::{EventGen, SplitMix};
use cairn_storage::{
    CollectionConfig, ColumnOutput, ColumnSpec, IndexPredicate, ScanOptions, Store, StoreOptions, Value, ValueType, WriteOp,
};

// The allocator the `cairn` binary uses: glibc's malloc spends much of ingest on frees of
// documents parsed on one thread and dropped on a shard's writer thread.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// CPU seconds this process has used (user + system, every thread), where /proc tells.
fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // utime and stime, in clock ticks of 1/100 s.
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (e.g. `cargo test --benches`) just checks it runs.
    let quick = !std::env::args().any(|a| a == "--bench");
    let docs = env_or("CAIRN_BENCH_DOCS", if quick { 20_000 } else { 1_000_000 });
    let shards = env_or("CAIRN_BENCH_SHARDS", 2) as u32;
    let batch = env_or("CAIRN_BENCH_BATCH", 1000).max(1);
    let users = (docs / 10).max(10);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path(), StoreOptions { cache_bytes: 1 << 30, ..Default::default() }).expect("open store");
    let coll = store.create_collection("commons", "events", CollectionConfig { shards, ..Default::default() }).expect("create");

    // Generate the JSON lines first (not timed).
    let mut gen = EventGen::new(42, users);
    let lines: Vec<String> = (0..docs).map(|i| format!(r#"{{"_id":"ev{i:08}",{}"#, &gen.next_json()[1..])).collect();
    let raw_bytes: u64 = lines.iter().map(|l| l.len() as u64 + 1).sum();
    let ids: Vec<String> = (0..docs).map(|i| format!("ev{i:08}")).collect();

    // Ingest: JSON text → parsed documents → durable writes, in batches. A parser thread feeds
    // the writer, as request threads feed the storage engine in the server.
    let cpu0 = cpu_secs();
    let t = Instant::now();
    let parsing = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<WriteOp>>(2);
        let parser = scope.spawn(move || {
            let mut parsing = Duration::ZERO;
            for chunk in lines.chunks(batch as usize) {
                let p = Instant::now();
                let ops = chunk.iter().map(|l| WriteOp::Insert(Value::from_json_str(l).expect("valid JSON"))).collect();
                parsing += p.elapsed();
                if tx.send(ops).is_err() {
                    break;
                }
            }
            parsing
        });
        for ops in rx {
            for r in coll.write(ops) {
                r.expect("write");
            }
        }
        parser.join().expect("parser thread")
    });
    let ingest = t.elapsed();
    let ingest_cpu = cpu_secs().zip(cpu0).map(|(b, a)| b - a);
    println!("documents: {docs}, shards: {shards}, users: {users}, write batch: {batch} documents");
    println!(
        "ingest: {:.0} docs/s ({:.2} s, of which JSON parsing {:.2} s)",
        docs as f64 / ingest.as_secs_f64(),
        ingest.as_secs_f64(),
        parsing.as_secs_f64()
    );
    if let Some(cpu) = ingest_cpu {
        println!(
            "ingest CPU: {cpu:.1} s over all threads ({:.2} cores busy, {:.1} µs per document)",
            cpu / ingest.as_secs_f64(),
            cpu * 1e6 / docs as f64
        );
    }

    let t = Instant::now();
    coll.compact().expect("compact");
    println!("full compaction: {:.2} s", t.elapsed().as_secs_f64());
    let raw_per_doc = raw_bytes as f64 / docs as f64;
    let sizes = coll.size_report();
    let total: u64 = sizes.iter().map(|f| f.sst_bytes).sum();
    println!(
        "raw JSON: {raw_per_doc:.1} bytes/doc; on disk after compaction: {:.1} bytes/doc ({:.2}x raw)",
        total as f64 / docs as f64,
        total as f64 / raw_bytes as f64
    );
    for f in &sizes {
        println!("  {:<7} {:>8.1} bytes/doc", f.family, f.sst_bytes as f64 / docs as f64);
    }

    // Point lookups by _id (warm: one pass first).
    let mut rng = SplitMix::new(7);
    let sample: Vec<&String> = (0..20_000).map(|_| &ids[rng.below(docs) as usize]).collect();
    for id in &sample {
        black_box(coll.get(id).expect("get"));
    }
    let mut lat: Vec<Duration> = sample
        .iter()
        .map(|id| {
            let t = Instant::now();
            let d = coll.get(id).expect("get");
            let e = t.elapsed();
            assert!(d.is_some());
            e
        })
        .collect();
    lat.sort();
    println!("point lookup by _id: p50 {:?}, p99 {:?}", percentile(&lat, 0.5), percentile(&lat, 0.99));

    // One-column scan of an int column, every shard on its own thread (as the engine scans).
    let opts = ScanOptions {
        columns: vec![ColumnSpec { path: "time_us".into(), output: ColumnOutput::Typed(ValueType::Int) }],
        ..Default::default()
    };
    let mut best = f64::MAX;
    for _ in 0..5 {
        let snaps = coll.snapshot();
        let t = Instant::now();
        let (values, sum) = std::thread::scope(|scope| {
            let handles: Vec<_> = snaps
                .iter()
                .map(|snap| {
                    let opts = &opts;
                    scope.spawn(move || {
                        let (mut values, mut sum) = (0u64, 0i64);
                        for batch in snap.scan(opts).expect("scan") {
                            let batch = batch.expect("batch");
                            let col = batch.column(0).as_any().downcast_ref::<Int64Array>().expect("int64");
                            values += (col.len() - col.null_count()) as u64;
                            sum = sum.wrapping_add(col.values().iter().sum::<i64>());
                        }
                        (values, sum)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("scan thread")).fold((0, 0i64), |a, b| (a.0 + b.0, a.1.wrapping_add(b.1)))
        });
        black_box(sum);
        assert_eq!(values, docs);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("int column scan (time_us, shards in parallel): {:.1} M values/s ({:.1} ms)", docs as f64 / best / 1e6, best * 1e3);

    // Selective search-index lookups: one user's events (equality on did), then fetch 3 columns.
    let fetch_opts = ScanOptions {
        columns: vec![
            ColumnSpec { path: "time_us".into(), output: ColumnOutput::Typed(ValueType::Int) },
            ColumnSpec { path: "commit.collection".into(), output: ColumnOutput::Typed(ValueType::String) },
            ColumnSpec { path: "commit.record.subject".into(), output: ColumnOutput::Encoded },
        ],
        ..Default::default()
    };
    let mut lookup = Vec::new();
    let mut with_fetch = Vec::new();
    let mut matched = 0u64;
    let snaps = coll.snapshot();
    for u in 0..2000u64 {
        let did = EventGen::did((u * 7919) % users);
        let pred = IndexPredicate::Eq { path: "did".into(), value: Value::String(did) };
        let t = Instant::now();
        let sets: Vec<_> = snaps.iter().map(|s| s.lookup(&pred).expect("lookup")).collect();
        lookup.push(t.elapsed());
        for (s, set) in snaps.iter().zip(&sets) {
            matched += set.len();
            black_box(s.fetch(set, &fetch_opts).expect("fetch"));
        }
        with_fetch.push(t.elapsed());
    }
    lookup.sort();
    with_fetch.sort();
    println!(
        "selective lookup (did = ?, {:.1} docs avg): index p50 {:?} p99 {:?}; with 3-column fetch p50 {:?} p99 {:?}",
        matched as f64 / 2000.0,
        percentile(&lookup, 0.5),
        percentile(&lookup, 0.99),
        percentile(&with_fetch, 0.5),
        percentile(&with_fetch, 0.99)
    );

    // Range-index lookup: a narrow time window.
    let mut range_lat = Vec::new();
    for i in 0..1000i64 {
        // Events are ~100 µs apart: spread 1,000 windows over the generated span.
        let lo = 1_732_206_349_000_000 + i * (docs as i64 * 100 / 1000);
        let pred = IndexPredicate::Range {
            path: "time_us".into(),
            lower: std::ops::Bound::Included(Value::Int(lo)),
            upper: std::ops::Bound::Excluded(Value::Int(lo + 10_000)),
        };
        let t = Instant::now();
        for s in &snaps {
            black_box(s.lookup(&pred).expect("range"));
        }
        range_lat.push(t.elapsed());
    }
    range_lat.sort();
    println!(
        "range lookup (10 ms window of time_us): p50 {:?} p99 {:?}",
        percentile(&range_lat, 0.5),
        percentile(&range_lat, 0.99)
    );
}
