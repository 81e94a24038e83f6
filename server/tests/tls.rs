//! TLS on the PostgreSQL port and the REST API: with a certificate and key configured,
//! `sslmode=require` clients connect over TLS and the REST API is HTTPS; a TLS configuration
//! that cannot be loaded stops the server from starting instead of serving plaintext.
//! Certificates are made with the openssl command.

mod common;

use std::path::Path;
use std::process::Command;

use common::Server;

/// A self-signed certificate and its key in `dir`.
fn self_signed(dir: &Path) -> (String, String) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    (cert.display().to_string(), key.display().to_string())
}

/// Runs `SELECT 1` through psql with `sslmode`; whether it succeeded, and its stderr.
fn psql_select(server: &Server, sslmode: &str) -> (bool, String) {
    let conn = format!("host=127.0.0.1 port={} user=cairn dbname=cairn sslmode={sslmode} connect_timeout=10", server.port);
    let out = Command::new("psql").args(["-X", "-A", "-t", &conn, "-c", "SELECT 1"]).output().expect("psql is installed");
    (
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "1",
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn sslmode_require_connects_over_tls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = self_signed(dir.path());
    let server = Server::start_with(&["--tls-cert", &cert, "--tls-key", &key]);
    server.connect().await;
    let (ok, err) = psql_select(&server, "require");
    assert!(ok, "TLS connection failed: {err}");
    // Without TLS configured, the same client is turned away: `require` really needs TLS.
    let plain = Server::start();
    plain.connect().await;
    let (ok, err) = psql_select(&plain, "require");
    assert!(!ok && err.contains("SSL"), "{err}");
}

#[tokio::test]
async fn with_tls_required_plaintext_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = self_signed(dir.path());
    let server = Server::start_with(&["--tls-cert", &cert, "--tls-key", &key, "--tls-required", "true"]);
    let plain = server.connect_as("user=cairn dbname=cairn").await.expect_err("plaintext");
    assert_eq!(common::code(plain), Some("28000".into()));
    let (ok, err) = psql_select(&server, "require");
    assert!(ok, "TLS connection failed: {err}");
}

#[test]
fn the_rest_api_is_https_with_the_same_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = self_signed(dir.path());
    let server = Server::start_with(&["--tls-cert", &cert, "--tls-key", &key]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", server.http_port)).is_err() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let curl =
        |url: String| Command::new("curl").args(["-sS", "--cacert", &cert, "-w", "\n%{http_code}", &url]).output().expect("curl");
    let secure = curl(format!("https://localhost:{}/v1/orgs/self/ws", server.http_port));
    let text = String::from_utf8_lossy(&secure.stdout);
    assert!(text.ends_with("200") && text.contains("commons"), "{text} {}", String::from_utf8_lossy(&secure.stderr));
    let plain = curl(format!("http://127.0.0.1:{}/v1/orgs/self/ws", server.http_port));
    assert!(!String::from_utf8_lossy(&plain.stdout).ends_with("200"), "plain HTTP is not served beside HTTPS");
}

#[test]
fn a_tls_configuration_that_cannot_load_stops_the_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = self_signed(dir.path());
    let missing = dir.path().join("missing.pem").display().to_string();
    for (args, says) in [
        (vec!["--tls-cert", missing.as_str(), "--tls-key", key.as_str()], "reading the TLS certificate"),
        (vec!["--tls-cert", key.as_str(), "--tls-key", key.as_str()], "no certificate in the file"),
        (vec!["--tls-cert", cert.as_str(), "--tls-key", cert.as_str()], "reading the TLS private key"),
        (vec!["--tls-cert", cert.as_str()], "--tls-key is missing"),
        (vec!["--tls-required", "true"], "TLS is required"),
    ] {
        let data = dir.path().join("data");
        let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["serve", "--pg-listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .args(&args)
            .output()
            .expect("run cairn");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(says), "{args:?}: {stderr}");
        assert!(!data.exists(), "{args:?}: the store was opened");
    }
}
