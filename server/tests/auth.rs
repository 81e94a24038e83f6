//! Roles and API keys against a real `cairn serve`: SCRAM-SHA-256 logins over PostgreSQL,
//! privileges granted and revoked, API keys made in SQL and over REST, and the refusal to
//! listen beyond loopback while the superuser has no password.

mod common;

use std::process::{Command, Stdio};

use common::{code, rows, Server};
use serde_json::json;

const ORG: &str = "/v1/orgs/self";

#[tokio::test]
async fn roles_log_in_with_scram_and_get_only_their_privileges() {
    let server = Server::start();
    let admin = server.connect().await;
    admin.batch_execute("CREATE COLLECTION items; INSERT INTO items (_id, n) VALUES ('1', 1)").await.unwrap();
    admin.batch_execute("CREATE ROLE app LOGIN PASSWORD 'app-secret'; CREATE ROLE nologin PASSWORD 'x'").await.unwrap();
    assert_eq!(code(admin.batch_execute("CREATE ROLE app").await.unwrap_err()).as_deref(), Some("42710"));

    let wrong = server.connect_as("user=app password=nope dbname=cairn").await.expect_err("a wrong password fails");
    assert_eq!(code(wrong).as_deref(), Some("28P01"));
    let missing = server.connect_as("user=app dbname=cairn").await.expect_err("a role with a password needs it");
    assert!(format!("{missing:?}").contains("password"), "{missing:?}");
    let refused = server.connect_as("user=nologin password=x dbname=cairn").await.expect_err("NOLOGIN refuses");
    assert_eq!(code(refused).as_deref(), Some("28000"));

    let app = server.connect_as("user=app password=app-secret dbname=cairn").await.unwrap();
    // Constants and the catalog need nothing; collections need a grant.
    assert_eq!(rows(&app, "SELECT 1, current_user").await, common::cells(&[&["1", "app"]]));
    rows(&app, "SELECT count(*) FROM pg_catalog.pg_class").await;
    assert_eq!(code(app.simple_query("SELECT * FROM items").await.unwrap_err()).as_deref(), Some("42501"));
    // The write path's figures can quote documents in their errors: they need reading too.
    let stats = "SELECT collection FROM pg_stat_ingest WHERE collection = 'items'";
    assert_eq!(code(app.simple_query(stats).await.unwrap_err()).as_deref(), Some("42501"));
    // A collection named like a system table is still a collection.
    admin.batch_execute("CREATE COLLECTION pg_secrets").await.unwrap();
    assert_eq!(code(app.simple_query("SELECT * FROM pg_secrets").await.unwrap_err()).as_deref(), Some("42501"));
    admin.batch_execute("GRANT pg_read_all_data TO app").await.unwrap();
    assert_eq!(rows(&app, "SELECT n FROM items").await, common::cells(&[&["1"]]));
    assert_eq!(rows(&app, stats).await, common::cells(&[&["items"]]));
    assert_eq!(code(app.simple_query("INSERT INTO items (_id) VALUES ('2')").await.unwrap_err()).as_deref(), Some("42501"));
    assert_eq!(code(app.simple_query("CREATE COLLECTION mine").await.unwrap_err()).as_deref(), Some("42501"));
    admin.batch_execute("GRANT pg_write_all_data TO app").await.unwrap();
    app.batch_execute("INSERT INTO items (_id, n) VALUES ('2', 2)").await.unwrap();
    admin.batch_execute("REVOKE pg_read_all_data, pg_write_all_data FROM app").await.unwrap();
    assert_eq!(code(app.simple_query("SELECT * FROM items").await.unwrap_err()).as_deref(), Some("42501"));

    // A role may change its own password, and nothing else about roles.
    assert_eq!(code(app.simple_query("CREATE ROLE other").await.unwrap_err()).as_deref(), Some("42501"));
    assert_eq!(code(app.simple_query("ALTER ROLE app SUPERUSER").await.unwrap_err()).as_deref(), Some("42501"));
    app.batch_execute("ALTER ROLE app PASSWORD 'changed'").await.unwrap();
    assert!(server.connect_as("user=app password=app-secret dbname=cairn").await.is_err());
    server.connect_as("user=app password=changed dbname=cairn").await.unwrap();

    // Names fold to lower case unless quoted; a renamed role keeps its password.
    admin.batch_execute("ALTER ROLE APP RENAME TO renamed").await.unwrap();
    server.connect_as("user=renamed password=changed dbname=cairn").await.unwrap();
    admin.batch_execute("DROP ROLE Renamed").await.unwrap();
    assert_eq!(
        code(server.connect_as("user=renamed password=changed dbname=cairn").await.expect_err("dropped")).as_deref(),
        Some("28000")
    );
    assert_eq!(code(admin.simple_query("DROP ROLE cairn").await.unwrap_err()).as_deref(), Some("22023"));
}

