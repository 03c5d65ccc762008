-- wrk script of benches/run.sh.
-- With POCHI_ORDER_BODY set, every request is POST <url> with that JSON body (a checkout);
-- otherwise wrk's default GET. At the end it prints one line run.sh reads:
--   POCHI_RESULT requests= duration_us= bytes= p50_us= p99_us= max_us= socket_errors= non_2xx=
local body = os.getenv("POCHI_ORDER_BODY")
if body ~= nil and body ~= "" then
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = body
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "POCHI_RESULT requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d max_us=%d "
      .. "socket_errors=%d non_2xx=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
