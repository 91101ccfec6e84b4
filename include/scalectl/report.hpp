#pragma once
// Progress and messages from long operations. The CLI picks the implementation: a live line on a
// TTY, timestamped plain lines for cron mail and CI logs, or errors only with -q.

#include <chrono>
#include <string>
#include <string_view>

namespace scalectl {

class Reporter {
 public:
  virtual ~Reporter() = default;
  // A step the operator should see ("powering off droplet 123"): one line, kept in logs.
  virtual void step(std::string_view message) = 0;
  // A live status while waiting; replaces the previous status on a TTY, throttled otherwise.
  virtual void progress(std::string_view phase, std::chrono::milliseconds elapsed) = 0;
  // Something worth attention that does not fail the command.
  virtual void warn(std::string_view message) = 0;
  // Detail shown only with --verbose (e.g. each HTTP request).
  virtual void detail(std::string_view message) = 0;
};

// A reporter that discards everything, for unit tests and library callers.
Reporter& null_reporter();

}  // namespace scalectl
