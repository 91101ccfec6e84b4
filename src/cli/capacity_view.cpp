#include "cli/capacity_view.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>

namespace scalectl::cli::capacity_view {

using nlohmann::json;

namespace {

double rounded(std::int64_t value, double unit)
{
  return std::round(static_cast<double>(value) / unit * 1000.0) / 1000.0;
}

std::string time_text(std::int64_t ms)
{
  return format_rfc3339(SystemTime(std::chrono::milliseconds(ms)));
}

std::string age_text(std::int64_t ms)
{
  return format_duration(std::chrono::milliseconds(std::max<std::int64_t>(0, ms)));
}

std::string expiry_text(const state::Lease& lease, std::int64_t now_ms)
{
  if (!lease.expires_at_ms) {
    return "never";
  }
  const auto left = *lease.expires_at_ms - now_ms;
  if (lease.expired || left <= 0) {
    return fmt::format("expired {} ago (not yet reaped)", age_text(-left));
  }
  return fmt::format("in {}", age_text(left));
}

}  // namespace

json amount_json(const core::Resources& amount)
{
  json out{{"cpu", rounded(amount.millicores, 1000.0)},
           {"ram_gb", rounded(amount.mib, 1024.0)},
           {"millicores", amount.millicores},
           {"mib", amount.mib}};
  if (!amount.named.empty()) {
    json named = json::object();
    for (const auto& [name, value] : amount.named) {
      named[name] = named_number(value);
    }
    out["resources"] = std::move(named);
  }
  return out;
}

json named_number(core::Amount amount)
{
  return json::parse(core::decimal_text(amount));
}

std::string amount_text(const core::Resources& amount)
{
  std::string text = fmt::format("{} vCPUs, {} GB", core::format_vcpus(amount.millicores), core::format_gb(amount.mib));
  for (const auto& [name, value] : amount.named) {
    if (value.units != 0) {
      text += fmt::format(", {} {}", core::decimal_text(value), name);
    }
  }
  return text;
}

std::string named_usage_line(const core::NamedResource& resource, core::Amount used, core::Amount usable)
{
  return fmt::format("{}: {} / {} ({})", core::resource_label(resource), core::compact_text(used),
                     core::compact_text(usable), core::percent_text(used, usable));
}

json named_usage_json(const std::vector<core::NamedResource>& resources, const core::Resources& used,
                      const core::Resources& usable)
{
  json out = json::array();
  for (const auto& resource : resources) {
    const auto have = core::named_amount(used, resource.name);
    const auto limit = core::named_amount(usable, resource.name);
    out.push_back({{"name", resource.name},
                   {"unit", resource.unit},
                   {"limit", named_number(resource.limit)},
                   {"reserve", named_number(resource.reserve)},
                   {"usable", named_number(limit)},
                   {"allocated", named_number(have)},
                   {"available", named_number(limit - have)},
                   {"percent", core::percent_text(have, limit)}});
  }
  return out;
}

json lease_json(const state::Lease& lease, std::int64_t now_ms)
{
  json out = amount_json(lease.resources);
  out["id"] = lease.id;
  out["type"] = lease.type;
  out["host"] = lease.host;
  out["pid"] = lease.pid;
  out["started_at"] = time_text(lease.started_at_ms);
  out["started_at_ms"] = lease.started_at_ms;
  out["age_ms"] = std::max<std::int64_t>(0, now_ms - lease.started_at_ms);
  out["expires_at"] = lease.expires_at_ms ? json(time_text(*lease.expires_at_ms)) : json(nullptr);
  out["expires_at_ms"] = lease.expires_at_ms ? json(*lease.expires_at_ms) : json(nullptr);
  out["expires_in_ms"] = lease.expires_at_ms ? json(*lease.expires_at_ms - now_ms) : json(nullptr);
  out["expired"] = lease.expired;
  return out;
}

std::string cpu_usage_line(std::int64_t used, std::int64_t usable)
{
  return fmt::format("CPU: {} / {} vCPUs ({}%)", core::format_vcpus(used), core::format_vcpus(usable),
                     core::percent_of(used, usable));
}

std::string ram_usage_line(std::int64_t used, std::int64_t usable)
{
  return fmt::format("RAM: {} / {} GB ({}%)", core::format_gb(used), core::format_gb(usable),
                     core::percent_of(used, usable));
}

namespace {

struct TypeCount {
  std::int64_t priority = 0;  // 0: a type found in leases but not configured
  core::Resources need;
  std::int64_t live = 0;
  std::int64_t expired = 0;
  core::Resources allocated;
};

// Returns the per-type counts: configured types in config order, then unknown ones by name.
std::vector<std::pair<std::string, TypeCount>> count_types(const StatusView& view)
{
  std::vector<std::pair<std::string, TypeCount>> counts;
  for (const auto& type : view.settings.types) {
    counts.push_back({type.name, TypeCount{type.priority, type.need, 0, 0, {}}});
  }
  std::map<std::string, TypeCount> unknown;
  for (const auto& lease : view.snapshot.leases) {
    auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == lease.type; });
    TypeCount& count = it != counts.end() ? it->second : unknown[lease.type];
    if (lease.expired) {
      ++count.expired;
    } else {
      ++count.live;
      count.allocated = count.allocated + lease.resources;
    }
  }
  for (auto& [name, count] : unknown) {
    counts.push_back({name, count});
  }
  return counts;
}

}  // namespace

