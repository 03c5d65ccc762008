#!/usr/bin/env bash
# Pochi's benchmarks, each beside its ceiling in the same run (benches/README.md says what and
# how). Runs what the machine has servers for, prints the tables and writes BENCHMARKS.md.
#
#   benches/run.sh           the full run (about 35 minutes besides compiling; release build)
#   benches/run.sh --smoke   every scenario for about a second, so none can rot (CI, after the
#                            tests: a dev build, reusing what `cargo test` compiled); writes
#                            nothing and fails on any error response
#
# 1. The core bench (criterion): checkout parsing, pricing, order JSON and a payment on the
#    in-memory store, each beside its ceiling (full run only: `cargo test` runs it once).
# 2. The scale bench: the admin's order lists, stats and customers on PostgreSQL at 1,000,
#    100,000 and 1,000,000 orders (the smoke: 200 and 2,000).
# 3. The stores bench: place_order through each store against the raw SQL transaction.
# 3b. Junk cursors (load/junk-cursors.py): the reference server's resident memory stays flat
#    under catalogue requests with 60 KB junk cursors (20,000; 2,000 in the smoke).
# 4. HTTP end to end: for each store, pochi-bench-shop starts the reference server
#    (pochi-server) on it and seeds it through its API (1,000 products, SEED_ORDERS orders);
#    pochi-bench-idle measures what 1,000 idle keep-alive connections add to its memory; wrk
#    (load/wrk.lua, every request with a browser's Accept-Encoding unless said otherwise) loads
#    it at each connection count, in rounds of ceiling -> catalogue ceiling (the shop's
#    encoded bytes; then plain, no Accept-Encoding) -> GET /api/products (then with no
#    Accept-Encoding) -> the raw SQL ceiling of tracking (pochi-bench-track) -> GET
#    /api/track/:id -> POST /api/orders (one hot product) -> POST /api/orders (two random
#    products of 1,000) -> mixed; on PostgreSQL also both orders scenarios at 32 connections,
#    each round right after the stores bench's raw transaction for the same orders at 32
#    callers, the goals' ceilings.
#    pochi-bench-report turns the rounds into tables and the goals' verdicts.
#
# Environment:
#   CARGO              cargo to build with (default cargo)
#   CARGO_TARGET_DIR   where the build goes (default target)
#   PROFILE            dev or release (default release; dev for --smoke)
#   STORES             stores for both parts (default sqlite,postgres,mysql); a server that
#                      cannot be reached is skipped, or fails the run when CI is set
#   STORE_SECONDS      measured seconds per side and caller count (default 9), STORE_ROUNDS (3)
#   HTTP_DURATION      wrk duration per round, in seconds (default 10s), HTTP_ROUNDS (2)
#   CONNECTIONS        wrk connection counts (default 64,256), THREADS wrk threads (default 2)
#   IDLE_CONNECTIONS   idle keep-alive connections for the memory figure (default 1000)
#   SEED_ORDERS        orders seeded for the track scenario (default 300)
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
CONNECTIONS=${CONNECTIONS:-64,256}
THREADS=${THREADS:-2}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-1000}
SEED_ORDERS=${SEED_ORDERS:-300}
# A response slower than this counts as an error (wrk's timeout), not as a latency.
WRK_TIMEOUT=10s
# What a browser asks for; load/wrk.lua sends the same unless told otherwise.
BROWSER_ENCODING="gzip, deflate, br, zstd"
# The codings the catalogue ceiling offers, if the shop answers in them.
CODINGS="br zstd gzip deflate"
if $smoke; then
  PROFILE=${PROFILE:-dev}
  store_args=(--smoke)
  HTTP_DURATION=1s HTTP_ROUNDS=1 WARMUP= TRACK_WARMUP=0.2
else
  PROFILE=${PROFILE:-release}
  store_args=(--seconds "${STORE_SECONDS:-9}" --rounds "${STORE_ROUNDS:-3}")
  HTTP_DURATION=${HTTP_DURATION:-10s} HTTP_ROUNDS=${HTTP_ROUNDS:-2} WARMUP=2s TRACK_WARMUP=1
fi
case $PROFILE in
  dev) profile_args=() bin_dir=$TARGET/debug ;;
  release) profile_args=(--release) bin_dir=$TARGET/release ;;
  *) echo "PROFILE must be dev or release, not $PROFILE" >&2; exit 2 ;;
esac

