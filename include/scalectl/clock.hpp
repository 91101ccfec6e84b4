#pragma once
// Time as an injectable effect: production uses the system clock, unit tests a fake one.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace scalectl {

using SystemTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Returns wall-clock time, for records and user-facing timestamps.
  virtual SystemTime now() const = 0;
  // Returns a monotonic time point, for deadlines and elapsed times.
  virtual std::chrono::steady_clock::time_point monotonic() const = 0;
  // Sleeps for `duration`; throws Interrupted as soon as SIGINT/SIGTERM arrives.
  virtual void sleep_for(Millis duration) = 0;
};

// Returns the process-wide real clock.
Clock& real_clock();

// Returns seconds since the Unix epoch for `t`, as a double.
double unix_seconds(SystemTime t);

// Formats `t` as RFC 3339 UTC with seconds precision, e.g. 2026-11-24T21:53:34Z.
std::string format_rfc3339(SystemTime t);

// The latest time scalectl accepts from a file or a server (2200-01-01T00:00:00Z in Unix ms):
// far from where nanosecond time points overflow (2262).
inline constexpr std::int64_t k_max_time_ms = 7'258'118'400'000;

// Parses an RFC 3339 date-time (2026-11-24T21:53:34Z, fractions and +hh:mm offsets allowed) or a
// bare date (2026-11-24, midnight UTC); returns nullopt for anything else.
std::optional<SystemTime> parse_rfc3339(std::string_view text);

}  // namespace scalectl
