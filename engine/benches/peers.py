"""Runs the engine benchmark's queries on DuckDB and chDB (ClickHouse) over the same NDJSON
file, configured as JSONBench configures them, and prints their latencies as JSON.

Usage: python3 peers.py FILE ID DID REPS_FAST REPS_SLOW
Installs the pinned duckdb and chdb wheels when they are missing.
"""
import json
import statistics
import subprocess
import sys
import tempfile
import time

PINS = ["duckdb==2.0.0", "chdb==4.4.0", "pytz"]

try:
    import chdb.session
    import duckdb
    import pytz  # noqa: F401 (DuckDB needs it to return timestamps with a zone)
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *PINS])
    import chdb.session
    import duckdb

path, doc_id, did, reps_fast, reps_slow = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])


# (name, repetitions, DuckDB SQL, ClickHouse SQL)
QUERIES = [
    ("point lookup by _id", reps_fast,
     f"SELECT j FROM bluesky WHERE j->>'$._id' = '{doc_id}'",
     f"SELECT data FROM bluesky WHERE data._id = '{doc_id}'"),
    ("selective filter: one user's latest events", reps_fast,
     f"SELECT CAST(j->>'$.time_us' AS BIGINT) AS t, j->>'$.commit.collection' FROM bluesky WHERE j->>'$.did' = '{did}' ORDER BY t DESC LIMIT 10",
     f"SELECT data.time_us AS t, data.commit.collection FROM bluesky WHERE data.did = '{did}' ORDER BY t DESC LIMIT 10"),
    ("Q1 events per collection", reps_slow,
     "SELECT j->>'$.commit.collection' AS event, count() AS count FROM bluesky GROUP BY event ORDER BY count DESC",
     "SELECT data.commit.collection AS event, count() AS count FROM bluesky GROUP BY event ORDER BY count DESC"),
    ("Q2 events and distinct users per collection", reps_slow,
     "SELECT j->>'$.commit.collection' AS event, count() AS count, count(DISTINCT j->>'$.did') AS users FROM bluesky "
     "WHERE (j->>'$.kind' = 'commit') AND (j->>'$.commit.operation' = 'create') GROUP BY event ORDER BY count DESC",
     "SELECT data.commit.collection AS event, count() AS count, uniqExact(data.did) AS users FROM bluesky "
     "WHERE data.kind = 'commit' AND data.commit.operation = 'create' GROUP BY event ORDER BY count DESC"),
    ("Q3 events per hour of day", reps_slow,
     "SELECT j->>'$.commit.collection' AS event, hour(TO_TIMESTAMP(CAST(j->>'$.time_us' AS BIGINT) / 1000000)) AS hour_of_day, "
     "count() AS count FROM bluesky WHERE (j->>'$.kind' = 'commit') AND (j->>'$.commit.operation' = 'create') AND "
     "(j->>'$.commit.collection' IN ['app.bsky.feed.post', 'app.bsky.feed.repost', 'app.bsky.feed.like']) "
     "GROUP BY event, hour_of_day ORDER BY hour_of_day, event",
     "SELECT data.commit.collection AS event, toHour(fromUnixTimestamp64Micro(data.time_us)) AS hour_of_day, count() AS count "
     "FROM bluesky WHERE data.kind = 'commit' AND data.commit.operation = 'create' AND data.commit.collection IN "
     "['app.bsky.feed.post', 'app.bsky.feed.repost', 'app.bsky.feed.like'] GROUP BY event, hour_of_day ORDER BY hour_of_day, event"),
    ("Q4 first posters", reps_slow,
     "SELECT j->>'$.did'::String AS user_id, TO_TIMESTAMP(CAST(MIN(j->>'$.time_us') AS BIGINT) / 1000000) AS first_post_date "
     "FROM bluesky WHERE (j->>'$.kind' = 'commit') AND (j->>'$.commit.operation' = 'create') AND "
     "(j->>'$.commit.collection' = 'app.bsky.feed.post') GROUP BY user_id ORDER BY first_post_date ASC LIMIT 3",
     "SELECT data.did::String AS user_id, min(fromUnixTimestamp64Micro(data.time_us)) AS first_post_ts FROM bluesky "
     "WHERE data.kind = 'commit' AND data.commit.operation = 'create' AND data.commit.collection = 'app.bsky.feed.post' "
     "GROUP BY user_id ORDER BY first_post_ts ASC LIMIT 3"),
    ("Q5 longest activity spans", reps_slow,
     "SELECT j->>'$.did'::String AS user_id, date_diff('milliseconds', TO_TIMESTAMP(CAST(MIN(j->>'$.time_us') AS BIGINT) / 1000000), "
     "TO_TIMESTAMP(CAST(MAX(j->>'$.time_us') AS BIGINT) / 1000000)) AS activity_span FROM bluesky WHERE (j->>'$.kind' = 'commit') "
     "AND (j->>'$.commit.operation' = 'create') AND (j->>'$.commit.collection' = 'app.bsky.feed.post') GROUP BY user_id "
     "ORDER BY activity_span DESC LIMIT 3",
     "SELECT data.did::String AS user_id, date_diff('milliseconds', min(fromUnixTimestamp64Micro(data.time_us)), "
     "max(fromUnixTimestamp64Micro(data.time_us))) AS activity_span FROM bluesky WHERE data.kind = 'commit' AND "
     "data.commit.operation = 'create' AND data.commit.collection = 'app.bsky.feed.post' GROUP BY user_id "
     "ORDER BY activity_span DESC LIMIT 3"),
    ("top-N users by events", reps_slow,
     "SELECT j->>'$.did' AS did, count() AS c FROM bluesky GROUP BY did ORDER BY c DESC LIMIT 10",
     "SELECT data.did::String AS did, count() AS c FROM bluesky GROUP BY did ORDER BY c DESC LIMIT 10"),
    ("join likes to posts by URI", reps_slow,
     "SELECT count() FROM bluesky l JOIN bluesky p ON l.j->>'$.commit.record.subject.uri' = "
     "concat('at://', p.j->>'$.did', '/app.bsky.feed.post/', p.j->>'$.commit.rkey') "
     "WHERE l.j->>'$.commit.collection' = 'app.bsky.feed.like' AND p.j->>'$.commit.collection' = 'app.bsky.feed.post'",
     "SELECT count() FROM bluesky l JOIN bluesky p ON l.data.commit.record.subject.uri::String = "
     "concat('at://', p.data.did::String, '/app.bsky.feed.post/', p.data.commit.rkey::String) "
     "WHERE l.data.commit.collection = 'app.bsky.feed.like' AND p.data.commit.collection = 'app.bsky.feed.post'"),
]


