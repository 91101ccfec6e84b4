#pragma once
// Auditing an operation that fails or is interrupted: one place for the catch block every
// mutating verb (droplet up/down, app scale, capacity allocate) wraps its ops:: call in.

#include <chrono>
#include <exception>
#include <string>

#include <scalectl/clock.hpp>
#include <scalectl/events.hpp>

#include "cli/context.hpp"

namespace scalectl::cli {

// The audit event of an operation that throws: `event` names what, resource, to and details;
// the reason (the error's text after `reason_prefix`), result word and duration are filled in.
struct FailureAudit {
  Event event;
  std::string reason_prefix;    // e.g. "up: ", or empty
  bool enabled = true;          // false: nothing is audited (a dry run, or notification off)
  bool skip_lock_held = false;  // true: lock_held is not audited (the run holding the lock audits)
};

// Emits `audit` for `e`, raised by an operation started at `started`, unless it is disabled, a
// usage error or (when skipped) lock_held. Never throws (Context::emit turns failures into warnings).
void emit_failure(Context& ctx, const FailureAudit& audit, std::chrono::steady_clock::time_point started, const std::exception& e);

// Returns op(); when op throws (a failure and an interruption alike) emits `audit` for it
// (emit_failure) and rethrows.
template <class Op>
auto run_audited(Context& ctx, const FailureAudit& audit, std::chrono::steady_clock::time_point started, Op&& op) -> decltype(op())
{
  try {
    return op();
  } catch (const std::exception& e) {
    emit_failure(ctx, audit, started, e);
    throw;
  }
}

}  // namespace scalectl::cli
