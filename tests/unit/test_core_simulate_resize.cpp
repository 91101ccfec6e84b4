#include <doctest/doctest.h>

#include <vector>

#include <scalectl/core/resize.hpp>

using namespace scalectl::core;

namespace {

DropletObservation observed(const char* status, const char* size, bool locked = false)
{
  DropletObservation d;
  d.status = status;
  d.size_slug = size;
  d.locked = locked;
  return d;
}

DropletObservation running(const char* status, const char* size, std::int64_t id, const char* type)
{
  auto d = observed(status, size, true);
  d.action_id = id;
  d.action_type = type;
  return d;
}

std::vector<StepKind> kinds(const std::vector<PlannedStep>& steps)
{
  std::vector<StepKind> out;
  for (const auto& s : steps) {
    out.push_back(s.kind);
  }
  return out;
}

constexpr const char* k_up = "s-8vcpu-16gb";
constexpr const char* k_down = "s-2vcpu-4gb";

}  // namespace

TEST_SUITE("core.simulate_resize")
{
  TEST_CASE("table of dry-run plans")
  {
    using K = StepKind;
    struct Row {
      const char* name;
      DropletObservation start;
      std::vector<StepKind> expected;
    };
    const std::vector<Row> rows = {
      {"already at the target and active", observed("active", k_up), {}},
      {"active at the other size", observed("active", k_down), {K::shutdown, K::resize, K::power_on}},
      {"off at the other size", observed("off", k_down), {K::resize, K::power_on}},
      {"off at the target", observed("off", k_up), {K::power_on}},
      {"locked by an unseen event", observed("active", k_down, true), {K::wait_unlock}},
      {"someone's shutdown running", running("active", k_down, 7, "shutdown"),
       {K::wait_action, K::resize, K::power_on}},
      {"someone's power_on running at the target", running("off", k_up, 8, "power_on"), {K::wait_action}},
      {"someone's resize running", running("off", k_down, 9, "resize"), {K::wait_action}},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      CHECK(kinds(simulate_resize(row.start, k_up)) == row.expected);
    }
  }

  TEST_CASE("a planned wait names the action it waits for")
  {
    const auto plan = simulate_resize(running("active", k_down, 42, "shutdown"), k_up);
    REQUIRE_FALSE(plan.empty());
    CHECK(plan.front().action_id == 42);
    CHECK(plan.front().action_type == "shutdown");
  }

  TEST_CASE("the plan never exceeds its bound and agrees with next_resize_step at the start")
  {
    for (const char* status : {"active", "off", "new"}) {
      for (const char* size : {k_up, k_down}) {
        CAPTURE(status);
        CAPTURE(size);
        const auto start = observed(status, size);
        const auto plan = simulate_resize(start, k_up);
        CHECK(plan.size() <= 10);
        const auto first = next_resize_step(start, k_up, ResizeMemory{});
        if (plan.empty()) {
          CHECK((first.kind == StepKind::already_done || first.kind == StepKind::fail));
        } else {
          CHECK(plan.front().kind == first.kind);
        }
      }
    }
  }
}
