// `autoscale run`: the schedule, the graceful stop, the log lines and the status documents.

#include <scalectl/ops/autoscale_daemon.hpp>

#include <algorithm>
#include <csignal>
#include <random>

#include <fmt/format.h>

#include <scalectl/config/config.hpp>
#include <scalectl/error.hpp>
#include <scalectl/interrupt.hpp>

#include "sinks/metrics_textfile.hpp"

namespace scalectl::ops {

using nlohmann::json;

namespace {

volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_stop_signal(int)
{
  g_stop = 1;
  // A second signal interrupts the running apply the usual way (child killed, failure recorded).
  install_interrupt_handlers();
}

// How often the loop looks at the stop flag while it waits (a signal cannot notify a condvar).
constexpr std::chrono::milliseconds k_poll{250};

std::string field_text(const json& v)
{
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    const bool plain = !s.empty() && s.find_first_of(" \"=\t\n") == std::string::npos;
    return plain ? s : json(s).dump();
  }
  return v.dump();
}

std::optional<double> plan_metric(const json& plan)
{
  const json metric = plan.value("/inputs/metric/value"_json_pointer, json(nullptr));
  return metric.is_number() ? std::optional<double>(metric.get<double>()) : std::nullopt;
}

std::string action_name(std::int64_t from, std::int64_t to)
{
  return to > from ? "scale-up" : to < from ? "scale-down" : "none";
}

}  // namespace

// --- log ------------------------------------------------------------------------------------

DaemonLog::DaemonLog(std::ostream& out, LogFormat format, Clock& clock) : m_out(out), m_format(format), m_clock(clock)
{
}

void DaemonLog::write(std::string_view level, std::string_view message, const json& fields)
{
  std::string line;
  const std::string time = format_rfc3339(m_clock.now());
  if (m_format == LogFormat::json) {
    json j = {{"time", time}, {"level", level}, {"msg", message}};
    for (const auto& [key, value] : fields.items()) {
      j[key] = value;
    }
    line = j.dump(-1, ' ', false, json::error_handler_t::replace);
  } else {
    line = fmt::format("{} {:<5} {}", time, level, message);
    for (const auto& [key, value] : fields.items()) {
      line += fmt::format(" {}={}", key, field_text(value));
    }
  }
  line += '\n';
  const std::lock_guard guard(m_mutex);
  m_out << line << std::flush;
}

void DaemonReporter::step(std::string_view message)
{
  m_log.write("info", message);
}

void DaemonReporter::progress(std::string_view, std::chrono::milliseconds)
{
}

void DaemonReporter::warn(std::string_view message)
{
  m_log.write("warn", message);
}

void DaemonReporter::detail(std::string_view message)
{
  if (m_verbose) {
    m_log.write("debug", message);
  }
}

// --- signals --------------------------------------------------------------------------------

void install_graceful_stop()
{
  struct sigaction action{};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool graceful_stop_requested() noexcept
{
  return g_stop != 0;
}

// --- daemon ---------------------------------------------------------------------------------

AutoscaleDaemon::AutoscaleDaemon(AutoscaleDeps& deps, DaemonOptions options, DaemonHooks hooks, DaemonLog& log)
    : m_deps(deps), m_options(std::move(options)), m_hooks(std::move(hooks)), m_log(log)
{
  m_names = m_options.policies.empty() ? ops::policy_names(m_deps.config) : m_options.policies;
  if (m_names.empty()) {
    throw usage_error("no autoscale policy is configured; define [autoscale.policies.NAME] in the config");
  }
  std::sort(m_names.begin(), m_names.end());
  m_names.erase(std::unique(m_names.begin(), m_names.end()), m_names.end());
  for (const auto& name : m_names) {
    (void)load_policy(m_deps.config, name);  // validates now: a bad policy is a usage error at start
    Schedule schedule;
    schedule.every = m_options.every.value_or(
      m_deps.config.get_duration(fmt::format("autoscale.policies.{}.every", name)).value_or(schedule.every));
    if (schedule.every < std::chrono::milliseconds{1000}) {
      throw usage_error(fmt::format("the period of policy {} must be at least 1s, not {}ms (--every or "
                                    "autoscale.policies.{}.every)",
                                    name, schedule.every.count(), name));
    }
    m_schedule[name] = schedule;
  }
  m_seed = std::random_device{}();
}

std::chrono::milliseconds AutoscaleDaemon::jittered(std::chrono::milliseconds base)
{
  std::mt19937_64 gen(m_seed++);
  std::uniform_real_distribution<double> dist(1.0 - m_options.jitter, 1.0 + m_options.jitter);
  return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(base.count()) * dist(gen)));
}

json AutoscaleDaemon::apply_one(const std::string& name, const char* why)
{
  const std::lock_guard work(m_work);
  return apply_locked(name, why);
}

