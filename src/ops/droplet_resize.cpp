#include <scalectl/ops/droplet.hpp>

#include <algorithm>
#include <functional>
#include <utility>
#include <unistd.h>

#include <fmt/format.h>

#include <scalectl/clock.hpp>
#include <scalectl/core/resize.hpp>
#include <scalectl/core/sizes.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/process.hpp>
#include <scalectl/report.hpp>

#include "ops/record_write.hpp"

namespace scalectl::ops {

using nlohmann::json;
using std::chrono::milliseconds;
using core::StepKind;
using SteadyTime = std::chrono::steady_clock::time_point;

std::string droplet_record_key(std::int64_t droplet_id)
{
  return fmt::format("droplet-{}", droplet_id);
}

std::string droplet_lock_resource(std::int64_t droplet_id)
{
  return fmt::format("droplet-{}", droplet_id);
}

json ResizeReport::to_json() const
{
  json actions_json = json::array();
  for (const auto& a : actions) {
    actions_json.push_back({{"id", a.id}, {"type", a.type}, {"status", a.status}});
  }
  return {
    {"droplet", {{"id", droplet_id}, {"name", droplet_name}, {"status", status}}},
    {"direction", direction},
    {"result", to_string(result)},
    {"from_size", from_size},
    {"to_size", to_size},
    {"memory_before_mb", memory_before_mb},
    {"memory_after_mb", memory_after_mb},
    {"resize_disk", resize_disk},
    {"actions", actions_json},
    {"planned", planned},
    {"duration_ms", duration.count()},
    {"api_requests", api_requests},
  };
}

namespace {

constexpr std::size_t k_history_limit = 50;

std::string action_label(const digitalocean::Action& a)
{
  return fmt::format("action {} ({})", a.id, a.type);
}

// Drives one resize: observe, decide (core::next_resize_step), act, wait; repeat.
class ResizeDriver {
 public:
  ResizeDriver(DropletDeps& deps, std::int64_t droplet_id, const ResizeOptions& options)
      : m_deps(deps), m_id(droplet_id), m_options(options), m_started(deps.clock.monotonic()),
        m_started_wall(deps.clock.now()), m_deadline(m_started + options.total_timeout)
  {
    m_report.droplet_id = droplet_id;
    m_report.direction = options.direction;
    m_report.to_size = options.target_size;
    m_report.resize_disk = options.resize_disk;
  }

  ResizeReport run();

 private:
  core::DropletObservation observe();
  digitalocean::Action submit(StepKind kind);
  bool wait_action(digitalocean::Action& action, std::optional<SteadyTime> soft_deadline);
  void wait_unlock();
  milliseconds next_poll(int polls, milliseconds previous, SteadyTime since) const;
  void check_deadline(const std::string& waiting_for) const;
  void record(const std::string& phase, const std::string& result, const std::string& error = {});
  void write_record(const std::string& what, const std::function<void()>& write);
  void apply_action_outcome(const digitalocean::Action& action);
  void run_guards(const digitalocean::Droplet& droplet);
  void plan_dry_run(const core::DropletObservation& start);
  void validate_target();
  std::string where_we_are() const;
  ResizeReport finish(Result result);
  ResizeReport finish_done();
  std::optional<digitalocean::Action> try_submit(StepKind kind);
  [[noreturn]] void record_failure(const Error& e);
  [[noreturn]] void record_interruption(const Interrupted& e);
  void look_under_lock(core::DropletObservation& obs);
  ResizeReport drive(state::OperationLock& lock, core::DropletObservation obs);
  bool take_step(const core::ResizeStep& step);
  bool wait_for_running(std::int64_t action_id);
  bool submit_and_wait(StepKind kind);
  void run_after_hook(bool resized);

