#include "state/file_pool.hpp"

#include <fmt/format.h>

#include <scalectl/error.hpp>

#include "state/file_queue.hpp"
#include "state/lease_json.hpp"
#include "state/store_common.hpp"

namespace scalectl::state {

namespace {

using nlohmann::json;

json& workers_of(json& pool)
{
  if (!pool.is_object()) {
    pool = json::object();
  }
  auto& workers = pool["workers"];
  if (!workers.is_object()) {
    workers = json::object();
  }
  return workers;
}

// Parses every lease of `workers`; throws Error(failure) naming `where` for an invalid one.
std::vector<Lease> parse_all(const json& workers, std::int64_t now_ms, const std::string& where)
{
  std::vector<Lease> leases;
  if (!workers.is_object()) {
    return leases;
  }
  for (const auto& [id, value] : workers.items()) {
    auto lease = lease_from_json(id, value, now_ms);
    if (!lease) {
      throw Error(fmt::format("{} in {} is invalid; inspect it with `jq .` and remove the entry, or purge the pool",
                              lease.error(), where));
    }
    leases.push_back(std::move(*lease));
  }
  return leases;
}

core::Resources live_total(const std::vector<Lease>& leases)
{
  core::Resources total;
  for (const auto& lease : leases) {
    if (!lease.expired) {
      total = total + lease.resources;
    }
  }
  return total;
}

// Removes expired leases from `workers` and `leases`; returns their ids.
std::vector<std::string> reap(json& workers, std::vector<Lease>& leases)
{
  std::vector<std::string> reaped;
  std::erase_if(leases, [&](const Lease& lease) {
    if (!lease.expired) {
      return false;
    }
    workers.erase(lease.id);
    reaped.push_back(lease.id);
    return true;
  });
  return reaped;
}

const Lease* find(const std::vector<Lease>& leases, std::string_view id)
{
  for (const auto& lease : leases) {
    if (lease.id == id) {
      return &lease;
    }
  }
  return nullptr;
}

}  // namespace

AllocateResult pool_allocate(json& pool, const AllocateRequest& request, std::int64_t now_ms,
                             const std::string& where)
{
  auto& workers = workers_of(pool);
  auto leases = parse_all(workers, now_ms, where);
  AllocateResult result;
  result.reaped = reap(workers, leases);
  const auto allocated = live_total(leases);
  if (const Lease* held = find(leases, request.lease.id)) {
    queue_leave(pool, request.lease.id);
    result.outcome = AllocateResult::Outcome::already_held;
    result.lease = *held;
    result.fit = fit_against(request.usable, allocated, held->resources, true);
    return result;
  }
  // Fair waiting: the queue's head goes first (see file_queue.hpp).
  queue_reap(pool, now_ms);
  if (request.queue_ttl) {
    queue_join(pool, request, now_ms);
  }
  const auto place = queue_place(queue_list(pool, now_ms), request, allocated);
  result.position = place.position;
  result.blocker = place.blocker;
  result.fit = fit_against(request.usable, allocated, request.lease.resources, false);
  if (!result.fit.fits || result.blocker ||
      !core::check_fit(request.usable, allocated + place.reserved, request.lease.resources).fits) {
    result.outcome = AllocateResult::Outcome::insufficient;
    return result;
  }
  queue_leave(pool, request.lease.id);
  result.position = 0;
  Lease lease = request.lease;
  lease.started_at_ms = now_ms;
  lease.expires_at_ms.reset();
  if (request.ttl) {
    lease.expires_at_ms = now_ms + request.ttl->count();
  }
  lease.expired = false;
  workers[lease.id] = lease_to_json(lease);
  result.outcome = AllocateResult::Outcome::allocated;
  result.lease = std::move(lease);
  return result;
}

RenewResult pool_renew(json& pool, std::string_view id, std::chrono::milliseconds ttl, std::int64_t now_ms,
                       const std::string& where)
{
  auto& workers = workers_of(pool);
  auto leases = parse_all(workers, now_ms, where);
  RenewResult result;
  if (const Lease* target = find(leases, id)) {
    result.lease = *target;
    if (target->expired) {
      result.outcome = RenewResult::Outcome::expired;
    } else {
      result.outcome = RenewResult::Outcome::renewed;
      auto& stored = workers[std::string(id)];
      if (ttl > std::chrono::milliseconds::zero()) {
        result.lease.expires_at_ms = now_ms + ttl.count();
        stored["expiresAt"] = *result.lease.expires_at_ms;
      } else {
        result.lease.expires_at_ms.reset();  // persist: the lease lasts until released
        stored.erase("expiresAt");
      }
    }
  }
  reap(workers, leases);
  return result;
}

ReleaseResult pool_release(json& pool, std::string_view id, std::int64_t now_ms, const std::string& where)
{
  auto& workers = workers_of(pool);
  auto leases = parse_all(workers, now_ms, where);
  ReleaseResult result;
  if (const Lease* target = find(leases, id)) {
    result.outcome = ReleaseResult::Outcome::released;
    result.lease = *target;
    workers.erase(std::string(id));
  }
  reap(workers, leases);
  return result;
}

std::vector<Lease> pool_purge(json& pool, std::int64_t now_ms)
{
  auto& workers = workers_of(pool);
  std::vector<Lease> removed;
  for (const auto& [id, value] : workers.items()) {
    removed.push_back(lease_or_placeholder(id, value, now_ms));
  }
  workers = json::object();
  sort_leases(removed);
  return removed;
}

PoolSnapshot pool_snapshot(const json& pool, std::int64_t now_ms, const std::string& where)
{
  PoolSnapshot snapshot;
  if (pool.is_object()) {
    if (const auto it = pool.find("workers"); it != pool.end()) {
      snapshot.leases = parse_all(*it, now_ms, where);
    }
  }
  snapshot.allocated = live_total(snapshot.leases);
  snapshot.now_ms = now_ms;
  snapshot.waiters = queue_list(pool, now_ms);
  sort_leases(snapshot.leases);
  return snapshot;
}

}  // namespace scalectl::state
