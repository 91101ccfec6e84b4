#include <scalectl/core/capacity.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>

#include <fmt/format.h>

namespace scalectl::core {

namespace {

constexpr std::int64_t k_unlimited = std::numeric_limits<std::int64_t>::max();

// Formats value/1000 (or /1024) with up to 3 decimals and no trailing zeros.
std::string format_scaled(std::int64_t value, double unit)
{
  std::string text = fmt::format("{:.3f}", static_cast<double>(value) / unit);
  while (!text.empty() && text.back() == '0') {
    text.pop_back();
  }
  if (!text.empty() && text.back() == '.') {
    text.pop_back();
  }
  return text == "-0" ? "0" : text;
}

// Returns `total` minus `percent` of it, rounded to nearest (halves up); percent is taken in
// basis points. Split as q * 10000 + r so that it cannot overflow.
std::int64_t after_reserve(std::int64_t total, double percent)
{
  const auto keep = 10'000 - static_cast<std::int64_t>(std::llround(percent * 100.0));
  return total / 10'000 * keep + (total % 10'000 * keep + 5'000) / 10'000;
}

bool valid_percent(double percent)
{
  return std::isfinite(percent) && percent >= 0 && percent < 100;
}

std::int64_t fit_one_dimension(std::int64_t available, std::int64_t need)
{
  if (need <= 0) {
    return k_unlimited;
  }
  return available <= 0 ? 0 : available / need;
}

}  // namespace

Resources resources_from(double vcpus, double ram_gb)
{
  return {std::llround(vcpus * 1000.0), std::llround(ram_gb * 1024.0)};
}

std::string format_vcpus(std::int64_t millicores)
{
  return format_scaled(millicores, 1000.0);
}

std::string format_gb(std::int64_t mib)
{
  return format_scaled(mib, 1024.0);
}

FitResult check_fit(Resources usable, Resources allocated, Resources need, std::int64_t count)
{
  FitResult result;
  result.available = usable - allocated;
  const Resources total_need = need * count;
  if (total_need.millicores > result.available.millicores) {
    result.reason = fmt::format("Insufficient CPU (need {}, available {})", format_vcpus(total_need.millicores),
                                format_vcpus(std::max<std::int64_t>(0, result.available.millicores)));
    return result;
  }
  if (total_need.mib > result.available.mib) {
    result.reason = fmt::format("Insufficient RAM (need {}GB, available {}GB)", format_gb(total_need.mib),
                                format_gb(std::max<std::int64_t>(0, result.available.mib)));
    return result;
  }
  result.fits = true;
  return result;
}

Resources usable_resources(const ServerLimits& limits)
{
  return {after_reserve(limits.total.millicores, limits.reserved_cpu_percent),
          after_reserve(limits.total.mib, limits.reserved_ram_percent)};
}

std::string validate_limits(const ServerLimits& limits)
{
  if (limits.total.millicores <= 0) {
    return "max_cpu must be more than 0 vCPUs";
  }
  if (limits.total.mib <= 0) {
    return "max_ram_gb must be more than 0 GB";
  }
  if (!valid_percent(limits.reserved_cpu_percent)) {
    return fmt::format("reserved_cpu_percent must be at least 0 and below 100, not {}", limits.reserved_cpu_percent);
  }
  if (!valid_percent(limits.reserved_ram_percent)) {
    return fmt::format("reserved_ram_percent must be at least 0 and below 100, not {}", limits.reserved_ram_percent);
  }
  return {};
}

std::optional<std::int64_t> meminfo_total_mib(std::string_view meminfo)
{
  constexpr std::string_view k_label = "MemTotal:";
  std::size_t pos = 0;
  while (pos < meminfo.size()) {
    const auto end = std::min(meminfo.find('\n', pos), meminfo.size());
    std::string_view line = meminfo.substr(pos, end - pos);
    pos = end + 1;
    if (!line.starts_with(k_label)) {
      continue;
    }
    line.remove_prefix(k_label.size());
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      line.remove_prefix(1);
    }
    std::int64_t kib = 0;
    const auto [rest, ec] = std::from_chars(line.data(), line.data() + line.size(), kib);
    if (ec != std::errc() || kib <= 0) {
      return std::nullopt;
    }
    std::string_view unit(rest, static_cast<std::size_t>(line.data() + line.size() - rest));
    while (!unit.empty() && unit.front() == ' ') {
      unit.remove_prefix(1);
    }
    if (unit != "kB") {
      return std::nullopt;
    }
    return kib / 1024;
  }
  return std::nullopt;
}

