#include <scalectl/core/autoscale.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include <scalectl/clock.hpp>
#include <scalectl/core/numeric.hpp>
#include <scalectl/duration.hpp>

namespace scalectl::core {

namespace {

// Utilisations are compared with a tolerance so that 1200 / 4000 counts as exactly 30 %.
constexpr double k_epsilon = 1e-9;

std::string percent(double fraction)
{
  std::string text = fmt::format("{:.1f}", fraction * 100.0);
  if (text.ends_with(".0")) {
    text.resize(text.size() - 2);
  }
  return text + "%";
}

std::string count_text(double value)
{
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
    return fmt::format("{}", static_cast<std::int64_t>(value));
  }
  return fmt::format("{:g}", value);
}

std::string workers(std::int64_t n)
{
  return fmt::format("{} worker{}", n, n == 1 ? "" : "s");
}

// Returns metric / (count * units): +inf for work with no workers, 0 for no work.
double utilisation_at(double metric, std::int64_t count, double units)
{
  if (metric <= 0) {
    return 0.0;
  }
  if (count <= 0) {
    return std::numeric_limits<double>::infinity();
  }
  return metric / (static_cast<double>(count) * units);
}

// Raises a scale-down target until its utilisation stays below the up threshold, so that the
// next run does not scale straight back up. Returns the (possibly raised) target.
std::int64_t guard_scale_down(const AutoscalePolicy& policy, double metric, std::int64_t current, std::int64_t target,
                              std::vector<Reason>& reasons)
{
  const std::int64_t wanted = target;
  while (target < current &&
         utilisation_at(metric, target, policy.units_per_worker) >= policy.scale_up_threshold - k_epsilon) {
    ++target;
  }
  if (target != wanted) {
    const double at = utilisation_at(metric, wanted, policy.units_per_worker);
    reasons.push_back({"ScaleDownWouldOverload",
                       fmt::format("{} would run at {} >= the {} scale-up threshold; keeping {}", workers(wanted),
                                   std::isfinite(at) ? percent(at) : std::string("an infinite utilisation"),
                                   percent(policy.scale_up_threshold), workers(target))});
  }
  return target;
}

std::int64_t recommend_step(const AutoscalePolicy& policy, double metric, std::int64_t current,
                            std::vector<Reason>& reasons)
{
  const double u = utilisation_at(metric, current, policy.units_per_worker);
  const std::string u_text = std::isfinite(u) ? fmt::format("utilisation {}", percent(u))
                                              : fmt::format("a metric of {} with no workers", count_text(metric));
  if (u >= policy.scale_up_threshold - k_epsilon) {
    reasons.push_back({"ScaleUpThreshold", fmt::format("{} >= {}", u_text, percent(policy.scale_up_threshold))});
    return current + policy.step;
  }
  if (u <= policy.scale_down_threshold + k_epsilon) {
    reasons.push_back({"ScaleDownThreshold", fmt::format("{} <= {}", u_text, percent(policy.scale_down_threshold))});
    return guard_scale_down(policy, metric, current, std::max<std::int64_t>(current - policy.step, 0), reasons);
  }
  reasons.push_back({"WithinThresholds", fmt::format("{} is between {} and {}", u_text,
                                                     percent(policy.scale_down_threshold),
                                                     percent(policy.scale_up_threshold))});
  return current;
}

std::int64_t recommend_target(const AutoscalePolicy& policy, double metric, std::int64_t current,
                              std::vector<Reason>& reasons)
{
  const double per_worker = policy.units_per_worker * policy.target_utilisation;
  if (current > 0) {
    const double u = utilisation_at(metric, current, policy.units_per_worker);
    const double ratio = u / policy.target_utilisation;
    if (std::fabs(ratio - 1.0) <= policy.tolerance + k_epsilon) {
      reasons.push_back({"WithinTolerance", fmt::format("utilisation {} is within {} of the {} target",
                                                        percent(u), percent(policy.tolerance),
                                                        percent(policy.target_utilisation))});
      return current;
    }
  }
  const double exact = metric / per_worker;
  // Clamped as a double first: a metric of 1e308 or units_per_worker of 1e-300 gives a ceil() far
  // past INT64_MAX (or inf/NaN), and casting that is undefined behaviour. The bounds stage later
  // brings the recommendation down to max and says so.
  const double ceiling = std::ceil(exact - k_epsilon);
  const double upper = static_cast<double>(std::max<std::int64_t>({policy.max, current, k_max_amount}));
  const auto needed = static_cast<std::int64_t>(std::isnan(ceiling) ? static_cast<double>(current)
                                                                   : std::clamp(ceiling, 0.0, upper));
  const std::string why = fmt::format("a metric of {} needs {} at the {} target", count_text(metric), workers(needed),
                                      percent(policy.target_utilisation));
  if (needed > current) {
    reasons.push_back({"AboveTarget", why});
    return needed;
  }
  if (needed < current) {
    reasons.push_back({"BelowTarget", why});
    return guard_scale_down(policy, metric, current, needed, reasons);
  }
  reasons.push_back({"AtTarget", why});
  return current;
}

// Stage 1 with an unreadable metric. Returns nullopt when the plan fails.
std::optional<std::int64_t> recommend_without_metric(const PlanInput& input, std::vector<Reason>& reasons)
{
  reasons.push_back({"MetricUnavailable", input.metric.error.empty() ? "no value" : input.metric.error});
  const auto& fallback = input.policy.on_metric_error;
  switch (fallback.action) {
  case MetricErrorAction::fail:
    return std::nullopt;
  case MetricErrorAction::keep:
    reasons.push_back({"MetricErrorKeep", fmt::format("keeping {} (on_metric_error = keep)", workers(input.current))});
    return input.current;
  case MetricErrorAction::replicas:
    if (fallback.replicas > input.current) {
      reasons.push_back({"MetricErrorReplicas", fmt::format("on_metric_error replicas = {}", fallback.replicas)});
      return fallback.replicas;
    }
    reasons.push_back({"MetricErrorReplicas",
                       fmt::format("on_metric_error replicas = {} is not above the current {}; keeping {} (never "
                                   "scaling down without a metric)",
                                   fallback.replicas, input.current, workers(input.current))});
    return input.current;
  }
  return std::nullopt;
}

std::int64_t stabilize(const PlanInput& input, std::int64_t recommended, std::vector<Reason>& reasons)
{
  if (recommended >= input.current) {
    return recommended;
  }
  const AutoscaleTime window_start = input.now - input.policy.scale_down_stabilization;
  std::int64_t highest = recommended;
  std::optional<AutoscaleTime> when;
  for (const auto& r : input.history.recommendations) {
    if (r.time >= window_start && r.replicas > highest) {  // later entries: another host's clock
      highest = r.replicas;
      when = r.time;
    }
  }
  const std::int64_t stabilized = std::min(highest, input.current);
  if (stabilized != recommended && when) {
    reasons.push_back({"ScaleDownStabilized",
                       fmt::format("the highest recommendation in the last {} was {} at {}",
                                   format_duration(input.policy.scale_down_stabilization), highest,
                                   format_rfc3339(*when))});
  }
  return stabilized;
}

std::int64_t apply_cooldown(const PlanInput& input, std::int64_t desired, std::vector<Reason>& reasons)
{
  if (desired == input.current) {
    return desired;
  }
  const bool up = desired > input.current;
  const auto until = cooldown_until(input.policy, input.history, up);
  if (!until || input.now >= *until) {
    return desired;
  }
  reasons.push_back({"InCooldown", fmt::format("until {} ({} {} since the last scale event)", format_rfc3339(*until),
                                               up ? "scale_up_cooldown" : "scale_down_cooldown",
                                               format_duration(up ? input.policy.scale_up_cooldown
                                                                  : input.policy.scale_down_cooldown))});
  return input.current;
}

std::int64_t apply_rate_limits(const PlanInput& input, std::int64_t desired, std::vector<Reason>& reasons)
{
  const auto& policy = input.policy;
  if (policy.max_scale_up && desired > input.current + *policy.max_scale_up) {
    reasons.push_back({"ScaleUpLimit", fmt::format("at most {} added per run (max_scale_up)", *policy.max_scale_up)});
    return input.current + *policy.max_scale_up;
  }
  if (policy.max_scale_down && desired < input.current - *policy.max_scale_down) {
    reasons.push_back(
      {"ScaleDownLimit", fmt::format("at most {} removed per run (max_scale_down)", *policy.max_scale_down)});
    return input.current - *policy.max_scale_down;
  }
  return desired;
}

std::int64_t apply_bounds(const PlanInput& input, std::int64_t desired, std::vector<Reason>& reasons)
{
  const auto& policy = input.policy;
  if (desired < policy.min) {
    reasons.push_back({"TooFewReplicas", fmt::format("{} is below min {}", desired, policy.min)});
    desired = policy.min;
  } else if (desired > policy.max) {
    reasons.push_back({"TooManyReplicas", fmt::format("{} is above max {}", desired, policy.max)});
    desired = policy.max;
  }
  if (!input.metric.value && desired < input.current) {
    reasons.push_back({"NoScaleDownWithoutMetric",
                       fmt::format("keeping {} until the metric can be read", workers(input.current))});
    desired = input.current;
  }
  return desired;
}

std::int64_t apply_capacity(const PlanInput& input, std::int64_t desired, std::vector<Reason>& reasons)
{
  if (!input.capacity || desired <= input.current) {
    return desired;
  }
  const auto& capacity = *input.capacity;
  const std::int64_t limit = input.current + std::max<std::int64_t>(0, capacity.additional_fit);
  if (desired <= limit) {
    return desired;
  }
  reasons.push_back({"CapacityLimit",
                     fmt::format("only {} more {} worker{} fit{}", std::max<std::int64_t>(0, capacity.additional_fit),
                                 capacity.worker_type, capacity.additional_fit == 1 ? "" : "s",
                                 capacity.detail.empty() ? std::string() : ": " + capacity.detail)});
  return limit;
}

}  // namespace

