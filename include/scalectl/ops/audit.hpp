#pragma once
// The audit log: one typed record per scaling event. sinks::AuditLog appends them to the state
// store's log "audit" (and webhooks send the same record); `scalectl log` reads them back here.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <scalectl/events.hpp>
#include <scalectl/state/store.hpp>

namespace scalectl::ops {

// The store log every event is appended to.
inline constexpr std::string_view k_audit_log = "audit";

struct AuditRecord {
  state::LockOwner who;  // who caused the event; who.since_ms is the event's time
  Event event;

  // {"time_ms", "time", "user", "host", "pid", "command", "what", "resource", "from", "to",
  //  "reason", "result", "duration_ms", "details"}: the audit line and the core of a webhook body.
  nlohmann::json to_json() const;
  // Returns the record in `j`, nullopt when `j` is not an object with a "what"; missing fields are
  // empty, and numbers are bounded (hostile lines cannot overflow the display).
  static std::optional<AuditRecord> from_json(const nlohmann::json& j);
};

struct AuditQuery {
  std::int64_t since_ms = 0;  // only records from this time on
  std::string resource;       // only this resource ("" = all)
  std::string what;           // only this kind ("" = all)
  std::size_t last = 0;       // only the last N (0 = all)
};

struct AuditLogReport {
  std::string store;                 // where the log lives (Store::describe)
  std::vector<AuditRecord> records;  // oldest first

  // {"log": "audit", "store", "count", "entries": [record...]}
  nlohmann::json to_json() const;
};

// Returns the audit records of `store` that match `query`.
AuditLogReport read_audit_log(state::Store& store, const AuditQuery& query);

}  // namespace scalectl::ops
