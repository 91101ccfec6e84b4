// How many more workers of a type the capacity pool fits: the input of the pipeline's stage 6.

#include <scalectl/ops/autoscale.hpp>

#include <fmt/format.h>

#include <scalectl/config/config.hpp>
#include <scalectl/core/capacity.hpp>
#include <scalectl/error.hpp>

namespace scalectl::ops {

core::CapacityLimit capacity_limit(const config::Config& config, state::Store& store, const std::string& worker_type)
{
  const std::string prefix = fmt::format("capacity.worker_types.{}.", worker_type);
  const auto cpu = config.get_number(prefix + "cpu");
  const auto ram = config.get_number(prefix + "ram_gb");
  if (!cpu || !ram) {
    throw usage_error(fmt::format("capacity_type \"{}\" has no cpu and ram_gb; define [capacity.worker_types.{}] "
                                  "with cpu and ram_gb",
                                  worker_type, worker_type));
  }
  const auto max_cpu = config.get_number("capacity.max_cpu");
  const auto max_ram = config.get_number("capacity.max_ram_gb");
  if (!max_cpu || !max_ram) {
    throw usage_error("capacity_type needs the server's capacity; set capacity.max_cpu and capacity.max_ram_gb "
                      "(or SERVER_MAX_CPU and SERVER_MAX_RAM)");
  }
  const double cpu_reserve = config.get_number("capacity.reserved_cpu_percent").value_or(20) / 100.0;
  const double ram_reserve = config.get_number("capacity.reserved_ram_percent").value_or(20) / 100.0;
  const core::Resources usable = core::resources_from(*max_cpu * (1.0 - cpu_reserve), *max_ram * (1.0 - ram_reserve));
  const core::Resources need = core::resources_from(*cpu, *ram);
  const std::string pool = config.get_string("capacity.pool").value_or("server");
  const core::Resources allocated = store.snapshot(pool).allocated;

  core::CapacityLimit limit;
  limit.worker_type = worker_type;
  // Start from the exact quotient, then let check_fit have the last word.
  const core::Resources available = usable - allocated;
  std::int64_t n = 0;
  if (need.millicores <= 0 && need.mib <= 0) {
    n = 1'000'000;  // a type that needs nothing never limits
  } else {
    n = std::max<std::int64_t>(0, std::min(need.millicores > 0 ? available.millicores / need.millicores : 1'000'000,
                                           need.mib > 0 ? available.mib / need.mib : 1'000'000));
  }
  while (n > 0 && !core::check_fit(usable, allocated, need, n).fits) {
    --n;
  }
  while (core::check_fit(usable, allocated, need, n + 1).fits && n < 1'000'000) {
    ++n;
  }
  limit.additional_fit = n;
  limit.detail = core::check_fit(usable, allocated, need, n + 1).reason;
  return limit;
}

}  // namespace scalectl::ops
