// Durations (--wait-lock, --timeout, plan_ttl...): a parsed duration is never negative, its
// display form re-parses to within the display's precision (0.1 s under a minute, 1 s above),
// and a duration already on the display grid round-trips exactly.
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
  const auto error = (*again - *parsed).count();
  require(error > -1000 && error <= 50, "format then parse stays within the display precision");
  const auto third = scalectl::parse_duration(scalectl::format_duration(*again));
  require(third.has_value() && *third == *again, "a duration on the display grid round-trips exactly");
  return 0;
}
