-- Grafana PostgreSQL data source (grafana-postgresql-datasource): config-page feature detection and
-- query-editor browsing (schemas, tables, columns).
-- Replay against Cairn: database cairn, user cairn, schema (workspace) commons, table replay_items.
--
-- How the text was obtained:
--   * The frontend builds these strings in postgresMetaQuery.ts (revision 12f912ab in the index,
--     the one with showSchemas() and showTables(schema)); they reach Postgres unchanged through
--     /api/ds/query as rawSql (no macros in them). Template literals are expanded exactly,
--     including the leading newline and trailing spaces of buildSchemaConstraint().
--     An older revision (eb607c51) has no showSchemas() and a showTables() without a schema
--     argument; a newer one (seen only through its test file) adds showDatabases() on pg_database
--     and compares "quote_ident(table_schema) = quote_ident('<schema>')" - not included because
--     its exact text was not available.
--   * schema.go holds the backend schema API (pgx); Go raw strings keep their tab indentation.
--     $1/$2 are inlined.
--   * "Save & test" runs CheckHealth -> pool Ping; pgx sends the comment-only simple query
--     "-- ping" (lib/pq in the older sqleng path sends ";"). Both get EmptyQueryResponse on
--     PostgreSQL. Not included as a statement here because they contain no SQL statement.
-- Checked: every statement below ran without error, one at a time, on a scratch PostgreSQL 15.18
-- (database cairn owned by role cairn; CREATE SCHEMA commons; CREATE TABLE commons.replay_items
-- (id bigint PRIMARY KEY, name text NOT NULL, payload jsonb, created_at timestamptz DEFAULT now());
-- CREATE INDEX ON commons.replay_items (name)) and returned the expected catalog rows.

-- source: grafana/grafana/public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts
-- query: getVersion(): version auto-detect in the data source config page
SELECT current_setting('server_version_num')::int/100 as version;

-- source: grafana/grafana/public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts
-- query: getTimescaleDBVersion(): TimescaleDB detection (version >= 906)
SELECT extversion FROM pg_extension WHERE extname = 'timescaledb';

-- source: grafana/grafana/public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts
-- query: showSchemas(): schema (dataset) picker
SELECT schema_name AS "name"
    FROM information_schema.schemata
    WHERE schema_name NOT IN ('information_schema',
                              'pg_catalog',
                              'pg_toast',
                              '_timescaledb_cache',
                              '_timescaledb_catalog',
                              '_timescaledb_internal',
                              '_timescaledb_config',
                              'timescaledb_information',
                              'timescaledb_experimental')
    ORDER BY schema_name;

-- source: grafana/grafana/public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts
-- query: showTables(): table picker / completion without a schema
SELECT
    CASE WHEN 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')
    ORDER BY CASE WHEN 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          ) THEN 0 ELSE 1 END, 1;

-- source: grafana/grafana/public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts
-- query: showTables('commons'): table picker for schema commons
SELECT quote_ident(table_name) AS "table"
      FROM information_schema.tables
      WHERE quote_ident(table_schema) = 'commons'
      ORDER BY 1;

-- source: grafana/grafana/public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts
-- query: getSchema('replay_items'): column list, unqualified table
SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('replay_items'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('replay_items'))[1]
          AND quote_ident(table_name) = (parse_ident('replay_items'))[2]
        ELSE quote_ident(table_name) = 'replay_items'
          AND 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      END;

-- source: grafana/grafana/public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts
-- query: getSchema('commons.replay_items'): column list, schema-qualified table
SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('commons.replay_items'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('commons.replay_items'))[1]
          AND quote_ident(table_name) = (parse_ident('commons.replay_items'))[2]
        ELSE quote_ident(table_name) = 'commons.replay_items'
          AND 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      END;

-- source: grafana/grafana/pkg/tsdb/grafana-postgresql-datasource/schema.go
-- query: querySchemas(): backend schema API
SELECT schema_name FROM information_schema.schemata
		 WHERE schema_name NOT LIKE 'pg_%' AND schema_name != 'information_schema'
		 ORDER BY schema_name;

-- source: grafana/grafana/pkg/tsdb/grafana-postgresql-datasource/schema.go
-- query: queryTables(): backend schema API, $1 = 'commons'
SELECT table_name FROM information_schema.tables
		 WHERE table_schema = 'commons' AND table_type IN ('BASE TABLE', 'VIEW')
		 ORDER BY table_name;

-- source: grafana/grafana/pkg/tsdb/grafana-postgresql-datasource/schema.go
-- query: queryColumns(): backend schema API, $1 = 'commons', $2 = 'replay_items'
SELECT column_name, data_type, udt_name, numeric_precision, numeric_scale
		 FROM information_schema.columns
		 WHERE table_schema = 'commons' AND table_name = 'replay_items'
		 ORDER BY ordinal_position;