std::string Reason::text() const
{
  return detail.empty() ? code : code + " " + detail;
}

std::optional<std::string> validate_policy(const AutoscalePolicy& policy)
{
  if (!(policy.units_per_worker > 0) || !std::isfinite(policy.units_per_worker)) {
    return fmt::format("units_per_worker must be a number above 0, not {}", policy.units_per_worker);
  }
  if (policy.min < 0) {
    return fmt::format("min must be 0 or more, not {}", policy.min);
  }
  if (policy.max < 1 || policy.max < policy.min) {
    return fmt::format("max ({}) must be at least 1 and at least min ({})", policy.max, policy.min);
  }
  if (!(policy.scale_down_threshold >= 0) || !(policy.scale_up_threshold > 0)) {
    return "scale_up_threshold must be above 0 and scale_down_threshold 0 or more";
  }
  if (!(policy.scale_down_threshold < policy.scale_up_threshold)) {
    return fmt::format("scale_down_threshold ({}) must be below scale_up_threshold ({}), or every run would flap",
                       policy.scale_down_threshold, policy.scale_up_threshold);
  }
  if (policy.step < 1) {
    return fmt::format("step must be 1 or more, not {}", policy.step);
  }
  if (!(policy.target_utilisation > 0) || !std::isfinite(policy.target_utilisation)) {
    return fmt::format("target_utilisation must be above 0, not {}", policy.target_utilisation);
  }
  if (!(policy.tolerance >= 0 && policy.tolerance < 1)) {
    return fmt::format("tolerance must be at least 0 and below 1, not {}", policy.tolerance);
  }
  if (policy.max_scale_up && *policy.max_scale_up < 1) {
    return fmt::format("max_scale_up must be 1 or more, not {}", *policy.max_scale_up);
  }
  if (policy.max_scale_down && *policy.max_scale_down < 1) {
    return fmt::format("max_scale_down must be 1 or more, not {}", *policy.max_scale_down);
  }
  if (policy.on_metric_error.action == MetricErrorAction::replicas && policy.on_metric_error.replicas < 0) {
    return fmt::format("on_metric_error replicas must be 0 or more, not {}", policy.on_metric_error.replicas);
  }
  return std::nullopt;
}

