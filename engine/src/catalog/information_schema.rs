//! PostgreSQL's `information_schema`, as tools read it (Metabase, Grafana, DBeaver): views
//! over `pg_catalog` with PostgreSQL's column names (`udt_name`, `is_identity`, …), planned
//! when read so that new collections and fields show at once. DataFusion's own
//! `information_schema` has other columns; queries of the system catalog see this one.

use std::fmt;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::common::{DataFusionError, Result as DFResult};
use datafusion::datasource::ViewTable;
use datafusion::execution::session_state::SessionState;

/// The schema name.
pub(crate) const INFORMATION_SCHEMA: &str = "information_schema";

/// A collection or view's columns, PostgreSQL's `data_type` spelled from `pg_type.typname`.
const COLUMNS: &str = "SELECT 'cairn' AS table_catalog, n.nspname AS table_schema, c.relname AS table_name, \
    a.attname AS column_name, CAST(a.attnum AS INT) AS ordinal_position, CAST(NULL AS VARCHAR) AS column_default, \
    CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable, \
    CASE t.typname WHEN 'int8' THEN 'bigint' WHEN 'int4' THEN 'integer' WHEN 'int2' THEN 'smallint' \
      WHEN 'float8' THEN 'double precision' WHEN 'float4' THEN 'real' WHEN 'bool' THEN 'boolean' \
      WHEN 'varchar' THEN 'character varying' WHEN 'bpchar' THEN 'character' \
      WHEN 'timestamptz' THEN 'timestamp with time zone' WHEN 'timestamp' THEN 'timestamp without time zone' \
      WHEN 'time' THEN 'time without time zone' \
      ELSE CASE WHEN substr(t.typname, 1, 1) = '_' THEN 'ARRAY' ELSE t.typname END END AS data_type, \
    CAST(NULL AS INT) AS character_maximum_length, CAST(NULL AS INT) AS character_octet_length, \
    CAST(NULL AS INT) AS numeric_precision, CAST(NULL AS INT) AS numeric_precision_radix, \
    CAST(NULL AS INT) AS numeric_scale, CAST(NULL AS INT) AS datetime_precision, \
    CAST(NULL AS VARCHAR) AS interval_type, CAST(NULL AS INT) AS interval_precision, \
    CAST(NULL AS VARCHAR) AS character_set_catalog, CAST(NULL AS VARCHAR) AS character_set_schema, \
    CAST(NULL AS VARCHAR) AS character_set_name, CAST(NULL AS VARCHAR) AS collation_catalog, \
    CAST(NULL AS VARCHAR) AS collation_schema, CAST(NULL AS VARCHAR) AS collation_name, \
    CAST(NULL AS VARCHAR) AS domain_catalog, CAST(NULL AS VARCHAR) AS domain_schema, CAST(NULL AS VARCHAR) AS domain_name, \
    'cairn' AS udt_catalog, 'pg_catalog' AS udt_schema, t.typname AS udt_name, \
    CAST(NULL AS VARCHAR) AS scope_catalog, CAST(NULL AS VARCHAR) AS scope_schema, CAST(NULL AS VARCHAR) AS scope_name, \
    CAST(NULL AS INT) AS maximum_cardinality, CAST(a.attnum AS VARCHAR) AS dtd_identifier, \
    'NO' AS is_self_referencing, 'NO' AS is_identity, CAST(NULL AS VARCHAR) AS identity_generation, \
    CAST(NULL AS VARCHAR) AS identity_start, CAST(NULL AS VARCHAR) AS identity_increment, \
    CAST(NULL AS VARCHAR) AS identity_maximum, CAST(NULL AS VARCHAR) AS identity_minimum, \
    CAST(NULL AS VARCHAR) AS identity_cycle, 'NEVER' AS is_generated, CAST(NULL AS VARCHAR) AS generation_expression, \
    'YES' AS is_updatable \
    FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON a.attrelid = c.oid \
    JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid JOIN pg_catalog.pg_type t ON a.atttypid = t.oid \
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'm', 'p', 'f')";

const TABLES: &str = "SELECT 'cairn' AS table_catalog, n.nspname AS table_schema, c.relname AS table_name, \
    CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN' ELSE 'BASE TABLE' END AS table_type, \
    CAST(NULL AS VARCHAR) AS self_referencing_column_name, CAST(NULL AS VARCHAR) AS reference_generation, \
    CAST(NULL AS VARCHAR) AS user_defined_type_catalog, CAST(NULL AS VARCHAR) AS user_defined_type_schema, \
    CAST(NULL AS VARCHAR) AS user_defined_type_name, \
    CASE WHEN c.relkind = 'r' THEN 'YES' ELSE 'NO' END AS is_insertable_into, 'NO' AS is_typed, \
    CAST(NULL AS VARCHAR) AS commit_action \
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid \
    WHERE c.relkind IN ('r', 'v', 'p', 'f')";

const SCHEMATA: &str = "SELECT 'cairn' AS catalog_name, nspname AS schema_name, 'cairn' AS schema_owner, \
    CAST(NULL AS VARCHAR) AS default_character_set_catalog, CAST(NULL AS VARCHAR) AS default_character_set_schema, \
    CAST(NULL AS VARCHAR) AS default_character_set_name, CAST(NULL AS VARCHAR) AS sql_path \
    FROM pg_catalog.pg_namespace";

