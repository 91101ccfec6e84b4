#pragma once
// Errors that abort a command. The CLI prints `scalectl: error: <message>` and exits with code().

#include <stdexcept>
#include <string>

#include <scalectl/exit_code.hpp>

namespace scalectl {

// An error that ends the command: one line of text that says what happened and what to do.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), m_code(code) {}
  explicit Error(const std::string& message) : Error(ExitCode::failure, message) {}

  ExitCode code() const noexcept { return m_code; }

 private:
  ExitCode m_code;
};

// Convenience constructors for the common codes.
inline Error usage_error(const std::string& message) { return Error(ExitCode::usage, message); }
inline Error refused_error(const std::string& message) { return Error(ExitCode::refused, message); }

}  // namespace scalectl