std::optional<AutoscaleTime> cooldown_until(const AutoscalePolicy& policy, const AutoscaleHistory& history, bool up)
{
  std::optional<AutoscaleTime> last = history.last_scale_up;
  if (history.last_scale_down && (!last || *history.last_scale_down > *last)) {
    last = history.last_scale_down;
  }
  if (!last) {
    return std::nullopt;
  }
  return *last + (up ? policy.scale_up_cooldown : policy.scale_down_cooldown);
}

Plan plan_autoscale(const PlanInput& input)
{
  Plan plan;
  plan.current = input.current;
  plan.desired = input.current;

  auto run_stage = [&](const char* name, std::int64_t from, auto&& stage) {
    PlanStage s;
    s.name = name;
    s.from = from;
    s.to = stage(s.reasons);
    plan.reasons.insert(plan.reasons.end(), s.reasons.begin(), s.reasons.end());
    plan.stages.push_back(std::move(s));
    return plan.stages.back().to;
  };

  // Stage 1: the raw recommendation.
  std::int64_t desired = input.current;
  bool failed = false;
  run_stage("recommendation", input.current, [&](std::vector<Reason>& reasons) {
    if (!input.policy.enabled) {
      reasons.push_back({"Disabled", "the policy has enabled = false"});
      return input.current;
    }
    if (input.metric.value) {
      const double metric = std::max(0.0, *input.metric.value);
      if (input.current > 0) {
        plan.utilisation = utilisation_at(metric, input.current, input.policy.units_per_worker);
      }
      desired = input.policy.mode == ScaleMode::step ? recommend_step(input.policy, metric, input.current, reasons)
                                                     : recommend_target(input.policy, metric, input.current, reasons);
      plan.recommendation = desired;
      return desired;
    }
    const auto fallback = recommend_without_metric(input, reasons);
    failed = !fallback;
    desired = fallback.value_or(input.current);
    return desired;
  });
  if (failed) {
    plan.decision = Decision::failed;
    return plan;
  }
  if (!input.policy.enabled) {
    plan.reasons.push_back({"NoChange", fmt::format("stays at {}", workers(input.current))});
    return plan;
  }

  // Stages 2-6.
  desired = run_stage("stabilization", desired, [&](std::vector<Reason>& r) {
    return input.metric.value ? stabilize(input, desired, r) : desired;
  });
  desired = run_stage("cooldown", desired, [&](std::vector<Reason>& r) { return apply_cooldown(input, desired, r); });
  desired = run_stage("rate_limit", desired, [&](std::vector<Reason>& r) { return apply_rate_limits(input, desired, r); });
  desired = run_stage("bounds", desired, [&](std::vector<Reason>& r) { return apply_bounds(input, desired, r); });
  desired = run_stage("capacity", desired, [&](std::vector<Reason>& r) { return apply_capacity(input, desired, r); });

  plan.desired = desired;
  if (desired > input.current) {
    plan.decision = Decision::scale_up;
    plan.reasons.push_back({"ScaleUp", fmt::format("{} -> {}", input.current, desired)});
  } else if (desired < input.current) {
    plan.decision = Decision::scale_down;
    plan.reasons.push_back({"ScaleDown", fmt::format("{} -> {}", input.current, desired)});
  } else {
    plan.decision = Decision::no_change;
    plan.reasons.push_back({"NoChange", fmt::format("stays at {}", workers(desired))});
  }
  return plan;
}

std::vector<Recommendation> record_recommendation(std::vector<Recommendation> history, Recommendation recommendation,
                                                  std::chrono::milliseconds keep, std::size_t limit)
{
  history.push_back(recommendation);
  const AutoscaleTime oldest = recommendation.time - keep;
  std::erase_if(history, [&](const Recommendation& r) { return r.time < oldest; });
  if (history.size() > limit) {
    history.erase(history.begin(), history.end() - static_cast<std::ptrdiff_t>(limit));
  }
  return history;
}

const char* decision_name(Decision decision)
{
  switch (decision) {
  case Decision::scale_up:
    return "scale_up";
  case Decision::scale_down:
    return "scale_down";
  case Decision::no_change:
    return "no_change";
  case Decision::failed:
    return "failed";
  }
  return "unknown";
}

const char* mode_name(ScaleMode mode)
{
  return mode == ScaleMode::step ? "step" : "target";
}

}  // namespace scalectl::core
