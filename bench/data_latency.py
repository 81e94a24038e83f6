#!/usr/bin/env python3
"""Data latency of `cairn serve` in the RockBench manner: how long after a document is sent
it becomes visible to queries, while documents stream in.

Starts the given cairn binary on a fresh data directory and free loopback ports, creates a
collection, and for each rate (1,000 and 10,000 documents/s, then as fast as the writers go)
runs writer processes that POST batches of ~480-byte event documents over REST, each stamped
with its send time as `_event_time`, while a poller asks `SELECT max(_event_time)` over pgwire
every 100 ms. Data latency is (now − newest visible event time) at each poll. Prints, per rate:
the acknowledged write rate, the indexed rate (documents sent over the time until all of them
were visible), p50/p95/p99 data latency, and p50/p99 of a selective query (one
author's documents) run while ingest goes on. Every acknowledgement waits for the write's
fsync. With --baseline PATH it also runs that binary (an older build, say) the same way and
prints both. A benchmark: it prints figures and asserts nothing.

Usage: $(bash compat-tests/install.sh) bench/data_latency.py [--cairn PATH] [--seconds S]
"""

import argparse
import datetime
import http.client
import multiprocessing as mp
import os
import random
import time

from cairn_server import Cairn, default_binary

PAD = "x" * 205
KINDS = ["app.bsky.feed.like", "app.bsky.feed.post", "app.bsky.graph.follow"]


def event(i, now_us, rng):
    """A Bluesky-Jetstream-shaped event of about 480 bytes of JSON, as text (cheaper to make
    than a dict to encode, so the writers leave the cores to the server)."""
    return (f'{{"_id":"e{i}","_event_time":{now_us},"did":"did:plc:{rng.randrange(5000):024x}","kind":"commit",'
            f'"commit":{{"collection":"{rng.choice(KINDS)}","operation":"create","rev":"3l{rng.getrandbits(48):012x}",'
            f'"cid":"bafyrei{rng.getrandbits(208):052x}"}},"text":"{PAD}"}}')


def writer(port, rate, seconds, start_id, batch, out):
    """Sends `rate` documents/s (0: as fast as it can) for `seconds`; reports documents sent."""
    rng = random.Random(start_id)
    conn = http.client.HTTPConnection("127.0.0.1", port)
    path = "/v1/orgs/self/ws/commons/collections/lat/docs"
    sent, i = 0, start_id
    t0 = time.time()
    while time.time() - t0 < seconds:
        now_us = int(time.time() * 1e6)
        docs = [event(i + k, now_us, rng) for k in range(batch)]
        i += batch
        conn.request("POST", path, '{"data":[' + ",".join(docs) + "]}", {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            time.sleep(0.05)
            continue
        sent += batch
        if rate:
            ahead = sent / rate - (time.time() - t0)
            if ahead > 0:
                time.sleep(ahead)
    out.put((sent, time.time() - t0))


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def count(pg):
    return pg.execute("SELECT count(*) FROM lat").fetchone()[0]


def run_rate(pg, http_port, rate, seconds, first_id):
    """Returns the acknowledged rate, the indexed rate (documents sent over the time until
    every one of them was visible), data latencies and selective query times."""
    before = count(pg)
    t0 = time.time()
    procs, out = [], mp.Queue()
    writers = 1 if rate and rate <= 2000 else 4
    batch = 20 if rate and rate <= 2000 else 200
    for w in range(writers):
        p = mp.Process(target=writer, args=(http_port, rate / writers if rate else 0, seconds, first_id + w * 100_000_000, batch, out))
        p.start()
        procs.append(p)
    latencies, selective = [], []
    time.sleep(0.5)
    end = time.time() + seconds - 1
    while time.time() < end:
        t = time.time()
        newest = pg.execute("SELECT max(_event_time) FROM lat").fetchone()[0]
        if newest is not None:
            if newest.tzinfo is None:
                newest = newest.replace(tzinfo=datetime.timezone.utc)
            latencies.append((t - newest.timestamp()) * 1000)
        q = time.perf_counter()
        pg.execute(f"SELECT count(*) FROM lat WHERE did = 'did:plc:{42:024x}'").fetchone()
        selective.append((time.perf_counter() - q) * 1000)
        time.sleep(max(0, 0.1 - (time.time() - t)))
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    sent = sum(s for s, _ in results)
    elapsed = max(e for _, e in results)
    deadline = time.time() + 300
    while count(pg) - before < sent and time.time() < deadline:
        time.sleep(0.05)
    indexed = (count(pg) - before) / (time.time() - t0)
    return sent / elapsed, indexed, latencies, selective


def bench(binary, seconds, label):
    server = Cairn(binary)
    try:
        pg = server.connect()
        pg.execute("CREATE COLLECTION lat")
        print(f"\n{label}: {binary}")
        print("| target rate (docs/s) | acknowledged (docs/s) | indexed (docs/s) | data latency p50 / p95 / p99 (ms) "
              "| selective query p50 / p99 (ms) |")
        print("|---|---|---|---|---|")
        for n, rate in enumerate([1000, 10000, 0]):
            got, indexed, lat, sel = run_rate(pg, server.http_port, rate, seconds, n * 1_000_000_000)
            print(f"| {rate or 'max'} | {got:.0f} | {indexed:.0f} | {percentile(lat, .5):.0f} / {percentile(lat, .95):.0f} / "
                  f"{percentile(lat, .99):.0f} | {percentile(sel, .5):.1f} / {percentile(sel, .99):.1f} |", flush=True)
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", default=default_binary())
    ap.add_argument("--baseline", help="another cairn binary to measure the same way")
    ap.add_argument("--seconds", type=int, default=15)
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores; documents of ~480 bytes over REST, acknowledged once durable")
    bench(args.cairn, args.seconds, "cairn")
    if args.baseline:
        bench(args.baseline, args.seconds, "baseline")


if __name__ == "__main__":
    main()
