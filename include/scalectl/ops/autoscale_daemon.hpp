#pragma once
// `autoscale run`: the long-running mode. Each policy is planned and applied on its own jittered
// schedule through ops::apply_policy, the very function `autoscale apply` uses, so the daemon and
// cron share the state, the policy locks and the cooldowns. Errors are logged and retried with a
// backoff; SIGTERM/SIGINT let the current apply finish, then run() returns.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <scalectl/exit_code.hpp>
#include <scalectl/ops/autoscale.hpp>
#include <scalectl/report.hpp>

namespace scalectl::ops {

enum class LogFormat { text, json };

// Log lines on one stream (stderr for `docker logs`): plain "TIME LEVEL message key=value" lines
// or one JSON object per line. Safe to call from several threads.
class DaemonLog {
 public:
  // A log writing to `out` in `format`, stamping lines with `clock`'s time.
  DaemonLog(std::ostream& out, LogFormat format, Clock& clock);
  // Writes one line at `level` ("info", "warn", "error") with `fields` (string/number values).
  void write(std::string_view level, std::string_view message, const nlohmann::json& fields = nlohmann::json::object());

 private:
  std::ostream& m_out;
  LogFormat m_format;
  Clock& m_clock;
  std::mutex m_mutex;
};

// A Reporter whose steps and warnings become daemon log lines (so JSON logs stay JSON).
class DaemonReporter : public Reporter {
 public:
  // Forwards to `log`; `verbose` keeps detail() lines.
  DaemonReporter(DaemonLog& log, bool verbose) : m_log(log), m_verbose(verbose) {}
  void step(std::string_view message) override;
  void progress(std::string_view phase, std::chrono::milliseconds elapsed) override;
  void warn(std::string_view message) override;
  void detail(std::string_view message) override;

 private:
  DaemonLog& m_log;
  bool m_verbose;
};

struct DaemonOptions {
  std::vector<std::string> policies;         // empty: every configured policy
  std::optional<std::chrono::milliseconds> every;  // every policy's period; nullopt: each policy's `every`
  double jitter = 0.1;                       // each wait is every * (1 +- jitter)
  std::chrono::milliseconds max_backoff{300'000};  // longest wait after repeated failures
};

// What the daemon tells the rest of scalectl after each apply (audit log, webhooks, textfile).
struct DaemonHooks {
  std::function<void(const std::string& policy, const ApplyReport& report)> applied;
  std::function<void(const std::string& policy, const std::string& error, ExitCode code)> failed;
};

// Installs SIGTERM/SIGINT handlers for a graceful stop: the first signal asks the daemon to stop
// after the current apply; a second one interrupts that apply (scalectl's interrupt handling).
void install_graceful_stop();
// Returns true once a graceful stop was asked for by a signal.
bool graceful_stop_requested() noexcept;

class AutoscaleDaemon {
 public:
  // A daemon for the policies of `options` using `deps` (owned by the caller; only used under
  // the daemon's work lock, so HTTP threads and the loop never use the adapters at once).
  // Throws Error(usage) for an unknown policy or when no policy is configured.
  AutoscaleDaemon(AutoscaleDeps& deps, DaemonOptions options, DaemonHooks hooks, DaemonLog& log);

  // Runs the schedule until a signal or request_stop(); returns after the current apply ended.
  void run();
  // Asks run() to return after the current apply. Thread-safe.
  void request_stop();

  // Returns the status document: `autoscale status -o json` plus seed 004's fields. While an
  // apply runs it does not wait: it returns the last document built, marked "applying": true.
  nlohmann::json status();
  // Plans and applies `policy` now ("" = every policy) and returns the decisions. Throws
  // Error(usage) for an unknown policy; a held lock is reported in the result, not thrown. While
  // another apply of this daemon runs it does not wait: the result says "busy": true.
  nlohmann::json trigger(const std::string& policy);
  // Returns the Prometheus text format of every policy's last applied count and metric.
  std::string metrics_text();
  // Returns true while the loop runs and its last tick was recent.
  bool healthy();
  // Returns the policy names this daemon runs.
  const std::vector<std::string>& policy_names() const { return m_names; }

 private:
  struct Schedule {
    std::chrono::milliseconds every{60'000};
    std::chrono::steady_clock::time_point next;
    int failures = 0;
  };

  nlohmann::json apply_one(const std::string& name, const char* why);
  // apply_one with m_work already held.
  nlohmann::json apply_locked(const std::string& name, const char* why);
  // The status document, with m_work held.
  nlohmann::json build_status();
  std::chrono::milliseconds jittered(std::chrono::milliseconds base);

  AutoscaleDeps& m_deps;
  DaemonOptions m_options;
  DaemonHooks m_hooks;
  DaemonLog& m_log;
  std::vector<std::string> m_names;
  std::map<std::string, Schedule> m_schedule;
  std::map<std::string, ApplyReport> m_last;  // the last apply of each policy, for /metrics
  nlohmann::json m_last_status;               // the last status document, served during an apply
  std::mutex m_work;   // held while the adapters are used
  std::mutex m_state;  // guards m_stop, m_last, m_last_status, m_last_tick
  std::condition_variable m_wake;
  bool m_stop = false;
  bool m_running = false;
  std::chrono::steady_clock::time_point m_last_tick{};
  std::uint64_t m_seed = 0;
};

}  // namespace scalectl::ops
