//! `cairn serve` over the PostgreSQL wire protocol, driven by tokio-postgres as an application
//! would: the real binary on a free loopback port, a data directory of its own.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// A running `cairn serve`, stopped (SIGTERM) when dropped.
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["serve", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(["--pg-listen", &format!("127.0.0.1:{port}"), "--cache-mib", "16"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cairn");
        Server { child, port, _dir: dir }
    }

    async fn connect(&self) -> Client {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let conn = format!("host=127.0.0.1 port={} user=cairn dbname=cairn", self.port);
            match tokio_postgres::connect(&conn, NoTls).await {
                Ok((client, connection)) => {
                    tokio::spawn(connection);
                    return client;
                }
                Err(e) if Instant::now() > deadline => panic!("cairn did not accept connections: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _signalled = Command::new("kill").arg(self.child.id().to_string()).status();
        let _exited = self.child.wait();
    }
}

/// The rows of a simple query as text cells.
async fn rows(client: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    let messages = client.simple_query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect()),
            _ => None,
        })
        .collect()
}

fn cells(rows: &[&[&str]]) -> Vec<Vec<Option<String>>> {
    rows.iter().map(|r| r.iter().map(|c| Some((*c).to_owned())).collect()).collect()
}

#[tokio::test]
async fn simple_queries_create_load_and_read_a_collection() {
    let server = Server::start();
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE COLLECTION events; \
             INSERT INTO events (_id, kind, n) VALUES ('a', 'like', 1), ('b', 'post', 2), ('c', 'like', 3)",
        )
        .await
        .expect("create and insert");
    assert_eq!(
        rows(&client, "SELECT kind, count(*) AS c, sum(n) AS s FROM events GROUP BY kind ORDER BY kind").await,
        cells(&[&["like", "2", "4"], &["post", "1", "2"]])
    );
    // Several statements in one query string answer in order.
    let messages = client.simple_query("SELECT 1 AS one; SELECT 'x;y' AS two").await.expect("two statements");
    let values: Vec<String> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        })
        .collect();
    assert_eq!(values, ["1", "x;y"]);
    // Commands report their tag and row count.
    let done = client.simple_query("UPDATE events SET n = 10 WHERE kind = 'like'").await.expect("update");
    assert!(done.iter().any(|m| matches!(m, SimpleQueryMessage::CommandComplete(2))), "{done:?}");
}

#[tokio::test]
async fn errors_carry_their_sqlstate_and_the_connection_goes_on() {
    let server = Server::start();
    let client = server.connect().await;
    let code = |e: tokio_postgres::Error| e.code().map(|c| c.code().to_owned());
    let missing = client.simple_query("SELECT * FROM nowhere").await.expect_err("unknown collection");
    assert_eq!(code(missing), Some("42P01".to_owned()));
    let syntax = client.simple_query("SELEC 1").await.expect_err("bad syntax");
    assert_eq!(code(syntax), Some("42601".to_owned()));
    client.batch_execute("CREATE COLLECTION t").await.expect("create");
    let twice = client.simple_query("CREATE COLLECTION t").await.expect_err("duplicate");
    assert_eq!(code(twice), Some("42P07".to_owned()));
    assert_eq!(rows(&client, "SELECT 40 + 2 AS answer").await, cells(&[&["42"]]));
}

#[test]
fn an_open_address_without_authentication_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["serve", "--pg-listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("run cairn");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("authentication is not configured"));
}
