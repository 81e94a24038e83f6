//! `cairn serve` over the PostgreSQL wire protocol, driven by tokio-postgres as an application
//! would: the real binary on a free loopback port, a data directory of its own.

mod common;

use std::process::Command;

use common::{cells, code, rows, Server};
use tokio_postgres::SimpleQueryMessage;

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
    let missing = client.simple_query("SELECT * FROM nowhere").await.expect_err("unknown collection");
    assert_eq!(code(missing), Some("42P01".to_owned()));
    let syntax = client.simple_query("SELEC 1").await.expect_err("bad syntax");
    assert_eq!(code(syntax), Some("42601".to_owned()));
    client.batch_execute("CREATE COLLECTION t").await.expect("create");
    let twice = client.simple_query("CREATE COLLECTION t").await.expect_err("duplicate");
    assert_eq!(code(twice), Some("42P07".to_owned()));
    // DataFusion's own file access is not reachable by clients.
    let external = client.simple_query("CREATE EXTERNAL TABLE leak STORED AS CSV LOCATION '/etc/passwd'").await;
    assert!(code(external.expect_err("external table")).is_some());
    let file = client.simple_query("COPY (SELECT 1) TO '/tmp/cairn-leak.csv'").await.expect_err("copy to a file");
    assert_eq!(code(file), Some("42501".to_owned()));
    assert!(!std::path::Path::new("/tmp/cairn-leak.csv").exists());
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
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no password"));
}

#[tokio::test]
async fn sessions_set_show_and_search_their_own_workspace() {
    let server = Server::start();
    let client = server.connect().await;
    client.batch_execute("SET application_name = 'cairn-test'; SET extra_float_digits = 3").await.expect("set");
    assert_eq!(rows(&client, "SHOW application_name").await, cells(&[&["cairn-test"]]));
    let version = rows(&client, "SHOW server_version").await;
    assert!(version[0][0].as_deref().is_some_and(|v| v.starts_with("16.")), "{version:?}");
    assert_eq!(code(client.simple_query("SET no_such_setting = 1").await.expect_err("unknown")), Some("42704".into()));
    assert_eq!(code(client.simple_query("SET server_version = '1'").await.expect_err("read-only")), Some("55P02".into()));
    client
        .batch_execute("CREATE SCHEMA web; CREATE COLLECTION web.pages; INSERT INTO web.pages (_id) VALUES ('home')")
        .await
        .expect("workspace");
    client.batch_execute("SET search_path = \"$user\", web").await.expect("search path");
    assert_eq!(rows(&client, "SELECT count(*) AS n, current_schema() AS s FROM pages").await, cells(&[&["1", "web"]]));
    // Settings belong to the session that made them.
    let other = server.connect().await;
    assert_eq!(code(other.simple_query("SELECT count(*) FROM pages").await.expect_err("not on the path")), Some("42P01".into()));
    // Transaction control is accepted; each statement commits on its own.
    client.batch_execute("BEGIN; INSERT INTO pages (_id) VALUES ('about'); COMMIT").await.expect("begin/commit");
    client.batch_execute("START TRANSACTION; ROLLBACK").await.expect("rollback");
    assert_eq!(rows(&other, "SELECT count(*) FROM web.pages").await, cells(&[&["2"]]));
}

#[tokio::test]
async fn a_long_query_stops_at_the_statement_timeout_or_when_cancelled() {
    let server = Server::start();
    let client = server.connect().await;
    let endless = "SELECT sum(value) FROM generate_series(1, 100000000000)";
    client.batch_execute("SET statement_timeout = '300ms'").await.expect("set timeout");
    let timed_out = client.simple_query(endless).await.expect_err("times out");
    assert_eq!(code(timed_out), Some("57014".into()));
    client.batch_execute("RESET statement_timeout").await.expect("reset");
    let cancel = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        cancel.cancel_query(tokio_postgres::NoTls).await
    });
    let cancelled = client.simple_query(endless).await.expect_err("cancelled");
    assert_eq!(code(cancelled), Some("57014".into()));
    canceller.await.expect("cancel task").expect("cancel request");
    assert_eq!(rows(&client, "SELECT 1 AS still_here").await, cells(&[&["1"]]));
}

#[tokio::test]
async fn only_the_cairn_user_and_database_are_accepted() {
    let server = Server::start();
    server.connect().await;
    let stranger = server.connect_as("user=someone dbname=cairn").await.expect_err("unknown role");
    assert_eq!(code(stranger), Some("28000".into()));
    let elsewhere = server.connect_as("user=cairn dbname=postgres").await.expect_err("unknown database");
    assert_eq!(code(elsewhere), Some("3D000".into()));
}

#[tokio::test]
async fn a_config_file_sets_what_flags_do_not_and_a_bad_one_stops_the_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("cairn.toml");
    std::fs::write(&config, "max_connections = 1\ncache_mib = 8\n").expect("write config");
    let server = Server::start_with(&["--config", &config.display().to_string()]);
    let _only = server.connect().await;
    let second = server.connect_as("user=cairn dbname=cairn").await.expect_err("the file's limit applies");
    assert_eq!(code(second), Some("53300".into()));
    std::fs::write(&config, "max_conections = 1\n").expect("write config");
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["serve", "--pg-listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .expect("run cairn");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `max_conections`"));
}
