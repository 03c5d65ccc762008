#!/usr/bin/env bash
# Pochi's benchmarks, each beside its ceiling in the same run (benches/README.md says what and
# how). Runs what the machine has servers for, prints the tables and writes BENCHMARKS.md.
#
#   benches/run.sh           the full run (about 5 minutes besides compiling)
#   benches/run.sh --smoke   every scenario for a moment, so none can rot (CI); writes nothing
#                            and fails on any error response
#
# Environment:
#   CARGO              cargo to build with (default cargo; on the shared machine /work/bin/xcargo)
#   CARGO_TARGET_DIR   where the build goes (default target)
#   STORES             stores for the place_order bench (default sqlite,postgres,mysql); a
#                      server that cannot be reached is skipped, or fails the run when CI is set
#   STORE_SECONDS      measured seconds per side and caller count (default 9), STORE_ROUNDS (3)
#   HTTP_DURATION      wrk duration per round (default 10s), HTTP_ROUNDS (2)
#   CONNECTIONS        wrk connections (default 64), THREADS wrk threads (default 2)
#   POCHI_TEST_POSTGRES_URL, POCHI_TEST_MYSQL_URL   the servers, as for the store tests
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=false
case "${1:-}" in
  --smoke) smoke=true ;;
  "") ;;
  *) echo "usage: benches/run.sh [--smoke]" >&2; exit 2 ;;
esac

CARGO=${CARGO:-cargo}
TARGET=${CARGO_TARGET_DIR:-target}
STORES=${STORES:-sqlite,postgres,mysql}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
if $smoke; then
  store_args=(--smoke)
  HTTP_DURATION=1s HTTP_ROUNDS=1 WARMUP=
else
  store_args=(--seconds "${STORE_SECONDS:-9}" --rounds "${STORE_ROUNDS:-3}")
  HTTP_DURATION=${HTTP_DURATION:-10s} HTTP_ROUNDS=${HTTP_ROUNDS:-2} WARMUP=2s
fi

say() { printf 'run.sh: %s\n' "$*" >&2; }
in_ci() { case "${CI:-}" in "" | 0 | false) return 1 ;; *) return 0 ;; esac; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

cores=$(nproc)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs || echo unknown)
load_start=$(load)
say "machine: $cores cores, $cpu, load average at start $load_start"

# ----- build -----
# `cargo bench --no-run` builds the stores bench and the package's binary (the HTTP servers).
# Both are run directly, not through cargo, so a build slot stays free meanwhile.
if ! $CARGO bench -p pochi-benches --bench stores --no-run >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  exit 1
fi
stores_bin=$(sed -n 's/.*Executable .*(\(.*\)).*/\1/p' "$work/build.log" | tail -n 1)
server_bin=$TARGET/release/pochi-bench-server
[ -x "$stores_bin" ] && [ -x "$server_bin" ] || { say "could not find the bench binaries"; exit 1; }

# ----- stores: place_order against the raw transaction -----
say "stores: place_order through each store and raw, at 1, 8 and 32 callers"
"$stores_bin" --stores "$STORES" "${store_args[@]}" --out "$work/stores.md" >&2

# ----- HTTP: the shop's router and the plain-hyper ceiling under wrk (curl optional) -----
http=true
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing wrk from Debian"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >&2 ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >&2; }
  fi
  if ! command -v wrk >/dev/null; then
    if in_ci; then say "wrk is required in CI and could not be installed"; exit 1; fi
    say "skipping HTTP: no wrk (apt-get install wrk)"
    http=false
  fi
fi

# Starts `$server_bin "$@"` in the background and waits for its `ready ADDR PRODUCT` line;
# sets server_pid, server_addr and server_product.
start_server() {
  local out="$work/server-${#pids[@]}.out"
  "$server_bin" "$@" >"$out" 2>"$out.err" &
  server_pid=$!
  pids+=("$server_pid")
  local waited=0
  until grep -q '^ready ' "$out"; do
    if ! kill -0 "$server_pid" 2>/dev/null || ((waited >= 300)); then
      say "server $* did not start:"; cat "$out.err" >&2; exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  read -r _ server_addr server_product < <(grep -m1 '^ready ' "$out")
}

