//! Sources through the real binary: a collection that follows a directory of files in
//! several formats, through SIGKILLs in the middle of loading (every record loaded exactly
//! once: the documents have no `_id`, so a record appended twice would show as a second
//! document); new files picked up as they appear; bad records counted with their place;
//! status over SQL (`pg_stat_sources`) and REST; sources created, suspended, resumed and
//! removed over Rockset's REST shape; bad definitions refused with their SQLSTATE.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use common::{code, rows, Server};
use serde_json::json;

const ORG: &str = "/v1/orgs/self";

/// Writes `bytes` to `dir/name` through a temporary name (as a producer should), dated a
/// little in the past so the source need not wait for it to settle.
fn publish(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.join(format!("{name}.tmp"));
    std::fs::write(&tmp, bytes).unwrap();
    let f = std::fs::File::options().write(true).open(&tmp).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(5)).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

/// File `i` of the load: NDJSON, gzipped NDJSON, CSV and a JSON array in turn, `n` records
/// each, every record's `key` unique.
fn file(dir: &Path, i: usize, n: usize) {
    let key = |j: usize| format!("f{i}-{j}");
    match i % 4 {
        0 | 1 => {
            let mut text = String::new();
            for j in 0..n {
                text.push_str(&json!({ "key": key(j), "file": i, "n": j, "pad": "p".repeat(100) }).to_string());
                text.push('\n');
            }
            if i.is_multiple_of(4) {
                publish(dir, &format!("part-{i:03}.ndjson"), text.as_bytes());
            } else {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(text.as_bytes()).unwrap();
                publish(dir, &format!("part-{i:03}.json.gz"), &gz.finish().unwrap());
            }
        }
        2 => {
            let mut text = String::from("key,file,n,pad\n");
            for j in 0..n {
                text.push_str(&format!("{},{i},{j},{}\n", key(j), "p".repeat(100)));
            }
            publish(dir, &format!("part-{i:03}.csv"), text.as_bytes());
        }
        _ => {
            let docs: Vec<_> = (0..n).map(|j| json!({ "key": key(j), "file": i, "n": j, "pad": "p".repeat(100) })).collect();
            publish(dir, &format!("part-{i:03}.json"), json!(docs).to_string().as_bytes());
        }
    }
}

async fn count(client: &tokio_postgres::Client, sql: &str) -> u64 {
    rows(client, sql).await[0][0].as_deref().unwrap_or("0").parse().unwrap()
}