json AutoscaleDaemon::apply_locked(const std::string& name, const char* why)
{
  auto& schedule = m_schedule.at(name);  // `every` never changes; failures and next under m_state
  int failures = 0;
  {
    const std::lock_guard guard(m_state);
    failures = schedule.failures;
  }
  json out = {{"policy", name}};
  std::chrono::milliseconds wait = schedule.every;
  try {
    const PolicyConfig policy = load_policy(m_deps.config, name);
    const ApplyReport report = apply_policy(m_deps, policy, PlanOptions{}, false);
    failures = 0;
    m_log.write("info", report.result == Result::changed ? "applied" : "no change",
                {{"policy", name},
                 {"trigger", why},
                 {"from", report.from},
                 {"to", report.to},
                 {"decision", report.decision},
                 {"reasons", fmt::format("{}", fmt::join(report.reasons, "; "))},
                 {"serial", report.serial}});
    {
      const std::lock_guard guard(m_state);
      m_last[name] = report;
    }
    if (m_hooks.applied) {
      m_hooks.applied(name, report);
    }
    const auto utilisation = report.plan.value("utilisation", json(nullptr));
    out["success"] = true;
    out["result"] = to_string(report.result);
    out["decision"] = {{"action", action_name(report.from, report.to)},
                       {"currentWorkers", report.from},
                       {"targetWorkers", report.to},
                       {"reason", fmt::format("{}", fmt::join(report.reasons, "; "))},
                       {"metric", plan_metric(report.plan) ? json(*plan_metric(report.plan)) : json(nullptr)},
                       {"utilizationPercent", utilisation.is_number() ? json(utilisation.get<double>() * 100.0)
                                                                      : json(nullptr)},
                       {"decision", report.decision},
                       {"serial", report.serial}};
  } catch (const Interrupted& e) {
    // A signal mid-apply: the apply recorded where it stopped; the daemon stops after this trigger.
    out["success"] = false;
    out["error"] = e.what();
    out["exit_code"] = to_int(ExitCode::interrupted);
    m_log.write("warn", e.what(), {{"policy", name}, {"trigger", why}});
    if (m_hooks.failed) {
      m_hooks.failed(name, e.what(), ExitCode::interrupted);
    }
    request_stop();
  } catch (const Error& e) {
    out["success"] = false;
    out["error"] = e.what();
    out["exit_code"] = to_int(e.code());
    if (e.code() == ExitCode::lock_held) {
      // Another run (cron `autoscale apply`) is applying this policy: it is not our failure.
      m_log.write("info", "skipped: another run holds the policy's lock", {{"policy", name}, {"detail", e.what()}});
    } else {
      ++failures;
      const int doublings = std::min(failures - 1, 10);
      wait = std::min(schedule.every * (std::int64_t{1} << doublings),
                      std::max(m_options.max_backoff, schedule.every));
      m_log.write("error", e.what(),
                  {{"policy", name}, {"trigger", why}, {"failures", failures},
                   {"retry_in_s", std::chrono::duration<double>(wait).count()}});
      if (m_hooks.failed && e.code() != ExitCode::usage) {
        m_hooks.failed(name, e.what(), e.code());
      }
    }
  } catch (const std::exception& e) {
    ++failures;
    out["success"] = false;
    out["error"] = e.what();
    m_log.write("error", e.what(), {{"policy", name}, {"failures", failures}});
  }
  const auto next = std::chrono::steady_clock::now() + jittered(wait);
  const std::lock_guard guard(m_state);
  schedule.failures = failures;
  schedule.next = next;
  return out;
}

