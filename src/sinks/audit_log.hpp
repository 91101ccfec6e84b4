#pragma once
// The audit log sink: one line per scaling event in the state store's log "audit".

#include <scalectl/events.hpp>
#include <scalectl/ops/audit.hpp>
#include <scalectl/state/store.hpp>

namespace scalectl {
class Clock;
}

namespace scalectl::sinks {

// The store log every event is appended to.
inline constexpr std::string_view k_audit_log = ops::k_audit_log;

class AuditLog final : public EventSink {
 public:
  // An audit log in `store`, stamping each event with `clock`'s time and `who` (pid, host, user, command).
  AuditLog(state::Store& store, const Clock& clock, state::LockOwner who);

  // Appends the event's record (event_record) to the log; throws Error when the store fails.
  void emit(const Event& event) override;

 private:
  state::Store& m_store;
  const Clock& m_clock;
  state::LockOwner m_who;
};

}  // namespace scalectl::sinks
