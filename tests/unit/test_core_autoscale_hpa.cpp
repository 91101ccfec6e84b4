// Cases taken from the Kubernetes HPA controller's own tests (replica_calculator_test.go and
// horizontal_test.go), each named after the test it comes from, restated in scalectl's terms:
// a metric total, units per worker and a target utilisation.
//   Utilization (Resource) target: units_per_worker = the pod request, target = the utilisation.
//   AverageValue / Pods target:    units_per_worker = the per-pod target, target = 1.0.
//   Value (Object) target:         units_per_worker = the target value / current replicas, target = 1.0.

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include <scalectl/core/autoscale.hpp>

using namespace scalectl::core;
using namespace std::chrono_literals;

namespace {

const AutoscaleTime k_now = std::chrono::sys_days{std::chrono::year{2026} / 3 / 1};

// Target mode with the HPA's defaults and no scalectl cooldowns.
AutoscalePolicy hpa_policy(double units, double target, std::int64_t min = 1, std::int64_t max = 100)
{
  AutoscalePolicy p;
  p.mode = ScaleMode::target;
  p.units_per_worker = units;
  p.target_utilisation = target;
  p.min = min;
  p.max = max;
  p.scale_up_cooldown = 0ms;
  p.scale_down_cooldown = 0ms;
  p.scale_down_stabilization = 0ms;
  return p;
}

Plan run(const AutoscalePolicy& policy, std::int64_t current, double metric, AutoscaleHistory history = {})
{
  PlanInput in;
  in.policy = policy;
  in.current = current;
  in.metric.value = metric;
  in.history = std::move(history);
  in.now = k_now;
  return plan_autoscale(in);
}

}  // namespace

