#include "state/redis_scripts.hpp"

#include "util/sha1.hpp"

namespace scalectl::state {

namespace {

// Shared by the lease scripts. KEYS[1] = <pool>:workers (hash: id -> lease JSON), KEYS[2] =
// <pool>:cpu:allocated, KEYS[3] = <pool>:ram:allocated (decimal vCPUs and GB, as the seed's
// workers read them). The seed's workers change the counters with INCRBYFLOAT and then HSET/HDEL
// the worker, in separate round trips; so scalectl changes them only by exact increments of the
// lease's own cpu/ram text (INCRBYFLOAT +x on allocate, -x on release and reap): increments
// commute with the workers', so once every worker has released the counters are back to 0.
// A decrement never takes a counter below 0 (it stops at 0). Admission uses the stricter of two
// views: the counters and the sum of the leases (a worker between its INCRBYFLOAT and its HSET
// only shows in the counters). Amounts are integers: millicores and MiB; leases from the seed's
// workers only have cpu (vCPUs) and ram (GB) and are rounded like llround(x * scale).
constexpr const char* k_lease_prelude = R"lua(
if redis.replicate_commands ~= nil then
  pcall(redis.replicate_commands)
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
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

local function load_pool(now)
  local flat = redis.call('HGETALL', KEYS[1])
  local pool = {}
  for i = 1, #flat, 2 do
    local id, raw = flat[i], flat[i + 1]
    local ok, lease = pcall(cjson.decode, raw)
    if not ok or type(lease) ~= 'table' then
      return nil, 'lease ' .. id .. ' in ' .. KEYS[1] .. ' is not a JSON object; inspect it with HGET and remove it with HDEL'
    end
    local mc = amount(lease, 'millicores', 'cpu', 1000)
    local mib = amount(lease, 'mib', 'ram', 1024)
    if mc == nil or mib == nil then
      return nil, 'lease ' .. id .. ' in ' .. KEYS[1] .. ' has no valid cpu/ram amounts; inspect it with HGET and remove it with HDEL'
    end
    local expires = lease.expiresAt
    pool[#pool + 1] = {id = id, raw = raw, lease = lease, mc = mc, mib = mib,
                       cpu_text = amount_text(raw, 'cpu', mc, 1000, 3, 1),
                       ram_text = amount_text(raw, 'ram', mib, 1024, 10, 9765625),
                       expired = type(expires) == 'number' and expires <= now}
  end
  return pool
end

local function find(pool, id)
  for _, e in ipairs(pool) do
    if e.id == id then
      return e
    end
  end
  return nil
end

local function reap(pool)
  local reaped, live = {}, {}
  for _, e in ipairs(pool) do
    if e.expired then
      redis.call('HDEL', KEYS[1], e.id)
      adjust_lease(e, -1)
      reaped[#reaped + 1] = {e.id, e.raw}
    else
      live[#live + 1] = e
    end
  end
  return reaped, live
end

local function totals(pool)
  local mc, mib = 0, 0
  for _, e in ipairs(pool) do
    if not e.expired then
      mc = mc + e.mc
      mib = mib + e.mib
    end
  end
  return mc, mib
end

)lua";

constexpr const char* k_allocate = R"lua(
local now = now_ms()
local lease = cjson.decode(ARGV[2])
local pool, err = load_pool(now)
if pool == nil then
  return redis.error_reply(err)
end
local reaped, live = reap(pool)
local view, cerr = counters()
if view == nil then
  return redis.error_reply(cerr)
end
local mc, mib = totals(live)
mc, mib = math.max(mc, view.mc), math.max(mib, view.mib)
local result = {now = now, mc = mc, mib = mib, reaped = reaped}
local held = find(live, ARGV[1])
if held ~= nil then
  result.outcome = 'already_held'
  result.lease = held.raw
else
  local need_mc, need_mib = tonumber(ARGV[4]), tonumber(ARGV[5])
  if need_mc > tonumber(ARGV[6]) - mc or need_mib > tonumber(ARGV[7]) - mib then
    result.outcome = 'insufficient'
  else
    lease.startedAt = now
    local ttl = tonumber(ARGV[3])
    if ttl > 0 then
      lease.expiresAt = now + ttl
    else
      lease.expiresAt = nil
    end
    local raw = cjson.encode(lease)
    adjust(KEYS[2], decimal(need_mc, 1000, 3, 1), 1)
    adjust(KEYS[3], decimal(need_mib, 1024, 10, 9765625), 1)
    redis.call('HSET', KEYS[1], ARGV[1], raw)
    result.outcome = 'allocated'
    result.lease = raw
  end
end
return cjson.encode(result)
)lua";

constexpr const char* k_renew = R"lua(
local now = now_ms()
local pool, err = load_pool(now)
if pool == nil then
  return redis.error_reply(err)
end
local result = {now = now, outcome = 'unknown'}
local target = find(pool, ARGV[1])
if target ~= nil then
  if target.expired then
    result.outcome = 'expired'
  else
    target.lease.expiresAt = now + tonumber(ARGV[2])
    target.raw = cjson.encode(target.lease)
    redis.call('HSET', KEYS[1], target.id, target.raw)
    result.outcome = 'renewed'
  end
  result.lease = target.raw
end
local reaped = reap(pool)
result.reaped = reaped
return cjson.encode(result)
)lua";

constexpr const char* k_release = R"lua(
local now = now_ms()
local pool, err = load_pool(now)
if pool == nil then
  return redis.error_reply(err)
end
local result = {now = now, outcome = 'unknown'}
local target = find(pool, ARGV[1])
if target ~= nil then
  result.outcome = 'released'
  result.lease = target.raw
  if not target.expired then
    redis.call('HDEL', KEYS[1], target.id)
    adjust_lease(target, -1)
    target.mc = 0
    target.mib = 0
  end
end
local reaped = reap(pool)
result.reaped = reaped
return cjson.encode(result)
)lua";

