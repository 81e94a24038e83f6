//! Model-based property test: random sequences of insert/replace/patch/delete over random
//! nested documents (mixed types, arrays, missing fields) are applied both to a collection
//! and to a plain in-memory map. After every step, every index must agree with the row index
//! (`verify`), and the row index, smart schema, search/range lookups and column scans must
//! agree with the model.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use cairn_storage::document::normalize;
use cairn_storage::index::entries::DocEntries;
use cairn_storage::patch::{self, PatchOp};
use cairn_storage::{
    Collection, CollectionConfig, ColumnOutput, ColumnSpec, FieldPath, IndexPredicate, Object, ScanOptions, StorageError, Value,
    ValueType, WriteOp,
};
use proptest::prelude::*;

const IDS: &[&str] = &["d0", "d1", "d2", "d3", "d4", "d5"];
const FIELDS: &[&str] = &["a", "b", "c"];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..4).prop_map(Value::Int),
        prop_oneof![Just(-1.5f64), Just(0.0), Just(2.0), Just(2.5)].prop_map(Value::Float),
        prop_oneof![Just("x"), Just("xy"), Just("y"), Just("")].prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map(proptest::sample::select(FIELDS).prop_map(str::to_owned), inner, 0..3)
                .prop_map(Value::Object),
        ]
    })
}

fn document() -> impl Strategy<Value = Object> {
    proptest::collection::btree_map(proptest::sample::select(FIELDS).prop_map(str::to_owned), value(), 0..4)
}

