//! The pipeline over a real store: writes become visible once applied, an indexer that was
//! stopped leaves its records to the next start, writers are held back (then refused) when
//! the indexer is too far behind, and a quiet collection settles and compacts by itself.

use std::sync::Arc;
use std::time::Duration;

use cairn_storage::{CollectionConfig, PatchOp, Store, StoreOptions, Value, WriteOp, DEFAULT_WORKSPACE};

use super::{Ingest, IngestError, IngestOptions};

fn doc(json: &str) -> WriteOp {
    WriteOp::Insert(Value::from_json_str(json).expect("JSON"))
}

fn store(dir: &std::path::Path) -> Arc<Store> {
    Arc::new(Store::open(dir, StoreOptions { cache_bytes: 8 << 20, ..StoreOptions::default() }).expect("store"))
}

#[test]
fn writes_are_visible_once_applied_and_bad_ones_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    store.create_collection(DEFAULT_WORKSPACE, "ev", CollectionConfig::default()).unwrap();
    let ingest = Ingest::open(store, IngestOptions::default()).unwrap();
    let p = ingest.collection(DEFAULT_WORKSPACE, "ev").unwrap();
    let written = p.write(vec![doc(r#"{"_id":"a","n":1}"#), doc("42"), doc(r#"{"n":2}"#)]).unwrap();
    assert_eq!(written.last_offset, 2, "one record per document taken");
    assert!(written.outcomes[1].is_err(), "a document that is not an object is refused alone");
    let generated = &written.outcomes[2].as_ref().unwrap().id;
    assert!(p.wait_applied(written.last_offset, Duration::from_secs(10)));
    assert!(p.collection().get("a").unwrap().is_some());
    assert!(p.collection().get(generated).unwrap().is_some());

    let missing = WriteOp::Patch { id: "nobody".into(), ops: vec![PatchOp::Remove { path: "/n".into() }] };
    let written = p.write(vec![missing]).unwrap();
    assert!(p.wait_applied(written.last_offset, Duration::from_secs(10)));
    let stats = p.stats();
    assert_eq!((stats.last_appended, stats.last_applied, stats.lag_records, stats.rejected), (3, 3, 0, 1));
    assert!(stats.last_error.unwrap().contains("log record 3"), "the error names the record's offset");
}

#[test]
fn records_not_applied_before_a_stop_are_applied_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = store(dir.path());
        store.create_collection(DEFAULT_WORKSPACE, "ev", CollectionConfig { shards: 3, ..Default::default() }).unwrap();
        let ingest = Ingest::open(store, IngestOptions::default()).unwrap();
        let p = ingest.collection(DEFAULT_WORKSPACE, "ev").unwrap();
        p.stop();
        p.join();
        let docs = (0..50).map(|i| doc(&format!(r#"{{"_id":"d{i}","n":{i}}}"#))).collect();
        assert_eq!(p.write(docs).unwrap().last_offset, 50);
        assert_eq!(p.collection().stats().doc_count, 0, "nothing applied while the indexer is stopped");
    }
    let ingest = Ingest::open(store(dir.path()), IngestOptions::default()).unwrap();
    let p = ingest.collection(DEFAULT_WORKSPACE, "ev").unwrap();
    assert!(p.wait_applied(50, Duration::from_secs(10)));
    assert_eq!(p.collection().stats().doc_count, 50);
    assert_eq!(p.collection().log_offset(), 50, "every shard stored the offset");
    // The next write continues the offsets.
    assert_eq!(p.write(vec![doc(r#"{"_id":"late"}"#)]).unwrap().last_offset, 51);
}

#[test]
fn writers_wait_then_are_refused_when_the_indexer_is_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    store.create_collection(DEFAULT_WORKSPACE, "ev", CollectionConfig::default()).unwrap();
    let options = IngestOptions { max_lag_records: 2, backpressure_wait: Duration::from_millis(100), ..IngestOptions::default() };
    let ingest = Ingest::open(store, options).unwrap();
    let p = ingest.collection(DEFAULT_WORKSPACE, "ev").unwrap();
    p.stop();
    p.join();
    p.write(vec![doc(r#"{"_id":"a"}"#), doc(r#"{"_id":"b"}"#), doc(r#"{"_id":"c"}"#)]).unwrap();
    match p.write(vec![doc(r#"{"_id":"d"}"#)]) {
        Err(IngestError::Overloaded { records: 3, max_records: 2, .. }) => {}
        other => panic!("expected to be refused, got {other:?}"),
    }
    assert_eq!(p.appended_offset(), 3, "the refused write left nothing in the log");
}

#[test]
fn documents_past_the_retention_window_are_dropped_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let config = CollectionConfig { retention_micros: Some(3_600_000_000), ..CollectionConfig::default() };
    store.create_collection(DEFAULT_WORKSPACE, "ev", config).unwrap();
    let ingest = Ingest::open(store, IngestOptions::default()).unwrap();
    let p = ingest.collection(DEFAULT_WORKSPACE, "ev").unwrap();
    let two_hours_ago = cairn_storage::document::now_micros() - 7_200_000_000;
    let written =
        p.write(vec![doc(&format!(r#"{{"_id":"old","_event_time":{two_hours_ago}}}"#)), doc(r#"{"_id":"new"}"#)]).unwrap();
    assert!(p.wait_applied(written.last_offset, Duration::from_secs(10)));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while p.collection().get("old").unwrap().is_some() {
        assert!(std::time::Instant::now() < deadline, "the expired document is still there");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(p.collection().get("new").unwrap().is_some());
}

#[test]
fn a_quiet_collection_settles_and_compacts_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    store.create_collection(DEFAULT_WORKSPACE, "ev", CollectionConfig { shards: 2, ..Default::default() }).unwrap();
    let ingest = Ingest::open(store, IngestOptions::default()).unwrap();
    let p = ingest.collection(DEFAULT_WORKSPACE, "ev").unwrap();
    let docs = (0..2000).map(|i| doc(&format!(r#"{{"_id":"d{i}","n":{i},"kind":"k{}"}}"#, i % 7))).collect();
    let written = p.write(docs).unwrap();
    assert!(p.wait_applied(written.last_offset, Duration::from_secs(10)));
    let unflushed = p.collection().memtable_bytes();
    assert!(unflushed > 100_000, "just applied, nothing flushed yet: {unflushed} bytes in memtables");
    // Settling flushes the memtables into level 0 (empty ones still count a few bytes); the
    // compaction then sorts those files into the levels below.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while p.collection().memtable_bytes() * 4 > unflushed || p.collection().level0_files() > 0 {
        assert!(std::time::Instant::now() < deadline, "not settled and compacted after 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(p.collection().disk_bytes() > 0);
    assert_eq!(p.collection().stats().doc_count, 2000);
    assert_eq!(p.collection().get("d1999").unwrap().and_then(|d| d.get("n").cloned()), Some(Value::Int(1999)));
}
