#pragma once
// The droplet resize state machine, as a pure function. The driver (src/ops/droplet_resize.cpp)
// observes the droplet, asks next_resize_step() what to do, does it, and asks again. Because
// every decision is taken from the droplet's observed state, a run killed at any step and run
// again converges on the target without issuing a second resize.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace scalectl::core {

// What the API says about the droplet right now.
struct DropletObservation {
  std::string status;  // active, off, new, archive
  bool locked = false;
  std::string size_slug;
  std::optional<std::int64_t> action_id;  // an in-progress action on the droplet, if known
  std::string action_type;                // its type
};

// What this run has already done or seen, kept by the driver between steps.
struct ResizeMemory {
  bool shutdown_failed = false;   // graceful shutdown errored or timed out: use power_off
  bool resize_issued = false;     // a resize action was submitted by this run
  bool resize_completed = false;  // that resize completed
  bool resize_failed = false;     // that resize errored: restore power, then report
  bool power_on_failed = false;   // power_on errored: nothing more to try
  bool anything_issued = false;   // any action was submitted by this run
};

enum class StepKind {
  already_done,   // at target and active; nothing was done
  done,           // at target and active after this run's actions
  wait_action,    // wait for the in-progress action (action_id)
  wait_unlock,    // locked by an event we cannot see; wait until unlocked
  shutdown,       // graceful ACPI shutdown
  power_off,      // hard power off
  resize,         // resize to the target size
  power_on,       // power back on
  fail,           // stop and report `reason` (the droplet is left active, never silently off)
};

struct ResizeStep {
  StepKind kind = StepKind::fail;
  std::string reason;                     // why this step, for progress lines and records
  std::optional<std::int64_t> action_id;  // for wait_action
};

// Returns the next step that moves the observed droplet towards `target_size`, active.
ResizeStep next_resize_step(const DropletObservation& droplet, const std::string& target_size,
                            const ResizeMemory& memory);

// One step a dry run predicts.
struct PlannedStep {
  StepKind kind = StepKind::fail;
  std::optional<std::int64_t> action_id;  // wait_action: the action waited for
  std::string action_type;                // wait_action: its type
};

// Returns the steps a resize of `start` to `target_size` would take if every action it submits
// succeeded: the dry-run model. It stops at what it cannot predict (a wait for an unlock, the
// outcome of someone else's resize) and returns no steps when the droplet is already there.
std::vector<PlannedStep> simulate_resize(const DropletObservation& start, const std::string& target_size);

// Returns the stable name of a step kind ("power_off", "wait_action", ...), for records and JSON.
const char* step_name(StepKind kind);

}  // namespace scalectl::core
