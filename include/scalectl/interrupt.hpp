#pragma once
// SIGINT/SIGTERM handling: handlers only set a flag; long waits poll it and stop cleanly.

namespace scalectl {

// Installs SIGINT and SIGTERM handlers that record the signal. Idempotent.
void install_interrupt_handlers();

// Returns true once SIGINT or SIGTERM has been received.
bool interrupted() noexcept;

// Throws Error(interrupted) if a signal has been received; `doing` names the interrupted step.
void throw_if_interrupted(const char* doing = nullptr);

}  // namespace scalectl