# wrk_run SCENARIO URL [ORDER_BODY]: one round; appends its figures to $work/http.tsv.
wrk_run() {
  local scenario=$1 url=$2 body=${3:-}
  local out
  out=$(POCHI_ORDER_BODY=$body wrk -t"$THREADS" -c"$CONNECTIONS" -d"$HTTP_DURATION" \
    -s benches/load/wrk.lua "$url" | grep '^POCHI_RESULT ') ||
    { say "wrk found no result for $scenario"; exit 1; }
  # POCHI_RESULT requests= duration_us= bytes= p50_us= p99_us= max_us= socket_errors= non_2xx=
  # One tab-separated line; spaces in the scenario's name travel as underscores.
  echo "${scenario// /_} ${out#POCHI_RESULT } load=$(load | tr ' ' ,)" | tr ' ' '\t' >>"$work/http.tsv"
  say "$scenario: ${out#POCHI_RESULT }"
}

if $http; then
  start_server hello
  hello_pid=$server_pid hello_url="http://$server_addr/"
  start_server shop "$work/shop.db"
  shop_pid=$server_pid shop_url="http://$server_addr" product=$server_product
  products_url="$shop_url/api/products?limit=50"
  # A second ceiling answering with the catalogue's own bytes: how much of the gap is the
  # payload (15 KB through loopback, parsed by wrk on the same cores) and how much the router.
  big_url=
  if command -v curl >/dev/null && curl -sf -o "$work/catalogue.json" "$products_url"; then
    POCHI_BENCH_HELLO_BODY="$work/catalogue.json" start_server hello
    big_url="http://$server_addr/" big_pid=$server_pid
  fi
  order_body="{\"name\":\"Wanjiru Kamau\",\"phone\":\"0712345678\",\"county\":\"Nairobi\",\
\"area\":\"Westlands\",\"address\":\"Mpaka Road, blue gate\",\
\"items\":[{\"productId\":\"$product\",\"quantity\":1}]}"

  # Each round measures the ceiling right before the shop, so both see the same load.
  if [ -n "$WARMUP" ]; then
    for url in "$hello_url" $big_url "$products_url"; do
      wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$url" >/dev/null
    done
  fi
  : >"$work/http.tsv"
  for ((round = 1; round <= HTTP_ROUNDS; round++)); do
    say "HTTP round $round of $HTTP_ROUNDS ($CONNECTIONS connections, $HTTP_DURATION each)"
    wrk_run "ceiling" "$hello_url"
    [ -z "$big_url" ] || wrk_run "ceiling, catalogue-sized body" "$big_url"
    wrk_run "GET /api/products" "$products_url"
    wrk_run "POST /api/orders" "$shop_url/api/orders" "$order_body"
  done
  rss() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
  hello_rss=$(rss "$hello_pid") shop_rss=$(rss "$shop_pid") big_rss=
  [ -z "$big_url" ] || big_rss=$(rss "$big_pid")

  # Per scenario over its rounds: req/s = requests / time; p50 the mean, p99 and max the worst.
  awk -F'\t' -v conns="$CONNECTIONS" -v hello_rss="$hello_rss" -v shop_rss="$shop_rss" -v big_rss="$big_rss" '
    function field(i, name,   kv) { split($i, kv, "="); return kv[2] }
    {
      s = $1; gsub("_", " ", s)
      if (!(s in req)) order[n++] = s
      req[s] += field(2); dur[s] += field(3); bytes[s] += field(4)
      p50[s] += field(5); rounds[s]++
      if (field(6) > p99[s]) p99[s] = field(6)
      if (field(7) > max[s]) max[s] = field(7)
      errors[s] += field(8) + field(9)
      loads[s] = loads[s] (loads[s] == "" ? "" : "; ") field(10)
    }
    END {
      print "| scenario | connections | req/s | of ceiling | p50 ms | p99 ms | max ms | errors | bytes/resp | server peak RSS | load avg per round (1,5,15 min) |"
      print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
      ceiling = req["ceiling"] / dur["ceiling"] * 1e6
      for (i = 0; i < n; i++) {
        s = order[i]; rate = req[s] / dur[s] * 1e6
        printf "| %s | %d | %.0f | %.0f%% | %.2f | %.2f | %.2f | %d | %.0f | %s MB | %s |\n",
          s, conns, rate, rate / ceiling * 100, p50[s] / rounds[s] / 1000, p99[s] / 1000,
          max[s] / 1000, errors[s], bytes[s] / req[s], (s == "ceiling" ? hello_rss : s ~ /^ceiling/ ? big_rss : shop_rss),
          loads[s]
        if (s == "GET /api/products") { products_ratio = rate / ceiling; products_p99 = p99[s] / 1000; products_rate = rate }
        if (s == "ceiling, catalogue-sized body") big = rate
      }
      printf "\nGET /api/products: %.0f%% of the ceiling'"'"'s req/s (goal ≥ 50%%): %s; ", \
        products_ratio * 100, products_ratio >= 0.5 ? "met" : "missed"
      printf "p99 %.2f ms at %d connections (goal < 50 ms): %s\n", \
        products_p99, conns, products_p99 < 50 ? "met" : "missed"
      if (big > 0) printf "GET /api/products against a ceiling answering with the catalogue'"'"'s own bytes: %.0f%%\n", \
        products_rate / big * 100
    }' "$work/http.tsv" >"$work/http.md"
