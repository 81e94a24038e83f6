//! The converged index's building blocks: key layouts, posting lists, column chunks and the
//! per-document entries that feed them.

pub mod column;
pub mod entries;
pub mod keys;
pub mod posting;
