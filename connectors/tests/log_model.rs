//! Model-based test of the embedded log: random appends, reads, truncations, reopens and
//! crashes that leave torn tails, checked after every step against a plain list of the
//! acknowledged records.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use cairn_connectors::{FileLog, FileLogOptions, Log, LogEntry};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    /// Appends these payloads as one call.
    Append(Vec<Vec<u8>>),
    /// Reads everything from this fraction of the kept range, in reads of this many bytes.
    Read { from: f64, max_bytes: usize },
    /// Truncates below this fraction of the range.
    Truncate(f64),
    /// Closes and opens the log again.
    Reopen,
    /// A crash in the middle of a write: these bytes (garbage or zeros) are left after the
    /// last record, then the log is opened again.
    TornTail(Vec<u8>),
    /// A crash in the middle of a write: the first `cut` bytes of the next record's frame
    /// (its header intact) are left after the last record.
    PartialFrame { payload: Vec<u8>, cut: usize },
}

/// The frame the log would write for record `offset` (its documented layout).
fn frame(offset: u64, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(&offset.to_le_bytes());
    h.update(payload);
    [&len.to_le_bytes()[..], &h.finalize().to_le_bytes(), &offset.to_le_bytes(), payload].concat()
}

fn step() -> impl Strategy<Value = Step> {
    let payload = prop::collection::vec(any::<u8>(), 0..300);
    prop_oneof![
        6 => prop::collection::vec(payload, 1..8).prop_map(Step::Append),
        3 => (0.0..1.0f64, 1usize..2000).prop_map(|(from, max_bytes)| Step::Read { from, max_bytes }),
        1 => (0.0..1.2f64).prop_map(Step::Truncate),
        1 => Just(Step::Reopen),
        1 => prop_oneof![
            prop::collection::vec(any::<u8>(), 1..40),
            (1usize..40).prop_map(|n| vec![0u8; n]),
        ].prop_map(Step::TornTail),
        1 => (prop::collection::vec(any::<u8>(), 1..100), 16usize..115)
            .prop_map(|(payload, cut)| { let cut = cut.min(15 + payload.len()); Step::PartialFrame { payload, cut } }),
    ]
}

fn options() -> FileLogOptions {
    // Small segments, so rolling and truncation happen often.
    FileLogOptions { segment_bytes: 700, max_record_bytes: 1 << 16 }
}

fn last_segment(dir: &Path) -> std::path::PathBuf {
    let mut names: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    names.pop().unwrap()
}

/// Reads every record from `from` to the end, `max_bytes` at a time.
fn read_all(log: &FileLog, from: u64, max_bytes: usize) -> Vec<(u64, Vec<u8>)> {
    let mut reader = log.reader(from).unwrap();
    let mut out = Vec::new();
    loop {
        let entries = reader.read(max_bytes).unwrap();
        if entries.is_empty() {
            break;
        }
        for e in entries {
            match e {
                LogEntry::Record { offset, payload } => out.push((offset, payload)),
                LogEntry::Damaged { offsets, reason } => panic!("damage at {offsets:?}: {reason}"),
            }
        }
    }
    assert_eq!(reader.position(), log.last_offset() + 1);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_log_keeps_exactly_what_it_acknowledged(steps in prop::collection::vec(step(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let mut log = FileLog::open(dir.path(), options(), 0).unwrap();
        // The model: every acknowledged record, and the first offset the log may still hold.
        let mut model: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut last = 0u64;
        for step in steps {
            match step {
                Step::Append(payloads) => {
                    let range = log.append(payloads.clone()).unwrap();
                    prop_assert_eq!(*range.start(), last + 1);
                    prop_assert_eq!(range.clone().count(), payloads.len());
                    last = *range.end();
                    model.extend(range.zip(payloads));
                }
                Step::Read { from, max_bytes } => {
                    let first = log.first_offset();
                    let end = log.last_offset() + 1;
                    let at = first + ((end - first) as f64 * from) as u64;
                    let got = read_all(&log, at, max_bytes);
                    let want: Vec<_> = model.iter().filter(|(o, _)| *o >= at).cloned().collect();
                    prop_assert_eq!(got, want);
                }
                Step::Truncate(fraction) => {
                    let end = log.last_offset() + 1;
                    let below = ((end as f64) * fraction) as u64;
                    let before = log.first_offset();
                    log.truncate_below(below).unwrap();
                    let now = log.first_offset();
                    // Never drops a record at or above `below`, never goes back.
                    prop_assert!(now == before || (now > before && now <= below));
                    prop_assert!(now <= last + 1);
                    model.retain(|(o, _)| *o >= now);
                }
                Step::Reopen => {
                    drop(log);
                    log = FileLog::open(dir.path(), options(), 0).unwrap();
                }
                Step::PartialFrame { payload, cut } => {
                    drop(log);
                    let bytes = frame(last + 1, &payload);
                    let mut f = OpenOptions::new().append(true).open(last_segment(dir.path())).unwrap();
                    f.write_all(&bytes[..cut]).unwrap();
                    drop(f);
                    log = FileLog::open(dir.path(), options(), 0).unwrap();
                }
                Step::TornTail(garbage) => {
                    drop(log);
                    let mut f = OpenOptions::new().append(true).open(last_segment(dir.path())).unwrap();
                    f.write_all(&garbage).unwrap();
                    drop(f);
                    log = FileLog::open(dir.path(), options(), 0).unwrap();
                }
            }
            // After every step: the log holds exactly the model.
            prop_assert_eq!(log.last_offset(), last);
            let got = read_all(&log, log.first_offset(), 1 << 20);
            let kept: Vec<_> = model.iter().filter(|(o, _)| *o >= log.first_offset()).cloned().collect();
            prop_assert_eq!(got, kept);
        }
    }
}

#[test]
fn the_frame_layout_is_the_documented_one() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default(), 0).unwrap();
    log.append(vec![b"abc".to_vec()]).unwrap();
    assert_eq!(fs::read(last_segment(dir.path())).unwrap(), frame(1, b"abc"));
}

