#include "cli/metrics.hpp"

#include <algorithm>
#include <cerrno>
#include <limits>
#include <cmath>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <scalectl/atomic_file.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/digitalocean/client.hpp>
#include <scalectl/error.hpp>
#include <scalectl/state/store.hpp>

#include "cli/context.hpp"

namespace scalectl::cli {

using core::PromSample;
using nlohmann::json;

namespace {

constexpr double k_mib = 1024.0 * 1024.0;
constexpr std::chrono::milliseconds k_lock_wait{10'000};

// An owned file descriptor, closed on destruction.
class Fd {
 public:
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd()
  {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return m_fd; }
  explicit operator bool() const { return m_fd >= 0; }

 private:
  int m_fd;
};

std::string errno_text()
{
  return std::strerror(errno);
}

std::optional<std::string> read_file(const std::filesystem::path& path)
{
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno == ENOENT) {
      return std::nullopt;
    }
    throw Error(fmt::format("cannot read {}: {}", path.string(), errno_text()));
  }
  std::string out;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw Error(fmt::format("cannot read {}: {}", path.string(), errno_text()));
    }
    if (n == 0) {
      return out;
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

double cores(std::int64_t millicores)
{
  return static_cast<double>(millicores) / 1000.0;
}

double bytes(std::int64_t mib)
{
  return static_cast<double>(mib) * k_mib;
}

}  // namespace

void MetricsBatch::set_group(const std::string& group, std::vector<PromSample> samples)
{
  m_groups[group] = std::move(samples);
}

std::vector<PromSample> droplet_samples(const digitalocean::Droplet& droplet)
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
                                           core::Resources usable, const std::vector<WorkerTypeNeed>& types)
{
  std::map<std::string, std::pair<core::Resources, int>> by_type;
  for (const auto& t : types) {
    by_type[t.type] = {};
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
    std::int64_t fit = 0;
    if (available.millicores > 0 && available.mib > 0) {
      const std::int64_t by_cpu =
        t.need.millicores > 0 ? available.millicores / t.need.millicores : std::numeric_limits<std::int64_t>::max();
      const std::int64_t by_mem = t.need.mib > 0 ? available.mib / t.need.mib : std::numeric_limits<std::int64_t>::max();
      fit = std::min(by_cpu, by_mem);
      if (fit == std::numeric_limits<std::int64_t>::max()) {
        fit = 0;  // a type that needs nothing is not a meaningful count
      }
    }
    out.push_back({"scalectl_capacity_available_workers", {{"pool", pool}, {"type", t.type}},
                   static_cast<double>(fit)});
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

void record_droplet_metrics(Context& ctx, const digitalocean::Droplet& droplet)
{
  ctx.metrics().set_group(fmt::format("droplet:{}", droplet.id), droplet_samples(droplet));
}

void record_capacity_metrics(Context& ctx, const std::string& pool, const state::PoolSnapshot& snapshot,
                             core::Resources usable, const std::vector<WorkerTypeNeed>& types)
{
  ctx.metrics().set_group("capacity:" + pool, capacity_samples(pool, snapshot, usable, types));
}

void record_autoscale_metrics(Context& ctx, const std::string& policy, std::int64_t current, std::int64_t desired,
                              std::optional<double> metric)
{
  ctx.metrics().set_group("autoscale:" + policy, autoscale_samples(policy, current, desired, metric));
}

std::vector<std::string> update_textfile(const std::filesystem::path& textfile,
                                         const std::map<std::string, std::vector<PromSample>>& updates,
                                         std::int64_t now_ms, std::chrono::milliseconds lock_wait)
{
  std::vector<std::string> warnings;
  const std::filesystem::path lock_path = textfile.string() + ".lock";
  const std::filesystem::path state_path = textfile.string() + ".json";
  Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!lock) {
    throw Error(fmt::format("cannot open {}: {}; check that the directory exists and is writable", lock_path.string(),
                            errno_text()));
  }
  const auto deadline = std::chrono::steady_clock::now() + lock_wait;
  while (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      throw Error(fmt::format("cannot lock {}: {}", lock_path.string(), errno_text()));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw Error(fmt::format("{} stayed locked by another scalectl for {} s", lock_path.string(),
                              std::chrono::duration_cast<std::chrono::seconds>(lock_wait).count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  json remembered = json::object();
  if (const auto text = read_file(state_path)) {
    remembered = json::parse(*text, nullptr, false);
    if (remembered.is_discarded() || !remembered.is_object()) {
      warnings.push_back(fmt::format("{} is not valid JSON; starting the metrics afresh", state_path.string()));
      remembered = json::object();
    }
  }
  const json merged = core::merge_metric_groups(std::move(remembered), updates, now_ms);
  replace_file(state_path, merged.dump() + "\n", 0644);
  // Readable by node_exporter whatever the umask (systemd units use UMask=0077); no secrets here.
  replace_file(textfile, core::render_text_format(core::remembered_samples(merged)), 0644);
  return warnings;
}

void write_metrics_file(Context& ctx, const std::string& command, int exit_code, std::chrono::milliseconds duration)
{
  const std::string noun = command.substr(0, command.find(' '));
  if (command.empty() || noun == "completion" || noun == "config" || noun == "log" || noun.starts_with("__")) {
    return;
  }
  std::optional<std::string> path;
  try {
    path = ctx.config().get_string("metrics.textfile");
  } catch (const std::exception&) {
    return;  // the configuration itself is broken; the command has already said so
  }
  if (!path || path->empty()) {
    return;
  }
  try {
    const auto now = ctx.clock().now();
    auto& batch = ctx.metrics();
    batch.set_group("run:" + command, run_samples(command, unix_seconds(now), exit_code, duration));
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    for (const auto& warning : update_textfile(*path, batch.groups(), now_ms, k_lock_wait)) {
      ctx.reporter().warn(warning);
    }
  } catch (const std::exception& e) {
    ctx.reporter().warn(fmt::format("could not write the metrics file {}: {}", *path, e.what()));
  }
}

}  // namespace scalectl::cli
