//! Planning SQL over dynamically typed documents: the hooks DataFusion calls while it turns a
//! statement into a logical plan (expressions over variants, JSON types, `UNNEST … WITH
//! ORDINALITY`), the logical rewrites Cairn runs before DataFusion's optimizer (lateral UNNEST,
//! nested paths read as columns), and the cache of optimized plans for repeated queries.

pub(crate) mod dynamic_rewrite;
pub(crate) mod expr_planner;
pub(crate) mod lateral_unnest;
pub(crate) mod nested_columns;
pub(crate) mod ordinality;
pub(crate) mod plan_cache;
