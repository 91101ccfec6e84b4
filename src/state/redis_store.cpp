#include "state/redis_store.hpp"
#include <scalectl/core/numeric.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/error.hpp>

#include "state/lease_json.hpp"
#include "state/redis_lock.hpp"
#include "state/store_common.hpp"
#include "state/waiter_json.hpp"

namespace scalectl::state {

namespace {

using nlohmann::json;

constexpr int k_update_attempts = 100;
constexpr std::size_t k_log_page_size = 1000;
constexpr auto k_json_error = json::error_handler_t::replace;

// Every key of one capacity pool, in the order the lease scripts take them (KEYS[1..5], then one
// counter per named resource). The only place that names a pool's keys.
struct PoolKeys {
  std::string workers;
  std::string cpu;
  std::string ram;
  std::string totals;
  std::string expiry;
  std::vector<std::string> resources;  // <pool>:<name>:allocated, one per name given
  // The waiter queue (fair waiting), passed after the resources' keys.
  std::string waiters;
  std::string waiter_beats;
  std::string waiter_info;
};

PoolKeys pool_keys(std::string_view pool, const std::vector<std::string>& names = {})
{
  PoolKeys keys{fmt::format("{}:workers", pool), fmt::format("{}:cpu:allocated", pool),
                fmt::format("{}:ram:allocated", pool), fmt::format("{}:scalectl:totals", pool),
                fmt::format("{}:scalectl:expiry", pool), {},
                fmt::format("{}:scalectl:waiters", pool), fmt::format("{}:scalectl:waiter_beats", pool),
                fmt::format("{}:scalectl:waiter_info", pool)};
  for (const auto& name : names) {
    keys.resources.push_back(fmt::format("{}:{}:allocated", pool, name));
  }
  return keys;
}

// Returns {name: decimal text} of `amounts`.
json named_json(const core::Resources& amounts)
{
  json out = json::object();
  for (const auto& [name, amount] : amounts.named) {
    out[name] = core::decimal_text(amount);
  }
  return out;
}

// Returns the named amounts of a script's {name: decimal text} field `field`.
std::map<std::string, core::Amount> named_field(const json& doc, const char* field)
{
  std::map<std::string, core::Amount> out;
  const auto it = doc.find(field);
  if (it == doc.end() || !it->is_object()) {
    return out;
  }
  for (const auto& [name, text] : it->items()) {
    if (const auto amount = text.is_string() ? core::amount_from_text(text.get<std::string>()) : std::nullopt) {
      out[name] = *amount;
    }
  }
  return out;
}

json amounts_json(const core::Resources& amounts)
{
  return json{{"mc", amounts.millicores}, {"mib", amounts.mib}, {"res", named_json(amounts)}};
}

// Throws Error naming the first of the pool's keys that holds the wrong Redis type (a script
// failed with WRONGTYPE); returns when every key has its type or is missing.
void explain_wrong_type(RedisConnection& connection, const PoolKeys& keys, const std::string& address)
{
  const std::pair<std::string_view, std::string_view> expected[] = {
    {keys.workers, "hash"}, {keys.cpu, "string"}, {keys.ram, "string"}};
  for (const auto& [key, want] : expected) {
    const std::string_view args[] = {"TYPE", key};
    const auto reply = connection.checked(args, "reading a key's type");
    const std::string type = reply_text(*reply);
    if (type != want && type != "none") {
      throw Error(fmt::format("the Redis key {} at {} is a {}, not a {}, so the pool cannot be used; another program "
                              "wrote it: inspect it with `redis-cli TYPE {}`, then delete it (`scalectl capacity "
                              "release --all --force` does so; its content is lost)",
                              key, address, type, want, key));
    }
  }
}

std::int64_t int_field(const json& doc, const char* name)
{
  const auto it = doc.find(name);
  return it != doc.end() && it->is_number()
             ? core::clamp_to_int64(it->get<double>(), -core::k_max_amount, core::k_max_amount)
             : 0;
}

// Returns the lease stored as `raw` under `id`; throws Error(failure) naming the hash if invalid.
Lease parse_lease(std::string_view id, const json& raw, std::int64_t now_ms, const std::string& hash)
{
  auto lease = raw.is_string() ? lease_from_text(id, raw.get<std::string>(), now_ms)
                               : std::expected<Lease, std::string>(std::unexpected(std::string("missing")));
  if (!lease) {
    throw Error(fmt::format("{} in Redis hash {} is invalid; inspect it with `redis-cli HGET {} {}`", lease.error(),
                            hash, hash, id));
  }
  return *lease;
}

// Calls fn(id, raw) for each [id, raw] pair of `list` (an empty Lua table arrives as {}).
template <class Fn>
void for_each_pair(const json& doc, const char* name, Fn&& fn)
{
  const auto it = doc.find(name);
  if (it == doc.end()) {
    return;
  }
  for (const auto& pair : *it) {
    if (pair.is_array() && pair.size() == 2 && pair[0].is_string()) {
      fn(pair[0].get<std::string>(), pair[1]);
    }
  }
}

// Returns the waiter of a script's [id, raw JSON, heartbeat expiry] triple; throws Error naming
// the hash when it is invalid.
Waiter parse_waiter(const json& triple, const std::string& hash)
{
  if (!triple.is_array() || triple.size() != 3 || !triple[0].is_string() || !triple[1].is_string() ||
      !triple[2].is_number()) {
    throw Error(fmt::format("a waiter in Redis hash {} is invalid; inspect it with `redis-cli HGETALL {}`", hash,
                            hash));
  }
  const auto id = triple[0].get<std::string>();
  auto waiter = waiter_from_json(id, json::parse(triple[1].get<std::string>(), nullptr, false));
  if (!waiter) {
    throw Error(fmt::format("{} in Redis hash {}; inspect it with `redis-cli HGET {} {}`", waiter.error(), hash, hash,
                            id));
  }
  waiter->expires_at_ms = core::clamp_to_int64(triple[2].get<double>(), 0, core::k_max_amount);
  return *waiter;
}

std::string next_stream_id(std::string_view id)
{
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) {
    return std::string(id) + "-1";
  }
  const auto seq = std::stoull(std::string(id.substr(dash + 1)));
  return fmt::format("{}-{}", id.substr(0, dash), seq + 1);
}

std::chrono::milliseconds backoff(int attempt)
{
  thread_local std::mt19937 random{std::random_device{}()};
  std::uniform_int_distribution<int> spread(0, std::min(50, 1 << std::min(attempt, 6)));
  return std::chrono::milliseconds(spread(random));
}

}  // namespace