const VIEWS: &str = "SELECT 'cairn' AS table_catalog, n.nspname AS table_schema, c.relname AS table_name, \
    CAST(NULL AS VARCHAR) AS view_definition, 'NONE' AS check_option, 'NO' AS is_updatable, \
    'NO' AS is_insertable_into, 'NO' AS is_trigger_updatable, 'NO' AS is_trigger_deletable, \
    'NO' AS is_trigger_insertable_into \
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid WHERE c.relkind = 'v'";

/// Collections have no declared constraints: the constraint views are empty.
const TABLE_CONSTRAINTS: &str =
    "SELECT CAST(NULL AS VARCHAR) AS constraint_catalog, CAST(NULL AS VARCHAR) AS constraint_schema, \
    CAST(NULL AS VARCHAR) AS constraint_name, CAST(NULL AS VARCHAR) AS table_catalog, CAST(NULL AS VARCHAR) AS table_schema, \
    CAST(NULL AS VARCHAR) AS table_name, CAST(NULL AS VARCHAR) AS constraint_type, CAST(NULL AS VARCHAR) AS is_deferrable, \
    CAST(NULL AS VARCHAR) AS initially_deferred, CAST(NULL AS VARCHAR) AS enforced, CAST(NULL AS VARCHAR) AS nulls_distinct \
    WHERE false";

const KEY_COLUMN_USAGE: &str = "SELECT CAST(NULL AS VARCHAR) AS constraint_catalog, CAST(NULL AS VARCHAR) AS constraint_schema, \
    CAST(NULL AS VARCHAR) AS constraint_name, CAST(NULL AS VARCHAR) AS table_catalog, CAST(NULL AS VARCHAR) AS table_schema, \
    CAST(NULL AS VARCHAR) AS table_name, CAST(NULL AS VARCHAR) AS column_name, CAST(NULL AS INT) AS ordinal_position, \
    CAST(NULL AS INT) AS position_in_unique_constraint WHERE false";

const REFERENTIAL_CONSTRAINTS: &str =
    "SELECT CAST(NULL AS VARCHAR) AS constraint_catalog, CAST(NULL AS VARCHAR) AS constraint_schema, \
    CAST(NULL AS VARCHAR) AS constraint_name, CAST(NULL AS VARCHAR) AS unique_constraint_catalog, \
    CAST(NULL AS VARCHAR) AS unique_constraint_schema, CAST(NULL AS VARCHAR) AS unique_constraint_name, \
    CAST(NULL AS VARCHAR) AS match_option, CAST(NULL AS VARCHAR) AS update_rule, CAST(NULL AS VARCHAR) AS delete_rule \
    WHERE false";

const CONSTRAINT_COLUMN_USAGE: &str = "SELECT CAST(NULL AS VARCHAR) AS table_catalog, CAST(NULL AS VARCHAR) AS table_schema, \
    CAST(NULL AS VARCHAR) AS table_name, CAST(NULL AS VARCHAR) AS column_name, CAST(NULL AS VARCHAR) AS constraint_catalog, \
    CAST(NULL AS VARCHAR) AS constraint_schema, CAST(NULL AS VARCHAR) AS constraint_name WHERE false";

/// The views, by name.
const ALL: &[(&str, &str)] = &[
    ("columns", COLUMNS),
    ("tables", TABLES),
    ("schemata", SCHEMATA),
    ("views", VIEWS),
    ("table_constraints", TABLE_CONSTRAINTS),
    ("key_column_usage", KEY_COLUMN_USAGE),
    ("referential_constraints", REFERENTIAL_CONSTRAINTS),
    ("constraint_column_usage", CONSTRAINT_COLUMN_USAGE),
];

/// The schema: its views are planned, when read, in the state given by [`Self::plan_in`].
#[derive(Default)]
pub(crate) struct InformationSchema {
    state: OnceLock<SessionState>,
}

impl fmt::Debug for InformationSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InformationSchema")
    }
}

impl InformationSchema {
    /// Plans the views in `state` (one that reads `pg_catalog`); set once, when the engine
    /// is built.
    pub(crate) fn plan_in(&self, state: SessionState) {
        // A second call would come from a second engine over the same schema: keep the first.
        let _first = self.state.set(state);
    }
}

#[async_trait]
impl SchemaProvider for InformationSchema {
    fn table_names(&self) -> Vec<String> {
        ALL.iter().map(|(n, _)| (*n).to_owned()).collect()
    }

    async fn table(&self, name: &str) -> DFResult<Option<Arc<dyn TableProvider>>> {
        let Some((_, sql)) = ALL.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) else { return Ok(None) };
        let state = self
            .state
            .get()
            .ok_or_else(|| DataFusionError::Internal("information_schema read before the engine was built".into()))?;
        let plan = state.create_logical_plan(sql).await?;
        Ok(Some(Arc::new(ViewTable::new(plan, Some((*sql).to_owned())))))
    }

    fn table_exist(&self, name: &str) -> bool {
        ALL.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}
