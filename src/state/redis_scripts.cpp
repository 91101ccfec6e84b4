#include "state/redis_scripts.hpp"

#include <initializer_list>
#include <string_view>

#include "util/sha1.hpp"

namespace scalectl::state {

namespace {

// Shared by the lease scripts. Keys (see pool_keys() in redis_store.cpp):
//   KEYS[1] <pool>:workers          hash: id -> lease JSON (the seed's)
//   KEYS[2] <pool>:cpu:allocated    decimal vCPUs (the seed's counter)
//   KEYS[3] <pool>:ram:allocated    decimal GB (the seed's counter)
//   KEYS[4] <pool>:scalectl:totals  hash: mc, mib, n (leases counted), r:<name> units, d:<name> decimals
//   KEYS[5] <pool>:scalectl:expiry  sorted set: id -> expiresAt ms (+inf without TTL)
//   KEYS[5 + i] <pool>:<name>:allocated for A.names[i] (decimal text, written from the totals)
//   then, at W = 5 + #A.names, the waiter queue (fair waiting, allocate --wait):
//   KEYS[W + 1] <pool>:scalectl:waiters       sorted set: id -> (10 - priority) * 2^40 + seq
//   KEYS[W + 2] <pool>:scalectl:waiter_beats  sorted set: id -> heartbeat expiry ms
//   KEYS[W + 3] <pool>:scalectl:waiter_info   hash: id -> waiter JSON (waiter_json.hpp), and
//                                             "~" -> the last arrival number (seq)
//   The two sorted sets hold a sentinel member "~" (score +inf; never a lease id), created by
//   every allocate, so the three keys exist whenever the pool's other keys do: a Redis Cluster
//   slot migration then sees no always-missing key (which would answer TRYAGAIN/ASK throughout).
//
// Redis Cluster slot migration. While a slot is MIGRATING, its source node runs a script only if
// every key it names exists there (else it answers -ASK or -TRYAGAIN, and nothing runs), and it
// fails the script at the first command on a key that is then missing. Redis does not undo the
// writes made before that command, so a script must never touch a key it may have emptied:
//   - the expiry index KEYS[5] keeps the sentinel "~" (score +inf, never reaped) and is
//     rewritten by removing members, never by DEL (prepare() creates the sentinel);
//   - the totals hash KEYS[4] is rewritten by HSET then HDEL of stale fields, never by DEL;
//   - leases leave the hash KEYS[1] (the seed's, which can hold no sentinel) only at the end:
//     remove() marks them, lease_raw()/store_lease() honour the mark, and flush_removals() sends
//     the HDEL as the call's last command on KEYS[1] (k_finish, or fail() on an error).
// Only purge DELs keys, as its last command on them.
// ARGV[1] is one JSON document of arguments (A); A.names lists the named resources whose keys
// follow, and a script that finds a non-zero total of a resource not listed returns
// {"outcome":"retry","names":[...]} before its first write, so the caller can pass the keys.
//
// Cost. The totals and the expiry index are kept incrementally for scalectl's leases (those
// with "millicores"), so allocate, renew and release read and write O(log n) per call and reap
// at most k_batch expired leases (more only while a request does not fit yet). When the hash
// holds another number of leases than the totals count (the seed's workers HSET/HDEL their own,
// or someone edited the hash), the call rescans the hash (O(n), as before) and rebuilds the
// totals and the index from it; old workers' leases are then summed on every call while they
// exist, so their guarantees below are unchanged.
//
// The seed's workers change the counters with INCRBYFLOAT and then HSET/HDEL the worker, in
// separate round trips; so scalectl changes them only by exact increments of the lease's own
// cpu/ram text (INCRBYFLOAT +x on allocate, -x on release and reap): increments commute with the
// workers', so once every worker has released the counters are back to 0. A decrement never
// takes a counter below 0 (it stops at 0). Admission uses the stricter of two views: the
// counters and the sum of the leases (a worker between its INCRBYFLOAT and its HSET only shows
// in the counters). Amounts are integers: millicores and MiB; leases from the seed's workers
// only have cpu (vCPUs) and ram (GB) and are rounded like llround(x * scale). Named resources
// are exact decimals {units, decimals}, added at the finer of the two scales.
constexpr const char* k_lease_prelude = R"lua(
if redis.replicate_commands ~= nil then
  pcall(redis.replicate_commands)
end

local A = cjson.decode(ARGV[1])
local NAMES = A.names or {}
local k_batch = 100
local k_sentinel = '~'  -- a member of the expiry index and the waiter keys; outside the id alphabet
local P = {1, 10, 100, 1000, 10000, 100000, 1000000}

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function int_text(v)
  return string.format('%.0f', v)
end

local function amount(lease, exact, approx, scale)
  local v = lease[exact]
  if type(v) ~= 'number' then
    v = lease[approx]
    if type(v) ~= 'number' then
      return nil
    end
    v = v * scale
  end
  -- At most the largest server scalectl accepts (100000 vCPUs, 10^7 GB), as lease_json.cpp.
  local limit = scale == 1000 and 1e8 or 1.024e10
  if v ~= v or v < 0 or v > limit then
    return nil
  end
  return math.floor(v + 0.5)
end

local function decimal(value, unit, digits, step)
  local whole = math.floor(value / unit)
  local frac = value - whole * unit
  if frac == 0 then
    return string.format('%d', whole)
  end
  local text = string.format('%d.%0' .. digits .. 'd', whole, frac * step)
  return (string.gsub(text, '0+$', ''))
end

-- Returns the decimal text of `lease`'s field (as the seed's workers would INCRBYFLOAT it), or
-- the exact decimal of the integer amount when the field is missing.
local function amount_text(raw, field, integer, unit, digits, step)
  local text = string.match(raw, '"' .. field .. '"%s*:%s*(-?[%d%.]+[eE]?[-+]?%d*)')
  if text ~= nil and tonumber(text) ~= nil then
    return text
  end
  return decimal(integer, unit, digits, step)
end

-- Named amounts: {units, decimals}, from and to decimal text ("7.2" <-> {72, 1}).
local function parse_dec(text)
  if type(text) ~= 'string' then
    return nil
  end
  local i, f = string.match(text, '^(%d+)%.?(%d*)$')
  if i == nil or #f > 6 or #i + #f > 15 then
    return nil
  end
  return {tonumber(i .. f), #f}
end

local function dec_text(a)
  local u, d, sign = a[1], a[2], ''
  if u < 0 then
    sign, u = '-', -u
  end
  local whole = math.floor(u / P[d + 1])
  local frac = u - whole * P[d + 1]
  if frac == 0 then
    return sign .. int_text(whole)
  end
  local digits = string.gsub(string.format('%0' .. d .. '.0f', frac), '0+$', '')
  return sign .. int_text(whole) .. '.' .. digits
end

local function rescaled(a, d)
  return a[1] * P[d - a[2] + 1]
end

local function add_dec(a, b, sign)
  local d = math.max(a[2], b[2])
  return {rescaled(a, d) + sign * rescaled(b, d), d}
end

local function less(a, b)
  local d = math.max(a[2], b[2])
  return rescaled(a, d) < rescaled(b, d)
end

-- Returns the counter `key` as a number (missing: 0), and its text; nil and an error when it is
-- not a finite number of sane size.
local function counter(key)
  local text = redis.call('GET', key)
  if not text then
    return 0, '0'
  end
  local v = tonumber(text)
  if v == nil or v ~= v or v > 1e12 or v < -1e12 then
    return nil, key .. ' holds "' .. string.sub(text, 1, 40) .. '", not a number; run `scalectl capacity repair`'
  end
  return v, text
end

-- Returns the counters' view in millicores and MiB (a negative counter counts as 0), their
-- texts, or nil and an error.
local function counters()
  local cpu, cpu_text = counter(KEYS[2])
  if cpu == nil then
    return nil, cpu_text
  end
  local ram, ram_text = counter(KEYS[3])
  if ram == nil then
    return nil, ram_text
  end
  return {mc = math.max(0, math.floor(cpu * 1000 + 0.5)), mib = math.max(0, math.floor(ram * 1024 + 0.5)),
          cpu = cpu_text, ram = ram_text}
end

-- Adds the decimal `text` to counter `key` with INCRBYFLOAT; a subtraction stops at 0.
local function adjust(key, text, sign)
  if sign > 0 then
    redis.call('INCRBYFLOAT', key, text)
    return
  end
  local current = tonumber(redis.call('GET', key) or '0') or 0
  if current - tonumber(text) < 0 then
    if current > 0 then
      redis.call('SET', key, '0')
    end
    return
  end
  redis.call('INCRBYFLOAT', key, '-' .. text)
end

local function adjust_lease(e, sign)
  adjust(KEYS[2], e.cpu_text, sign)
  adjust(KEYS[3], e.ram_text, sign)
end

-- HDELs `fields` of hash `key` (at most 500 per command, as unpack's stack is bounded).
local function delete_fields(key, fields)
  for i = 1, #fields, 500 do
    redis.call('HDEL', key, unpack(fields, i, math.min(i + 499, #fields)))
  end
end

-- Lease ids this call removed from KEYS[1], not yet HDELed (see "slot migration" above).
local removed = {}

local function lease_raw(id)
  if removed[id] then
    return false
  end
  return redis.call('HGET', KEYS[1], id)
end

local function store_lease(id, raw)
  removed[id] = nil
  redis.call('HSET', KEYS[1], id, raw)
end

local function flush_removals()
  local ids = {}
  for id, _ in pairs(removed) do
    ids[#ids + 1] = id
  end
  table.sort(ids)
  delete_fields(KEYS[1], ids)
  removed = {}
end

-- Returns the parsed lease `id` stored as `raw`, or nil and an error.
local function parse_lease(id, raw, now)
  local ok, lease = pcall(cjson.decode, raw)
  if not ok or type(lease) ~= 'table' then
    return nil, 'lease ' .. id .. ' in ' .. KEYS[1] .. ' is not a JSON object; inspect it with HGET and remove it with HDEL'
  end
  local mc = amount(lease, 'millicores', 'cpu', 1000)
  local mib = amount(lease, 'mib', 'ram', 1024)
  if mc == nil or mib == nil then
    return nil, 'lease ' .. id .. ' in ' .. KEYS[1] .. ' has no valid cpu/ram amounts; inspect it with HGET and remove it with HDEL'
  end
  local res = {}
  if lease.resources ~= nil then
    if type(lease.resources) ~= 'table' then
      return nil, 'lease ' .. id .. ' in ' .. KEYS[1] .. ' has invalid resources; inspect it with HGET and remove it with HDEL'
    end
    for name, text in pairs(lease.resources) do
      local a = parse_dec(text)
      if a == nil or type(name) ~= 'string' or not string.match(name, '^[a-z][a-z0-9_]*$') then
        return nil, 'lease ' .. id .. ' in ' .. KEYS[1] .. ' has an invalid resource amount; inspect it with HGET and remove it with HDEL'
      end
      res[name] = a
    end
  end
  local expires = lease.expiresAt
  return {id = id, raw = raw, lease = lease, mc = mc, mib = mib, res = res,
          ours = type(lease.millicores) == 'number',
          cpu_text = amount_text(raw, 'cpu', mc, 1000, 3, 1),
          ram_text = amount_text(raw, 'ram', mib, 1024, 10, 9765625),
          expires = expires, expired = type(expires) == 'number' and expires <= now}
end

-- Every lease of the hash, parsed (O(n): status, purge, repair and the resync path).
local function load_pool(now)
  local flat = redis.call('HGETALL', KEYS[1])
  local pool = {}
  for i = 1, #flat, 2 do
    local e, err = parse_lease(flat[i], flat[i + 1], now)
    if e == nil then
      return nil, err
    end
    pool[#pool + 1] = e
  end
  return pool
end

-- Totals {mc, mib, n, res = {name -> {units, decimals}}}.
local function account(t, e, sign)
  t.mc = t.mc + sign * e.mc
  t.mib = t.mib + sign * e.mib
  t.n = t.n + sign
  for name, a in pairs(e.res) do
    t.res[name] = add_dec(t.res[name] or {0, 0}, a, sign)
  end
end

local function load_totals()
  local flat = redis.call('HGETALL', KEYS[4])
  local t = {mc = 0, mib = 0, n = 0, res = {}}
  for i = 1, #flat, 2 do
    local k, v = flat[i], tonumber(flat[i + 1])
    local kind, name = string.sub(k, 1, 2), string.sub(k, 3)
    if v == nil or v ~= v or v > 9e15 or v < -9e15 then
      return nil, KEYS[4] .. ' field ' .. k .. ' is not a number; run `scalectl capacity repair`'
    end
    if k == 'mc' or k == 'mib' or k == 'n' then
      t[k] = v
    elseif kind == 'r:' or kind == 'd:' then
      t.res[name] = t.res[name] or {0, 0}
      if kind == 'r:' then
        t.res[name][1] = v
      elseif v >= 0 and v <= 6 and v == math.floor(v) then
        t.res[name][2] = v
      else
        return nil, KEYS[4] .. ' field ' .. k .. ' is not 0 to 6; run `scalectl capacity repair`'
      end
    end
  end
  return t
end

-- Returns the totals rebuilt from the hash, and the live sum of leases scalectl did not write.
local function rebuild(now)
  local pool, err = load_pool(now)
  if pool == nil then
    return nil, err
  end
  local t = {mc = 0, mib = 0, n = 0, res = {}, ours = {}}
  local foreign = {mc = 0, mib = 0}
  for _, e in ipairs(pool) do
    if e.ours then
      account(t, e, 1)
      t.ours[#t.ours + 1] = e
    elseif not e.expired then
      foreign.mc = foreign.mc + e.mc
      foreign.mib = foreign.mib + e.mib
    end
  end
  return t, foreign
end

local function expiry_score(e)
  if type(e.lease.expiresAt) == 'number' then
    return int_text(e.lease.expiresAt)
  end
  return '+inf'
end

-- Rewrites the expiry index from a rebuild unless it already lists exactly scalectl's leases
-- (and the sentinel), or always when `force`. The sentinel stays, so the key never empties.
local function write_index(t, force)
  redis.call('ZADD', KEYS[5], 'NX', '+inf', k_sentinel)
  local same = not force and redis.call('ZCARD', KEYS[5]) == #t.ours + 1
  for _, e in ipairs(t.ours) do
    if not same then
      break
    end
    same = redis.call('ZSCORE', KEYS[5], e.id) ~= false
  end
  if same then
    return
  end
  local keep = {[k_sentinel] = true}
  for _, e in ipairs(t.ours) do
    keep[e.id] = true
  end
  local stale = {}
  for _, id in ipairs(redis.call('ZRANGE', KEYS[5], 0, -1)) do
    if not keep[id] then
      stale[#stale + 1] = id
    end
  end
  for i = 1, #stale, 500 do
    redis.call('ZREM', KEYS[5], unpack(stale, i, math.min(i + 499, #stale)))
  end
  for _, e in ipairs(t.ours) do
    redis.call('ZADD', KEYS[5], expiry_score(e), e.id)
  end
end

-- Returns the names of non-zero totals, or nil when every one is in NAMES.
local function missing_names(t)
  local have, all, missing = {}, {}, false
  for _, name in ipairs(NAMES) do
    have[name] = true
  end
  for name, a in pairs(t.res) do
    if a[1] ~= 0 then
      all[#all + 1] = name
      missing = missing or not have[name]
    end
  end
  if missing then
    return all
  end
  return nil
end

-- Loads the totals (rebuilding them when the hash changed behind them): returns t, the live sum
-- of other writers' leases, or nil and an error / a list of missing names.
local function prepare(now)
  local t, err = load_totals()
  if t == nil then
    return nil, nil, err
  end
  local foreign = {mc = 0, mib = 0}
  if redis.call('HLEN', KEYS[1]) ~= t.n then
    t, foreign = rebuild(now)
    if t == nil then
      return nil, nil, foreign
    end
  end
  local missing = missing_names(t)
  if missing ~= nil then
    return nil, nil, nil, missing
  end
  if t.ours ~= nil then
    write_index(t)
  else
    redis.call('ZADD', KEYS[5], 'NX', '+inf', k_sentinel)
  end
  return t, foreign
end

-- Writes the totals: HSET, then HDEL of the fields no longer wanted (never DEL: see above).
local function save_totals(t)
  local fields = {'mc', int_text(t.mc), 'mib', int_text(t.mib), 'n', int_text(t.n)}
  local keep = {mc = true, mib = true, n = true}
  for name, a in pairs(t.res) do
    if a[1] ~= 0 then
      fields[#fields + 1] = 'r:' .. name
      fields[#fields + 1] = int_text(a[1])
      fields[#fields + 1] = 'd:' .. name
      fields[#fields + 1] = int_text(a[2])
      keep['r:' .. name] = true
      keep['d:' .. name] = true
    end
  end
  redis.call('HSET', KEYS[4], unpack(fields))
  local stale = {}
  for _, k in ipairs(redis.call('HKEYS', KEYS[4])) do
    if not keep[k] then
      stale[#stale + 1] = k
    end
  end
  delete_fields(KEYS[4], stale)
  for i, name in ipairs(NAMES) do
    redis.call('SET', KEYS[5 + i], dec_text(t.res[name] or {0, 0}))
  end
end

local function res_texts(t)
  local out = {}
  for name, a in pairs(t.res) do
    out[name] = dec_text(a)
  end
  return out
end

-- Removes lease e: from the index and the counters now, from the hash at flush_removals().
local function remove(t, e, reaped)
  removed[e.id] = true
  redis.call('ZREM', KEYS[5], e.id)
  adjust_lease(e, -1)
  if e.ours then
    account(t, e, -1)
  end
  if reaped ~= nil then
    reaped[#reaped + 1] = {e.id, e.raw}
  end
end

-- Reaps up to k_batch expired leases; returns how many it found, or nil and an error (then it
-- wrote nothing).
local function reap_batch(t, now, reaped)
  local ids = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', int_text(now), 'LIMIT', 0, k_batch)
  local batch = {}
  for _, id in ipairs(ids) do
    local raw = lease_raw(id)
    if raw then
      local e, err = parse_lease(id, raw, now)
      if e == nil then
        return nil, err
      end
      batch[#batch + 1] = e
    end
  end
  for _, id in ipairs(ids) do
    redis.call('ZREM', KEYS[5], id)
  end
  for _, e in ipairs(batch) do
    remove(t, e, reaped)
  end
  return #ids
end

local function result_reply(result)
  result.reaped = result.reaped or {}
  return cjson.encode(result)
end

-- Ends a call that may have removed leases with error `err`: the removals and totals are written
-- first, so the pool stays consistent.
local function fail(t, err)
  flush_removals()
  save_totals(t)
  return redis.error_reply(err)
end

-- Fair waiting. Waiters are admitted by priority, then arrival (seq); each heartbeats with every
-- poll and drops out once its heartbeat expiry passes. Costs O(log n) per call plus at most
-- k_batch dead waiters reaped and k_ahead waiters read.
local W = 5 + #NAMES
local QK_ORDER, QK_BEAT, QK_INFO = KEYS[W + 1], KEYS[W + 2], KEYS[W + 3]
local k_priority_step = 1099511627776
local k_ahead = 32  -- waiters ahead whose needs are reserved; further back counts as not fitting

local function queue_drop(id)
  redis.call('ZREM', QK_ORDER, id)
  redis.call('ZREM', QK_BEAT, id)
  redis.call('HDEL', QK_INFO, id)
end

-- Creates the queue's keys with their sentinels if missing (see the key list above).
local function queue_keep_keys()
  redis.call('ZADD', QK_ORDER, 'NX', '+inf', k_sentinel)
  redis.call('ZADD', QK_BEAT, 'NX', '+inf', k_sentinel)
  redis.call('HSETNX', QK_INFO, k_sentinel, '0')
end

local function queue_reap(now)
  local ids = redis.call('ZRANGEBYSCORE', QK_BEAT, '-inf', int_text(now), 'LIMIT', 0, k_batch)
  for _, id in ipairs(ids) do
    queue_drop(id)
  end
end

-- Returns {id, raw, expires, priority} of waiter `id` if it is live at `now`, else nil.
local function queue_entry(id, now)
  local beat = tonumber(redis.call('ZSCORE', QK_BEAT, id))
  local raw = redis.call('HGET', QK_INFO, id)
  if beat == nil or beat <= now or not raw then
    return nil
  end
  local ok, w = pcall(cjson.decode, raw)
  if not ok or type(w) ~= 'table' or type(w.priority) ~= 'number' then
    return nil
  end
  local need = {mc = tonumber(w.millicores) or 0, mib = tonumber(w.mib) or 0, res = {}}
  if type(w.resources) == 'table' then
    for name, text in pairs(w.resources) do
      need.res[name] = parse_dec(text)
    end
  end
  return {id = id, raw = raw, expires = beat, priority = w.priority, need = need}
end

local function add_need(sum, need)
  sum.mc = sum.mc + need.mc
  sum.mib = sum.mib + need.mib
  for name, a in pairs(need.res) do
    sum.res[name] = add_dec(sum.res[name] or {0, 0}, a, 1)
  end
end

-- Queues A.id (A.waiter at the back of its priority) or extends its heartbeat, keeping its place.
local function queue_join(now)
  local expires = int_text(now + A.queue_ttl)
  if redis.call('ZSCORE', QK_ORDER, A.id) then
    if queue_entry(A.id, now) ~= nil then
      redis.call('ZADD', QK_BEAT, expires, A.id)
      return
    end
    queue_drop(A.id)
  end
  local seq = redis.call('HINCRBY', QK_INFO, k_sentinel, 1)
  local w = A.waiter
  w.seq = seq
  w.since = now
  redis.call('HSET', QK_INFO, A.id, cjson.encode(w))
  redis.call('ZADD', QK_ORDER, int_text((10 - A.priority) * k_priority_step + seq), A.id)
  redis.call('ZADD', QK_BEAT, expires, A.id)
end

)lua";

// The pieces the lease scripts share, each whole lines. A script is the prelude, then its pieces
// in order (lease_script below); the text, and so the SHA-1 sent with EVALSHA, is what it was
// when each script spelt them out.
constexpr std::string_view k_now = "\nlocal now = now_ms()\n";

// Loads the totals (t) and the foreign view; returns "retry" with the names whose keys are
// missing, or the error, before anything is written. Declares `reaped`.
constexpr std::string_view k_prepare = R"lua(local t, foreign, err, missing = prepare(now)
if missing ~= nil then
  return cjson.encode({outcome = 'retry', names = missing})
end
if t == nil then
  return redis.error_reply(err)
end
local reaped = {}
)lua";

// Reaps up to k_batch expired leases into `reaped`, or returns the error.
constexpr std::string_view k_reap = R"lua(local found, rerr = reap_batch(t, now, reaped)
if found == nil then
  return fail(t, rerr)
end
)lua";

// Declares `result` and opens `if raw then` with lease A.id parsed as `e` (the caller closes it).
constexpr std::string_view k_held_lease = R"lua(local result = {now = now, outcome = 'unknown', reaped = reaped}
local raw = lease_raw(A.id)
if raw then
  local e, perr = parse_lease(A.id, raw, now)
  if e == nil then
    return fail(t, perr)
  end
)lua";

// Writes the totals back and answers with `result`.
constexpr std::string_view k_finish = R"lua(flush_removals()
save_totals(t)
return result_reply(result)
)lua";

// Reads the counters as `view` (allocate admits by the stricter of them and the leases' sum).
constexpr std::string_view k_counters = R"lua(local view, cerr = counters()
if view == nil then
  return redis.error_reply(cerr)
end
)lua";

constexpr std::string_view k_allocate = R"lua(local held = nil
local held_raw = lease_raw(A.id)
if held_raw then
  local e, perr = parse_lease(A.id, held_raw, now)
  if e == nil then
    return fail(t, perr)
  end
  if e.expired then
    remove(t, e, reaped)
  else
    held = e
  end
end

local function used()
  view = counters()
  return math.max(t.mc + foreign.mc, view.mc), math.max(t.mib + foreign.mib, view.mib)
end

-- Returns true if `extra` and `need` ({mc, mib, res}) both fit next to what is allocated.
local function fits_with(extra, need)
  local mc, mib = used()
  if extra.mc + need.mc > A.usable.mc - mc or extra.mib + need.mib > A.usable.mib - mib then
    return false
  end
  local names = {}
  for name, _ in pairs(extra.res) do
    names[name] = true
  end
  for name, _ in pairs(need.res) do
    names[name] = true
  end
  for name, _ in pairs(names) do
    local want = add_dec(extra.res[name] or {0, 0}, need.res[name] or {0, 0}, 1)
    local usable = parse_dec(A.usable.res[name] or '0') or {0, 0}
    if want[1] > 0 and less(usable, add_dec(t.res[name] or {0, 0}, want, 1)) then
      return false
    end
  end
  return true
end

local ME = {mc = A.need.mc, mib = A.need.mib, res = {}}
for name, text in pairs(A.need.res) do
  ME.res[name] = parse_dec(text)
end
local NONE = {mc = 0, mib = 0, res = {}}

-- Fair waiting: the waiters ahead of this request (all before it in the queue; for a one-shot
-- request, those of at least its priority) keep room for their needs, in order. The request is
-- refused, naming the first of them that does not fit yet, while one does not; it fits only
-- next to all their needs. More than k_ahead waiters ahead count as not fitting.
local blocker = nil
local reserve = {mc = 0, mib = 0, res = {}}
if held ~= nil then
  queue_drop(A.id)
else
  queue_reap(now)
  if A.queue_ttl > 0 then
    queue_join(now)
  end
  local ids = redis.call('ZRANGE', QK_ORDER, 0, k_ahead - 1)
  local first, stopped = nil, false
  for _, id in ipairs(ids) do
    if id == A.id or id == k_sentinel then
      stopped = true
      break
    end
    local e = queue_entry(id, now)
    if e == nil then
      queue_drop(id)
    else
      if A.queue_ttl == 0 and e.priority < A.priority then
        stopped = true
        break
      end
      first = first or e
      if not fits_with(reserve, e.need) then
        blocker = e
        break
      end
      add_need(reserve, e.need)
    end
  end
  if blocker == nil and not stopped and redis.call('ZCARD', QK_ORDER) > k_ahead + 1 then
    blocker = first
  end
  if blocker == nil and first ~= nil and not fits_with(reserve, ME) and fits_with(NONE, ME) then
    blocker = first
  end
end

local function fits()
  return fits_with(reserve, ME)
end

local result = {now = now, reaped = reaped}
if held ~= nil then
  result.outcome = 'already_held'
  result.lease = held.raw
elseif blocker ~= nil then
  result.outcome = 'insufficient'
  result.blocker = {blocker.id, blocker.raw, blocker.expires}
else
  local ok = fits()
  while not ok and redis.call('ZCOUNT', KEYS[5], '-inf', int_text(now)) > 0 do
    found, rerr = reap_batch(t, now, reaped)
    if found == nil then
      return fail(t, rerr)
    end
    ok = fits()
  end
  if ok then
    local lease = A.lease
    lease.startedAt = now
    if A.ttl > 0 then
      lease.expiresAt = now + A.ttl
    else
      lease.expiresAt = nil
    end
    local raw = cjson.encode(lease)
    local e = parse_lease(A.id, raw, now)
    result.mc, result.mib = used()
    result.res = res_texts(t)
    adjust(KEYS[2], decimal(A.need.mc, 1000, 3, 1), 1)
    adjust(KEYS[3], decimal(A.need.mib, 1024, 10, 9765625), 1)
    store_lease(A.id, raw)
    redis.call('ZADD', KEYS[5], expiry_score(e), A.id)
    account(t, e, 1)
    queue_drop(A.id)
    result.outcome = 'allocated'
    result.lease = raw
  else
    result.outcome = 'insufficient'
  end
end
if result.mc == nil then
  result.mc, result.mib = used()
  result.res = res_texts(t)
end
if result.outcome == 'insufficient' and A.queue_ttl > 0 then
  local rank = redis.call('ZRANK', QK_ORDER, A.id)
  result.position = rank and rank + 1 or 0
end
queue_keep_keys()
)lua";

constexpr std::string_view k_renew = R"lua(  result.lease = raw
  if e.expired then
    result.outcome = 'expired'
    remove(t, e, reaped)
  else
    if A.ttl > 0 then
      e.lease.expiresAt = now + A.ttl
    else
      e.lease.expiresAt = nil -- persist: no expiry, scored +inf in the index
    end
    if not e.ours then
      -- An old worker's lease renewed by scalectl becomes scalectl's: counted and indexed.
      e.lease.millicores = e.mc
      e.lease.mib = e.mib
      account(t, e, 1)
    end
    result.lease = cjson.encode(e.lease)
    store_lease(A.id, result.lease)
    redis.call('ZADD', KEYS[5], expiry_score(e), A.id)
    result.outcome = 'renewed'
  end
end
)lua";

constexpr std::string_view k_release = R"lua(  result.outcome = 'released'
  result.lease = raw
  remove(t, e, nil)
end
)lua";

constexpr const char* k_purge = R"lua(
local now = now_ms()
-- Purging is also the repair of a pool whose keys another program overwrote with another type.
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then
  redis.call('DEL', KEYS[1], KEYS[4], KEYS[5])
  for i = 2, 3 do
    if redis.call('TYPE', KEYS[i]).ok ~= 'string' then
      redis.call('DEL', KEYS[i])
    end
  end
  return cjson.encode({now = now, leases = {}})
end
for i = 2, 3 do
  if redis.call('TYPE', KEYS[i]).ok ~= 'string' then
    redis.call('DEL', KEYS[i])
  end
end
local flat = redis.call('HGETALL', KEYS[1])
local have, missing, all = {}, false, {}
for _, name in ipairs(NAMES) do
  have[name] = true
end
local leases = {}
local live = {}
for i = 1, #flat, 2 do
  local id, raw = flat[i], flat[i + 1]
  leases[#leases + 1] = {id, raw}
  local e = parse_lease(id, raw, now)
  if e ~= nil then
    for name, _ in pairs(e.res) do
      if not have[name] then
        have[name] = true
        missing = true
      end
    end
    if not e.expired then
      live[#live + 1] = e
    end
  end
end
local t = load_totals() or {res = {}}
for name, a in pairs(t.res) do
  if a[1] ~= 0 and not have[name] then
    have[name] = true
    missing = true
  end
end
if missing then
  for name, _ in pairs(have) do
    all[#all + 1] = name
  end
  return cjson.encode({outcome = 'retry', names = all})
end
for _, e in ipairs(live) do
  adjust_lease(e, -1)
end
redis.call('DEL', KEYS[1], KEYS[4], KEYS[5])
for i, _ in ipairs(NAMES) do
  redis.call('SET', KEYS[5 + i], '0')
end
return cjson.encode({now = now, leases = leases})
)lua";

// Loads every lease of the pool (expired ones marked) as `pool`, or returns the error.
constexpr std::string_view k_load_pool = R"lua(local pool, err = load_pool(now)
if pool == nil then
  return redis.error_reply(err)
end
)lua";

constexpr std::string_view k_snapshot = R"lua(local leases = {}
local mc, mib, res = 0, 0, {}
for _, e in ipairs(pool) do
  leases[#leases + 1] = {e.id, e.raw}
  if not e.expired then
    mc = mc + e.mc
    mib = mib + e.mib
    for name, a in pairs(e.res) do
      res[name] = add_dec(res[name] or {0, 0}, a, 1)
    end
  end
end
local texts = {}
for name, a in pairs(res) do
  texts[name] = dec_text(a)
end
)lua";

constexpr std::string_view k_snapshot_waiters = R"lua(local waiters = {}
for _, id in ipairs(redis.call('ZRANGE', QK_ORDER, 0, -1)) do
  local e = id ~= k_sentinel and queue_entry(id, now) or nil
  if e ~= nil then
    waiters[#waiters + 1] = {e.id, e.raw, e.expires}
  end
end
return cjson.encode({now = now, mc = mc, mib = mib, res = texts, leases = leases, cmc = view.mc, cmib = view.mib,
                     cpu = view.cpu, ram = view.ram, waiters = waiters})
)lua";

// Removes waiter A.id from the queue (a waiter that gives up).
constexpr const char* k_waiter_leave = R"lua(
local queued = A.id ~= k_sentinel and redis.call('ZSCORE', QK_ORDER, A.id) ~= false
queue_drop(A.id)
return cjson.encode({outcome = queued and 'left' or 'absent'})
)lua";

// Rewrites the counters from the live leases, and the totals and expiry index from the hash
// (run under the pool's lock by `capacity repair`); returns the texts before and after.
constexpr std::string_view k_repair = R"lua(local mc, mib = 0, 0
for _, e in ipairs(pool) do
  if not e.expired then
    mc = mc + e.mc
    mib = mib + e.mib
  end
end
local t = rebuild(now)
local missing = missing_names(t)
if missing ~= nil then
  return cjson.encode({outcome = 'retry', names = missing})
end
local cpu_before = redis.call('GET', KEYS[2]) or ''
local ram_before = redis.call('GET', KEYS[3]) or ''
local cpu_after = decimal(mc, 1000, 3, 1)
local ram_after = decimal(mib, 1024, 10, 9765625)
redis.call('SET', KEYS[2], cpu_after)
redis.call('SET', KEYS[3], ram_after)
write_index(t, true)
save_totals(t)
return cjson.encode({now = now, mc = mc, mib = mib, cpu_before = cpu_before, ram_before = ram_before,
                     cpu_after = cpu_after, ram_after = ram_after})
)lua";

constexpr const char* k_lock_renew = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
)lua";

constexpr const char* k_lock_release = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua";

constexpr const char* k_record_cas = R"lua(
local current = redis.call('GET', KEYS[1])
local expected = false
if ARGV[1] == '1' then
  expected = ARGV[2]
end
if current ~= expected then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3])
return 1
)lua";

LuaScript make_script(const char* name, std::string source)
{
  LuaScript script{name, std::move(source), {}};
  script.sha1 = util::sha1_hex(script.source);
  return script;
}

// Returns the lease script `name`: the prelude, then `pieces` in order.
LuaScript lease_script(const char* name, std::initializer_list<std::string_view> pieces)
{
  std::string source = k_lease_prelude;
  for (const auto piece : pieces) {
    source += piece;
  }
  return make_script(name, std::move(source));
}

// Every script, built once.
struct Scripts {
  LuaScript allocate =
    lease_script("lease-allocate", {k_now, k_counters, k_prepare, k_reap, k_allocate, k_finish});
  LuaScript renew = lease_script("lease-renew", {k_now, k_prepare, k_held_lease, k_renew, k_reap, k_finish});
  LuaScript release = lease_script("lease-release", {k_now, k_prepare, k_held_lease, k_release, k_reap, k_finish});
  LuaScript purge = lease_script("lease-purge", {k_purge});
  LuaScript snapshot =
    lease_script("lease-snapshot", {k_now, k_load_pool, k_snapshot, k_counters, k_snapshot_waiters});
  LuaScript waiter_leave = lease_script("waiter-leave", {k_waiter_leave});
  LuaScript repair = lease_script("lease-repair", {k_now, k_load_pool, k_repair});
  LuaScript lock_renew = make_script("lock-renew", k_lock_renew);
  LuaScript lock_release = make_script("lock-release", k_lock_release);
  LuaScript record_cas = make_script("record-cas", k_record_cas);
};

const Scripts& scripts()
{
  static const Scripts all;
  return all;
}

}  // namespace

const LuaScript& lease_allocate_script() { return scripts().allocate; }
const LuaScript& lease_renew_script() { return scripts().renew; }
const LuaScript& lease_release_script() { return scripts().release; }
const LuaScript& lease_purge_script() { return scripts().purge; }
const LuaScript& lease_snapshot_script() { return scripts().snapshot; }
const LuaScript& waiter_leave_script() { return scripts().waiter_leave; }
const LuaScript& lease_repair_script() { return scripts().repair; }
const LuaScript& lock_renew_script() { return scripts().lock_renew; }
const LuaScript& lock_release_script() { return scripts().lock_release; }
const LuaScript& record_cas_script() { return scripts().record_cas; }

}  // namespace scalectl::state
