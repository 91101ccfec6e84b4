#include "state/lease_json.hpp"
#include <scalectl/clock.hpp>
#include <scalectl/core/numeric.hpp>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace scalectl::state {

namespace {

using nlohmann::json;

// Returns the amount in integer units: `exact` (millicores, MiB) if present, else
// llround(`approx` * scale) from the seed's vCPU / GB field.
std::expected<std::int64_t, std::string> amount(const json& value, const char* exact, const char* approx,
                                                double scale, double limit)
{
  double units = 0;
  if (const auto it = value.find(exact); it != value.end() && it->is_number()) {
    units = it->get<double>();
  } else if (const auto seed = value.find(approx); seed != value.end() && seed->is_number()) {
    units = seed->get<double>() * scale;
  } else {
    return std::unexpected(fmt::format("has no numeric \"{}\" or \"{}\"", approx, exact));
  }
  // No lease can hold more than the largest server scalectl accepts (core::k_max_vcpus, k_max_ram_gb).
  if (!std::isfinite(units) || units < 0 || units > limit * scale) {
    return std::unexpected(fmt::format("has an invalid \"{}\" amount (not a number from 0 to {})", approx, limit));
  }
  return static_cast<std::int64_t>(std::llround(units));
}

std::int64_t integer_or(const json& value, const char* key, std::int64_t fallback)
{
  const auto it = value.find(key);
  if (it == value.end() || !it->is_number()) {
    return fallback;
  }
  if (it->is_number_float()) {
    return core::clamp_to_int64(std::round(it->get<double>()), -core::k_max_amount, core::k_max_amount);
  }
  if (it->is_number_unsigned()) {
    return static_cast<std::int64_t>(
      std::min<std::uint64_t>(it->get<std::uint64_t>(), static_cast<std::uint64_t>(core::k_max_amount)));
  }
  return std::clamp<std::int64_t>(it->get<std::int64_t>(), -core::k_max_amount, core::k_max_amount);
}

// Returns the Unix-milliseconds time under `key`, within [0, k_max_time_ms] (the year 2200): a
// time outside it cannot be shown (its nanoseconds overflow a system_clock time_point).
std::int64_t time_ms_or(const json& value, const char* key)
{
  return std::clamp<std::int64_t>(integer_or(value, key, 0), 0, k_max_time_ms);
}

std::string string_or(const json& value, const char* key)
{
  const auto it = value.find(key);
  return it != value.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

json lease_to_json(const Lease& lease)
{
  json out = json::object();
  out["type"] = lease.type;
  out["cpu"] = static_cast<double>(lease.resources.millicores) / 1000.0;
  out["ram"] = static_cast<double>(lease.resources.mib) / 1024.0;
  out["startedAt"] = lease.started_at_ms;
  if (lease.expires_at_ms) {
    out["expiresAt"] = *lease.expires_at_ms;
  }
  out["host"] = lease.host;
  out["pid"] = lease.pid;
  out["millicores"] = lease.resources.millicores;
  out["mib"] = lease.resources.mib;
  if (!lease.resources.named.empty()) {
    json named = json::object();
    for (const auto& [name, amount] : lease.resources.named) {
      named[name] = core::decimal_text(amount);
    }
    out["resources"] = std::move(named);
  }
  return out;
}

std::expected<Lease, std::string> lease_from_json(std::string_view id, const json& value, std::int64_t now_ms)
{
  if (!value.is_object()) {
    return std::unexpected(fmt::format("lease {} is not a JSON object", id));
  }
  const auto millicores = amount(value, "millicores", "cpu", 1000.0, core::k_max_vcpus);
  if (!millicores) {
    return std::unexpected(fmt::format("lease {} {}", id, millicores.error()));
  }
  const auto mib = amount(value, "mib", "ram", 1024.0, core::k_max_ram_gb);
  if (!mib) {
    return std::unexpected(fmt::format("lease {} {}", id, mib.error()));
  }
  Lease lease;
  lease.id = std::string(id);
  lease.type = string_or(value, "type");
  lease.resources = {*millicores, *mib};
  if (const auto it = value.find("resources"); it != value.end()) {
    if (!it->is_object()) {
      return std::unexpected(fmt::format("lease {} has \"resources\" that is not an object", id));
    }
    for (const auto& [name, amount] : it->items()) {
      const auto parsed = amount.is_string() ? core::amount_from_text(amount.get<std::string>()) : std::nullopt;
      if (!core::validate_resource_name(name).empty() || !parsed) {
        return std::unexpected(fmt::format("lease {} has an invalid amount of resource \"{}\"", id,
                                           name.substr(0, 40)));
      }
      lease.resources.named[name] = *parsed;
    }
  }
  lease.started_at_ms = time_ms_or(value, "startedAt");
  if (const auto it = value.find("expiresAt"); it != value.end() && it->is_number()) {
    lease.expires_at_ms = time_ms_or(value, "expiresAt");
  }
  lease.host = string_or(value, "host");
  lease.pid = static_cast<long>(integer_or(value, "pid", 0));
  lease.expired = lease_expired(lease, now_ms);
  return lease;
}

std::expected<Lease, std::string> lease_from_text(std::string_view id, std::string_view text, std::int64_t now_ms)
{
  json value = json::parse(text, nullptr, false);
  if (value.is_discarded()) {
    return std::unexpected(fmt::format("lease {} is not valid JSON", id));
  }
  return lease_from_json(id, value, now_ms);
}

Lease lease_or_placeholder(std::string_view id, const json& value, std::int64_t now_ms)
{
  if (auto lease = lease_from_json(id, value, now_ms)) {
    return std::move(*lease);
  }
  Lease placeholder;
  placeholder.id = std::string(id);
  placeholder.type = "(invalid)";
  return placeholder;
}

bool lease_expired(const Lease& lease, std::int64_t now_ms)
{
  return lease.expires_at_ms && *lease.expires_at_ms <= now_ms;
}

void sort_leases(std::vector<Lease>& leases)
{
  std::sort(leases.begin(), leases.end(), [](const Lease& a, const Lease& b) {
    return a.started_at_ms != b.started_at_ms ? a.started_at_ms < b.started_at_ms : a.id < b.id;
  });
}

json owner_to_json(const LockOwner& owner)
{
  return json{{"pid", owner.pid},
              {"host", owner.host},
              {"user", owner.user},
              {"command", owner.command},
              {"since_ms", owner.since_ms}};
}

std::expected<LockOwner, std::string> owner_from_json(const json& value)
{
  if (!value.is_object()) {
    return std::unexpected("lock owner is not a JSON object");
  }
  LockOwner owner;
  owner.pid = static_cast<long>(integer_or(value, "pid", 0));
  owner.host = string_or(value, "host");
  owner.user = string_or(value, "user");
  owner.command = string_or(value, "command");
  owner.since_ms = time_ms_or(value, "since_ms");
  return owner;
}

}  // namespace scalectl::state
