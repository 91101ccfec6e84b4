#pragma once
// Text and JSON views of capacity status and plans (pure: data in, text out).

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <scalectl/core/capacity.hpp>
#include <scalectl/ops/capacity.hpp>
#include <scalectl/state/store.hpp>

#include "cli/columns.hpp"

namespace scalectl::cli::capacity_view {

// Returns {"cpu": vCPUs, "ram_gb": GB, "millicores", "mib"}, plus "resources": {name: amount}
// when there are named amounts; cpu and ram_gb are rounded to 3 decimals.
nlohmann::json amount_json(const core::Resources& amount);

// Returns a named amount as a JSON number written with its exact decimals (7.2, 242000).
nlohmann::json named_number(core::Amount amount);

// Returns "3 vCPUs, 1 GB", then ", 7.2 gemini_rpm" for each non-zero named amount.
std::string amount_text(const core::Resources& amount);

// Returns the seed's usage line of a named resource: "RPM: 35 / 1600 (2.2%)".
std::string named_usage_line(const core::NamedResource& resource, core::Amount used, core::Amount usable);

// Returns [{name, unit, limit, reserve, usable, allocated, available, percent}] for `resources`.
nlohmann::json named_usage_json(const std::vector<core::NamedResource>& resources, const core::Resources& used,
                                const core::Resources& usable);

// Returns the stable JSON of one lease, with age and expiry against `now_ms`.
nlohmann::json lease_json(const state::Lease& lease, std::int64_t now_ms);

// Returns "  CPU: 12 / 12.8 vCPUs (94%)" and "  RAM: 5 / 25.6 GB (20%)" style lines (no indent).
std::string cpu_usage_line(std::int64_t used, std::int64_t usable);
std::string ram_usage_line(std::int64_t used, std::int64_t usable);

// Returns the lease table of `snap` (rows[0] is the header: ID TYPE CPU RAM HOST PID AGE EXPIRES).
std::vector<std::vector<std::string>> lease_rows(const state::PoolSnapshot& snap);

// Returns the live waiters of `snap` in admission order: [{position, id, type, priority, seq, need,
// host, pid, since, since_ms, waited_ms, heartbeat_expires, heartbeat_expires_at_ms,
// heartbeat_expires_in_ms}] (capacity_queue_view.cpp).
nlohmann::json queue_json(const state::PoolSnapshot& snap);

// Returns the queue table of `snap` (rows[0] is the header: POS ID TYPE PRIORITY NEEDS HOST PID
// WAITING SINCE, HEARTBEAT EXPIRES).
std::vector<std::vector<std::string>> queue_rows(const state::PoolSnapshot& snap);

// What `capacity status` shows.
struct StatusView {
  ops::CapacitySettings settings;
  state::PoolSnapshot snapshot;
  std::string backend;  // Store::describe()
};

nlohmann::json status_json(const StatusView& view);
std::string status_text(const StatusView& view);

// What `capacity plan` shows.
struct PlanView {
  ops::CapacitySettings settings;
  core::WorkerPlan plan;
  std::string strategy;  // "balanced" or "priority"
};

nlohmann::json plan_json(const PlanView& view);
std::string plan_text(const PlanView& view);

}  // namespace scalectl::cli::capacity_view
