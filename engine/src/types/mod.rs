//! How values travel through SQL: the variant (a value of any type, keeping its own, as Arrow
//! bytes in Cairn's order-preserving encoding), a collection's SQL schema derived from its
//! smart schema, and the conversions between storage values and Arrow on the way in and out.

pub(crate) mod collection_schema;
pub(crate) mod convert;
pub(crate) mod variant;
