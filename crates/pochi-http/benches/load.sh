#!/usr/bin/env bash
# Load benchmark of the HTTP API over loopback (bounded: 3 runs of DURATION each per target).
#   crates/pochi-http/benches/load.sh            (needs wrk: apt-get install -y wrk)
# Serves the router over pochi_core::MemoryStore with 50 products (the SQLite store comes
# later), and a minimal hello-JSON server on the same stack as the ceiling; then measures
# GET /api/products, POST /api/orders and GET /hello at CONNECTIONS connections.
set -euo pipefail
cd "$(dirname "$0")/../../.."
DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
CARGO="${CARGO:-cargo}"
$CARGO bench -p pochi-http --bench load_server --no-run
bin=$(ls -t "${CARGO_TARGET_DIR:-target}"/release/deps/load_server-* | grep -v '\.d$' | head -1)
"$bin" pochi 127.0.0.1:18080 & pochi=$!
"$bin" hello 127.0.0.1:18081 & hello=$!
trap 'kill $pochi $hello 2>/dev/null || true' EXIT
sleep 2
export PRODUCT_ID=$(cat /tmp/pochi-bench-product)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
run() { echo "== $1"; shift; wrk --latency -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$@" | grep -E 'Requests/sec|50%|99%|Non-2xx|Socket errors'; }
run "hello (ceiling)" http://127.0.0.1:18081/hello
run "GET /api/products" http://127.0.0.1:18080/api/products
run "POST /api/orders" -s crates/pochi-http/benches/order.lua http://127.0.0.1:18080/api/orders
