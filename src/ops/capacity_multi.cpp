// Several pools per worker, all or nothing.
//
// A worker type may draw from this host's pool (CPU, RAM, GPU) and from pools shared by every
// host (an API key's RPM/TPM). Each pool is one atomic store operation (one Lua script on one
// hash-tagged slot, or one flock'd file update), but two pools are two operations, so a process
// can die between them. The protocol keeps the pair all or nothing:
//
//   1. take: allocate in each pool in order (this host's first, then the shared pools), each
//      lease with the short pending TTL (capacity.pending_ttl, 30 s by default, never longer than
//      the lease's own TTL);
//   2. refusal: if a pool refuses, release what this call took (rollback) and report the refusal;
//   3. confirm: once every pool holds the lease, renew each to its real TTL (or persist it for
//      --ttl none), this host's pool first; only then is the worker id printed.
//
// A kill -9 (or a lost connection) before step 3 leaves only pending leases: each expires by
// itself within the pending TTL and is reaped by the next operation on its pool, so the pools
// return to what they were. Pending leases are taken in this host's pool first because that is
// where a crash's leftover hurts least: only this host's workers wait for it, while a shared
// pool is every host's. The one window left is inside step 3, between two confirmations (one
// store round trip): a crash there keeps this host's lease for its real TTL while the shared
// one expires. That is no worse than a worker killed just after a successful allocate (its
// leases also stay until their TTL), and `capacity release ID` frees every pool of the id.
// Taking the last pool straight at its real TTL would save one round trip, but a crash before
// the earlier pools are confirmed would then leave the shared pool's lease (every host's budget)
// held for its whole TTL, or for ever with --ttl none; with every pool pending first and this
// host's confirmed first, the leftover can only ever be in this host's pool.
//
// Why not one script over both pools: on Redis Cluster the host pool ({server}) and a shared
// pool ({gemini}) live in different slots, and a script may only touch one slot (CROSSSLOT).
// A two-phase protocol over the store's per-pool operations works on every backend (file,
// Redis, Redis Cluster) without a coordinator, and keeps every pool's own counters exact.

#include <scalectl/ops/capacity_multi.hpp>

#include <algorithm>
#include <random>

#include <fmt/format.h>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>
#include <scalectl/report.hpp>

namespace scalectl::ops {

using Outcome = state::AllocateResult::Outcome;

namespace {

bool is_zero(const core::Resources& r)
{
  return r == core::Resources{};
}

// Releases the leases of `parts[i]` for each i in `taken`, last first; an error is swallowed
// (the pending TTL frees what cannot be released now). Returns the pools released.
std::vector<std::string> roll_back(state::Store& store, const MultiAllocateRequest& request,
                                   const std::vector<std::size_t>& taken)
{
  std::vector<std::string> released;
  for (auto it = taken.rbegin(); it != taken.rend(); ++it) {
    const auto& pool = request.parts[*it].pool;
    try {
      store.release(pool, request.lease.id);
      released.push_back(pool);
    } catch (const Error&) {
      // expires within the pending TTL
    }
  }
  return released;
}

// One attempt of the protocol described at the top of this file.
MultiAllocateOutcome attempt(state::Store& store, const MultiAllocateRequest& request)
{
  MultiAllocateOutcome outcome;
  std::vector<std::size_t> taken;  // parts whose lease this attempt created
  auto pending = request.pending_ttl;
  if (request.ttl) {
    pending = std::min(pending, *request.ttl);
  }
  try {
    for (std::size_t i = 0; i < request.parts.size(); ++i) {
      const auto& part = request.parts[i];
      state::AllocateRequest one;
      one.pool = part.pool;
      one.lease = request.lease;
      one.lease.resources = part.need;
      one.usable = part.usable;
      one.ttl = pending;
      auto result = store.allocate(one);
      outcome.pools.push_back({part.pool, result});
      const bool other_type = result.outcome == Outcome::already_held && result.lease.type != request.lease.type;
      if (result.outcome == Outcome::insufficient || other_type) {
        outcome.refused = i;
        outcome.wrong_type = other_type;
        outcome.rolled_back = roll_back(store, request, taken);
        return outcome;
      }
      if (result.outcome == Outcome::allocated) {
        taken.push_back(i);
      }
    }
    if (taken.empty()) {
      outcome.outcome = Outcome::already_held;  // every pool already held this id: nothing changed
      return outcome;
    }
    for (std::size_t i = 0; i < request.parts.size(); ++i) {
      const auto& pool = request.parts[i].pool;
      const auto confirmed =
        request.ttl ? store.renew(pool, request.lease.id, *request.ttl) : store.persist(pool, request.lease.id);
      if (confirmed.outcome != state::RenewResult::Outcome::renewed) {
        roll_back(store, request, taken);
        taken.clear();
        throw refused_error(fmt::format(
          "the pending lease {} in pool '{}' expired before it was confirmed (capacity.pending_ttl is {}), so "
          "nothing is held; rerun, and raise capacity.pending_ttl if the state store is slow",
          request.lease.id, pool, format_duration(request.pending_ttl)));
      }
      outcome.pools[i].result.lease = confirmed.lease;
    }
  } catch (...) {
    roll_back(store, request, taken);
    throw;
  }
  outcome.outcome = Outcome::allocated;
  return outcome;
}

}  // namespace

std::vector<PoolPart> pool_parts(const CapacitySettings& settings, const core::WorkerType& type)
{
  std::vector<PoolPart> parts;
  PoolPart host{settings.pool, settings.usable, {type.need.millicores, type.need.mib}, false};
  for (const auto& [name, amount] : type.need.named) {
    const auto& wanted = name;  // clang 15 cannot capture a structured binding
    const bool in_host = std::any_of(settings.resources.begin(), settings.resources.end(),
                                     [&](const core::NamedResource& r) { return r.name == wanted; });
    if (in_host) {
      host.need.named[name] = amount;
    }
  }
  if (!is_zero(host.need)) {
    parts.push_back(std::move(host));
  }
  for (const auto& shared : settings.shared_pools) {
    PoolPart part{shared.pool, shared.usable, {}, true};
    for (const auto& resource : shared.resources) {
      if (const auto amount = core::named_amount(type.need, resource.name); amount.units != 0) {
        part.need.named[resource.name] = amount;
      }
    }
    if (!is_zero(part.need)) {
      parts.push_back(std::move(part));
    }
  }
  return parts;
}

bool draws_from_shared_pool(const CapacitySettings& settings, const core::WorkerType& type)
{
  const auto parts = pool_parts(settings, type);
  return std::any_of(parts.begin(), parts.end(), [](const PoolPart& p) { return p.shared; });
}

std::vector<std::string> all_pools(const CapacitySettings& settings)
{
  std::vector<std::string> pools{settings.pool};
  for (const auto& shared : settings.shared_pools) {
    pools.push_back(shared.pool);
  }
  return pools;
}

CapacitySettings combined_settings(const CapacitySettings& settings)
{
  CapacitySettings out = settings;
  for (const auto& shared : settings.shared_pools) {
    out.resources.insert(out.resources.end(), shared.resources.begin(), shared.resources.end());
    for (const auto& [name, amount] : shared.usable.named) {
      out.usable.named[name] = amount;
    }
  }
  return out;
}

MultiAllocateOutcome allocate_across_pools(state::Store& store, Clock& clock, Reporter& reporter,
                                           const MultiAllocateRequest& request, const WaitPolicy& policy,
                                           std::uint64_t seed)
{
  for (std::size_t i = 0; i < request.parts.size(); ++i) {
    const auto& part = request.parts[i];
    if (auto empty = core::check_fit(part.usable, {}, part.need); !empty.fits) {
      MultiAllocateOutcome outcome;
      outcome.never_fits = true;
      outcome.refused = i;
      state::AllocateResult result;
      result.fit = std::move(empty);
      outcome.pools.push_back({part.pool, std::move(result)});
      return outcome;
    }
  }
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto started = clock.monotonic();
  const auto deadline = started + policy.wait;
  for (int attempts = 1;; ++attempts) {
    auto outcome = attempt(store, request);
    outcome.attempts = attempts;
    const auto now = clock.monotonic();
    outcome.waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - started);
    if (outcome.outcome != Outcome::insufficient || outcome.wrong_type || now >= deadline) {
      return outcome;
    }
    const auto& refusal = outcome.pools.back();
    reporter.progress(fmt::format("waiting for capacity for {} in pool '{}' ({})", request.lease.id, refusal.pool,
                                  refusal.result.fit.reason),
                      outcome.waited);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    clock.sleep_for(std::min(backoff_delay(policy, attempts, unit(rng)), left + std::chrono::milliseconds(1)));
  }
}

