#pragma once
// Private: the JSON record of a scaling event, shared by the audit log and the webhook body.

#include <nlohmann/json.hpp>

#include <scalectl/events.hpp>
#include <scalectl/state/store.hpp>

namespace scalectl {
class Clock;
}

namespace scalectl::sinks {

// Returns the JSON record of `event` as `who` caused it at who.since_ms (ops::AuditRecord): the
// audit log line, and the core of every webhook body.
nlohmann::json event_record(const Event& event, const state::LockOwner& who);

// Returns `who` with since_ms set to `clock`'s time now, so each event of a long-running process
// carries its own time.
state::LockOwner stamped(state::LockOwner who, const Clock& clock);

}  // namespace scalectl::sinks
