//! Reading collections: the table provider that gives a collection its SQL schema and takes
//! the filters the converged index answers ([`pushdown`]), the cost-based choice of each
//! scan's access path ([`access_path`]), the scan operator over a collection's shards, and
//! the aggregations answered from the index instead of a scan ([`index_answer`]).

pub(crate) mod access_path;
pub(crate) mod collection_scan;
pub(crate) mod collection_table;
pub(crate) mod index_answer;
pub(crate) mod pushdown;

pub(crate) use access_path::QueryHint;
pub(crate) use collection_table::{nested_column_name, CollectionTable};
pub(crate) use index_answer::IndexAggregates;
