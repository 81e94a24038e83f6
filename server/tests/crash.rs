//! Crash test through the real binary: writers stream documents over REST and pgwire while
//! the server is killed with SIGKILL at random moments; after each restart every
//! acknowledged document is there exactly once and every counter incremented by an
//! acknowledged PATCH holds each increment once (an increment in flight at the kill may or
//! may not have landed, never twice). `CAIRN_CRASH_ROUNDS` sets the rounds (20 by default;
//! the soak command in the README runs more).

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use common::{rows, Server};
use serde_json::json;

const ORG: &str = "/v1/orgs/self";
const DOCS: &str = "/v1/orgs/self/ws/commons/collections/crash/docs";
const COUNTERS: usize = 4;

/// What the writers were told: documents and increments acknowledged, and those in flight
/// when the server died (which may or may not have landed).
#[derive(Default)]
struct Ledger {
    acked: HashSet<String>,
    in_flight: HashSet<String>,
    increments: [u64; COUNTERS],
    increments_in_flight: [u64; COUNTERS],
    last_offset: u64,
}

/// A small xorshift generator: the kill moments, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

fn rest_adder(server: &Server, round: usize, stop: &AtomicBool, ledger: &Mutex<Ledger>) {
    for batch in 0.. {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let ids: Vec<String> = (0..5).map(|j| format!("r{round}-{batch}-{j}")).collect();
        let docs: Vec<_> = ids.iter().map(|id| json!({ "_id": id, "src": "rest", "pad": "x".repeat(200) })).collect();
        let (status, body) = server.http_now("POST", DOCS, Some(&json!({ "data": docs }).to_string()), None);
        let mut l = ledger.lock().unwrap();
        if status == 200 {
            let offset: u64 = body["last_offset"].as_str().unwrap().parse().unwrap();
            l.last_offset = l.last_offset.max(offset);
            l.acked.extend(ids);
        } else {
            l.in_flight.extend(ids);
            return;
        }
    }
}

fn rest_patcher(server: &Server, stop: &AtomicBool, ledger: &Mutex<Ledger>) {
    for k in 0.. {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let i = k % COUNTERS;
        let patch = json!({ "data": [{ "_id": format!("c{i}"), "patch": [{ "op": "increment", "path": "/n", "value": 1 }] }] });
        let (status, body) = server.http_now("PATCH", DOCS, Some(&patch.to_string()), None);
        let mut l = ledger.lock().unwrap();
        if status == 200 {
            let offset: u64 = body["last_offset"].as_str().unwrap().parse().unwrap();
            l.last_offset = l.last_offset.max(offset);
            l.increments[i] += 1;
        } else {
            l.increments_in_flight[i] += 1;
            return;
        }
    }
}

fn pg_inserter(server: &Server, round: usize, stop: &AtomicBool, ledger: &Mutex<Ledger>) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let connecting = tokio::time::timeout(Duration::from_secs(2), server.connect_as("user=cairn dbname=cairn"));
        let Ok(Ok(client)) = connecting.await else { return };
        for k in 0.. {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let id = format!("p{round}-{k}");
            let done = client.simple_query(&format!("INSERT INTO crash (_id, src) VALUES ('{id}', 'pg')")).await;
            let mut l = ledger.lock().unwrap();
            match done {
                Ok(_) => {
                    l.acked.insert(id);
                }
                Err(_) => {
                    l.in_flight.insert(id);
                    return;
                }
            }
        }
    });
}

