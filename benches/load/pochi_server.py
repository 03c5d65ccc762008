"""Starting and stopping the reference server for the load scripts in this directory.

`start()` runs `pochi-server` on a loopback port chosen by the system, with a clean
environment (no `POCHI_*` setting leaks in from the caller's shell), SQLite in `data_dir`,
simulated M-Pesa and the HTTP rate limits (per address and per phone) off, plus the caller's own settings; it returns once
the server says where it listens.
"""

import os
import re
import signal
import subprocess
import threading
import time


def hash_password(server, password):
    """The server's own hash of `password`, for `POCHI_ADMIN_USERS`."""
    return subprocess.run(
        [server, "hash-password"],
        input=password + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def environment(data_dir, **settings):
    """The environment `start` runs the server in: this process's, without its `POCHI_*`
    variables, with the settings above and then `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POCHI_")}
    env.update(
        POCHI_DATA_DIR=data_dir,
        POCHI_LISTEN="127.0.0.1:0",
        POCHI_RATE_LIMIT="off",
        POCHI_CHECKOUT_RATE_LIMIT="off",
        POCHI_PHONE_ORDER_RATE_LIMIT="off",
        POCHI_MPESA_MODE="simulated",
        POCHI_LOG="warn",
    )
    env.update(settings)
    return env


def start(server, data_dir, **settings):
    """Starts `server`; returns (process, host, port)."""
    proc = subprocess.Popen(
        [server],
        env=environment(data_dir, **settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        found = re.search(r"listening on ([0-9.]+):([0-9]+)", line)
        if found:
            # Keep draining its output so the server never blocks on a full pipe.
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, found.group(1), int(found.group(2))
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise RuntimeError("pochi-server did not say where it listens")


def stop(proc):
    """Stops the server gracefully (SIGTERM), killing it after 15 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
