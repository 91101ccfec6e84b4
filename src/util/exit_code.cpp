#include <scalectl/exit_code.hpp>

#include <array>

#include <fmt/format.h>

namespace scalectl {

namespace {

constexpr std::array k_exit_codes{
  ExitCodeInfo{ExitCode::ok, "ok", "success, including \"already at the requested size\""},
  ExitCodeInfo{ExitCode::failure, "failure", "runtime failure: API, network or state backend"},
  ExitCodeInfo{ExitCode::usage, "usage", "usage or configuration error"},
  ExitCodeInfo{ExitCode::refused, "refused", "refused by a guard: busy, no capacity, lease not live"},
  ExitCodeInfo{ExitCode::change_proposed, "change-proposed", "autoscale plan --detailed-exitcode: a change is proposed"},
  ExitCodeInfo{ExitCode::stale_plan, "stale-plan", "autoscale apply FILE: the saved plan is stale"},
  ExitCodeInfo{ExitCode::timeout, "timeout", "timed out waiting on an action or deployment"},
  ExitCodeInfo{ExitCode::lock_held, "lock-held", "another scalectl holds the lock for this resource"},
  ExitCodeInfo{ExitCode::interrupted, "interrupted", "interrupted by SIGINT or SIGTERM"},
};

}  // namespace

std::span<const ExitCodeInfo> exit_code_table()
{
  return k_exit_codes;
}

std::string exit_code_help()
{
  std::string text = "Exit codes:\n";
  for (const auto& info : k_exit_codes) {
    text += fmt::format("  {:>3}  {}\n", to_int(info.code), info.meaning);
  }
  return text;
}

}  // namespace scalectl
