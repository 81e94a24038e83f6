//! psql against `cairn serve`: the meta-commands people use to find their way around
//! (`\l`, `\dn`, `\dt`, `\d coll`, `\x`) and the catalog query psql's tab completion sends,
//! run by the real psql binary (Debian's postgresql-client, which `.ci/run` installs).

mod common;

use std::process::Command;

use common::Server;

/// Runs `commands` in psql against `server`, one `-c` each; panics unless psql succeeds
/// without an error.
fn psql_all(server: &Server, commands: &[&str]) -> String {
    let out = Command::new("psql")
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", &server.port.to_string(), "-U", "cairn", "cairn"])
        .args(commands.iter().flat_map(|c| ["-c", c]))
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("psql is installed");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && !stderr.contains("ERROR"), "psql {commands:?}:\n{stdout}\n{stderr}");
    stdout.into_owned()
}

/// Runs one command in psql.
fn psql(server: &Server, command: &str) -> String {
    psql_all(server, &[command])
}

/// Lines of psql output with runs of spaces squeezed, for comparison.
fn squeezed(out: &str) -> Vec<String> {
    out.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty()).collect()
}

#[tokio::test]
async fn meta_commands_describe_workspaces_and_collections() {
    let server = Server::start();
    let client = server.connect().await;
    client
        .batch_execute(
            r#"CREATE COLLECTION events;
               INSERT INTO events (_id, kind, n, payload) VALUES ('a', 'like', 1, '{"x": 1}'::jsonb), ('b', 'post', 2.5, '[1]'::jsonb);
               CREATE SCHEMA web; CREATE COLLECTION web.pages"#,
        )
        .await
        .expect("load");
    let schemas = squeezed(&psql(&server, r"\dn"));
    assert!(schemas.contains(&"commons | cairn".to_owned()) && schemas.contains(&"web | cairn".to_owned()), "{schemas:?}");
    let tables = squeezed(&psql(&server, r"\dt *.*"));
    assert!(tables.contains(&"commons | events | table | cairn".to_owned()), "{tables:?}");
    assert!(tables.contains(&"web | pages | table | cairn".to_owned()), "{tables:?}");
    // The columns of `\d` come from the smart schema: `n` holds ints and floats, so it is jsonb.
    let described = squeezed(&psql(&server, r"\d events"));
    for line in ["_id | text | | |", "kind | text | | |", "n | jsonb | | |", "payload | jsonb | | |"] {
        assert!(described.contains(&line.to_owned()), "{line} in {described:?}");
    }
    let databases = psql(&server, r"\l");
    assert!(databases.contains("cairn"), "{databases}");
    let expanded = squeezed(&psql_all(&server, &[r"\x on", "SELECT _id, kind FROM events WHERE _id = 'a'"]));
    assert!(expanded.contains(&"_id | a".to_owned()) && expanded.contains(&"kind | like".to_owned()), "{expanded:?}");
    // What psql sends to complete `SELECT * FROM ev<TAB>`.
    let completion = psql(
        &server,
        "SELECT pg_catalog.quote_ident(c.relname) FROM pg_catalog.pg_class c \
         WHERE c.relkind IN ('r', 'S', 'v', 'm', 'f', 'p') AND substring(pg_catalog.quote_ident(c.relname),1,2)='ev' \
         AND pg_catalog.pg_table_is_visible(c.oid) AND c.relnamespace <> (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_catalog') \
         UNION SELECT pg_catalog.quote_ident(n.nspname) || '.' FROM pg_catalog.pg_namespace n \
         WHERE substring(pg_catalog.quote_ident(n.nspname) || '.',1,2)='ev' \
         AND (SELECT pg_catalog.count(*) FROM pg_catalog.pg_namespace WHERE substring(pg_catalog.quote_ident(nspname) || '.',1,2) = substring('ev',1,pg_catalog.length(pg_catalog.quote_ident(nspname))+1)) > 1 \
         LIMIT 1000",
    );
    assert!(completion.contains("events"), "{completion}");
}

#[tokio::test]
async fn backslash_copy_loads_a_local_file() {
    let server = Server::start();
    server.connect().await.batch_execute("CREATE COLLECTION people").await.expect("create");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("people.csv");
    std::fs::write(&file, "_id,name,age\np1,Ada,36\np2,\"Hopper, Grace\",85\n").expect("write csv");
    let out = psql_all(
        &server,
        &[&format!(r"\copy people from '{}' csv header", file.display()), "SELECT name, age FROM people ORDER BY age"],
    );
    let lines = squeezed(&out);
    assert!(lines.contains(&"COPY 2".to_owned()), "{lines:?}");
    assert!(lines.contains(&"Ada | 36".to_owned()) && lines.contains(&"Hopper, Grace | 85".to_owned()), "{lines:?}");
}