fi

load_end=$(load)
echo
echo "## Stores: place_order against the raw SQL transaction"
echo
cat "$work/stores.md"
if $http; then
  echo
  echo "## HTTP on loopback: the router with the SQLite store against a plain-hyper ceiling"
  echo
  cat "$work/http.md"
fi
echo
echo "machine: $cores cores, $cpu; load average at start $load_start, at end $load_end"

if $smoke; then
  if $http && awk -F'\t' '{ split($8, a, "="); split($9, b, "="); if (a[2] + b[2] > 0) bad = 1 }
                          END { exit !bad }' "$work/http.tsv"; then
    say "smoke: some requests failed (see the errors column)"
    exit 1
  fi
  say "smoke: every scenario ran"
  exit 0
fi

{
  echo "# Benchmarks"
  echo
  echo "The latest full run of \`benches/run.sh\` (what it measures and how: [benches/README.md](benches/README.md))."
  echo "Every figure has the load average (\`uptime\`: 1, 5 and 15 minutes) beside it; this machine"
  echo "is shared, so compare figures with their ceiling in the same row or round, not across runs."
  echo "The load average counts the benchmark's own processes too (the bench and its database, or"
  echo "wrk and a server keep about 2 runnable): what is above that is other work on the machine."
  echo
  echo "- Run: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- Machine: $cores cores (\`nproc\`), $cpu"
  echo "- Load average at start: $load_start; at end: $load_end"
  echo "- Stores: ${STORE_SECONDS:-9} s measured per side and caller count, in ${STORE_ROUNDS:-3} alternating rounds, after 1 s of warm-up each"
  echo "- HTTP: wrk, $THREADS threads, $CONNECTIONS connections, $HTTP_ROUNDS rounds of $HTTP_DURATION per scenario after a ${WARMUP} warm-up; load generator and server share the $cores cores"
  echo
  echo "## Stores: place_order against the raw SQL transaction"
  echo
  cat "$work/stores.md"
  if $http; then
    echo
    echo "## HTTP on loopback: the router with the SQLite store against a plain-hyper ceiling"
    echo
    cat "$work/http.md"
  fi
} >BENCHMARKS.md
say "wrote BENCHMARKS.md"
