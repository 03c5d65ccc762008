#!/usr/bin/env python3
"""Restarts and upgrades under load, as systemd does them with deploy/pochi.socket.

Issue #15 item 6: restarting or upgrading the server must drop no request. This script plays
systemd: it binds the listening socket itself (127.0.0.1, a port the system chooses, the
backlog of pochi.socket) and starts the real `pochi-server` with that socket as fd 3
(`LISTEN_FDS=1`, `LISTEN_PID` the server's own pid), SQLite in a temporary directory,
simulated M-Pesa, the rate limits off. Clients run a steady load meanwhile, each request on a
connection of its own with `Connection: close`, as deploy/nginx-pochi.conf connects to the
server (no upstream keep-alive; nginx resends nothing that failed with one server):

  products   GET /api/products
  tracking   GET /track?order=N (the page) and GET /api/track/N (what it shows)
  orders     POST /api/orders with an Idempotency-Key (a new one per order)

and the server is restarted several times as `systemctl restart pochi` does it (SIGTERM, wait
for the process to exit, start again), every other time as an upgrade: a copy of the binary is
installed over the one that runs (`install` writes a new file) before the restart. Any failed
request counts: a refused or reset connection, a timeout, a 5xx, or any status the request
should not get. It prints the figures and exits 1 on any failure.

`--no-socket-activation` runs the same restarts with the server binding `POCHI_LISTEN` itself:
requests then fail (refused while no process listens, reset when the listener closes with
connections in its backlog). With `--expect-failures` the script exits 1 when none failed:
the check that this measurement can see a restart.

`--keep-alive` has the clients keep their connections as nginx does with upstream `keepalive`
(a GET that fails on a reused connection is resent, a POST is not): a POST that meets the
stopping server closing its idle connection then fails now and then, which is why
nginx-pochi.conf and the Caddyfile keep no idle connections to the server.

    benches/load/restart.py --server target/debug/pochi-server
    benches/load/restart.py --server target/debug/pochi-server --no-socket-activation --expect-failures

Prints:
    POCHI_RESULT restart mode= requests= ok= failed= restarts= upgrades= seconds= failures=
"""

import argparse
import base64
import collections
import http.client
import json
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pochi_server  # noqa: E402  (the shared server launcher beside this script)

PASSWORD = "restart-bench-password"
# deploy/pochi.socket's Backlog=.
BACKLOG = 1024
# A request waits at most this long (nginx waits 60 s to connect and for an answer).
TIMEOUT_SECS = 15


class Server:
    """The server as systemd runs it: one process at a time from an installed binary."""

    def __init__(self, installed, data_dir, listener, port, settings):
        self.installed = installed
        self.listener = listener
        self.port = port
        self.env = pochi_server.environment(data_dir, POCHI_LOG="info", **settings)
        self.log = os.path.join(data_dir, "server.log")
        self.pid = None

    def start(self):
        env = dict(self.env)
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ]
        if self.listener is not None:
            # The socket as fd 3 (dup2 in the child clears close-on-exec), LISTEN_PID set by
            # the shell to its own pid, which `exec` hands to the server: as systemd does.
            fd = self.listener.fileno()
            actions.append((os.POSIX_SPAWN_DUP2, fd, 3))
            env["LISTEN_FDS"] = "1"
            # Some address the server must not use: it serves the passed socket.
            env["POCHI_LISTEN"] = "127.0.0.1:0"
            argv = ["sh", "-c", 'LISTEN_PID=$$ exec "$0"', self.installed]
        else:
            env["POCHI_LISTEN"] = f"127.0.0.1:{self.port}"
            argv = [self.installed]
        self.pid = os.posix_spawn("/bin/sh" if self.listener is not None else self.installed,
                                  argv, env, file_actions=actions)

    def stop(self):
        """SIGTERM, then waits for the exit (systemd waits TimeoutStopSec=45); the exit status."""
        os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.01)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        return "killed after 45 s"

    def exited(self):
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        return os.waitstatus_to_exitcode(status) if pid else None

    def log_tail(self, lines=30):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.ok = 0
        self.failed = collections.Counter()
        self.examples = []

    def success(self):
        with self.lock:
            self.ok += 1

    def failure(self, kind, what):
        with self.lock:
            self.failed[kind] += 1
            if len(self.examples) < 10:
                self.examples.append(f"{kind}: {what}")