say() { printf 'run.sh: %s\n' "$*" >&2; }
in_ci() { case "${CI:-}" in "" | 0 | false) return 1 ;; *) return 0 ;; esac; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
started_at=$(date +%s)

work=$(mktemp -d)
pids=()
cleanup() {
  # The shop tools stop their servers and drop their databases on SIGTERM: wait for them.
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

cores=$(nproc)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs || echo unknown)
load_start=$(load)
say "machine: $cores cores, $cpu, load average at start $load_start"

# ----- build -----
# One cargo invocation, so features are unified once: the stores bench, this package's tools
# and the reference server. The binaries are run directly, not through cargo.
say "building ($PROFILE profile)"
if ! $CARGO build "${profile_args[@]}" --locked -p pochi-benches -p pochi-server --bins \
  --bench stores --bench scale --bench core --message-format=json-render-diagnostics \
  >"$work/build.json" 2>"$work/build.log"; then
  cat "$work/build.log" >&2
  exit 1
fi
# bench_bin NAME: the executable cargo built for the bench target NAME.
bench_bin() {
  grep '"reason":"compiler-artifact"' "$work/build.json" | grep '"kind":\["bench"\]' |
    grep "\"name\":\"$1\"" | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1
}
stores_bin=$(bench_bin stores) scale_bin=$(bench_bin scale) core_bin=$(bench_bin core)
for tool in pochi-server pochi-bench-server pochi-bench-shop pochi-bench-idle pochi-bench-report \
  pochi-bench-track; do
  [ -x "$bin_dir/$tool" ] || { say "could not find $bin_dir/$tool"; exit 1; }
done
for bin in "$stores_bin" "$scale_bin" "$core_bin"; do
  [ -x "$bin" ] || { say "could not find a bench binary ($bin)"; exit 1; }
done
built_at=$(date +%s)

# ----- core: criterion, each hot path beside its ceiling -----
# The smoke leaves it to `cargo test`, which runs every core benchmark once (test = true).
if ! $smoke; then
  say "core: criterion benchmarks of the hot paths"
  POCHI_CRITERION_DIR="$work/criterion" POCHI_CORE_BENCH_OUT="$work/core.md" \
    "$core_bin" --bench >"$work/core.out" 2>&1 ||
    { cat "$work/core.out" >&2; say "the core bench failed"; exit 1; }
fi

# ----- scale: the admin's lists and statistics as PostgreSQL fills up -----
scale=false
if [[ ",$STORES," == *,postgres,* ]]; then
  say "scale: order lists, stats and customers at growing order counts on PostgreSQL"
  scale_args=(--out "$work/scale.md")
  if $smoke; then scale_args+=(--smoke); fi
  "$scale_bin" "${scale_args[@]}" >&2
  [ ! -s "$work/scale.md" ] || scale=true
fi

# ----- stores: place_order against the raw transaction -----
say "stores: place_order through each store and raw, at 1, 8 and 32 callers"
"$stores_bin" --stores "$STORES" "${store_args[@]}" --out "$work/stores.md" \
  --tsv "$work/stores.tsv" >&2

# ----- hostile clients: junk catalogue cursors must not grow the server (issue #14) -----
say "junk cursors: pochi-server's resident memory under junk-cursor requests"
junk_args=(--server "$bin_dir/pochi-server")
if $smoke; then junk_args+=(--requests 2000); fi
python3 benches/load/junk-cursors.py "${junk_args[@]}" >"$work/junk.out" 2>&1 ||
  { cat "$work/junk.out" >&2; say "junk cursors: the server failed or grew"; exit 1; }
grep '^POCHI_RESULT' "$work/junk.out" >&2

# ----- hostile clients: hoarding stock and prompting a stranger's phone (issue #14) -----
say "hoarding: anonymous orders and payment prompts against the shop's limits"
hoard_args=(--server "$bin_dir/pochi-server")
if $smoke; then hoard_args+=(--attempts 30); fi
python3 benches/load/hoarding.py "${hoard_args[@]}" >"$work/hoard.out" 2>&1 ||
  { cat "$work/hoard.out" >&2; say "hoarding: the limits did not hold"; exit 1; }
grep -E '^(POCHI_RESULT|after the short hold)' "$work/hoard.out" >&2

# ----- HTTP: the reference server on each store, and the plain-hyper ceiling, under wrk -----
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