std::int64_t percent_of(std::int64_t part, std::int64_t whole)
{
  if (whole <= 0) {
    return 0;
  }
  const auto twice = part * 200 + whole;
  const auto divisor = 2 * whole;
  return twice >= 0 ? twice / divisor : -((-twice + divisor - 1) / divisor);
}

std::string validate_worker_type(const WorkerType& type)
{
  if (type.need.millicores < 0 || type.need.mib < 0) {
    return fmt::format("worker type '{}' needs a negative amount; cpu and ram_gb must be 0 or more", type.name);
  }
  if (type.need.millicores == 0 && type.need.mib == 0) {
    return fmt::format("worker type '{}' needs no CPU and no RAM; set cpu or ram_gb above 0", type.name);
  }
  if (type.priority < 1 || type.priority > 10) {
    return fmt::format("worker type '{}' has priority {}; use 1 to 10", type.name, type.priority);
  }
  return {};
}

const WorkerType* find_worker_type(const std::vector<WorkerType>& types, std::string_view name)
{
  const auto it = std::find_if(types.begin(), types.end(), [&](const WorkerType& t) { return t.name == name; });
  return it == types.end() ? nullptr : &*it;
}

std::int64_t fit_count(Resources available, Resources need)
{
  if (need.millicores <= 0 && need.mib <= 0) {
    return 0;
  }
  return std::min(fit_one_dimension(available.millicores, need.millicores), fit_one_dimension(available.mib, need.mib));
}

WorkerPlan plan_workers(Resources usable, const std::vector<WorkerType>& types,
                        const std::map<std::string, std::int64_t>& wants, WorkerPlanStrategy strategy)
{
  std::vector<std::size_t> order(types.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return types[a].priority > types[b].priority; });

  WorkerPlan plan;
  plan.usable = usable;
  for (const auto index : order) {
    WorkerPlanRow row;
    row.type = types[index];
    if (const auto it = wants.find(row.type.name); it != wants.end()) {
      row.want = std::max<std::int64_t>(0, it->second);
    }
    plan.rows.push_back(std::move(row));
  }

  Resources remaining = usable;
  const auto room = [](const WorkerPlanRow& row) { return row.want ? *row.want - row.count : k_unlimited; };
  const auto take = [&](WorkerPlanRow& row, std::int64_t n) {
    row.count += n;
    remaining = remaining - row.type.need * n;
  };

  if (strategy == WorkerPlanStrategy::priority) {
    for (auto& row : plan.rows) {
      take(row, std::min(room(row), fit_count(remaining, row.type.need)));
    }
  } else {
    std::vector<bool> active(plan.rows.size());
    for (std::size_t i = 0; i < plan.rows.size(); ++i) {
      active[i] = room(plan.rows[i]) > 0 && fit_count(remaining, plan.rows[i].type.need) > 0;
    }
    for (;;) {
      // Whole rounds in which every active type takes one worker, done in bulk.
      Resources round;
      std::int64_t rounds = k_unlimited;
      bool any = false;
      for (std::size_t i = 0; i < plan.rows.size(); ++i) {
        if (active[i]) {
          any = true;
          round = round + plan.rows[i].type.need;
          rounds = std::min(rounds, room(plan.rows[i]));
        }
      }
      if (!any) {
        break;
      }
      rounds = std::min(rounds, fit_count(remaining, round));
      if (rounds > 0) {
        for (std::size_t i = 0; i < plan.rows.size(); ++i) {
          if (active[i]) {
            take(plan.rows[i], rounds);
          }
        }
      }
      // Then one round worker by worker; a type that cannot take one now never can again.
      bool added = false;
      for (std::size_t i = 0; i < plan.rows.size(); ++i) {
        if (!active[i]) {
          continue;
        }
        if (room(plan.rows[i]) > 0 && fit_count(remaining, plan.rows[i].type.need) > 0) {
          take(plan.rows[i], 1);
          added = true;
        } else {
          active[i] = false;
        }
      }
      if (!added) {
        break;
      }
    }
  }

  for (auto& row : plan.rows) {
    row.total = row.type.need * row.count;
    plan.used = plan.used + row.total;
    plan.workers += row.count;
  }
  return plan;
}

}  // namespace scalectl::core