RedisStore::RedisStore(const StoreOptions& options, Clock& clock)
    : m_key_prefix(options.key_prefix), m_lock_ttl(options.lock_ttl), m_clock(clock)
{
  auto endpoint = parse_redis_url(options.redis_url);
  if (!endpoint) {
    throw usage_error(fmt::format("state.redis_url is invalid: {}", endpoint.error()));
  }
  if (endpoint->password.empty()) {
    endpoint->password = options.redis_password;
  }
  endpoint->ca_file = options.redis_ca_file;
  endpoint->cert_file = options.redis_cert_file;
  endpoint->key_file = options.redis_key_file;
  if (!endpoint->tls && !(endpoint->ca_file.empty() && endpoint->cert_file.empty() && endpoint->key_file.empty())) {
    throw usage_error("state.redis_ca_file, state.redis_cert_file and state.redis_key_file apply to rediss:// only; "
                      "state.redis_url uses redis:// or unix://");
  }
  if (m_key_prefix.empty()) {
    throw usage_error("state.key_prefix must not be empty; the default is \"scalectl\"");
  }
  if (m_lock_ttl < std::chrono::milliseconds(3)) {
    throw usage_error("the Redis lock TTL must be at least 3ms; the default is 30s");
  }
  m_session = std::make_shared<RedisSession>(std::move(*endpoint), options.connect_timeout, options.command_timeout);
}

std::string RedisStore::describe() const
{
  return fmt::format("redis {} db {}", m_session->address(), m_session->db());
}

std::string RedisStore::own_key(std::string_view kind, std::string_view name) const
{
  return fmt::format("{}:{{{}}}:{}", m_key_prefix, kind, name);
}