TEST_SUITE("core.autoscale.hpa")
{
  TEST_CASE("replica calculator: Utilization, AverageValue (Pods, External per pod) and Value targets")
  {
    struct Row {
      const char* hpa_test;
      std::int64_t current;
      double metric;
      double units;
      double target;
      std::int64_t expected;
    };
    const Row rows[] = {
      // Utilization: requests 1.0 CPU, levels in millicores.
      {"TestReplicaCalcScaleUp", 3, 300 + 500 + 700, 1000, 0.3, 5},
      {"TestReplicaCalcScaleDown", 5, 100 + 300 + 500 + 250 + 250, 1000, 0.5, 3},
      {"TestReplicaCalcTolerance", 3, 1010 + 1030 + 1020, 1000, 1.0, 3},
      // Pods metric (AverageValue per pod).
      {"TestReplicaCalcToleranceCM", 3, 20000 + 21000 + 21000, 20000, 1.0, 3},
      {"TestReplicaCalcScaleUpCM", 3, 20000 + 10000 + 30000, 15000, 1.0, 4},
      {"TestReplicaCalcScaleDownCM", 5, 5 * 12000, 20000, 1.0, 3},
      // External metric with a per-pod (AverageValue) target.
      {"TestReplicaCalcScaleDownPerPodCMExternal", 5, 8600, 2867, 1.0, 3},
      // Object metric with a Value target.
      {"TestReplicaCalcToleranceCMObject", 3, 20666, 20000.0 / 3, 1.0, 3},
      {"TestReplicaCalcScaleUpCMObject", 3, 10000, 6666.0 / 3, 1.0, 5},
    };
    for (const auto& row : rows) {
      CAPTURE(row.hpa_test);
      const Plan plan = run(hpa_policy(row.units, row.target), row.current, row.metric);
      CHECK(plan.desired == row.expected);
    }
  }

  TEST_CASE("tolerance boundaries (TestReplicaCalcTolerance*, TestTolerance*): inclusive 10 %, separate up and down")
  {
    struct Row {
      const char* name;
      double metric;
      std::optional<double> up;
      std::optional<double> down;
      std::int64_t expected;
    };
    // 10 workers of 100 units at target 1.0: ratio = metric / 1000.
    const Row rows[] = {
      {"TestTolerance: ratio 1.10 stays", 1100, {}, {}, 10},
      {"TestTolerance: ratio 1.11 scales up", 1110, {}, {}, 12},
      {"TestTolerance: ratio 0.90 stays", 900, {}, {}, 10},
      {"TestTolerance: ratio 0.89 scales down", 890, {}, {}, 9},
      {"configurable tolerance: scale-up tolerance above 1 holds a ratio of 1.9", 1900, 1.5, {}, 10},
      {"configurable tolerance: scale-up tolerance 1.5 lets 2.6 through", 2600, 1.5, {}, 20},
      {"configurable tolerance: scale-down tolerance 0.3 holds 0.75", 750, {}, 0.3, 10},
      {"configurable tolerance: scale-down tolerance 0 lets 0.99 through", 990, {}, 0.0, 10},
      {"configurable tolerance: scale-down tolerance 0 lets 0.89 through", 890, {}, 0.0, 9},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      AutoscalePolicy p = hpa_policy(100, 1.0);
      p.scale_up.tolerance = row.up;
      p.scale_down.tolerance = row.down;
      CHECK(run(p, 10, row.metric).desired == row.expected);
    }
  }

  TEST_CASE("min/max clamps (TestConvertDesiredReplicasWithRules)")
  {
    struct Row {
      const char* name;
      std::int64_t current;
      std::int64_t desired;  // made by a metric of desired * 100 at 100 units, target 1.0
      std::int64_t min;
      std::int64_t max;
      std::int64_t expected;
      const char* code;
    };
    const Row rows[] = {
      {"prenormalized desired replicas within range", 5, 7, 3, 8, 7, "ScaleUp"},
      {"prenormalized desired replicas < minReplicas", 3, 1, 2, 8, 2, "TooFewReplicas"},
      {"prenormalized desired replicas > maxReplicas", 5, 9, 3, 8, 8, "TooManyReplicas"},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      const Plan plan = run(hpa_policy(100, 1.0, row.min, row.max), row.current, static_cast<double>(row.desired) * 100);
      CHECK(plan.desired == row.expected);
      bool found = false;
      for (const auto& r : plan.reasons) {
        found = found || r.code == row.code;
      }
      CHECK(found);
    }
  }

  TEST_CASE("scale-down stabilisation (TestNormalizeDesiredReplicasWithBehavior, TestScaleDownWithStabilization)")
  {
    AutoscalePolicy p = hpa_policy(100, 1.0);
    p.scale_down.stabilization = 300s;
    p.scale_up.stabilization = 0s;
    AutoscaleHistory h;
    h.recommendations = {{k_now - 200s, 5}, {k_now - 100s, 4}, {k_now - 400s, 9}};
    SUBCASE("the highest recommendation of the last 300 s wins: 5, not 9 (too old) or 2")
    {
      const Plan plan = run(p, 6, 200, h);
      CHECK(plan.desired == 5);
      CHECK(plan.reasons.front().code == "BelowTarget");
    }
    SUBCASE("a scale-up stabilisation window: the lowest of the last 60 s")
    {
      p.scale_up.stabilization = 60s;
      h.recommendations = {{k_now - 30s, 3}, {k_now - 90s, 1}};
      CHECK(run(p, 2, 900, h).desired == 3);
    }
    SUBCASE("no window: straight to the recommendation")
    {
      p.scale_down.stabilization = 0s;
      CHECK(run(p, 6, 200, h).desired == 2);
    }
  }

  TEST_CASE("behaviour rules with pods and percent policies (TestScalingWithRules, TestCalculateScaleUpLimitWithScalingRules)")
  {
    struct Row {
      const char* name;
      bool up;
      std::vector<RatePolicy> policies;
      SelectPolicy select;
      std::int64_t current;
      std::vector<ScaleEvent> events;
      std::int64_t expected_limit;
    };
    const auto pods = [](std::int64_t v, std::chrono::seconds period) {
      return RatePolicy{RatePolicy::Kind::pods, v, period};
    };
    const auto percent = [](std::int64_t v, std::chrono::seconds period) {
      return RatePolicy{RatePolicy::Kind::percent, v, period};
    };
    const Row rows[] = {
      {"scaleUp with default behaviour: 4 pods beats 100 % of 1", true, {pods(4, 15s), percent(100, 15s)},
       SelectPolicy::max, 1, {}, 5},
      {"scaleUp with default behaviour: 100 % beats 4 pods of 10", true, {pods(4, 15s), percent(100, 15s)},
       SelectPolicy::max, 10, {}, 20},
      {"scaleUp with selectPolicy min", true, {pods(4, 15s), percent(100, 15s)}, SelectPolicy::min, 10, {}, 14},
      {"scaleUp with pods policy and events in the period", true, {pods(4, 60s)}, SelectPolicy::max, 8,
       {{k_now - 10s, 5, 8}}, 9},
      {"scaleUp with events outside the period", true, {pods(4, 60s)}, SelectPolicy::max, 8, {{k_now - 90s, 5, 8}}, 12},
      {"scaleUp with percent policy rounds up", true, {percent(10, 60s)}, SelectPolicy::max, 5, {}, 6},
      {"scaleUp disabled", true, {pods(4, 15s)}, SelectPolicy::disabled, 5, {}, 5},
      {"scaleDown with default behaviour: 100 % allows 0", false, {percent(100, 15s)}, SelectPolicy::max, 10, {}, 0},
      {"scaleDown with pods and percent, selectPolicy max", false, {pods(2, 60s), percent(50, 60s)}, SelectPolicy::max,
       10, {}, 5},
      {"scaleDown with pods and percent, selectPolicy min", false, {pods(2, 60s), percent(50, 60s)}, SelectPolicy::min,
       10, {}, 8},
      {"scaleDown with percent policy rounds down", false, {percent(30, 60s)}, SelectPolicy::max, 5, {}, 3},
      {"scaleDown with events in the period", false, {pods(2, 60s)}, SelectPolicy::max, 9, {{k_now - 10s, 10, 9}}, 8},
      {"scaleDown disabled", false, {percent(100, 15s)}, SelectPolicy::disabled, 7, {}, 7},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      ScalingRules rules;
      rules.policies = row.policies;
      rules.select = row.select;
      CHECK(behaviour_limit(rules, row.up, row.current, row.events, k_now) == row.expected_limit);
    }
    // Through the whole pipeline: 10 -> 40 wanted, the defaults allow 20.
    const Plan plan = run(hpa_policy(100, 1.0), 10, 4000);
    CHECK(plan.desired == 20);
    CHECK(plan.reasons[1].code == "ScaleUpLimit");
  }

  TEST_CASE("several metrics with one failing (TestMultipleMetrics*, TestComputedToleranceAlgImplementation)")
  {
    AutoscalePolicy p = hpa_policy(100, 1.0);
    PlanInput in;
    in.policy = p;
    in.current = 5;
    in.now = k_now;
    in.metric.value = 300;  // wants 3
    in.metric.name = "queue";
    MetricSample cpu;
    cpu.name = "cpu";
    cpu.value = 40;  // 5 workers at 50 % of 16 units... wants 5 at 8 units per worker
    cpu.units_per_worker = 8;
    in.more_metrics.push_back(cpu);
    SUBCASE("the largest proposal wins")
    {
      CHECK(plan_autoscale(in).desired == 5);
      in.more_metrics[0].value = 72;  // 9 workers
      CHECK(plan_autoscale(in).desired == 9);
    }
    SUBCASE("a failing metric: the readable one may scale up")
    {
      in.more_metrics[0].value.reset();
      in.more_metrics[0].error = "connection refused";
      in.metric.value = 800;
      const Plan plan = plan_autoscale(in);
      CHECK(plan.desired == 8);
    }
    SUBCASE("a failing metric: no scale-down")
    {
      in.more_metrics[0].value.reset();
      in.more_metrics[0].error = "connection refused";
      in.metric.value = 100;
      const Plan plan = plan_autoscale(in);
      CHECK(plan.desired == 5);
      bool held = false;
      for (const auto& r : plan.reasons) {
        held = held || r.code == "NoScaleDownWithoutMetric";
      }
      CHECK(held);
    }
    SUBCASE("every metric failing: on_metric_error decides")
    {
      in.metric.value.reset();
      in.metric.error = "timeout";
      in.more_metrics[0].value.reset();
      CHECK(plan_autoscale(in).decision == Decision::failed);
    }
  }

  TEST_CASE("validation bounds the behaviour keys")
  {
    AutoscalePolicy p = hpa_policy(100, 1.0);
    CHECK_FALSE(validate_policy(p));
    p.scale_up.tolerance = 2.5;
    CHECK_FALSE(validate_policy(p));
    p.scale_down.tolerance = 1.0;
    CHECK(validate_policy(p));
    p.scale_down.tolerance = 0.1;
    p.scale_down.stabilization = std::chrono::hours{2};
    CHECK(validate_policy(p));
    p.scale_down.stabilization = 300s;
    p.scale_up.policies = {{RatePolicy::Kind::pods, 0, 15s}};
    CHECK(validate_policy(p));
    p.scale_up.policies.clear();
    CHECK(validate_policy(p));
    p.scale_up.select = SelectPolicy::disabled;
    CHECK_FALSE(validate_policy(p));
  }
}
