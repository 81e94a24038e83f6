#!/usr/bin/env python3
"""Round-trip latency of `cairn serve` as clients see it: over the PostgreSQL wire protocol
(psycopg 3) and over the REST API (http.client with keep-alive), from this machine.

Starts the given cairn binary (default: the release build in ~/.cache/cairn-target) on a
fresh data directory and free loopback ports, loads 100,000 small documents with COPY, then
prints p50/p99/mean in microseconds per operation. A benchmark: it prints figures and asserts
nothing. Usage: bench/wire_latency.py [--cairn PATH] [--n N]. Needs compat-tests/install.sh's
Python environment (psycopg): `$(bash compat-tests/install.sh) bench/wire_latency.py`.
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time

import psycopg


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(label, n, fn):
    for _ in range(min(200, n)):
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t) / 1000)
    samples.sort()
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
    print(f"| {label} | {p(0.50):.0f} | {p(0.99):.0f} | {statistics.mean(samples):.0f} |")


def main():
    default = os.path.expanduser(os.environ.get("CARGO_TARGET_DIR", "~/.cache/cairn-target")) + "/release/cairn"
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", default=default)
    ap.add_argument("--n", type=int, default=5000)
    args = ap.parse_args()
    pg_port, http_port = free_port(), free_port()
    data = tempfile.mkdtemp(prefix="cairn-bench-")
    server = subprocess.Popen(
        [args.cairn, "serve", "--data-dir", data, "--pg-listen", f"127.0.0.1:{pg_port}", "--http-listen", f"127.0.0.1:{http_port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        dsn = f"host=127.0.0.1 port={pg_port} user=cairn dbname=cairn"
        for _ in range(100):
            try:
                conn = psycopg.connect(dsn, autocommit=True)
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        conn.execute("CREATE COLLECTION events")
        with conn.cursor().copy("COPY events FROM STDIN (FORMAT ndjson)") as copy:
            for i in range(100_000):
                copy.write(json.dumps({"_id": f"e{i}", "kind": ["like", "post", "repost"][i % 3], "n": i}) + "\n")
        prepared = conn.cursor()
        web = http.client.HTTPConnection("127.0.0.1", http_port)

        def rest(method, path, body):
            web.request(method, path, body=json.dumps(body), headers={"Content-Type": "application/json"})
            response = web.getresponse()
            response.read()
            assert response.status == 200, response.status

        ids = iter(range(10**9))
        print(f"cairn {args.cairn}, {args.n} operations each, 100,000 documents; microseconds\n")
        print("| operation | p50 | p99 | mean |\n| --- | --- | --- | --- |")
        measure("pgwire: SELECT 1 (simple query)", args.n, lambda: conn.execute("SELECT 1", prepare=False).fetchall())
        measure("pgwire: point lookup by _id (prepared)", args.n,
                lambda: prepared.execute("SELECT n FROM events WHERE _id = %s", (f"e{next(ids) % 100000}",), prepare=True).fetchall())
        measure("pgwire: INSERT one document (prepared)", args.n,
                lambda: prepared.execute("INSERT INTO events (_id, n) VALUES (%s, %s)", (f"i{next(ids)}", 1), prepare=True))
        measure("REST: POST /queries point lookup (:id)", args.n,
                lambda: rest("POST", "/v1/orgs/self/queries",
                             {"sql": {"query": "SELECT n FROM events WHERE _id = :id",
                                      "parameters": [{"name": "id", "type": "string", "value": f"e{next(ids) % 100000}"}]}}))
        measure("REST: POST …/docs one document", args.n,
                lambda: rest("POST", "/v1/orgs/self/ws/commons/collections/events/docs", {"data": [{"_id": f"r{next(ids)}", "n": 2}]}))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
