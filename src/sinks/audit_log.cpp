#include "sinks/audit_log.hpp"

#include "sinks/event_record.hpp"

namespace scalectl::sinks {

AuditLog::AuditLog(state::Store& store, const Clock& clock, state::LockOwner who)
    : m_store(store), m_clock(clock), m_who(std::move(who))
{
}

void AuditLog::emit(const Event& event)
{
  m_store.append(k_audit_log, event_record(event, stamped(m_who, m_clock)));
}

}  // namespace scalectl::sinks
