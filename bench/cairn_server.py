"""Shared by the benchmarks in bench/: a `cairn serve` on a fresh data directory and free
loopback ports, and Bluesky-Jetstream-shaped event documents like JSONBench's."""

import json
import os
import random
import socket
import subprocess
import tempfile
import time

import psycopg


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_binary():
    target = os.path.expanduser(os.environ.get("CARGO_TARGET_DIR", "~/.cache/cairn-target"))
    return f"{target}/release/cairn"


class Cairn:
    """A running `cairn serve` (stopped by `stop()`, which deletes its data directory)."""

    def __init__(self, binary):
        self.pg_port, self.http_port = free_port(), free_port()
        self.data = tempfile.mkdtemp(prefix="cairn-bench-")
        self.process = subprocess.Popen(
            [binary, "serve", "--data-dir", self.data, "--pg-listen", f"127.0.0.1:{self.pg_port}",
             "--http-listen", f"127.0.0.1:{self.http_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.dsn = f"host=127.0.0.1 port={self.pg_port} user=cairn dbname=cairn"

    def connect(self):
        """A psycopg connection in autocommit, once the server listens."""
        for _ in range(400):
            try:
                return psycopg.connect(self.dsn, autocommit=True)
            except psycopg.OperationalError:
                time.sleep(0.05)
        raise RuntimeError("cairn serve did not start listening")

    def disk_bytes(self):
        """Bytes the data directory takes on disk."""
        out = subprocess.run(["du", "-sb", self.data], capture_output=True, text=True, check=True)
        return int(out.stdout.split()[0])

    def stop(self):
        self.process.terminate()
        self.process.wait()
        subprocess.run(["rm", "-rf", self.data], check=False)


COLLECTIONS = ["app.bsky.feed.like"] * 50 + ["app.bsky.graph.follow"] * 20 + ["app.bsky.feed.repost"] * 12 \
    + ["app.bsky.feed.post"] * 15
LANGS = ["en", "ja", "pt", "de", "es", "ko", "fr"]
WORDS = "the coffee morning sky city music game news photo love time today people world art".split()


def events(n, users, seed=42, start_us=1_700_000_000_000_000):
    """`n` JSON lines of Jetstream-shaped events (~480 bytes on average) by `users` users."""
    rng = random.Random(seed)
    t = start_us
    for i in range(n):
        t += 1 + rng.randrange(200)
        did = f"did:plc:{rng.randrange(users):024x}"
        created = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t / 1e6)) + ".000Z"
        if rng.randrange(100) < 3:
            doc = {"did": did, "time_us": t, "kind": "identity",
                   "identity": {"did": did, "handle": f"u{rng.randrange(users)}.bsky.social", "seq": i, "time": created}}
        else:
            collection = rng.choice(COLLECTIONS)
            rkey = f"3l{rng.randrange(1 << 48):x}"
            if collection == "app.bsky.graph.follow":
                record = {"$type": collection, "createdAt": created, "subject": f"did:plc:{rng.randrange(users):024x}"}
            elif collection == "app.bsky.feed.post":
                text = " ".join(rng.choice(WORDS) for _ in range(4 + rng.randrange(12)))
                record = {"$type": collection, "createdAt": created, "langs": rng.sample(LANGS, 1 + rng.randrange(2)),
                          "text": text}
            else:
                subject = f"at://did:plc:{rng.randrange(users):024x}/app.bsky.feed.post/3l{rng.randrange(1 << 48):x}"
                record = {"$type": collection, "createdAt": created,
                          "subject": {"cid": f"bafyrei{rng.randrange(1 << 208):052x}", "uri": subject}}
            doc = {"did": did, "time_us": t, "kind": "commit",
                   "commit": {"rev": f"3l{rng.randrange(1 << 48):x}", "operation": "create", "collection": collection,
                              "rkey": rkey, "record": record, "cid": f"bafyrei{rng.randrange(1 << 208):052x}"}}
        yield json.dumps(doc, separators=(",", ":"))
