"""Checks Python clients run against a live `cairn serve`: psycopg 3 (parameters, binary
results, JSON, COPY, transactions), SQLAlchemy 2 (engine, inspector reflection, a Core
select), psqlODBC through pyodbc (query, parameters, SQLTables, SQLColumns) and Rockset's own
Python client against the REST API. Usage: checks.py PG_PORT HTTP_PORT. Prints one JSON object per check:
{"client", "check", "ok", "error"}; exits 0 when every check passed."""

import json
import sys
import time
import traceback

import psycopg
import pyodbc
from rockset import RocksetClient
from psycopg.types.json import Jsonb
import sqlalchemy as sa

PORT = int(sys.argv[1])
HTTP_PORT = int(sys.argv[2])
DSN = f"host=127.0.0.1 port={PORT} user=cairn dbname=cairn"
results = []


def check(client, name):
    def wrap(fn):
        try:
            fn()
            results.append({"client": client, "check": name, "ok": True, "error": None})
        except Exception as e:  # a failed check is reported, not raised
            detail = "".join(traceback.format_exception_only(type(e), e)).strip()
            results.append({"client": client, "check": name, "ok": False, "error": detail})
        return fn
    return wrap


def expect(got, want):
    if got != want:
        raise AssertionError(f"got {got!r}, want {want!r}")


@check("psycopg", "connect and query")
def _():
    with psycopg.connect(DSN, autocommit=True) as conn:
        expect(conn.execute("SELECT 40 + 2").fetchone()[0], 42)
        conn.execute("CREATE COLLECTION IF NOT EXISTS people")


