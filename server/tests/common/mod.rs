//! A real `cairn serve` for integration tests: the binary on a free loopback port with a data
//! directory of its own, and clients connected to it.

#![allow(dead_code)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// A running `cairn serve`, stopped (SIGTERM) when dropped.
pub struct Server {
    child: Child,
    /// The pgwire port.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts `cairn serve` with `args` added to its command line.
    pub fn start_with(args: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["serve", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(["--pg-listen", &format!("127.0.0.1:{port}"), "--cache-mib", "16"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cairn");
        Server { child, port, _dir: dir }
    }

    pub async fn connect(&self) -> Client {
        self.connect_as("user=cairn dbname=cairn").await.expect("connect")
    }

    /// Connects with `params` (`user=… dbname=…`), waiting for the server to listen.
    pub async fn connect_as(&self, params: &str) -> Result<Client, tokio_postgres::Error> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let conn = format!("host=127.0.0.1 port={} {params}", self.port);
            match tokio_postgres::connect(&conn, NoTls).await {
                Ok((client, connection)) => {
                    tokio::spawn(connection);
                    return Ok(client);
                }
                // The server answered and refused: that is the answer.
                Err(e) if e.code().is_some() || Instant::now() > deadline => return Err(e),
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
pub async fn rows(client: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    let messages = client.simple_query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect()),
            _ => None,
        })
        .collect()
}

/// Expected text cells.
pub fn cells(rows: &[&[&str]]) -> Vec<Vec<Option<String>>> {
    rows.iter().map(|r| r.iter().map(|c| Some((*c).to_owned())).collect()).collect()
}

/// The SQLSTATE of a failed statement.
pub fn code(e: tokio_postgres::Error) -> Option<String> {
    e.code().map(|c| c.code().to_owned())
}
