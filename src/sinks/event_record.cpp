#include "sinks/event_record.hpp"

#include <scalectl/clock.hpp>

namespace scalectl::sinks {

nlohmann::json event_record(const Event& event, const state::LockOwner& who)
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

state::LockOwner stamped(state::LockOwner who, const Clock& clock)
{
  who.since_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
  return who;
}

}  // namespace scalectl::sinks