def timed(run, reps):
    run()  # warm-up
    samples = []
    for _ in range(reps):
        t = time.perf_counter()
        run()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {"p50_ms": statistics.median(samples), "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))]}


def bench_duckdb():
    con = duckdb.connect(":memory:")
    con.execute("SET threads = 2")
    t = time.perf_counter()
    con.execute("CREATE TABLE bluesky (j JSON)")
    con.execute("INSERT INTO bluesky SELECT json FROM read_ndjson_objects(?, maximum_object_size = 10485760)", [path])
    out = {"load_s": time.perf_counter() - t}
    for name, reps, sql, _ in QUERIES:
        out[name] = timed(lambda: con.execute(sql).fetchall(), reps)
    return out


def bench_chdb():
    with tempfile.TemporaryDirectory() as d:
        sess = chdb.session.Session(d)
        sess.query("SET max_threads = 2")
        t = time.perf_counter()
        sess.query(
            "CREATE TABLE bluesky (data JSON(kind LowCardinality(String), commit.operation LowCardinality(String), "
            "commit.collection LowCardinality(String), did String, time_us UInt64) ) ENGINE = MergeTree "
            "ORDER BY (data.kind, data.commit.collection, data.did, fromUnixTimestamp64Micro(data.time_us))"
        )
        sess.query(f"INSERT INTO bluesky SELECT json FROM file('{path}', 'JSONAsObject', 'json JSON') SETTINGS max_threads = 2")
        sess.query("OPTIMIZE TABLE bluesky FINAL")
        out = {"load_s": time.perf_counter() - t}
        for name, reps, _, sql in QUERIES:
            out[name] = timed(lambda: sess.query(sql + " SETTINGS max_threads = 2", "CSV"), reps)
        sess.close()
        return out


print(json.dumps({"duckdb": bench_duckdb(), "chdb": bench_chdb()}))
