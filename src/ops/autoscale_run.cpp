// autoscale plan/apply/status: read the state, the metric and the count, run the pure pipeline,
// and change things only in commit(), the single guarded write.

#include <scalectl/ops/lock_holder.hpp>
#include <scalectl/ops/autoscale.hpp>

#include <random>

#include <fmt/format.h>

#include <scalectl/config/config.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/report.hpp>

namespace scalectl::ops {

namespace {

using nlohmann::json;

constexpr std::size_t k_event_limit = 50;

json reason_json(const core::Reason& r)
{
  return {{"code", r.code}, {"detail", r.detail}, {"text", r.text()}};
}

json reasons_json(const std::vector<core::Reason>& reasons)
{
  json out = json::array();
  for (const auto& r : reasons) {
    out.push_back(reason_json(r));
  }
  return out;
}

std::vector<std::string> reason_texts(const std::vector<core::Reason>& reasons)
{
  std::vector<std::string> out;
  for (const auto& r : reasons) {
    out.push_back(r.text());
  }
  return out;
}

json optional_json(const std::optional<std::int64_t>& v)
{
  return v ? json(*v) : json(nullptr);
}

// One direction's behaviour rules with their effective defaults, for the plan's settings.
json rules_json(const core::ScalingRules& rules, const core::AutoscalePolicy& t, bool up)
{
  json policies = json::array();
  for (const auto& p : rules.policies) {
    policies.push_back({{p.kind == core::RatePolicy::Kind::pods ? "pods" : "percent", p.value},
                        {"period_ms", p.period.count()}});
  }
  const auto window = rules.stabilization.value_or(up ? std::chrono::milliseconds{0} : t.scale_down_stabilization);
  return {{"stabilization_ms", window.count()},
          {"tolerance", rules.tolerance.value_or(t.tolerance)},
          {"select", core::select_name(rules.select)},
          {"policies", policies},
          {"applied", t.mode == core::ScaleMode::target || rules.configured}};
}

std::string random_lineage()
{
  std::random_device device;
  std::uniform_int_distribution<std::uint64_t> dist;
  return fmt::format("{:016x}", dist(device));
}

AutoscaleRecord read_record(state::Store& store, const std::string& policy)
{
  const auto stored = store.get(autoscale_key(policy));
  return stored ? AutoscaleRecord::from_json(*stored) : AutoscaleRecord{};
}

TargetDeps target_deps(const AutoscaleDeps& deps, const PolicyConfig& policy, const AutoscaleRecord& record,
                       std::optional<std::int64_t> override_current)
{
  TargetDeps t = deps.target;
  t.recorded = record.replicas;
  t.override_current = override_current;
  t.min = policy.tuning.min;
  t.policy = policy.name;
  t.lock = [&store = deps.store, owner = deps.owner, wait = deps.wait_lock](const std::string& resource) {
    return store.lock(resource, owner, wait);
  };
  return t;
}

PlanReport plan_with(AutoscaleDeps& deps, const PolicyConfig& policy, const PlanOptions& options,
                     const AutoscaleRecord& record, ReplicaTarget& target)
{
  PlanReport report;
  report.policy = policy;
  report.target = target.describe();
  report.lineage = record.lineage;
  report.serial = record.serial;
  report.input.policy = policy.tuning;
  report.input.history = record.history;
  // The behaviour rules' periods count over the applied changes kept in the state.
  for (const auto& e : record.events) {
    if (e.result == "ok") {
      report.input.history.events.push_back({e.time, e.from, e.to});
    }
  }
  report.input.current = target.current();
  report.current_source = target.current_source();
  if (options.metric) {
    if (*options.metric < 0) {
      throw usage_error(fmt::format("--metric must be 0 or more, not {}", *options.metric));
    }
    report.input.metric.value = *options.metric;
    report.metric_source = "--metric";
  } else if (!policy.enabled) {
    report.input.metric.error = "not read: the policy is disabled";
    report.metric_source = "none (disabled)";
  } else {
    MetricReading reading = read_metric(policy.metric, deps.metric);
    report.input.metric = std::move(reading.sample);
    report.metric_source = std::move(reading.source);
    report.input.metric.name = policy.metric_own.name;
    report.input.metric.units_per_worker = policy.metric_own.units_per_worker;
    report.input.metric.target_utilisation = policy.metric_own.target_utilisation;
    // metrics = [...]: every further metric is read too; the core takes the largest proposal.
    for (const auto& entry : policy.more_metrics) {
      MetricReading more = read_metric(entry.spec, deps.metric);
      more.sample.name = entry.name;
      more.sample.units_per_worker = entry.units_per_worker;
      more.sample.target_utilisation = entry.target_utilisation;
      report.metric_source += " + " + more.source;
      report.input.more_metrics.push_back(std::move(more.sample));
    }
  }
  if (!policy.capacity_type.empty()) {
    report.input.capacity = capacity_limit(deps.config, deps.store, policy.capacity_type);
  }
  report.input.now = deps.clock.now();
  report.created_at = report.input.now;
  report.expires_at = report.input.now + policy.plan_ttl;
  report.plan = core::plan_autoscale(report.input);
  return report;
}

void throw_if_failed(const PlanReport& report)
{
  if (report.plan.decision != core::Decision::failed) {
    return;
  }
  throw Error(ExitCode::failure,
              fmt::format("cannot read the metric of policy {} ({}): {}; nothing was changed (on_metric_error = fail; "
                          "set it to \"keep\" or {{ replicas = N }} to carry on without the metric)",
                          report.policy.name, report.metric_source, report.input.metric.error));
}

[[noreturn]] void stale(const std::string& policy, const std::string& why)
{
  throw Error(ExitCode::stale_plan,
              fmt::format("saved plan is stale: {}; nothing was changed; make a new one with `scalectl autoscale plan "
                          "--policy {} --out FILE`",
                          why, policy));
}

// What commit() records besides the change itself.
struct CommitInput {
  std::string policy;
  std::int64_t from = 0;
  std::int64_t to = 0;
  std::vector<std::string> reasons;
  std::optional<std::int64_t> recommendation;
  SystemTime recommended_at;
  std::chrono::milliseconds keep_recommendations{0};
  std::optional<double> metric;
  std::string metric_error;
  std::string metric_source;
};

// Returns `rec` after one apply run: serial bumped, the run, the metric, the recommendation and,
// for a change, the count, the scale event and its cooldown start.
AutoscaleRecord record_run(AutoscaleRecord rec, const CommitInput& c, SystemTime now, bool ok, const std::string& note,
                           const std::string& lineage_candidate)
{
  if (rec.lineage.empty()) {
    rec.lineage = lineage_candidate;
  }
  ++rec.serial;
  rec.last_run_time = now;
  rec.last_desired = c.to;
  rec.last_reasons = c.reasons;
  rec.last_metric_time = now;
  rec.last_metric = c.metric;
  rec.last_metric_error = c.metric_error;
  rec.last_metric_source = c.metric_source;
  if (c.recommendation) {
    rec.history.recommendations = core::record_recommendation(
      rec.history.recommendations, {c.recommended_at, *c.recommendation}, c.keep_recommendations);
  }
  if (ok) {
    rec.replicas = c.to;
  }
  if (c.to != c.from) {
    const bool up = c.to > c.from;
    if (ok) {
      (up ? rec.history.last_scale_up : rec.history.last_scale_down) = now;
    }
    rec.events.push_back({now, c.from, c.to, up ? "up" : "down", ok ? "ok" : "failed", c.reasons, note});
    if (rec.events.size() > k_event_limit) {
      rec.events.erase(rec.events.begin(), rec.events.end() - static_cast<std::ptrdiff_t>(k_event_limit));
    }
  }
  return rec;
}

struct CommitResult {
  std::string note;
  std::int64_t serial = 0;
};

// The single write of `autoscale apply`: changes the target when the count changes, then records
// the run in the state (bumping the serial). Everything before it only reads; --dry-run stops
// before it.
CommitResult commit(AutoscaleDeps& deps, ReplicaTarget& target, state::OperationLock& lock, const CommitInput& c)
{
  if (!lock.still_held()) {
    throw Error(ExitCode::lock_held, fmt::format("lost the lock {} before changing anything; nothing was changed; "
                                                 "rerun the apply",
                                                 autoscale_key(c.policy)));
  }
  const std::string lineage = random_lineage();
  const auto save = [&](bool ok, const std::string& note) {
    const SystemTime now = deps.clock.now();
    const json stored = deps.store.update(autoscale_key(c.policy), [&](const std::optional<json>& old) {
      return record_run(old ? AutoscaleRecord::from_json(*old) : AutoscaleRecord{}, c, now, ok, note, lineage).to_json();
    });
    return stored.value("serial", std::int64_t{0});
  };
  CommitResult result;
  if (c.to != c.from) {
    deps.reporter.step(fmt::format("scaling {} from {} to {}", target.describe(), c.from, c.to));
    try {
      result.note = target.apply(c.to);
    } catch (const std::exception& e) {
      // A target's lock held elsewhere means nothing was changed: like the policy's own lock, it
      // leaves the state (and saved plans) as they were. Failures and interruptions are recorded.
      if (exit_code_of(e) != ExitCode::lock_held) {
        try {
          save(false, e.what());
        } catch (const Error& record_error) {
          deps.reporter.warn(fmt::format("could not record the failed apply: {}", record_error.what()));
        }
      }
      throw;
    }
  }
  try {
    result.serial = save(true, result.note);
  } catch (const Error& e) {
    if (c.to == c.from) {
      throw;
    }
    // Never a half-told failure: name what was submitted (for App Platform, "deployment ID").
    throw Error(e.code(), fmt::format("{} is now at {}{} but the state could not record it: {}; rerunning apply "
                                      "converges (it reads the count again)",
                                      target.describe(), c.to,
                                      result.note.empty() ? std::string() : fmt::format(" ({})", result.note),
                                      e.what()));
  }
  return result;
}

ApplyReport apply_report(const json& plan, std::int64_t from, std::int64_t to, std::string decision,
                         std::vector<std::string> reasons)
{
  ApplyReport out;
  out.plan = plan;
  out.from = from;
  out.to = to;
  out.decision = std::move(decision);
  out.reasons = std::move(reasons);
  return out;
}

}  // namespace

json PlanReport::to_json() const
{
  json stages = json::array();
  for (const auto& s : plan.stages) {
    stages.push_back({{"stage", s.name}, {"from", s.from}, {"to", s.to}, {"reasons", reasons_json(s.reasons)}});
  }
  json capacity = nullptr;
  if (input.capacity) {
    capacity = {{"worker_type", input.capacity->worker_type},
                {"additional_fit", input.capacity->additional_fit},
                {"detail", input.capacity->detail}};
  }
  const auto& t = policy.tuning;
  json tuning = {
    {"enabled", t.enabled},
    {"mode", core::mode_name(t.mode)},
    {"units_per_worker", t.units_per_worker},
    {"min", t.min},
    {"max", t.max},
    {"scale_up_threshold", t.scale_up_threshold},
    {"scale_down_threshold", t.scale_down_threshold},
    {"step", t.step},
    {"target_utilisation", t.target_utilisation},
    {"tolerance", t.tolerance},
    {"scale_up_cooldown_ms", t.scale_up_cooldown.count()},
    {"scale_down_cooldown_ms", t.scale_down_cooldown.count()},
    {"scale_down_stabilization_ms", t.scale_down_stabilization.count()},
    {"max_scale_up", optional_json(t.max_scale_up)},
    {"max_scale_down", optional_json(t.max_scale_down)},
    {"scale_up", rules_json(t.scale_up, t, true)},
    {"scale_down", rules_json(t.scale_down, t, false)},
  };
  return {
    {"policy", policy.name},
    {"policy_digest", policy.digest},
    {"target", {{"kind", policy.target.kind}, {"description", target}}},
    {"settings", tuning},
    {"inputs",
     {{"metric",
       {{"value", input.metric.value ? json(*input.metric.value) : json(nullptr)},
        {"source", metric_source},
        {"error", input.metric.error}}},
      {"current", {{"value", input.current}, {"source", current_source}}},
      {"capacity", capacity},
      {"history",
       {{"recommendations", input.history.recommendations.size()},
        {"last_scale_up", input.history.last_scale_up ? json(format_rfc3339(*input.history.last_scale_up)) : json(nullptr)},
        {"last_scale_down",
         input.history.last_scale_down ? json(format_rfc3339(*input.history.last_scale_down)) : json(nullptr)}}},
      {"now", format_rfc3339(input.now)}}},
    {"utilisation", plan.utilisation ? json(*plan.utilisation) : json(nullptr)},
    {"recommendation", optional_json(plan.recommendation)},
    {"stages", stages},
    {"current", plan.current},
    {"desired", plan.desired},
    {"change", plan.desired - plan.current},
    {"decision", core::decision_name(plan.decision)},
    {"reasons", reasons_json(plan.reasons)},
    {"state", {{"lineage", lineage}, {"serial", serial}}},
    {"created_at", format_rfc3339(created_at)},
    {"expires_at", format_rfc3339(expires_at)},
  };
}

json ApplyReport::to_json() const
{
  return {{"result", to_string(result)}, {"from", from},   {"to", to},         {"decision", decision},
          {"reasons", reasons}, {"note", note}, {"serial", serial}, {"duration_ms", duration.count()},
          {"plan", plan}};
}

PlanReport make_plan(AutoscaleDeps& deps, const PolicyConfig& policy, const PlanOptions& options)
{
  const AutoscaleRecord record = read_record(deps.store, policy.name);
  auto target = make_target(policy.target, target_deps(deps, policy, record, options.current));
  PlanReport report = plan_with(deps, policy, options, record, *target);
  throw_if_failed(report);
  return report;
}

ApplyReport apply_policy(AutoscaleDeps& deps, const PolicyConfig& policy, const PlanOptions& options, bool dry_run)
{
  const auto started = deps.clock.monotonic();
  auto lock = deps.store.lock(autoscale_key(policy.name), deps.owner, deps.wait_lock);
  const AutoscaleRecord record = read_record(deps.store, policy.name);
  auto target = make_target(policy.target, target_deps(deps, policy, record, options.current));
  const PlanReport report = plan_with(deps, policy, options, record, *target);
  throw_if_failed(report);

  ApplyReport out = apply_report(report.to_json(), report.plan.current, report.plan.desired,
                                 core::decision_name(report.plan.decision), reason_texts(report.plan.reasons));
  out.serial = record.serial;
  if (dry_run) {
    out.result = Result::dry_run;
  } else {
    CommitInput c;
    c.policy = policy.name;
    c.from = report.plan.current;
    c.to = report.plan.desired;
    c.reasons = out.reasons;
    c.recommendation = report.plan.recommendation;
    c.recommended_at = report.input.now;
    c.keep_recommendations = policy.tuning.scale_down_stabilization;
    c.metric = report.input.metric.value;
    c.metric_error = report.input.metric.error;
    c.metric_source = report.metric_source;
    const CommitResult done = commit(deps, *target, *lock, c);
    out.result = report.plan.changes() ? Result::changed : Result::noop;
    out.note = done.note;
    out.serial = done.serial;
  }
  out.duration = std::chrono::duration_cast<std::chrono::milliseconds>(deps.clock.monotonic() - started);
  return out;
}

ApplyReport apply_saved_plan(AutoscaleDeps& deps, const PolicyConfig& policy, const SavedPlan& saved, bool dry_run)
{
  const auto started = deps.clock.monotonic();
  auto lock = deps.store.lock(autoscale_key(policy.name), deps.owner, deps.wait_lock);
  const AutoscaleRecord record = read_record(deps.store, policy.name);
  const SystemTime now = deps.clock.now();
  // A saved plan is a file anyone may have edited: its dates and its target are checked again.
  if (saved.created_at > now + std::chrono::minutes(5)) {
    throw usage_error(fmt::format("the plan for policy {} was created at {}, in the future (more than 5m of clock "
                                  "skew); make a new one with `scalectl autoscale plan --policy {} --out FILE`",
                                  policy.name, format_rfc3339(saved.created_at), policy.name));
  }
  if (saved.desired < policy.tuning.min || saved.desired > policy.tuning.max) {
    throw usage_error(fmt::format("the plan for policy {} asks for {} replicas, outside the policy's bounds [{}, {}]; "
                                  "make a new one with `scalectl autoscale plan --policy {} --out FILE`",
                                  policy.name, saved.desired, policy.tuning.min, policy.tuning.max, policy.name));
  }
  if (now >= saved.expires_at) {
    stale(policy.name, fmt::format("it expired at {} (plan_ttl {})", format_rfc3339(saved.expires_at),
                                   format_duration(policy.plan_ttl)));
  }
  if (saved.policy_digest != policy.digest) {
    stale(policy.name, fmt::format("policy {} changed since the plan was made", policy.name));
  }
  // A plan made before the first apply has no lineage; the serial check below covers it.
  if (!saved.lineage.empty() && saved.lineage != record.lineage) {
    stale(policy.name, fmt::format("the state of policy {} was recreated since the plan was made (lineage {} is now "
                                   "{})",
                                   policy.name, saved.lineage, record.lineage.empty() ? "none" : record.lineage));
  }
  if (saved.serial != record.serial) {
    stale(policy.name, fmt::format("another apply ran since the plan was made (serial {} is now {})", saved.serial,
                                   record.serial));
  }
  auto target = make_target(policy.target, target_deps(deps, policy, record, saved.current_override));
  const std::int64_t observed = target->current();
  if (observed != saved.observed) {
    stale(policy.name, fmt::format("{} now has {} replicas; the plan saw {}", target->describe(), observed,
                                   saved.observed));
  }

  ApplyReport out = apply_report(saved.document, saved.observed, saved.desired,
                                 saved.document.value("decision", std::string()), saved.reasons);
  out.serial = record.serial;
  if (dry_run) {
    out.result = Result::dry_run;
  } else {
    const json& metric = saved.document.at("inputs").at("metric");
    CommitInput c;
    c.policy = policy.name;
    c.from = saved.observed;
    c.to = saved.desired;
    c.reasons = saved.reasons;
    c.recommendation = saved.recommendation;
    c.recommended_at = saved.created_at;
    c.keep_recommendations = policy.tuning.scale_down_stabilization;
    if (metric.contains("value") && metric["value"].is_number()) {
      c.metric = metric["value"].get<double>();
    }
    c.metric_error = metric.value("error", "");
    c.metric_source = metric.value("source", "");
    const CommitResult done = commit(deps, *target, *lock, c);
    out.result = saved.desired != saved.observed ? Result::changed : Result::noop;
    out.note = done.note;
    out.serial = done.serial;
  }
  out.duration = std::chrono::duration_cast<std::chrono::milliseconds>(deps.clock.monotonic() - started);
  return out;
}

PolicyStatus policy_status(AutoscaleDeps& deps, const PolicyConfig& policy)
{
  PolicyStatus status;
  status.policy = policy;
  status.record = read_record(deps.store, policy.name);
  status.now = deps.clock.now();
  try {
    auto target = make_target(policy.target, target_deps(deps, policy, status.record, std::nullopt));
    status.target = target->describe();
    status.current = target->current();
  } catch (const Error& e) {
    status.current_error = e.what();
  }
  status.up_cooldown_until = core::cooldown_until(policy.tuning, status.record.history, true);
  status.down_cooldown_until = core::cooldown_until(policy.tuning, status.record.history, false);
  status.lock = deps.store.lock_holder(autoscale_key(policy.name));
  return status;
}

json PolicyStatus::to_json(std::size_t events) const
{
  const auto remaining = [this](const std::optional<SystemTime>& until) {
    if (!until || *until <= now) {
      return json(0);
    }
    return json(std::chrono::ceil<std::chrono::seconds>(*until - now).count());
  };
  const auto time_or_null = [](const std::optional<SystemTime>& t) {
    return t ? json(format_rfc3339(*t)) : json(nullptr);
  };
  json evs = json::array();
  const std::size_t first = record.events.size() > events ? record.events.size() - events : 0;
  for (std::size_t i = first; i < record.events.size(); ++i) {
    evs.push_back(record.events[i].to_json());
  }
  return {
    {"policy", policy.name},
    {"enabled", policy.enabled},
    {"target", {{"kind", policy.target.kind}, {"description", target}}},
    {"current", optional_json(current)},
    {"current_error", current_error},
    {"desired", optional_json(record.last_desired)},
    {"recorded_replicas", optional_json(record.replicas)},
    {"min", policy.tuning.min},
    {"max", policy.tuning.max},
    {"last_run", time_or_null(record.last_run_time)},
    {"last_reasons", record.last_reasons},
    {"last_metric",
     record.last_metric_time
       ? json{{"value", record.last_metric ? json(*record.last_metric) : json(nullptr)},
              {"error", record.last_metric_error},
              {"source", record.last_metric_source},
              {"time", format_rfc3339(*record.last_metric_time)}}
       : json(nullptr)},
    {"cooldown",
     {{"scale_up_until", time_or_null(up_cooldown_until)},
      {"scale_up_remaining_s", remaining(up_cooldown_until)},
      {"scale_down_until", time_or_null(down_cooldown_until)},
      {"scale_down_remaining_s", remaining(down_cooldown_until)}}},
    {"state", {{"lineage", record.lineage}, {"serial", record.serial}}},
    {"lock", lock_holder_json(lock)},
    {"events", evs},
  };
}

}  // namespace scalectl::ops