@check("psycopg", "parameters")
def _():
    with psycopg.connect(DSN, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO people (_id, name, age) VALUES (%s, %s, %s)", ("p1", "Ada", 36))
        cur.executemany("INSERT INTO people (_id, name, age) VALUES (%s, %s, %s)", [("p2", "Grace", 85), ("p3", "Alan", 41)])
        cur.execute("SELECT name FROM people WHERE age > %s ORDER BY age", (40,))
        expect(cur.fetchall(), [("Alan",), ("Grace",)])


@check("psycopg", "binary results")
def _():
    with psycopg.connect(DSN, autocommit=True) as conn, conn.cursor(binary=True) as cur:
        cur.execute("SELECT name, age FROM people WHERE name = %s", ("Ada",))
        expect(cur.fetchall(), [("Ada", 36)])


@check("psycopg", "jsonb")
def _():
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute("INSERT INTO people (_id, meta) VALUES (%s, %s)", ("p9", Jsonb({"langs": ["en", "fr"]})))
        expect(conn.execute("SELECT meta, typeof(meta) FROM people WHERE _id = 'p9'").fetchone(), ({"langs": ["en", "fr"]}, "object"))


@check("psycopg", "copy")
def _():
    with psycopg.connect(DSN, autocommit=True) as conn, conn.cursor() as cur:
        with cur.copy("COPY people FROM STDIN (FORMAT ndjson)") as copy:
            copy.write('{"_id":"p4","name":"Barbara","age":90}\n')
        with cur.copy("COPY people (_id, name) FROM STDIN") as copy:
            copy.write_row(("p5", "Edsger"))
        expect(cur.execute("SELECT count(*) FROM people WHERE _id IN ('p4', 'p5')").fetchone()[0], 2)
        with cur.copy("COPY (SELECT _id FROM people WHERE _id = 'p4') TO STDOUT") as copy:
            expect([row for row in copy.rows()], [("p4",)])


@check("psycopg", "transaction")
def _():
    with psycopg.connect(DSN) as conn:
        with conn.transaction():
            conn.execute("UPDATE people SET age = 37 WHERE _id = 'p1'")
        expect(conn.execute("SELECT age FROM people WHERE _id = 'p1'").fetchone()[0], 37)


ENGINE = sa.create_engine(f"postgresql+psycopg://cairn@127.0.0.1:{PORT}/cairn")


@check("sqlalchemy", "engine connect")
def _():
    with ENGINE.connect() as c:
        expect(c.execute(sa.text("SELECT 1")).scalar(), 1)


@check("sqlalchemy", "inspect tables")
def _():
    insp = sa.inspect(ENGINE)
    expect("commons" in insp.get_schema_names(), True)
    expect("people" in insp.get_table_names(), True)


@check("sqlalchemy", "inspect columns")
def _():
    columns = {c["name"]: str(c["type"]) for c in sa.inspect(ENGINE).get_columns("people")}
    expect((columns["name"], columns["age"], columns["meta"]), ("TEXT", "BIGINT", "JSONB"))


@check("sqlalchemy", "Table autoload")
def _():
    people = sa.Table("people", sa.MetaData(), autoload_with=ENGINE)
    expect({"_id", "name", "age"} <= {c.name for c in people.columns}, True)
    with ENGINE.connect() as c:
        expect(c.execute(sa.select(people.c.name).where(people.c._id == "p1")).scalar(), "Ada")


@check("sqlalchemy", "core select")
def _():
    people = sa.Table("people", sa.MetaData(), sa.Column("_id", sa.Text), sa.Column("name", sa.Text), sa.Column("age", sa.BigInteger))
    with ENGINE.connect() as c:
        rows = c.execute(sa.select(people.c.name).where(people.c.age > 40).order_by(people.c.name)).all()
        expect([r.name for r in rows], ["Alan", "Barbara", "Grace"])


ODBC = f"DRIVER=/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so;SERVER=127.0.0.1;PORT={PORT};DATABASE=cairn;UID=cairn;PWD="


@check("psqlodbc", "connect and query")
def _():
    with pyodbc.connect(ODBC, autocommit=True) as conn:
        expect(conn.cursor().execute("SELECT 40 + 2").fetchone()[0], 42)
        conn.cursor().execute("CREATE COLLECTION IF NOT EXISTS odbc_people")
        conn.cursor().execute("INSERT INTO odbc_people (_id, name, age) VALUES ('o1', 'Ada', 36), ('o2', 'Alan', 41)")


@check("psqlodbc", "parameters")
def _():
    with pyodbc.connect(ODBC, autocommit=True) as conn:
        rows = conn.cursor().execute("SELECT age FROM odbc_people WHERE name = ?", "Alan").fetchall()
        expect([tuple(r) for r in rows], [(41,)])


@check("psqlodbc", "SQLTables")
def _():
    with pyodbc.connect(ODBC, autocommit=True) as conn:
        expect("odbc_people" in [t.table_name for t in conn.cursor().tables(schema="commons")], True)


@check("psqlodbc", "SQLColumns")
def _():
    with pyodbc.connect(ODBC, autocommit=True) as conn:
        columns = {c.column_name: c.type_name for c in conn.cursor().columns(table="odbc_people", schema="commons")}
        expect((columns["name"], columns["age"]), ("text", "int8"))


def rockset_client():
    """Rockset's client with its base URL changed to Cairn's (the client accepts only
    *.rockset.com at construction), authenticated by a key made in SQL."""
    with psycopg.connect(DSN, autocommit=True) as conn:
        key = conn.execute("CREATE API KEY rockset_client").fetchone()[2]
    rs = RocksetClient(host="https://api.usw2a1.rockset.com", api_key=key)
    rs.api_client.configuration.host = f"http://127.0.0.1:{HTTP_PORT}"
    return rs


RS = None


@check("rockset-python", "workspaces and collections")
def _():
    global RS
    RS = rockset_client()
    RS.Workspaces.create(name="rs_shop")
    expect("rs_shop" in [w.name for w in RS.Workspaces.list().data], True)
    RS.Collections.create_s3_collection(workspace="rs_shop", name="orders")
    expect(RS.Collections.get(workspace="rs_shop", collection="orders").data.status, "READY")


@check("rockset-python", "add, patch and delete documents")
def _():
    added = RS.Documents.add_documents(workspace="rs_shop", collection="orders", data=[{"_id": "a", "qty": 1}, {"_id": "b", "qty": 5}])
    expect([d.status for d in added.data], ["ADDED", "ADDED"])
    patched = RS.Documents.patch_documents(workspace="rs_shop", collection="orders", data=[{"id": "a", "patch": [{"op": "ADD", "path": "/ship", "value": {"city": "Oslo"}}]}])
    expect(patched.data[0].status, "PATCHED")
    deleted = RS.Documents.delete_documents(workspace="rs_shop", collection="orders", data=[{"id": "b"}])
    expect(deleted.data[0].status, "DELETED")
    # Read-after-write as Rockset's clients do it: poll the collection's commit fence.
    for _ in range(200):
        fence = RS.Collections.get_collection_offsets(workspace="rs_shop", collection="orders", name=[deleted.last_offset])
        if fence.data.passed:
            break
        time.sleep(0.02)
    expect(fence.data.passed, True)


@check("rockset-python", "query with parameters")
def _():
    r = RS.Queries.query(sql={"query": "SELECT _id, ship FROM rs_shop.orders WHERE qty >= :m", "parameters": [{"name": "m", "type": "int", "value": "1"}]})
    expect(r.results, [{"_id": "a", "ship": {"city": "Oslo"}}])
    expect([c.name for c in r.column_fields], ["_id", "ship"])


@check("rockset-python", "API keys")
def _():
    made = RS.APIKeys.create(name="second")
    expect(made.data.name, "second")
    expect(sorted(k.name for k in RS.APIKeys.list(user="self").data), ["rockset_client", "second"])
    RS.APIKeys.delete(name="second", user="self")


for r in results:
    print(json.dumps(r))
sys.exit(0 if all(r["ok"] for r in results) else 1)
