#pragma once
// The one exit-code table of scalectl. --help, the man page and the tests all read it from here.

#include <span>
#include <string>
#include <string_view>

namespace scalectl {

enum class ExitCode : int {
  ok = 0,               // success, including "already at the requested size"
  failure = 1,          // runtime failure: API, network, state backend
  usage = 2,            // usage or configuration error (every parse error too)
  refused = 3,          // refused by a guard: busy, no capacity, lease not live
  change_proposed = 4,  // autoscale plan --detailed-exitcode: a change is proposed
  stale_plan = 5,       // autoscale apply FILE: the saved plan is stale
  timeout = 6,          // timed out waiting on an action or deployment
  lock_held = 75,       // another scalectl holds the lock for this resource
  interrupted = 130,    // SIGINT or SIGTERM
};

struct ExitCodeInfo {
  ExitCode code;
  std::string_view name;
  std::string_view meaning;
};

// Returns every exit code with its short name and meaning, in numeric order.
std::span<const ExitCodeInfo> exit_code_table();

// Returns the table formatted as aligned text lines, for the --help epilogue.
std::string exit_code_help();

constexpr int to_int(ExitCode code) { return static_cast<int>(code); }

}  // namespace scalectl
