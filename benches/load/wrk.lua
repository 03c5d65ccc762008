-- wrk script of benches/run.sh: `wrk -s benches/load/wrk.lua URL` with the scenario in
-- POCHI_SCENARIO:
--   get            (default) GET URL, wrk's own fixed request (the ceilings, GET /api/products)
--   track          GET /api/track/NUMBER of a random seeded order, a new pick per request
--   orders         POST /api/orders, a two-line checkout with no idempotency key (each is an
--                  order), always for the same two products
--   orders-random  POST /api/orders, a two-line checkout for two distinct products picked at
--                  random out of the whole catalogue (1,000), a new pick per request
--   mixed          per request: 80% GET /api/products?limit=50, 15% track, 5% orders
-- Every request carries a browser's `Accept-Encoding: gzip, deflate, br, zstd`, or
-- POCHI_ACCEPT_ENCODING's value instead; POCHI_ACCEPT_ENCODING=none sends no Accept-Encoding.
-- track, orders, orders-random and mixed read POCHI_BENCH_DATA, the file pochi-bench-shop
-- seeded: lines `product ID` (the catalogue's first page, 50), `catalogue ID` (every product)
-- and `order NUMBER`. In `orders` every order is for the first two products (two units and
-- one), like the stores bench's default order, so orders meet on the same rows as they do
-- there and the figure compares with its raw ceiling: the flash sale. In `orders-random` (two
-- units of one product and one of another, like the stores bench's `--orders random`) orders
-- rarely meet on a row, as a shop's customers' orders. In `mixed`, a day in the shop, each
-- order is for a random product of the first page, which the mix browses, and its neighbour.
-- At the end it prints one line run.sh reads:
--   POCHI_RESULT requests= duration_us= bytes= p50_us= p99_us= max_us= socket_errors= non_2xx=
-- (non_2xx is wrk's count of responses with a status of 400 or more).

local scenario = os.getenv("POCHI_SCENARIO") or ""
if scenario == "" then scenario = "get" end
local products_path = "/api/products?limit=50"

local browser = "gzip, deflate, br, zstd"
local accept_encoding = os.getenv("POCHI_ACCEPT_ENCODING") or ""
if accept_encoding == "" then
  accept_encoding = browser
elseif accept_encoding == "none" then
  accept_encoding = nil
end

-- The headers of a request this script formats itself.
local function headers(extra)
  local all = extra or {}
  all["Accept-Encoding"] = accept_encoding
  return all
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local orders = {}
local products = {}
local catalogue = {}
local order_body

-- A checkout of `q1` units of product `p1` and `q2` of `p2`.
local function checkout(p1, q1, p2, q2)
  return string.format(
    '{"name":"Wanjiru Kamau","phone":"0712345678","county":"Nairobi","area":"Westlands",'
      .. '"address":"Mpaka Road, blue gate","items":[{"productId":"%s","quantity":%d},'
      .. '{"productId":"%s","quantity":%d}]}',
    p1, q1, p2, q2)
end

local function read_data()
  local file = os.getenv("POCHI_BENCH_DATA")
  if file == nil or file == "" then
    error("POCHI_BENCH_DATA must name the file pochi-bench-shop seeded")
  end
  for line in io.lines(file) do
    local kind, value = line:match("^(%a+) (%S+)$")
    if kind == "product" then
      products[#products + 1] = value
    elseif kind == "catalogue" then
      catalogue[#catalogue + 1] = value
    elseif kind == "order" then
      orders[#orders + 1] = value
    end
  end
  if #products < 2 or #orders < 1 then
    error(file .. " needs two products and an order at least")
  end
  if scenario == "orders-random" and #catalogue < 2 then
    error(file .. " needs two catalogue products at least")
  end
  order_body = checkout(products[1], 2, products[2], 1)
end

local products_request

function init(args)
  -- wrk's fixed request (and wrk.format without headers) sends wrk.headers.
  wrk.headers["Accept-Encoding"] = accept_encoding
  if scenario == "get" then
    return
  end
  if scenario ~= "track" and scenario ~= "orders" and scenario ~= "orders-random"
    and scenario ~= "mixed" then
    error("POCHI_SCENARIO must be get, track, orders, orders-random or mixed, not " .. scenario)
  end
  read_data()
  math.randomseed(os.time() * 100 + (id or 0))
  if scenario == "orders" then
    -- One fixed request: wrk sends it without calling Lua per request.
    wrk.method = "POST"
    wrk.path = "/api/orders"
    wrk.headers["Content-Type"] = "application/json"
    wrk.body = order_body
    return
  end
  products_request = wrk.format("GET", products_path)
end

-- An order for two different products of `list`: the first picked at random, the second its
-- neighbour (mixed), or both at random (orders-random).
local function random_order(list, spread)
  local first = math.random(#list)
  local second = first % #list + 1
  local units = math.random(2)
  if spread then
    second = (first + math.random(#list - 1) - 1) % #list + 1
    units = 2
  end
  return wrk.format("POST", "/api/orders", headers({ ["Content-Type"] = "application/json" }),
    checkout(list[first], units, list[second], 1))
end

local function track()
  return wrk.format("GET", "/api/track/" .. orders[math.random(#orders)], headers())
end

-- Defined only for the scenarios that change request by request: with no `request` function
-- wrk sends its fixed request without calling Lua.
if scenario == "track" then
  request = track
elseif scenario == "orders-random" then
  request = function()
    return random_order(catalogue, true)
  end
elseif scenario == "mixed" then
  request = function()
    local pick = math.random(100)
    if pick <= 80 then
      return products_request
    elseif pick <= 95 then
      return track()
    end
    return random_order(products, false)
  end
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
