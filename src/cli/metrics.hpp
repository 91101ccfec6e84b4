#pragma once
// The Prometheus textfile (--metrics-file, [metrics] textfile): commands record groups of samples
// on the context while they run; at exit run() adds the command's last-run series and rewrites
// the whole file atomically. The samples of earlier runs are remembered in a JSON file next to
// the textfile (PATH.json, under the lock PATH.lock), so each host's file holds the last values
// of every command run on that host, whatever the state backend and even when it is down.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <scalectl/core/capacity.hpp>
#include <scalectl/core/metrics.hpp>

namespace scalectl {
namespace core {
struct Droplet;
}
namespace digitalocean {
using Droplet = core::Droplet;
}
namespace state {
struct PoolSnapshot;
}
}  // namespace scalectl

namespace scalectl::cli {

class Context;

// Samples recorded by one invocation, by group ("droplet:123", "capacity:server", ...).
class MetricsBatch {
 public:
  // Replaces every sample remembered under `group` with `samples` (an empty list removes them).
  void set_group(const std::string& group, std::vector<core::PromSample> samples);
  const std::map<std::string, std::vector<core::PromSample>>& groups() const { return m_groups; }

 private:
  std::map<std::string, std::vector<core::PromSample>> m_groups;
};

// A worker type's needs per worker, as configured under [capacity.worker_types.NAME].
struct WorkerTypeNeed {
  std::string type;
  core::Resources need;
};

// Returns the droplet series: info (size as a label), memory, vCPUs and monthly price.
std::vector<core::PromSample> droplet_samples(const digitalocean::Droplet& droplet);
// Returns the pool series: usable, available, and per type allocated, leases and workers that fit.
// Expired leases in the snapshot are not counted.
std::vector<core::PromSample> capacity_samples(const std::string& pool, const state::PoolSnapshot& snapshot,
                                                 core::Resources usable, const std::vector<WorkerTypeNeed>& types);
// Returns the policy series: current and desired replicas, and the metric when it was read.
std::vector<core::PromSample> autoscale_samples(const std::string& policy, std::int64_t current,
                                                  std::int64_t desired, std::optional<double> metric);
// Returns the last-run series of `command` (timestamp, success, exit code, duration).
std::vector<core::PromSample> run_samples(const std::string& command, double unix_time, int exit_code,
                                            std::chrono::milliseconds duration);

// Hooks for commands: each replaces its group in this invocation's batch.
void record_droplet_metrics(Context& ctx, const digitalocean::Droplet& droplet);
void record_capacity_metrics(Context& ctx, const std::string& pool, const state::PoolSnapshot& snapshot,
                             core::Resources usable, const std::vector<WorkerTypeNeed>& types);
void record_autoscale_metrics(Context& ctx, const std::string& policy, std::int64_t current, std::int64_t desired,
                              std::optional<double> metric);

// Merges `updates` into the samples remembered for `textfile` and rewrites it atomically (temp
// file in the same directory, fsync, rename; mode 0644). Returns warnings (e.g. a corrupt
// PATH.json that was started afresh); throws Error when the files cannot be written or the lock
// stays taken for `lock_wait`.
std::vector<std::string> update_textfile(const std::filesystem::path& textfile,
                                         const std::map<std::string, std::vector<core::PromSample>>& updates,
                                         std::int64_t now_ms, std::chrono::milliseconds lock_wait);

// Adds the last-run series of `command` to the batch and writes the textfile when one is
// configured. Never throws: a failure is one warning. Commands that only inspect scalectl
// itself (completion, config, log) write nothing.
void write_metrics_file(Context& ctx, const std::string& command, int exit_code, std::chrono::milliseconds duration);

}  // namespace scalectl::cli