namespace {

constexpr std::string_view k_counters_differ =
    "the seed's counters (changed by old workers with INCRBYFLOAT before their HSET/HDEL) differ from the "
    "sum of the leases: a worker is between its two steps, or an earlier interleaving left them off; "
    "admission uses the stricter view; if it persists, run `scalectl capacity repair`";

bool counters_differ(const state::PoolSnapshot& snap)
{
  const auto counters = state::effective_counters(snap);
  return counters && (counters->millicores != snap.allocated.millicores || counters->mib != snap.allocated.mib);
}

}  // namespace

json status_json(const StatusView& view)
{
  const auto& s = view.settings;
  const auto& snap = view.snapshot;
  const auto reserve = s.limits.total - s.usable;
  const auto available = s.usable - state::stricter_usage(snap);

  json limits = amount_json(s.limits.total);
  limits["cpu_source"] = s.cpu_source;
  limits["ram_source"] = s.ram_source;
  json reserve_json = amount_json(reserve);
  reserve_json["cpu_percent"] = s.limits.reserved_cpu_percent;
  reserve_json["ram_percent"] = s.limits.reserved_ram_percent;
  json allocated = amount_json(snap.allocated);
  allocated["cpu_percent"] = core::percent_of(snap.allocated.millicores, s.usable.millicores);
  allocated["ram_percent"] = core::percent_of(snap.allocated.mib, s.usable.mib);

  json types = json::array();
  for (const auto& [name, count] : count_types(view)) {
    json entry = {{"name", name},
                  {"configured", count.priority != 0},
                  {"priority", count.priority != 0 ? json(count.priority) : json(nullptr)},
                  {"per_worker", count.priority != 0 ? amount_json(count.need) : json(nullptr)},
                  {"leases", count.live},
                  {"expired", count.expired},
                  {"allocated", amount_json(count.allocated)}};
    types.push_back(std::move(entry));
  }
  json leases = json::array();
  json expired = json::array();
  for (const auto& lease : snap.leases) {
    leases.push_back(lease_json(lease, snap.now_ms));
    if (lease.expired) {
      expired.push_back(lease.id);
    }
  }
  return json{{"pool", s.pool},
              {"backend", view.backend},
              {"time", time_text(snap.now_ms)},
              {"now_ms", snap.now_ms},
              {"limits", limits},
              {"reserve", reserve_json},
              {"usable", amount_json(s.usable)},
              {"allocated", allocated},
              {"available", amount_json(available)},
              {"resources", named_usage_json(s.resources, snap.allocated, s.usable)},
              {"types", types},
              {"leases", leases},
              {"expired", expired},
              {"queue", queue_json(snap)},
              {"counters", snap.counters ? json{{"cpu", snap.counters->cpu_text},
                                                {"ram", snap.counters->ram_text},
                                                {"millicores", snap.counters->resources.millicores},
                                                {"mib", snap.counters->resources.mib},
                                                {"differ", counters_differ(snap)},
                                                {"why", counters_differ(snap) ? json(k_counters_differ) : json()}}
                                         : json()}};
}

std::vector<std::vector<std::string>> lease_rows(const state::PoolSnapshot& snap)
{
  std::vector<std::vector<std::string>> leases{{"ID", "TYPE", "CPU", "RAM", "HOST", "PID", "AGE", "EXPIRES"}};
  for (const auto& lease : snap.leases) {
    leases.push_back({lease.id, lease.type, core::format_vcpus(lease.resources.millicores),
                      core::format_gb(lease.resources.mib) + " GB", lease.host.empty() ? "-" : lease.host,
                      lease.pid != 0 ? std::to_string(lease.pid) : "-", age_text(snap.now_ms - lease.started_at_ms),
                      expiry_text(lease, snap.now_ms)});
  }
  return leases;
}

