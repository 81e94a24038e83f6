//! The read API the SQL engine builds on: Arrow scans (column index) and fetches (row index)
//! agree, typed outputs carry the right Arrow types, lookups compose, statistics are exact,
//! retention removes expired documents from every index, and a compaction
//! stopped short resumes where it stopped.

use std::ops::Bound;

use arrow_array::{Array, BinaryArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray};
use arrow_schema::DataType;
use cairn_storage::value::codec::decode_value_exact;
use cairn_storage::{
    Collection, CollectionConfig, ColumnOutput, ColumnSpec, IndexPredicate, ScanOptions, Store, StoreOptions, Value, ValueType,
    WriteOp,
};

fn open(shards: u32, retention: Option<i64>) -> (tempfile::TempDir, Store, std::sync::Arc<Collection>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreOptions { cache_bytes: 8 << 20, pending_fold_bytes: 64 << 10 }).unwrap();
    let config =
        CollectionConfig { shards, retention_micros: retention, event_time_field: Some("ts".into()), ..Default::default() };
    let coll = store.create_collection("commons", "c", config).unwrap();
    (dir, store, coll)
}

fn json(s: &str) -> Value {
    Value::from_json_str(s).unwrap()
}

fn load(coll: &Collection, n: i64) {
    let ops = (0..n)
        .map(|i| {
            // `x` is an int in most documents, a string in every 5th, missing in every 7th;
            // `sub` is an object in even documents and a string in odd ones.
            let x = if i % 7 == 0 {
                String::new()
            } else if i % 5 == 0 {
                format!(r#","x":"s{i}""#)
            } else {
                format!(r#","x":{i}"#)
            };
            let sub = if i % 2 == 0 { format!(r#"{{"uri":"u{i}"}}"#) } else { format!(r#""plain{i}""#) };
            WriteOp::Insert(json(&format!(
                r#"{{"_id":"k{i}","ts":{},"f":{}.5,"sub":{sub},"tags":["t{}","all"]{x}}}"#,
                1_000_000 + i,
                i,
                i % 3
            )))
        })
        .collect();
    for r in coll.write(ops) {
        r.unwrap();
    }
}

fn spec(path: &str, output: ColumnOutput) -> ColumnSpec {
    ColumnSpec { path: path.into(), output }
}

#[test]
fn scan_and_fetch_agree_with_typed_outputs() {
    let (_d, _s, coll) = open(3, None);
    load(&coll, 10_000);
    let opts = ScanOptions {
        columns: vec![
            spec("_id", ColumnOutput::Typed(ValueType::String)),
            spec("x", ColumnOutput::Typed(ValueType::Int)),
            spec("f", ColumnOutput::Typed(ValueType::Float)),
            spec("_event_time", ColumnOutput::Typed(ValueType::Timestamp)),
            spec("sub", ColumnOutput::Encoded),
            spec("tags", ColumnOutput::Encoded),
        ],
        docs: None,
        with_doc_number: true,
    };
    let schema = opts.schema().unwrap();
    assert_eq!(schema.field(2).data_type(), &DataType::Int64);
    assert!(matches!(schema.field(4).data_type(), DataType::Timestamp(_, Some(tz)) if tz.as_ref() == "UTC"));
    let mut rows = 0;
    let mut int_sum = 0i64;
    for snap in coll.snapshot() {
        let mut scanned = Vec::new();
        for b in snap.scan(&opts).unwrap() {
            scanned.push(b.unwrap());
        }
        let all = snap.all_docs().unwrap();
        let fetched = snap.fetch(&all, &opts).unwrap();
        let scanned = arrow_select::concat::concat_batches(&opts.schema().unwrap(), &scanned).unwrap();
        assert_eq!(scanned, fetched, "column index and row index disagree");
        rows += scanned.num_rows();
        let ids = scanned.column(1).as_any().downcast_ref::<StringArray>().unwrap();
        let xs = scanned.column(2).as_any().downcast_ref::<Int64Array>().unwrap();
        let fs = scanned.column(3).as_any().downcast_ref::<Float64Array>().unwrap();
        let ts = scanned.column(4).as_any().downcast_ref::<TimestampMicrosecondArray>().unwrap();
        let subs = scanned.column(5).as_any().downcast_ref::<BinaryArray>().unwrap();
        for r in 0..scanned.num_rows() {
            let i: i64 = ids.value(r)[1..].parse().unwrap();
            // Strict typing: strings and missing values in `x` come out null.
            assert_eq!(xs.is_null(r), i % 7 == 0 || i % 5 == 0, "x of k{i}");
            if !xs.is_null(r) {
                assert_eq!(xs.value(r), i);
                int_sum += i;
            }
            assert_eq!(fs.value(r), i as f64 + 0.5);
            assert_eq!(ts.value(r), 1_000_000 + i);
            let sub = decode_value_exact(subs.value(r)).unwrap();
            if i % 2 == 0 {
                assert_eq!(sub, json(&format!(r#"{{"uri":"u{i}"}}"#)));
            } else {
                assert_eq!(sub, Value::String(format!("plain{i}")));
            }
        }
    }
    assert_eq!(rows, 10_000);
    assert_eq!(int_sum, (0..10_000i64).filter(|i| i % 7 != 0 && i % 5 != 0).sum::<i64>());
}

#[test]
fn lookups_compose_and_feed_fetch() {
    let (_d, _s, coll) = open(2, None);
    load(&coll, 3_000);
    let count = |p: &IndexPredicate| -> u64 { coll.snapshot().iter().map(|s| s.lookup(p).unwrap().len()).sum() };
    let tag = |t: &str| IndexPredicate::Eq { path: "tags.*".into(), value: Value::from(t) };
    assert_eq!(count(&tag("all")), 3_000);
    assert_eq!(count(&tag("t1")), 1_000);
    // Posting sizes for the planner, without reading the lists; ints match floats of equal value.
    let count_eq = |p: &str, v: Value| -> u64 { coll.snapshot().iter().map(|s| s.count_eq(p, &v).unwrap()).sum() };
    assert_eq!(count_eq("tags.*", Value::from("t1")), 1_000);
    assert_eq!(count_eq("x", Value::Float(101.0)), 1);
    assert_eq!(count_eq("nope", Value::Int(1)), 0);
    let int_range = IndexPredicate::Range {
        path: "x".into(),
        lower: Bound::Included(Value::Int(100)),
        upper: Bound::Excluded(Value::Float(200.0)),
    };
    let want = (100..200).filter(|i| i % 7 != 0 && i % 5 != 0).count() as u64;
    assert_eq!(count(&int_range), want);
    assert_eq!(
        count(&IndexPredicate::And(vec![int_range.clone(), tag("t1")])),
        (100..200).filter(|i| i % 7 != 0 && i % 5 != 0 && i % 3 == 1).count() as u64
    );
    assert_eq!(count(&IndexPredicate::Or(vec![tag("t1"), tag("t2")])), 2_000);
    assert_eq!(count(&IndexPredicate::Undefined { path: "x".into() }), (0..3000).filter(|i| i % 7 == 0).count() as u64);
    assert_eq!(
        count(&IndexPredicate::Prefix { path: "sub.uri".into(), prefix: "u1".into() }),
        (0..3000).filter(|i| i % 2 == 0 && format!("{i}").starts_with('1')).count() as u64
    );
    assert_eq!(count(&IndexPredicate::Eq { path: "sub".into(), value: Value::from("plain7") }), 1);
    assert_eq!(
        count(&IndexPredicate::In {
            path: "_id".into(),
            values: vec![Value::from("k1"), Value::from("k2"), Value::from("nope")]
        }),
        2
    );
    // A string range is answered from the search index; mixed-family bounds are refused.
    let s_range = IndexPredicate::Range {
        path: "x".into(),
        lower: Bound::Included(Value::from("s10")),
        upper: Bound::Included(Value::from("s19")),
    };
    let want = (0..3000)
        .map(|i| format!("s{i}"))
        .enumerate()
        .filter(|(i, s)| i % 5 == 0 && i % 7 != 0 && s.as_str() >= "s10" && s.as_str() <= "s19")
        .count();
    assert_eq!(count(&s_range), want as u64);
    let bad = IndexPredicate::Range {
        path: "x".into(),
        lower: Bound::Included(Value::Int(1)),
        upper: Bound::Included(Value::from("s")),
    };
    assert!(coll.snapshot()[0].lookup(&bad).is_err());
    // A selective result is fetched by document number.
    let opts = ScanOptions { columns: vec![spec("f", ColumnOutput::Typed(ValueType::Float))], ..Default::default() };
    let total: usize = coll
        .snapshot()
        .iter()
        .map(|s| {
            s.fetch(&s.lookup(&IndexPredicate::Eq { path: "x".into(), value: Value::Int(101) }).unwrap(), &opts)
                .unwrap()
                .num_rows()
        })
        .sum();
    assert_eq!(total, 1);
}

#[test]
fn value_counts_group_documents_by_value() {
    let (_d, _s, coll) = open(2, None);
    load(&coll, 3_000);
    // `x` holds ints, strings, and (in the extra documents) floats and bools.
    let extra =
        ["1.5", "2.0", "true"].iter().enumerate().map(|(i, x)| WriteOp::Insert(json(&format!(r#"{{"_id":"e{i}","x":{x}}}"#))));
    for r in coll.write(extra.collect()) {
        r.unwrap();
    }
    let counts = |path: &str, t: ValueType, pred: Option<&IndexPredicate>| -> Vec<(Value, u64)> {
        let mut all: std::collections::BTreeMap<String, (Value, u64)> = Default::default();
        for s in coll.snapshot() {
            let mut docs = s.all_docs().unwrap();
            if let Some(p) = pred {
                docs &= s.lookup(p).unwrap();
            }
            for (v, n) in s.value_counts(path, t, &docs).unwrap() {
                all.entry(v.to_json_string()).or_insert((v, 0)).1 += n;
            }
        }
        all.into_values().collect()
    };
    let tags = counts("tags.*", ValueType::String, None);
    assert_eq!(
        tags,
        vec![(Value::from("all"), 3_000), (Value::from("t0"), 1_000), (Value::from("t1"), 1_000), (Value::from("t2"), 1_000)]
    );
    let t1 = IndexPredicate::Eq { path: "tags.*".into(), value: Value::from("t1") };
    assert_eq!(counts("tags.*", ValueType::String, Some(&t1)), vec![(Value::from("all"), 1_000), (Value::from("t1"), 1_000)]);
    // Ints only: floats (even of integral value) and strings are other types.
    let ints = counts("x", ValueType::Int, None);
    assert_eq!(ints.len(), (0..3000).filter(|i| i % 7 != 0 && i % 5 != 0).count());
    assert!(ints.iter().all(|(v, n)| matches!(v, Value::Int(_)) && *n == 1));
    assert_eq!(counts("x", ValueType::Bool, None), vec![(Value::Bool(true), 1)]);
    assert!(counts("nope", ValueType::String, None).is_empty());
    assert_eq!(counts("x", ValueType::Float, None), vec![(Value::Float(1.5), 1), (Value::Float(2.0), 1)]);
}

#[test]
fn extreme_values_come_from_the_ordered_index() {
    let (_d, _s, coll) = open(2, None);
    load(&coll, 3_000);
    // Each shard's extreme, then the extreme of those.
    let per_shard = |path: &str, t: ValueType, pred: Option<&IndexPredicate>, greatest: bool| -> Vec<Value> {
        coll.snapshot()
            .iter()
            .filter_map(|s| {
                let mut docs = s.all_docs().unwrap();
                if let Some(p) = pred {
                    docs &= s.lookup(p).unwrap();
                }
                s.extreme_value(path, t, &docs, greatest).unwrap()
            })
            .collect()
    };
    let int_extreme = |pred: Option<&IndexPredicate>, greatest: bool| -> Option<i64> {
        let ints = per_shard("x", ValueType::Int, pred, greatest).into_iter().map(|v| match v {
            Value::Int(i) => i,
            other => panic!("not an int: {other:?}"),
        });
        if greatest {
            ints.max()
        } else {
            ints.min()
        }
    };
    // `x`: ints where i % 7 != 0 and i % 5 != 0, strings "s{i}" where i % 5 == 0.
    assert_eq!(int_extreme(None, false), Some(1));
    assert_eq!(int_extreme(None, true), Some(2999));
    let t1 = IndexPredicate::Eq { path: "tags.*".into(), value: Value::from("t1") };
    assert_eq!(int_extreme(Some(&t1), true), Some(2998));
    let strings = per_shard("x", ValueType::String, None, false);
    assert_eq!(strings.iter().map(Value::to_json_string).min(), Some("\"s10\"".to_owned()));
    assert!(per_shard("nope", ValueType::Int, None, false).is_empty());
    // Deletes and late writes (pending edits) count; floats are not ints.
    for r in coll.write(vec![
        WriteOp::Delete { id: "k2999".into() },
        WriteOp::Insert(json(r#"{"_id":"low","x":-5}"#)),
        WriteOp::Insert(json(r#"{"_id":"f","x":9999.5}"#)),
    ]) {
        r.unwrap();
    }
    assert_eq!(int_extreme(None, true), Some(2998));
    assert_eq!(int_extreme(None, false), Some(-5));
    assert!(coll.snapshot()[0].extreme_value("x", ValueType::Float, &Default::default(), true).is_err());
}

#[test]
fn statistics_are_exact() {
    let (_d, _s, coll) = open(2, None);
    load(&coll, 700);
    let stats = coll.stats();
    assert_eq!(stats.doc_count, 700);
    let count = |p: &str, t: ValueType| stats.fields.iter().find(|(q, u, _)| q == p && *u == t).map(|f| f.2).unwrap_or(0);
    assert_eq!(count("x", ValueType::Int), (0..700).filter(|i| i % 7 != 0 && i % 5 != 0).count() as u64);
    assert_eq!(count("x", ValueType::String), (0..700).filter(|i| i % 7 != 0 && i % 5 == 0).count() as u64);
    assert_eq!(count("sub", ValueType::Object), 350);
    assert_eq!(count("sub", ValueType::String), 350);
    assert_eq!(count("tags.*", ValueType::String), 700);
    assert_eq!(count("tags", ValueType::Array), 700);
    // Both shards hold all four tag values: the per-shard sum is an upper bound.
    assert_eq!(coll.distinct_estimate("tags.*").unwrap(), 8);
    assert_eq!(coll.distinct_estimate("_id").unwrap(), 700);
    coll.delete("k1").unwrap();
    coll.patch("k2", vec![cairn_storage::PatchOp::Remove { path: "/x".into() }]).unwrap();
    let stats = coll.stats();
    assert_eq!(stats.doc_count, 699);
    let after = |p: &str, t: ValueType| stats.fields.iter().find(|(q, u, _)| q == p && *u == t).map(|f| f.2).unwrap_or(0);
    assert_eq!(after("x", ValueType::Int), count("x", ValueType::Int) - 2);
    assert_eq!(after("sub", ValueType::String), 349);
}

#[test]
fn retention_expires_from_every_index() {
    let (_d, _s, coll) = open(2, Some(500));
    load(&coll, 2_000);
    // Event times are 1_000_000 + i: at now = 1_001_500 the window keeps i >= 1000.
    let expired = coll.expire(1_001_500).unwrap();
    assert_eq!(expired, 1_000);
    assert_eq!(coll.stats().doc_count, 1_000);
    assert!(coll.get("k999").unwrap().is_none());
    assert!(coll.get("k1000").unwrap().is_some());
    let report = coll.verify().unwrap();
    assert!(report.is_consistent(), "{:?}", report.problems);
    let n: u64 = coll
        .snapshot()
        .iter()
        .map(|s| s.lookup(&IndexPredicate::Eq { path: "tags.*".into(), value: Value::from("all") }).unwrap().len())
        .sum();
    assert_eq!(n, 1_000);
    assert_eq!(coll.expire(1_001_500).unwrap(), 0, "nothing left to expire");
}

#[test]
fn documents_spread_over_shards_and_sizes_are_reported() {
    let (_d, _s, coll) = open(4, None);
    load(&coll, 4_000);
    let per: Vec<u64> = coll.shards().iter().map(|s| s.doc_count()).collect();
    assert!(per.iter().all(|n| *n > 800 && *n < 1200), "{per:?}");
    coll.compact().unwrap();
    let sizes = coll.size_report();
    let fams: Vec<&str> = sizes.iter().map(|f| f.family).collect();
    assert_eq!(fams, vec!["rows", "cols", "search", "range", "meta", "pending"]);
    // Compaction folds the pending postings into the search index first.
    assert!(sizes.iter().all(|f| (f.sst_bytes > 0) == (f.family != "pending")), "{sizes:?}");
    // After full compaction the column chunks are folded and still read back the same.
    let report = coll.verify().unwrap();
    assert!(report.is_consistent(), "{:?}", report.problems);
}

#[test]
fn bad_input_is_rejected_without_losing_the_batch() {
    let (_d, _s, coll) = open(2, None);
    let results = coll.write(vec![
        WriteOp::Insert(json(r#"{"_id":"ok1"}"#)),
        WriteOp::Insert(json(r#"{"_id":7}"#)),
        WriteOp::Insert(json(r#"[1,2]"#)),
        WriteOp::Patch { id: "missing".into(), ops: vec![] },
        WriteOp::Insert(json(r#"{"_id":"ok2","ts":"not a time"}"#)),
        WriteOp::Insert(json(r#"{"_id":"ok3"}"#)),
    ]);
    let ok: Vec<bool> = results.iter().map(Result::is_ok).collect();
    assert_eq!(ok, vec![true, false, false, false, false, true]);
    assert!(results[4].as_ref().unwrap_err().to_string().contains("RFC 3339"));
    assert_eq!(coll.stats().doc_count, 2);
    let seqs: Vec<u64> = results.iter().filter_map(|r| r.as_ref().ok().map(|a| a.seq)).collect();
    assert!(seqs[0] < seqs[1]);
}

#[test]
fn range_index_buckets_answer_exact_ranges() {
    let (_d, _s, coll) = open(2, None);
    let base = 1_700_000_000_000_000i64;
    let t = |i: i64| base + i * 997;
    let ops = (0..3000i64)
        .map(|i| {
            let mut o = cairn_storage::Object::new();
            o.insert("_id".into(), Value::String(format!("r{i}")));
            o.insert("t".into(), Value::Int(t(i)));
            o.insert("ts".into(), Value::Timestamp(t(i)));
            // Two values a microsecond apart: always in one bucket.
            o.insert("arr".into(), Value::Array(vec![Value::Float(t(i) as f64), Value::Int(t(i) + 1)]));
            WriteOp::Insert(Value::Object(o))
        })
        .collect();
    coll.write(ops).into_iter().for_each(|r| drop(r.unwrap()));
    // Removing one of two values in a bucket keeps the document in that bucket.
    coll.patch("r5", vec![cairn_storage::PatchOp::Remove { path: "/arr/1".into() }]).unwrap();
    assert!(coll.verify().unwrap().is_consistent());
    let count = |p: &IndexPredicate| -> u64 { coll.snapshot().iter().map(|s| s.lookup(p).unwrap().len()).sum() };
    let mut rng = cairn_storage::synth::SplitMix::new(3);
    for _ in 0..200 {
        let (a, b) = (rng.below(3_200) as i64 - 100, rng.below(3_200) as i64 - 100);
        let (lo, hi) = (t(a.min(b)) + rng.below(997) as i64, t(a.max(b)) + rng.below(997) as i64);
        let bound = |v: i64, kind: u64, ts: bool| {
            let v = if ts { Value::Timestamp(v) } else { Value::Int(v) };
            match kind {
                0 => Bound::Included(v),
                1 => Bound::Excluded(v),
                _ => Bound::Unbounded,
            }
        };
        let (lk, hk) = (rng.below(3), rng.below(3));
        let inside = |x: i64| {
            (match lk {
                0 => x >= lo,
                1 => x > lo,
                _ => true,
            }) && (match hk {
                0 => x <= hi,
                1 => x < hi,
                _ => true,
            })
        };
        let want = (0..3000).filter(|i| inside(t(*i))).count() as u64;
        for (path, ts) in [("t", false), ("ts", true)] {
            let pred = IndexPredicate::Range { path: path.into(), lower: bound(lo, lk, ts), upper: bound(hi, hk, ts) };
            assert_eq!(count(&pred), want, "{path} {pred:?}");
        }
        let want_arr = (0..3000).filter(|i| inside(t(*i)) || (*i != 5 && inside(t(*i) + 1))).count() as u64;
        let pred = IndexPredicate::Range { path: "arr.*".into(), lower: bound(lo, lk, false), upper: bound(hi, hk, false) };
        assert_eq!(count(&pred), want_arr, "arr {pred:?}");
    }
}

#[test]
fn fetch_skips_documents_that_are_gone() {
    let (_d, _s, coll) = open(1, None);
    load(&coll, 50);
    let pred = IndexPredicate::Eq { path: "tags.*".into(), value: Value::from("t1") };
    let docs = coll.snapshot()[0].lookup(&pred).unwrap();
    assert_eq!(docs.len(), 17);
    coll.delete("k1").unwrap();
    coll.delete("k4").unwrap();
    // A fresh snapshot no longer sees them, although the caller still holds their numbers.
    let snap = &coll.snapshot()[0];
    let opts = ScanOptions { columns: vec![spec("f", ColumnOutput::Typed(ValueType::Float))], docs: None, with_doc_number: true };
    let batch = snap.fetch(&docs, &opts).unwrap();
    assert_eq!(batch.num_rows(), 15);
    let mut all = docs.clone();
    all.insert(10_000);
    assert_eq!(snap.fetch(&all, &opts).unwrap().num_rows(), 15, "unknown document numbers are skipped too");
}

#[test]
fn a_compaction_stopped_short_resumes_where_it_stopped() {
    let (_d, _s, coll) = open(2, None);
    load(&coll, 400);
    let steps = std::cell::Cell::new(0);
    // The third step is refused: the first two families of the first shard are compacted.
    let go = |_bytes: u64| {
        steps.set(steps.get() + 1);
        steps.get() < 3
    };
    assert_eq!(coll.compact_while(0, go).unwrap(), Some(2));
    steps.set(0);
    let go = |_bytes: u64| {
        steps.set(steps.get() + 1);
        true
    };
    assert_eq!(coll.compact_while(2, go).unwrap(), None);
    let families = coll.size_report().len();
    assert_eq!(steps.get(), 2 * families - 2, "the resumed compaction did only the steps left");
    assert_eq!(coll.level0_files(), 0, "every family of every shard is compacted");
    let all = IndexPredicate::Eq { path: "tags.*".into(), value: Value::from("all") };
    let found: u64 = coll.snapshot().iter().map(|s| s.lookup(&all).unwrap().len()).sum();
    assert_eq!(found, 400, "every document is still found");
}
