//! TLS for the PostgreSQL wire protocol and the REST API: the certificate chain and private
//! key (PEM files) named in the configuration, loaded once at startup. A configuration that
//! names them but cannot be loaded stops the server from starting; it never falls back to
//! plaintext.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion_postgres::pgwire::tokio::tokio_rustls::rustls::crypto::ring;
use datafusion_postgres::pgwire::tokio::tokio_rustls::rustls::pki_types::pem::PemObject;
use datafusion_postgres::pgwire::tokio::tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use datafusion_postgres::pgwire::tokio::tokio_rustls::rustls::ServerConfig;
use datafusion_postgres::pgwire::tokio::TlsAcceptor;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TlsError {
    #[error("TLS needs both a certificate and a private key: {0} is missing")]
    Incomplete(&'static str),
    #[error("reading the TLS certificate {path}: {message}")]
    Certificate { path: PathBuf, message: String },
    #[error("reading the TLS private key {path}: {message}")]
    Key { path: PathBuf, message: String },
    #[error("the TLS certificate and key do not make a valid configuration: {0}")]
    Config(String),
}

/// The acceptors for `cert` and `key`, one for each port; None when neither is given.
pub(crate) struct Acceptors {
    /// For the PostgreSQL wire protocol.
    pub pg: TlsAcceptor,
    /// For the REST API (HTTP/1.1).
    pub http: TlsAcceptor,
}

/// The acceptors for `cert` and `key`; None when neither is given.
pub(crate) fn acceptors(cert: Option<&Path>, key: Option<&Path>) -> Result<Option<Acceptors>, TlsError> {
    let (cert, key) = match (cert, key) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(TlsError::Incomplete("--tls-key")),
        (None, Some(_)) => return Err(TlsError::Incomplete("--tls-cert")),
        (Some(c), Some(k)) => (c, k),
    };
    let certificate_error = |message: String| TlsError::Certificate { path: cert.to_owned(), message };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| certificate_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| certificate_error(e.to_string()))?;
    if chain.is_empty() {
        return Err(certificate_error("no certificate in the file".into()));
    }
    let private =
        PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key { path: key.to_owned(), message: e.to_string() })?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let mut http = config.clone();
    http.alpn_protocols = vec![b"http/1.1".to_vec()];
    // PostgreSQL 17 clients may start TLS directly (`sslnegotiation=direct`), naming this protocol.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(Some(Acceptors { pg: TlsAcceptor::from(Arc::new(config)), http: TlsAcceptor::from(Arc::new(http)) }))
}
