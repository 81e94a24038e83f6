//! # cairn-engine
//!
//! Cairn's SQL engine on Apache DataFusion: the catalog (workspaces as schemas, collections as
//! tables, schemas derived from each collection's smart schema), the table provider and scan
//! operators that pick an access path per query from the converged index (search/range index
//! for selective predicates, column index for wide scans), the dynamic-typing functions
//! (`TYPEOF`, `IS UNDEFINED`, strict comparisons, casts), DML mapped onto the storage engine's
//! per-document writes, ingest transformations and rollups, and distributed planning.
//! Not yet built: see the engine issue.
