#pragma once
// Time-window flags shared by `log` and `droplet cost`: a duration back from now or a timestamp.

#include <cstdint>
#include <string>

#include <scalectl/clock.hpp>

namespace scalectl::cli {

// Returns the Unix milliseconds `text` names: `now` minus a duration ("30d", "12h", "90m") or an
// RFC 3339 time / date ("2026-11-01T00:00:00Z", "2026-11-01"). Throws Error(usage) naming `flag`.
std::int64_t parse_time_flag(const std::string& text, SystemTime now, const char* flag);

// Returns `t` as Unix milliseconds.
std::int64_t unix_ms(SystemTime t);

}  // namespace scalectl::cli
