-- Apache Superset with PostgreSQL (psycopg2 + SQLAlchemy 2.0 inspector): connect, test connection,
-- and database/schema/table/column browsing.
-- Replay against Cairn: database cairn, user cairn, schema (workspace) commons, table replay_items.
--
-- How the text was obtained:
--   * SQLAlchemy statements were produced by running SQLAlchemy 2.0.58 (the version pinned in
--     compat-tests/python/requirements.txt) with the postgresql+psycopg2 dialect against a
--     recording stub DB-API module that interpolates parameters the way psycopg2 does
--     (strings -> 'text', ints -> 123, client-side %(name)s substitution, "%%" -> "%").
--     So the text is byte-for-byte what SQLAlchemy hands psycopg2, with the parameters psycopg2
--     would inline (Superset's default driver is psycopg2, which sends simple queries).
--     The stub reported server version 16.4, so the PG >= 10/11/12/15 branches are used
--     (json_build_object identity options, attgenerated, indnkeyatts, indnullsnotdistinct).
--   * Connect-time order on the first connection: psycopg2 hstore OID lookup (psycopg/psycopg2
--     lib/extras.py, text verified there), then the dialect's initialize() statements in
--     lib/sqlalchemy/dialects/postgresql/base.py. psycopg2 also sends its own BEGIN/ROLLBACK
--     around these (not included).
--   * get_catalog_names() and get_prequeries() are from apache/superset
--     superset/db_engine_specs/postgres.py. The catalog query is a Python triple-quoted string that
--     starts with a newline and ends with ";\n" plus indentation; the surrounding whitespace is
--     trimmed here.
--   * The pk/index/unique-constraint queries take table OIDs returned by the "table oids" query.
--     Those OIDs are replaced by a scalar subquery so the file does not depend on Cairn's OIDs:
--       (SELECT c2.oid FROM pg_catalog.pg_class c2 JOIN pg_catalog.pg_namespace n2
--        ON n2.oid = c2.relnamespace WHERE n2.nspname = 'commons' AND c2.relname = 'replay_items')
--   * "SELECT CAST('test plain returns' AS VARCHAR(60))" (the unicode-returns probe) no longer
--     exists in SQLAlchemy 2.0, so it is not sent.
-- Not included: get_unique_constraints/get_table_comment/has_table (Superset calls some of them
-- in other screens; same shapes as the pk and columns queries). There are more than 15 statements
-- because get_columns and get_pk_constraint each send several.
-- Checked: every statement below ran without error, one at a time, on a scratch PostgreSQL 15.18
-- (database cairn owned by role cairn; CREATE SCHEMA commons; CREATE TABLE commons.replay_items
-- (id bigint PRIMARY KEY, name text NOT NULL, payload jsonb, created_at timestamptz DEFAULT now());
-- CREATE INDEX ON commons.replay_items (name)) and returned the expected catalog rows.

-- source: psycopg/psycopg2/lib/extras.py
-- query: HstoreAdapter.get_oids() from the psycopg2 dialect's on_connect (use_native_hstore)
SELECT t.oid, typarray
FROM pg_type t JOIN pg_namespace ns
    ON typnamespace = ns.oid
WHERE typname = 'hstore';

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/dialects/postgresql/base.py
-- query: initialize(): _get_server_version_info
select pg_catalog.version();

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/dialects/postgresql/base.py
-- query: initialize(): _get_default_schema_name
select current_schema();

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/dialects/postgresql/base.py
-- query: initialize(): get_default_isolation_level
show transaction isolation level;

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/dialects/postgresql/base.py
-- query: initialize(): _set_backslash_escapes
show standard_conforming_strings;

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/engine/default.py
-- query: do_ping(): Superset 'Test connection' and pool pre-ping
SELECT 1;

-- source: apache/superset/superset/db_engine_specs/postgres.py
-- query: PostgresEngineSpec.get_catalog_names(): databases (catalogs)
SELECT datname FROM pg_database
WHERE datistemplate = false;

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/dialects/postgresql/base.py
-- query: Inspector.get_schema_names()
SELECT pg_catalog.pg_namespace.nspname 
FROM pg_catalog.pg_namespace 
WHERE (pg_catalog.pg_namespace.nspname NOT LIKE 'pg/_' || '%' ESCAPE '/') ORDER BY pg_catalog.pg_namespace.nspname;

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/dialects/postgresql/base.py
-- query: Inspector.get_table_names('commons')
SELECT pg_catalog.pg_class.relname 
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p']) AND pg_catalog.pg_class.relpersistence != 't' AND pg_catalog.pg_namespace.nspname = 'commons';

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/dialects/postgresql/base.py
-- query: Inspector.get_foreign_table_names('commons') (PostgresEngineSpec.get_table_names adds these)
SELECT pg_catalog.pg_class.relname 
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['f']) AND pg_catalog.pg_namespace.nspname = 'commons';

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/dialects/postgresql/base.py
-- query: Inspector.get_view_names('commons')
SELECT pg_catalog.pg_class.relname 
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['v']) AND pg_catalog.pg_class.relpersistence != 't' AND pg_catalog.pg_namespace.nspname = 'commons';

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/dialects/postgresql/base.py
-- query: Inspector.get_columns('replay_items', 'commons'): columns query
SELECT pg_catalog.pg_attribute.attname AS name, pg_catalog.format_type(pg_catalog.pg_attribute.atttypid, pg_catalog.pg_attribute.atttypmod) AS format_type, (SELECT pg_catalog.pg_get_expr(pg_catalog.pg_attrdef.adbin, pg_catalog.pg_attrdef.adrelid) AS pg_get_expr_1 
FROM pg_catalog.pg_attrdef 
WHERE pg_catalog.pg_attrdef.adrelid = pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attrdef.adnum = pg_catalog.pg_attribute.attnum AND pg_catalog.pg_attribute.atthasdef) AS "default", pg_catalog.pg_attribute.attnotnull AS not_null, pg_catalog.pg_class.relname AS table_name, pg_catalog.pg_description.description AS comment, pg_catalog.pg_attribute.attgenerated AS generated, (SELECT json_build_object('always', pg_catalog.pg_attribute.attidentity = 'a', 'start', pg_catalog.pg_sequence.seqstart, 'increment', pg_catalog.pg_sequence.seqincrement, 'minvalue', pg_catalog.pg_sequence.seqmin, 'maxvalue', pg_catalog.pg_sequence.seqmax, 'cache', pg_catalog.pg_sequence.seqcache, 'cycle', pg_catalog.pg_sequence.seqcycle) AS json_build_object_1 
FROM pg_catalog.pg_sequence 
WHERE pg_catalog.pg_attribute.attidentity != '' AND pg_catalog.pg_sequence.seqrelid = CAST(CAST(pg_catalog.pg_get_serial_sequence(CAST(CAST(pg_catalog.pg_attribute.attrelid AS REGCLASS) AS TEXT), pg_catalog.pg_attribute.attname) AS REGCLASS) AS OID)) AS identity_options, CASE WHEN (pg_catalog.pg_attribute.attcollation != 0 AND (SELECT pg_catalog.pg_type.typcollation 
FROM pg_catalog.pg_type 
WHERE pg_catalog.pg_type.oid = pg_catalog.pg_attribute.atttypid) != pg_catalog.pg_attribute.attcollation) THEN (SELECT pg_catalog.pg_collation.collname 
FROM pg_catalog.pg_collation 
WHERE pg_catalog.pg_collation.oid = pg_catalog.pg_attribute.attcollation) ELSE NULL END AS collation 
FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_attribute ON pg_catalog.pg_class.oid = pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attribute.attnum > 0 AND NOT pg_catalog.pg_attribute.attisdropped LEFT OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_description.objsubid = pg_catalog.pg_attribute.attnum JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_namespace.nspname = 'commons' AND pg_catalog.pg_class.relname IN ('replay_items') ORDER BY pg_catalog.pg_class.relname, pg_catalog.pg_attribute.attnum;

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/dialects/postgresql/base.py
-- query: Inspector.get_columns(): domains (_load_domains, schema '*')
SELECT pg_catalog.pg_type.typname AS name, pg_catalog.format_type(pg_catalog.pg_type.typbasetype, pg_catalog.pg_type.typtypmod) AS attype, NOT pg_catalog.pg_type.typnotnull AS nullable, pg_catalog.pg_type.typdefault AS "default", pg_catalog.pg_type_is_visible(pg_catalog.pg_type.oid) AS visible, pg_catalog.pg_namespace.nspname AS schema, domain_constraints.condefs, domain_constraints.connames, pg_catalog.pg_collation.collname 
FROM pg_catalog.pg_type JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_type.typnamespace LEFT OUTER JOIN pg_catalog.pg_collation ON pg_catalog.pg_type.typcollation = pg_catalog.pg_collation.oid LEFT OUTER JOIN (SELECT pg_catalog.pg_constraint.contypid AS contypid, array_agg(pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, true)) AS condefs, array_agg(CAST(pg_catalog.pg_constraint.conname AS TEXT)) AS connames 
FROM pg_catalog.pg_constraint 
WHERE pg_catalog.pg_constraint.contypid != 0 GROUP BY pg_catalog.pg_constraint.contypid) AS domain_constraints ON pg_catalog.pg_type.oid = domain_constraints.contypid 
WHERE pg_catalog.pg_type.typtype = 'd' ORDER BY pg_catalog.pg_namespace.nspname, pg_catalog.pg_type.typname;

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/dialects/postgresql/base.py
-- query: Inspector.get_columns(): enums (_load_enums, schema '*')
SELECT pg_catalog.pg_type.typname AS name, pg_catalog.pg_type_is_visible(pg_catalog.pg_type.oid) AS visible, pg_catalog.pg_namespace.nspname AS schema, lbl_agg.labels AS labels 
FROM pg_catalog.pg_type JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_type.typnamespace LEFT OUTER JOIN (SELECT pg_catalog.pg_enum.enumtypid AS enumtypid, array_agg(CAST(pg_catalog.pg_enum.enumlabel AS TEXT) ORDER BY pg_catalog.pg_enum.enumsortorder) AS labels 
FROM pg_catalog.pg_enum GROUP BY pg_catalog.pg_enum.enumtypid) AS lbl_agg ON pg_catalog.pg_type.oid = lbl_agg.enumtypid 
WHERE pg_catalog.pg_type.typtype = 'e' ORDER BY pg_catalog.pg_namespace.nspname, pg_catalog.pg_type.typname;

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/dialects/postgresql/base.py
-- query: Inspector.get_pk_constraint(): table oids (_get_table_oids, shared by pk/indexes/unique)
SELECT pg_catalog.pg_class.oid, pg_catalog.pg_class.relname 
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_namespace.nspname = 'commons' AND pg_catalog.pg_class.relname IN ('replay_items');

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/dialects/postgresql/base.py
-- query: Inspector.get_pk_constraint(): primary key (_constraint_query, contype 'p')
SELECT attr.conrelid, array_agg(CAST(attr.attname AS TEXT) ORDER BY attr.ord) AS cols, attr.conname, min(attr.description) AS description, min(attr.indnkeyatts) AS indnkeyatts, bool_and(attr.indnullsnotdistinct) AS indnullsnotdistinct 
FROM (SELECT con.conrelid AS conrelid, con.conname AS conname, con.description AS description, con.ord AS ord, con.indnkeyatts AS indnkeyatts, con.indnullsnotdistinct AS indnullsnotdistinct, pg_catalog.pg_attribute.attname AS attname 
FROM pg_catalog.pg_attribute JOIN (SELECT pg_catalog.pg_constraint.conrelid AS conrelid, pg_catalog.pg_constraint.conname AS conname, unnest(pg_catalog.pg_index.indkey) AS attnum, generate_subscripts(pg_catalog.pg_index.indkey, 1) AS ord, pg_catalog.pg_index.indnkeyatts AS indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct AS indnullsnotdistinct, pg_catalog.pg_description.description AS description 
FROM pg_catalog.pg_constraint JOIN pg_catalog.pg_index ON pg_catalog.pg_constraint.conindid = pg_catalog.pg_index.indexrelid LEFT OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = CAST('pg_catalog.pg_constraint' AS REGCLASS) 
WHERE pg_catalog.pg_constraint.contype = 'p' AND pg_catalog.pg_constraint.conrelid IN ((SELECT c2.oid FROM pg_catalog.pg_class c2 JOIN pg_catalog.pg_namespace n2 ON n2.oid = c2.relnamespace WHERE n2.nspname = 'commons' AND c2.relname = 'replay_items'))) AS con ON pg_catalog.pg_attribute.attnum = con.attnum AND pg_catalog.pg_attribute.attrelid = con.conrelid 
WHERE con.conrelid IN ((SELECT c2.oid FROM pg_catalog.pg_class c2 JOIN pg_catalog.pg_namespace n2 ON n2.oid = c2.relnamespace WHERE n2.nspname = 'commons' AND c2.relname = 'replay_items'))) AS attr GROUP BY attr.conrelid, attr.conname ORDER BY attr.conrelid, attr.conname;

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/dialects/postgresql/base.py
-- query: Inspector.get_foreign_keys('replay_items', 'commons')
SELECT pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname, CASE WHEN (pg_catalog.pg_constraint.oid IS NOT NULL) THEN pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, true) END AS anon_1, nsp_ref.nspname, pg_catalog.pg_description.description 
FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_class.oid = pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_constraint.contype = 'f' LEFT OUTER JOIN pg_catalog.pg_class AS cls_ref ON cls_ref.oid = pg_catalog.pg_constraint.confrelid LEFT OUTER JOIN pg_catalog.pg_namespace AS nsp_ref ON cls_ref.relnamespace = nsp_ref.oid LEFT OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = CAST('pg_catalog.pg_constraint' AS REGCLASS) JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_namespace.nspname = 'commons' AND pg_catalog.pg_class.relname IN ('replay_items') ORDER BY pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname;

