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

// The per-metric settings of target mode: the metric's own, else the policy's.
struct TargetOf {
  double units = 0;
  double target = 0;
};

TargetOf target_of(const AutoscalePolicy& policy, const MetricSample& sample)
{
  return {sample.units_per_worker.value_or(policy.units_per_worker),
          sample.target_utilisation.value_or(policy.target_utilisation)};
}

std::int64_t recommend_target(const AutoscalePolicy& policy, const TargetOf& t, double metric, std::int64_t current,
                              std::vector<Reason>& reasons)
{
  const double per_worker = t.units * t.target;
  if (current > 0) {
    // Separate tolerances up and down, as the HPA's behaviour allows; a scale-up tolerance may exceed 1.
    const double up_tolerance = policy.scale_up.tolerance.value_or(policy.tolerance);
    const double down_tolerance = policy.scale_down.tolerance.value_or(policy.tolerance);
    const double u = utilisation_at(metric, current, t.units);
    const double ratio = u / t.target;
    if (ratio <= 1.0 + up_tolerance + k_epsilon && ratio >= 1.0 - down_tolerance - k_epsilon) {
      const std::string band = up_tolerance == down_tolerance
                                 ? percent(up_tolerance)
                                 : fmt::format("+{}/-{}", percent(up_tolerance), percent(down_tolerance));
      reasons.push_back({"WithinTolerance", fmt::format("utilisation {} is within {} of the {} target", percent(u),
                                                        band, percent(t.target))});
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
                                      percent(t.target));
  if (needed > current) {
    reasons.push_back({"AboveTarget", why});
    return needed;
  }
  if (needed < current) {
    // No step-mode overload guard here: the target itself says how busy a worker may be, as in the HPA.
    reasons.push_back({"BelowTarget", why});
    return needed;
  }
  reasons.push_back({"AtTarget", why});
  return current;
}

// Stage 1 for one readable metric.
std::int64_t recommend_one(const AutoscalePolicy& policy, const MetricSample& sample, std::int64_t current,
                           std::vector<Reason>& reasons)
{
  const double metric = std::max(0.0, *sample.value);
  if (policy.mode == ScaleMode::step) {
    AutoscalePolicy own = policy;
    own.units_per_worker = target_of(policy, sample).units;
    return recommend_step(own, metric, current, reasons);
  }
  return recommend_target(policy, target_of(policy, sample), metric, current, reasons);
}

// Whether any metric of the plan could be read.
bool any_metric_read(const PlanInput& input)
{
  if (input.metric.value) {
    return true;
  }
  return std::ranges::any_of(input.more_metrics, [](const MetricSample& m) { return m.value.has_value(); });
}

// Whether every metric of the plan could be read.
bool all_metrics_read(const PlanInput& input)
{
  if (!input.metric.value) {
    return false;
  }
  return std::ranges::all_of(input.more_metrics, [](const MetricSample& m) { return m.value.has_value(); });
}

// Stage 1 with several metrics, at least one readable: the largest proposal; with a metric
// missing only a scale-up (the HPA's rule).
std::int64_t recommend_several(const PlanInput& input, std::vector<Reason>& reasons)
{
  std::vector<const MetricSample*> all{&input.metric};
  for (const auto& m : input.more_metrics) {
    all.push_back(&m);
  }
  std::int64_t proposal = -1;
  std::vector<std::string> failed;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const MetricSample& m = *all[i];
    const std::string label = m.name.empty() ? fmt::format("metric {}", i + 1) : m.name;
    if (!m.value) {
      failed.push_back(fmt::format("{}: {}", label, m.error.empty() ? "no value" : m.error));
      continue;
    }
    std::vector<Reason> own;
    const std::int64_t r = recommend_one(input.policy, m, input.current, own);
    for (auto& reason : own) {
      reason.detail = label + ": " + reason.detail;
      reasons.push_back(std::move(reason));
    }
    proposal = std::max(proposal, r);
  }
  if (!failed.empty()) {
    std::string joined;
    for (const auto& f : failed) {
      joined += (joined.empty() ? "" : "; ") + f;
    }
    reasons.push_back({"MetricUnavailable", joined});
    if (proposal <= input.current) {
      reasons.push_back({"NoScaleDownWithoutMetric",
                         fmt::format("keeping {} until every metric can be read", workers(input.current))});
      return input.current;
    }
  }
  return proposal;
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
  const auto& policy = input.policy;
  const auto up_window = policy.scale_up.stabilization.value_or(std::chrono::milliseconds{0});
  const auto down_window = policy.scale_down.stabilization.value_or(policy.scale_down_stabilization);
  // The HPA's rule: a scale-up goes only to the lowest recommendation of the up window, a
  // scale-down only to the highest of the down window, both counting the new one.
  std::int64_t lowest = recommended;
  std::int64_t highest = recommended;
  std::optional<AutoscaleTime> low_when;
  std::optional<AutoscaleTime> high_when;
  for (const auto& r : input.history.recommendations) {
    // Later entries than now: another host's clock; they count.
    if (up_window.count() > 0 && r.time >= input.now - up_window && r.replicas < lowest) {
      lowest = r.replicas;
      low_when = r.time;
    }
    if (r.time >= input.now - down_window && r.replicas > highest) {
      highest = r.replicas;
      high_when = r.time;
    }
  }
  std::int64_t stabilized = input.current;
  if (stabilized < lowest) {
    stabilized = lowest;
  }
  if (stabilized > highest) {
    stabilized = highest;
  }
  if (recommended > input.current && stabilized != recommended && low_when) {
    reasons.push_back({"ScaleUpStabilized", fmt::format("the lowest recommendation in the last {} was {} at {}",
                                                        format_duration(up_window), lowest, format_rfc3339(*low_when))});
  } else if (recommended < input.current && stabilized != recommended && high_when) {
    reasons.push_back({"ScaleDownStabilized",
                       fmt::format("the highest recommendation in the last {} was {} at {}",
                                   format_duration(down_window), highest, format_rfc3339(*high_when))});
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

std::string policies_text(const ScalingRules& rules)
{
  std::string out;
  for (const auto& p : rules.policies) {
    out += (out.empty() ? "" : ", ") +
           fmt::format("{}{} per {}", p.value, p.kind == RatePolicy::Kind::pods ? " pods" : "%",
                       format_duration(p.period));
  }
  return fmt::format("{} (select {})", out.empty() ? std::string("no policies") : out, select_name(rules.select));
}

// The tighter of the behaviour rules and max_scale_up/max_scale_down, with one reason.
std::int64_t apply_rate_limits(const PlanInput& input, std::int64_t desired, std::vector<Reason>& reasons)
{
  const auto& policy = input.policy;
  if (desired == input.current) {
    return desired;
  }
  const bool up = desired > input.current;
  const ScalingRules& rules = up ? policy.scale_up : policy.scale_down;
  const char* name = up ? "scale_up" : "scale_down";
  // Step mode keeps seed 004's behaviour: the HPA's default rate policies apply in target mode,
  // and in step mode only when configured.
  const bool use_rules = policy.mode == ScaleMode::target || rules.configured;
  std::int64_t limit = use_rules ? behaviour_limit(rules, up, input.current, input.history.events, input.now)
                                 : (up ? std::numeric_limits<std::int64_t>::max() : 0);
  std::string code = rules.select == SelectPolicy::disabled ? (up ? "ScaleUpDisabled" : "ScaleDownDisabled")
                                                            : (up ? "ScaleUpLimit" : "ScaleDownLimit");
  std::string detail = rules.select == SelectPolicy::disabled
                         ? fmt::format("{}.select = \"disabled\"", name)
                         : fmt::format("{} allows {} {}: {}", name, up ? "at most" : "at least", limit,
                                       policies_text(rules));
  const auto& per_run = up ? policy.max_scale_up : policy.max_scale_down;
  if (per_run) {
    const std::int64_t run_limit = up ? input.current + *per_run : input.current - *per_run;
    if (up ? run_limit < limit : run_limit > limit) {
      limit = run_limit;
      code = up ? "ScaleUpLimit" : "ScaleDownLimit";
      detail = fmt::format("at most {} {} per run ({})", *per_run, up ? "added" : "removed",
                           up ? "max_scale_up" : "max_scale_down");
    }
  }
  if (up ? desired > limit : desired < limit) {
    reasons.push_back({code, detail});
    return limit;
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
  if (!all_metrics_read(input) && desired < input.current) {
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
  for (const bool up : {true, false}) {
    const ScalingRules& rules = up ? policy.scale_up : policy.scale_down;
    const char* name = up ? "scale_up" : "scale_down";
    if (rules.tolerance) {
      const double t = *rules.tolerance;
      const double top = up ? 100.0 : 1.0;
      if (!(t >= 0 && t < top)) {
        return fmt::format("{}.tolerance must be at least 0 and below {}, not {}", name, top, t);
      }
    }
    if (rules.stabilization && (rules.stabilization->count() < 0 || *rules.stabilization > std::chrono::hours{1})) {
      return fmt::format("{}.stabilization must be between 0s and 1h (the HPA's bound), not {}", name,
                         format_duration(*rules.stabilization));
    }
    if (rules.select != SelectPolicy::disabled && rules.policies.empty()) {
      return fmt::format("{}.policies must hold at least one policy unless select = \"disabled\"", name);
    }
    for (const auto& p : rules.policies) {
      if (p.value < 1 || p.value > 1'000'000) {
        return fmt::format("{}.policies: pods and percent must be between 1 and 1000000, not {}", name, p.value);
      }
      if (p.period < std::chrono::seconds{1} || p.period > std::chrono::minutes{30}) {
        return fmt::format("{}.policies: period must be between 1s and 30m (the HPA's bound), not {}", name,
                           format_duration(p.period));
      }
    }
  }
  return std::nullopt;
}

ScalingRules hpa_scale_up_defaults()
{
  ScalingRules rules;
  rules.select = SelectPolicy::max;
  rules.policies = {{RatePolicy::Kind::pods, 4, std::chrono::seconds{15}},
                    {RatePolicy::Kind::percent, 100, std::chrono::seconds{15}}};
  return rules;
}

ScalingRules hpa_scale_down_defaults()
{
  ScalingRules rules;
  rules.select = SelectPolicy::max;
  rules.policies = {{RatePolicy::Kind::percent, 100, std::chrono::seconds{15}}};
  return rules;
}

std::int64_t behaviour_limit(const ScalingRules& rules, bool up, std::int64_t current,
                             const std::vector<ScaleEvent>& events, AutoscaleTime now)
{
  if (rules.select == SelectPolicy::disabled) {
    return current;
  }
  // "max" picks the policy allowing the largest change: the highest limit up, the lowest down.
  const bool take_highest = (rules.select == SelectPolicy::max) == up;
  std::optional<std::int64_t> result;
  for (const auto& p : rules.policies) {
    std::int64_t added = 0;
    std::int64_t removed = 0;
    for (const auto& e : events) {
      if (e.time > now - p.period) {
        (e.to > e.from ? added : removed) += std::abs(e.to - e.from);
      }
    }
    const std::int64_t start = std::max<std::int64_t>(0, current - added + removed);
    std::int64_t proposed = 0;
    if (p.kind == RatePolicy::Kind::pods) {
      proposed = up ? start + p.value : start - p.value;
    } else {
      const double factor = up ? 1.0 + static_cast<double>(p.value) / 100.0 : 1.0 - static_cast<double>(p.value) / 100.0;
      const double exact = static_cast<double>(start) * factor;
      // Up rounds up so a small count can still grow; down rounds down (toward a larger removal).
      proposed = static_cast<std::int64_t>(std::clamp(up ? std::ceil(exact - k_epsilon) : std::floor(exact + k_epsilon),
                                                      -1e15, 1e15));
    }
    result = !result ? proposed : (take_highest ? std::max(*result, proposed) : std::min(*result, proposed));
  }
  const std::int64_t limit = result.value_or(current);
  // A limit never turns into a change in the other direction.
  return up ? std::max(limit, current) : std::min(limit, current);
}

const char* select_name(SelectPolicy select)
{
  switch (select) {
  case SelectPolicy::max:
    return "max";
  case SelectPolicy::min:
    return "min";
  case SelectPolicy::disabled:
    return "disabled";
  }
  return "unknown";
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
    if (input.metric.value && input.current > 0) {
      plan.utilisation = utilisation_at(std::max(0.0, *input.metric.value), input.current,
                                        target_of(input.policy, input.metric).units);
    }
    if (!input.more_metrics.empty() && any_metric_read(input)) {
      desired = recommend_several(input, reasons);
      plan.recommendation = desired;
      return desired;
    }
    if (input.metric.value) {
      desired = recommend_one(input.policy, input.metric, input.current, reasons);
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
    return any_metric_read(input) ? stabilize(input, desired, r) : desired;
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
