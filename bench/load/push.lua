-- wrk script: Pub/Sub push requests (wrapped envelope, base64 message.data) for POST /consumer/push.
--   wrk -t T -c C -d D -s bench/load/push.lua http://127.0.0.1:PORT/consumer/push -- MODE PREFIX
-- MODE
--   unique  every request a new order.placed: distinct event_id, order_id and cart_id
--   dup     a fixed set of DUP_SET order.placed events, cycled: after the first pass all are redeliveries
--   mix     cart.updated 50%, cart.abandoned 15%, order.placed 25%, payment.failed 10%, about four events per
--           cart, occurred_at increasing; 5% of requests resend one of the last 512 bodies unchanged
--   sessions  shoppers: LIVE_CARTS live carts per thread served round-robin, so one cart's events are spread out in
--           time; each cart gets 2-8 cart.updated, then a third end in order.placed (a quarter of those followed by
--           payment.failed), a fifth in cart.abandoned (a quarter of those purchased later), the rest just stop, and a
--           new cart takes the slot; 5% of requests resend one of the last 512 bodies unchanged
--   active  cart.updated only, on BENCH_ACTIVE_CARTS carts per thread served round-robin, every event a new id (new
--           in every wrk run too): after a first pass with the same PREFIX, every event reaches a cart in memory
-- PREFIX makes every id of one run distinct from every other run's. A third argument "outcomes" also counts the
-- X-PulseCart-Outcome answers (parsing every response costs the client, so only the smoke run asks for it).
-- Environment (all optional):
--   BENCH_RATE        requests/s for this thread (wrk -t T: give each thread its share): requests leave on a fixed
--                     schedule, whatever the answers' latency, instead of as fast as the server answers
--   BENCH_WINDOW_MS   also count requests sent per window of this many ms (a throughput curve)
--   BENCH_ORIGIN_MS   the windows' origin, Unix ms (e.g. when the service became ready); default: the first request
--   BENCH_LIVE_CARTS  live carts per thread in sessions mode (default 1000)
--   BENCH_ACTIVE_CARTS  carts per thread in active mode (default 2000)
-- done() prints one line: BENCH {"requests":…,"rps":…,"p50_ms":…,"p99_ms":…,"errors":{…},"outcomes":{…}}

local DUP_SET = 100
local DUP_SHARE = 0.05
local RING = 512

local byte, concat, floor, random = string.byte, table.concat, math.floor, math.random

-- wrk's Lua is LuaJIT: its ffi reads the clocks that pacing and throughput windows need.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *time);
]]
local clockBuffer = ffi.new("bench_timespec")
local function unixMs() -- CLOCK_REALTIME, comparable with `date +%s%3N` in run.sh
  ffi.C.clock_gettime(0, clockBuffer)
  return tonumber(clockBuffer.tv_sec) * 1000 + tonumber(clockBuffer.tv_nsec) / 1e6
end

-- base64 by 12-bit halves: two table lookups per 3 input bytes keeps the client cheap.
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local pair = {}
for i = 0, 4095 do
  local hi, lo = floor(i / 64), i % 64
  pair[i] = alphabet:sub(hi + 1, hi + 1) .. alphabet:sub(lo + 1, lo + 1)
end

local function base64(s)
  local out, n, len, i = {}, 0, #s, 1
  while i + 2 <= len do
    local a, b, c = byte(s, i, i + 2)
    local v = a * 65536 + b * 256 + c
    out[n + 1] = pair[floor(v / 4096)]
    out[n + 2] = pair[v % 4096]
    n = n + 2
    i = i + 3
  end
  local rest = len - i + 1
  if rest == 1 then
    local v = byte(s, i) * 65536
    out[n + 1] = pair[floor(v / 4096)] .. "=="
  elseif rest == 2 then
    local a, b = byte(s, i, i + 1)
    local v = a * 65536 + b * 256
    out[n + 1] = pair[floor(v / 4096)] .. pair[v % 4096]:sub(1, 1) .. "="
  end
  return concat(out)
end

-- RFC 3339 in UTC with milliseconds, for a time given in Unix ms.
local function timestamp(ms)
  return os.date("!%Y-%m-%dT%H:%M:%S", floor(ms / 1000)) .. string.format(".%03dZ", ms % 1000)
end

local function event(id, eventType, userId, occurredAt, payload)
  return '{"event_id":"' .. id .. '","event_type":"' .. eventType .. '","event_version":1,"occurred_at":"'
    .. occurredAt .. '","source":"bench","user_id":"' .. userId .. '","payload":{' .. payload .. '}}'
