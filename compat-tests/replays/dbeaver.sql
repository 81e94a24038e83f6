-- DBeaver PostgreSQL plugin (org.jkiss.dbeaver.ext.postgresql): connect and navigator browse.
-- Replay against Cairn: database cairn, user cairn, schema (workspace) commons, table replay_items.
--
-- How the text was obtained:
--   * Statements are rebuilt from the Java string concatenations in dbeaver/dbeaver (line breaks
--     are the "\n" inside the Java literals; trailing spaces are kept). Connect-time statements
--     come from PostgreDataSource.java / PostgreExecutionContext.java (2021 revision in the index)
--     and PostgreDatabase.java (2024 revision): SELECT version(), pg_settings lookup,
--     pg_database lookup, current_schema()/session_user, SHOW search_path, schema cache,
--     data type cache (with PostgreDataTypeCache.getBaseTypeNameClause), role cache, enum cache.
--   * The table and column queries changed after the PostgreSchema.java revisions held in the
--     index (those are 2017 and lack partition_expr/partition_key, the 'I' relkind and the
--     pg_depend join). The text used here is what current DBeaver sends (24.x/25.x): it appears
--     verbatim in pg_stat_activity captures labelled "DBeaver 24.2.3 - Metadata" and
--     "DBeaver 25.3.3 - Metadata" and in several PostgreSQL-compatible servers' test suites.
--   * JDBC "?" parameters are inlined. OID parameters are replaced by scalar subqueries so the
--     file does not depend on Cairn's OIDs:
--       schema oid -> (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'commons')
--       table oid  -> (SELECT c2.oid FROM pg_catalog.pg_class c2 JOIN pg_catalog.pg_namespace n2
--                      ON n2.oid = c2.relnamespace WHERE n2.nspname = 'commons'
--                      AND c2.relname = 'replay_items')
-- Also sent but not included: pgjdbc's own connect-time statements (SET application_name via
-- setClientInfo, getSQLKeywords' "select string_agg(word, ',') from pg_catalog.pg_get_keywords()
-- where word <> ALL ('{...}'::text[])" with a long keyword list), "SET search_path = ..." when a
-- default schema is chosen, and the constraint/index caches (their current text was not verified).
-- Checked: every statement below ran without error, one at a time, on a scratch PostgreSQL 15.18
-- (database cairn owned by role cairn; CREATE SCHEMA commons; CREATE TABLE commons.replay_items
-- (id bigint PRIMARY KEY, name text NOT NULL, payload jsonb, created_at timestamptz DEFAULT now());
-- CREATE INDEX ON commons.replay_items (name)) and returned the expected catalog rows.

-- source: dbeaver/dbeaver/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDataSource.java
-- query: initialize(): server version
SELECT version();

-- source: dbeaver/dbeaver/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDataSource.java
-- query: SettingCache lookup preloaded at connect (name = standard_conforming_strings)
select * from pg_catalog.pg_settings where name='standard_conforming_strings';

-- source: dbeaver/dbeaver/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java
-- query: readDatabaseInfo(): the connected database (datname = cairn)
SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname='cairn';

-- source: dbeaver/dbeaver/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDataSource.java
-- query: prepareReadDatabaseListStatement(): database list when 'Show all databases' is on
SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE 1 = 1 AND datallowconn AND NOT datistemplate 
ORDER BY db.datname;

-- source: dbeaver/dbeaver/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreExecutionContext.java
-- query: refreshDefaults(): active schema and user
SELECT current_schema(),session_user;

-- source: dbeaver/dbeaver/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreExecutionContext.java
-- query: refreshDefaults(): search path
SHOW search_path;

-- source: dbeaver/dbeaver/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java
-- query: SchemaCache: schema (workspace) list
SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass
 ORDER BY nspname;

-- source: dbeaver/dbeaver/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java
-- query: cacheDataTypes(): data type cache (PG >= 10, readAllTypes off)
SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description
FROM pg_catalog.pg_type t
LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem 
LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid
LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid
WHERE t.typname IS NOT NULL
AND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C');

-- source: dbeaver/dbeaver/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/PostgreUtils.java
-- query: isMetaObjectExists(pg_enum, *): enum table probe (getQueryForSystemColumnChecking)
SELECT * FROM pg_catalog.pg_enum WHERE 1<>1 LIMIT 1;

-- source: dbeaver/dbeaver/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java
-- query: EnumValueCache: enum labels
SELECT * FROM pg_catalog.pg_enum;

-- source: dbeaver/dbeaver/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java
-- query: RoleCache: roles (owner names in the navigator)
SELECT a.oid,a.*,pd.description FROM pg_catalog.pg_roles a 
left join pg_catalog.pg_shdescription pd on a.oid = pd.objoid
ORDER BY a.rolname;

-- source: dbeaver/dbeaver/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java
-- query: TableCache: tables of schema commons (relnamespace = schema oid)
SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as partition_key 
FROM pg_catalog.pg_class c
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass
WHERE c.relnamespace=(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'commons') AND c.relkind not in ('i','I','c');

-- source: dbeaver/dbeaver/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java
-- query: TableCache children: columns of commons.replay_items (c.oid = table oid)
SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid
FROM pg_catalog.pg_attribute a
INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)
LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)
LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)
LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid
WHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.oid=(SELECT c2.oid FROM pg_catalog.pg_class c2 JOIN pg_catalog.pg_namespace n2 ON n2.oid = c2.relnamespace WHERE n2.nspname = 'commons' AND c2.relname = 'replay_items')
ORDER BY a.attnum;

