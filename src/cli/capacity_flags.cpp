#include "cli/capacity_flags.hpp"

#include <fmt/format.h>

#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>

namespace scalectl::cli {

std::chrono::milliseconds positive_duration(const std::string& text, const char* flag)
{
  const auto parsed = parse_duration(text);
  if (!parsed || parsed->count() <= 0) {
    throw usage_error(fmt::format("{} takes a positive duration like 30s, 5m or 1h, not '{}'", flag, text));
  }
  return *parsed;
}

std::optional<std::chrono::milliseconds> lease_ttl(const std::string& text,
                                                   std::optional<std::chrono::milliseconds> fallback)
{
  if (text == "none") {
    return std::nullopt;
  }
  if (!text.empty()) {
    return positive_duration(text, "--ttl");
  }
  return fallback;
}

}  // namespace scalectl::cli
