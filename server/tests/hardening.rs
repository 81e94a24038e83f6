//! A server that outlives bad clients: malformed and truncated protocol messages, oversized
//! startup packets, bytes where a TLS handshake should be, and more connections than allowed.
//! Each bad connection is closed; the server goes on answering good ones.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{cells, code, rows, Server};

/// Opens a raw connection, sends `bytes` and closes its sending side, then reads until the
/// server closes the connection; returns what the server sent.
fn raw(server: &Server, bytes: &[u8]) -> Vec<u8> {
    let mut socket = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    socket.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    // The server may close before taking everything: that is an answer too.
    let _sent = socket.write_all(bytes);
    let _closed = socket.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    let _read = socket.read_to_end(&mut answer);
    answer
}

/// A startup packet for user and database `cairn`.
fn startup() -> Vec<u8> {
    let body = b"\x00\x03\x00\x00user\x00cairn\x00database\x00cairn\x00\x00";
    let mut packet = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    packet.extend_from_slice(body);
    packet
}

#[tokio::test]
async fn malformed_messages_close_only_their_connection() {
    let server = Server::start();
    server.connect().await;
    // A length field below 4, in the startup packet and after it.
    raw(&server, &[0, 0, 0, 2, 0, 3, 0, 0]);
    let mut after = startup();
    after.extend_from_slice(&[b'Q', 0, 0, 0, 3]);
    raw(&server, &after);
    // A startup packet claiming far more than PostgreSQL allows.
    let mut huge = 100_000_000u32.to_be_bytes().to_vec();
    huge.extend_from_slice(&[0, 3, 0, 0]);
    raw(&server, &huge);
    // SSLRequest, then plain bytes where the handshake (or a startup packet) belongs.
    let mut ssl = vec![0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    ssl.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
    raw(&server, &ssl);
    // A truncated message, then the connection drops.
    let mut truncated = startup();
    truncated.extend_from_slice(&[b'Q', 0, 0, 0, 100, b'S', b'E']);
    raw(&server, &truncated);
    // Random bytes.
    raw(&server, &[0xff; 64]);
    let client = server.connect().await;
    assert_eq!(rows(&client, "SELECT 'still serving' AS s").await, cells(&[&["still serving"]]));
}

#[tokio::test]
async fn connections_over_the_limit_are_refused_with_53300() {
    let server = Server::start_with(&["--max-connections", "2"]);
    let first = server.connect().await;
    let _second = server.connect().await;
    let third = server.connect_as("user=cairn dbname=cairn").await.expect_err("over the limit");
    assert_eq!(code(third), Some("53300".into()));
    drop(first);
    // The slot frees when the connection ends.
    let mut again = None;
    for _ in 0..50 {
        if let Ok(c) = server.connect_as("user=cairn dbname=cairn").await {
            again = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let again = again.expect("a slot frees when a client leaves");
    assert_eq!(rows(&again, "SELECT 1 AS one").await, cells(&[&["1"]]));
}

#[tokio::test]
async fn a_full_server_still_takes_cancel_requests() {
    let server = Server::start_with(&["--max-connections", "1"]);
    let client = server.connect().await;
    let cancel = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        cancel.cancel_query(tokio_postgres::NoTls).await
    });
    let endless = client.simple_query("SELECT sum(value) FROM generate_series(1, 100000000000)").await;
    assert_eq!(code(endless.expect_err("cancelled")), Some("57014".into()));
    canceller.await.expect("cancel task").expect("cancel request");
}

#[tokio::test]
async fn a_query_over_the_memory_limit_fails_alone() {
    let server = Server::start_with(&["--query-memory-mib", "1"]);
    let client = server.connect().await;
    let big = client.simple_query("SELECT count(DISTINCT value) FROM generate_series(1, 5000000)").await;
    assert_eq!(code(big.expect_err("over the limit")), Some("53200".into()));
    assert_eq!(rows(&client, "SELECT count(*) FROM generate_series(1, 1000)").await, cells(&[&["1000"]]));
}

/// A frontend message: its type, then its length and body.
fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    m.extend_from_slice(body);
    m
}

#[tokio::test]
async fn a_bind_with_mismatched_format_codes_is_an_error_not_a_crash() {
    let server = Server::start();
    server.connect().await;
    let mut bytes = startup();
    bytes.extend(message(b'P', b"\0SELECT $1::text AS v\0\0\0"));
    // Two parameter format codes for one parameter, then one result format code too many.
    let mut bind = b"\0\0\0\x02\0\0\0\0\0\x01\0\0\0\x01x".to_vec();
    bind.extend_from_slice(b"\0\x02\0\0\0\0");
    bytes.extend(message(b'B', &bind));
    bytes.extend(message(b'E', b"\0\0\0\0\0"));
    bytes.extend(message(b'S', b""));
    let answer = raw(&server, &bytes);
    let text = String::from_utf8_lossy(&answer);
    assert!(text.contains("08P01"), "{text}");
    let client = server.connect().await;
    assert_eq!(rows(&client, "SELECT 'fine' AS s").await, cells(&[&["fine"]]));
}
