//! A real `cairn serve` for integration tests: the binary on loopback ports the system picks,
//! with a data directory of its own, and clients connected to it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// A running `cairn serve`, stopped (SIGTERM) when dropped.
pub(crate) struct Server {
    child: Child,
    /// The pgwire port.
    pub port: u16,
    /// The REST API's port.
    pub http_port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    pub(crate) fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts `cairn serve` with `args` added to its command line.
    pub(crate) fn start_with(args: &[&str]) -> Server {
        Server::start_in(tempfile::tempdir().expect("temp dir"), "127.0.0.1", args)
    }

    /// Stops the server and starts it again on the same data, its REST API listening on
    /// `http_host`.
    pub(crate) fn restart(mut self, http_host: &str) -> Server {
        self.stop();
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"));
        Server::start_in(dir, http_host, &[])
    }

    /// The data directory.
    pub(crate) fn data_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("data")
    }

    fn stop(&mut self) {
        let _signalled = Command::new("kill").arg(self.child.id().to_string()).status();
        let _exited = self.child.wait();
    }

    /// Kills the server with SIGKILL: no chance to flush or sync anything.
    pub(crate) fn sigkill(&self) {
        let _signalled = Command::new("kill").args(["-KILL", &self.child.id().to_string()]).status();
    }

    /// Starts a killed server again on the same data with `args`.
    pub(crate) fn restart_killed(mut self, args: &[&str]) -> Server {
        self.sigkill();
        let _exited = self.child.wait();
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"));
        Server::start_in(dir, "127.0.0.1", args)
    }

    /// Starts `cairn serve` with its data directory on a filesystem of its own of `mib` MiB:
    /// a tmpfs mounted in a mount namespace of the server's (which goes with it), to see what
    /// a full disk does. None where an unprivileged user namespace cannot mount one.
    pub(crate) fn start_on_small_disk(mib: u32) -> Option<Server> {
        let dir = tempfile::tempdir().expect("temp dir");
        let in_namespace = |program: &str| {
            let mut c = Command::new("unshare");
            c.args(["--user", "--map-root-user", "--mount", "sh", "-c"])
                .arg(r#"mount -t tmpfs -o size="$1"m tmpfs "$2" && shift 2 && exec "$@""#)
                .args(["sh", &mib.to_string()])
                .arg(dir.path())
                .arg(program);
            c
        };
        let works = in_namespace("true").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
        if !works {
            return None;
        }
        let unshare = in_namespace(env!("CARGO_BIN_EXE_cairn"));
        Some(Server::launch(unshare, dir, "127.0.0.1", &[]))
    }

    /// Starts `cairn serve` on `dir`.
    fn start_in(dir: tempfile::TempDir, http_host: &str, args: &[&str]) -> Server {
        Server::launch(Command::new(env!("CARGO_BIN_EXE_cairn")), dir, http_host, args)
    }

    /// Runs `command` (the binary, or what runs it) with `serve` and its arguments on `dir`,
    /// each listener on a port the system picks (so servers started at once never race for
    /// one), and reads the ports from the server's log.
    fn launch(mut command: Command, dir: tempfile::TempDir, http_host: &str, args: &[&str]) -> Server {
        let mut child = command
            .args(["serve", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(["--pg-listen", "127.0.0.1:0", "--cache-mib", "16"])
            .args(["--http-listen", &format!("{http_host}:0")])
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cairn");
        let (port, http_port) = listening_ports(child.stderr.take().expect("cairn's stderr"));
        Server { child, port, http_port, _dir: dir }
    }

    /// Sends an HTTP request with curl (waiting for the server to listen): `method path`,
    /// an optional JSON body and API key. Returns the status and the JSON body.
    pub(crate) fn http(&self, method: &str, path: &str, body: Option<&str>, key: Option<&str>) -> (u16, serde_json::Value) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.http_port)).is_err() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.http_now(method, path, body, key)
    }

    /// [`Server::http`] without waiting for the server: status 0 when nothing answered.
    pub(crate) fn http_now(&self, method: &str, path: &str, body: Option<&str>, key: Option<&str>) -> (u16, serde_json::Value) {
        let url = format!("http://127.0.0.1:{}{path}", self.http_port);
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "-X", method, "-w", "\n%{http_code}", "-H", "Content-Type: application/json"]);
        if let Some(key) = key {
            cmd.args(["-H", &format!("Authorization: ApiKey {key}")]);
        }
        if body.is_some() {
            cmd.args(["--data-binary", "@-"]);
        }
        let mut child =
            cmd.arg(&url).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run curl");
        let mut stdin = child.stdin.take().expect("curl's stdin");
        let sent = body.unwrap_or_default().to_owned();
        let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, sent.as_bytes()));
        let out = child.wait_with_output().expect("run curl");
        // The server may answer (413) before reading it all.
        let _written = writer.join();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (json, status) = text
            .rsplit_once('\n')
            .unwrap_or_else(|| panic!("curl {method} {url}: {text} {}", String::from_utf8_lossy(&out.stderr)));
        let status: u16 = status.trim().parse().unwrap_or_else(|_| panic!("curl {method} {url}: {text}"));
        (status, serde_json::from_str(json).unwrap_or(serde_json::Value::Null))
    }

    pub(crate) async fn connect(&self) -> Client {
        self.connect_as("user=cairn dbname=cairn").await.expect("connect")
    }

    /// Connects with `params` (`user=… dbname=…`), waiting for the server to listen.
    pub(crate) async fn connect_as(&self, params: &str) -> Result<Client, tokio_postgres::Error> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let conn = format!("host=127.0.0.1 port={} {params}", self.port);
            match tokio_postgres::connect(&conn, NoTls).await {
                Ok((client, connection)) => {
                    tokio::spawn(connection);
                    return Ok(client);
                }
                // Only "not listening yet" is worth waiting out.
                Err(e) if refused(&e) && Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether connecting failed because nothing listens on the port (yet).
fn refused(e: &tokio_postgres::Error) -> bool {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
}

/// The PostgreSQL and REST ports a starting server logs it listens on; the rest of its log is
/// read and dropped in the background, so the server never blocks on a full pipe.
fn listening_ports(stderr: ChildStderr) -> (u16, u16) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut pg, mut http, mut said) = (None, None, String::new());
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if pg.is_some() && http.is_some() {
                continue;
            }
            // "… PostgreSQL wire protocol on 127.0.0.1:PORT: psql …", "… REST API on http://HOST:PORT/…"
            let port_of = |address: &str| address.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
            if let Some((_, rest)) = line.split_once("PostgreSQL wire protocol on ") {
                pg = rest.split_whitespace().next().and_then(|a| port_of(a.trim_end_matches(':')));
            } else if let Some((_, rest)) = line.split_once("REST API on ") {
                http = rest.split_once("://").and_then(|(_, a)| a.split('/').next()).and_then(port_of);
            }
            said.push_str(&line);
            said.push('\n');
            if let (Some(pg), Some(http)) = (pg, http) {
                let _told = tx.send(Ok((pg, http)));
            }
        }
        let _told = tx.send(Err(said));
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(Ok(ports)) => ports,
        Ok(Err(said)) => panic!("cairn serve stopped before it listened:\n{said}"),
        Err(_) => panic!("cairn serve did not listen within 30 s"),
    }
}

/// The rows of a simple query as text cells.
pub(crate) async fn rows(client: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
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
pub(crate) fn cells(rows: &[&[&str]]) -> Vec<Vec<Option<String>>> {
    rows.iter().map(|r| r.iter().map(|c| Some((*c).to_owned())).collect()).collect()
}

/// The SQLSTATE of a failed statement.
pub(crate) fn code(e: tokio_postgres::Error) -> Option<String> {
    e.code().map(|c| c.code().to_owned())
}
