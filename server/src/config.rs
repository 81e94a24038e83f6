//! `cairn serve`'s settings. Each comes from its command-line flag, else its environment
//! variable, else the TOML file named by `--config` (keys as the flags, with `_` for `-`),
//! else its default. A config file that cannot be read or names an unknown key stops the start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Options of `cairn serve` (each also read from the environment variable shown), and the
/// settings a config file may hold (the same, but `config`).
#[derive(clap::Args, Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServeArgs {
    /// TOML file with any of the settings below; flags and environment variables win over it.
    #[arg(long, env = "CAIRN_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Directory holding the store, created when missing [default: ./cairn-data].
    #[arg(long, env = "CAIRN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address the PostgreSQL wire protocol listens on [default: 127.0.0.1:5433].
    #[arg(long, env = "CAIRN_PG_LISTEN")]
    pub pg_listen: Option<SocketAddr>,
    /// Address the REST API listens on [default: 127.0.0.1:8080].
    #[arg(long, env = "CAIRN_HTTP_LISTEN")]
    pub http_listen: Option<SocketAddr>,
    /// Largest REST request body, in MiB; a larger one gets 413 [default: 64].
    #[arg(long, env = "CAIRN_HTTP_MAX_BODY_MIB")]
    pub http_max_body_mib: Option<usize>,
    /// REST requests served at once; more get 429 [default: 256].
    #[arg(long, env = "CAIRN_HTTP_MAX_CONCURRENT")]
    pub http_max_concurrent: Option<usize>,
    /// Block cache shared by every collection, in MiB [default: 512].
    #[arg(long, env = "CAIRN_CACHE_MIB")]
    pub cache_mib: Option<usize>,
    /// Memory all running queries may hold for sorts, joins and aggregations, in MiB; a query
    /// needing more fails with SQLSTATE 53200 [default: 4096].
    #[arg(long, env = "CAIRN_QUERY_MEMORY_MIB")]
    pub query_memory_mib: Option<usize>,
    /// PostgreSQL connections open at once; more are refused with SQLSTATE 53300 [default: 100].
    #[arg(long, env = "CAIRN_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Certificate chain (PEM) for TLS on the PostgreSQL port and HTTPS on the REST API; needs
    /// --tls-key.
    #[arg(long, env = "CAIRN_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of the TLS certificate.
    #[arg(long, env = "CAIRN_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Refuse PostgreSQL connections that do not use TLS (needs --tls-cert and --tls-key).
    #[arg(long, env = "CAIRN_TLS_REQUIRED")]
    pub tls_required: Option<bool>,
}

/// The settings `cairn serve` runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    pub data_dir: PathBuf,
    pub pg_listen: SocketAddr,
    pub http_listen: SocketAddr,
    pub http_max_body_mib: usize,
    pub http_max_concurrent: usize,
    pub cache_mib: usize,
    pub query_memory_mib: usize,
    pub max_connections: usize,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_required: bool,
}

/// Why the config file could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    #[error("reading the config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("in the config file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl ServeArgs {
    /// The settings: flags and environment first, then the config file, then defaults.
    pub(crate) fn settings(self) -> Result<Settings, ConfigError> {
        let file = match &self.config {
            Some(path) => read(path)?,
            None => ServeArgs::default(),
        };
        Ok(Settings {
            data_dir: self.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("./cairn-data")),
            pg_listen: self.pg_listen.or(file.pg_listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 5433))),
            http_listen: self.http_listen.or(file.http_listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            http_max_body_mib: self.http_max_body_mib.or(file.http_max_body_mib).unwrap_or(64),
            http_max_concurrent: self.http_max_concurrent.or(file.http_max_concurrent).unwrap_or(256),
            cache_mib: self.cache_mib.or(file.cache_mib).unwrap_or(512),
            query_memory_mib: self.query_memory_mib.or(file.query_memory_mib).unwrap_or(4096),
            max_connections: self.max_connections.or(file.max_connections).unwrap_or(100),
            tls_cert: self.tls_cert.or(file.tls_cert),
            tls_key: self.tls_key.or(file.tls_key),
            tls_required: self.tls_required.or(file.tls_required).unwrap_or(false),
        })
    }
}

fn read(path: &Path) -> Result<ServeArgs, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
    toml::from_str(&text).map_err(|e| ConfigError::Invalid { path: path.to_owned(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_which_wins_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cairn.toml");
        std::fs::write(&path, "data_dir = \"/srv/cairn\"\ncache_mib = 64\npg_listen = \"127.0.0.1:6543\"\n").unwrap();
        let args = ServeArgs { config: Some(path.clone()), cache_mib: Some(32), ..Default::default() };
        let s = args.settings().unwrap();
        assert_eq!(
            (s.data_dir, s.cache_mib, s.pg_listen.port(), s.max_connections),
            (PathBuf::from("/srv/cairn"), 32, 6543, 100)
        );
        std::fs::write(&path, "cache_mb = 1\n").unwrap();
        let err = ServeArgs { config: Some(path), ..Default::default() }.settings().unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        let missing = ServeArgs { config: Some(dir.path().join("none.toml")), ..Default::default() }.settings().unwrap_err();
        assert!(matches!(missing, ConfigError::Read { .. }));
    }
}