std::unique_ptr<OperationLock> RedisStore::lock(std::string_view resource, const LockOwner& me,
                                                std::chrono::milliseconds wait)
{
  check_name("lock resource", resource);
  const std::string key = own_key("lock", resource);
  const std::string ttl = std::to_string(m_lock_ttl.count());
  LockOwner owner = complete_owner(me);
  return wait_for_lock(
      resource, wait, m_clock,
      [&]() -> std::unique_ptr<OperationLock> {
        owner.since_ms = unix_ms(m_clock.now());
        json value = owner_to_json(owner);
        value["token"] = random_token();
        const std::string text = value.dump(-1, ' ', false, k_json_error);
        const std::string_view args[] = {"SET", key, text, "NX", "PX", ttl};
        const auto taken = m_session->with([&](RedisConnection& connection) {
          return connection.checked(args, "taking a lock")->type != REDIS_REPLY_NIL;
        });
        if (!taken) {
          return nullptr;
        }
        return std::make_unique<RedisOperationLock>(m_session, key, text, m_lock_ttl);
      },
      [&]() { return lock_holder(resource); });
}

std::optional<LockOwner> RedisStore::lock_holder(std::string_view resource)
{
  check_name("lock resource", resource);
  const auto text = get_text(own_key("lock", resource), "reading a lock");
  if (!text) {
    return std::nullopt;
  }
  if (auto owner = owner_from_json(json::parse(*text, nullptr, false))) {
    return *owner;
  }
  return LockOwner{};
}

std::optional<std::string> RedisStore::get_text(const std::string& key, std::string_view doing)
{
  const std::string_view args[] = {"GET", key};
  return m_session->with([&](RedisConnection& connection) -> std::optional<std::string> {
    const auto reply = connection.checked(args, doing);
    if (reply->type == REDIS_REPLY_NIL) {
      return std::nullopt;
    }
    return reply_text(*reply);
  });
}

json RedisStore::parse_record(std::string_view key, const std::string& redis_key, const std::string& text)
{
  json value = json::parse(text, nullptr, false);
  if (value.is_discarded()) {
    throw Error(fmt::format("record {} in Redis is not valid JSON; inspect it with `redis-cli GET {}`", key,
                            redis_key));
  }
  return value;
}

namespace {

// Returns the whole decimal `text` as an integer, or nullopt.
std::optional<std::int64_t> decimal_of(const std::string& text)
{
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<std::int64_t> RedisStore::time_ms()
{
  // TIME answers [seconds, microseconds] as decimal texts. Accepted: years 2000 to 2999.
  constexpr std::int64_t k_min_seconds = 946'684'800;
  constexpr std::int64_t k_max_seconds = 32'503'680'000;
  const std::string_view args[] = {"TIME"};
  return m_session->with([&](RedisConnection& connection) -> std::int64_t {
    const auto reply = connection.checked(args, "reading the server's clock");
    std::optional<std::int64_t> seconds;
    std::optional<std::int64_t> micros;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
      seconds = decimal_of(reply_text(*reply->element[0]));
      micros = decimal_of(reply_text(*reply->element[1]));
    }
    if (!seconds || !micros || *seconds < k_min_seconds || *seconds >= k_max_seconds || *micros < 0 ||
        *micros > 999'999) {
      throw Error(fmt::format("Redis at {} answered TIME with no usable time (want seconds of the years 2000 to "
                              "2999 and microseconds); check the server's clock",
                              m_session->address()));
    }
    return *seconds * 1000 + *micros / 1000;
  });
}

std::optional<json> RedisStore::get(std::string_view key)
{
  check_name("record key", key);
  const std::string redis_key = own_key("rec", key);
  const auto text = get_text(redis_key, "reading a record");
  if (!text) {
    return std::nullopt;
  }
  return parse_record(key, redis_key, *text);
}

json RedisStore::update(std::string_view key, const std::function<json(const std::optional<json>&)>& fn)
{
  // Optimistic compare-and-set: read, compute, then a one-key Lua script writes only if the
  // stored text is still what was read. Unlike WATCH/MULTI/EXEC this keeps no per-connection
  // state (the connection is shared with lock renewals) and costs two round trips per attempt.
  check_name("record key", key);
  const std::string redis_key = own_key("rec", key);
  for (int attempt = 0; attempt < k_update_attempts; ++attempt) {
    const auto stored = get_text(redis_key, "reading a record");
    std::optional<json> old;
    if (stored) {
      old = parse_record(key, redis_key, *stored);
    }
    json value = fn(old);
    const std::string text = value.dump(-1, ' ', false, k_json_error);
    const std::string_view keys[] = {redis_key};
    const std::string_view args[] = {stored ? "1" : "0", stored ? std::string_view(*stored) : std::string_view(),
                                     text};
    const auto reply = m_session->with([&](RedisConnection& connection) {
      return connection.eval(record_cas_script(), keys, args, "updating a record");
    });
    if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) {
      return value;
    }
    m_clock.sleep_for(backoff(attempt));
  }
  throw Error(fmt::format("record {} in Redis kept changing under concurrent updates ({} attempts); retry",
                          key, k_update_attempts));
}

