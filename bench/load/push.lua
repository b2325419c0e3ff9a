-- wrk script: Pub/Sub push requests (wrapped envelope, base64 message.data) for POST /consumer/push.
--   wrk -t T -c C -d D -s bench/load/push.lua http://127.0.0.1:PORT/consumer/push -- MODE PREFIX
-- MODE
--   unique  every request a new order.placed: distinct event_id, order_id and cart_id
--   dup     a fixed set of DUP_SET order.placed events, cycled: after the first pass all are redeliveries
--   mix     cart.updated 50%, cart.abandoned 15%, order.placed 25%, payment.failed 10%, about four events per
--           cart, occurred_at increasing; 5% of requests resend one of the last 512 bodies unchanged
-- PREFIX makes every id of one run distinct from every other run's. A third argument "outcomes" also counts the
-- X-PulseCart-Outcome answers (parsing every response costs the client, so only the smoke run asks for it).
-- done() prints one line: BENCH {"requests":…,"rps":…,"p50_ms":…,"p99_ms":…,"errors":{…},"outcomes":{…}}

local DUP_SET = 100
local DUP_SHARE = 0.05
local RING = 512

local byte, concat, floor, random = string.byte, table.concat, math.floor, math.random

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

local mode, prefix, counter = "unique", "x", 0
local dupBodies, ring, ringSize, ringNext = {}, {}, 0, 0
local lastOrder
local headers = { ["Content-Type"] = "application/json" }
-- A day ago: occurred_at increases by a millisecond per event from there, inside the consumer's accepted window
-- (PulseCart:Events: at most the dedup window old, not ahead of its clock).
local T0 = os.time() - 86400
local AN_HOUR_AGO = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - 3600)

function init(args)
  mode = args[1] or "unique"
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

local function mix()
  if ringSize > 0 and random() < DUP_SHARE then
    return ring[random(1, ringSize)]
  end
  local n = counter
  local p = prefix
  local at = os.date("!%Y-%m-%dT%H:%M:%S", T0 + floor(n / 1000)) .. string.format(".%03dZ", n % 1000)
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
  ringNext = ringNext % RING + 1
  ring[ringNext] = body
  if ringSize < RING then
    ringSize = ringSize + 1
  end
  return body
end

function request()
  counter = counter + 1
  local body
  if mode == "dup" then
    body = dupBodies[counter % DUP_SET]
  elseif mode == "mix" then
    body = mix()
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
  io.write(string.format(
    'BENCH {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"outcomes":{%s}}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(counted, ",")))
end