# The idle connections and wrk's need file descriptors, in the servers too (they inherit it).
fds_needed=$((IDLE_CONNECTIONS + 1024))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$fds_needed" ]; then
  ulimit -n "$fds_needed" 2>/dev/null || ulimit -n "$(ulimit -Hn)" ||
    say "cannot raise the open-file limit above $(ulimit -n)"
fi

# spawn OUT COMMAND...: runs COMMAND in the background, its output in OUT (and its errors in
# OUT.err unless ERRORS=inherit); sets spawned_pid.
spawn() {
  local out=$1
  shift
  if [ "${ERRORS:-}" = inherit ]; then
    "$@" >"$out" &
  else
    "$@" >"$out" 2>"$out.err" &
  fi
  spawned_pid=$!
  pids+=("$spawned_pid")
}

# wait_for OUT PID PATTERN SECONDS WHAT: waits for a line of OUT matching PATTERN (extended).
wait_for() {
  local out=$1 pid=$2 pattern=$3 limit=$(($4 * 10)) what=$5 waited=0
  until grep -qE "$pattern" "$out" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null || ((waited >= limit)); then
      say "$what did not get ready"
      [ ! -f "$out.err" ] || cat "$out.err" >&2
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# coding_of ACCEPT FILE: the Content-Encoding the shop answers $products_url with, asked with
# Accept-Encoding: ACCEPT; the body, as sent, goes to FILE.
coding_of() {
  curl -sf -o "$2" -D - -H "Accept-Encoding: $1" "$products_url" | tr -d '\r' |
    awk -F': *' 'tolower($1) == "content-encoding" { print $2 }' || true
}

# stop PID: SIGTERM and wait; fails when the process failed.
stop() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1"
}