void RedisStore::append(std::string_view name, const json& entry)
{
  check_name("log name", name);
  const std::string key = own_key("log", name);
  const std::string text = entry.dump(-1, ' ', false, k_json_error);
  const std::string_view args[] = {"XADD", key, "*", "entry", text};
  m_session->with([&](RedisConnection& connection) { return connection.checked(args, "appending to a log"); });
}

std::vector<json> RedisStore::read_log(std::string_view name, std::int64_t since_ms)
{
  // Stream ids carry the server's clock, entries the writer's "time_ms"; the contract filters on
  // the latter, so the whole stream is read in pages and filtered here.
  check_name("log name", name);
  const std::string key = own_key("log", name);
  std::vector<json> entries;
  const std::string page_size_text = std::to_string(k_log_page_size);
  std::string start = "-";
  for (;;) {
    const std::string_view args[] = {"XRANGE", key, start, "+", "COUNT", page_size_text};
    std::size_t page_size = 0;
    std::string last_id;
    m_session->with([&](RedisConnection& connection) {
      const auto reply = connection.checked(args, "reading a log");
      page_size = reply->type == REDIS_REPLY_ARRAY ? reply->elements : 0;
      for (std::size_t i = 0; i < page_size; ++i) {
        const redisReply* item = reply->element[i];
        if (item->type != REDIS_REPLY_ARRAY || item->elements != 2) {
          continue;
        }
        last_id = reply_text(*item->element[0]);
        const redisReply* fields = item->element[1];
        for (std::size_t f = 0; f + 1 < fields->elements; f += 2) {
          if (reply_text(*fields->element[f]) != "entry") {
            continue;
          }
          json value = json::parse(reply_text(*fields->element[f + 1]), nullptr, false);
          if (value.is_discarded()) {
            throw Error(fmt::format("entry {} of the Redis stream {} is not valid JSON; inspect it with `redis-cli "
                                    "XRANGE {} {} {}`",
                                    last_id, key, key, last_id, last_id));
          }
          if (log_entry_time(value) >= since_ms) {
            entries.push_back(std::move(value));
          }
        }
      }
      return 0;
    });
    if (page_size < k_log_page_size || last_id.empty()) {
      return entries;
    }
    start = next_stream_id(last_id);
  }
}

json RedisStore::run_pool_script(const LuaScript& script, std::string_view pool, json args,
                                 std::vector<std::string> names, std::string_view doing)
{
  auto& known = m_pool_names[std::string(pool)];
  names.insert(names.end(), known.begin(), known.end());
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    args["names"] = names;
    const std::string arg_text = args.dump(-1, ' ', false, k_json_error);
    const auto keys = pool_keys(pool, names);
    std::vector<std::string_view> key_views{keys.workers, keys.cpu, keys.ram, keys.totals, keys.expiry};
    key_views.insert(key_views.end(), keys.resources.begin(), keys.resources.end());
    key_views.insert(key_views.end(), {keys.waiters, keys.waiter_beats, keys.waiter_info});
    const std::string_view arg_views[] = {arg_text};
    const std::string text = m_session->with([&](RedisConnection& connection) {
      auto reply = RedisReplyPtr(nullptr, &freeReplyObject);
      try {
        reply = connection.eval(script, key_views, arg_views, doing);
      } catch (const Error& e) {
        if (std::string_view(e.what()).find("WRONGTYPE") != std::string_view::npos) {
          explain_wrong_type(connection, keys, m_session->address());
        }
        throw;
      }
      if (reply->type != REDIS_REPLY_STRING) {
        throw Error(fmt::format("Redis at {} returned an unexpected reply to the {} script while {}; check that it "
                                "is a real Redis server (>= 5)",
                                m_session->address(), script.name, doing));
      }
      return reply_text(*reply);
    });
    json doc = json::parse(text, nullptr, false);
    if (!doc.is_object()) {
      throw Error(fmt::format("the {} script returned invalid JSON while {}; check the Redis server", script.name,
                              doing));
    }
    if (doc.value("outcome", "") != "retry") {
      known = names;
      return doc;
    }
    // The pool counts named resources this call did not pass the keys of: pass them and rerun.
    for (const auto& name : doc.value("names", json::array())) {
      if (!name.is_string() || !core::validate_resource_name(name.get<std::string>()).empty()) {
        throw Error(fmt::format("{} names an invalid resource; run `scalectl capacity repair`",
                                pool_keys(pool).totals));
      }
      names.push_back(name.get<std::string>());
    }
  }
  throw Error(fmt::format("the resources counted in pool {} kept changing while {}; retry", pool, doing));
}

