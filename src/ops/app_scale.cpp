#include <scalectl/ops/app.hpp>

#include <algorithm>

#include <fmt/format.h>

#include <scalectl/clock.hpp>
#include <scalectl/digitalocean/client.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/report.hpp>

#include "ops/record_write.hpp"

namespace scalectl::ops {

using nlohmann::json;
using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

json AppScaleReport::to_json() const
{
  json changes_json = json::array();
  for (const auto& c : changes) {
    changes_json.push_back({{"path", c.path},
                            {"before", c.before.empty() ? json(nullptr) : json(c.before)},
                            {"after", c.after.empty() ? json(nullptr) : json(c.after)}});
  }
  return {
    {"app", {{"id", app_id}, {"name", app_name}}},
    {"component", component},
    {"result", to_string(result)},
    {"before", component_json(before)},
    {"after", component_json(after)},
    {"monthly_cost_usd_before", cost_json(cost_before)},
    {"monthly_cost_usd_after", cost_json(cost_after)},
    {"changes", changes_json},
    {"deployment", deployment_json(deployment)},
    {"duration_ms", duration.count()},
    {"api_requests", api_requests},
  };
}

namespace {

constexpr std::size_t k_history_limit = 50;

std::string short_id(const std::string& id)
{
  return id.substr(0, 8);
}

std::string progress_text(const digitalocean::Deployment& d)
{
  return fmt::format("{} ({}/{} steps)", d.phase, d.success_steps, d.total_steps);
}

// Drives one scale: read the spec, plan the edit, PUT it, wait for the deployment.
class ScaleDriver {
 public:
  ScaleDriver(AppDeps& deps, std::string app_id, const AppScaleOptions& options)
      : m_deps(deps), m_options(options), m_started(deps.clock.monotonic()), m_started_wall(deps.clock.now())
  {
    m_report.app_id = std::move(app_id);
    m_report.component = options.component;
  }

  AppScaleReport run();

 private:
  void plan();
  std::optional<digitalocean::App> send_spec();
  digitalocean::Deployment find_new_deployment(const digitalocean::App& updated);
  digitalocean::Deployment wait(digitalocean::Deployment deployment, bool announced);
  void record(const std::string& result, const std::string& error = {});
  std::string resume_hint() const;
  AppScaleReport finish(Result result);
  AppScaleReport already_at_target();
  AppScaleReport send_and_wait();
  void check_outcome(const digitalocean::Deployment& d);
  [[noreturn]] void record_interruption(const Interrupted& e);
  [[noreturn]] void record_failure(const Error& e);

