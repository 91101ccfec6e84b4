// The waiter queue in `capacity status` (fair waiting): text rows and JSON.

#include <algorithm>

#include <fmt/format.h>

#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>

#include "cli/capacity_view.hpp"

namespace scalectl::cli::capacity_view {

using nlohmann::json;

namespace {

std::string span_text(std::int64_t ms)
{
  return format_duration(std::chrono::milliseconds(std::max<std::int64_t>(0, ms)));
}

}  // namespace

json queue_json(const state::PoolSnapshot& snap)
{
  json queue = json::array();
  std::int64_t position = 0;
  for (const auto& waiter : snap.waiters) {
    queue.push_back({{"position", ++position},
                     {"id", waiter.id},
                     {"type", waiter.type},
                     {"priority", waiter.priority},
                     {"seq", waiter.seq},
                     {"need", amount_json(waiter.resources)},
                     {"host", waiter.host},
                     {"pid", waiter.pid},
                     {"since", format_rfc3339(SystemTime(std::chrono::milliseconds(waiter.since_ms)))},
                     {"since_ms", waiter.since_ms},
                     {"waited_ms", std::max<std::int64_t>(0, snap.now_ms - waiter.since_ms)},
                     {"heartbeat_expires", format_rfc3339(SystemTime(std::chrono::milliseconds(waiter.expires_at_ms)))},
                     {"heartbeat_expires_at_ms", waiter.expires_at_ms},
                     {"heartbeat_expires_in_ms", std::max<std::int64_t>(0, waiter.expires_at_ms - snap.now_ms)}});
  }
  return queue;
}

std::vector<std::vector<std::string>> queue_rows(const state::PoolSnapshot& snap)
{
  std::vector<std::vector<std::string>> rows{
    {"POS", "ID", "TYPE", "PRIORITY", "NEEDS", "HOST", "PID", "WAITING SINCE", "HEARTBEAT EXPIRES"}};
  std::int64_t position = 0;
  for (const auto& waiter : snap.waiters) {
    rows.push_back({std::to_string(++position), waiter.id, waiter.type, std::to_string(waiter.priority),
                    amount_text(waiter.resources), waiter.host.empty() ? "-" : waiter.host,
                    waiter.pid != 0 ? std::to_string(waiter.pid) : "-",
                    fmt::format("{} ({} ago)", format_rfc3339(SystemTime(std::chrono::milliseconds(waiter.since_ms))),
                                span_text(snap.now_ms - waiter.since_ms)),
                    fmt::format("in {}", span_text(waiter.expires_at_ms - snap.now_ms))});
  }
  return rows;
}

}  // namespace scalectl::cli::capacity_view