constexpr const char* k_purge = R"lua(
local now = now_ms()
-- Purging is also the repair of a pool whose keys another program overwrote with another type.
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then
  redis.call('DEL', KEYS[1])
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
local leases = {}
for i = 1, #flat, 2 do
  local id, raw = flat[i], flat[i + 1]
  leases[#leases + 1] = {id, raw}
  local ok, lease = pcall(cjson.decode, raw)
  if ok and type(lease) == 'table' then
    local mc = amount(lease, 'millicores', 'cpu', 1000) or 0
    local mib = amount(lease, 'mib', 'ram', 1024) or 0
    local expires = lease.expiresAt
    if not (type(expires) == 'number' and expires <= now) then
      adjust_lease({cpu_text = amount_text(raw, 'cpu', mc, 1000, 3, 1),
                    ram_text = amount_text(raw, 'ram', mib, 1024, 10, 9765625)}, -1)
    end
  end
end
redis.call('DEL', KEYS[1])
return cjson.encode({now = now, leases = leases})
)lua";

constexpr const char* k_snapshot = R"lua(
local now = now_ms()
local pool, err = load_pool(now)
if pool == nil then
  return redis.error_reply(err)
end
local leases = {}
for _, e in ipairs(pool) do
  leases[#leases + 1] = {e.id, e.raw}
end
local mc, mib = totals(pool)
local view, cerr = counters()
if view == nil then
  return redis.error_reply(cerr)
end
return cjson.encode({now = now, mc = mc, mib = mib, leases = leases, cmc = view.mc, cmib = view.mib,
                     cpu = view.cpu, ram = view.ram})
)lua";

// Rewrites the counters from the live leases (run under the pool's lock by `capacity repair`);
// returns the texts before and after.
constexpr const char* k_repair = R"lua(
local now = now_ms()
local pool, err = load_pool(now)
if pool == nil then
  return redis.error_reply(err)
end
local mc, mib = totals(pool)
local cpu_before = redis.call('GET', KEYS[2]) or ''
local ram_before = redis.call('GET', KEYS[3]) or ''
local cpu_after = decimal(mc, 1000, 3, 1)
local ram_after = decimal(mib, 1024, 10, 9765625)
redis.call('SET', KEYS[2], cpu_after)
redis.call('SET', KEYS[3], ram_after)
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

LuaScript lease_script(const char* name, const char* body)
{
  return make_script(name, std::string(k_lease_prelude) + body);
}

}  // namespace

const LuaScript& lease_allocate_script()
{
  static const LuaScript script = lease_script("lease-allocate", k_allocate);
  return script;
}

const LuaScript& lease_renew_script()
{
  static const LuaScript script = lease_script("lease-renew", k_renew);
  return script;
}

const LuaScript& lease_release_script()
{
  static const LuaScript script = lease_script("lease-release", k_release);
  return script;
}

const LuaScript& lease_purge_script()
{
  static const LuaScript script = lease_script("lease-purge", k_purge);
  return script;
}

const LuaScript& lease_snapshot_script()
{
  static const LuaScript script = lease_script("lease-snapshot", k_snapshot);
  return script;
}

const LuaScript& lease_repair_script()
{
  static const LuaScript script = lease_script("lease-repair", k_repair);
  return script;
}

const LuaScript& lock_renew_script()
{
  static const LuaScript script = make_script("lock-renew", k_lock_renew);
  return script;
}

const LuaScript& lock_release_script()
{
  static const LuaScript script = make_script("lock-release", k_lock_release);
  return script;
}

const LuaScript& record_cas_script()
{
  static const LuaScript script = make_script("record-cas", k_record_cas);
  return script;
}

}  // namespace scalectl::state
