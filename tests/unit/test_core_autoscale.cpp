#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include <scalectl/core/autoscale.hpp>

using namespace scalectl::core;
using namespace std::chrono_literals;

namespace {

const AutoscaleTime k_t0 = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1};

// The seed's warmup workers: 1000 mailboxes per worker, 80 % / 30 %, cooldowns 5m / 10m.
AutoscalePolicy seed_policy()
{
  AutoscalePolicy p;
  p.mode = ScaleMode::step;
  p.units_per_worker = 1000;
  p.min = 1;
  p.max = 100;
  p.scale_up_threshold = 0.8;
  p.scale_down_threshold = 0.3;
  p.scale_up_cooldown = 5min;
  p.scale_down_cooldown = 10min;
  p.scale_down_stabilization = 5min;
  return p;
}

// Hundreds of units per worker, target mode at 70 % with a 10 % tolerance, no stabilization.
AutoscalePolicy target_policy()
{
  AutoscalePolicy p;
  p.mode = ScaleMode::target;
  p.units_per_worker = 100;
  p.min = 1;
  p.max = 100;
  p.target_utilisation = 0.7;
  p.tolerance = 0.1;
  p.scale_up_cooldown = 0ms;
  p.scale_down_cooldown = 0ms;
  p.scale_down_stabilization = 0ms;
  return p;
}

PlanInput input_for(const AutoscalePolicy& policy, std::int64_t current, std::optional<double> metric,
                    AutoscaleTime now = k_t0)
{
  PlanInput in;
  in.policy = policy;
  in.current = current;
  in.metric.value = metric;
  if (!metric) {
    in.metric.error = "redis: connection refused";
  }
  in.now = now;
  return in;
}

std::vector<std::string> codes(const Plan& plan)
{
  std::vector<std::string> out;
  for (const auto& r : plan.reasons) {
    out.push_back(r.code);
  }
  return out;
}

bool has_code(const Plan& plan, const std::string& code)
{
  for (const auto& r : plan.reasons) {
    if (r.code == code) {
      return true;
    }
  }
  return false;
}

// Runs the policy like cron would: each run plans, then "applies" the plan by recording the
// recommendation and the scale event, as src/ops does with the state store.
struct FakeCron {
  AutoscalePolicy policy;
  std::int64_t current;
  AutoscaleHistory history;
  AutoscaleTime now = k_t0;
  int ups = 0;
  int downs = 0;

  Plan run(double metric, std::chrono::milliseconds after)
  {
    now += after;
    PlanInput in = input_for(policy, current, metric, now);
    in.history = history;
    Plan plan = plan_autoscale(in);
    if (plan.recommendation) {
      history.recommendations = record_recommendation(history.recommendations, {now, *plan.recommendation},
                                                      policy.scale_down_stabilization);
    }
    if (plan.decision == Decision::scale_up) {
      history.last_scale_up = now;
      ++ups;
    } else if (plan.decision == Decision::scale_down) {
      history.last_scale_down = now;
      ++downs;
    }
    current = plan.desired;
    return plan;
  }
};

}  // namespace

