//! Functions Cairn adds to DataFusion: the dynamic-typing functions the planner routes
//! operators on variant values to ([`dynamic`]) with their per-value semantics
//! ([`semantics`]), PostgreSQL's `format()`, and the `json_docs` table function.

pub(crate) mod dynamic;
pub(crate) mod json_docs;
pub(crate) mod pg_format;
pub(crate) mod semantics;

pub(crate) use dynamic::{all, call, kind_of, Kind};