end

local function push(eventJson, messageId)
  return '{"message":{"data":"' .. base64(eventJson) .. '","messageId":"' .. messageId
    .. '","publishTime":"2026-11-22T10:00:00Z"},"subscription":"projects/pulsecart/subscriptions/bench"}'
end

local function orderPlaced(p, n, occurredAt)
  local payload = '"order_id":"' .. p .. 'o' .. n .. '","cart_id":"' .. p .. 'c' .. n .. '","total":59.97,"currency":"EUR"'
  return push(event(p .. 'e' .. n, "order.placed", p .. 'u' .. n, occurredAt, payload), p .. n)
end

local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local mode, prefix, counter, runNonce = "unique", "x", 0, ""
local dupBodies, ring, ringSize, ringNext = {}, {}, 0, 0
local lastOrder
local headers = { ["Content-Type"] = "application/json" }
-- A day ago: occurred_at increases by a millisecond per event from there, inside the consumer's accepted window
-- (PulseCart:Events: at most the dedup window old, not ahead of its clock).
local T0 = os.time() - 86400
local AN_HOUR_AGO = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - 3600)

local rate = tonumber(os.getenv("BENCH_RATE") or "")
local windowMs = tonumber(os.getenv("BENCH_WINDOW_MS") or "")
local originMs = tonumber(os.getenv("BENCH_ORIGIN_MS") or "")
local LIVE_CARTS = tonumber(os.getenv("BENCH_LIVE_CARTS") or "") or 1000
local ACTIVE_CARTS = tonumber(os.getenv("BENCH_ACTIVE_CARTS") or "") or 2000
local firstSlotMs, slotsTaken = nil, 0
windows = {} -- requests sent per window, 1-based; read by done() through thread:get

function init(args)
  mode = args[1] or "unique"
  runNonce = string.format("%x", floor(unixMs())) -- a later run on the same carts must not repeat their event ids
  prefix = (args[2] or "run") .. "-"
  math.randomseed(1000 + tid * 7919)
  if args[3] == "outcomes" then
    outcomes = {}
    response = function(status, headers)
      local outcome = headers["X-PulseCart-Outcome"] or ("status " .. status)
      outcomes[outcome] = (outcomes[outcome] or 0) + 1
    end
  end
  if mode == "dup" then
    -- One shared set for every thread, so every event is redelivered from many connections.
    for i = 0, DUP_SET - 1 do
      dupBodies[i] = orderPlaced(prefix, i, AN_HOUR_AGO)
    end
  end
  prefix = prefix .. "t" .. tid .. "-"
end

-- Keeps the last RING bodies, for the loads' redeliveries (an earlier body resent unchanged).
local function remember(body)
  ringNext = ringNext % RING + 1
  ring[ringNext] = body
  if ringSize < RING then
    ringSize = ringSize + 1
  end
  return body
end

local function mix()
  if ringSize > 0 and random() < DUP_SHARE then
    return ring[random(1, ringSize)]
  end
  local n = counter
  local p = prefix
  local at = timestamp(T0 * 1000 + n)
  local cart = p .. 'c' .. floor(n / 4)
  local user = p .. 'u' .. floor(n / 4)
  local r = random()
  local body
  if r < 0.50 then
    body = push(event(p .. 'e' .. n, "cart.updated", user, at, '"cart_id":"' .. cart .. '"'), p .. n)
  elseif r < 0.65 then
    body = push(event(p .. 'e' .. n, "cart.abandoned", user, at,
      '"cart_id":"' .. cart .. '","total":42.5,"currency":"EUR"'), p .. n)
  elseif r < 0.90 or lastOrder == nil then
    lastOrder = p .. 'o' .. n
    body = push(event(p .. 'e' .. n, "order.placed", user, at,
      '"order_id":"' .. lastOrder .. '","cart_id":"' .. cart .. '","total":59.97,"currency":"EUR"'), p .. n)
  else
    body = push(event(p .. 'e' .. n, "payment.failed", user, at,
      '"order_id":"' .. lastOrder .. '","reason":"card_declined"'), p .. n)
  end
  return remember(body)
end

-- sessions: a cart is a script of event types played one step per visit of its slot.
local carts, slot, cartsStarted, eventsMade = {}, 0, 0, 0