std::string status_text(const StatusView& view)
{
  const auto& s = view.settings;
  const auto& snap = view.snapshot;
  const auto reserve = s.limits.total - s.usable;
  const auto available = s.usable - state::stricter_usage(snap);
  std::string out;
  out += fmt::format("pool       {} ({})\n", s.pool, view.backend);
  out += fmt::format("server     {} vCPUs ({}), {} GB ({})\n", core::format_vcpus(s.limits.total.millicores),
                     s.cpu_source, core::format_gb(s.limits.total.mib), s.ram_source);
  out += fmt::format("reserve    {}% CPU = {} vCPUs, {}% RAM = {} GB\n", s.limits.reserved_cpu_percent,
                     core::format_vcpus(reserve.millicores), s.limits.reserved_ram_percent,
                     core::format_gb(reserve.mib));
  out += fmt::format("usable     {}\n", amount_text(s.usable));
  out += fmt::format("allocated  {}\n", cpu_usage_line(snap.allocated.millicores, s.usable.millicores));
  out += fmt::format("           {}\n", ram_usage_line(snap.allocated.mib, s.usable.mib));
  for (const auto& resource : s.resources) {
    out += fmt::format("           {}\n", named_usage_line(resource, core::named_amount(snap.allocated, resource.name),
                                                          core::named_amount(s.usable, resource.name)));
  }
  if (counters_differ(snap)) {
    out += fmt::format("counters   {}:cpu:allocated = {}, {}:ram:allocated = {} (= {})\n", s.pool,
                       snap.counters->cpu_text.empty() ? "(none)" : snap.counters->cpu_text, s.pool,
                       snap.counters->ram_text.empty() ? "(none)" : snap.counters->ram_text,
                       amount_text(snap.counters->resources));
    out += fmt::format("           note: {}\n", k_counters_differ);
  }
  out += fmt::format("available  {}\n", amount_text(available));

  std::vector<std::vector<std::string>> types{{"TYPE", "PRIORITY", "PER WORKER", "LEASES", "ALLOCATED"}};
  for (const auto& [name, count] : count_types(view)) {
    std::string leases = std::to_string(count.live);
    if (count.expired > 0) {
      leases += fmt::format(" (+{} expired)", count.expired);
    }
    types.push_back({name, count.priority != 0 ? std::to_string(count.priority) : "-",
                     count.priority != 0 ? amount_text(count.need) : "(not configured)", leases,
                     amount_text(count.allocated)});
  }
  out += "\n" + table_text(types);

  std::int64_t expired = 0;
  for (const auto& lease : snap.leases) {
    expired += lease.expired ? 1 : 0;
  }
  const auto leases = lease_rows(snap);
  if (snap.leases.empty()) {
    out += "\nno leases\n";
  } else {
    out += fmt::format("\nleases: {} live, {} expired but not yet reaped\n",
                       static_cast<std::int64_t>(snap.leases.size()) - expired, expired);
    out += table_text(leases);
  }
  if (!snap.waiters.empty()) {
    out += fmt::format("\nqueue: {} waiting (admitted by priority, then arrival)\n", snap.waiters.size());
    out += table_text(queue_rows(snap));
  }
  return out;
}

