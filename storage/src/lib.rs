//! # cairn-storage
//!
//! Cairn's storage engine: schemaless JSON documents kept in RocksDB as a *converged index*.
//! Every field of every document is stored in a row index (a document's fragments together,
//! for point reads and single-field patches), a column index (chunks of one field's values,
//! for scans at memory speed), a search index (value → compressed posting list, arrays'
//! elements individually) and a range index (numbers and times), plus exact smart-schema
//! statistics. Values carry their own types ([`Value`]); documents live in collections,
//! collections in workspaces ([`Store`]); a collection's documents are spread over shards,
//! each its own RocksDB instance. This crate knows nothing of SQL: it offers the engine
//! snapshot-consistent Arrow scans, index lookups, point reads and statistics.

pub mod collection;
pub mod document;
pub mod error;
pub mod index;
pub mod patch;
pub mod path;
pub mod record;
pub mod roles;
pub mod shard;
pub mod store;
pub mod synth;
pub mod value;

pub use collection::{Collection, CollectionConfig, CollectionStats, FamilySize, WriteOp};
pub use error::{ObjectKind, Result, StorageError};
pub use patch::PatchOp;
pub use path::FieldPath;
pub use roles::{Access, AccessState, ApiKey, Role, ScramSecret, SUPERUSER};
pub use shard::{
    arrow_type, Applied, ColumnOutput, ColumnSpec, IndexPredicate, ScanOptions, ShardOp, ShardSnapshot, VerifyReport, WriteKind,
};
pub use store::{Store, StoreOptions, DEFAULT_WORKSPACE};
pub use value::{Object, Value, ValueType};
