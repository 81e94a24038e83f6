#!/usr/bin/env python3
"""Data as a user loads it, and as Cairn settles it by itself: query times and size on disk.

Starts the given cairn binary on a fresh data directory, loads generated Jetstream-shaped
event documents (JSONBench's shape, ~480 bytes each) over pgwire with `COPY … FROM STDIN
(FORMAT ndjson)`, and times a set of queries (JSONBench Q1–Q5, one user's documents, a text
filter, a time window) right after the load and again after a quiet spell, when Cairn has
folded, flushed and compacted the collection by itself (no manual step). Meanwhile it samples
the data directory's size. Prints the load rate, per query the fastest of N runs as loaded
and settled with their ratio, and bytes on disk per document against the raw JSON over time.
With --baseline PATH it does the same with another binary (an older build, say). A
benchmark: it prints figures and asserts nothing.

Usage: $(bash compat-tests/install.sh) bench/as_loaded.py [--cairn PATH] [--docs N] [--runs N] [--settle S]
"""

import argparse
import os
import time

from cairn_server import Cairn, default_binary, events

FILTER = "kind = 'commit' AND commit.operation = 'create'"
QUERIES = [
    ("Q1 events per collection",
     "SELECT commit.collection AS event, count(*) AS count FROM ev GROUP BY event ORDER BY count DESC"),
    ("Q2 + distinct users",
     f"SELECT commit.collection AS event, count(*) AS count, count(DISTINCT did) AS users FROM ev WHERE {FILTER} "
     "GROUP BY event ORDER BY count DESC"),
    ("Q3 per hour of day",
     "SELECT commit.collection AS event, date_part('hour', to_timestamp_micros(time_us)) AS hour_of_day, count(*) "
     f"FROM ev WHERE {FILTER} AND commit.collection IN ('app.bsky.feed.post', 'app.bsky.feed.repost', "
     "'app.bsky.feed.like') GROUP BY event, hour_of_day ORDER BY hour_of_day, event"),
    ("Q4 first posters",
     f"SELECT did AS user_id, min(to_timestamp_micros(time_us)) AS first_post_ts FROM ev WHERE {FILTER} "
     "AND commit.collection = 'app.bsky.feed.post' GROUP BY user_id ORDER BY first_post_ts ASC LIMIT 3"),
    ("Q5 activity spans",
     f"SELECT did AS user_id, (max(time_us) - min(time_us)) / 1000 AS activity_span FROM ev WHERE {FILTER} "
     "AND commit.collection = 'app.bsky.feed.post' GROUP BY user_id ORDER BY activity_span DESC LIMIT 3"),
    ("one user's documents", "SELECT count(*) FROM ev WHERE did = 'did:plc:00000000000000000000002a'"),
    ("LIKE '%coffee%'", "SELECT count(*) FROM ev WHERE commit.record.text LIKE '%coffee%'"),
    ("60 s time window",
     "SELECT count(*) FROM ev WHERE time_us BETWEEN 1700000060000000 AND 1700000120000000"),
]


def best_ms(conn, sql, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        conn.execute(sql).fetchall()
        times.append(time.perf_counter() - t)
    return min(times) * 1000


def run(binary, docs, runs, settle, label):
    lines = list(events(docs, users=max(10, docs // 10)))
    raw = sum(len(line) + 1 for line in lines)
    server = Cairn(binary)
    try:
        conn = server.connect()
        conn.execute("CREATE COLLECTION ev")
        t = time.perf_counter()
        with conn.cursor() as cur:
            with cur.copy("COPY ev FROM STDIN (FORMAT ndjson)") as copy:
                for i in range(0, len(lines), 10_000):
                    copy.write("\n".join(lines[i:i + 10_000]) + "\n")
        load = time.perf_counter() - t
        loaded_at = time.time()
        sizes = [(0, server.disk_bytes())]
        fresh = [best_ms(conn, sql, runs) for _, sql in QUERIES]
        while time.time() - loaded_at < settle:
            time.sleep(min(10, max(0, settle - (time.time() - loaded_at))))
            sizes.append((time.time() - loaded_at, server.disk_bytes()))
        settled = [best_ms(conn, sql, runs) for _, sql in QUERIES]
    finally:
        server.stop()
    print(f"\n{label}: {binary}")
    print(f"load: {docs} documents ({raw / docs:.0f} bytes of JSON each) in {load:.1f} s, {docs / load:.0f} docs/s")
    print(f"\n| query | as loaded (ms) | after {settle} s (ms) | as loaded ÷ settled |")
    print("|---|---|---|---|")
    for (name, _), a, b in zip(QUERIES, fresh, settled):
        print(f"| {name} | {a:.1f} | {b:.1f} | {a / b:.2f} |")
    print(f"| total | {sum(fresh):.1f} | {sum(settled):.1f} | {sum(fresh) / sum(settled):.2f} |")
    print("\n| seconds after the load | bytes on disk per document | ÷ raw JSON |")
    print("|---|---|---|")
    for at, size in sizes:
        print(f"| {at:.0f} | {size / docs:.0f} | {size / raw:.2f} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", default=default_binary())
    ap.add_argument("--baseline", help="another cairn binary to measure the same way")
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--settle", type=int, default=60, help="seconds after the load before the second timing")
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores; queries over pgwire (psycopg), fastest of {args.runs} runs, every row fetched")
    run(args.cairn, args.docs, args.runs, args.settle, "cairn")
    if args.baseline:
        run(args.baseline, args.docs, args.runs, args.settle, "baseline")


if __name__ == "__main__":
    main()
