#pragma once
// Capacity operations: the [capacity] settings (detecting this host when limits are not set)
// and allocation with --wait polling, over the state store's atomic lease operations.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <scalectl/core/capacity.hpp>
#include <scalectl/state/store.hpp>

namespace scalectl {
class Clock;
class Reporter;
namespace config {
class Config;
}
}  // namespace scalectl

namespace scalectl::ops {

// Where host detection looks; tests point it at fixtures.
struct HostProbe {
  std::filesystem::path meminfo = "/proc/meminfo";
  std::optional<std::int64_t> cpus;  // nullopt: CPUs this process may run on, as `nproc` counts them
};

// Returns this host's CPUs (sched_getaffinity, else sysconf) in millicores and MemTotal in MiB.
// Throws Error(failure) naming the file when MemTotal cannot be read.
core::Resources detect_host_resources(const HostProbe& probe);

// A pool shared by every host ([capacity.shared_pools.NAME]): an API key's budget, held in the
// store under its own pool name and drawn from together with this host's pool.
struct SharedPool {
  std::string table;  // NAME of [capacity.shared_pools.NAME]
  std::string pool;   // its pool in the store: `name`, else NAME
  std::vector<core::NamedResource> resources;  // [capacity.shared_pools.NAME.resources.*], in config order
  core::Resources usable;                      // named amounts only (limit - reserve)
};

// The effective [capacity] configuration.
struct CapacitySettings {
  std::string pool = "server";
  core::ServerLimits limits;
  std::string cpu_source;  // where max_cpu came from: "config" origin, or "detected on this host"
  std::string ram_source;
  core::Resources usable;  // limits after the reserve (named resources too)
  std::vector<core::NamedResource> resources;  // [capacity.resources.NAME], in config order
  std::vector<core::WorkerType> types;  // in config order
  std::optional<std::chrono::milliseconds> default_ttl;
  // Several pools per worker (issue 13): pools shared by every host, and the TTL of the pending
  // leases an allocation across pools takes before it confirms them (src/ops/capacity_multi.cpp).
  std::vector<SharedPool> shared_pools;
  std::chrono::milliseconds pending_ttl{30'000};
  std::chrono::milliseconds waiter_ttl{10'000};  // [capacity] waiter_ttl: a waiter's heartbeat expiry
};

// Reads [capacity] from `config`. Limits that are not set are detected with `probe` (only then);
// `cpu`/`ram_gb` override them (plan --cpu/--ram). Throws Error(usage) naming the key of an invalid
// value: also a worker type naming an undeclared resource, a negative or over-precise amount, or
// an amount of a resource whose usable budget is 0; a resource declared in two pools, a shared
// pool without resources or named like another pool.
CapacitySettings capacity_settings(const config::Config& config, const HostProbe& probe = {},
                                   std::optional<double> cpu = std::nullopt,
                                   std::optional<double> ram_gb = std::nullopt);

// Returns the pool name from `config` (capacity.pool); throws Error(usage) when it is empty.
std::string capacity_pool(const config::Config& config);

// Returns the worker type called `name`; throws Error(usage) listing the known types.
const core::WorkerType& require_worker_type(const CapacitySettings& settings, std::string_view name);

// Throws Error(usage) unless `id` is a usable lease id (1-200 printable characters, no spaces).
void require_lease_id(std::string_view id);

// Returns a fresh lease id "<type>-<host>-<pid>-<8 hex digits>".
std::string generate_lease_id(std::string_view type, std::string_view host, long pid);

// How allocate --wait polls.
struct WaitPolicy {
  std::chrono::milliseconds wait{0};  // 0: one attempt
  std::chrono::milliseconds first_delay{100};
  std::chrono::milliseconds max_delay{2'000};
  // A waiting request queues (fair waiting) and heartbeats with every poll; it drops out of the
  // queue this long after its last poll ([capacity] waiter_ttl; more than max_delay).
  std::chrono::milliseconds heartbeat_ttl{10'000};
};

struct AllocateOutcome {
  state::AllocateResult result;
  bool never_fits = false;  // the worker needs more than the pool's usable capacity: no attempt made
  int attempts = 0;
  std::chrono::milliseconds waited{0};
};

// Allocates `request` atomically. While the pool has too little room (or a waiter goes first) and
// `policy.wait` has not passed, waits in the pool's queue (priority, then arrival), polling after
// exponential backoff with equal jitter (seeded by `seed`) and never sleeping past the deadline;
// each poll heartbeats its place. The clock's sleep throws Interrupted on SIGINT/SIGTERM.
// A request that gives up (deadline, interrupt, error) leaves the queue.
AllocateOutcome allocate_lease(state::Store& store, Clock& clock, Reporter& reporter,
                               const state::AllocateRequest& request, const WaitPolicy& policy,
                               std::uint64_t seed);

// Returns why `result` was refused: "queued behind waiter ID (type T, priority P, host H, pid N)"
// when a waiter goes first, else the fit's reason ("Insufficient CPU (need 3, available 1)").
std::string refusal_reason(const state::AllocateResult& result);

// Returns the backoff before retry `attempt` (1-based): min(max, first * 2^(attempt-1)), of
// which the upper half is jittered by `unit` in [0, 1).
std::chrono::milliseconds backoff_delay(const WaitPolicy& policy, int attempt, double unit);

// What `capacity repair` did to the seed's counters of one pool.
struct RepairReport {
  std::string pool;
  state::RepairResult result;
};

// Rewrites `pool`'s counters (<pool>:cpu:allocated, <pool>:ram:allocated) from its live leases,
// holding the lock "capacity-<pool>" (waiting up to `wait`); never run automatically.
RepairReport repair_counters(state::Store& store, const state::LockOwner& me, const std::string& pool,
                             std::chrono::milliseconds wait);

// --- one pool's leases, as the capacity verbs use them (src/ops/capacity_leases.cpp) ----------

// What `capacity check` found for `count` workers of one type in one pool.
struct CheckReport {
  core::FitResult fit;
  core::Resources allocated;  // the stricter of the leases' sum and the seed's counters
};

// Returns whether `count` workers of `type` fit `settings.pool` now, against the stricter view of
// its usage (live leases, or the seed's counters when a seed worker is between its two writes).
CheckReport check_pool(state::Store& store, const CapacitySettings& settings, const core::WorkerType& type,
                       std::int64_t count);

// Extends lease `id` in `pool` to expire `ttl` from now (the store's clock).
state::RenewResult renew_lease(state::Store& store, const std::string& pool, const std::string& id,
                               std::chrono::milliseconds ttl);

// Gives lease `id` in `pool` back; `unknown` when it was already released, reaped or never taken.
state::ReleaseResult release_lease(state::Store& store, const std::string& pool, const std::string& id);

// Removes every lease of `pool` (release --all --force) and returns what was removed.
std::vector<state::Lease> purge_pool(state::Store& store, const std::string& pool);

// One pool as `capacity status` shows it.
struct PoolStatus {
  state::PoolSnapshot snapshot;
  std::string backend;  // the store's description, e.g. "file /var/lib/scalectl/state.json"
};

// Returns `pool`'s leases, queue and usage, and where they are stored.
PoolStatus pool_status(state::Store& store, const std::string& pool);

}  // namespace scalectl::ops
