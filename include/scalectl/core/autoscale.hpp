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
};

// Returns why `policy` cannot be used (naming the key and what to do), or nullopt when valid.
std::optional<std::string> validate_policy(const AutoscalePolicy& policy);

// One recommendation of stage 1, kept in the state for stabilization.
struct Recommendation {
  AutoscaleTime time;
  std::int64_t replicas = 0;
  friend bool operator==(const Recommendation&, const Recommendation&) = default;
};

// What earlier runs left in the state store.
struct AutoscaleHistory {
  std::vector<Recommendation> recommendations;   // oldest first
  std::optional<AutoscaleTime> last_scale_up;    // time of the last applied scale-up
  std::optional<AutoscaleTime> last_scale_down;  // time of the last applied scale-down
};

// The metric as read: a value, or why it could not be read.
struct MetricSample {
  std::optional<double> value;
  std::string error;  // set when value is nullopt
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

// Returns the stable name of a decision: "scale_up", "scale_down", "no_change", "failed".
const char* decision_name(Decision decision);
// Returns the stable name of a mode: "step" or "target".
const char* mode_name(ScaleMode mode);

}  // namespace scalectl::core
