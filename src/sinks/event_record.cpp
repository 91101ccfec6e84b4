#include "sinks/event_record.hpp"

#include <scalectl/clock.hpp>
#include <scalectl/ops/audit.hpp>

namespace scalectl::sinks {

nlohmann::json event_record(const Event& event, const state::LockOwner& who)
{
  return ops::AuditRecord{who, event}.to_json();
}

state::LockOwner stamped(state::LockOwner who, const Clock& clock)
{
  who.since_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
  return who;
}

}  // namespace scalectl::sinks
