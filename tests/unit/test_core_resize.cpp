#include <doctest/doctest.h>

#include <vector>

#include <scalectl/core/resize.hpp>

using namespace scalectl::core;

namespace {

DropletObservation droplet(const char* status, const char* size, bool locked = false)
{
  DropletObservation d;
  d.status = status;
  d.size_slug = size;
  d.locked = locked;
  return d;
}

constexpr const char* k_up = "s-8vcpu-16gb";
constexpr const char* k_down = "s-2vcpu-4gb";

}  // namespace

TEST_SUITE("core.resize")
{
  TEST_CASE("table of single decisions")
  {
    struct Row {
      const char* name;
      DropletObservation obs;
      ResizeMemory memory;
      StepKind expected;
    };
    ResizeMemory fresh;
    ResizeMemory issued;
    issued.anything_issued = true;
    ResizeMemory shutdown_failed;
    shutdown_failed.shutdown_failed = true;
    ResizeMemory resize_failed;
    resize_failed.resize_failed = true;
    resize_failed.anything_issued = true;
    ResizeMemory resize_completed;
    resize_completed.resize_completed = true;
    ResizeMemory power_on_failed;
    power_on_failed.power_on_failed = true;

    DropletObservation busy = droplet("active", k_down, true);
    busy.action_id = 42;
    busy.action_type = "resize";

    const Row rows[] = {
      {"already at target and active", droplet("active", k_up), fresh, StepKind::already_done},
      {"at target after our actions", droplet("active", k_up), issued, StepKind::done},
      {"at target but off: just power on", droplet("off", k_up), fresh, StepKind::power_on},
      {"active at old size: graceful shutdown", droplet("active", k_down), fresh, StepKind::shutdown},
      {"shutdown failed: power off", droplet("active", k_down), shutdown_failed, StepKind::power_off},
      {"off at old size: resize", droplet("off", k_down), fresh, StepKind::resize},
      {"in-progress action: wait for it", busy, fresh, StepKind::wait_action},
      {"locked without a known action: wait", droplet("off", k_down, true), fresh, StepKind::wait_unlock},
      {"resize failed, off: power back on", droplet("off", k_down), resize_failed, StepKind::power_on},
      {"resize failed, back on: report", droplet("active", k_down), resize_failed, StepKind::fail},
      {"resize completed but size unchanged: never resize twice", droplet("off", k_down), resize_completed,
       StepKind::fail},
      {"power on failed: report", droplet("off", k_up), power_on_failed, StepKind::fail},
      {"new droplet: wait", droplet("new", k_down), fresh, StepKind::wait_unlock},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      const auto step = next_resize_step(row.obs, k_up, row.memory);
      CHECK(step.kind == row.expected);
      CHECK_FALSE(step.reason.empty());
    }
  }

  TEST_CASE("wait_action carries the action id")
  {
    auto obs = droplet("active", k_down, true);
    obs.action_id = 7;
    obs.action_type = "shutdown";
    const auto step = next_resize_step(obs, k_up, {});
    CHECK(step.kind == StepKind::wait_action);
    REQUIRE(step.action_id);
    CHECK(*step.action_id == 7);
  }

  TEST_CASE("a whole scale-up walks shutdown, resize, power_on, done")
  {
    // Simulate the droplet: each issued action completes at once.
    DropletObservation obs = droplet("active", k_down);
    ResizeMemory memory;
    std::vector<StepKind> steps;
    for (int i = 0; i < 10; ++i) {
      const auto step = next_resize_step(obs, k_up, memory);
      steps.push_back(step.kind);
      if (step.kind == StepKind::done || step.kind == StepKind::already_done || step.kind == StepKind::fail) {
        break;
      }
      memory.anything_issued = true;
      if (step.kind == StepKind::shutdown || step.kind == StepKind::power_off) {
        obs.status = "off";
      } else if (step.kind == StepKind::resize) {
        memory.resize_issued = true;
        memory.resize_completed = true;
        obs.size_slug = k_up;
      } else if (step.kind == StepKind::power_on) {
        obs.status = "active";
      }
    }
    CHECK(steps == std::vector<StepKind>{StepKind::shutdown, StepKind::resize, StepKind::power_on, StepKind::done});
  }

  TEST_CASE("resume after a kill at every phase issues at most one resize")
  {
    // A rerun starts with fresh memory; whatever phase the killed run reached, the rerun's
    // decisions never include a resize once the size is already the target.
    const DropletObservation phases[] = {
      droplet("active", k_down),  // killed before anything
      droplet("off", k_down),     // killed after shutdown
      droplet("off", k_up),       // killed after resize
      droplet("active", k_up),    // killed after power_on
    };
    for (const auto& start : phases) {
      DropletObservation obs = start;
      ResizeMemory memory;
      int resizes = 0;
      for (int i = 0; i < 10; ++i) {
        const auto step = next_resize_step(obs, k_up, memory);
        if (step.kind == StepKind::done || step.kind == StepKind::already_done) {
          break;
        }
        REQUIRE(step.kind != StepKind::fail);
        memory.anything_issued = true;
        if (step.kind == StepKind::shutdown) {
          obs.status = "off";
        } else if (step.kind == StepKind::resize) {
          ++resizes;
          memory.resize_completed = true;
          obs.size_slug = k_up;
        } else if (step.kind == StepKind::power_on) {
          obs.status = "active";
        }
      }
      CHECK(obs.size_slug == k_up);
      CHECK(obs.status == "active");
      CHECK(resizes == (start.size_slug == k_up ? 0 : 1));
    }
  }
}
