//! Crash test: a child process writes batches of documents (inserts, replaces, patches,
//! deletes) and prints each acknowledged result; the parent kills it with SIGKILL mid-stream,
//! reopens the store and checks that (1) every index agrees with the row index and (2) the
//! documents equal a simulation of the same deterministic write stream cut at a batch boundary
//! no earlier than the last acknowledged batch: nothing acknowledged is lost, nothing is torn.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use cairn_storage::{CollectionConfig, Object, PatchOp, Store, StoreOptions, Value, WriteOp};

const CHILD_ENV: &str = "CAIRN_CRASH_CHILD_DIR";
const IDS: u64 = 3000;

enum Step {
    Put(Value),
    Patch(i64),
    Delete,
}

/// The deterministic batch starting after operation `n`: 1..=40 operations over a sliding
/// window of ids, so replaces, patches and deletes hit documents written earlier.
fn next_batch(n: &mut u64) -> Vec<(String, Step)> {
    let size = 1 + (*n * 7919 % 40);
    (0..size)
        .map(|_| {
            *n += 1;
            let n = *n;
            let id = format!("doc{}", n * 2654435761 % IDS);
            let step = match n % 10 {
                0..=5 => Step::Put(
                    Value::from_json_str(&format!(
                        r#"{{"_id":"{id}","n":{n},"tags":["t{}",{}],"nested":{{"k":"v{n}"}}}}"#,
                        n % 7,
                        n % 3
                    ))
                    .unwrap(),
                ),
                6..=8 => Step::Patch(n as i64),
                _ => Step::Delete,
            };
            (id, step)
        })
        .collect()
}

fn to_op(id: &str, step: &Step) -> WriteOp {
    match step {
        Step::Put(v) => WriteOp::Insert(v.clone()),
        Step::Patch(n) => {
            WriteOp::Patch { id: id.into(), ops: vec![PatchOp::Add { path: "/patched".into(), value: Value::Int(*n) }] }
        }
        Step::Delete => WriteOp::Delete { id: id.into() },
    }
}

/// Applies a step to the model; returns whether it succeeds.
fn simulate(model: &mut BTreeMap<String, Object>, id: &str, step: &Step) -> bool {
    match step {
        Step::Put(Value::Object(o)) => {
            model.insert(id.into(), o.clone());
            true
        }
        Step::Put(_) => unreachable!("documents are objects"),
        Step::Patch(n) => match model.get_mut(id) {
            Some(o) => {
                o.insert("patched".into(), Value::Int(*n));
                true
            }
            None => false,
        },
        Step::Delete => model.remove(id).is_some(),
    }
}

/// Runs as the writer when started by `acknowledged_writes_survive_sigkill`; otherwise a no-op.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let store = Store::open(dir.as_ref(), StoreOptions { cache_bytes: 16 << 20, pending_fold_bytes: 64 << 10 }).unwrap();
    let coll = store.create_collection("commons", "crash", CollectionConfig { shards: 3, ..Default::default() }).unwrap();
    let out = std::io::stdout();
    // The test harness has already printed "test crash_child ... " without a newline.
    println!();
    let mut n = 0;
    loop {
        let batch = next_batch(&mut n);
        let results = coll.write(batch.iter().map(|(id, s)| to_op(id, s)).collect());
        let mut lock = out.lock();
        for r in results {
            match r {
                Ok(a) => writeln!(lock, "ACK {}", a.seq).unwrap(),
                Err(_) => writeln!(lock, "NAK").unwrap(),
            }
        }
        writeln!(lock, "END").unwrap();
        lock.flush().unwrap();
    }
}

/// Every document of the crash collection after checking its indexes, without `_event_time`.
fn stored_docs(store: &Store) -> BTreeMap<String, Object> {
    let coll = store.collection("commons", "crash").unwrap();
    let report = coll.verify().unwrap();
    assert!(report.is_consistent(), "indexes disagree with rows after crash: {:?}", report.problems);
    let mut out = BTreeMap::new();
    for i in 0..IDS {
        let id = format!("doc{i}");
        if let Some(mut d) = coll.get(&id).unwrap() {
            assert!(d.remove("_event_time").is_some());
            out.insert(id, d);
        }
    }
    assert_eq!(out.len() as u64, coll.stats().doc_count);
    out
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..3u64 {
        let data = dir.path().join(format!("round{round}"));
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &data)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Per acknowledged batch: each operation's result (Some(seq) or None).
        let mut batches: Vec<Vec<Option<u64>>> = Vec::new();
        let mut current = Vec::new();
        let kill_after = 300 + round as usize * 170;
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            if let Some(seq) = line.strip_prefix("ACK ") {
                current.push(Some(seq.parse::<u64>().unwrap()));
            } else if line == "NAK" {
                current.push(None);
            } else if line == "END" {
                batches.push(std::mem::take(&mut current));
                if batches.len() >= kill_after {
                    child.kill().unwrap();
                    break;
                }
            }
        }
        child.wait().unwrap();
        assert_eq!(batches.len(), kill_after, "child stopped early");

        // Replay the acknowledged batches in the model, checking each reported result.
        let mut model = BTreeMap::new();
        let mut n = 0;
        let mut last_seq = 0;
        for results in &batches {
            let batch = next_batch(&mut n);
            assert_eq!(batch.len(), results.len());
            for ((id, step), r) in batch.iter().zip(results) {
                assert_eq!(simulate(&mut model, id, step), r.is_some(), "result of {id}");
            }
            // Shards commit a batch in parallel: sequence numbers are unique and every batch's
            // are above the previous batch's, not in input order within a batch.
            let mut seqs: Vec<u64> = results.iter().flatten().copied().collect();
            seqs.sort_unstable();
            seqs.dedup();
            assert_eq!(seqs.len(), results.iter().flatten().count(), "sequence numbers are unique");
            if let Some(first) = seqs.first() {
                assert!(*first > last_seq, "sequence numbers increase from batch to batch");
                last_seq = *seqs.last().unwrap_or(first);
            }
        }
        let store = Store::open(&data, StoreOptions { cache_bytes: 16 << 20, pending_fold_bytes: 64 << 10 }).unwrap();
        assert!(store.collection("commons", "crash").unwrap().last_seq() >= last_seq);
        let stored = stored_docs(&store);
        // A batch is atomic per shard (one RocksDB write each), not across shards; batches
        // after the last acknowledged one may have landed on some shards before the kill. So
        // each shard's documents must equal the model at some batch boundary at or after it.
        let coll = store.collection("commons", "crash").unwrap();
        let of_shard = |docs: &BTreeMap<String, Object>, s: usize| -> Vec<(String, Object)> {
            docs.iter().filter(|(id, _)| coll.shard_of(id) == s).map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        let mut pending: Vec<usize> =
            (0..coll.shards().len()).filter(|s| of_shard(&stored, *s) != of_shard(&model, *s)).collect();
        let mut extra = 0;
        while !pending.is_empty() {
            extra += 1;
            assert!(extra < 200, "shards {pending:?} match no batch boundary at or after the last acknowledged batch");
            for (id, step) in next_batch(&mut n) {
                simulate(&mut model, &id, &step);
            }
            pending.retain(|s| of_shard(&stored, *s) != of_shard(&model, *s));
        }
    }
}
