// Event sinks: today the audit log in the state store.

#include <unistd.h>

#include <fmt/format.h>

#include <scalectl/clock.hpp>
#include <scalectl/state/store.hpp>

#include "cli/context.hpp"

namespace scalectl::cli {

namespace {

class AuditSink final : public EventSink {
 public:
  explicit AuditSink(Context& ctx) : m_ctx(ctx) {}

  void emit(const Event& event) override
  {
    const auto owner = m_ctx.lock_owner();
    const nlohmann::json line = {
      {"time_ms", owner.since_ms},
      {"time", format_rfc3339(SystemTime(std::chrono::milliseconds(owner.since_ms)))},
      {"user", owner.user},
      {"host", owner.host},
      {"pid", owner.pid},
      {"command", owner.command},
      {"what", event.what},
      {"resource", event.resource},
      {"from", event.from},
      {"to", event.to},
      {"reason", event.reason},
      {"result", event.result},
      {"duration_ms", event.duration.count()},
      {"details", event.details},
    };
    m_ctx.store().append("audit", line);
  }

 private:
  Context& m_ctx;
};

}  // namespace

std::unique_ptr<EventSink> make_event_sinks(Context& ctx)
{
  if (!ctx.config().get_bool("audit.enabled").value_or(true)) {
    struct Nothing final : EventSink {
      void emit(const Event&) override {}
    };
    return std::make_unique<Nothing>();
  }
  return std::make_unique<AuditSink>(ctx);
}

}  // namespace scalectl::cli