void AutoscaleDaemon::run()
{
  {
    const std::lock_guard guard(m_state);
    m_running = true;
  }
  // The first round starts at once, spread over a tenth of the period so policies do not align.
  const auto start = std::chrono::steady_clock::now();
  std::size_t i = 0;
  std::unique_lock first_round(m_state);
  for (auto& [name, schedule] : m_schedule) {
    schedule.next = start + schedule.every * static_cast<std::int64_t>(i) / (10 * static_cast<std::int64_t>(m_names.size()));
    ++i;
  }
  first_round.unlock();
  m_log.write("info", "autoscale run started",
              {{"policies", fmt::format("{}", fmt::join(m_names, ","))},
               {"every_s", std::chrono::duration<double>(m_schedule.begin()->second.every).count()}});
  for (;;) {
    std::unique_lock lock(m_state);
    if (m_stop || graceful_stop_requested()) {
      break;
    }
    m_last_tick = std::chrono::steady_clock::now();
    auto due = m_schedule.begin();
    for (auto it = m_schedule.begin(); it != m_schedule.end(); ++it) {
      if (it->second.next < due->second.next) {
        due = it;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (due->second.next <= now) {
      lock.unlock();
      (void)apply_one(due->first, "schedule");
      continue;
    }
    m_wake.wait_until(lock, std::min(due->second.next, now + k_poll));
  }
  {
    const std::lock_guard guard(m_state);
    m_running = false;
  }
  m_log.write("info", "autoscale run stopped", {{"reason", graceful_stop_requested() ? "signal" : "requested"}});
}

void AutoscaleDaemon::request_stop()
{
  {
    const std::lock_guard guard(m_state);
    m_stop = true;
  }
  m_wake.notify_all();
}

bool AutoscaleDaemon::healthy()
{
  const std::lock_guard guard(m_state);
  return m_running && !m_stop && !graceful_stop_requested();
}

json AutoscaleDaemon::status()
{
  std::unique_lock work(m_work, std::try_to_lock);
  if (!work.owns_lock()) {
    // An apply is running (it may take minutes): answer at once from the last document, so
    // that status requests never fill the server's threads and starve /healthz.
    json out;
    {
      const std::lock_guard guard(m_state);
      out = m_last_status;
    }
    if (out.is_null()) {
      out = {{"policies", json::array()}};
      for (const char* key : {"enabled", "currentWorkers", "metric", "mailboxCount", "utilizationPercent",
                              "optimalWorkers", "config"}) {
        out[key] = nullptr;
      }
    }
    out["running"] = healthy();
    out["applying"] = true;
    return out;
  }
  json out = build_status();
  out["applying"] = false;
  const std::lock_guard guard(m_state);
  m_last_status = out;
  return out;
}

json AutoscaleDaemon::build_status()
{
  json policies = json::array();
  for (const auto& name : m_names) {
    const PolicyConfig policy = load_policy(m_deps.config, name);
    const PolicyStatus s = policy_status(m_deps, policy);
    json p = s.to_json(10);
    const auto& t = policy.tuning;
    json utilisation = nullptr;
    if (s.record.last_metric && s.current && *s.current > 0 && t.units_per_worker > 0) {
      utilisation = *s.record.last_metric / (static_cast<double>(*s.current) * t.units_per_worker) * 100.0;
    }
    // Seed 004's /api/auto-scaler/status fields, by the names its users read.
    p["currentWorkers"] = s.current ? json(*s.current) : json(nullptr);
    p["metric"] = s.record.last_metric ? json(*s.record.last_metric) : json(nullptr);
    p["mailboxCount"] = p["metric"];
    p["utilizationPercent"] = utilisation;
    p["optimalWorkers"] = s.record.last_desired ? json(*s.record.last_desired) : json(nullptr);
    p["config"] = {{"enabled", policy.enabled},
                   {"checkIntervalMs", m_schedule.at(name).every.count()},
                   {"mailboxesPerWorker", t.units_per_worker},
                   {"unitsPerWorker", t.units_per_worker},
                   {"minWorkers", t.min},
                   {"maxWorkers", t.max},
                   {"scaleUpThreshold", t.scale_up_threshold},
                   {"scaleDownThreshold", t.scale_down_threshold},
                   {"mode", core::mode_name(t.mode)},
                   {"platform", policy.target.kind}};
    policies.push_back(std::move(p));
  }
  // The top level mirrors the first policy, as seed 004 had a single one.
  json out = {{"policies", policies}, {"running", healthy()}};
  for (const char* key : {"enabled", "currentWorkers", "metric", "mailboxCount", "utilizationPercent",
                          "optimalWorkers", "config"}) {
    out[key] = policies.front()[key];
  }
  return out;
}

json AutoscaleDaemon::trigger(const std::string& policy)
{
  std::vector<std::string> names;
  if (policy.empty()) {
    names = m_names;
  } else if (std::find(m_names.begin(), m_names.end(), policy) != m_names.end()) {
    names.push_back(policy);
  } else {
    throw usage_error(fmt::format("policy {} is not run by this daemon; it runs {}", policy, fmt::join(m_names, ", ")));
  }
  std::unique_lock work(m_work, std::try_to_lock);
  if (!work.owns_lock()) {
    return {{"success", false},
            {"busy", true},
            {"error", "an apply of this daemon is running; try again when it has ended"},
            {"message", "Scaling check not started: an apply is running"}};
  }
  json results = json::array();
  bool success = true;
  for (const auto& name : names) {
    json r = apply_locked(name, "trigger");
    success = success && r.value("success", false);
    results.push_back(std::move(r));
  }
  json out = {{"success", success}, {"results", results}};
  // Seed 004's single decision, from the first policy.
  if (results.front().contains("decision")) {
    out["decision"] = results.front()["decision"];
  }
  out["message"] = success ? "Scaling check complete" : "Scaling check failed for at least one policy";
  return out;
}

std::string AutoscaleDaemon::metrics_text()
{
  std::vector<core::PromSample> samples;
  const std::lock_guard guard(m_state);
  for (const auto& [name, report] : m_last) {
    auto more = sinks::autoscale_samples(name, report.to, report.to, plan_metric(report.plan));
    samples.insert(samples.end(), more.begin(), more.end());
  }
  return core::render_text_format(samples);
}

}  // namespace scalectl::ops