namespace {

std::vector<std::string> names_of(const core::Resources& amounts)
{
  std::vector<std::string> names;
  for (const auto& [name, amount] : amounts.named) {
    names.push_back(name);
  }
  return names;
}

}  // namespace

AllocateResult RedisStore::allocate(const AllocateRequest& request)
{
  check_allocate_request(request);
  Lease lease = request.lease;
  lease.started_at_ms = 0;
  lease.expires_at_ms.reset();
  const auto need = request.lease.resources;
  json args{{"id", lease.id},
            {"lease", lease_to_json(lease)},
            {"ttl", request.ttl ? request.ttl->count() : 0},
            {"need", amounts_json(need)},
            {"usable", amounts_json(request.usable)},
            {"priority", request.priority},
            {"queue_ttl", request.queue_ttl ? request.queue_ttl->count() : 0},
            {"waiter", waiter_to_json(waiter_of(request))}};
  auto names = names_of(need);
  const auto usable_names = names_of(request.usable);
  names.insert(names.end(), usable_names.begin(), usable_names.end());
  const std::string doing = fmt::format("allocating lease {} in pool {}", lease.id, request.pool);
  const json doc = run_pool_script(lease_allocate_script(), request.pool, std::move(args), std::move(names), doing);

  const auto now = int_field(doc, "now");
  const core::Resources allocated{int_field(doc, "mc"), int_field(doc, "mib"), named_field(doc, "res")};
  const std::string hash = pool_keys(request.pool).workers;
  AllocateResult result;
  for_each_pair(doc, "reaped", [&](const std::string& id, const json&) { result.reaped.push_back(id); });
  const std::string outcome = doc.value("outcome", "");
  if (outcome == "allocated" || outcome == "already_held") {
    result.lease = parse_lease(lease.id, doc.value("lease", json()), now, hash);
  }
  if (outcome == "allocated") {
    result.outcome = AllocateResult::Outcome::allocated;
    result.fit = fit_against(request.usable, allocated, need, false);
  } else if (outcome == "already_held") {
    result.outcome = AllocateResult::Outcome::already_held;
    result.fit = fit_against(request.usable, allocated, result.lease.resources, true);
  } else if (outcome == "insufficient") {
    result.outcome = AllocateResult::Outcome::insufficient;
    result.fit = fit_against(request.usable, allocated, need, false);
    if (const auto it = doc.find("blocker"); it != doc.end()) {
      result.blocker = parse_waiter(*it, pool_keys(request.pool).waiter_info);
    }
    result.position = std::clamp<std::int64_t>(int_field(doc, "position"), 0, core::k_max_amount);
  } else {
    throw Error(fmt::format("the lease-allocate script returned outcome \"{}\" while {}", outcome, doing));
  }
  return result;
}

namespace {

// Returns what the lease-renew script's answer `doc` says about lease `id` of `pool`.
RenewResult renew_result(const json& doc, std::string_view pool, std::string_view id)
{
  RenewResult result;
  const std::string outcome = doc.value("outcome", "");
  if (outcome == "renewed") {
    result.outcome = RenewResult::Outcome::renewed;
  } else if (outcome == "expired") {
    result.outcome = RenewResult::Outcome::expired;
  }
  if (outcome != "unknown") {
    result.lease = parse_lease(id, doc.value("lease", json()), int_field(doc, "now"), pool_keys(pool).workers);
  }
  return result;
}

}  // namespace