TEST_SUITE("core.autoscale")
{
  TEST_CASE("the seed's timeline in step mode: 1 -> 1 -> 2 -> 3 -> 4 -> 3 when cooldowns have passed")
  {
    struct Row {
      std::chrono::milliseconds after;
      double mailboxes;
      std::int64_t workers_before;
      std::int64_t workers_after;
      std::vector<std::string> codes;
    };
    const std::vector<Row> rows = {
      {0ms, 48, 1, 1, {"ScaleDownThreshold", "ScaleDownWouldOverload", "NoChange"}},
      {std::chrono::days(9), 500, 1, 1, {"WithinThresholds", "NoChange"}},
      {std::chrono::days(5), 850, 1, 2, {"ScaleUpThreshold", "ScaleUp"}},
      {std::chrono::days(15), 1800, 2, 3, {"ScaleUpThreshold", "ScaleUp"}},
      {std::chrono::days(15), 3200, 3, 4, {"ScaleUpThreshold", "ScaleUp"}},
      {std::chrono::days(10), 1200, 4, 3, {"ScaleDownThreshold", "ScaleDown"}},
    };
    FakeCron cron{seed_policy(), 1, {}};
    for (const auto& row : rows) {
      CAPTURE(row.mailboxes);
      REQUIRE(cron.current == row.workers_before);
      const Plan plan = cron.run(row.mailboxes, row.after);
      CHECK(plan.desired == row.workers_after);
      CHECK(codes(plan) == row.codes);
      CHECK(plan.stages.size() == 6);
    }
    CHECK(cron.ups == 3);
    CHECK(cron.downs == 1);
  }

  TEST_CASE("thresholds are inclusive and utilisation is reported")
  {
    struct Row {
      const char* name;
      double metric;
      std::int64_t current;
      std::int64_t desired;
      const char* first_code;
    };
    AutoscalePolicy p = seed_policy();
    p.scale_down_stabilization = 0ms;
    const Row rows[] = {
      {"exactly 80 % scales up", 800, 1, 2, "ScaleUpThreshold"},
      {"just below 80 % stays", 799, 1, 1, "WithinThresholds"},
      {"exactly 30 % scales down", 1200, 4, 3, "ScaleDownThreshold"},
      {"just above 30 % stays", 1201, 4, 4, "WithinThresholds"},
      {"no work at all removes one step", 0, 3, 2, "ScaleDownThreshold"},
      {"work with no workers scales up", 10, 0, 1, "ScaleUpThreshold"},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      const Plan plan = plan_autoscale(input_for(p, row.current, row.metric));
      CHECK(plan.desired == row.desired);
      REQUIRE_FALSE(plan.reasons.empty());
      CHECK(plan.reasons.front().code == row.first_code);
    }
    const Plan plan = plan_autoscale(input_for(p, 3, 1800));
    REQUIRE(plan.utilisation);
    CHECK(*plan.utilisation == doctest::Approx(0.6));
    CHECK(plan.reasons.front().text() == "WithinThresholds utilisation 60% is between 30% and 80%");
    CHECK_FALSE(plan_autoscale(input_for(p, 0, 10)).utilisation);
  }

  TEST_CASE("a scale-down never lands on a count that reaches the up threshold")
  {
    AutoscalePolicy p = seed_policy();
    p.scale_down_stabilization = 0ms;
    p.step = 2;
    // 900 on 3 workers is 30 %: two fewer would be 90 % on one worker, so it stops at 2 (45 %).
    const Plan plan = plan_autoscale(input_for(p, 3, 900));
    CHECK(plan.desired == 2);
    CHECK(codes(plan) == std::vector<std::string>{"ScaleDownThreshold", "ScaleDownWouldOverload", "ScaleDown"});
    CHECK(plan.recommendation == 2);
    // Thresholds close together: 0.5 / 0.45 with 450 on 2 workers (22.5 %) would be 45 % on one: fine.
    p.step = 1;
    p.scale_up_threshold = 0.5;
    p.scale_down_threshold = 0.45;
    CHECK(plan_autoscale(input_for(p, 2, 450)).desired == 1);
    // ... but 500 on 2 workers (25 %) stays: one worker would be at 50 %, the up threshold.
    CHECK(plan_autoscale(input_for(p, 2, 500)).desired == 2);
  }

  TEST_CASE("cooldowns block repeat scaling until they pass")
  {
    FakeCron cron{seed_policy(), 1, {}};
    CHECK(cron.run(850, 0ms).desired == 2);
    // One minute later the load grew again: still inside the 5m scale-up cooldown.
    Plan plan = cron.run(1700, 1min);
    CHECK(plan.desired == 2);
    CHECK(codes(plan) == std::vector<std::string>{"ScaleUpThreshold", "InCooldown", "NoChange"});
    CHECK(plan.reasons[1].text() ==
          "InCooldown until 2026-01-01T00:05:00Z (scale_up_cooldown 5m since the last scale event)");
    CHECK(plan.stages[2].name == "cooldown");
    CHECK(plan.stages[2].from == 3);
    CHECK(plan.stages[2].to == 2);
    // At exactly 5m the cooldown has passed.
    CHECK(cron.run(1700, 4min).desired == 3);
    // A scale-down also waits its own 10m cooldown, counted from that last scale-up.
    cron.policy.scale_down_stabilization = 0ms;
    plan = cron.run(100, 1min);
    CHECK(plan.desired == 3);
    CHECK(has_code(plan, "InCooldown"));
    CHECK(plan.reasons[1].detail.starts_with("until 2026-01-01T00:15:00Z (scale_down_cooldown 10m"));
    plan = cron.run(100, 9min);
    CHECK(plan.desired == 2);
    // A scale-up right after that scale-down waits the scale-up cooldown since it.
    plan = cron.run(1900, 1min);
    CHECK(plan.desired == 2);
    CHECK(has_code(plan, "InCooldown"));
    CHECK(cooldown_until(cron.policy, cron.history, true) == k_t0 + 15min + 5min);
    CHECK(cooldown_until(cron.policy, cron.history, false) == k_t0 + 15min + 10min);
    CHECK_FALSE(cooldown_until(cron.policy, AutoscaleHistory{}, true));
  }

  TEST_CASE("stabilization keeps an oscillating metric from flapping")
  {
    // Cooldowns off, so only stabilization stands between the metric and the count.
    AutoscalePolicy p = seed_policy();
    p.scale_up_cooldown = 0ms;
    p.scale_down_cooldown = 0ms;
    const double wave[] = {1700, 400, 1700, 400, 1700, 400, 1700, 400, 1700, 400};

    AutoscalePolicy flappy = p;
    flappy.scale_down_stabilization = 0ms;
    FakeCron without{flappy, 2, {}};
    for (double metric : wave) {
      without.run(metric, 1min);
    }
    CHECK(without.downs >= 4);  // without a window every dip removes a worker again

    FakeCron with{p, 2, {}};
    std::vector<std::int64_t> counts;
    for (double metric : wave) {
      const Plan plan = with.run(metric, 1min);
      counts.push_back(plan.desired);
      if (metric == 400 && plan.recommendation && *plan.recommendation < plan.current) {
        CHECK(has_code(plan, "ScaleDownStabilized"));
      }
    }
    CHECK(with.downs == 0);
    CHECK(counts.front() == 3);
    // Once the dips last longer than the window, it scales down one step per run.
    Plan plan = with.run(400, 1min);
    CHECK_FALSE(plan.changes());
    CHECK(has_code(plan, "ScaleDownStabilized"));
    CHECK(plan.reasons[1].detail.starts_with("the highest recommendation in the last 5m was"));
    for (int i = 0; i < 4; ++i) {
      plan = with.run(400, 1min);
    }
    CHECK(plan.decision == Decision::scale_down);
    CHECK(with.downs == 1);
  }

  TEST_CASE("target mode follows the HPA formula with a tolerance band")
  {
    struct Row {
      const char* name;
      double metric;
      std::int64_t current;
      double tolerance;
      std::int64_t desired;
      std::vector<std::string> codes;
    };
    const Row rows[] = {
      {"on target", 1400, 20, 0.1, 20, {"WithinTolerance", "NoChange"}},
      {"inside the band above", 1500, 20, 0.1, 20, {"WithinTolerance", "NoChange"}},
      {"inside the band below", 1300, 20, 0.1, 20, {"WithinTolerance", "NoChange"}},
      {"above the band", 1600, 20, 0.1, 23, {"AboveTarget", "ScaleUp"}},
      {"below the band", 1000, 20, 0.1, 15, {"BelowTarget", "ScaleDown"}},
      {"an exact multiple is not rounded up, then the HPA's default 4 pods per 15s from 0", 1400, 0, 0.1, 4,
       {"AboveTarget", "ScaleUpLimit", "ScaleUp"}},
      {"no tolerance", 1410, 20, 0.0, 21, {"AboveTarget", "ScaleUp"}},
      {"no work goes to min", 0, 3, 0.1, 1, {"BelowTarget", "TooFewReplicas", "ScaleDown"}},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      AutoscalePolicy p = target_policy();
      p.tolerance = row.tolerance;
      const Plan plan = plan_autoscale(input_for(p, row.current, row.metric));
      CHECK(plan.desired == row.desired);
      CHECK(codes(plan) == row.codes);
    }
    // A target at or above step mode's up threshold is not held back by step mode's overload guard.
    AutoscalePolicy hot = target_policy();
    hot.target_utilisation = 0.95;
    const Plan plan = plan_autoscale(input_for(hot, 20, 1000));
    CHECK(plan.desired == 11);
    CHECK(codes(plan) == std::vector<std::string>{"BelowTarget", "ScaleDown"});
  }

  TEST_CASE("issue 14: target mode ignores scale_up_threshold (1950 units, 1000 per worker, 3 workers, target 1.0 -> 2)")
  {
    AutoscalePolicy p = target_policy();
    p.units_per_worker = 1000;
    p.target_utilisation = 1.0;
    p.scale_up_threshold = 0.8;
    const Plan plan = plan_autoscale(input_for(p, 3, 1950));
    CHECK(plan.desired == 2);
    CHECK(codes(plan) == std::vector<std::string>{"BelowTarget", "ScaleDown"});
  }

  TEST_CASE("per-run limits, bounds and the capacity limit, in that order")
  {
    struct Row {
      const char* name;
      std::optional<std::int64_t> max_scale_up;
      std::optional<std::int64_t> max_scale_down;
      std::int64_t min;
      std::int64_t max;
      std::optional<std::int64_t> fit;
      double metric;
      std::int64_t current;
      std::int64_t desired;
      std::vector<std::string> codes;
    };
    const Row rows[] = {
      {"max_scale_up", 2, {}, 1, 100, {}, 1600, 20, 22, {"AboveTarget", "ScaleUpLimit", "ScaleUp"}},
      {"max_scale_down", {}, 1, 1, 100, {}, 1000, 20, 19, {"BelowTarget", "ScaleDownLimit", "ScaleDown"}},
      {"max", {}, {}, 1, 21, {}, 1600, 20, 21, {"AboveTarget", "TooManyReplicas", "ScaleUp"}},
      {"min", {}, {}, 18, 100, {}, 1000, 20, 18, {"BelowTarget", "TooFewReplicas", "ScaleDown"}},
      {"above max after a config change", {}, {}, 1, 10, {}, 1400, 20, 10,
       {"WithinTolerance", "TooManyReplicas", "ScaleDown"}},
      {"capacity fits one more", {}, {}, 1, 100, 1, 1600, 20, 21, {"AboveTarget", "CapacityLimit", "ScaleUp"}},
      {"capacity fits none", {}, {}, 1, 100, 0, 1600, 20, 20, {"AboveTarget", "CapacityLimit", "NoChange"}},
      {"capacity fits plenty", {}, {}, 1, 100, 50, 1600, 20, 23, {"AboveTarget", "ScaleUp"}},
      {"capacity never blocks a scale-down", {}, {}, 1, 100, 0, 1000, 20, 15, {"BelowTarget", "ScaleDown"}},
      {"capacity wins over min", {}, {}, 25, 100, 2, 1400, 20, 22,
       {"WithinTolerance", "TooFewReplicas", "CapacityLimit", "ScaleUp"}},
      {"limit, then max, then capacity", 10, {}, 1, 25, 1, 3000, 20, 21,
       {"AboveTarget", "ScaleUpLimit", "TooManyReplicas", "CapacityLimit", "ScaleUp"}},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      AutoscalePolicy p = target_policy();
      p.max_scale_up = row.max_scale_up;
      p.max_scale_down = row.max_scale_down;
      p.min = row.min;
      p.max = row.max;
      PlanInput in = input_for(p, row.current, row.metric);
      if (row.fit) {
        in.capacity = CapacityLimit{"registre", *row.fit, "Insufficient CPU (need 3, available 1.4)"};
      }
      const Plan plan = plan_autoscale(in);
      CHECK(plan.desired == row.desired);
      CHECK(codes(plan) == row.codes);
    }
    PlanInput in = input_for(target_policy(), 20, 1600);
    in.capacity = CapacityLimit{"registre", 1, "Insufficient CPU (need 3, available 1.4)"};
    const Plan plan = plan_autoscale(in);
    CHECK(plan.stages[5].name == "capacity");
    CHECK(plan.stages[5].from == 23);
    CHECK(plan.stages[5].to == 21);
    CHECK(plan.stages[5].reasons.at(0).text() ==
          "CapacityLimit only 1 more registre worker fit: Insufficient CPU (need 3, available 1.4)");
  }

  TEST_CASE("an unreadable metric never scales down")
  {
    struct Row {
      const char* name;
      MetricErrorPolicy on_error;
      std::int64_t current;
      std::int64_t max;
      Decision decision;
      std::int64_t desired;
      std::vector<std::string> codes;
    };
    const Row rows[] = {
      {"fail", {MetricErrorAction::fail, 0}, 3, 100, Decision::failed, 3, {"MetricUnavailable"}},
      {"keep", {MetricErrorAction::keep, 0}, 3, 100, Decision::no_change, 3,
       {"MetricUnavailable", "MetricErrorKeep", "NoChange"}},
      {"replicas above current", {MetricErrorAction::replicas, 5}, 3, 100, Decision::scale_up, 5,
       {"MetricUnavailable", "MetricErrorReplicas", "ScaleUp"}},
      {"replicas below current", {MetricErrorAction::replicas, 2}, 3, 100, Decision::no_change, 3,
       {"MetricUnavailable", "MetricErrorReplicas", "NoChange"}},
      {"keep above max", {MetricErrorAction::keep, 0}, 10, 5, Decision::no_change, 10,
       {"MetricUnavailable", "MetricErrorKeep", "TooManyReplicas", "NoScaleDownWithoutMetric", "NoChange"}},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      AutoscalePolicy p = seed_policy();
      p.on_metric_error = row.on_error;
      p.max = row.max;
      PlanInput in = input_for(p, row.current, std::nullopt);
      in.history.recommendations = {{k_t0 - 1min, 1}};
      const Plan plan = plan_autoscale(in);
      CHECK(plan.decision == row.decision);
      CHECK(plan.desired == row.desired);
      CHECK(codes(plan) == row.codes);
      CHECK_FALSE(plan.recommendation);  // nothing to remember for stabilization
      CHECK(plan.reasons.front().detail == "redis: connection refused");
    }
  }

  TEST_CASE("a disabled policy keeps the count and says so")
  {
    AutoscalePolicy p = seed_policy();
    p.enabled = false;
    for (std::optional<double> metric : {std::optional<double>(5000.0), std::optional<double>()}) {
      PlanInput in = input_for(p, 3, metric);
      const Plan plan = plan_autoscale(in);
      CHECK(plan.decision == Decision::no_change);
      CHECK(plan.desired == 3);
      CHECK(codes(plan) == std::vector<std::string>{"Disabled", "NoChange"});
      CHECK_FALSE(plan.recommendation);
    }
  }

  TEST_CASE("a plan always has a reason, whatever the inputs")
  {
    for (int mode = 0; mode < 2; ++mode) {
      for (std::int64_t current : {0, 1, 2, 5, 40}) {
        for (double metric : {0.0, 1.0, 299.0, 300.0, 650.0, 5000.0, 1e6}) {
          for (bool cooling : {false, true}) {
            AutoscalePolicy p = mode == 0 ? seed_policy() : target_policy();
            PlanInput in = input_for(p, current, metric);
            if (cooling) {
              in.history.last_scale_down = k_t0 - 1s;
              in.history.recommendations = {{k_t0 - 10s, 40}};
            }
            const Plan plan = plan_autoscale(in);
            REQUIRE_FALSE(plan.reasons.empty());
            for (const auto& r : plan.reasons) {
              CHECK_FALSE(r.code.empty());
            }
            CHECK(plan.desired >= std::min(p.min, current));
            CHECK(plan.desired <= std::max(p.max, current));
            CHECK((plan.decision == Decision::no_change) == !plan.changes());
          }
        }
      }
    }
  }

  TEST_CASE("policy validation names the key and the fix")
  {
    struct Row {
      const char* name;
      void (*edit)(AutoscalePolicy&);
      const char* expected;  // substring; nullptr: valid
    };
    const Row rows[] = {
      {"seed policy", [](AutoscalePolicy&) {}, nullptr},
      {"equal thresholds", [](AutoscalePolicy& p) { p.scale_down_threshold = 0.8; },
       "scale_down_threshold (0.8) must be below scale_up_threshold (0.8)"},
      {"inverted thresholds", [](AutoscalePolicy& p) { p.scale_down_threshold = 0.9; }, "must be below"},
      {"no units", [](AutoscalePolicy& p) { p.units_per_worker = 0; }, "units_per_worker"},
      {"max below min", [](AutoscalePolicy& p) { p.max = 0; }, "max (0) must be at least 1"},
      {"negative min", [](AutoscalePolicy& p) { p.min = -1; }, "min must be 0 or more"},
      {"tolerance 1", [](AutoscalePolicy& p) { p.tolerance = 1; }, "tolerance"},
      {"step 0", [](AutoscalePolicy& p) { p.step = 0; }, "step must be 1 or more"},
      {"max_scale_up 0", [](AutoscalePolicy& p) { p.max_scale_up = 0; }, "max_scale_up"},
      {"target 0", [](AutoscalePolicy& p) { p.target_utilisation = 0; }, "target_utilisation"},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      AutoscalePolicy p = seed_policy();
      row.edit(p);
      const auto problem = validate_policy(p);
      if (row.expected == nullptr) {
        CHECK_FALSE(problem);
      } else {
        REQUIRE(problem);
        CHECK(problem->find(row.expected) != std::string::npos);
      }
    }
  }

  TEST_CASE("the recommendation history is bounded in time and size")
  {
    std::vector<Recommendation> h;
    for (int i = 0; i < 10; ++i) {
      h = record_recommendation(h, {k_t0 + std::chrono::minutes(i), i}, 3min);
    }
    REQUIRE(h.size() == 4);
    CHECK(h.front() == Recommendation{k_t0 + 6min, 6});
    CHECK(h.back() == Recommendation{k_t0 + 9min, 9});
    h = record_recommendation(h, {k_t0 + 10min, 10}, 1h, 2);
    CHECK(h == std::vector<Recommendation>{{k_t0 + 9min, 9}, {k_t0 + 10min, 10}});
    // A zero window still keeps the newest entry.
    CHECK(record_recommendation({}, {k_t0, 1}, 0ms).size() == 1);
  }
}
