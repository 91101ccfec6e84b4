// Durations (--wait-lock, --timeout, plan_ttl...): a parsed duration formats and re-parses to the
// same value, and is never negative.
#include <scalectl/duration.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using scalectl::fuzz::require;
  const auto parsed = scalectl::parse_duration(scalectl::fuzz::as_text(data, size));
  if (!parsed) {
    return 0;
  }
  require(parsed->count() >= 0, "a parsed duration is not negative");
  const std::string text = scalectl::format_duration(*parsed);
  const auto again = scalectl::parse_duration(text);
  require(again.has_value(), "format_duration's output parses");
  require(*again == *parsed, "format then parse gives the same duration");
  return 0;
}