RenewResult RedisStore::renew(std::string_view pool, std::string_view id, std::chrono::milliseconds ttl)
{
  check_name("pool name", pool);
  check_name("lease id", id);
  check_ttl(ttl);
  const std::string doing = fmt::format("renewing lease {} in pool {}", id, pool);
  return renew_result(run_pool_script(lease_renew_script(), pool, json{{"id", std::string(id)}, {"ttl", ttl.count()}}, {}, doing),
                      pool, id);
}

RenewResult RedisStore::persist(std::string_view pool, std::string_view id)
{
  check_name("pool name", pool);
  check_name("lease id", id);
  const std::string doing = fmt::format("making lease {} in pool {} permanent", id, pool);
  // The renew script with ttl 0 removes the expiry (renew itself refuses a zero TTL).
  return renew_result(run_pool_script(lease_renew_script(), pool, json{{"id", std::string(id)}, {"ttl", 0}}, {}, doing),
                      pool, id);
}

ReleaseResult RedisStore::release(std::string_view pool, std::string_view id)
{
  check_name("pool name", pool);
  check_name("lease id", id);
  const std::string doing = fmt::format("releasing lease {} in pool {}", id, pool);
  const json doc = run_pool_script(lease_release_script(), pool, json{{"id", std::string(id)}}, {}, doing);
  ReleaseResult result;
  if (doc.value("outcome", "") == "released") {
    result.outcome = ReleaseResult::Outcome::released;
    result.lease = parse_lease(id, doc.value("lease", json()), int_field(doc, "now"), pool_keys(pool).workers);
  }
  return result;
}

std::vector<Lease> RedisStore::purge(std::string_view pool)
{
  check_name("pool name", pool);
  const json doc = run_pool_script(lease_purge_script(), pool, json::object(), {}, fmt::format("purging pool {}", pool));
  const auto now = int_field(doc, "now");
  std::vector<Lease> removed;
  for_each_pair(doc, "leases", [&](const std::string& id, const json& raw) {
    removed.push_back(lease_or_placeholder(id, raw.is_string() ? json::parse(raw.get<std::string>(), nullptr, false)
                                                               : json(),
                                           now));
  });
  sort_leases(removed);
  return removed;
}

PoolSnapshot RedisStore::snapshot(std::string_view pool)
{
  check_name("pool name", pool);
  const json doc =
      run_pool_script(lease_snapshot_script(), pool, json::object(), {}, fmt::format("reading pool {}", pool));
  PoolSnapshot snapshot;
  snapshot.now_ms = int_field(doc, "now");
  snapshot.allocated = {int_field(doc, "mc"), int_field(doc, "mib"), named_field(doc, "res")};
  PoolCounters counters;
  counters.cpu_text = doc.value("cpu", "");
  counters.ram_text = doc.value("ram", "");
  counters.resources = {int_field(doc, "cmc"), int_field(doc, "cmib")};
  snapshot.counters = counters;
  const std::string hash = pool_keys(pool).workers;
  for_each_pair(doc, "leases", [&](const std::string& id, const json& raw) {
    snapshot.leases.push_back(parse_lease(id, raw, snapshot.now_ms, hash));
  });
  sort_leases(snapshot.leases);
  const std::string info = pool_keys(pool).waiter_info;
  if (const auto it = doc.find("waiters"); it != doc.end() && it->is_array()) {
    for (const auto& triple : *it) {
      snapshot.waiters.push_back(parse_waiter(triple, info));
    }
  }
  return snapshot;
}

bool RedisStore::leave_queue(std::string_view pool, std::string_view id)
{
  check_name("pool name", pool);
  check_name("lease id", id);
  const json doc = run_pool_script(waiter_leave_script(), pool, json{{"id", std::string(id)}}, {},
                                   fmt::format("removing waiter {} from the queue of pool {}", id, pool));
  return doc.value("outcome", "") == "left";
}

RepairResult RedisStore::repair(std::string_view pool)
{
  check_name("pool name", pool);
  const json doc =
      run_pool_script(lease_repair_script(), pool, json::object(), {}, fmt::format("repairing pool {}", pool));
  RepairResult result;
  result.has_counters = true;
  result.before.cpu_text = doc.value("cpu_before", "");
  result.before.ram_text = doc.value("ram_before", "");
  result.after.cpu_text = doc.value("cpu_after", "");
  result.after.ram_text = doc.value("ram_after", "");
  result.after.resources = {int_field(doc, "mc"), int_field(doc, "mib")};
  return result;
}

}  // namespace scalectl::state
