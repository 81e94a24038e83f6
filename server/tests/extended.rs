//! The extended query protocol, as drivers use it: statements prepared and described once,
//! then executed with bound parameters, results in the binary format, portals read a few rows
//! at a time. tokio-postgres speaks only this protocol for `query` and `execute`.

mod common;

use common::{code, Server};
use serde_json::{json, Value};
use tokio_postgres::types::Type;

#[tokio::test]
async fn prepared_statements_take_typed_parameters_and_return_binary_rows() {
    let server = Server::start();
    let client = server.connect().await;
    client.batch_execute("CREATE COLLECTION events").await.expect("create");
    let insert = client
        .prepare_typed("INSERT INTO events (_id, kind, n) VALUES ($1, $2, $3)", &[Type::TEXT, Type::TEXT, Type::INT8])
        .await
        .expect("prepare insert");
    for (id, kind, n) in [("a", "like", 1i64), ("b", "post", 2), ("c", "like", 3)] {
        assert_eq!(client.execute(&insert, &[&id, &kind, &n]).await.expect("insert"), 1);
    }
    // Describing the statement gives its parameter and column types.
    let select = client.prepare("SELECT _id, n FROM events WHERE n > $1 ORDER BY n").await.expect("prepare select");
    assert_eq!(select.params(), &[Type::INT8]);
    let columns: Vec<(&str, Type)> = select.columns().iter().map(|c| (c.name(), c.type_().clone())).collect();
    assert_eq!(columns, [("_id", Type::TEXT), ("n", Type::INT8)]);
    for (above, expected) in [(1i64, vec![("b", 2i64), ("c", 3)]), (2, vec![("c", 3)])] {
        let rows = client.query(&select, &[&above]).await.expect("query");
        let got: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let expected: Vec<(String, i64)> = expected.into_iter().map(|(i, n)| (i.to_owned(), n)).collect();
        assert_eq!(got, expected, "n > {above}");
    }
    // A parameter compared with a text column is text; NULL binds as NULL.
    let likes: i64 = client.query_one("SELECT count(*) FROM events WHERE kind = $1", &[&"like"]).await.expect("count").get(0);
    assert_eq!(likes, 2);
    let none: i64 = client.query_one("SELECT count(*) FROM events WHERE kind = $1", &[&None::<&str>]).await.expect("null").get(0);
    assert_eq!(none, 0);
    // A parameter nothing types is text, as in PostgreSQL.
    let shout: String = client.query_one("SELECT $1 || '!' AS s", &[&"hi"]).await.expect("text parameter").get(0);
    assert_eq!(shout, "hi!");
}

#[tokio::test]
async fn json_values_travel_as_jsonb_both_ways() {
    let server = Server::start();
    let client = server.connect().await;
    client
        .batch_execute(r#"CREATE COLLECTION docs; INSERT INTO docs (_id, body) VALUES ('a', '{"x": [1, 2]}'::jsonb), ('b', '"text"'::jsonb)"#)
        .await
        .expect("load");
    let insert =
        client.prepare_typed("INSERT INTO docs (_id, body) VALUES ($1, $2)", &[Type::TEXT, Type::JSONB]).await.expect("prepare");
    client.execute(&insert, &[&"c", &json!({"y": true})]).await.expect("insert a JSON parameter");
    let rows = client.query("SELECT _id, body, typeof(body) AS t FROM docs ORDER BY _id", &[]).await.expect("select");
    assert_eq!(rows[0].columns()[1].type_(), &Type::JSONB);
    let got: Vec<(String, Value, String)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    assert_eq!(
        got,
        [
            ("a".to_owned(), json!({"x": [1, 2]}), "object".to_owned()),
            ("b".to_owned(), json!("text"), "string".to_owned()),
            ("c".to_owned(), json!({"y": true}), "object".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_portal_hands_out_rows_a_few_at_a_time() {
    let server = Server::start();
    let mut client = server.connect().await;
    client
        .batch_execute(
            "CREATE COLLECTION nums; INSERT INTO nums (_id, n) VALUES ('a', 1), ('b', 2), ('c', 3), ('d', 4), ('e', 5)",
        )
        .await
        .expect("load");
    let tx = client.transaction().await.expect("begin");
    let stmt = tx.prepare("SELECT n FROM nums ORDER BY n").await.expect("prepare");
    let portal = tx.bind(&stmt, &[]).await.expect("bind");
    let mut seen = Vec::new();
    for want in [2, 2, 1, 0] {
        let rows = tx.query_portal(&portal, 2).await.expect("fetch");
        assert_eq!(rows.len(), want);
        seen.extend(rows.iter().map(|r| r.get::<_, i64>(0)));
    }
    assert_eq!(seen, [1, 2, 3, 4, 5]);
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn bad_statements_fail_with_their_sqlstate_and_the_connection_goes_on() {
    let server = Server::start();
    let client = server.connect().await;
    assert_eq!(code(client.prepare("SELEC 1").await.expect_err("syntax")), Some("42601".into()));
    assert_eq!(code(client.prepare("SELECT * FROM nowhere WHERE x = $1").await.expect_err("missing")), Some("42P01".into()));
    assert_eq!(code(client.prepare("SELECT 1; SELECT 2").await.expect_err("two statements")), Some("42601".into()));
    let answer: i64 = client.query_one("SELECT 40 + $1::bigint", &[&2i64]).await.expect("still usable").get(0);
    assert_eq!(answer, 42);
}

#[tokio::test]
async fn a_prepared_statement_whose_columns_changed_must_be_prepared_again() {
    let server = Server::start();
    let client = server.connect().await;
    client.batch_execute("CREATE COLLECTION docs; INSERT INTO docs (_id, n) VALUES ('a', 1)").await.expect("load");
    let stmt = client.prepare("SELECT * FROM docs").await.expect("prepare");
    assert_eq!(client.query(&stmt, &[]).await.expect("run").len(), 1);
    // A new field is a new column: the rows no longer match what the client was told.
    client.batch_execute("INSERT INTO docs (_id, n, extra) VALUES ('b', 2, 'x')").await.expect("insert");
    assert_eq!(code(client.query(&stmt, &[]).await.expect_err("changed")), Some("0A000".into()));
    let again = client.prepare("SELECT * FROM docs").await.expect("prepare again");
    assert_eq!(client.query(&again, &[]).await.expect("run again").len(), 2);
}
