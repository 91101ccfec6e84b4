// Lease JSON as the file and Redis backends store it: a lease that parses serialises and parses
// back to the same lease, with bounded amounts.
#include <nlohmann/json.hpp>

#include <scalectl/core/numeric.hpp>

#include "state/lease_json.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using scalectl::fuzz::require;
  constexpr std::int64_t k_now = 1'800'000'000'000;
  const auto lease = scalectl::state::lease_from_text("w-1", scalectl::fuzz::as_text(data, size), k_now);
  if (!lease) {
    return 0;
  }
  require(lease->resources.millicores >= 0 && lease->resources.mib >= 0, "amounts are not negative");
  const auto again = scalectl::state::lease_from_json("w-1", scalectl::state::lease_to_json(*lease), k_now);
  require(again.has_value(), "a serialised lease parses");
  require(again->resources.millicores == lease->resources.millicores &&
              again->resources.mib == lease->resources.mib && again->type == lease->type &&
              again->started_at_ms == lease->started_at_ms && again->expires_at_ms == lease->expires_at_ms,
          "a lease round-trips through its JSON");
  return 0;
}