std::vector<PoolRelease> release_across_pools(state::Store& store, const std::vector<std::string>& pools,
                                              const std::string& id)
{
  std::vector<PoolRelease> out;
  for (auto it = pools.rbegin(); it != pools.rend(); ++it) {
    out.push_back({*it, store.release(*it, id)});
  }
  std::reverse(out.begin(), out.end());
  return out;
}

MultiRenewReport renew_across_pools(state::Store& store, const CapacitySettings& settings, const std::string& id,
                                    std::chrono::milliseconds ttl)
{
  MultiRenewReport report;
  for (const auto& pool : all_pools(settings)) {
    report.pools.push_back({pool, store.renew(pool, id, ttl)});
    const auto& result = report.pools.back().result;
    if (!report.lease && result.outcome != state::RenewResult::Outcome::unknown) {
      report.lease = result.lease;
    }
  }
  if (!report.lease) {
    return report;  // unknown everywhere
  }
  const auto* type = core::find_worker_type(settings.types, report.lease->type);
  for (const auto& [pool, result] : report.pools) {
    if (result.outcome == state::RenewResult::Outcome::renewed) {
      continue;
    }
    bool needed = result.outcome == state::RenewResult::Outcome::expired;
    if (type != nullptr && !needed) {
      const auto parts = pool_parts(settings, *type);
      const auto& this_pool = pool;  // clang 15 cannot capture a structured binding
      needed = std::any_of(parts.begin(), parts.end(), [&](const PoolPart& p) { return p.pool == this_pool; });
    }
    if (needed) {
      report.missing.push_back(pool);
    }
  }
  return report;
}

std::vector<SharedPoolState> shared_pool_states(state::Store& store, const CapacitySettings& settings)
{
  std::vector<SharedPoolState> out;
  for (const auto& shared : settings.shared_pools) {
    out.push_back({shared, store.snapshot(shared.pool)});
  }
  return out;
}

MultiFitReport check_across_pools(state::Store& store, const CapacitySettings& settings, const core::WorkerType& type,
                                  std::int64_t count)
{
  MultiFitReport report;
  report.usable = combined_settings(settings).usable;
  report.allocated = state::stricter_usage(store.snapshot(settings.pool));
  for (const auto& shared : shared_pool_states(store, settings)) {
    for (const auto& resource : shared.pool.resources) {
      report.allocated.named[resource.name] = core::named_amount(shared.snapshot.allocated, resource.name);
    }
  }
  report.fit = core::check_fit(report.usable, report.allocated, type.need, count);
  return report;
}

}  // namespace scalectl::ops
