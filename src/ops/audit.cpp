// The audit record's one JSON form, and the query behind `scalectl log`.

#include <scalectl/ops/audit.hpp>

#include <algorithm>

#include <scalectl/clock.hpp>
#include <scalectl/core/numeric.hpp>

namespace scalectl::ops {

using nlohmann::json;

namespace {

std::string text_at(const json& j, const char* key)
{
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return {};
  }
  return it->is_string() ? it->get<std::string>() : it->dump(-1, ' ', false, json::error_handler_t::replace);
}

std::int64_t integer_at(const json& j, const char* key)
{
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) {
    return 0;
  }
  if (it->is_number_unsigned()) {
    return static_cast<std::int64_t>(
      std::min<std::uint64_t>(it->get<std::uint64_t>(), static_cast<std::uint64_t>(core::k_max_amount)));
  }
  if (it->is_number_float()) {
    return core::clamp_to_int64(it->get<double>(), -core::k_max_amount, core::k_max_amount);
  }
  return std::clamp<std::int64_t>(it->get<std::int64_t>(), -core::k_max_amount, core::k_max_amount);
}

}  // namespace

json AuditRecord::to_json() const
{
  return {
    {"time_ms", who.since_ms},
    {"time", format_rfc3339(SystemTime(std::chrono::milliseconds(who.since_ms)))},
    {"user", who.user},
    {"host", who.host},
    {"pid", who.pid},
    {"command", who.command},
    {"what", event.what},
    {"resource", event.resource},
    {"from", event.from},
    {"to", event.to},
    {"reason", event.reason},
    {"result", event.result},
    {"duration_ms", event.duration.count()},
    {"details", event.details},
  };
}

std::optional<AuditRecord> AuditRecord::from_json(const json& j)
{
  if (!j.is_object() || !j.contains("what")) {
    return std::nullopt;
  }
  AuditRecord r;
  r.who.since_ms = std::clamp<std::int64_t>(integer_at(j, "time_ms"), 0, k_max_time_ms);
  r.who.user = text_at(j, "user");
  r.who.host = text_at(j, "host");
  r.who.pid = static_cast<long>(std::clamp<std::int64_t>(integer_at(j, "pid"), 0, 1 << 30));
  r.who.command = text_at(j, "command");
  r.event.what = text_at(j, "what");
  r.event.resource = text_at(j, "resource");
  r.event.from = text_at(j, "from");
  r.event.to = text_at(j, "to");
  r.event.reason = text_at(j, "reason");
  r.event.result = text_at(j, "result");
  r.event.duration = std::chrono::milliseconds(std::max<std::int64_t>(0, integer_at(j, "duration_ms")));
  if (const auto details = j.find("details"); details != j.end() && details->is_object()) {
    r.event.details = *details;
  }
  return r;
}

json AuditLogReport::to_json() const
{
  json entries = json::array();
  for (const auto& record : records) {
    entries.push_back(record.to_json());
  }
  return {{"log", k_audit_log}, {"store", store}, {"count", records.size()}, {"entries", std::move(entries)}};
}

AuditLogReport read_audit_log(state::Store& store, const AuditQuery& query)
{
  AuditLogReport report;
  report.store = store.describe();
  for (const auto& entry : store.read_log(k_audit_log, query.since_ms)) {
    auto record = AuditRecord::from_json(entry);
    if (!record || (!query.resource.empty() && record->event.resource != query.resource) ||
        (!query.what.empty() && record->event.what != query.what)) {
      continue;
    }
    report.records.push_back(std::move(*record));
  }
  if (query.last > 0 && report.records.size() > query.last) {
    report.records.erase(report.records.begin(),
                         report.records.end() - static_cast<std::ptrdiff_t>(query.last));
  }
  return report;
}

}  // namespace scalectl::ops