local function newCart()
  cartsStarted = cartsStarted + 1
  local steps = {}
  for i = 1, random(2, 8) do
    steps[i] = "cart.updated"
  end
  local r = random()
  if r < 1 / 3 then
    steps[#steps + 1] = "order.placed"
    if random() < 0.25 then
      steps[#steps + 1] = "payment.failed"
    end
  elseif r < 1 / 3 + 1 / 5 then
    steps[#steps + 1] = "cart.abandoned"
    if random() < 0.25 then
      steps[#steps + 1] = "order.placed"
    end
  end
  local id = prefix .. 's' .. cartsStarted
  return { id = id, steps = steps, step = 0 }
end

local function sessions()
  if ringSize > 0 and random() < DUP_SHARE then
    return ring[random(1, ringSize)]
  end
  slot = slot % LIVE_CARTS + 1
  local cart = carts[slot]
  if cart == nil or cart.step >= #cart.steps then
    cart = newCart()
    carts[slot] = cart
  end
  cart.step = cart.step + 1
  eventsMade = eventsMade + 1
  -- occurred_at from one counter per thread: it increases along each cart's events, which one thread makes in order.
  local n = eventsMade
  local at = timestamp(T0 * 1000 + n)
  local eventType = cart.steps[cart.step]
  local eventId = cart.id .. 'e' .. cart.step
  local user = cart.id .. 'u'
  local payload
  if eventType == "cart.updated" then
    payload = '"cart_id":"' .. cart.id .. '"'
  elseif eventType == "cart.abandoned" then
    payload = '"cart_id":"' .. cart.id .. '","total":42.5,"currency":"EUR"'
  elseif eventType == "order.placed" then
    payload = '"order_id":"' .. cart.id .. 'o","cart_id":"' .. cart.id .. '","total":59.97,"currency":"EUR"'
  else
    payload = '"order_id":"' .. cart.id .. 'o","reason":"card_declined"'
  end
  return remember(push(event(eventId, eventType, user, at, payload), eventId))
end

local function active()
  local n = counter
  -- From the clock, an hour back: occurred_at keeps increasing from one wrk run on these carts to the next.
  local at = timestamp(floor(unixMs()) - 3600000)
  local cart = prefix .. 'a' .. (n % ACTIVE_CARTS)
  local id = prefix .. runNonce .. 'e' .. n
  return push(event(id, "cart.updated", cart .. 'u', at, '"cart_id":"' .. cart .. '"'), id)
end

-- Only defined when pacing: wrk then calls it before every request and waits that many ms. Each call takes the
-- thread's next slot on a fixed schedule, so a slow answer does not lower the rate offered (as far as connections allow).
if rate and rate > 0 then
  function delay()
    local now = unixMs()
    firstSlotMs = firstSlotMs or now
    local due = firstSlotMs + slotsTaken * 1000 / rate
    slotsTaken = slotsTaken + 1
    return due > now and floor(due - now) or 0
  end
end

function request()
  counter = counter + 1
  if windowMs then
    local now = unixMs()
    originMs = originMs or now
    local w = floor((now - originMs) / windowMs) + 1
    if w >= 1 then
      for i = #windows + 1, w do
        windows[i] = 0
      end
      windows[w] = windows[w] + 1
    end
  end
  local body
  if mode == "dup" then
    body = dupBodies[counter % DUP_SET]
  elseif mode == "mix" then
    body = mix()
  elseif mode == "sessions" then
    body = sessions()
  elseif mode == "active" then
    body = active()
  else
    body = orderPlaced(prefix, counter, AN_HOUR_AGO)
  end
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local total, counted = {}, {}
  for _, thread in ipairs(threads) do
    for outcome, count in pairs(thread:get("outcomes") or {}) do
      total[outcome] = (total[outcome] or 0) + count
    end
  end
  for outcome, count in pairs(total) do
    table.insert(counted, string.format('"%s":%d', outcome, count))
  end
  local windowJson = ""
  if windowMs then
    local sums = {}
    for _, thread in ipairs(threads) do
      for i, count in ipairs(thread:get("windows") or {}) do
        sums[i] = (sums[i] or 0) + count
      end
    end
    for i = 1, #sums do
      sums[i] = sums[i] or 0
    end
    windowJson = string.format(',"windows":{"ms":%d,"origin_ms":%s,"sent":[%s]}', windowMs,
      originMs and string.format("%d", originMs) or "null", table.concat(sums, ","))
  end
  io.write(string.format(
    'BENCH {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"outcomes":{%s}%s}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(counted, ","), windowJson))
end
