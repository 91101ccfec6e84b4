// Saved plan files (`autoscale apply FILE`): a file that is accepted has bounded dates and a
// policy name; anything else is a usage error, never a crash.
#include <scalectl/error.hpp>
#include <scalectl/ops/autoscale.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using scalectl::fuzz::require;
  const scalectl::fuzz::MemFile file(scalectl::fuzz::as_text(data, size));
  try {
    const auto plan = scalectl::ops::read_plan_file(file.path());
    require(!plan.policy.empty(), "an accepted plan names its policy");
    require(plan.created_at.time_since_epoch().count() >= 0, "created_at is not before 1970");
    require(plan.expires_at.time_since_epoch().count() >= 0, "expires_at is not before 1970");
  } catch (const scalectl::Error& e) {
    require(e.code() == scalectl::ExitCode::usage, "a bad plan file is a usage error");
  }
  return 0;
}
