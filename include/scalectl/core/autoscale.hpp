#pragma once
// The autoscale decision pipeline, as a pure function: (policy, current count, metric sample,
// persisted history, now, capacity limit) -> plan. Six stages run in order and each one that
// changes the count (or explains it) appends a machine-readable reason:
//   1 recommendation  step or target mode from the metric (or the on_metric_error fallback)
//   2 stabilization   a scale-down goes only to the highest recommendation in the window
//   3 cooldown        no change in a direction until its cooldown since the last scale event
//   4 rate_limit      at most max_scale_up / max_scale_down workers per run
//   5 bounds          clamp to [min, max]
//   6 capacity        never more workers of capacity_type than the capacity pool can fit
// No I/O and no clock: the caller passes `now`, so tests are tables with a fake time.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace scalectl::core {

using AutoscaleTime = std::chrono::system_clock::time_point;

enum class ScaleMode { step, target };

enum class MetricErrorAction {
  fail,      // the plan fails (the command exits 1)
  keep,      // keep the current count
  replicas,  // go to `replicas`, but never below the current count
};

struct MetricErrorPolicy {
  MetricErrorAction action = MetricErrorAction::fail;
  std::int64_t replicas = 0;  // for MetricErrorAction::replicas
};

// How a behaviour rule picks among its rate policies (the HPA's selectPolicy).
enum class SelectPolicy {
  max,       // the policy allowing the largest change
  min,       // the policy allowing the smallest change
  disabled,  // no change in this direction at all
};

