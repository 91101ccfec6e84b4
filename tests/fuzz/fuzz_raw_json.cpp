// The app-spec raw-JSON edit round trip: what is parsed and dumped parses and dumps to the same
// bytes again (number spellings and key order kept), so an edit changes only what it edits.
#include <scalectl/core/raw_json.hpp>
#include <scalectl/error.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using scalectl::fuzz::require;
  scalectl::core::RawJson value;
  try {
    value = scalectl::core::parse_raw_json(scalectl::fuzz::as_text(data, size), "fuzz input");
  } catch (const scalectl::Error&) {
    return 0;
  }
  const std::string once = scalectl::core::dump_raw_json(value);
  const auto again = scalectl::core::parse_raw_json(once, "dumped text");
  require(scalectl::core::dump_raw_json(again) == once, "dump(parse(dump(x))) is byte-identical to dump(x)");
  require(again == value, "the re-parsed document equals the first");
  return 0;
}
