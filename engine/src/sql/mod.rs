//! SQL before and around DataFusion's parser: the lexical shape of a query string (strings,
//! comments, statements), the rewrites made to the text before it is parsed (`IS [NOT]
//! UNDEFINED`, `HINT(…)`), the statements Cairn reads itself (workspace and collection DDL,
//! UPDATE and DELETE as selecting queries), and PostgreSQL's names for result columns. Knows
//! nothing of plans, the catalog or the store.

mod ast;
mod cairn_ddl;
mod collection_options;
pub(crate) mod column_names;
mod dml;
mod hint;
mod source_clause;
mod text;
mod undefined;

pub(crate) use ast::{function_call, ident_name, insert_target, object_table_name, TableName};
pub(crate) use cairn_ddl::{parse_cairn_ddl, standard_ddl, Ddl};
pub(crate) use dml::{plan_delete, plan_update, DmlPlan};
pub(crate) use hint::{take_hint, Hint};
pub use text::split_statements;
pub(crate) use undefined::rewrite_undefined;
