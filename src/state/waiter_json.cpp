#include "state/waiter_json.hpp"
#include <scalectl/clock.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>


#include "state/lease_json.hpp"

namespace scalectl::state {

namespace {

using nlohmann::json;

constexpr std::int64_t k_max_seq = std::int64_t{1} << 50;

std::optional<std::int64_t> bounded(const json& value, const char* key, std::int64_t min, std::int64_t max)
{
  const auto it = value.find(key);
  if (it == value.end() || !it->is_number_integer()) {
    return std::nullopt;
  }
  const auto v = it->is_number_unsigned() ? (it->get<std::uint64_t>() > static_cast<std::uint64_t>(max)
                                               ? max + 1
                                               : static_cast<std::int64_t>(it->get<std::uint64_t>()))
                                          : it->get<std::int64_t>();
  if (v < min || v > max) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

json waiter_to_json(const Waiter& waiter)
{
  Lease lease;
  lease.type = waiter.type;
  lease.resources = waiter.resources;
  lease.host = waiter.host;
  lease.pid = waiter.pid;
  lease.started_at_ms = waiter.since_ms;
  json out = lease_to_json(lease);
  out.erase("startedAt");
  out["priority"] = waiter.priority;
  out["seq"] = waiter.seq;
  out["since"] = waiter.since_ms;
  if (waiter.expires_at_ms != 0) {
    out["expiresAt"] = waiter.expires_at_ms;
  }
  return out;
}

namespace {

// Returns a waiter for `lease` (id, type, host, pid, resources) at `priority`, not yet queued.
Waiter waiter_for(const Lease& lease, std::int64_t priority)
{
  Waiter waiter;
  waiter.id = lease.id;
  waiter.type = lease.type;
  waiter.priority = priority;
  waiter.host = lease.host;
  waiter.pid = lease.pid;
  waiter.resources = lease.resources;
  return waiter;
}

}  // namespace

std::expected<Waiter, std::string> waiter_from_json(std::string_view id, const json& value)
{
  auto lease = lease_from_json(id, value, 0);
  if (!lease) {
    return std::unexpected("waiter " + lease.error().substr(std::string_view("lease ").size()));
  }
  const auto priority = bounded(value, "priority", 1, 10);
  const auto seq = bounded(value, "seq", 0, k_max_seq);
  const auto since = bounded(value, "since", 0, k_max_time_ms);
  if (!priority || !seq || !since) {
    return std::unexpected(fmt::format("waiter {} has no valid priority (1-10), seq or since", id));
  }
  Waiter waiter = waiter_for(*lease, *priority);
  waiter.id = std::string(id);
  waiter.seq = *seq;
  waiter.since_ms = *since;
  waiter.expires_at_ms = bounded(value, "expiresAt", 0, k_max_time_ms).value_or(0);
  return waiter;
}

Waiter waiter_of(const AllocateRequest& request)
{
  return waiter_for(request.lease, request.priority);
}

}  // namespace scalectl::state
