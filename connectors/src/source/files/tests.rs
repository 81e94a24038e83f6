use std::io::Write;
use std::time::{Duration, SystemTime};

use super::*;

fn write_old(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap();
    let f = fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(10)).unwrap();
}

fn limits(max_records: usize) -> BatchLimits {
    BatchLimits { max_records, max_bytes: 1 << 20, wait: Duration::from_millis(20) }
}

/// Every document the source hands out until it has nothing, with the last position.
fn drain(source: &mut FileSource, max_records: usize) -> (Vec<String>, Vec<Rejected>, String) {
    let (mut docs, mut rejected, mut position) = (Vec::new(), Vec::new(), String::new());
    while let Some(batch) = source.next_batch(&limits(max_records)).unwrap() {
        for w in batch.writes {
            let WriteOp::Insert(v) = w else { panic!("files only insert") };
            docs.push(v.to_json_string());
        }
        rejected.extend(batch.rejected);
        position = batch.position;
    }
    (docs, rejected, position)
}

#[test]
fn a_directory_loads_each_file_once_in_name_order_and_resumes_mid_file() {
    let dir = tempfile::tempdir().unwrap();
    write_old(&dir.path().join("a.ndjson"), b"{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"n\n4\n5\n").unwrap();
    write_old(&dir.path().join("b.csv.gz"), &gz.finish().unwrap());
    write_old(&dir.path().join(".hidden.json"), b"{\"n\":99}\n");
    write_old(&dir.path().join("c.json.tmp"), b"{\"n\":98}\n");
    let spec = FilesSpec { path: dir.path().display().to_string(), format: Format::Auto };

    let mut source = FileSource::open(spec.clone(), None).unwrap();
    let first = source.next_batch(&limits(2)).unwrap().unwrap();
    assert_eq!(first.writes.len(), 2);
    assert_eq!(source.phase(), Phase::Snapshotting);
    // Opened again at the first batch's position, it goes on after it.
    let mut again = FileSource::open(spec.clone(), Some(&first.position)).unwrap();
    let (docs, rejected, position) = drain(&mut again, 2);
    assert_eq!(docs, [r#"{"n":3}"#, r#"{"n":4}"#, r#"{"n":5}"#]);
    assert!(rejected.is_empty());
    assert_eq!(again.phase(), Phase::Streaming);

    // Nothing more from the end position, until a file appears or one is rewritten.
    let mut at_end = FileSource::open(spec.clone(), Some(&position)).unwrap();
    assert_eq!(drain(&mut at_end, 100).0, Vec::<String>::new());
    write_old(&dir.path().join("sub.json"), b"[{\"n\":6}]");
    write_old(&dir.path().join("a.ndjson"), b"{\"n\":7}\n");
    std::thread::sleep(RESCAN_EVERY);
    assert_eq!(drain(&mut at_end, 100).0, [r#"{"n":7}"#, r#"{"n":6}"#]);
}

#[test]
fn bad_records_are_rejected_with_their_file_and_line_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    write_old(&dir.path().join("x.json"), b"{\"n\":1}\n{\"n\": }\n{\"n\":2}\n");
    write_old(&dir.path().join("y.json"), b"{\"n\":3}\n");
    let pattern = format!("{}/*.json", dir.path().display());
    let mut source = FileSource::open(FilesSpec { path: pattern, format: Format::Json }, None).unwrap();
    let (docs, rejected, _) = drain(&mut source, 100);
    assert_eq!(docs, [r#"{"n":1}"#, r#"{"n":2}"#, r#"{"n":3}"#]);
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].place.ends_with("x.json line 2"), "{:?}", rejected[0]);
}

#[test]
fn a_file_still_changing_waits_until_it_settles() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.json");
    fs::write(&path, b"{\"n\":1}\n").unwrap();
    let spec = FilesSpec { path: path.display().to_string(), format: Format::Auto };
    let mut source = FileSource::open(spec, None).unwrap();
    assert!(source.next_batch(&limits(10)).unwrap().is_none());
    std::thread::sleep(SETTLE + RESCAN_EVERY);
    assert_eq!(drain(&mut source, 10).0, [r#"{"n":1}"#]);
}

#[test]
fn a_relative_path_or_a_bad_position_is_refused() {
    assert!(FilesSpec { path: "data/*.json".into(), format: Format::Auto }.check().is_err());
    let spec = FilesSpec { path: "/tmp/x".into(), format: Format::Auto };
    assert!(matches!(FileSource::open(spec, Some("{not json")), Err(SourceError::Position { .. })));
}
