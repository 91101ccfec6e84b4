// The Prometheus series of droplets, capacity pools, autoscale policies and command runs.

#include <cmath>

#include <scalectl/core/droplet.hpp>
#include <scalectl/exit_code.hpp>
#include <scalectl/state/store.hpp>

#include "sinks/metrics_textfile.hpp"

namespace scalectl::sinks {

using core::PromSample;

namespace {

constexpr double k_mib = 1024.0 * 1024.0;

double cores(std::int64_t millicores)
{
  return static_cast<double>(millicores) / 1000.0;
}

double bytes(std::int64_t mib)
{
  return static_cast<double>(mib) * k_mib;
}

}  // namespace

std::vector<PromSample> droplet_samples(const core::Droplet& droplet)
{
  const std::string id = std::to_string(droplet.id);
  return {
    {"scalectl_droplet_info", {{"droplet_id", id}, {"name", droplet.name}, {"size", droplet.size_slug}}, 1},
    {"scalectl_droplet_memory_bytes", {{"droplet_id", id}}, bytes(droplet.memory_mb)},
    {"scalectl_droplet_vcpus", {{"droplet_id", id}}, static_cast<double>(droplet.vcpus)},
    {"scalectl_droplet_price_monthly_dollars", {{"droplet_id", id}}, droplet.price_monthly},
  };
}

std::vector<PromSample> capacity_samples(const std::string& pool, const state::PoolSnapshot& snapshot,
                                           core::Resources usable, const std::vector<core::WorkerType>& types)
{
  std::map<std::string, std::pair<core::Resources, int>> by_type;
  for (const auto& t : types) {
    by_type[t.name] = {};
  }
  core::Resources allocated;
  for (const auto& lease : snapshot.leases) {
    if (lease.expired) {
      continue;
    }
    auto& [resources, count] = by_type[lease.type];
    resources = resources + lease.resources;
    ++count;
    allocated = allocated + lease.resources;
  }
  const core::Resources available = usable - allocated;
  std::vector<PromSample> out = {
    {"scalectl_capacity_usable_cpu_cores", {{"pool", pool}}, cores(usable.millicores)},
    {"scalectl_capacity_usable_memory_bytes", {{"pool", pool}}, bytes(usable.mib)},
    {"scalectl_capacity_available_cpu_cores", {{"pool", pool}}, cores(available.millicores)},
    {"scalectl_capacity_available_memory_bytes", {{"pool", pool}}, bytes(available.mib)},
  };
  for (const auto& [type, held] : by_type) {
    const auto& [resources, count] = held;
    out.push_back({"scalectl_capacity_allocated_cpu_cores", {{"pool", pool}, {"type", type}}, cores(resources.millicores)});
    out.push_back({"scalectl_capacity_allocated_memory_bytes", {{"pool", pool}, {"type", type}}, bytes(resources.mib)});
    out.push_back({"scalectl_capacity_leases", {{"pool", pool}, {"type", type}}, static_cast<double>(count)});
  }
  for (const auto& t : types) {
    out.push_back({"scalectl_capacity_available_workers", {{"pool", pool}, {"type", t.name}},
                   static_cast<double>(core::fit_count(available, t.need))});
  }
  return out;
}

std::vector<PromSample> autoscale_samples(const std::string& policy, std::int64_t current, std::int64_t desired,
                                            std::optional<double> metric)
{
  std::vector<PromSample> out = {
    {"scalectl_autoscale_current_replicas", {{"policy", policy}}, static_cast<double>(current)},
    {"scalectl_autoscale_desired_replicas", {{"policy", policy}}, static_cast<double>(desired)},
  };
  if (metric) {
    out.push_back({"scalectl_autoscale_metric_value", {{"policy", policy}}, *metric});
  }
  return out;
}

std::vector<PromSample> run_samples(const std::string& command, double unix_time, int exit_code,
                                      std::chrono::milliseconds duration)
{
  const bool success = exit_code == to_int(ExitCode::ok) || exit_code == to_int(ExitCode::change_proposed);
  return {
    {"scalectl_last_run_timestamp_seconds", {{"command", command}}, std::floor(unix_time * 1000.0) / 1000.0},
    {"scalectl_last_run_success", {{"command", command}}, success ? 1.0 : 0.0},
    {"scalectl_last_run_exit_code", {{"command", command}}, static_cast<double>(exit_code)},
    {"scalectl_last_run_duration_seconds", {{"command", command}}, static_cast<double>(duration.count()) / 1000.0},
  };
}

}  // namespace scalectl::sinks
