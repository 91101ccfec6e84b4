#pragma once
// The state store: operation locks, small JSON records, append-only logs and capacity leases.
// Two backends implement it with the same contract: a local JSON file under flock (the
// default) and Redis (Lua scripts, server time). Tests in tests/unit/test_state_contract.cpp
// run the same suite against both.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include <scalectl/core/capacity.hpp>

namespace scalectl {
class Clock;
}

namespace scalectl::state {

// Who holds (or wants) an operation lock. Shown to a second run that finds the lock taken.
struct LockOwner {
  long pid = 0;
  std::string host;
  std::string user;
  std::string command;       // argv joined, secrets redacted
  std::int64_t since_ms = 0; // Unix milliseconds
};

// A held operation lock. Destroying it releases the lock (only if still ours).
class OperationLock {
 public:
  virtual ~OperationLock() = default;
  // Returns false if the lock was lost (e.g. Redis key expired and taken by someone else).
  virtual bool still_held() = 0;
};

struct StoreOptions {
  std::string backend = "file";              // "file" or "redis"
  std::filesystem::path state_dir;           // file backend: created 0700; NFS/CIFS refused
  std::string redis_url;                     // redis://[:password@]host:port/db or unix:///path
  std::string redis_password;                // from REDISCLI_AUTH or config; never argv
  std::string redis_ca_file;                 // rediss://: PEM CA to trust instead of the system store
  std::string redis_cert_file;               // rediss://: client certificate (mutual TLS)
  std::string redis_key_file;                // rediss://: its private key
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds command_timeout{5'000};
  std::chrono::milliseconds lock_ttl{30'000};  // Redis lock expiry; renewed every ttl/3
  std::string key_prefix = "scalectl";       // Redis key prefix for scalectl's own keys
};

// One lease of capacity, as stored. Amounts are integers: millicores and MiB, and exact decimals
// for named resources.
struct Lease {
  std::string id;
  std::string type;
  core::Resources resources;
  std::int64_t started_at_ms = 0;
  std::optional<std::int64_t> expires_at_ms;  // nullopt: no TTL
  std::string host;
  long pid = 0;
  bool expired = false;  // set in snapshots: past expires_at_ms but not yet reaped
};

// One allocation waiting in its pool's queue (allocate --wait). The queue admits waiters by
// priority (higher first), then by arrival (seq); a waiter stays queued only while it heartbeats.
struct Waiter {
  std::string id;                // the lease id it waits to allocate
  std::string type;
  std::int64_t priority = 0;
  std::int64_t seq = 0;          // arrival order within the pool
  std::int64_t since_ms = 0;     // when it joined the queue (Unix ms, store clock)
  std::int64_t expires_at_ms = 0;  // heartbeat expiry: it leaves the queue unless it polls again by then
  std::string host;
  long pid = 0;
  core::Resources resources;     // what it waits for
};

// The seed's counters <pool>:cpu:allocated and <pool>:ram:allocated (Redis backend only).
struct PoolCounters {
  std::string cpu_text;          // as stored ("" when missing), e.g. "4.5" or "0.30000000000000004"
  std::string ram_text;
  core::Resources resources;     // rounded to millicores / MiB; a negative counter counts as 0
};

struct PoolSnapshot {
  std::vector<Lease> leases;     // live and expired-not-reaped, sorted by started_at_ms then id
  core::Resources allocated;     // sum of live leases
  std::int64_t now_ms = 0;       // the store's clock (Redis TIME for Redis)
  std::optional<PoolCounters> counters;  // Redis: the seed's counters, a second view of usage
  std::vector<Waiter> waiters;   // live waiters of the queue, in admission order
};

// Returns the counters as they stand once the expired leases still listed are reaped: scalectl
// takes an expired lease's amounts off the counters when it reaps it. nullopt without counters.
inline std::optional<core::Resources> effective_counters(const PoolSnapshot& snapshot)
{
  if (!snapshot.counters) {
    return std::nullopt;
  }
  core::Resources c = snapshot.counters->resources;
  for (const auto& lease : snapshot.leases) {
    if (lease.expired) {
      c.millicores = std::max<std::int64_t>(0, c.millicores - lease.resources.millicores);
      c.mib = std::max<std::int64_t>(0, c.mib - lease.resources.mib);
    }
  }
  return c;
}

// Returns the stricter of the two views of usage: the sum of live leases and the counters (a
// seed worker between its INCRBYFLOAT and its HSET only shows in the counters).
inline core::Resources stricter_usage(const PoolSnapshot& snapshot)
{
  const auto counters = effective_counters(snapshot);
  if (!counters) {
    return snapshot.allocated;
  }
  return {std::max(snapshot.allocated.millicores, counters->millicores),
          std::max(snapshot.allocated.mib, counters->mib), snapshot.allocated.named};
}

// What `capacity repair` changed: the counters before and after being rewritten from the leases.
struct RepairResult {
  bool has_counters = false;     // false for backends without counters (file)
  PoolCounters before;
  PoolCounters after;
};

struct AllocateRequest {
  std::string pool = "server";
  Lease lease;                                  // id, type, resources, host, pid
  core::Resources usable;                       // limits after the reserve
  std::optional<std::chrono::milliseconds> ttl;
  // Fair waiting: the worker type's priority (1-10); a request is refused while a live waiter of
  // at least its priority is queued (one of higher priority or earlier arrival, for a waiter).
  std::int64_t priority = 5;
  // Set: the request waits, so it joins the queue (or heartbeats its place) and stays queued for
  // this long unless it polls again; nullopt: a one-shot request that never joins the queue.
  std::optional<std::chrono::milliseconds> queue_ttl;
};

struct AllocateResult {
  enum class Outcome { allocated, already_held, insufficient } outcome = Outcome::insufficient;
  Lease lease;                   // the lease now held (allocated / already_held)
  core::FitResult fit;           // the fit check against live leases
  std::vector<std::string> reaped;  // ids of expired leases reaped by this operation
  std::optional<Waiter> blocker;  // insufficient because this waiter (the queue's head) goes first
  std::int64_t position = 0;     // the request's 1-based place in the queue while it waits, else 0
};

struct RenewResult {
  enum class Outcome { renewed, expired, unknown } outcome = Outcome::unknown;
  Lease lease;
};

struct ReleaseResult {
  enum class Outcome { released, unknown } outcome = Outcome::unknown;
  Lease lease;
};

class Store {
 public:
  virtual ~Store() = default;

  // Returns a short description for messages, e.g. "file /var/lib/scalectl/state.json".
  virtual std::string describe() const = 0;

  // --- operation locks ----------------------------------------------------------------------
  // Takes the exclusive lock for `resource` (e.g. "droplet-123"), waiting up to `wait`.
  // Throws Error(lock_held) naming the holder (pid, host, command, since) if it stays taken.
  virtual std::unique_ptr<OperationLock> lock(std::string_view resource, const LockOwner& me,
                                              std::chrono::milliseconds wait) = 0;
  // Returns the current holder of `resource`'s lock, or nullopt when it is free.
  virtual std::optional<LockOwner> lock_holder(std::string_view resource) = 0;

  // --- time ---------------------------------------------------------------------------------
  // Returns the backend's own clock (ms since the epoch), the same for every host that shares
  // the backend (Redis TIME), or nullopt when it has none and callers use the host's clock (the
  // file backend: its hosts share one machine or directory).
  virtual std::optional<std::int64_t> time_ms() { return std::nullopt; }

  // --- records ------------------------------------------------------------------------------
  // Returns the JSON record stored under `key`, or nullopt.
  virtual std::optional<nlohmann::json> get(std::string_view key) = 0;
  // Atomically replaces the record under `key` with fn(old) and returns the new value.
  // `fn` may run more than once (optimistic retry) and must have no side effects.
  virtual nlohmann::json update(std::string_view key,
                                const std::function<nlohmann::json(const std::optional<nlohmann::json>&)>& fn) = 0;

  // --- append-only logs ---------------------------------------------------------------------
  // Appends one JSON entry to log `name` (e.g. "audit"); concurrent appends never lose entries.
  virtual void append(std::string_view name, const nlohmann::json& entry) = 0;
  // Returns entries of log `name` with time >= since_ms (entry field "time_ms"), oldest first.
  virtual std::vector<nlohmann::json> read_log(std::string_view name, std::int64_t since_ms) = 0;

  // --- capacity leases (one atomic operation each; expired leases are reaped inside it) ----
  virtual AllocateResult allocate(const AllocateRequest& request) = 0;
  virtual RenewResult renew(std::string_view pool, std::string_view id, std::chrono::milliseconds ttl) = 0;
  virtual ReleaseResult release(std::string_view pool, std::string_view id) = 0;
  // Removes the expiry of the live lease `id` of `pool`, so it lasts until released (how a
  // several-pool allocation confirms a pending lease taken for --ttl none); outcomes as renew.
  virtual RenewResult persist(std::string_view pool, std::string_view id);
  // Removes every lease of `pool` and returns what was removed.
  virtual std::vector<Lease> purge(std::string_view pool) = 0;
  virtual PoolSnapshot snapshot(std::string_view pool) = 0;
  // Removes waiter `id` from `pool`'s queue (a waiter that gives up); returns true if it was
  // queued. Backends without a queue return false.
  virtual bool leave_queue(std::string_view pool, std::string_view id)
  {
    static_cast<void>(pool);
    static_cast<void>(id);
    return false;
  }
  // Rewrites `pool`'s counters from its live leases (callers hold the pool's lock) and returns
  // what changed; backends without counters return has_counters = false.
  virtual RepairResult repair(std::string_view pool)
  {
    static_cast<void>(pool);
    return {};
  }
};

// Opens the configured backend. Throws Error(failure) if the backend cannot be reached and
// Error(usage) if the options are invalid (bad URL, NFS state dir).
std::unique_ptr<Store> open_store(const StoreOptions& options);
// Same, with an explicit clock for lease expiry (file backend), "since" times and lock waits.
std::unique_ptr<Store> open_store(const StoreOptions& options, Clock& clock);

}  // namespace scalectl::state
