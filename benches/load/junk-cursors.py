#!/usr/bin/env python3
"""Junk catalogue cursors against the reference server, watching its resident memory.

Issue #14, defect 1: `GET /api/products?cursor=<60 KB of junk>` used to grow the server by
about the cursor's size on every request. This script starts `pochi-server` (SQLite in a
temporary directory, simulated M-Pesa, rate limits off so every request reaches the handler),
reads its resident set size (VmRSS) from /proc, sends junk-cursor requests over keep-alive
connections from several threads (each cursor different), checks every answer is a 422 with
the stable `invalid_input` code, reads VmRSS again and fails when it grew by more than the
allowance.

    benches/load/junk-cursors.py --server target/release/pochi-server
    benches/load/junk-cursors.py --server target/debug/pochi-server --requests 2000

Prints one line per phase and, at the end:
    POCHI_RESULT requests= cursor_bytes= rss_before_kib= rss_after_kib= growth_kib=
"""

import argparse
import gzip
import http.client
import json
import os
import random
import shutil
import string
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pochi_server  # noqa: E402  (the shared server launcher beside this script)


def rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS line")


def junk(size, rng):
    alphabet = string.ascii_letters + string.digits + "-_"
    return "".join(rng.choice(alphabet) for _ in range(size))


def hammer(host, port, count, size, seed, failures, answered):
    try:
        ask(host, port, count, size, seed, failures, answered)
    except Exception as err:  # a thread's failure must fail the run, not vanish
        failures.append(f"{type(err).__name__}: {err}")


def ask(host, port, count, size, seed, failures, answered):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(host, port, timeout=30)
    # One long junk body per thread, varied per request by a prefix: every cursor (and so
    # every would-be cache key) differs, as an attacker's would.
    body = junk(size, rng)
    for n in range(count):
        cursor = f"{seed}x{n}x" + body
        conn.request(
            "GET",
            f"/api/products?cursor={cursor}",
            # A browser's encodings, less brotli (not in Python's standard library).
            headers={"Accept": "application/json", "Accept-Encoding": "gzip, deflate"},
        )
        resp = conn.getresponse()
        payload = resp.read()
        if resp.getheader("Content-Encoding") == "gzip":
            payload = gzip.decompress(payload)
        if resp.status != 422:
            failures.append(f"status {resp.status}")
            return
        code = json.loads(payload).get("error", {}).get("code")
        if code != "invalid_input":
            failures.append(f"code {code!r}")
            return
        answered.append(1)
    conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="target/release/pochi-server")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--cursor-bytes", type=int, default=60_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--allowance-mib", type=float, default=20.0)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="pochi-junk-")
    proc, host, port = pochi_server.start(args.server, data_dir)
    try:
        # Warm up: a few real pages, so what the first requests allocate is not counted.
        conn = http.client.HTTPConnection(host, port, timeout=30)
        for _ in range(50):
            conn.request("GET", "/api/products")
            conn.getresponse().read()
        conn.close()
        time.sleep(1)
        before = rss_kib(proc.pid)
        print(f"rss before: {before} KiB", flush=True)

        failures = []
        answered = []
        per_thread = args.requests // args.threads
        started = time.monotonic()
        threads = [
            threading.Thread(
                target=hammer,
                args=(host, port, per_thread, args.cursor_bytes, seed, failures, answered),
            )
            for seed in range(args.threads)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        if failures:
            print(f"unexpected answers: {failures[:5]}", file=sys.stderr)
            return 1
        sent = len(answered)
        time.sleep(1)
        after = rss_kib(proc.pid)
        growth = after - before
        print(f"sent {sent} junk-cursor requests in {elapsed:.1f} s, all 422 invalid_input")
        print(f"rss after: {after} KiB (growth {growth} KiB)")
        print(
            f"POCHI_RESULT requests={sent} cursor_bytes={args.cursor_bytes} "
            f"rss_before_kib={before} rss_after_kib={after} growth_kib={growth}"
        )
        if growth > args.allowance_mib * 1024:
            print(
                f"resident memory grew by more than {args.allowance_mib} MiB", file=sys.stderr
            )
            return 1
        return 0
    finally:
        pochi_server.stop(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