  DropletDeps& m_deps;
  std::int64_t m_id;
  const ResizeOptions& m_options;
  SteadyTime m_started;
  SystemTime m_started_wall;
  SteadyTime m_deadline;
  core::ResizeMemory m_memory;
  ResizeReport m_report;
  digitalocean::Droplet m_last;
  std::string m_failure;  // the error that made the state machine restore power
  digitalocean::Size m_target;
  int m_resize_refusals = 0;  // consecutive 422 answers to a resize submitted from an off, unlocked droplet
  std::optional<std::pair<long, std::string>> m_refusal;  // status and error id of the API's refusal
};

core::DropletObservation ResizeDriver::observe()
{
  m_last = m_deps.api.get_droplet(m_id);
  core::DropletObservation obs;
  obs.status = m_last.status;
  obs.locked = m_last.locked;
  obs.size_slug = m_last.size_slug;
  if (m_last.locked) {
    if (const auto action = digitalocean::in_progress_action(m_deps.api, m_id)) {
      obs.action_id = action->id;
      obs.action_type = action->type;
    }
  }
  m_report.status = m_last.status;
  return obs;
}

std::string ResizeDriver::where_we_are() const
{
  return fmt::format("droplet {} is {}{} at {}", m_id, m_last.status, m_last.locked ? " and locked" : "",
                     m_last.size_slug);
}

milliseconds ResizeDriver::next_poll(int polls, milliseconds previous, SteadyTime since) const
{
  // Fast while short actions finish (every 0.5 s for 5 s), then once a second for two
  // minutes, then back off to poll_max: at most 60 requests a minute for most of a wait, far
  // below the API's 250, and we notice a finished action within about a second.
  const auto elapsed = m_deps.clock.monotonic() - since;
  if (polls == 0 || elapsed < std::chrono::seconds(5)) {
    return std::min(m_options.poll_min, milliseconds(1000));
  }
  if (elapsed < std::chrono::minutes(2)) {
    return std::min(milliseconds(1000), m_options.poll_max);
  }
  return std::min(std::max(previous, milliseconds(1000)) + milliseconds(500), m_options.poll_max);
}

void ResizeDriver::check_deadline(const std::string& waiting_for) const
{
  if (m_deps.clock.monotonic() >= m_deadline) {
    throw Error(ExitCode::timeout,
                fmt::format("timed out after {} waiting for {}; {}; rerun `scalectl droplet {}` to resume (it waits "
                            "for running actions instead of repeating them)",
                            format_duration(m_options.total_timeout), waiting_for, where_we_are(),
                            m_options.direction));
  }
}

digitalocean::Action ResizeDriver::submit(StepKind kind)
{
  digitalocean::Action action;
  switch (kind) {
  case StepKind::shutdown:
    m_deps.reporter.step(fmt::format("shutting down droplet {} gracefully", m_id));
    action = m_deps.api.droplet_action(m_id, "shutdown");
    break;
  case StepKind::power_off:
    m_deps.reporter.step(fmt::format("powering off droplet {}", m_id));
    action = m_deps.api.droplet_action(m_id, "power_off");
    break;
  case StepKind::resize:
    m_deps.reporter.step(fmt::format("resizing droplet {} from {} to {}{}", m_id, m_last.size_slug,
                                     m_options.target_size,
                                     m_options.resize_disk ? " with a permanent disk resize" : " (disk unchanged)"));
    m_report.from_size = m_report.from_size.empty() ? m_last.size_slug : m_report.from_size;
    action = m_deps.api.resize(m_id, m_options.target_size, m_options.resize_disk);
    m_memory.resize_issued = true;
    break;
  case StepKind::power_on:
    m_deps.reporter.step(fmt::format("powering on droplet {}", m_id));
    action = m_deps.api.droplet_action(m_id, "power_on");
    break;
  default:
    throw Error(fmt::format("internal error: cannot submit step {}", core::step_name(kind)));
  }
  m_memory.anything_issued = true;
  m_report.actions.push_back(action);
  record(core::step_name(kind), "running");
  return action;
}

bool ResizeDriver::wait_action(digitalocean::Action& action, std::optional<SteadyTime> soft_deadline)
{
  const SteadyTime since = m_deps.clock.monotonic();
  milliseconds delay{0};
  for (int polls = 0; action.status == "in-progress"; ++polls) {
    if (soft_deadline && m_deps.clock.monotonic() >= *soft_deadline) {
      return false;
    }
    check_deadline(action_label(action));
    if (m_deps.clock.monotonic() - since >= m_options.action_timeout) {
      throw Error(ExitCode::timeout,
                  fmt::format("{} did not finish within {}; {}; rerun `scalectl droplet {}` to resume",
                              action_label(action), format_duration(m_options.action_timeout), where_we_are(),
                              m_options.direction));
    }
    delay = next_poll(polls, delay, since);
    m_deps.reporter.progress(fmt::format("waiting for {}", action_label(action)),
                             std::chrono::duration_cast<milliseconds>(m_deps.clock.monotonic() - since));
    m_deps.clock.sleep_for(delay);
    action = m_deps.api.get_action(action.id);
  }
  for (auto& mine : m_report.actions) {
    if (mine.id == action.id) {
      mine = action;
    }
  }
  m_deps.reporter.step(fmt::format("{} {} after {}", action_label(action), action.status,
                                   format_duration(std::chrono::duration_cast<milliseconds>(
                                     m_deps.clock.monotonic() - since))));
  apply_action_outcome(action);
  return true;
}

void ResizeDriver::apply_action_outcome(const digitalocean::Action& action)
{
  const bool ok = action.status == "completed";
  if (action.type == "shutdown" && !ok) {
    m_memory.shutdown_failed = true;
  } else if (action.type == "resize") {
    if (ok) {
      m_memory.resize_completed = m_memory.resize_issued;
      const ResizeLogEntry entry{
        std::chrono::duration_cast<milliseconds>(m_deps.clock.now().time_since_epoch()).count(),
        m_id, action.id, m_report.from_size, m_options.target_size, m_options.resize_disk};
      write_record("the resize log entry", [&] { m_deps.store().append(k_droplet_resizes_log, entry.to_json()); });
      if (m_options.resize_disk && m_memory.resize_issued) {
        write_record("the permanent disk resize", [&] {
          m_deps.store().update(droplet_record_key(m_id), [&](const std::optional<json>& old) {
            auto rec = DropletRecord::from_json(old.value_or(json::object()));
            rec.droplet_id = m_id;
            rec.disk_resized = DiskResized{m_options.target_size, action.id, format_rfc3339(m_deps.clock.now())};
            return rec.to_json();
          });
        });
      }
    } else {
      m_memory.resize_failed = true;
      m_failure = fmt::format("{} {}", action_label(action), action.status);
      m_refusal.reset();
    }
  } else if (action.type == "power_on" && !ok) {
    m_memory.power_on_failed = true;
    m_failure = fmt::format("{} {}", action_label(action), action.status);
    m_refusal.reset();
  } else if (action.type == "power_off" && !ok) {
    m_failure = fmt::format("{} {}", action_label(action), action.status);
    m_refusal.reset();
    throw Error(fmt::format("{}; {}; check the droplet in the control panel", m_failure, where_we_are()));
  }
}

void ResizeDriver::wait_unlock()
{
  const SteadyTime since = m_deps.clock.monotonic();
  milliseconds delay{0};
  for (int polls = 0;; ++polls) {
    check_deadline("the droplet to be unlocked");
    delay = next_poll(polls, delay, since);
    m_deps.reporter.progress(fmt::format("waiting for droplet {} ({})", m_id, m_last.locked ? "locked" : m_last.status),
                             std::chrono::duration_cast<milliseconds>(m_deps.clock.monotonic() - since));
    m_deps.clock.sleep_for(delay);
    const auto obs = observe();
    if (obs.action_id || (!obs.locked && (obs.status == "active" || obs.status == "off"))) {
      return;
    }
  }
}

void ResizeDriver::record(const std::string& phase, const std::string& result, const std::string& error)
{
  const auto now = m_deps.clock.now();
  DropletOperation op;
  op.direction = m_options.direction;
  op.from_size = m_report.from_size;
  op.to_size = m_options.target_size;
  op.phase = phase;
  op.result = result;
  for (const auto& a : m_report.actions) {
    op.actions.push_back({a.id, a.type, a.status});
  }
  op.resize_disk = m_options.resize_disk;
  op.memory_before_mb = m_report.memory_before_mb;
  op.started_at = format_rfc3339(m_started_wall);
  op.updated_at = format_rfc3339(now);
  op.pid = m_deps.owner.pid;
  op.host = m_deps.owner.host;
  op.command = m_deps.owner.command;
  op.error = error;
  const bool final_result = result != "running" && result != "submitted";
  if (final_result) {
    op.ended_at = format_rfc3339(now);
    op.memory_after_mb = m_report.memory_after_mb;
  }
  write_record("its record", [&] {
    m_deps.store().update(droplet_record_key(m_id), [&](const std::optional<json>& old) {
      auto rec = DropletRecord::from_json(old.value_or(json::object()));
      if (final_result) {
        rec.history.push_back(op);
        while (rec.history.size() > k_history_limit) {
          rec.history.erase(rec.history.begin());
        }
      }
      rec.droplet_id = m_id;
      rec.operation = op;
      return rec.to_json();
    });
  });
}

void ResizeDriver::write_record(const std::string& what, const std::function<void()>& write)
{
  std::vector<std::string> submitted;
  for (const auto& a : m_report.actions) {
    submitted.push_back(action_label(a));
  }
  write_after_submit(m_deps.reporter, fmt::format("droplet {}", m_id), what, submitted, write);
}

// Returns `: stderr "<last line>"` for an error message (control characters escaped, at most 200
// bytes), or "" when the check wrote nothing.
static std::string stderr_quote(const std::string& err)
{
  std::string text = err;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  if (const auto nl = text.rfind('\n'); nl != std::string::npos) {
    text = text.substr(nl + 1);
  }
  if (text.empty()) {
    return "";
  }
  std::string shown;
  for (const char c : text.substr(0, 200)) {
    const auto byte = static_cast<unsigned char>(c);
    shown += byte < 0x20 || byte == 0x7f ? fmt::format("\\x{:02x}", byte) : std::string(1, c);
  }
  return fmt::format(": stderr \"{}\"", shown);
}

void ResizeDriver::run_guards(const digitalocean::Droplet& droplet)
{
  if (!m_options.allow_self) {
    if (const auto own = detect_own_droplet(m_options.self_check); own && *own == m_id) {
      throw Error(ExitCode::refused,
                  fmt::format("scalectl is running on droplet {} ({}) itself: resizing it powers off this machine "
                              "mid-operation and nothing would power it back on; from a job on the droplet run `scalectl droplet "
                              "claim up` and let `scalectl droplet reconcile` on another machine resize it, or "
                              "pass --allow-self if you accept that",
                              m_id, droplet.name));
    }
  }
  if (!m_options.check_busy || m_options.force) {
    return;
  }
  if (!m_options.capacity_pool.empty()) {
    const auto pool = m_deps.store().snapshot(m_options.capacity_pool);
    const auto live = std::count_if(pool.leases.begin(), pool.leases.end(), [](const auto& l) { return !l.expired; });
    if (live > 0) {
      throw Error(ExitCode::refused,
                  fmt::format("refusing to scale droplet {} down: {} worker lease(s) are live in capacity pool '{}' "
                              "(see `scalectl capacity status`); rerun when they are released, or pass --force",
                              m_id, live, m_options.capacity_pool));
    }
  }
  if (!m_options.busy_check.empty()) {
    ProcessRequest request;
    request.argv = shell_argv(m_options.busy_check);
    request.timeout = milliseconds(60'000);
    const auto result = m_deps.processes.run(request);
    if (result.timed_out) {
      throw Error(ExitCode::refused, fmt::format("busy_check `{}` did not finish within 60s; refusing to scale "
                                                 "droplet {} down; fix the check or pass --force",
                                                 m_options.busy_check, m_id));
    }
    if (result.exit_code == 0) {
      throw Error(ExitCode::refused,
                  fmt::format("refusing to scale droplet {} down: busy_check `{}` says work is running (exit 0); "
                              "rerun later or pass --force",
                              m_id, m_options.busy_check));
    }
    if (result.exit_code != 1) {
      // Fail closed: only exit 1 means idle. 127 (a typo), a signal or any other code is not an answer.
      throw Error(ExitCode::refused,
                  fmt::format("refusing to scale droplet {} down: busy_check `{}` {} (only 0 = busy and 1 = idle "
                              "count){}; fix the check or pass --force",
                              m_id, m_options.busy_check,
                              result.exit_code < 0 ? std::string("was killed by a signal")
                                                   : fmt::format("exited {}", result.exit_code),
                              stderr_quote(result.err)));
    }
  }
}

void ResizeDriver::plan_dry_run(const core::DropletObservation& start)
{
  for (const auto& step : core::simulate_resize(start, m_options.target_size)) {
    switch (step.kind) {
    case StepKind::wait_action:
      m_report.planned.push_back(fmt::format("wait for action {} ({})", step.action_id.value_or(0), step.action_type));
      break;
    case StepKind::wait_unlock:
      m_report.planned.push_back("wait for the droplet to be unlocked");
      break;
    case StepKind::shutdown:
      m_report.planned.push_back(fmt::format("POST /v2/droplets/{}/actions {{\"type\":\"shutdown\"}} (then "
                                             "power_off if it is not off within {})",
                                             m_id, format_duration(m_options.shutdown_timeout)));
      break;
    case StepKind::resize:
      m_report.planned.push_back(fmt::format("POST /v2/droplets/{}/actions {{\"type\":\"resize\",\"size\":\"{}\","
                                             "\"disk\":{}}}",
                                             m_id, m_options.target_size, m_options.resize_disk));
      break;
    case StepKind::power_off:
    case StepKind::power_on:
      m_report.planned.push_back(fmt::format("POST /v2/droplets/{}/actions {{\"type\":\"{}\"}}", m_id,
                                             core::step_name(step.kind)));
      break;
    case StepKind::already_done:
    case StepKind::done:
    case StepKind::fail:
      break;
    }
  }
}

void ResizeDriver::validate_target()
{
  const auto check = core::check_target_size(m_deps.api.list_sizes(), m_options.target_size, m_last.size_slug,
                                             m_last.disk_gb);
  if (!check.size) {
    throw Error(check.code, fmt::format("droplet {}: {}", m_id, check.message));
  }
  m_target = *check.size;
}

ResizeReport ResizeDriver::finish(Result result)
{
  m_report.result = result;
  m_report.status = m_last.status;
  m_report.memory_after_mb = m_last.memory_mb;
  m_report.droplet_after = m_last;
  m_report.duration = std::chrono::duration_cast<milliseconds>(m_deps.clock.monotonic() - m_started);
  m_report.api_requests = m_deps.api.request_count();
  return m_report;
}

void ResizeDriver::run_after_hook(bool resized)
{
  ProcessRequest request;
  request.argv = shell_argv(m_options.after_hook);
  request.timeout = milliseconds(600'000);
  request.capture = false;
  request.extra_env = {{"SCALECTL_DROPLET_ID", std::to_string(m_id)},
                       {"SCALECTL_SIZE", m_last.size_slug},
                       {"SCALECTL_DIRECTION", m_options.direction}};
  m_deps.reporter.step(fmt::format("running after_{} hook: {}", m_options.direction, m_options.after_hook));
  const auto hook = m_deps.processes.run(request);
  if (hook.exit_code != 0) {
    finish(resized ? Result::changed : Result::powered_on);
    throw Error(fmt::format("droplet {} is active at {}, but the after_{} hook `{}` failed ({}); run it by hand", m_id,
                            m_last.size_slug, m_options.direction, m_options.after_hook,
                            hook.timed_out ? "timed out" : fmt::format("exit {}", hook.exit_code)));
  }
}

ResizeReport ResizeDriver::finish_done()
{
  const bool resized = m_memory.resize_completed;
  record("done", "ok");
  if (m_report.memory_before_mb == m_last.memory_mb) {
    m_deps.reporter.step(
      fmt::format("droplet {} is active at {}: memory {} MB, unchanged", m_id, m_last.size_slug, m_last.memory_mb));
  } else {
    m_deps.reporter.step(fmt::format("droplet {} is active at {}: memory {} MB -> {} MB", m_id, m_last.size_slug,
                                     m_report.memory_before_mb, m_last.memory_mb));
  }
  if (!m_options.after_hook.empty()) {
    run_after_hook(resized);
  }
  return finish(resized ? Result::changed : (m_memory.anything_issued ? Result::powered_on : Result::noop));
}

std::optional<digitalocean::Action> ResizeDriver::try_submit(StepKind kind)
{
  try {
    return submit(kind);
  } catch (const digitalocean::ApiError& e) {
    if (e.kind() != digitalocean::ApiErrorKind::unprocessable) {
      throw;
    }
    // A 422 means "not in this state": a pending event, a droplet still on, or a size the API
    // refuses. Look again; a resize refused twice in a row from the same off, unlocked state is
    // refused by the API itself, and the droplet must never stay off because of it.
    if (kind == StepKind::resize && ++m_resize_refusals >= 2) {
      m_memory.resize_failed = true;
      m_failure = fmt::format("the API refused the resize to {}: {}", m_options.target_size, e.api_message());
      m_refusal = std::pair{e.status(), e.id()};
      return std::nullopt;
    }
    m_deps.reporter.step(fmt::format("the API says: {}; looking again", e.api_message()));
    return std::nullopt;
  }
}

void ResizeDriver::record_failure(const Error& e)
{
  std::vector<std::string> submitted;
  for (const auto& a : m_report.actions) {
    submitted.push_back(action_label(a));
  }
  const std::string rerun = fmt::format("rerunning `scalectl droplet {}`", m_options.direction);
  if (e.code() == ExitCode::timeout) {
    record("timeout", "timeout", e.what());
  } else if (e.code() == ExitCode::failure) {
    record("failed", "failed", e.what());
  }
  if (!submitted.empty()) {
    const auto message = name_submitted(e.what(), submitted, rerun);
    if (const auto* refused = dynamic_cast<const ResizeRefused*>(&e)) {
      throw refused->with_message(message);
    }
    throw Error(e.code(), message);
  }
  throw;
}

void ResizeDriver::record_interruption(const Interrupted& e)
{
  std::vector<std::string> submitted;
  for (const auto& a : m_report.actions) {
    submitted.push_back(action_label(a));
  }
  record("interrupted", "interrupted", e.what());
  throw e.with_context(name_submitted(fmt::format("{}; running actions continue at DigitalOcean; rerun `scalectl "
                                                  "droplet {}` to resume",
                                                  where_we_are(), m_options.direction),
                                      submitted, fmt::format("rerunning `scalectl droplet {}`", m_options.direction)));
}

void ResizeDriver::look_under_lock(core::DropletObservation& obs)
{
  // Under the lock: the guards and the "from" size/memory see what the run we may have waited for left.
  obs = observe();
  m_report.from_size = m_last.size_slug;
  m_report.memory_before_mb = m_last.memory_mb;
  if (const auto locked_first = core::next_resize_step(obs, m_options.target_size, m_memory);
      locked_first.kind != StepKind::power_on && locked_first.kind != StepKind::wait_action &&
      locked_first.kind != StepKind::already_done) {
    run_guards(m_last);
  }
  // A resumed resize reports the size it started from: the record of the resize in progress has it.
  if (const auto rec = m_deps.store().get(droplet_record_key(m_id)); rec) {
    const auto record = DropletRecord::from_json(*rec);
    if (const auto& op = record.operation; op && op->result != "ok" && op->to_size == m_options.target_size &&
                                            !op->from_size.empty() && op->from_size != m_options.target_size &&
                                            op->memory_before_mb > 0) {
      m_report.from_size = op->from_size;
      m_report.memory_before_mb = op->memory_before_mb;
    }
  }
  m_deps.reporter.step(fmt::format("droplet {} ({}) is {} at {} with {} MB, {} vCPUs; target {}", m_id, m_last.name,
                                   m_last.status, m_last.size_slug, m_last.memory_mb, m_last.vcpus,
                                   m_options.target_size));
}

bool ResizeDriver::wait_for_running(std::int64_t action_id)
{
  auto action = m_deps.api.get_action(action_id);
  m_deps.reporter.step(fmt::format("{} is already in progress; waiting for it", action_label(action)));
  if (m_options.no_wait) {
    record("wait_action", "submitted");
    m_report.actions.push_back(action);
    finish(Result::submitted);
    return true;
  }
  wait_action(action, std::nullopt);
  return false;
}

bool ResizeDriver::submit_and_wait(StepKind kind)
{
  const auto submitted = try_submit(kind);
  if (!submitted) {
    return false;
  }
  auto action = *submitted;
  if (m_options.no_wait) {
    record(core::step_name(kind), "submitted");
    m_deps.reporter.step(fmt::format("submitted {}; rerun `scalectl droplet {}` to continue", action_label(action),
                                     m_options.direction));
    finish(Result::submitted);
    return true;
  }
  if (kind == StepKind::shutdown) {
    const auto soft = m_deps.clock.monotonic() + m_options.shutdown_timeout;
    if (!wait_action(action, soft)) {
      m_deps.reporter.warn(fmt::format("graceful shutdown of droplet {} did not finish within {}; powering off",
                                       m_id, format_duration(m_options.shutdown_timeout)));
      m_memory.shutdown_failed = true;
    }
  } else {
    wait_action(action, std::nullopt);
  }
  return false;
}

bool ResizeDriver::take_step(const core::ResizeStep& step)
{
  switch (step.kind) {
  case StepKind::already_done:
  case StepKind::done:
    finish_done();
    return true;
  case StepKind::wait_action:
    return wait_for_running(*step.action_id);
  case StepKind::wait_unlock:
    m_deps.reporter.step(fmt::format("droplet {}: {}", m_id, step.reason));
    wait_unlock();
    return false;
  case StepKind::fail: {
    const std::string why = m_failure.empty() ? step.reason : m_failure + "; " + step.reason;
    record("failed", "failed", why);
    if (m_refusal) {
      throw ResizeRefused(m_refusal->first, m_refusal->second, m_options.target_size,
                          fmt::format("{}; {}", why, where_we_are()));
    }
    throw Error(fmt::format("{}; {}", why, where_we_are()));
  }
  case StepKind::shutdown:
  case StepKind::power_off:
  case StepKind::resize:
  case StepKind::power_on:
    break;
  }
  return submit_and_wait(step.kind);
}

ResizeReport ResizeDriver::drive(state::OperationLock& lock, core::DropletObservation obs)
{
  bool observed = true;
  for (int steps = 0; steps < 64; ++steps) {
    if (!lock.still_held()) {
      throw Error(fmt::format("lost the operation lock for droplet {} (the lock backend expired it); {}; rerun "
                              "`scalectl droplet {}` to resume",
                              m_id, where_we_are(), m_options.direction));
    }
    if (!observed) {
      obs = observe();  // always after taking the lock: another run may have moved the droplet
    }
    observed = false;
    const auto step = core::next_resize_step(obs, m_options.target_size, m_memory);
    m_deps.reporter.detail(fmt::format("next step: {} ({})", core::step_name(step.kind), step.reason));
    if (step.kind != StepKind::resize) {
      m_resize_refusals = 0;
    }
    if (take_step(step)) {
      return m_report;
    }
  }
  throw Error(fmt::format("gave up after 64 steps without reaching {}; {}", m_options.target_size, where_we_are()));
}

ResizeReport ResizeDriver::run()
{
  auto obs = observe();
  m_report.droplet_name = m_last.name;
  m_report.from_size = m_last.size_slug;
  m_report.memory_before_mb = m_last.memory_mb;

  validate_target();
  if (m_options.dry_run) {
    plan_dry_run(obs);
    return finish(m_report.planned.empty() ? Result::noop : Result::dry_run);
  }
  const auto first = core::next_resize_step(obs, m_options.target_size, m_memory);
  if (first.kind == StepKind::already_done) {
    m_deps.reporter.step(fmt::format("droplet {} is already {} at {} ({} MB); nothing to do", m_id, m_last.status,
                                     m_last.size_slug, m_last.memory_mb));
    return finish(Result::noop);
  }
  const auto lock = m_deps.store().lock(droplet_lock_resource(m_id), m_deps.owner, m_options.wait_lock);
  look_under_lock(obs);
  try {
    return drive(*lock, obs);
  } catch (const Interrupted& e) {
    record_interruption(e);
  } catch (const Error& e) {
    record_failure(e);
  }
}

}  // namespace

bool size_refused(const std::exception& e) noexcept
{
  const auto* refused = dynamic_cast<const ResizeRefused*>(&e);
  return refused != nullptr && digitalocean::classify_api_error(refused->status(), refused->api_id()) ==
                                 digitalocean::ApiErrorKind::unprocessable;
}

std::int64_t resolve_droplet(digitalocean::Api& api, const std::string& spec)
{
  if (spec.empty()) {
    throw usage_error("no droplet given; pass --droplet ID|NAME, set DROPLET_ID, or set [droplet] id");
  }
  if (std::all_of(spec.begin(), spec.end(), [](char c) { return c >= '0' && c <= '9'; }) && spec.size() <= 18) {
    return std::stoll(spec);
  }
  const auto found = api.find_droplets_by_name(spec);
  if (found.empty()) {
    throw Error(fmt::format("no droplet is named '{}'; check the name with `doctl compute droplet list` or pass the "
                            "numeric id",
                            spec));
  }
  if (found.size() > 1) {
    std::string ids;
    for (const auto& d : found) {
      ids += (ids.empty() ? "" : ", ") + std::to_string(d.id);
    }
    throw usage_error(fmt::format("{} droplets are named '{}' (ids {}); pass the numeric id with --droplet",
                                  found.size(), spec, ids));
  }
  return found.front().id;
}

ResizeReport resize_droplet(DropletDeps& deps, std::int64_t droplet_id, const ResizeOptions& options)
{
  ResizeDriver driver(deps, droplet_id, options);
  return driver.run();
}

}  // namespace scalectl::ops
