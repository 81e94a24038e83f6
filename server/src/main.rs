//! # cairn (cairn-server)
//!
//! The `cairn` binary: configuration, the PostgreSQL wire-protocol frontend, the REST API,
//! authentication and authorization, and the process roles (every role in one process by
//! default; aggregator, leaf or tailer when clustered). Not yet built: see the server issue;
//! until then the binary only reports that.

fn main() {
    eprintln!("cairn: the server is not built yet; the storage engine is in the cairn-storage crate");
    std::process::exit(2);
}
