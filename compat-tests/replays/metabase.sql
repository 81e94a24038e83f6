-- Metabase PostgreSQL driver: connect and sync (describe-database / describe-fields / describe-fks).
-- Replay against Cairn: database cairn, user cairn, schema (workspace) commons, table replay_items.
--
-- How the text was obtained:
--   * Plain-string SQL (SELECT 1, show timezone;, the table_privileges CTE, the enum query,
--     SET SESSION TIMEZONE) is copied from metabase/metabase src/metabase/driver/postgres.clj and
--     src/metabase/driver/sql_jdbc/connection.clj; the CTE is the Clojure vector joined with "\n".
--   * get-tables-sql, describe-fields-sql and describe-fks-sql are HoneySQL 2 maps compiled with
--     :dialect :ansi (quoted identifiers). The text below is the wire form captured from Metabase
--     v0.62.1.5 syncing PostgreSQL 16 (a public capture file in the code index; its repository is
--     not named by the index). It matches the HoneySQL structure of postgres.clj; the revision of
--     postgres.clj in the index is slightly older: it selects "stat"."n_live_tup" without
--     NULLIF(..., 0) and its describe-fields lacks the "database-default", "database-is-generated"
--     and "database-is-nullable" columns.
--   * Bind parameters ($n) are inlined: 0, 0, '^pg_', 'information_schema', 'commons' (get-tables);
--     'ALWAYS', 'commons', 'commons' (describe-fields); 'commons' (describe-fks).
--   * The getSchemas text is what pgjdbc 42.7 sends (same capture, and identical copies in other
--     projects' tests); the pgjdbc revision in the index is older ("NULL AS TABLE_CATALOG",
--     unquoted aliases).
--   * SET SESSION CHARACTERISTICS ... is produced by pgjdbc when Metabase calls
--     Connection.setTransactionIsolation(READ_UNCOMMITTED) on every checkout.
-- Not included (driver-generated, exact text not verified in source): pgjdbc's
-- "SHOW TRANSACTION ISOLATION LEVEL", "select current_catalog", getColumns()/getPrimaryKeys()
-- catalog queries, and the per-table fingerprint SELECTs (they depend on the table's columns).
-- Index sync (describe-indexes-sql) is disabled in the driver, so it is not sent.
-- Checked: every statement below ran without error, one at a time, on a scratch PostgreSQL 15.18
-- (database cairn owned by role cairn; CREATE SCHEMA commons; CREATE TABLE commons.replay_items
-- (id bigint PRIMARY KEY, name text NOT NULL, payload jsonb, created_at timestamptz DEFAULT now());
-- CREATE INDEX ON commons.replay_items (name)) and returned the expected catalog rows.

-- source: metabase/metabase/src/metabase/driver/sql_jdbc/connection.clj
-- query: connection test (can-connect-with-spec?)
SELECT 1;

-- source: metabase/metabase/src/metabase/driver/sql_jdbc/execute.clj
-- query: set-best-transaction-level! -> pgjdbc setTransactionIsolation(READ_UNCOMMITTED)
SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED;

-- source: metabase/metabase/src/metabase/driver/postgres.clj
-- query: db-default-timezone (sent with the trailing semicolon)
show timezone;

-- source: metabase/metabase/src/metabase/driver/postgres.clj
-- query: set-timezone-sql, only when a report timezone is configured (value 'UTC')
SET SESSION TIMEZONE TO 'UTC';

-- source: pgjdbc/pgjdbc/pgjdbc/src/main/java/org/postgresql/jdbc/PgDatabaseMetaData.java
-- query: DatabaseMetaData.getSchemas() used by sync's syncable-schemas (pgjdbc 42.7 text)
SELECT nspname AS "TABLE_SCHEM", current_database() AS "TABLE_CATALOG" FROM pg_catalog.pg_namespace  WHERE nspname <> 'pg_toast' AND (nspname !~ '^pg_temp_'  OR nspname = (pg_catalog.current_schemas(true))[1]) AND (nspname !~ '^pg_toast_temp_'  OR nspname = replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_'))  ORDER BY "TABLE_SCHEM";

-- source: metabase/metabase/src/metabase/driver/postgres.clj
-- query: current-user-table-privileges (table_privileges CTE)
with table_privileges as (
 select
   NULL as role,
   t.schemaname as schema,
   t.objectname as table,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'update') as update,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'select') as select,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'insert') as insert,
   pg_catalog.has_table_privilege(     current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'delete') as delete
 from (
   select schemaname, tablename as objectname from pg_catalog.pg_tables
   union
   select schemaname, viewname as objectname from pg_catalog.pg_views
   union
   select schemaname, matviewname as objectname from pg_catalog.pg_matviews
 ) t
 where t.schemaname !~ '^pg_'
   and t.schemaname <> 'information_schema'
   and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')
)
select t.*
from table_privileges t;

-- source: metabase/metabase/src/metabase/driver/postgres.clj
-- query: describe-database: get-tables-sql for schema commons
SELECT "n"."nspname" AS "schema", "c"."relname" AS "name", CASE "c"."relkind" WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS "type", "d"."description" AS "description", NULLIF("stat"."n_live_tup", 0) AS "estimated_row_count" FROM "pg_catalog"."pg_class" AS "c" INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "c"."relnamespace" = "n"."oid" LEFT JOIN "pg_catalog"."pg_description" AS "d" ON ("c"."oid" = "d"."objoid") AND ("d"."objsubid" = 0) AND ("d"."classoid" = 'pg_class'::regclass) LEFT JOIN "pg_stat_user_tables" AS "stat" ON ("n"."nspname" = "stat"."schemaname") AND ("c"."relname" = "stat"."relname") WHERE ("c"."relnamespace" = "n"."oid") AND ("n"."nspname" !~ '^pg_') AND ("n"."nspname" <> 'information_schema') AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND ("n"."nspname" IN ('commons')) ORDER BY "type" ASC, "schema" ASC, "name" ASC;