  AppDeps& m_deps;
  const AppScaleOptions& m_options;
  SteadyTime m_started;
  SystemTime m_started_wall;
  AppScaleReport m_report;
  std::unique_ptr<state::OperationLock> m_lock;
  std::optional<digitalocean::App> m_app;
  std::optional<core::ScalePlan> m_plan;
  bool m_record_open = false;  // the store shows this run as running or submitted
  bool m_spec_sent = false;    // DigitalOcean accepted the new spec (a deployment carries it)
};

void ScaleDriver::plan()
{
  const auto sizes = digitalocean::list_instance_sizes(m_deps.api);
  m_app = digitalocean::get_app(m_deps.api, m_report.app_id);
  m_report.app_name = m_app->name;
  m_plan = core::plan_scale(m_app->spec, m_options.component, m_options.request, sizes, m_options.workers_rule_mb);
  m_report.before = m_plan->before;
  m_report.after = m_plan->after;
  m_report.changes = m_plan->changes;
  m_report.cost_before = core::monthly_cost(m_plan->before, sizes);
  m_report.cost_after = core::monthly_cost(m_plan->after, sizes);
  if (!m_plan->errors.empty()) {
    std::string text;
    for (const auto& e : m_plan->errors) {
      text += (text.empty() ? "" : "; also ") + e;
    }
    throw usage_error(text);
  }
}

std::string ScaleDriver::resume_hint() const
{
  const auto app = m_report.app_name.empty() ? m_report.app_id : m_report.app_name;
  return fmt::format("`scalectl app status {}` shows it, and rerunning the same `scalectl app scale` waits for it "
                     "without sending the spec again",
                     app);
}

void ScaleDriver::record(const std::string& result, const std::string& error)
{
  const auto now = m_deps.clock.now();
  json changes = json::array();
  for (const auto& c : m_report.changes) {
    changes.push_back({{"path", c.path}, {"before", c.before}, {"after", c.after}});
  }
  json op = {
    {"component", m_report.component},
    {"from", core::describe_scale(m_report.before)},
    {"to", core::describe_scale(m_report.after)},
    {"changes", changes},
    {"source", m_options.source},
    {"result", result},
    {"deployment_id", m_report.deployment ? json(m_report.deployment->id) : json(nullptr)},
    {"phase", m_report.deployment ? json(m_report.deployment->phase) : json(nullptr)},
    {"started_at", format_rfc3339(m_started_wall)},
    {"host", m_deps.owner.host},
    {"pid", m_deps.owner.pid},
    {"command", m_deps.owner.command},
  };
  if (!error.empty()) {
    op["error"] = error;
  }
  const bool final_result = result != "running" && result != "submitted";
  m_record_open = !final_result;
  if (final_result) {
    op["ended_at"] = format_rfc3339(now);
  }
  std::vector<std::string> submitted;
  if (m_report.deployment && m_spec_sent) {
    submitted.push_back(fmt::format("the spec update of component {} (deployment {})", m_report.component,
                                    m_report.deployment->id));
  }
  write_after_submit(m_deps.reporter, fmt::format("app {}", m_report.app_id), "its record", submitted, [&] {
    m_deps.store().update(app_record_key(m_report.app_id), [&](const std::optional<json>& old) {
      json rec = old.value_or(json::object());
      if (final_result) {
        json history = rec.value("history", json::array());
        history.push_back(op);
        while (history.size() > k_history_limit) {
          history.erase(history.begin());
        }
        rec["history"] = history;
      }
      rec["app_id"] = m_report.app_id;
      rec["app_name"] = m_report.app_name;
      rec["operation"] = op;
      return rec;
    });
  });
}

std::optional<digitalocean::App> ScaleDriver::send_spec()
{
  try {
    return digitalocean::update_app_spec(m_deps.api, m_report.app_id, m_plan->spec);
  } catch (const digitalocean::ApiError& e) {
    if (e.kind() != digitalocean::ApiErrorKind::unprocessable) {
      throw;
    }
    // A 422 means "not in this state": App Platform refuses a new spec while a deployment is
    // pending. Wait for it, plan again from the spec it left, and send once more; a second 422, or
    // one with no deployment to wait for, is the API's answer.
    const auto app = digitalocean::get_app(m_deps.api, m_report.app_id);
    const auto& busy = app.pending_deployment ? app.pending_deployment : app.in_progress_deployment;
    if (!busy) {
      throw Error(fmt::format("App Platform refused the new spec of app {} ({} {}: {}); check it with `scalectl app "
                              "status {}`",
                              m_report.app_name, e.status(), e.id(), e.api_message(), m_report.app_id));
    }
    m_deps.reporter.step(fmt::format("the API refused the spec while deployment {} is {}; waiting for it first",
                                     busy->id, busy->phase));
    wait(*busy, false);
    m_report.deployment.reset();
    plan();
    if (!m_plan->changed()) {
      return std::nullopt;
    }
    return digitalocean::update_app_spec(m_deps.api, m_report.app_id, m_plan->spec);
  }
}

digitalocean::Deployment ScaleDriver::find_new_deployment(const digitalocean::App& updated)
{
  if (updated.pending_deployment) {
    return *updated.pending_deployment;
  }
  if (updated.in_progress_deployment) {
    return *updated.in_progress_deployment;
  }
  const auto previous = m_app->active_deployment ? m_app->active_deployment->id : std::string();
  const auto recent = digitalocean::list_deployments(m_deps.api, m_report.app_id, 1);
  if (!recent.empty() && recent.front().id != previous) {
    return recent.front();
  }
  throw Error(fmt::format("app {} accepted the new spec but shows no new deployment; check `scalectl app status {}`",
                          m_report.app_id, m_report.app_name));
}

digitalocean::Deployment ScaleDriver::wait(digitalocean::Deployment deployment, bool announced)
{
  const auto deadline = m_started + m_options.timeout;
  const auto since = m_deps.clock.monotonic();
  milliseconds delay = m_options.poll_min;
  std::string last_phase = announced ? deployment.phase : std::string();
  while (true) {
    const auto now = m_deps.clock.monotonic();
    if (deployment.phase != last_phase) {
      m_deps.reporter.step(fmt::format("deployment {}: {}", short_id(deployment.id), progress_text(deployment)));
      last_phase = deployment.phase;
    } else {
      m_deps.reporter.progress(fmt::format("deployment {} {}", short_id(deployment.id), progress_text(deployment)),
                               std::chrono::duration_cast<milliseconds>(now - m_started));
    }
    if (deployment.finished()) {
      return deployment;
    }
    if (now >= deadline) {
      throw Error(ExitCode::timeout,
                  fmt::format("deployment {} of app {} is still {} after {} (--timeout, [app] deployment_timeout); "
                              "it continues at DigitalOcean; {}",
                              deployment.id, m_report.app_name, progress_text(deployment),
                              format_duration(m_options.timeout), resume_hint()));
    }
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - now);
    m_deps.clock.sleep_for(std::clamp(delay, milliseconds(1), std::max(left, milliseconds(1))));
    // 0.5 s, then every second for 30 s (short deployments end promptly), then 1.5x longer up
    // to poll_max: a 10-minute deployment costs about 150 requests, far below the rate limit.
    delay = m_deps.clock.monotonic() - since < std::chrono::seconds(30)
              ? std::min(milliseconds(1000), m_options.poll_max)
              : std::min(m_options.poll_max, delay + delay / 2);
    if (m_lock && !m_lock->still_held()) {
      throw Error(fmt::format("lost the operation lock of app {} (the lock backend expired it) while deployment {} "
                              "was {}; {}",
                              m_report.app_id, deployment.id, deployment.phase, resume_hint()));
    }
    deployment = digitalocean::get_deployment(m_deps.api, m_report.app_id, deployment.id);
    m_report.deployment = deployment;
  }
}

AppScaleReport ScaleDriver::finish(Result result)
{
  m_report.result = result;
  m_report.duration = std::chrono::duration_cast<milliseconds>(m_deps.clock.monotonic() - m_started);
  m_report.api_requests = m_deps.api.request_count();
  return m_report;
}

AppScaleReport ScaleDriver::already_at_target()
{
  const auto& running = m_app->in_progress_deployment;
  m_deps.reporter.step(fmt::format("component {} of app {} is already at {}; nothing to send", m_report.component,
                                   m_report.app_name, core::describe_scale(m_report.after)));
  if (running && !m_options.no_wait) {
    m_deps.reporter.step(fmt::format("deployment {} ({}) is still in progress; waiting for it", running->id,
                                     running->cause));
    m_report.deployment = wait(*running, false);
    if (m_report.deployment->phase == "ERROR" || m_report.deployment->phase == "CANCELED") {
      throw Error(fmt::format("deployment {} of app {} ended {} at step {} ({}); the spec is already at the "
                              "target, but the deployment carrying it failed",
                              m_report.deployment->id, m_report.app_name, m_report.deployment->phase,
                              m_report.deployment->failed_step.empty() ? "unknown" : m_report.deployment->failed_step,
                              m_report.deployment->failure_reason));
    }
  } else if (running) {
    m_report.deployment = *running;
  }
  return finish(Result::noop);
}

void ScaleDriver::check_outcome(const digitalocean::Deployment& d)
{
  if (d.phase == "ERROR" || d.phase == "CANCELED") {
    const auto message =
      fmt::format("deployment {} of app {} ended {} at step {}{}; the new spec is saved in the app but the "
                  "previous deployment keeps serving; read the logs with `doctl apps logs {} {} --deployment {}`, "
                  "then fix it or scale back",
                  d.id, m_report.app_name, d.phase, d.failed_step.empty() ? "(unknown)" : d.failed_step,
                  d.failure_reason.empty() ? "" : " (" + d.failure_reason + ")", m_report.app_id, m_report.component,
                  d.id);
    record("failed", message);
    throw Error(message);
  }
  if (d.phase == "SUPERSEDED") {
    m_deps.reporter.warn(fmt::format("deployment {} went live and was already superseded by a newer one", d.id));
  }
}

AppScaleReport ScaleDriver::send_and_wait()
{
  m_deps.reporter.step(fmt::format("app {} component {}: {} -> {}; sending {} changed field(s)", m_report.app_name,
                                   m_report.component, core::describe_scale(m_report.before),
                                   core::describe_scale(m_report.after), m_report.changes.size()));
  record("running");
  const auto updated = send_spec();
  if (!updated) {
    record("ok");
    return finish(Result::noop);
  }
  m_spec_sent = true;
  m_report.deployment = find_new_deployment(*updated);
  m_deps.reporter.step(fmt::format("deployment {} started: {}", m_report.deployment->id,
                                   progress_text(*m_report.deployment)));
  if (m_options.no_wait) {
    record("submitted");
    return finish(Result::submitted);
  }
  record("running");
  m_report.deployment = wait(*m_report.deployment, true);
  check_outcome(*m_report.deployment);
  record("ok");
  m_deps.reporter.step(fmt::format("app {} component {} is live at {}", m_report.app_name, m_report.component,
                                   core::describe_scale(m_report.after)));
  return finish(Result::changed);
}

void ScaleDriver::record_interruption(const Interrupted& e)
{
  const auto where = m_report.deployment
                       ? fmt::format("deployment {} was {}", m_report.deployment->id,
                                     progress_text(*m_report.deployment))
                       : std::string("no deployment had been started");
  record("interrupted", e.what());
  throw e.with_context(fmt::format("{}; a running deployment continues at DigitalOcean; {}", where, resume_hint()));
}

void ScaleDriver::record_failure(const Error& e)
{
  if (e.code() == ExitCode::timeout) {
    record("timeout", e.what());
  } else if (m_record_open) {
    record("failed", e.what());
  }
  if (m_spec_sent && m_report.deployment && std::string(e.what()).find(m_report.deployment->id) == std::string::npos) {
    // A failure after DigitalOcean accepted the spec (a lost state store, a lost lock): name it.
    const std::vector<std::string> submitted{fmt::format("the spec update of component {} (deployment {})",
                                                         m_report.component, m_report.deployment->id)};
    throw Error(e.code(), name_submitted(e.what(), submitted, "rerunning the same `scalectl app scale`"));
  }
  throw;  // called from the handler: rethrows `e` as thrown (an ApiError stays one)
}

AppScaleReport ScaleDriver::run()
{
  if (m_options.dry_run) {
    plan();
    return finish(m_plan->changed() ? Result::dry_run : Result::noop);
  }
  m_lock = m_deps.store().lock(app_lock_resource(m_report.app_id), m_deps.owner, m_options.wait_lock);
  plan();
  try {
    return m_plan->changed() ? send_and_wait() : already_at_target();
  } catch (const Interrupted& e) {
    record_interruption(e);
  } catch (const Error& e) {
    record_failure(e);
  }
}

}  // namespace

AppScaleReport scale_app(AppDeps& deps, const std::string& app_id, const AppScaleOptions& options)
{
  ScaleDriver driver(deps, app_id, options);
  return driver.run();
}

}  // namespace scalectl::ops
