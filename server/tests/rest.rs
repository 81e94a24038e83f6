//! The REST API of a real `cairn serve`, called with curl: workspaces, collections, document
//! writes with per-document statuses, queries with named parameters, errors and limits.

mod common;

use std::time::Duration;

use common::Server;
use serde_json::json;

const ORG: &str = "/v1/orgs/self";

#[test]
fn workspaces_collections_and_documents() {
    let server = Server::start();
    let (status, body) = server.http("GET", &format!("{ORG}/ws"), None, None);
    assert_eq!(status, 200, "{body}");
    assert!(body["data"].as_array().unwrap().iter().any(|w| w["name"] == "commons"));
    assert_eq!(server.http("POST", &format!("{ORG}/ws"), Some(r#"{"name":"shop","description":"orders"}"#), None).0, 200);
    let (status, body) = server.http("POST", &format!("{ORG}/ws"), Some(r#"{"name":"shop"}"#), None);
    assert_eq!((status, body["type"].as_str()), (409, Some("ALREADYEXISTS")), "{body}");
    assert!(body["error_id"].is_string() && body["message"].as_str().unwrap().contains("shop"));
    let (status, body) = server.http("POST", &format!("{ORG}/ws"), Some(r#"{"name":"pg_temp"}"#), None);
    assert_eq!((status, body["type"].as_str()), (400, Some("INVALIDINPUT")), "{body}");

    let (status, body) =
        server.http("POST", &format!("{ORG}/ws/shop/collections"), Some(r#"{"name":"orders","retention_secs":86400}"#), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["data"]["name"].as_str(), body["data"]["retention_secs"].as_i64()), (Some("orders"), Some(86400)));
    let (status, body) = server.http("GET", &format!("{ORG}/ws/nowhere/collections"), None, None);
    assert_eq!((status, body["type"].as_str()), (404, Some("NOTFOUND")), "{body}");

    // The second document is not an object: it alone is rejected, and the reply names it.
    let docs = r#"{"data":[{"_id":"a","qty":1,"tags":["x"]},42,{"_id":"b","qty":7}]}"#;
    let (status, body) = server.http("POST", &format!("{ORG}/ws/shop/collections/orders/docs"), Some(docs), None);
    assert_eq!((status, body["type"].as_str(), body["index"].as_u64()), (400, Some("INVALIDINPUT"), Some(1)), "{body}");
    let statuses: Vec<&str> = body["data"].as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["ADDED", "ERROR", "ADDED"]);
    let first_offset: u64 = body["last_offset"].as_str().unwrap().parse().unwrap();
    assert_eq!(first_offset, 2, "one record per document taken: {body}");

    let (status, body) = server.http(
        "POST",
        &format!("{ORG}/ws/shop/collections/orders/docs"),
        Some(r#"{"data":[{"_id":"a","qty":2,"tags":["x"]}]}"#),
        None,
    );
    // Acknowledged once durable, as Rockset does: an add that replaces a document says ADDED.
    assert_eq!((status, body["data"][0]["status"].as_str()), (200, Some("ADDED")), "{body}");
    let patch = r#"{"data":[{"_id":"a","patch":[{"op":"INCREMENT","path":"/qty","value":3}]},{"_id":"zz","patch":[{"op":"remove"}]},{"_id":"nobody","patch":[{"op":"add","path":"/x","value":1}]}]}"#;
    let (status, body) = server.http("PATCH", &format!("{ORG}/ws/shop/collections/orders/docs"), Some(patch), None);
    assert_eq!((status, body["index"].as_u64()), (400, Some(1)), "{body}");
    let statuses: Vec<&str> = body["data"].as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["PATCHED", "ERROR", "PATCHED"], "a malformed patch is refused on sight: {body}");
    let offset = body["last_offset"].as_str().unwrap().to_owned();
    assert_eq!(offset.parse::<u64>().unwrap(), first_offset + 3, "{body}");
    // Read-after-write: the fence passes once the collection has applied the offset.
    let fence = json!({ "name": [offset] }).to_string();
    let (status, body) =
        server.http("POST", &format!("{ORG}/ws/shop/collections/orders/offsets/commit?wait_ms=10000"), Some(&fence), None);
    assert_eq!((status, &body["data"]["passed"], &body["data"]["fence"]), (200, &json!(true), &json!(offset)), "{body}");
    assert!(body["offsets"]["commit"].as_str().unwrap().parse::<u64>().unwrap() >= offset.parse::<u64>().unwrap());
    let ahead = json!({ "name": ["1000000"] }).to_string();
    let (_, body) = server.http("POST", &format!("{ORG}/ws/shop/collections/orders/offsets/commit"), Some(&ahead), None);
    assert_eq!(body["data"]["passed"], json!(false), "an offset not yet written has not passed: {body}");
    let (status, _) =
        server.http("POST", &format!("{ORG}/ws/shop/collections/orders/offsets/commit"), Some(r#"{"name":["x"]}"#), None);
    assert_eq!(status, 400);

    let query = json!({"sql": {"query": "SELECT _id, qty FROM shop.orders WHERE qty >= :min ORDER BY _id",
        "parameters": [{"name": "min", "type": "int", "value": "2"}]}});
    let (status, body) = server.http("POST", &format!("{ORG}/queries"), Some(&query.to_string()), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"], json!([{"_id": "a", "qty": 5}, {"_id": "b", "qty": 7}]));
    assert_eq!(body["column_fields"][1]["name"], "qty");
    assert!(body["query_id"].is_string() && body["stats"]["elapsed_time_ms"].is_u64());
    assert_eq!(body["results_total_doc_count"], 2);
    let limited = json!({"sql": {"query": "SELECT _id FROM shop.orders ORDER BY _id", "default_row_limit": 1}});
    let (_, body) = server.http("POST", &format!("{ORG}/queries"), Some(&limited.to_string()), None);
    assert_eq!(
        (body["results"].as_array().map(Vec::len), body["results_total_doc_count"].as_u64()),
        (Some(1), Some(2)),
        "{body}"
    );

    let (status, body) =
        server.http("DELETE", &format!("{ORG}/ws/shop/collections/orders/docs"), Some(r#"{"data":[{"_id":"b"}]}"#), None);
    assert_eq!((status, body["data"][0]["status"].as_str()), (200, Some("DELETED")), "{body}");
    wait_for(&server, "shop", "orders", &body);
    let (_, body) = server.http("GET", &format!("{ORG}/ws/shop/collections/orders"), None, None);
    let stats = &body["data"]["stats"];
    assert_eq!(stats["doc_count"], 1, "{body}");
    // The pipeline's figures: everything appended is applied; the patch of the missing
    // `nobody` was the one record the indexer could not apply.
    assert_eq!(stats["last_offset_applied"], stats["last_offset_appended"], "{body}");
    assert_eq!((stats["lag_records"].as_u64(), stats["rejected_records"].as_u64()), (Some(0), Some(1)), "{body}");
    assert!(stats["last_error"].as_str().unwrap().contains("nobody"), "{body}");

    // A new field is queryable at once; nested values come back as JSON.
    let (_, body) = server.http(
        "POST",
        &format!("{ORG}/ws/shop/collections/orders/docs"),
        Some(r#"{"data":[{"_id":"c","ship":{"city":"Oslo"}}]}"#),
        None,
    );
    wait_for(&server, "shop", "orders", &body);
    let query = json!({"sql": {"query": "SELECT ship, tags FROM shop.orders ORDER BY _id"}});
    let (_, body) = server.http("POST", &format!("{ORG}/queries"), Some(&query.to_string()), None);
    assert_eq!(body["results"], json!([{"ship": null, "tags": ["x"]}, {"ship": {"city": "Oslo"}, "tags": null}]), "{body}");

    assert_eq!(server.http("DELETE", &format!("{ORG}/ws/shop"), None, None).0, 400, "a workspace with collections stays");
    assert_eq!(server.http("DELETE", &format!("{ORG}/ws/shop/collections/orders"), None, None).0, 200);
    assert_eq!(server.http("GET", &format!("{ORG}/ws/shop/collections/orders"), None, None).0, 404);
    assert_eq!(server.http("DELETE", &format!("{ORG}/ws/shop"), None, None).0, 200);
}

/// Waits until the write that answered `reply` is applied (Rockset's read-after-write fence).
fn wait_for(server: &Server, ws: &str, collection: &str, reply: &serde_json::Value) {
    let fence = json!({ "name": [reply["last_offset"]] }).to_string();
    let url = format!("{ORG}/ws/{ws}/collections/{collection}/offsets/commit?wait_ms=10000");
    let (status, body) = server.http("POST", &url, Some(&fence), None);
    assert_eq!((status, &body["data"]["passed"]), (200, &json!(true)), "{body}");
}

#[test]
fn bad_requests_get_json_errors() {
    let server = Server::start();
    let (status, body) = server.http("POST", &format!("{ORG}/queries"), Some(r#"{"sql": {"query": "SELEC 1"}}"#), None);
    assert_eq!((status, body["type"].as_str()), (400, Some("QUERY_ERROR")), "{body}");
    let (status, body) =
        server.http("POST", &format!("{ORG}/queries"), Some(r#"{"sql": {"query": "SELECT * FROM nope"}}"#), None);
    assert_eq!((status, body["type"].as_str()), (404, Some("NOTFOUND")), "{body}");
    let (status, body) = server.http("POST", &format!("{ORG}/queries"), Some(r#"{"sql": {"query": "SELECT :x"}}"#), None);
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains(":x"), "{body}");
    let (status, body) =
        server.http("POST", &format!("{ORG}/ws/commons/collections/none/docs"), Some(r#"{"data":[{"_id":1,"a":"#), None);
    assert_eq!((status, body["type"].as_str()), (400, Some("INVALIDINPUT")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("line 1"), "{body}");
    let (status, body) = server.http("POST", &format!("{ORG}/ws/commons/collections/none/docs"), Some(r#"{"data":[]}"#), None);
    assert_eq!((status, body["type"].as_str()), (404, Some("NOTFOUND")), "{body}");
    let (status, body) = server.http("GET", "/v2/elsewhere", None, None);
    assert_eq!((status, body["type"].as_str()), (404, Some("NOTFOUND")), "{body}");

    // The OpenAPI document describes every route the API has.
    let (status, spec) = server.http("GET", "/openapi.json", None, None);
    assert_eq!(status, 200);
    for path in [
        "/ws",
        "/ws/{ws}",
        "/collections",
        "/ws/{ws}/collections",
        "/ws/{ws}/collections/{c}",
        "/ws/{ws}/collections/{c}/docs",
        "/ws/{ws}/collections/{c}/offsets/commit",
        "/ws/{ws}/collections/{c}/sources",
        "/ws/{ws}/collections/{c}/sources/{id}",
        "/ws/{ws}/collections/{c}/sources/{id}/suspend",
        "/ws/{ws}/collections/{c}/sources/{id}/resume",
        "/queries",
        "/users/{user}/apikeys",
        "/users/{user}/apikeys/{name}",
    ] {
        assert!(spec["paths"][format!("{ORG}{path}")].is_object(), "{path} missing from /openapi.json");
    }
}

#[test]
fn bodies_over_the_limit_get_413_and_a_full_server_429() {
    let server = Server::start_with(&["--http-max-body-mib", "1", "--http-max-concurrent", "1"]);
    server.http("POST", &format!("{ORG}/ws/commons/collections"), Some(r#"{"name":"big"}"#), None);
    let big = format!(r#"{{"data":[{{"_id":"x","pad":"{}"}}]}}"#, "y".repeat(2 << 20));
    let (status, body) = server.http("POST", &format!("{ORG}/ws/commons/collections/big/docs"), Some(&big), None);
    assert_eq!((status, body["type"].as_str()), (413, Some("CONTENTTOOLARGE")), "{body}");

    // A slow upload holds the one slot; a request meanwhile is turned away with 429.
    let url = format!("http://127.0.0.1:{}{ORG}/ws/commons/collections/big/docs", server.http_port);
    let body = format!(r#"{{"data":[{{"_id":"slow","pad":"{}"}}]}}"#, "z".repeat(6000));
    let slow = std::process::Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--limit-rate",
            "1000",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
        ])
        .args(["--data-binary", &body, &url])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let (status, body) = server.http("GET", &format!("{ORG}/ws"), None, None);
    assert_eq!((status, body["type"].as_str()), (429, Some("RESOURCEEXCEEDED")), "{body}");
    let out = slow.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
    assert_eq!(server.http("GET", &format!("{ORG}/ws"), None, None).0, 200);
}
