#pragma once
// Running external commands (busy_check, after_up hooks, metric commands, docker/kubectl)
// behind an interface, so decisions can be tested without spawning anything.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scalectl {

struct ProcessResult {
  int exit_code = -1;        // -1 when killed by a signal or timed out
  bool timed_out = false;
  std::string out;           // captured stdout (bounded)
  std::string err;           // captured stderr (bounded)
};

struct ProcessRequest {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH
  std::chrono::milliseconds timeout{60'000};
  std::map<std::string, std::string> extra_env;
  bool capture = true;            // false: inherit stdout/stderr
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs the command to completion (killing its process group at the timeout) and returns what
  // it did; throws Error(failure) only if it could not be started at all.
  virtual ProcessResult run(const ProcessRequest& request) = 0;
};

// Returns the real runner (fork/exec, own process group, SIGKILL on timeout or interrupt).
ProcessRunner& real_process_runner();

// Marks the process non-dumpable (prctl PR_SET_DUMPABLE 0): called once a secret is loaded, so a
// crash writes no core file holding it.
void hold_secret_in_memory() noexcept;

// Returns true for the environment variables that hold secrets (DIGITALOCEAN_ACCESS_TOKEN,
// DIGITALOCEAN_TOKEN, REDISCLI_AUTH): the real runner never passes them to a child process.
bool is_secret_env(std::string_view name);

// Returns argv for running `command` through /bin/sh -c, as hooks and busy checks are written.
std::vector<std::string> shell_argv(const std::string& command);

}  // namespace scalectl