json plan_json(const PlanView& view)
{
  const auto& s = view.settings;
  const auto& plan = view.plan;
  json server = amount_json(s.limits.total);
  server["cpu_source"] = s.cpu_source;
  server["ram_source"] = s.ram_source;
  json reserve = amount_json(s.limits.total - s.usable);
  reserve["cpu_percent"] = s.limits.reserved_cpu_percent;
  reserve["ram_percent"] = s.limits.reserved_ram_percent;
  json rows = json::array();
  for (const auto& row : plan.rows) {
    json entry = amount_json(row.total);
    entry["type"] = row.type.name;
    entry["priority"] = row.type.priority;
    entry["want"] = row.want ? json(*row.want) : json(nullptr);
    entry["count"] = row.count;
    entry["per_worker"] = amount_json(row.type.need);
    rows.push_back(std::move(entry));
  }
  json resources = named_usage_json(s.resources, plan.used, plan.usable);
  for (auto& resource : resources) {
    json terms = json::array();
    for (const auto& row : plan.rows) {
      if (row.count > 0) {
        terms.push_back({{"type", row.type.name},
                         {"count", row.count},
                         {"per_worker", named_number(core::named_amount(row.type.need, resource["name"].get<std::string>()))}});
      }
    }
    resource["terms"] = std::move(terms);
    resource.erase("available");
    resource["used"] = std::move(resource["allocated"]);
    resource.erase("allocated");
  }
  json total = amount_json(plan.used);
  total["workers"] = plan.workers;
  total["cpu_percent"] = core::percent_of(plan.used.millicores, plan.usable.millicores);
  total["ram_percent"] = core::percent_of(plan.used.mib, plan.usable.mib);
  return json{{"strategy", view.strategy},
              {"server", server},
              {"reserve", reserve},
              {"usable", amount_json(plan.usable)},
              {"rows", rows},
              {"total", total},
              {"resources", resources},
              {"left", amount_json(plan.usable - plan.used)}};
}

std::string plan_text(const PlanView& view)
{
  const auto& s = view.settings;
  const auto& plan = view.plan;
  std::string out;
  out += fmt::format("Server: {} vCPUs, {} GB RAM (reserve {}% CPU, {}% RAM; strategy {})\n",
                     core::format_vcpus(s.limits.total.millicores), core::format_gb(s.limits.total.mib),
                     s.limits.reserved_cpu_percent, s.limits.reserved_ram_percent, view.strategy);
  out += fmt::format("Available: {} vCPUs, {} GB RAM (after reserve)\n\n", core::format_vcpus(plan.usable.millicores),
                     core::format_gb(plan.usable.mib));
  std::vector<std::vector<std::string>> rows{{"TYPE", "PRIORITY", "WORKERS", "CPU", "RAM"}};
  for (const auto& row : plan.rows) {
    std::string count = std::to_string(row.count);
    if (row.want) {
      count += fmt::format(" (want {})", *row.want);
    }
    rows.push_back({row.type.name, std::to_string(row.type.priority), count,
                    core::format_vcpus(row.total.millicores) + " vCPUs", core::format_gb(row.total.mib) + " GB"});
  }
  rows.push_back({"TOTAL", "", std::to_string(plan.workers), core::format_vcpus(plan.used.millicores) + " vCPUs",
                  core::format_gb(plan.used.mib) + " GB"});
  out += table_text(rows);
  out += "\nTotal Usage:\n";
  out += "  " + cpu_usage_line(plan.used.millicores, plan.usable.millicores) + "\n";
  out += "  " + ram_usage_line(plan.used.mib, plan.usable.mib) + "\n";
  for (const auto& resource : s.resources) {
    out += "  " + named_usage_line(resource, core::named_amount(plan.used, resource.name),
                                   core::named_amount(plan.usable, resource.name)) + "\n";
  }
  if (!s.resources.empty()) {
    // The seed's "Gemini API Usage" lines: RPM: (2 × 0) + (2 × 6.7) + (3 × 7.2) = 35 RPM (2.2%).
    out += "\nResource Usage:\n";
    for (const auto& resource : s.resources) {
      std::string terms;
      for (const auto& row : plan.rows) {
        if (row.count > 0) {
          terms += fmt::format("{}({} \u00d7 {})", terms.empty() ? "" : " + ", row.count,
                               core::compact_text(core::named_amount(row.type.need, resource.name)));
        }
      }
      const auto used = core::named_amount(plan.used, resource.name);
      out += fmt::format("  {}: {} = {} {} ({})\n", core::resource_label(resource), terms.empty() ? "0" : terms,
                         core::compact_text(used), core::resource_label(resource),
                         core::percent_text(used, core::named_amount(plan.usable, resource.name)));
    }
  }
  for (const auto& row : plan.rows) {
    if (row.count > 0 || (row.want && *row.want == 0)) {
      continue;
    }
    if (!core::check_fit(plan.usable, {}, row.type.need).fits) {
      out += fmt::format("\nnote: one {} worker needs {}, more than this server can use\n", row.type.name,
                         amount_text(row.type.need));
    } else {
      out += fmt::format("\nnote: no room left for a {} worker ({}); {} left\n", row.type.name,
                         amount_text(row.type.need), amount_text(plan.usable - plan.used));
    }
  }
  return out;
}

}  // namespace scalectl::cli::capacity_view