/// Waits until `sql` counts `want`, or fails with what it counted.
async fn wait_for(server: &Server, sql: &str, want: u64) {
    let client = server.connect().await;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let n = count(&client, sql).await;
        if n == want {
            return;
        }
        assert!(Instant::now() < deadline, "{sql}: {n}, waited for {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn a_files_source_loads_every_record_once_through_kills_and_follows_new_files() {
    let input = tempfile::tempdir().unwrap();
    let (files, per_file) = (24, 2_500);
    for i in 0..files {
        file(input.path(), i, per_file);
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut server = Server::start();
    let create = format!("CREATE COLLECTION commons.followed FROM FILES (path = '{}') WITH (shards = 2)", input.path().display());
    rt.block_on(async {
        let client = server.connect().await;
        client.simple_query(&create).await.unwrap();
    });
    // Killed twice while loading, each time once more documents arrived.
    for round in 0..2 {
        let seen = rt.block_on(async {
            let client = server.connect().await;
            let before = count(&client, "SELECT count(*) FROM commons.followed").await;
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let n = count(&client, "SELECT count(*) FROM commons.followed").await;
                if n > before || Instant::now() > deadline {
                    return n;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        eprintln!("round {round}: killed with {seen} documents loaded");
        server.sigkill();
        server = server.restart_killed(&[]);
    }
    let total = (files * per_file) as u64;
    rt.block_on(async {
        wait_for(&server, "SELECT count(*) FROM commons.followed", total).await;
        let client = server.connect().await;
        assert_eq!(count(&client, "SELECT count(DISTINCT key) FROM commons.followed").await, total);
        // Each format read the same documents: CSV's numbers are numbers.
        let typed = rows(&client, "SELECT typeof(n), typeof(file), count(*) FROM commons.followed GROUP BY 1, 2").await;
        assert_eq!(typed, [[Some("int".to_owned()), Some("int".to_owned()), Some(total.to_string())]]);

        // A new file is picked up; its bad line is counted with its place, the rest loads.
        publish(input.path(), "late.ndjson", b"{\"key\":\"late-1\"}\n{\"key\": }\n{\"key\":\"late-2\"}\n");
        wait_for(&server, "SELECT count(*) FROM commons.followed WHERE key LIKE 'late-%'", 2).await;
        let status = rows(
            &client,
            "SELECT kind, state, documents_written >= 2, rejected_records, last_rejected, last_error IS NULL \
             FROM pg_stat_sources WHERE collection = 'followed'",
        )
        .await;
        assert_eq!(status.len(), 1, "{status:?}");
        let s = &status[0];
        assert_eq!(
            (s[0].as_deref(), s[1].as_deref(), s[2].as_deref(), s[3].as_deref()),
            (Some("files"), Some("streaming"), Some("t"), Some("1")),
            "{s:?}"
        );
        assert!(s[4].as_deref().is_some_and(|r| r.contains("late.ndjson line 2")), "{s:?}");
        assert_eq!(count(&client, "SELECT count(*) FROM commons.followed").await, total + 2);
    });
    // A clean restart resumes where the source stood: nothing is loaded again.
    let server = server.restart("127.0.0.1");
    rt.block_on(async {
        let client = server.connect().await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(count(&client, "SELECT count(*) FROM commons.followed").await, total + 2);
        // Dropping the collection stops its source.
        client.simple_query("DROP COLLECTION commons.followed").await.unwrap();
        assert!(rows(&client, "SELECT * FROM pg_stat_sources").await.is_empty());
    });
}

#[test]
fn sources_over_rest_and_bad_definitions() {
    let input = tempfile::tempdir().unwrap();
    publish(input.path(), "a.txt", b"key;qty\nx;1\ny;2\n");
    let server = Server::start();
    let path = input.path().display().to_string();
    let body = json!({
        "name": "csvs",
        "sources": [{ "files": { "path": format!("{path}/*.txt") }, "format_params": { "csv": { "separator": ";" } } }],
    });
    let (status, created) = server.http("POST", &format!("{ORG}/ws/commons/collections"), Some(&body.to_string()), None);
    assert_eq!(status, 200, "{created}");
    let id = created["data"]["sources"][0]["id"].as_str().unwrap().to_owned();
    let source = format!("{ORG}/ws/commons/collections/csvs/sources/{id}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let shown = loop {
        let (status, shown) = server.http("GET", &source, None, None);
        assert_eq!(status, 200, "{shown}");
        if shown["data"]["status"]["documents_written"] == 2 && shown["data"]["status"]["state"] == "WATCHING" {
            break shown;
        }
        assert!(Instant::now() < deadline, "{shown}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(shown["data"]["status"]["detected_size_bytes"], 16, "{shown}");
    assert_eq!(shown["data"]["files"]["path"], format!("{path}/*.txt"));
    assert_eq!(shown["data"]["format_params"]["csv"]["separator"], ";");

    // Suspended, it reads nothing; resumed, it goes on.
    let (status, suspended) = server.http("POST", &format!("{source}/suspend"), Some("{}"), None);
    assert_eq!((status, &suspended["data"]["status"]["state"]), (200, &json!("SUSPENDED")), "{suspended}");
    publish(input.path(), "b.txt", b"key;qty\nz;3\n");
    std::thread::sleep(Duration::from_millis(800));
    let (_, listed) = server.http("GET", &format!("{ORG}/ws/commons/collections/csvs/sources"), None, None);
    assert_eq!(listed["data"][0]["status"]["state"], "SUSPENDED", "{listed}");
    assert_eq!(listed["data"][0]["status"]["documents_written"], 2, "a paused source keeps its figures: {listed}");
    let (status, _) = server.http("POST", &format!("{source}/resume"), Some("{}"), None);
    assert_eq!(status, 200);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        wait_for(&server, "SELECT count(*) FROM commons.csvs", 3).await;
        let client = server.connect().await;
        assert_eq!(rows(&client, "SELECT sum(qty) FROM commons.csvs").await[0][0].as_deref(), Some("6"));

        // Bad definitions: nothing is created.
        let bad = client.simple_query("CREATE COLLECTION commons.nope FROM FILES (path = 'relative/*.json')").await.unwrap_err();
        assert_eq!(code(bad).as_deref(), Some("22023"));
        let bad = client.simple_query("CREATE COLLECTION commons.nope FROM KAFKA (topic = 't')").await.unwrap_err();
        assert_eq!(code(bad).as_deref(), Some("0A000"));
        let bad = client
            .simple_query(&format!("CREATE COLLECTION commons.nope FROM FILES (path = '{path}', colour = 'red')"))
            .await
            .unwrap_err();
        assert_eq!(code(bad).as_deref(), Some("22023"));
        assert!(client.simple_query("SELECT * FROM commons.nope").await.is_err());
    });
    let (status, body) = server.http(
        "POST",
        &format!("{ORG}/ws/commons/collections"),
        Some(r#"{"name":"k","sources":[{"kafka":{"kafka_topic_name":"t"}}]}"#),
        None,
    );
    assert_eq!((status, body["type"].as_str()), (400, Some("NOTSUPPORTED")), "{body}");
    let (status, _) = server.http("GET", &format!("{ORG}/ws/commons/collections/k"), None, None);
    assert_eq!(status, 404);

    // Removed, it is gone from the collection.
    let (status, _) = server.http("DELETE", &source, None, None);
    assert_eq!(status, 200);
    let (status, _) = server.http("GET", &source, None, None);
    assert_eq!(status, 404);
    let (_, coll) = server.http("GET", &format!("{ORG}/ws/commons/collections/csvs"), None, None);
    assert_eq!(coll["data"]["sources"], json!([]), "{coll}");
}
