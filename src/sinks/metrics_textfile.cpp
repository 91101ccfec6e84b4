#include "sinks/metrics_textfile.hpp"

#include <cerrno>

#include <fcntl.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/atomic_file.hpp>
#include <scalectl/clock.hpp>
#include <scalectl/core/droplet.hpp>
#include <scalectl/error.hpp>

#include "config/read_file.hpp"
#include "state/fd_io.hpp"
#include "state/file_lock.hpp"
#include "state/unique_fd.hpp"

namespace scalectl::sinks {

using nlohmann::json;

namespace {

// Returns what PATH.json remembers, or an empty object (and a warning) when it is not a JSON object.
json read_remembered(const std::filesystem::path& path, std::vector<std::string>& warnings)
{
  const auto file = config::detail::read_regular_file(path, "metrics memory file", k_max_metrics_memory_bytes);
  if (!file) {
    return json::object();
  }
  json remembered = json::parse(file->text, nullptr, false);
  if (remembered.is_discarded() || !remembered.is_object()) {
    warnings.push_back(fmt::format("{} is not valid JSON; starting the metrics afresh", path.string()));
    return json::object();
  }
  return remembered;
}

}  // namespace

std::vector<std::string> update_textfile(const std::filesystem::path& textfile, const MetricGroups& updates,
                                         std::int64_t now_ms, std::chrono::milliseconds lock_wait)
{
  std::vector<std::string> warnings;
  const std::filesystem::path dir = textfile.has_parent_path() ? textfile.parent_path() : ".";
  const state::UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) {
    throw Error(fmt::format("cannot open the directory {}: {}; check that it exists and is writable", dir.string(),
                            state::errno_text()));
  }
  const std::string lock_name = textfile.filename().string() + ".lock";
  const auto lock = state::lock_file_exclusive(dir_fd.get(), lock_name, (dir / lock_name).string(), lock_wait);
  const std::filesystem::path memory_path = textfile.string() + ".json";
  const json merged = core::merge_metric_groups(read_remembered(memory_path, warnings), updates, now_ms);
  replace_file(memory_path, merged.dump() + "\n", 0644);
  // Readable by node_exporter whatever the umask (systemd units use UMask=0077); no secrets here.
  replace_file(textfile, core::render_text_format(core::remembered_samples(merged)), 0644);
  return warnings;
}

MetricsTextfile::MetricsTextfile(const Clock& clock, TextfileOptions options)
    : m_clock(clock), m_options(std::move(options))
{
}

void MetricsTextfile::set_group(const std::string& group, std::vector<core::PromSample> samples)
{
  m_pending[group] = std::move(samples);
}

void MetricsTextfile::droplet(const core::Droplet& droplet)
{
  set_group(fmt::format("droplet:{}", droplet.id), droplet_samples(droplet));
}

void MetricsTextfile::capacity(const std::string& pool, const state::PoolSnapshot& snapshot, core::Resources usable,
                               const std::vector<core::WorkerType>& types)
{
  set_group("capacity:" + pool, capacity_samples(pool, snapshot, usable, types));
}

void MetricsTextfile::autoscale(const std::string& policy, std::int64_t current, std::int64_t desired,
                                std::optional<double> metric)
{
  set_group("autoscale:" + policy, autoscale_samples(policy, current, desired, metric));
}

std::vector<std::string> MetricsTextfile::write_run(const std::string& command, int exit_code,
                                                    std::chrono::milliseconds duration)
{
  if (!enabled()) {
    return {};
  }
  const auto now = m_clock.now();
  set_group("run:" + command, run_samples(command, unix_seconds(now), exit_code, duration));
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  auto warnings = update_textfile(m_options.path, m_pending, now_ms, m_options.lock_wait);
  m_pending.clear();
  return warnings;
}

}  // namespace scalectl::sinks
