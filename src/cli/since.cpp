#include "cli/since.hpp"

#include <fmt/format.h>

#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>

namespace scalectl::cli {

std::int64_t unix_ms(SystemTime t)
{
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::int64_t parse_time_flag(const std::string& text, SystemTime now, const char* flag)
{
  if (const auto ago = parse_duration(text)) {
    return unix_ms(now) - ago->count();
  }
  if (const auto at = parse_rfc3339(text)) {
    return unix_ms(*at);
  }
  throw usage_error(fmt::format("{} takes a duration back from now (30d, 12h) or an RFC 3339 time "
                                "(2026-11-01T00:00:00Z), not '{}'",
                                flag, text));
}

}  // namespace scalectl::cli