#[test]
fn truncation_drops_whole_segments_below_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions { segment_bytes: 100, ..FileLogOptions::default() }, 0).unwrap();
    for i in 0..20u8 {
        log.append(vec![vec![i; 40]]).unwrap();
    }
    let segments = || fs::read_dir(dir.path()).unwrap().count();
    let before = segments();
    assert!(before >= 6, "{before} segments");
    log.truncate_below(15).unwrap();
    assert!(log.first_offset() > 1 && log.first_offset() <= 15, "first offset {}", log.first_offset());
    assert!(segments() < before);
    assert_eq!(read_all(&log, log.first_offset(), 1 << 20).last().map(|(o, _)| *o), Some(20));
    assert!(log.reader(1).is_err(), "a truncated offset cannot be read");
    log.truncate_below(1000).unwrap();
    assert_eq!(segments(), 1, "the segment being written stays");
    assert_eq!(*log.append(vec![b"next".to_vec()]).unwrap().start(), 21);
}

#[test]
fn a_record_cut_short_by_a_crash_is_not_read_and_its_offset_is_reused() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default(), 0).unwrap();
    log.append(vec![b"one".to_vec(), b"two".to_vec()]).unwrap();
    drop(log);
    // Cut the second record in the middle, as a crash during its write would.
    let seg = last_segment(dir.path());
    let len = fs::metadata(&seg).unwrap().len();
    OpenOptions::new().write(true).open(&seg).unwrap().set_len(len - 2).unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default(), 0).unwrap();
    assert_eq!(log.last_offset(), 1);
    assert_eq!(*log.append(vec![b"three".to_vec()]).unwrap().start(), 2);
    assert_eq!(read_all(&log, 1, 100), vec![(1, b"one".to_vec()), (2, b"three".to_vec())]);
}

#[test]
fn damage_in_the_middle_is_reported_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default(), 0).unwrap();
    log.append(vec![b"aaaa".to_vec(), b"bbbb".to_vec(), b"cccc".to_vec()]).unwrap();
    // Flip a byte of the second record's payload (16-byte headers, 4-byte payloads).
    let seg = last_segment(dir.path());
    let mut bytes = fs::read(&seg).unwrap();
    bytes[20 + 16 + 1] ^= 0xff;
    fs::write(&seg, &bytes).unwrap();
    let mut reader = log.reader(1).unwrap();
    let entries = reader.read(1 << 20).unwrap();
    assert_eq!(
        entries,
        vec![
            LogEntry::Record { offset: 1, payload: b"aaaa".to_vec() },
            LogEntry::Damaged { offsets: 2..=2, reason: "records missing before offset 3".into() },
            LogEntry::Record { offset: 3, payload: b"cccc".to_vec() },
        ]
    );
    // A reopened log keeps the intact records after the damage.
    drop(reader);
    drop(log);
    let log = FileLog::open(dir.path(), FileLogOptions::default(), 0).unwrap();
    assert_eq!(log.last_offset(), 3);
}

#[test]
fn a_log_behind_what_was_applied_continues_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default(), 41).unwrap();
    assert_eq!(log.last_offset(), 41);
    assert_eq!(*log.append(vec![b"x".to_vec()]).unwrap().start(), 42);
    drop(log);
    let log = FileLog::open(dir.path(), FileLogOptions::default(), 50).unwrap();
    assert_eq!(*log.append(vec![b"y".to_vec()]).unwrap().start(), 51);
}

#[test]
fn concurrent_appends_share_syncs_and_get_distinct_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let log = std::sync::Arc::new(FileLog::open(dir.path(), FileLogOptions::default(), 0).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                (0..50).map(|i| *log.append(vec![format!("{t}-{i}").into_bytes()]).unwrap().start()).collect::<Vec<_>>()
            })
        })
        .collect();
    let mut offsets: Vec<u64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    offsets.sort();
    assert_eq!(offsets, (1..=400).collect::<Vec<_>>());
    assert_eq!(read_all(&log, 1, 1 << 20).len(), 400);
}