#[derive(Debug, Clone)]
enum Op {
    Insert(&'static str, Object, i64),
    Patch(&'static str, Vec<PatchOp>),
    Delete(&'static str),
}

fn pointer() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(&["a", "b", "c", "0", "-"][..]), 1..3)
        .prop_map(|p| format!("/{}", p.join("/")))
}

fn patch_op() -> impl Strategy<Value = PatchOp> {
    prop_oneof![
        (pointer(), value()).prop_map(|(path, value)| PatchOp::Add { path, value }),
        pointer().prop_map(|path| PatchOp::Remove { path }),
        (pointer(), value()).prop_map(|(path, value)| PatchOp::Replace { path, value }),
        (pointer(), pointer()).prop_map(|(from, path)| PatchOp::Move { from, path }),
        (pointer(), pointer()).prop_map(|(from, path)| PatchOp::Copy { from, path }),
        (pointer(), (-2i64..3)).prop_map(|(path, i)| PatchOp::Increment { path, value: Value::Int(i) }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let id = proptest::sample::select(IDS);
    prop_oneof![
        3 => (id.clone(), document(), 0i64..5).prop_map(|(i, d, t)| Op::Insert(i, d, t)),
        2 => (id.clone(), proptest::collection::vec(patch_op(), 1..3)).prop_map(|(i, p)| Op::Patch(i, p)),
        1 => id.prop_map(Op::Delete),
    ]
}

/// Applies `op` to the model; returns whether it should succeed.
fn apply_model(model: &mut BTreeMap<String, Object>, op: &Op) -> bool {
    match op {
        Op::Insert(id, doc, t) => {
            let mut d = doc.clone();
            d.insert("_id".into(), Value::from(*id));
            d.insert("_event_time".into(), Value::Int(*t));
            model.insert(id.to_string(), normalize(Value::Object(d), None, 0).expect("valid doc"));
            true
        }
        Op::Patch(id, ops) => {
            let Some(cur) = model.get(*id) else { return false };
            match patch::apply(cur, ops) {
                Ok(new) if new.get("_id") == cur.get("_id") && matches!(new.get("_event_time"), Some(Value::Timestamp(_))) => {
                    model.insert(id.to_string(), new);
                    true
                }
                _ => false,
            }
        }
        Op::Delete(id) => model.remove(*id).is_some(),
    }
}

fn to_write(op: &Op) -> WriteOp {
    match op {
        Op::Insert(id, doc, t) => {
            let mut d = doc.clone();
            d.insert("_id".into(), Value::from(*id));
            d.insert("_event_time".into(), Value::Int(*t));
            WriteOp::Insert(Value::Object(d))
        }
        Op::Patch(id, ops) => WriteOp::Patch { id: id.to_string(), ops: ops.clone() },
        Op::Delete(id) => WriteOp::Delete { id: id.to_string() },
    }
}

/// Smart schema of the model: (path, type) → document count.
fn model_schema(model: &BTreeMap<String, Object>) -> BTreeMap<(String, ValueType), u64> {
    let mut out = BTreeMap::new();
    for doc in model.values() {
        let mut names: HashMap<String, u32> = HashMap::new();
        let e = DocEntries::of(doc, &mut |p: &str| {
            let n = names.len() as u32;
            *names.entry(p.to_owned()).or_insert(n)
        });
        let by_id: HashMap<u32, String> = names.into_iter().map(|(k, v)| (v, k)).collect();
        for (p, t) in e.types {
            *out.entry((by_id[&p].clone(), t)).or_default() += 1;
        }
    }
    out
}

/// Every (path, scalar) pair in a value, arrays' elements under `*`.
fn leaves(v: &Value, path: &str, out: &mut BTreeSet<(String, String)>) {
    match v {
        Value::Object(o) => o.iter().for_each(|(k, c)| leaves(c, &join(path, k), out)),
        Value::Array(a) => a.iter().for_each(|c| leaves(c, &join(path, "*"), out)),
        s => {
            out.insert((path.to_owned(), s.to_json_string()));
        }
    }
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a}.{b}")
    }
}

/// Does the model document hold a value at `path` satisfying `f` (any array element)?
fn model_match(v: &Value, segs: &[&str], f: &dyn Fn(&Value) -> bool) -> bool {
    match (segs.split_first(), v) {
        (None, v) => f(v),
        (Some((&"*", rest)), Value::Array(a)) => a.iter().any(|e| model_match(e, rest, f)),
        (Some((k, rest)), Value::Object(o)) => o.get(*k).is_some_and(|c| model_match(c, rest, f)),
        _ => false,
    }
}

fn numeric(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Ids of documents matching `pred` in the collection.
fn lookup_ids(coll: &Collection, pred: &IndexPredicate) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for snap in coll.snapshot() {
        for doc in snap.lookup(pred).unwrap() {
            let f = snap.read_fields(doc, Some(&["_id"])).unwrap();
            out.insert(f["_id"].as_str().unwrap().to_owned());
        }
    }
    out
}

fn model_ids(model: &BTreeMap<String, Object>, path: &str, f: &dyn Fn(&Value) -> bool) -> BTreeSet<String> {
    let segs: Vec<&str> = path.split('.').collect();
    model.iter().filter(|(_, d)| model_match(&Value::Object((*d).clone()), &segs, f)).map(|(id, _)| id.clone()).collect()
}

fn check(coll: &Collection, model: &BTreeMap<String, Object>) -> Result<(), TestCaseError> {
    let report = coll.verify().unwrap();
    prop_assert!(report.is_consistent(), "indexes disagree with rows: {:?}", report.problems);
    prop_assert_eq!(report.documents, model.len() as u64);
    for id in IDS {
        let stored = coll.get(id).unwrap();
        prop_assert_eq!(stored.as_ref(), model.get(*id), "document {}", id);
    }
    let stats = coll.stats();
    prop_assert_eq!(stats.doc_count, model.len() as u64);
    let got: BTreeMap<(String, ValueType), u64> = stats.fields.into_iter().map(|(p, t, n)| ((p, t), n)).collect();
    prop_assert_eq!(got, model_schema(model));

    // Search index: equality on every (path, scalar) the model holds.
    let mut pairs = BTreeSet::new();
    for d in model.values() {
        leaves(&Value::Object(d.clone()), "", &mut pairs);
    }
    for (path, json) in &pairs {
        let v = Value::from_json_str(json).unwrap();
        let want = model_ids(model, path, &|x| match (numeric(x), numeric(&v)) {
            (Some(a), Some(b)) => a == b,
            _ => x == &v,
        });
        let pred = IndexPredicate::Eq { path: path.clone(), value: v.clone() };
        prop_assert_eq!(lookup_ids(coll, &pred), want, "{} = {}", path, json);
    }
    // Range index, prefix, null, undefined.
    for path in ["a", "b.a", "a.*", "c.*.b"] {
        let want = model_ids(model, path, &|x| numeric(x).is_some_and(|n| n > 0.0 && n <= 2.5));
        let pred = IndexPredicate::Range {
            path: path.into(),
            lower: Bound::Excluded(Value::Int(0)),
            upper: Bound::Included(Value::Float(2.5)),
        };
        prop_assert_eq!(lookup_ids(coll, &pred), want, "range on {}", path);
        let want = model_ids(model, path, &|x| matches!(x, Value::String(s) if s.starts_with('x')));
        prop_assert_eq!(
            lookup_ids(coll, &IndexPredicate::Prefix { path: path.into(), prefix: "x".into() }),
            want,
            "prefix on {}",
            path
        );
        let want = model_ids(model, path, &|x| *x == Value::Null);
        prop_assert_eq!(lookup_ids(coll, &IndexPredicate::Null { path: path.into() }), want, "null on {}", path);
        let defined = model_ids(model, path, &|_| true);
        let undefined: BTreeSet<String> = model.keys().filter(|k| !defined.contains(*k)).cloned().collect();
        prop_assert_eq!(lookup_ids(coll, &IndexPredicate::Undefined { path: path.into() }), undefined, "undefined {}", path);
    }
    // Column index: every top-level and nested (non-array) path, encoded, matches the model.
    for path in ["a", "b", "a.b", "c.a"] {
        let fp = FieldPath::parse(path).unwrap();
        let opts = ScanOptions {
            columns: vec![
                ColumnSpec { path: "_id".into(), output: ColumnOutput::Typed(ValueType::String) },
                ColumnSpec { path: path.into(), output: ColumnOutput::Encoded },
            ],
            docs: None,
            with_doc_number: false,
        };
        let mut got = BTreeMap::new();
        for snap in coll.snapshot() {
            for batch in snap.scan(&opts).unwrap() {
                let batch = batch.unwrap();
                let ids = batch.column(0).as_any().downcast_ref::<arrow_array::StringArray>().unwrap();
                let vals = batch.column(1).as_any().downcast_ref::<arrow_array::BinaryArray>().unwrap();
                for i in 0..batch.num_rows() {
                    let v = (!arrow_array::Array::is_null(vals, i))
                        .then(|| cairn_storage::value::codec::decode_value_exact(vals.value(i)).unwrap());
                    got.insert(ids.value(i).to_owned(), v);
                }
            }
        }
        let want: BTreeMap<String, Option<Value>> =
            model.iter().map(|(id, d)| (id.clone(), fp.get(&Value::Object(d.clone())).cloned())).collect();
        prop_assert_eq!(got, want, "column {}", path);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, max_shrink_iters: 200, ..ProptestConfig::default() })]
    #[test]
    fn indexes_agree_with_model(
        ops in proptest::collection::vec(op(), 1..25),
        batched in any::<bool>(),
        // Pending value postings folded after every batch, now and then, or never (they are
        // reloaded from their records at reopen).
        fold_bytes in prop_oneof![Just(1usize), Just(2048), Just(usize::MAX)],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let res = cairn_storage::shard::SharedResources::new(8 << 20, fold_bytes);
        let coll = Collection::open(dir.path(), CollectionConfig { shards: 2, ..Default::default() }, &res).unwrap();
        let mut model = BTreeMap::new();
        if batched {
            // One multi-document write: per-document results, in order.
            let expect: Vec<bool> = ops.iter().map(|o| apply_model(&mut model, o)).collect();
            let results = coll.write(ops.iter().map(to_write).collect());
            for (r, ok) in results.iter().zip(expect) {
                prop_assert_eq!(r.is_ok(), ok, "{:?}", r);
            }
            check(&coll, &model)?;
        } else {
            for op in &ops {
                let ok = apply_model(&mut model, op);
                let r = coll.write(vec![to_write(op)]).pop().unwrap();
                prop_assert_eq!(r.is_ok(), ok, "{:?} -> {:?}", op, r);
                if let Err(e) = &r {
                    prop_assert!(matches!(e, StorageError::NotFound { .. } | StorageError::Patch { .. } | StorageError::InvalidDocument(_)), "{}", e);
                }
                check(&coll, &model)?;
            }
        }
        // Reopening restores the same state, statistics included.
        drop(coll);
        let coll = Collection::open(dir.path(), CollectionConfig { shards: 2, ..Default::default() }, &res).unwrap();
        check(&coll, &model)?;
    }
}
