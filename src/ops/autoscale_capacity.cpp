// How many more workers of a type the capacity pool fits: the input of the pipeline's stage 6.

#include <scalectl/ops/autoscale.hpp>

#include <scalectl/core/capacity.hpp>
#include <scalectl/ops/capacity.hpp>
#include <scalectl/ops/capacity_multi.hpp>

namespace scalectl::ops {

core::CapacityLimit capacity_limit(const config::Config& config, state::Store& store, const std::string& worker_type,
                                   const HostProbe& probe)
{
  const CapacitySettings settings = capacity_settings(config, probe);
  const core::WorkerType& type = require_worker_type(settings, worker_type);
  core::Resources usable = settings.usable;
  core::Resources allocated;
  if (draws_from_shared_pool(settings, type)) {
    const auto across = check_across_pools(store, settings, type, 1);  // this host's and the shared pools
    usable = across.usable;
    allocated = across.allocated;
  } else {
    allocated = store.snapshot(settings.pool).allocated;
  }

  core::CapacityLimit limit;
  limit.worker_type = type.name;
  limit.additional_fit = core::fit_count(usable - allocated, type.need);
  limit.detail = core::check_fit(usable, allocated, type.need, limit.additional_fit + 1).reason;
  return limit;
}

}  // namespace scalectl::ops
