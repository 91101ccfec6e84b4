#pragma once
// SIGINT/SIGTERM handling: handlers only set a flag; long waits poll it and throw Interrupted,
// the one way an interruption travels (cli::run turns it into exit 130).

#include <exception>
#include <string>

#include <scalectl/error.hpp>

namespace scalectl {

// SIGINT or SIGTERM stopped the command. Deliberately not an Error: code that turns failures into
// warnings, retries or soft results never swallows it, and cli::run maps it to exit 130. Drivers
// that keep a record catch it to record where they stopped and add how to resume (with_context).
class Interrupted : public std::exception {
 public:
  explicit Interrupted(std::string message) : m_message(std::move(message)) {}

  const char* what() const noexcept override { return m_message.c_str(); }
  // Returns the same interruption with "; <context>" appended to its message.
  Interrupted with_context(const std::string& context) const { return Interrupted(m_message + "; " + context); }

 private:
  std::string m_message;
};

// Returns the exit code a command ends with when `e` escapes it: an Error's code, interrupted for
// Interrupted, failure for anything else.
inline ExitCode exit_code_of(const std::exception& e) noexcept
{
  if (const auto* error = dynamic_cast<const Error*>(&e)) {
    return error->code();
  }
  return dynamic_cast<const Interrupted*>(&e) != nullptr ? ExitCode::interrupted : ExitCode::failure;
}

// Installs SIGINT and SIGTERM handlers that record the signal. Idempotent.
void install_interrupt_handlers();

// Returns true once SIGINT or SIGTERM has been received.
bool interrupted() noexcept;

// Throws Interrupted if a signal has been received; `doing` names the interrupted step.
void throw_if_interrupted(const char* doing = nullptr);

// Forgets a received signal (for unit tests of the mechanism).
void reset_interrupted() noexcept;

}  // namespace scalectl