// One rate policy: at most `value` pods (or percent of the count at the period's start) per period.
struct RatePolicy {
  enum class Kind { pods, percent };
  Kind kind = Kind::pods;
  std::int64_t value = 1;
  std::chrono::milliseconds period{15'000};
  friend bool operator==(const RatePolicy&, const RatePolicy&) = default;
};

// One direction's behaviour, as configured under [autoscale.policies.NAME.scale_up|scale_down].
struct ScalingRules {
  std::optional<std::chrono::milliseconds> stabilization;  // nullopt: up 0, down scale_down_stabilization
  std::optional<double> tolerance;                         // nullopt: the policy's tolerance
  SelectPolicy select = SelectPolicy::max;
  std::vector<RatePolicy> policies;
  bool configured = false;  // select or policies were set; step mode applies the rules only then
};

// Returns the HPA's documented default scale-up rules: 0s window, 4 pods or 100 % per 15 s, max.
ScalingRules hpa_scale_up_defaults();
// Returns the HPA's documented default scale-down rules: 100 % per 15 s, max (window: 300 s by default).
ScalingRules hpa_scale_down_defaults();

// One policy's tuning, as configured under [autoscale.policies.NAME].
struct AutoscalePolicy {
  bool enabled = true;  // false: every plan keeps the current count (reason Disabled)
  ScaleMode mode = ScaleMode::step;
  double units_per_worker = 0;
  std::int64_t min = 1;
  std::int64_t max = 1;
  double scale_up_threshold = 0.8;    // step: up at utilisation >= this
  double scale_down_threshold = 0.3;  // step: down at utilisation <= this
  std::int64_t step = 1;              // step: workers added or removed per change
  double target_utilisation = 0.7;    // target: utilisation aimed at
  double tolerance = 0.1;             // target: no change while |utilisation/target - 1| <= this
  std::chrono::milliseconds scale_up_cooldown{5 * 60'000};
  std::chrono::milliseconds scale_down_cooldown{10 * 60'000};
  std::chrono::milliseconds scale_down_stabilization{5 * 60'000};
  std::optional<std::int64_t> max_scale_up;    // nullopt: unlimited
  std::optional<std::int64_t> max_scale_down;  // nullopt: unlimited
  MetricErrorPolicy on_metric_error;
  ScalingRules scale_up = hpa_scale_up_defaults();
  ScalingRules scale_down = hpa_scale_down_defaults();
};

// Returns why `policy` cannot be used (naming the key and what to do), or nullopt when valid.
std::optional<std::string> validate_policy(const AutoscalePolicy& policy);

// One recommendation of stage 1, kept in the state for stabilization.
struct Recommendation {
  AutoscaleTime time;
  std::int64_t replicas = 0;
  friend bool operator==(const Recommendation&, const Recommendation&) = default;
};

// One applied change of the worker count, kept in the state for the rate policies' periods.
struct ScaleEvent {
  AutoscaleTime time;
  std::int64_t from = 0;
  std::int64_t to = 0;
};

// What earlier runs left in the state store.
struct AutoscaleHistory {
  std::vector<Recommendation> recommendations;   // oldest first
  std::vector<ScaleEvent> events;                // applied changes, oldest first
  std::optional<AutoscaleTime> last_scale_up;    // time of the last applied scale-up
  std::optional<AutoscaleTime> last_scale_down;  // time of the last applied scale-down
};

// The metric as read: a value, or why it could not be read.
struct MetricSample {
  std::optional<double> value;
  std::string error;  // set when value is nullopt
  std::string name;   // for the reasons of a policy with several metrics; may be empty
  std::optional<double> units_per_worker;    // nullopt: the policy's
  std::optional<double> target_utilisation;  // nullopt: the policy's
};

// How many more workers of the policy's capacity_type the capacity pool can fit right now.
struct CapacityLimit {
  std::string worker_type;
  std::int64_t additional_fit = 0;  // workers that fit next to the live leases
  std::string detail;               // why not one more, e.g. "Insufficient CPU (need 3, available 1.4)"
};

struct PlanInput {
  AutoscalePolicy policy;
  std::int64_t current = 0;
  MetricSample metric;
  std::vector<MetricSample> more_metrics;  // metrics = [...] beyond the first; the proposal is the largest
  AutoscaleHistory history;
  AutoscaleTime now;
  std::optional<CapacityLimit> capacity;  // nullopt: no capacity_type
};

// A machine-readable reason code with a human detail, e.g. {"InCooldown", "until 2026-...Z"}.
struct Reason {
  std::string code;
  std::string detail;

  // Returns "code detail" (or just the code when there is no detail).
  std::string text() const;
  friend bool operator==(const Reason&, const Reason&) = default;
};

// One stage of the pipeline: the count before and after it and why it changed (if it did).
struct PlanStage {
  std::string name;  // "recommendation", "stabilization", "cooldown", "rate_limit", "bounds", "capacity"
  std::int64_t from = 0;
  std::int64_t to = 0;
  std::vector<Reason> reasons;
};

enum class Decision { scale_up, scale_down, no_change, failed };

struct Plan {
  std::int64_t current = 0;
  std::int64_t desired = 0;
  std::optional<double> utilisation;     // metric / (current * units_per_worker); nullopt without a metric
  std::optional<std::int64_t> recommendation;  // stage 1's result, recorded for stabilization; nullopt without a metric
  Decision decision = Decision::no_change;
  std::vector<PlanStage> stages;  // every stage that ran, in order
  std::vector<Reason> reasons;    // every stage's reasons in order, then the outcome; never empty

  bool changes() const { return desired != current; }
};

// Runs the six stages and returns the plan. With an unreadable metric the plan never scales
// down; with on_metric_error = fail it has Decision::failed and desired == current.
Plan plan_autoscale(const PlanInput& input);

// Returns `history` with `recommendation` appended and entries older than `keep` dropped
// (the newest `limit` at most), as the state keeps it between runs.
std::vector<Recommendation> record_recommendation(std::vector<Recommendation> history, Recommendation recommendation,
                                                  std::chrono::milliseconds keep, std::size_t limit = 256);

// Returns when the cooldown for a change in direction `up` ends, or nullopt when none applies.
// Both cooldowns count from the last scale event in either direction.
std::optional<AutoscaleTime> cooldown_until(const AutoscalePolicy& policy, const AutoscaleHistory& history,
                                            bool up);

// Returns the largest count the rules allow from `current` (up) or the smallest (down), counting
// the changes in `events` inside each policy's period before `now` (the HPA's rate policies).
std::int64_t behaviour_limit(const ScalingRules& rules, bool up, std::int64_t current,
                             const std::vector<ScaleEvent>& events, AutoscaleTime now);

// Returns the stable name of a select policy: "max", "min", "disabled".
const char* select_name(SelectPolicy select);

// Returns the stable name of a decision: "scale_up", "scale_down", "no_change", "failed".
const char* decision_name(Decision decision);
// Returns the stable name of a mode: "step" or "target".
const char* mode_name(ScaleMode mode);

}  // namespace scalectl::core
