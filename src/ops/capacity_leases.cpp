// One pool's leases as the capacity verbs use them: the CLI asks these, never the store itself.
#include <scalectl/ops/capacity.hpp>

namespace scalectl::ops {

CheckReport check_pool(state::Store& store, const CapacitySettings& settings, const core::WorkerType& type,
                       std::int64_t count)
{
  const auto snapshot = store.snapshot(settings.pool);
  CheckReport report;
  report.allocated = state::stricter_usage(snapshot);
  report.fit = core::check_fit(settings.usable, report.allocated, type.need, count);
  return report;
}

state::RenewResult renew_lease(state::Store& store, const std::string& pool, const std::string& id,
                               std::chrono::milliseconds ttl)
{
  return store.renew(pool, id, ttl);
}

state::ReleaseResult release_lease(state::Store& store, const std::string& pool, const std::string& id)
{
  return store.release(pool, id);
}

std::vector<state::Lease> purge_pool(state::Store& store, const std::string& pool)
{
  return store.purge(pool);
}

PoolStatus pool_status(state::Store& store, const std::string& pool)
{
  return {store.snapshot(pool), store.describe()};
}

}  // namespace scalectl::ops