def call(port, method, path, body=None, headers=None):
    """One request on a connection of its own; (status, parsed body). Raises on a socket error."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_SECS)
    try:
        headers = {"Connection": "close", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        ctype = resp.getheader("Content-Type", "")
        value = json.loads(payload) if payload and "json" in ctype else payload
        return resp.status, value
    finally:
        conn.close()


def call_kept(conn, port, method, path, body=None, headers=None):
    """One request as nginx sends it with upstream `keepalive`: on a kept connection when there
    is one; a request that fails on a reused connection is resent on a new one, unless it is a
    POST (proxy_next_upstream never resends a non-idempotent request). (status, body, the
    connection to reuse or None)."""
    if conn is not None and select.select([conn.sock], [], [], 0)[0]:
        # nginx drops a kept connection the server has closed as soon as it sees the close.
        conn.close()
        conn = None
    reused = conn is not None
    if conn is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_SECS)
    try:
        headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        ctype = resp.getheader("Content-Type", "")
        value = json.loads(payload) if payload and "json" in ctype else payload
        if resp.will_close:
            conn.close()
            conn = None
        return resp.status, value, conn
    except Exception:
        conn.close()
        if reused and method != "POST":
            return call_kept(None, port, method, path, body, headers)
        raise


def classify(err):
    if isinstance(err, ConnectionRefusedError):
        return "refused"
    if isinstance(err, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(err, (ConnectionError, http.client.HTTPException)):
        return "reset"
    return "error"


def checkout(product_id, phone):
    return {
        "name": "Mteja",
        "phone": phone,
        "county": "Nairobi",
        "area": "Westlands",
        "address": "Moi Avenue",
        "items": [{"productId": product_id, "quantity": 1}],
    }


def client(kind, n, port, product_id, numbers, tally, stop, keep_alive):
    seq = 0
    conn = None
    while not stop.is_set():
        seq += 1
        if kind == "products":
            method, path, body, headers, want = "GET", "/api/products", None, None, {200}
        elif kind == "tracking":
            number = numbers[(n * 7919 + seq) % len(numbers)]
            if seq % 2:
                method, path, want = "GET", f"/track?order={number}", {200}
            else:
                method, path, want = "GET", f"/api/track/{number}", {200}
            body, headers = None, None
        else:
            phone = f"07{(n * 1000003 + seq) % 100000000:08d}"
            method, path, want = "POST", "/api/orders", {201}
            body = checkout(product_id, phone)
            headers = {"Idempotency-Key": f"restart-{uuid.uuid4()}"}
        try:
            if keep_alive:
                status, value, conn = call_kept(conn, port, method, path, body, headers)
            else:
                status, value = call(port, method, path, body, headers)
        except Exception as err:  # noqa: BLE001  (every failure is counted, by kind)
            conn = None
            tally.failure(classify(err), f"{method} {path}: {err!r}")
            continue
        if status in want:
            tally.success()
            if kind == "orders" and isinstance(value, dict) and len(numbers) < 1000:
                numbers.append(value["number"])
        else:
            tally.failure("5xx" if status >= 500 else f"status {status}",
                          f"{method} {path}: {status} {value!r:.200}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="target/debug/pochi-server")
    parser.add_argument("--restarts", type=int, default=6,
                        help="restarts under load, every other one an upgrade (default 6)")
    parser.add_argument("--interval", type=float, default=3.0,
                        help="seconds of load between restarts (default 3)")
    parser.add_argument("--clients", type=int, default=2,
                        help="clients of each kind: products, tracking, orders (default 2)")
    parser.add_argument("--no-socket-activation", action="store_true",
                        help="the server binds POCHI_LISTEN itself (the restart then fails requests)")
    parser.add_argument("--keep-alive", action="store_true",
                        help="clients keep connections open, drop one the server closed, and "
                             "resend a GET that failed on a reused one, as nginx with upstream "
                             "`keepalive` does (nginx-pochi.conf keeps none)")
    parser.add_argument("--expect-failures", action="store_true",
                        help="exit 1 when no request failed (to show the measurement can fail)")
    args = parser.parse_args()
    activation = not args.no_socket_activation
    mode = "socket-activation" if activation else "no-socket-activation"
    if args.keep_alive:
        mode += "+keep-alive"

    work = tempfile.mkdtemp(prefix="pochi-restart-")
    data_dir = os.path.join(work, "data")
    os.mkdir(data_dir)
    installed = os.path.join(work, "pochi-server")
    shutil.copy2(args.server, installed)

    # The socket pochi.socket would hold. Without activation only its port is kept: the
    # server binds it itself (with SO_REUSEADDR, as tokio does).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    if activation:
        sock.listen(BACKLOG)
    else:
        sock.close()
        sock = None

    settings = dict(
        POCHI_DEMO_PRODUCTS="false",
        POCHI_OPEN_ORDERS_PER_PHONE="off",
        POCHI_OPEN_ORDERS_PER_ADDRESS="off",
        POCHI_ADMIN_USERS=f"admin:{pochi_server.hash_password(args.server, PASSWORD)}",
    )
    server = Server(installed, data_dir, sock, port, settings)
    tally = Tally()
    stop = threading.Event()
    threads = []
    restarts = upgrades = 0
    bad_exits = []
    started = time.monotonic()
    try:
        server.start()
        # Ready once it answers (with activation the first request simply waits for it).
        deadline = time.monotonic() + 60
        while True:
            try:
                call(port, "GET", "/api/health")
                break
            except OSError:
                if time.monotonic() > deadline or server.exited() is not None:
                    raise RuntimeError("the server did not start:\n" + server.log_tail())
                time.sleep(0.1)
        auth = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
        status, product = call(port, "POST", "/api/admin/products",
                               {"name": "Kikoi", "price": "1500", "stock": 1_000_000},
                               {"Authorization": f"Basic {auth}"})
        if status != 201:
            raise RuntimeError(f"creating the product: {status} {product}")
        status, order = call(port, "POST", "/api/orders", checkout(product["id"], "0711000000"))
        if status != 201:
            raise RuntimeError(f"placing the first order: {status} {order}")
        numbers = [order["number"]]

        load_started = time.monotonic()
        for kind in ("products", "tracking", "orders"):
            for n in range(args.clients):
                t = threading.Thread(target=client, daemon=True,
                                     args=(kind, n, port, product["id"], numbers, tally, stop,
                                           args.keep_alive))
                t.start()
                threads.append(t)
        for i in range(args.restarts):
            time.sleep(args.interval)
            upgrade = i % 2 == 1
            if upgrade:
                # `install`: the new binary replaces the file the running process was
                # started from (a new inode; the old process keeps running its own).
                shutil.copy2(args.server, installed + ".new")
                os.replace(installed + ".new", installed)
            code = server.stop()
            if code != 0:
                bad_exits.append(code)
            server.start()
            restarts += 1
            upgrades += upgrade
        time.sleep(args.interval)
        stop.set()
        for t in threads:
            t.join(TIMEOUT_SECS + 5)
        seconds = time.monotonic() - load_started
    except RuntimeError as err:
        print(f"restart: {err}", file=sys.stderr)
        return 1
    finally:
        stop.set()
        if server.pid is not None and server.exited() is None:
            code = server.stop()
            if code != 0:
                bad_exits.append(code)
        if sock is not None:
            sock.close()
        log = server.log_tail(40)
        # Each start said which listener it served (the "listening" line has a `listener`
        # field, in the text format and in JSON).
        passed = bound = 0
        with open(server.log, "a+", errors="replace") as f:
            f.seek(0)
            for line in f:
                if "listener=" in line or '"listener":' in line:
                    if "the socket passed by systemd" in line:
                        passed += 1
                    else:
                        bound += 1
        shutil.rmtree(work, ignore_errors=True)

    failed = sum(tally.failed.values())
    kinds = ",".join(f"{k.replace(' ', '_')}:{v}" for k, v in sorted(tally.failed.items())) or "-"
    print(
        f"POCHI_RESULT restart mode={mode} requests={tally.ok + failed} ok={tally.ok} "
        f"failed={failed} restarts={restarts} upgrades={upgrades} seconds={seconds:.1f} "
        f"failures={kinds}",
        flush=True,
    )
    for example in tally.examples:
        print(f"  {example}")
    starts = restarts + 1
    if (passed, bound) != ((starts, 0) if activation else (0, starts)):
        print(f"restart: of {starts} starts, {passed} served the passed socket and {bound} "
              f"bound POCHI_LISTEN\n{log}", file=sys.stderr)
        return 1
    if bad_exits:
        print(f"restart: the server exited with {bad_exits} on SIGTERM:\n{log}", file=sys.stderr)
        return 1
    if args.expect_failures:
        if failed == 0:
            print("restart: no request failed, though failures were expected", file=sys.stderr)
            return 1
        return 0
    if failed:
        print(f"restart: {failed} requests failed across the restarts", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
