//! Other people's clients against `cairn serve`: the checks in `compat-tests/` (installed by
//! `compat-tests/install.sh`) run against a real server, and their results become the table
//! in `compat-tests/RESULTS.md`. A client that cannot be installed fails the test.

mod common;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use common::Server;
use serde_json::Value;

fn compat_dir() -> PathBuf {
    // Read when the test runs: a binary built in another clone sharing the target directory
    // carries that clone's path.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    PathBuf::from(manifest).join("../compat-tests")
}

/// One check's outcome.
struct Outcome {
    client: String,
    check: String,
    error: Option<String>,
}

/// Runs `install` (a script of `compat-tests/`, printing what it installed), then the checks
/// `command` makes from that and the server's port; each prints one JSON line per check.
fn run_checks(label: &str, install: &str, command: impl Fn(&str, &Server) -> Command, server: &Server) -> Vec<Outcome> {
    let installed = Command::new("bash").arg(compat_dir().join(install)).output().expect("run an install script");
    assert!(installed.status.success(), "installing {label} failed:\n{}", String::from_utf8_lossy(&installed.stderr));
    let path = String::from_utf8_lossy(&installed.stdout).trim().to_owned();
    let run = command(&path, server).output().unwrap_or_else(|e| panic!("running the {label} checks: {e}"));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let outcomes: Vec<Outcome> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| Outcome {
            client: v["client"].as_str().unwrap_or_default().to_owned(),
            check: v["check"].as_str().unwrap_or_default().to_owned(),
            error: v["error"].as_str().map(str::to_owned),
        })
        .collect();
    assert!(!outcomes.is_empty(), "the {label} checks reported nothing:\n{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    outcomes
}

fn python(venv_python: &str, server: &Server) -> Command {
    let mut c = Command::new(venv_python);
    c.arg(compat_dir().join("python/checks.py")).arg(server.port.to_string()).arg(server.http_port.to_string());
    c
}

fn node(node_path: &str, server: &Server) -> Command {
    let mut c = Command::new("node");
    c.env("NODE_PATH", node_path).arg(compat_dir().join("node/checks.js")).arg(server.port.to_string());
    c
}

fn java(jar: &str, server: &Server) -> Command {
    let mut c = Command::new("java");
    c.arg("-cp").arg(jar).arg(compat_dir().join("java/Checks.java")).arg(server.port.to_string());
    c
}

/// One replayed query: its description and text.
struct Replay {
    description: String,
    sql: String,
}

/// The queries of `compat-tests/replays/<tool>.sql`: blocks separated by blank lines, each a
/// `-- query: …` line and one statement.
fn replays(tool: &str) -> Vec<Replay> {
    let text = std::fs::read_to_string(compat_dir().join(format!("replays/{tool}.sql"))).expect("read a replay file");
    text.split("\n\n")
        .filter_map(|block| {
            let description = block.lines().find_map(|l| l.strip_prefix("-- query:"))?.trim().to_owned();
            let sql: Vec<&str> = block.lines().filter(|l| !l.trim_start().starts_with("--")).collect();
            Some(Replay { description, sql: sql.join("\n").trim().trim_end_matches(';').to_owned() })
        })
        .collect()
}

/// Replays each tool's connect-time queries, as the tool's driver sends them: psycopg2
/// (Superset) as simple queries, pgjdbc and pgx (Metabase, DBeaver, Grafana) as prepared ones.
async fn replay_checks(server: &Server) -> Vec<Outcome> {
    let client = server.connect().await;
    client
        .batch_execute("CREATE COLLECTION IF NOT EXISTS replay_items; INSERT INTO replay_items (_id, name, payload) VALUES ('1', 'first', '{\"k\": 1}'::jsonb)")
        .await
        .expect("set up replay_items");
    let mut out = Vec::new();
    for (tool, label, simple) in [
        ("metabase", "Metabase", false),
        ("grafana", "Grafana", false),
        ("dbeaver", "DBeaver", false),
        ("superset", "Superset", true),
    ] {
        let queries = replays(tool);
        assert!(!queries.is_empty(), "no queries in replays/{tool}.sql");
        for q in queries {
            let result =
                if simple { client.simple_query(&q.sql).await.map(|_| ()) } else { client.query(&q.sql, &[]).await.map(|_| ()) };
            let error = result
                .err()
                .map(|e| e.as_db_error().map_or_else(|| e.to_string(), |d| format!("{}: {}", d.code().code(), d.message())));
            out.push(Outcome { client: format!("{label} (replayed)"), check: q.description, error });
        }
    }
    out
}

/// Checks known to fail, with why: the table shows them, and the test fails if one of them
/// starts passing (so the list stays true) or another one fails.
const KNOWN_FAILURES: &[(&str, &str, &str)] = &[];

fn known_failure(o: &Outcome) -> Option<&'static str> {
    KNOWN_FAILURES.iter().find(|(c, k, _)| *c == o.client && *k == o.check).map(|(_, _, why)| *why)
}

/// The results as a Markdown table.
fn table(outcomes: &[Outcome]) -> String {
    let mut out = String::from(
        "# Client compatibility\n\nGenerated by the test suite (`.ci/run`; the `compat` test of cairn-server); do not edit.\n\n\
         | client | check | result |\n| --- | --- | --- |\n",
    );
    for o in outcomes {
        let result = match (&o.error, known_failure(o)) {
            (None, _) => "pass".to_owned(),
            (Some(_), Some(why)) => format!("FAIL (known: {why})"),
            (Some(e), None) => format!("FAIL: {}", e.replace('|', "\\|").replace('\n', " ")),
        };
        let _ = writeln!(out, "| {} | {} | {} |", o.client, o.check, result);
    }
    out
}

#[tokio::test]
async fn other_clients_pass_their_checks() {
    let server = Server::start();
    server.connect().await;
    let mut outcomes = run_checks("the Python clients", "install.sh", python, &server);
    outcomes.extend(run_checks("node-postgres", "node/install.sh", node, &server));
    outcomes.extend(run_checks("pgjdbc", "java/install.sh", java, &server));
    outcomes.extend(replay_checks(&server).await);
    std::fs::write(compat_dir().join("RESULTS.md"), table(&outcomes)).expect("write RESULTS.md");
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| known_failure(o).is_none())
        .filter_map(|o| o.error.as_ref().map(|e| format!("{} / {}: {e}", o.client, o.check)))
        .collect();
    assert!(failed.is_empty(), "failed checks:\n{}", failed.join("\n"));
    let fixed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.error.is_none() && known_failure(o).is_some())
        .map(|o| format!("{} / {}", o.client, o.check))
        .collect();
    assert!(fixed.is_empty(), "listed in KNOWN_FAILURES but passing now; remove them:\n{}", fixed.join("\n"));
}
