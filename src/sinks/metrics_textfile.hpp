#pragma once
// The Prometheus textfile sink ([metrics] textfile, --metrics-file): a process records groups of
// samples as it works; each write_run() adds one command's last-run series and rewrites the whole
// file atomically. The samples of earlier runs are remembered in a JSON file next to the textfile
// (PATH.json, under the lock PATH.lock), so each host's file holds the last values of every
// command run on that host, whatever the state backend and even when it is down.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <scalectl/core/capacity.hpp>
#include <scalectl/core/metrics.hpp>

namespace scalectl {
class Clock;
namespace core {
struct Droplet;
}
namespace state {
struct PoolSnapshot;
}
}  // namespace scalectl

namespace scalectl::sinks {

// The largest PATH.json read back; a bigger one is an error rather than a slow start.
inline constexpr std::size_t k_max_metrics_memory_bytes = 64u * 1024u * 1024u;

// Sample groups by name ("droplet:123", "capacity:server", "run:droplet up", ...).
using MetricGroups = std::map<std::string, std::vector<core::PromSample>>;

// Returns the droplet series: info (size as a label), memory, vCPUs and monthly price.
std::vector<core::PromSample> droplet_samples(const core::Droplet& droplet);
// Returns the pool series: usable, available, and per type allocated, leases and the workers
// that still fit (core::fit_count, the answer of `capacity check`). Expired leases are not counted.
std::vector<core::PromSample> capacity_samples(const std::string& pool, const state::PoolSnapshot& snapshot,
                                                 core::Resources usable, const std::vector<core::WorkerType>& types);
// Returns the policy series: current and desired replicas, and the metric when it was read.
std::vector<core::PromSample> autoscale_samples(const std::string& policy, std::int64_t current,
                                                  std::int64_t desired, std::optional<double> metric);
// Returns the last-run series of `command` (timestamp, success, exit code, duration).
std::vector<core::PromSample> run_samples(const std::string& command, double unix_time, int exit_code,
                                            std::chrono::milliseconds duration);

// Merges `updates` into the samples remembered for `textfile` and rewrites it atomically
// (util/atomic_file; mode 0644) under an flock on PATH.lock. Returns warnings (e.g. a corrupt
// PATH.json that was started afresh); throws Error when the files cannot be written or the lock
// stays taken for `lock_wait`.
std::vector<std::string> update_textfile(const std::filesystem::path& textfile, const MetricGroups& updates,
                                         std::int64_t now_ms, std::chrono::milliseconds lock_wait);

struct TextfileOptions {
  std::filesystem::path path;  // empty: samples are recorded but never written
  std::chrono::milliseconds lock_wait{10'000};
};

class MetricsTextfile {
 public:
  // A textfile at options.path whose run series are stamped with `clock`'s time.
  MetricsTextfile(const Clock& clock, TextfileOptions options);

  // Replaces the pending samples of `group` with `samples` (an empty list removes the group's series).
  void set_group(const std::string& group, std::vector<core::PromSample> samples);
  // Records the series of `droplet` (group "droplet:<id>").
  void droplet(const core::Droplet& droplet);
  // Records the series of capacity pool `pool` (group "capacity:<pool>").
  void capacity(const std::string& pool, const state::PoolSnapshot& snapshot, core::Resources usable,
                const std::vector<core::WorkerType>& types);
  // Records the series of autoscale policy `policy` (group "autoscale:<policy>").
  void autoscale(const std::string& policy, std::int64_t current, std::int64_t desired,
                 std::optional<double> metric);

  // Returns the groups recorded since the last successful write.
  const MetricGroups& pending() const { return m_pending; }
  // Returns true when a textfile path is configured.
  bool enabled() const { return !m_options.path.empty(); }
  // Returns the textfile's path (empty when none is configured).
  const std::filesystem::path& path() const { return m_options.path; }

  // Adds `command`'s last-run series, merges every pending group into the textfile and forgets
  // them. Returns warnings; throws Error when the file cannot be written (the groups stay pending).
  // Does nothing when no path is configured.
  std::vector<std::string> write_run(const std::string& command, int exit_code, std::chrono::milliseconds duration);

 private:
  const Clock& m_clock;
  TextfileOptions m_options;
  MetricGroups m_pending;
};

}  // namespace scalectl::sinks