# kb PID FIELD: a figure of /proc/PID/status in kB (VmRSS now, VmHWM the peak so far).
kb() { awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status"; }

# wrk_run STORE SCENARIO CONNECTIONS URL SERVER_PID [LUA_SCENARIO]: one round; appends its
# figures and the server's peak RSS during the round to $work/http.tsv. Requests carry a
# browser's Accept-Encoding, or none with ENCODING=none.
wrk_run() {
  local store=$1 scenario=$2 conns=$3 url=$4 pid=$5 lua=${6:-get}
  local threads=$THREADS out
  ((conns >= threads)) || threads=$conns
  # The peak resident memory from here on (Linux resets VmHWM on `5`; root or the owner).
  echo 5 2>/dev/null >"/proc/$pid/clear_refs" || true
  out=$(POCHI_SCENARIO=$lua POCHI_BENCH_DATA=${data_file:-} POCHI_ACCEPT_ENCODING=${ENCODING:-} \
    wrk -t"$threads" -c"$conns" \
    -d"$HTTP_DURATION" --timeout "$WRK_TIMEOUT" -s benches/load/wrk.lua "$url" |
    grep '^POCHI_RESULT ') || { say "wrk found no result for $store $scenario"; exit 1; }
  # POCHI_RESULT requests= duration_us= bytes= p50_us= p99_us= max_us= socket_errors= non_2xx=
  printf 'store=%s\tscenario=%s\tconnections=%s\t%s\trss_kb=%s\tload=%s\n' \
    "$store" "$scenario" "$conns" "$(echo "${out#POCHI_RESULT }" | tr ' ' '\t')" \
    "$(kb "$pid" VmHWM)" "$(load | tr ' ' ,)" >>"$work/http.tsv"
  say "$store, $scenario, $conns connections: ${out#POCHI_RESULT }"
}

# track_raw STORE CONNECTIONS: the raw SQL ceiling of tracking on the server's own database
# (pochi-bench-track), as long as a round; appends its line to $work/http.tsv.
track_raw() {
  local line
  line=$("$bin_dir/pochi-bench-track" --store "$1" --data "$data_file" --callers "$2" \
    --seconds "${HTTP_DURATION%s}" --warmup "$TRACK_WARMUP" 2>"$work/track-raw.err") ||
    { cat "$work/track-raw.err" >&2; say "the raw tracking read on $1 failed"; exit 1; }
  echo "$line" >>"$work/http.tsv"
  say "$1, track-raw, $2 callers: $(echo "$line" | tr '\t' ' ' | cut -d' ' -f4-5)"
}

: >"$work/http.tsv"
: >"$work/memory.tsv"
http_ok=true
if $http; then
  spawn "$work/hello.out" "$bin_dir/pochi-bench-server" hello
  wait_for "$work/hello.out" "$spawned_pid" '^ready ' 30 "the ceiling"
  hello_pid=$spawned_pid
  read -r _ addr _ < <(grep -m1 '^ready ' "$work/hello.out")
  hello_url="http://$addr/"
  # The bare router over SQLite (pochi-bench-server shop): what the reference server adds.
  router_url= router_pid=
  if [[ ",$STORES," == *,sqlite,* ]]; then
    spawn "$work/router.out" "$bin_dir/pochi-bench-server" shop "$work/router.db"
    wait_for "$work/router.out" "$spawned_pid" '^ready ' 60 "the bare router"
    router_pid=$spawned_pid
    read -r _ addr _ < <(grep -m1 '^ready ' "$work/router.out")
    router_url="http://$addr/api/products?limit=50"
  fi
  big_url= big_pid= raw_tsvs=() raw_random_tsvs=()
  first_connections=${CONNECTIONS%%,*}

  for store in ${STORES//,/ }; do
    out="$work/shop-$store.out"
    data_file="$work/data-$store.txt"
    say "HTTP on $store: starting pochi-server and seeding it"
    ERRORS=inherit spawn "$out" "$bin_dir/pochi-bench-shop" --server "$bin_dir/pochi-server" \
      --store "$store" --data "$data_file" --orders "$SEED_ORDERS"
    shop_tool=$spawned_pid
    wait_for "$out" "$shop_tool" '^(started|skipped)' 120 "pochi-server on $store"
    if grep -q '^skipped' "$out"; then
      wait "$shop_tool"
      say "HTTP on $store: skipped (its server cannot be reached)"
      continue
    fi
    read -r _ addr server_pid < <(grep -m1 '^started ' "$out")
    shop_url="http://$addr"
    products_url="$shop_url/api/products?limit=50"

    # Memory, before anything else reaches the server: idle after start, then with the idle
    # keep-alive connections, each answered once.
    idle_kb=$(kb "$server_pid" VmRSS)
    spawn "$work/idle-$store.out" "$bin_dir/pochi-bench-idle" "$addr" "$IDLE_CONNECTIONS"
    idle_tool=$spawned_pid
    wait_for "$work/idle-$store.out" "$idle_tool" '^ready ' 120 "$IDLE_CONNECTIONS idle connections"
    sleep 1
    open_kb=$(kb "$server_pid" VmRSS)
    stop "$idle_tool" || { say "pochi-bench-idle failed"; cat "$work/idle-$store.out.err" >&2; exit 1; }
    closed=$(sed -n 's/^closed //p' "$work/idle-$store.out")

    kill -USR1 "$shop_tool"
    wait_for "$out" "$shop_tool" '^ready ' 600 "seeding pochi-server on $store"
    seeded_kb=$(kb "$server_pid" VmRSS)
    printf 'store=%s\tidle_kb=%s\topen_kb=%s\tseeded_kb=%s\tconnections=%s\tclosed=%s\n' \
      "$store" "$idle_kb" "$open_kb" "$seeded_kb" "$IDLE_CONNECTIONS" "${closed:-0}" \
      >>"$work/memory.tsv"
    say "memory on $store: idle $idle_kb kB, $open_kb kB with $IDLE_CONNECTIONS connections (${closed:-?} closed by the server), $seeded_kb kB after seeding"

    # A second ceiling answering with the catalogue's own bytes, as the shop sends them: plain
    # without Accept-Encoding, and in each coding the shop answers in, first the one it chose
    # for a browser (curl keeps the bytes as sent). How much of the gap is the payload (through
    # loopback, parsed by wrk on the same cores) and how much the server. One per store: each
    # store's page has its own ids and times, so its own size once compressed.
    if [ -n "$big_pid" ]; then
      kill -TERM "$big_pid" 2>/dev/null || true
      wait "$big_pid" 2>/dev/null || true
      big_url= big_pid=
    fi
    catalogue="$work/catalogue-$store"
    if command -v curl >/dev/null && curl -sf -o "$catalogue.json" "$products_url"; then
      browser_coding=$(coding_of "$BROWSER_ENCODING" /dev/null)
      variants=
      for coding in $browser_coding $CODINGS; do
        [[ ",$variants" != *",$coding="* ]] || continue
        [ "$(coding_of "$coding" "$catalogue.$coding")" != "$coding" ] ||
          variants+="$coding=$catalogue.$coding,"
      done
      say "catalogue ceiling on $store: $(wc -c <"$catalogue.json") bytes plain, encoded for a browser as ${browser_coding:-nothing}; variants: ${variants:-none}"
      POCHI_BENCH_HELLO_BODY="$catalogue.json" POCHI_BENCH_HELLO_ENCODED=$variants \
        spawn "$work/big-$store.out" "$bin_dir/pochi-bench-server" hello
      big_pid=$spawned_pid
      wait_for "$work/big-$store.out" "$big_pid" '^ready ' 30 "the catalogue-sized ceiling"
      read -r _ big_addr _ < <(grep -m1 '^ready ' "$work/big-$store.out")
      big_url="http://$big_addr/"
    fi

    if [ -n "$WARMUP" ]; then
      for url in "$hello_url" $big_url "$products_url"; do
        wrk -t"$THREADS" -c"$first_connections" -d"$WARMUP" \
          -H "Accept-Encoding: $BROWSER_ENCODING" "$url" >/dev/null
      done
      POCHI_SCENARIO=mixed POCHI_BENCH_DATA=$data_file wrk -t"$THREADS" -c"$first_connections" \
        -d"$WARMUP" -s benches/load/wrk.lua "$shop_url" >/dev/null
    fi
    # Each round measures the ceilings right before the shop, so both see the same load.
    for conns in ${CONNECTIONS//,/ }; do
      for ((round = 1; round <= HTTP_ROUNDS; round++)); do
        say "HTTP on $store, $conns connections, round $round of $HTTP_ROUNDS ($HTTP_DURATION each)"
        wrk_run "$store" ceiling "$conns" "$hello_url" "$hello_pid"
        if [ -n "$big_url" ]; then
          wrk_run "$store" ceiling-catalogue "$conns" "$big_url" "$big_pid"
          ENCODING=none wrk_run "$store" ceiling-catalogue-plain "$conns" "$big_url" "$big_pid"
        fi
        if [ -n "$router_url" ] && [ "$store" = sqlite ] && [ "$conns" = "$first_connections" ]; then
          wrk_run "$store" products-router "$conns" "$router_url" "$router_pid"
        fi
        wrk_run "$store" products "$conns" "$products_url" "$server_pid"
        ENCODING=none wrk_run "$store" products-plain "$conns" "$products_url" "$server_pid"
        track_raw "$store" "$conns"
        wrk_run "$store" track "$conns" "$shop_url" "$server_pid" track
        wrk_run "$store" orders "$conns" "$shop_url" "$server_pid" orders
        wrk_run "$store" orders-random "$conns" "$shop_url" "$server_pid" orders-random
        wrk_run "$store" mixed "$conns" "$shop_url" "$server_pid" mixed
      done
    done
    if [ "$store" = postgres ]; then
      # The goal's figure, against the stores bench's raw transaction at 32 callers measured
      # right before each round (on a database of its own), so both see the same machine.
      for ((round = 1; round <= HTTP_ROUNDS; round++)); do
        "$stores_bin" --stores postgres --callers 32 --only raw --seconds "${HTTP_DURATION%s}" \
          --rounds 1 --warmup 1 --tsv "$work/raw-$round.tsv" >"$work/raw-$round.out" 2>&1 ||
          { cat "$work/raw-$round.out" >&2; say "the raw PostgreSQL transaction failed"; exit 1; }
        raw_tsvs+=(--raw-tsv "$work/raw-$round.tsv")
        say "postgres, raw transaction, 32 callers: $(awk -F'\t' 'NR == 2 { print $4 }' "$work/raw-$round.tsv") orders/s"
        wrk_run "$store" orders 32 "$shop_url" "$server_pid" orders
      done
      # The same for orders of two random products out of 1,000 (on a catalogue of the stores
      # bench's own, as large as the shop's).
      for ((round = 1; round <= HTTP_ROUNDS; round++)); do
        "$stores_bin" --stores postgres --callers 32 --only raw --orders random \
          --seconds "${HTTP_DURATION%s}" --rounds 1 --warmup 1 \
          --tsv "$work/raw-random-$round.tsv" >"$work/raw-random-$round.out" 2>&1 ||
          { cat "$work/raw-random-$round.out" >&2; say "the raw random-products transaction failed"; exit 1; }
        raw_random_tsvs+=(--raw-random-tsv "$work/raw-random-$round.tsv")
        say "postgres, raw transaction of two random products, 32 callers: $(awk -F'\t' 'NR == 2 { print $4 }' "$work/raw-random-$round.tsv") orders/s"
        wrk_run "$store" orders-random 32 "$shop_url" "$server_pid" orders-random
      done
    fi
    stop "$shop_tool" || { say "pochi-bench-shop on $store failed to stop cleanly"; exit 1; }
  done

  report_args=(--rounds "$work/http.tsv" --memory "$work/memory.tsv" "${raw_tsvs[@]}"
    "${raw_random_tsvs[@]}")
  if $smoke; then report_args+=(--check); fi
  "$bin_dir/pochi-bench-report" "${report_args[@]}" >"$work/http.md" || http_ok=false
fi

load_end=$(load)
if ! $smoke; then
  echo
  echo "## Core: the hot paths against their ceilings (criterion)"
  echo
  cat "$work/core.md"
fi
if $scale; then
  echo
  echo "## Scale: admin lists and statistics on PostgreSQL as orders grow"
  echo
  cat "$work/scale.md"
fi
echo
echo "## Stores: place_order against the raw SQL transaction"
echo
cat "$work/stores.md"
if $http; then
  echo
  echo "## HTTP end to end: the reference server on each store against a plain-hyper ceiling"
  echo
  cat "$work/http.md"
fi
echo
echo "machine: $cores cores, $cpu; load average at start $load_start, at end $load_end"
say "took $(($(date +%s) - started_at)) s, of which building $((built_at - started_at)) s"

if $smoke; then
  if $http && ! $http_ok; then
    say "smoke: some requests failed (see the errors column)"
    exit 1
  fi
  say "smoke: every scenario ran"
  exit 0
fi
$http_ok || { say "the HTTP report failed"; exit 1; }

{
  echo "# Benchmarks"
  echo
  echo "The latest full run of \`benches/run.sh\` (what it measures and how: [benches/README.md](benches/README.md))."
  echo "Every figure has the load average (\`uptime\`: 1, 5 and 15 minutes) beside it; this machine"
  echo "is shared, so compare figures with their ceiling in the same row or round, not across runs."
  echo "The load average counts the benchmark's own processes too (the bench and its database, or"
  echo "wrk and a server keep about 2 runnable): what is above that is other work on the machine."
  echo
  echo "- Run: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $PROFILE build"
  echo "- Machine: $cores cores (\`nproc\`), $cpu"
  echo "- Load average at start: $load_start; at end: $load_end"
  echo "- Stores: ${STORE_SECONDS:-9} s measured per side and caller count, in ${STORE_ROUNDS:-3} alternating rounds, after 1 s of warm-up each"
  echo "- HTTP: wrk, $THREADS threads, $CONNECTIONS connections, $HTTP_ROUNDS rounds of $HTTP_DURATION per scenario after a ${WARMUP} warm-up; load generator and server share the $cores cores"
  echo
  echo "## Core: the hot paths against their ceilings (criterion)"
  echo
  echo "Median time per call, and the Pochi side as a multiple of the same work without Pochi's rules."
  echo
  cat "$work/core.md"
  if $scale; then
    echo
    echo "## Scale: admin lists and statistics on PostgreSQL as orders grow"
    echo
    echo "Through the store, 30 runs of each query per size after 3 warm-ups; the database grows"
    echo "from one size to the next (how the orders are made: benches/README.md)."
    echo
    cat "$work/scale.md"
  fi
  echo
  echo "## Stores: place_order against the raw SQL transaction"
  echo
  cat "$work/stores.md"
  if $http; then
    echo
    echo "## HTTP end to end: the reference server on each store against a plain-hyper ceiling"
    echo
    echo "\`pochi-server\` ($PROFILE build, SQLite file / PostgreSQL / MariaDB, rate limits off, logs at"
    echo "warn, simulated M-Pesa), seeded through its API with 1,000 products and $SEED_ORDERS orders."
    echo "Every request carries a browser's \`Accept-Encoding: $BROWSER_ENCODING\` unless its row"
    echo "says otherwise; bytes/resp counts what was sent, so encoded sizes."
    echo "Ceiling rows are measured in the same rounds, right before the shop's scenarios."
    echo
    cat "$work/http.md"
  fi
} >BENCHMARKS.md
say "wrote BENCHMARKS.md"
