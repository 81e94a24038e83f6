//! COPY through a driver: tokio-postgres streams NDJSON, CSV and text into collections with
//! `COPY … FROM STDIN` and reads rows back with `COPY … TO STDOUT`.

mod common;

use bytes::Bytes;
use common::{cells, code, rows, Server};
use futures::{SinkExt, StreamExt};
use tokio_postgres::Client;

/// Sends `chunks` as the data of `copy` and returns the row count it reports.
async fn copy_in(client: &Client, copy: &str, chunks: &[&str]) -> Result<u64, tokio_postgres::Error> {
    let sink = client.copy_in(copy).await?;
    futures::pin_mut!(sink);
    for chunk in chunks {
        sink.send(Bytes::from(chunk.to_string())).await?;
    }
    sink.finish().await
}

/// The text `copy` sends out.
async fn copy_out(client: &Client, copy: &str) -> String {
    let stream = client.copy_out(copy).await.expect("copy out");
    let chunks: Vec<Bytes> = stream.map(|c| c.expect("copy data")).collect().await;
    String::from_utf8(chunks.concat()).expect("utf-8")
}

#[tokio::test]
async fn copy_from_stdin_loads_ndjson_csv_and_text() {
    let server = Server::start();
    let client = server.connect().await;
    client.batch_execute("CREATE COLLECTION docs").await.expect("create");
    // NDJSON arrives in chunks that split lines; blank lines are skipped.
    let ndjson = ["{\"_id\":\"a\",\"n\":1,\"tags\":[\"x\"]}\n{\"_id\":\"b\",", "\"n\":\"two\",\"o\":{\"k\":true}}\n\n"];
    assert_eq!(copy_in(&client, "COPY docs FROM STDIN (FORMAT ndjson)", &ndjson).await.expect("ndjson"), 2);
    let csv = ["_id,kind,n\nc,like,3\nd,\"post, long\",4.5\n"];
    assert_eq!(copy_in(&client, "COPY docs FROM STDIN WITH (FORMAT csv, HEADER true)", &csv).await.expect("csv"), 2);
    let text = ["e\tx\\ty\nf\t\\N\n"];
    assert_eq!(copy_in(&client, "COPY docs (_id, v) FROM STDIN", &text).await.expect("text"), 2);
    assert_eq!(
        rows(&client, "SELECT _id, typeof(n), n, kind, typeof(v) FROM docs ORDER BY _id").await,
        vec![
            vec![Some("a".into()), Some("int".into()), Some("1".into()), None, Some("undefined".into())],
            vec![Some("b".into()), Some("string".into()), Some("\"two\"".into()), None, Some("undefined".into())],
            vec![Some("c".into()), Some("int".into()), Some("3".into()), Some("like".into()), Some("undefined".into())],
            vec![Some("d".into()), Some("float".into()), Some("4.5".into()), Some("post, long".into()), Some("undefined".into())],
            vec![Some("e".into()), Some("undefined".into()), None, None, Some("string".into())],
            vec![Some("f".into()), Some("undefined".into()), None, None, Some("null".into())],
        ]
    );
    // `v` holds a string and a null: a jsonb column, the tab decoded from the text format.
    assert_eq!(rows(&client, "SELECT v FROM docs WHERE _id = 'e'").await, cells(&[&["\"x\\ty\""]]));
}

#[tokio::test]
async fn bad_copy_data_fails_with_the_line_and_the_connection_goes_on() {
    let server = Server::start();
    let client = server.connect().await;
    client.batch_execute("CREATE COLLECTION docs").await.expect("create");
    let bad =
        copy_in(&client, "COPY docs FROM STDIN (FORMAT ndjson)", &["{\"_id\":\"a\"}\n[1]\n"]).await.expect_err("not an object");
    let message = bad.as_db_error().map(|e| e.message().to_owned()).unwrap_or_default();
    assert!(message.contains("line 2"), "{message}");
    assert_eq!(code(bad), Some("22P04".into()));
    let short = copy_in(&client, "COPY docs (_id, v) FROM STDIN", &["a\n"]).await.expect_err("too few fields");
    assert_eq!(code(short), Some("22P04".into()));
    let missing = copy_in(&client, "COPY nowhere FROM STDIN", &[]).await.expect_err("no collection");
    assert_eq!(code(missing), Some("42P01".into()));
    let file = client.simple_query("COPY docs FROM '/etc/passwd'").await.expect_err("server files");
    assert_eq!(code(file), Some("42501".into()));
    // Nothing of a failed COPY of CSV or text lands; the connection is usable.
    assert_eq!(rows(&client, "SELECT count(*) FROM docs").await, cells(&[&["0"]]));
}

#[tokio::test]
async fn copy_to_stdout_sends_rows_as_csv_or_text() {
    let server = Server::start();
    let client = server.connect().await;
    client
        .batch_execute(
            r#"CREATE COLLECTION docs; INSERT INTO docs (_id, n, o) VALUES ('a', 1, '{"k": "v, w"}'::jsonb), ('b', 2, NULL)"#,
        )
        .await
        .expect("load");
    let csv = copy_out(&client, "COPY (SELECT _id, n, o FROM docs ORDER BY _id) TO STDOUT WITH (FORMAT csv, HEADER)").await;
    assert_eq!(csv, "_id,n,o\na,1,\"{\"\"k\"\":\"\"v, w\"\"}\"\nb,2,null\n");
    let text = copy_out(&client, "COPY docs (_id, n) TO STDOUT").await;
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    assert_eq!(lines, ["a\t1", "b\t2"]);
}
