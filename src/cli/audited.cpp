#include "cli/audited.hpp"

#include <chrono>

#include <scalectl/interrupt.hpp>

namespace scalectl::cli {

void emit_failure(Context& ctx, const FailureAudit& audit, std::chrono::steady_clock::time_point started, const std::exception& e)
{
  const auto code = exit_code_of(e);
  if (!audit.enabled || code == ExitCode::usage || (audit.skip_lock_held && code == ExitCode::lock_held)) {
    return;
  }
  Event event = audit.event;
  event.reason = audit.reason_prefix + e.what();
  event.result = result_word(code);
  event.duration = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock().monotonic() - started);
  ctx.emit(event);
}

}  // namespace scalectl::cli