#[tokio::test]
async fn api_keys_made_in_sql_or_rest_act_as_their_role() {
    let server = Server::start();
    let admin = server.connect().await;
    admin.batch_execute("CREATE COLLECTION events; CREATE ROLE reader LOGIN; GRANT pg_read_all_data TO reader").await.unwrap();
    let made = rows(&admin, "CREATE API KEY dashboards ROLE reader").await;
    let (name, role, key) = (made[0][0].clone().unwrap(), made[0][1].clone().unwrap(), made[0][2].clone().unwrap());
    assert_eq!((name.as_str(), role.as_str(), key.len()), ("dashboards", "reader", 48));

    let docs = format!("{ORG}/ws/commons/collections/events/docs");
    let query = json!({"sql": {"query": "SELECT count(*) AS n FROM events"}}).to_string();
    let (status, body) = server.http("POST", &format!("{ORG}/queries"), Some(&query), Some(&key));
    assert_eq!((status, body["results"][0]["n"].as_i64()), (200, Some(0)), "{body}");
    let (status, body) = server.http("POST", &docs, Some(r#"{"data":[{"a":1}]}"#), Some(&key));
    assert_eq!((status, body["type"].as_str()), (403, Some("FORBIDDEN")), "{body}");
    let (status, body) = server.http("GET", &format!("{ORG}/ws"), None, Some("not-a-key"));
    assert_eq!((status, body["type"].as_str()), (401, Some("AUTHEXCEPTION")), "{body}");

    // Keys over REST: made by the superuser (trusted from loopback while it has no password).
    let (status, body) = server.http("POST", &format!("{ORG}/users/self/apikeys"), Some(r#"{"name":"loader"}"#), None);
    assert_eq!(status, 200, "{body}");
    let loader = body["data"]["key"].as_str().unwrap().to_owned();
    let (status, body) = server.http("POST", &docs, Some(r#"{"data":[{"_id":"e1","a":1}]}"#), Some(&loader));
    assert_eq!((status, body["data"][0]["status"].as_str()), (200, Some("ADDED")), "{body}");
    let (_, body) = server.http("GET", &format!("{ORG}/users/self/apikeys"), None, Some(&loader));
    let listed = body["data"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{body}");
    assert_eq!(listed[0]["key"].as_str().unwrap(), format!("…{}", &loader[loader.len() - 4..]), "keys are not shown again");
    let (status, body) = server.http("GET", &format!("{ORG}/users/self/apikeys"), None, Some(&key));
    assert_eq!((status, body["data"][0]["name"].as_str()), (200, Some("dashboards")), "{body}");
    let (status, _) = server.http("GET", &format!("{ORG}/users/cairn/apikeys"), None, Some(&key));
    assert_eq!(status, 403, "a role lists only its own keys");
    let (status, body) = server.http("GET", &format!("{ORG}/users/reader/apikeys/dashboards"), None, Some(&loader));
    assert_eq!((status, body["data"]["role"].as_str()), (200, Some("reader")), "{body}");

    // Dropped keys stop working at once, whether dropped in SQL or over REST.
    admin.batch_execute("DROP API KEY dashboards ROLE reader").await.unwrap();
    assert_eq!(server.http("POST", &format!("{ORG}/queries"), Some(&query), Some(&key)).0, 401);
    assert_eq!(server.http("DELETE", &format!("{ORG}/users/self/apikeys/loader"), None, Some(&loader)).0, 200);
    assert_eq!(server.http("GET", &format!("{ORG}/ws"), None, Some(&loader)).0, 401);

    // Once the superuser has a password, requests without a key are refused too.
    admin.batch_execute("ALTER ROLE cairn PASSWORD 'root-secret'").await.unwrap();
    assert_eq!(server.http("GET", &format!("{ORG}/ws"), None, None).0, 401);
}

#[tokio::test]
async fn listening_beyond_loopback_needs_a_superuser_password() {
    let fresh = tempfile::tempdir().unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["serve", "--data-dir"])
        .arg(fresh.path())
        .args(["--pg-listen", "127.0.0.1:0", "--http-listen", "0.0.0.0:0", "--cache-mib", "16"])
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("refusing to listen on 0.0.0.0") && said.contains("no password"), "{said}");

    let server = Server::start();
    server.connect().await.batch_execute("ALTER ROLE cairn PASSWORD 'root-secret'").await.unwrap();
    let server = server.restart("0.0.0.0");
    let admin = server.connect_as("user=cairn password=root-secret dbname=cairn").await.expect("the open server is up");
    assert_eq!(rows(&admin, "SELECT 1").await, common::cells(&[&["1"]]));
    let no_password = server.connect_as("user=cairn dbname=cairn").await.expect_err("a password is needed now");
    assert!(format!("{no_password:?}").contains("password"), "{no_password:?}");
}
