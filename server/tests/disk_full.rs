//! A full disk, through the real binary on a small filesystem of its own: writes are refused
//! with HTTP 507 and SQLSTATE 53100 and keep nothing, everything acknowledged before is
//! indexed and readable, reads and deletes go on working, and writing resumes once space is
//! freed.

mod common;

use std::time::{Duration, Instant};

use common::{code, rows, Server};

/// 1000 characters that do not compress (so the indexes take as much room as they would for
/// real data), different for each `seed`.
fn noise(seed: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x = seed as u64 ^ 0x9e37_79b9_7f4a_7c15;
    (0..1000)
        .map(|_| {
            // splitmix64
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ALPHABET[((z ^ (z >> 31)) % 64) as usize] as char
        })
        .collect()
}

/// A REST body of `n` documents of about 1 KB each, `_id`s `{prefix}{i}`.
fn documents(prefix: &str, from: usize, n: usize) -> String {
    let docs: Vec<String> =
        (from..from + n).map(|i| format!(r#"{{"_id":"{prefix}{i}","n":{i},"pad":"{}"}}"#, noise(i))).collect();
    format!(r#"{{"data":[{}]}}"#, docs.join(","))
}

fn docs_path(collection: &str) -> String {
    format!("/v1/orgs/self/ws/commons/collections/{collection}/docs")
}

/// The number of documents of `collection` once it reaches `expected`, or what it holds after
/// a minute.
async fn count_reaching(client: &tokio_postgres::Client, collection: &str, expected: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n: usize = rows(client, &format!("SELECT count(*) FROM {collection}")).await[0][0]
            .as_deref()
            .and_then(|c| c.parse().ok())
            .expect("a count");
        if n == expected || Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_keeps_what_it_took_and_recovers() {
    let Some(server) = Server::start_on_small_disk(64) else {
        eprintln!("skipped: this machine does not let an unprivileged user mount a filesystem in a namespace of its own");
        return;
    };
    let client = server.connect().await;
    client.batch_execute("CREATE COLLECTION filler; CREATE COLLECTION kept").await.expect("create");
    let (status, body) = server.http("POST", &docs_path("kept"), Some(&documents("k", 0, 10)), None);
    assert_eq!(status, 200, "{body}");

    // Fill the disk with acknowledged documents until a write is refused.
    let mut acked = 0;
    let mut refusal = None;
    for _ in 0..1000 {
        let (status, body) = server.http_now("POST", &docs_path("filler"), Some(&documents("f", acked, 500)), None);
        if status != 200 {
            refusal = Some((status, body));
            break;
        }
        acked += 500;
    }
    let (status, body) = refusal.expect("64 MiB fill up");
    assert_eq!(status, 507, "{body}");
    assert_eq!(body["type"], "RESOURCEEXCEEDED", "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("disk")), "{body}");
    assert!(acked > 0, "the disk was full before any write");

    // SQL writes are refused too, with PostgreSQL's disk_full (once what the indexer frees by
    // flushing, if anything, is filled again).
    let mut kept = 10;
    let filling = Instant::now();
    let refused = loop {
        let insert = format!("INSERT INTO kept (_id, pad) VALUES ('late{kept}', '{}')", noise(kept));
        match client.simple_query(&insert).await {
            Ok(_) => kept += 1,
            Err(e) => break e,
        }
        assert!(filling.elapsed() < Duration::from_secs(120), "inserts still taken on a full 64 MiB disk");
    };
    assert_eq!(code(refused).as_deref(), Some("53100"));
    // Deletes are taken however full the disk is.
    client.simple_query("DELETE FROM kept WHERE _id = 'k0'").await.expect("a delete on a full disk");
    kept -= 1;

    // Reads go on; every acknowledged document is indexed, and nothing refused was kept.
    assert_eq!(count_reaching(&client, "filler", acked).await, acked);
    assert_eq!(count_reaching(&client, "kept", kept).await, kept);
    let stats = rows(&client, "SELECT lag_records, last_error FROM pg_stat_ingest WHERE collection = 'filler'").await;
    assert_eq!(stats, vec![vec![Some("0".to_owned()), None]], "the indexer kept up");

    // Space returns: writes resume.
    client.batch_execute("DROP COLLECTION filler").await.expect("drop");
    let (status, body) = server.http("POST", &docs_path("kept"), Some(&documents("k", 10, 500)), None);
    assert_eq!(status, 200, "{body}");
    client.simple_query("INSERT INTO kept (_id) VALUES ('last')").await.expect("insert once space returns");
    assert_eq!(count_reaching(&client, "kept", kept + 501).await, kept + 501);
}
