#pragma once
// The Redis backend (hiredis + Lua).
//
// Key layout. Capacity pools use the seed's keys, without prefix, so the TypeScript workers and
// scalectl share one budget:
//   <pool>:workers          hash: lease id -> lease JSON (see lease_json.hpp)
//   <pool>:cpu:allocated    decimal vCPUs of the live leases, e.g. "4.5"
//   <pool>:ram:allocated    decimal GB of the live leases, e.g. "2.25"
//   <pool>:<name>:allocated decimal amount of named resource <name> held by scalectl's leases
//   <pool>:scalectl:totals  hash: exact totals of scalectl's leases (mc, mib, n, r:<name>, d:<name>)
//   <pool>:scalectl:expiry  sorted set: lease id -> expiresAt (+inf without TTL), for bounded reaping
// The counters are changed only by exact INCRBYFLOAT increments, like the seed's workers do (see
// redis_scripts.cpp), and `capacity repair` rewrites them from the leases on request.
// For Redis Cluster, give the pool a hash tag (pool = "{server}") so all its keys share a slot;
// the default pool "server" is seed-compatible but not cluster-safe.
// scalectl's own keys start with StoreOptions::key_prefix and carry one hash tag per kind:
//   <prefix>:{rec}:<key>        string: a JSON record
//   <prefix>:{lock}:<resource>  string: holder JSON with a random token; PX = lock_ttl
//   <prefix>:{log}:<name>       stream: entries with one field "entry" holding the JSON

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <scalectl/clock.hpp>
#include <scalectl/state/store.hpp>

#include "state/redis_connection.hpp"

namespace scalectl::state {

class RedisStore final : public Store {
 public:
  // Connects to options.redis_url (password from the URL, else options.redis_password); throws
  // Error(usage) for a bad URL and Error(failure) if the server cannot be reached or logged into.
  RedisStore(const StoreOptions& options, Clock& clock);

  std::string describe() const override;

  std::unique_ptr<OperationLock> lock(std::string_view resource, const LockOwner& me,
                                      std::chrono::milliseconds wait) override;
  std::optional<LockOwner> lock_holder(std::string_view resource) override;

  std::optional<std::int64_t> time_ms() override;
  std::optional<nlohmann::json> get(std::string_view key) override;
  nlohmann::json update(std::string_view key,
                        const std::function<nlohmann::json(const std::optional<nlohmann::json>&)>& fn) override;

  void append(std::string_view name, const nlohmann::json& entry) override;
  std::vector<nlohmann::json> read_log(std::string_view name, std::int64_t since_ms) override;

  AllocateResult allocate(const AllocateRequest& request) override;
  RenewResult renew(std::string_view pool, std::string_view id, std::chrono::milliseconds ttl) override;
  RenewResult persist(std::string_view pool, std::string_view id) override;
  ReleaseResult release(std::string_view pool, std::string_view id) override;
  std::vector<Lease> purge(std::string_view pool) override;
  PoolSnapshot snapshot(std::string_view pool) override;
  bool leave_queue(std::string_view pool, std::string_view id) override;
  RepairResult repair(std::string_view pool) override;

 private:
  // Runs a lease script on `pool`'s keys with `args` (plus the named resources `names` and those
  // the pool is known to count) and returns its parsed JSON result.
  nlohmann::json run_pool_script(const LuaScript& script, std::string_view pool, nlohmann::json args,
                                 std::vector<std::string> names, std::string_view doing);
  std::string own_key(std::string_view kind, std::string_view name) const;
  // Returns GET `key`, or nullopt when the key does not exist.
  std::optional<std::string> get_text(const std::string& key, std::string_view doing);
  // Returns the record `key` stored as `text`; throws Error(failure) if it is not JSON.
  static nlohmann::json parse_record(std::string_view key, const std::string& redis_key, const std::string& text);

  std::shared_ptr<RedisSession> m_session;
  std::map<std::string, std::vector<std::string>> m_pool_names;  // named resources each pool counts
  std::string m_key_prefix;
  std::chrono::milliseconds m_lock_ttl;
  Clock& m_clock;
};

}  // namespace scalectl::state