-- source: metabase/metabase/src/metabase/driver/postgres.clj
-- query: enum-types (describe-fields pre-process)
SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e);

-- source: metabase/metabase/src/metabase/driver/postgres.clj
-- query: describe-fields-sql for schema commons
SELECT "c"."column_name" AS "name", CASE WHEN "c"."udt_schema" IN ('public', 'pg_catalog') THEN FORMAT('%s', "c"."udt_name") ELSE FORMAT('"%s"."%s"', "c"."udt_schema", "c"."udt_name") END AS "database-type", "c"."ordinal_position" - 1 AS "database-position", "c"."table_schema" AS "table-schema", "c"."table_name" AS "table-name", "pk"."column_name" IS NOT NULL AS "pk?", COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', CAST("c"."table_schema" AS TEXT), CAST("c"."table_name" AS TEXT)) AS REGCLASS) AS OID), "c"."ordinal_position") AS "field-comment", (("column_default" IS NULL) OR (LOWER("column_default") = 'null')) AND ("is_nullable" = 'NO') AND NOT ((("column_default" IS NOT NULL) AND ("column_default" LIKE '%nextval(%')) OR ("is_identity" <> 'NO')) AS "database-required", "column_default" AS "database-default", (("column_default" IS NOT NULL) AND ("column_default" LIKE '%nextval(%')) OR ("is_identity" <> 'NO') AS "database-is-auto-increment", "is_generated" = 'ALWAYS' AS "database-is-generated", "is_nullable" = 'YES' AS "database-is-nullable" FROM "information_schema"."columns" AS "c" LEFT JOIN (SELECT "tc"."table_schema", "tc"."table_name", "kc"."column_name" FROM "information_schema"."table_constraints" AS "tc" INNER JOIN "information_schema"."key_column_usage" AS "kc" ON ("tc"."constraint_name" = "kc"."constraint_name") AND ("tc"."table_schema" = "kc"."table_schema") AND ("tc"."table_name" = "kc"."table_name") WHERE "tc"."constraint_type" = 'PRIMARY KEY') AS "pk" ON ("c"."table_schema" = "pk"."table_schema") AND ("c"."table_name" = "pk"."table_name") AND ("c"."column_name" = "pk"."column_name") WHERE c.table_schema !~ '^information_schema|catalog_history|pg_' AND ("c"."table_schema" IN ('commons')) UNION ALL SELECT "pa"."attname" AS "name", CASE WHEN "ptn"."nspname" IN ('public', 'pg_catalog') THEN FORMAT('%s', "pt"."typname") ELSE FORMAT('"%s"."%s"', "ptn"."nspname", "pt"."typname") END AS "database-type", "pa"."attnum" - 1 AS "database-position", "pn"."nspname" AS "table-schema", "pc"."relname" AS "table-name", FALSE AS "pk?", NULL AS "field-comment", FALSE AS "database-required", NULL AS "database-default", FALSE AS "database-is-auto-increment", FALSE AS "database-is-generated", FALSE AS "database-is-nullable" FROM "pg_catalog"."pg_class" AS "pc" INNER JOIN "pg_catalog"."pg_namespace" AS "pn" ON "pn"."oid" = "pc"."relnamespace" INNER JOIN "pg_catalog"."pg_attribute" AS "pa" ON "pa"."attrelid" = "pc"."oid" INNER JOIN "pg_catalog"."pg_type" AS "pt" ON "pt"."oid" = "pa"."atttypid" INNER JOIN "pg_catalog"."pg_namespace" AS "ptn" ON "ptn"."oid" = "pt"."typnamespace" WHERE ("pc"."relkind" = 'm') AND ("pa"."attnum" >= 1) AND ("pn"."nspname" IN ('commons')) ORDER BY "table-schema" ASC, "table-name" ASC, "database-position" ASC;

-- source: metabase/metabase/src/metabase/driver/postgres.clj
-- query: describe-fks-sql for schema commons
SELECT "fk_ns"."nspname" AS "fk-table-schema", "fk_table"."relname" AS "fk-table-name", "fk_column"."attname" AS "fk-column-name", "pk_ns"."nspname" AS "pk-table-schema", "pk_table"."relname" AS "pk-table-name", "pk_column"."attname" AS "pk-column-name" FROM "pg_constraint" AS "c" INNER JOIN "pg_class" AS "fk_table" ON "c"."conrelid" = "fk_table"."oid" INNER JOIN "pg_namespace" AS "fk_ns" ON "c"."connamespace" = "fk_ns"."oid" INNER JOIN "pg_attribute" AS "fk_column" ON "c"."conrelid" = "fk_column"."attrelid" INNER JOIN "pg_class" AS "pk_table" ON "c"."confrelid" = "pk_table"."oid" INNER JOIN "pg_namespace" AS "pk_ns" ON "pk_table"."relnamespace" = "pk_ns"."oid" INNER JOIN "pg_attribute" AS "pk_column" ON "c"."confrelid" = "pk_column"."attrelid" WHERE fk_ns.nspname !~ '^information_schema|catalog_history|pg_' AND ("c"."contype" = 'f'::char) AND ("fk_column"."attnum" = ANY(c.conkey)) AND ("pk_column"."attnum" = ANY(c.confkey)) AND ("fk_ns"."nspname" IN ('commons')) ORDER BY "fk-table-schema" ASC, "fk-table-name" ASC;

