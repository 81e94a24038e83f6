//! # cairn-engine
//!
//! Cairn's SQL engine on Apache DataFusion: the catalog (workspaces as schemas, collections as
//! tables, schemas derived from each collection's smart schema), the table provider and scan
//! operators that read the converged index, the statements DataFusion does not know
//! (workspace and collection DDL, schemaless `INSERT`), and the dynamic-typing functions.
//!
//! Values keep their own types ([`variant`]); SQL over them follows Cairn's semantics
//! ([`planner`], [`rewrite`], [`functions`]); nested paths are read as columns of their own
//! ([`nested`]); filters the indexes answer are pushed into scans that choose their access
//! path by cost ([`pushdown`], [`access`], [`scan_exec`]).

pub mod access;
pub mod catalog;
pub mod column_names;
pub mod convert;
pub mod describe;
pub mod dml;
pub mod engine;
pub mod error;
pub mod functions;
pub mod index_answer;
pub mod index_count;
pub mod index_extremes;
pub mod index_source;
pub mod information_schema;
pub mod json_docs;
pub mod lateral;
pub mod nested;
pub mod ordinality;
pub mod pg_catalog;
pub mod plan_cache;
pub mod planner;
pub mod pushdown;
pub mod rewrite;
pub mod scan_exec;
pub mod schema;
pub mod session;
pub mod sql_text;
pub mod statements;
pub mod table;
pub mod undefined;
pub mod variant;

pub use engine::{Engine, Output, Privilege, CATALOG};
pub use error::{EngineError, Result};
pub use session::{Description, Session};
