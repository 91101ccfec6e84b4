#pragma once
// Several pools per worker (issue 13): a worker type that draws from this host's pool (CPU, RAM,
// GPU) and from pools shared by every host (an API key's requests and tokens per minute) takes a
// lease in each, all or nothing. The protocol is described in src/ops/capacity_multi.cpp.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <scalectl/core/capacity.hpp>
#include <scalectl/ops/capacity.hpp>
#include <scalectl/state/store.hpp>

namespace scalectl {
class Clock;
class Reporter;
}  // namespace scalectl

namespace scalectl::ops {

// One pool's share of what a worker type needs.
struct PoolPart {
  std::string pool;        // the pool's name in the store
  core::Resources usable;  // that pool's limits after the reserve
  core::Resources need;    // the part of the worker's need held by that pool
  bool shared = false;     // false: this host's pool
};

// Returns the pools a worker of `type` draws from: this host's pool first (CPU, RAM and
// [capacity.resources]), then each shared pool in config order; a pool whose share is zero is
// left out, so the result is never empty for a valid type.
std::vector<PoolPart> pool_parts(const CapacitySettings& settings, const core::WorkerType& type);

// Returns true when a worker of `type` needs some resource of a shared pool.
bool draws_from_shared_pool(const CapacitySettings& settings, const core::WorkerType& type);

// Returns every pool of `settings`: this host's, then the shared ones in config order.
std::vector<std::string> all_pools(const CapacitySettings& settings);

// Returns `settings` with the shared pools' resources added to `resources` and `usable`, as one
// budget (for `capacity plan` and `check`, which compare one worker's whole need at once).
CapacitySettings combined_settings(const CapacitySettings& settings);

struct MultiAllocateRequest {
  state::Lease lease;  // id, type, host, pid (resources: taken from each part)
  std::vector<PoolPart> parts;
  std::optional<std::chrono::milliseconds> ttl;  // nullopt: no expiry once confirmed
  std::chrono::milliseconds pending_ttl{30'000};  // expiry of a lease until every pool is held
};

// What one pool answered.
struct PoolAllocation {
  std::string pool;
  state::AllocateResult result;
};

struct MultiAllocateOutcome {
  state::AllocateResult::Outcome outcome = state::AllocateResult::Outcome::insufficient;
  std::vector<PoolAllocation> pools;   // the pools asked in the last attempt, in order
  std::optional<std::size_t> refused;  // index in parts of the pool that refused (insufficient or another type)
  bool wrong_type = false;             // the refusing pool holds this id for another worker type
  bool never_fits = false;             // some pool can never hold the worker: no attempt made
  std::vector<std::string> rolled_back;  // pools whose lease this call took and released again
  int attempts = 0;
  std::chrono::milliseconds waited{0};
};

// Takes a lease with `request.lease.id` in every pool of `request.parts`, all or nothing: each
// pool first with the short pending TTL, then (once all hold) each is confirmed to `ttl` (or made
// permanent). A refusal releases what this call took; so does an error, as far as the store
// allows (what it cannot release expires within the pending TTL). While refused and
// `policy.wait` has not passed, retries with backoff_delay. Throws Error(refused) when a pending
// lease expired before it was confirmed (nothing is then held).
MultiAllocateOutcome allocate_across_pools(state::Store& store, Clock& clock, Reporter& reporter,
                                           const MultiAllocateRequest& request, const WaitPolicy& policy,
                                           std::uint64_t seed);

// What release and renew did in one pool.
struct PoolRelease {
  std::string pool;
  state::ReleaseResult result;
};
struct PoolRenew {
  std::string pool;
  state::RenewResult result;
};

// Releases lease `id` in every pool of `pools`, last pool first; returns each pool's answer.
std::vector<PoolRelease> release_across_pools(state::Store& store, const std::vector<std::string>& pools,
                                              const std::string& id);

struct MultiRenewReport {
  std::vector<PoolRenew> pools;       // every pool, in order
  std::vector<std::string> missing;   // pools the lease's type draws from where it is expired or unknown
  std::optional<state::Lease> lease;  // the first lease renewed (for its type and expiry)
};

// Renews lease `id` in every pool of `settings` to `ttl` and names the pools its worker type
// draws from where the lease is gone.
MultiRenewReport renew_across_pools(state::Store& store, const CapacitySettings& settings, const std::string& id,
                                    std::chrono::milliseconds ttl);

// One shared pool as it stands.
struct SharedPoolState {
  SharedPool pool;
  state::PoolSnapshot snapshot;
};

// Returns a snapshot of each shared pool of `settings`, in config order.
std::vector<SharedPoolState> shared_pool_states(state::Store& store, const CapacitySettings& settings);

struct MultiFitReport {
  core::FitResult fit;        // against every pool at once; the reason names the short resource
  core::Resources allocated;  // stricter usage of this host's pool plus the shared pools' amounts
  core::Resources usable;     // every pool's usable amounts
};

// Returns whether `count` workers of `type` fit now in every pool they draw from.
MultiFitReport check_across_pools(state::Store& store, const CapacitySettings& settings, const core::WorkerType& type,
                                  std::int64_t count);

}  // namespace scalectl::ops