/// Checks the restarted server against the ledger, then settles what was in flight.
async fn check(server: &Server, round: usize, ledger: &mut Ledger) {
    // Read-after-write: wait until everything the log holds is applied again (acknowledged
    // records and those in flight that made it), so nothing lands after the check.
    let (_, body) = server.http("GET", &format!("{ORG}/ws/commons/collections/crash"), None, None);
    let appended: u64 = body["data"]["stats"]["last_offset_appended"].as_str().unwrap().parse().unwrap();
    assert!(appended >= ledger.last_offset, "round {round}: the log lost acknowledged records: {body}");
    let fence = json!({ "name": [appended.to_string()] }).to_string();
    let url = format!("{ORG}/ws/commons/collections/crash/offsets/commit?wait_ms=30000");
    let (status, body) = server.http("POST", &url, Some(&fence), None);
    assert_eq!((status, &body["data"]["passed"]), (200, &json!(true)), "round {round}: {body}");

    let client = server.connect().await;
    let stored = rows(&client, "SELECT _id FROM crash").await;
    let ids: Vec<String> = stored.into_iter().map(|r| r[0].clone().unwrap()).collect();
    let distinct: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), distinct.len(), "round {round}: a document is there twice");
    let lost: Vec<_> = ledger.acked.iter().filter(|id| !distinct.contains(*id)).collect();
    assert!(lost.is_empty(), "round {round}: {} acknowledged documents lost, e.g. {:?}", lost.len(), lost.first());
    let expected = ledger.acked.len() + COUNTERS + ledger.in_flight.iter().filter(|id| distinct.contains(*id)).count();
    assert_eq!(distinct.len(), expected, "round {round}: documents nobody wrote");
    for (i, n) in rows(&client, "SELECT n FROM crash WHERE _id IN ('c0', 'c1', 'c2', 'c3') ORDER BY _id").await.iter().enumerate()
    {
        let n: u64 = n[0].as_deref().unwrap().parse().unwrap();
        let (acked, maybe) = (ledger.increments[i], ledger.increments_in_flight[i]);
        assert!(
            n >= acked && n <= acked + maybe,
            "round {round}: counter c{i} is {n}, acknowledged {acked} (+{maybe} in flight)"
        );
        ledger.increments[i] = n;
        ledger.increments_in_flight[i] = 0;
    }
    // What was in flight and landed is durable now; what did not land never will.
    let landed: Vec<String> = ledger.in_flight.drain().filter(|id| distinct.contains(id)).collect();
    ledger.acked.extend(landed);

    let (_, body) = server.http("GET", &format!("{ORG}/ws/commons/collections/crash"), None, None);
    assert_eq!(body["data"]["stats"]["damaged_records"], 0, "round {round}: {body}");
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let rounds: usize = std::env::var("CAIRN_CRASH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(20);
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    println!("crash test: {rounds} rounds, seed {seed}");
    let mut rng = Rng(seed);
    let mut server = Server::start();
    let (status, body) = server.http("POST", &format!("{ORG}/ws/commons/collections"), Some(r#"{"name":"crash"}"#), None);
    assert_eq!(status, 200, "{body}");
    let counters: Vec<_> = (0..COUNTERS).map(|i| json!({ "_id": format!("c{i}"), "n": 0 })).collect();
    let (status, body) = server.http("POST", DOCS, Some(&json!({ "data": counters }).to_string()), None);
    assert_eq!(status, 200, "{body}");
    let mut ledger = Ledger { last_offset: body["last_offset"].as_str().unwrap().parse().unwrap(), ..Ledger::default() };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for round in 0..rounds {
        let stop = AtomicBool::new(false);
        let shared = Mutex::new(std::mem::take(&mut ledger));
        std::thread::scope(|s| {
            s.spawn(|| rest_adder(&server, round, &stop, &shared));
            s.spawn(|| rest_patcher(&server, &stop, &shared));
            s.spawn(|| pg_inserter(&server, round, &stop, &shared));
            std::thread::sleep(Duration::from_millis(150 + rng.next(600)));
            server.sigkill();
            stop.store(true, Ordering::SeqCst);
        });
        ledger = shared.into_inner().unwrap();
        server = server.restart_killed(&[]);
        rt.block_on(check(&server, round, &mut ledger));
    }
    println!("crash test: {} documents acknowledged, counters {:?}", ledger.acked.len(), ledger.increments);
    let over_pg = ledger.acked.iter().filter(|id| id.starts_with('p')).count();
    let over_rest = ledger.acked.iter().filter(|id| id.starts_with('r')).count();
    assert!(
        over_pg >= rounds && over_rest >= rounds,
        "the writers wrote almost nothing: {over_pg} over pgwire, {over_rest} over REST"
    );
    assert!(ledger.increments.iter().sum::<u64>() >= rounds as u64, "too few increments: {:?}", ledger.increments);
}