-- source: sqlalchemy/sqlalchemy/lib/sqlalchemy/dialects/postgresql/base.py
-- query: Inspector.get_indexes('replay_items', 'commons') (_index_query)
SELECT pg_catalog.pg_index.indrelid, pg_catalog.pg_class.relname, pg_catalog.pg_index.indisunique, pg_catalog.pg_constraint.conrelid IS NOT NULL AS has_constraint, pg_catalog.pg_index.indoption, pg_catalog.pg_class.reloptions, pg_catalog.pg_am.amname, CASE WHEN (pg_catalog.pg_index.indpred IS NOT NULL) THEN pg_catalog.pg_get_expr(pg_catalog.pg_index.indpred, pg_catalog.pg_index.indrelid) END AS filter_definition, pg_catalog.pg_index.indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct, idx_cols.elements, idx_cols.elements_is_expr, idx_cols.elements_opclass, idx_cols.elements_opdefault 
FROM pg_catalog.pg_index JOIN pg_catalog.pg_class ON pg_catalog.pg_index.indexrelid = pg_catalog.pg_class.oid JOIN pg_catalog.pg_am ON pg_catalog.pg_class.relam = pg_catalog.pg_am.oid LEFT OUTER JOIN (SELECT idx_attr.indexrelid AS indexrelid, min(idx_attr.indrelid) AS min_1, array_agg(idx_attr.element ORDER BY idx_attr.ord) AS elements, array_agg(idx_attr.is_expr ORDER BY idx_attr.ord) AS elements_is_expr, array_agg(idx_attr.opcname ORDER BY idx_attr.ord) AS elements_opclass, array_agg(idx_attr.opcdefault ORDER BY idx_attr.ord) AS elements_opdefault 
FROM (SELECT idx.indexrelid AS indexrelid, idx.indrelid AS indrelid, idx.ord AS ord, CASE WHEN (idx.attnum = 0) THEN pg_catalog.pg_get_indexdef(idx.indexrelid, idx.ord + 1, true) ELSE CAST(pg_catalog.pg_attribute.attname AS TEXT) END AS element, idx.attnum = 0 AS is_expr, pg_catalog.pg_opclass.opcname AS opcname, pg_catalog.pg_opclass.opcdefault AS opcdefault 
FROM (SELECT pg_catalog.pg_index.indexrelid AS indexrelid, pg_catalog.pg_index.indrelid AS indrelid, unnest(pg_catalog.pg_index.indkey) AS attnum, unnest(pg_catalog.pg_index.indclass) AS att_opclass, generate_subscripts(pg_catalog.pg_index.indkey, 1) AS ord 
FROM pg_catalog.pg_index 
WHERE NOT pg_catalog.pg_index.indisprimary AND pg_catalog.pg_index.indrelid IN ((SELECT c2.oid FROM pg_catalog.pg_class c2 JOIN pg_catalog.pg_namespace n2 ON n2.oid = c2.relnamespace WHERE n2.nspname = 'commons' AND c2.relname = 'replay_items'))) AS idx LEFT OUTER JOIN pg_catalog.pg_attribute ON pg_catalog.pg_attribute.attnum = idx.attnum AND pg_catalog.pg_attribute.attrelid = idx.indrelid LEFT OUTER JOIN pg_catalog.pg_opclass ON pg_catalog.pg_opclass.oid = idx.att_opclass 
WHERE idx.indrelid IN ((SELECT c2.oid FROM pg_catalog.pg_class c2 JOIN pg_catalog.pg_namespace n2 ON n2.oid = c2.relnamespace WHERE n2.nspname = 'commons' AND c2.relname = 'replay_items'))) AS idx_attr GROUP BY idx_attr.indexrelid) AS idx_cols ON pg_catalog.pg_index.indexrelid = idx_cols.indexrelid LEFT OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_index.indrelid = pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_index.indexrelid = pg_catalog.pg_constraint.conindid AND pg_catalog.pg_constraint.contype = ANY (ARRAY['p', 'u', 'x']) 
WHERE pg_catalog.pg_index.indrelid IN ((SELECT c2.oid FROM pg_catalog.pg_class c2 JOIN pg_catalog.pg_namespace n2 ON n2.oid = c2.relnamespace WHERE n2.nspname = 'commons' AND c2.relname = 'replay_items')) AND NOT pg_catalog.pg_index.indisprimary ORDER BY pg_catalog.pg_index.indrelid, pg_catalog.pg_class.relname;

-- source: apache/superset/superset/db_engine_specs/postgres.py
-- query: PostgresEngineSpec.get_prequeries(schema='commons'): SQL Lab search path
set search_path = "commons";

