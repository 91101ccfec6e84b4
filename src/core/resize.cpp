#include <scalectl/core/resize.hpp>

#include <fmt/format.h>

namespace scalectl::core {

ResizeStep next_resize_step(const DropletObservation& droplet, const std::string& target_size,
                            const ResizeMemory& memory)
{
  if (droplet.action_id) {
    return {StepKind::wait_action,
            fmt::format("action {} ({}) is in progress", *droplet.action_id,
                        droplet.action_type.empty() ? "unknown" : droplet.action_type),
            droplet.action_id};
  }
  if (droplet.locked) {
    return {StepKind::wait_unlock, "the droplet is locked by a pending event", std::nullopt};
  }
  const bool at_target = droplet.size_slug == target_size;
  const bool is_off = droplet.status == "off";
  const bool is_active = droplet.status == "active";

  if (memory.power_on_failed) {
    return {StepKind::fail, fmt::format("power_on failed; the droplet is {}", droplet.status), std::nullopt};
  }
  if (memory.resize_failed) {
    if (is_off) {
      return {StepKind::power_on, "the resize failed; powering the droplet back on", std::nullopt};
    }
    return {StepKind::fail,
            fmt::format("the resize to {} failed; the droplet is {} at {}", target_size, droplet.status,
                        droplet.size_slug),
            std::nullopt};
  }
  if (at_target) {
    if (is_active) {
      return {memory.anything_issued ? StepKind::done : StepKind::already_done,
              fmt::format("the droplet is active at {}", target_size), std::nullopt};
    }
    if (is_off) {
      return {StepKind::power_on, fmt::format("the droplet is at {} but off", target_size), std::nullopt};
    }
    return {StepKind::wait_unlock, fmt::format("the droplet is {}; waiting for it to settle", droplet.status),
            std::nullopt};
  }
  // Not at the target size yet.
  if (memory.resize_completed) {
    // The resize reported success but the size did not change: never loop into a second resize.
    return {StepKind::fail,
            fmt::format("the resize action completed but the droplet is still at {}", droplet.size_slug),
            std::nullopt};
  }
  if (is_off) {
    return {StepKind::resize, fmt::format("the droplet is off at {}", droplet.size_slug), std::nullopt};
  }
  if (is_active) {
    if (memory.shutdown_failed) {
      return {StepKind::power_off, "graceful shutdown did not finish; powering off", std::nullopt};
    }
    return {StepKind::shutdown, fmt::format("the droplet is active at {}", droplet.size_slug), std::nullopt};
  }
  return {StepKind::wait_unlock, fmt::format("the droplet is {}; waiting for it to settle", droplet.status),
          std::nullopt};
}

const char* step_name(StepKind kind)
{
  switch (kind) {
  case StepKind::already_done:
    return "already_done";
  case StepKind::done:
    return "done";
  case StepKind::wait_action:
    return "wait_action";
  case StepKind::wait_unlock:
    return "wait_unlock";
  case StepKind::shutdown:
    return "shutdown";
  case StepKind::power_off:
    return "power_off";
  case StepKind::resize:
    return "resize";
  case StepKind::power_on:
    return "power_on";
  case StepKind::fail:
    return "fail";
  }
  return "unknown";
}

std::vector<PlannedStep> simulate_resize(const DropletObservation& start, const std::string& target_size)
{
  std::vector<PlannedStep> planned;
  DropletObservation obs = start;
  ResizeMemory memory;
  for (int i = 0; i < 10; ++i) {
    const auto step = next_resize_step(obs, target_size, memory);
    switch (step.kind) {
    case StepKind::wait_action:
      planned.push_back({step.kind, step.action_id, obs.action_type});
      obs.action_id.reset();
      obs.locked = false;
      if (obs.action_type == "resize") {
        return planned;  // cannot predict the outcome of someone else's resize
      }
      obs.status = obs.action_type == "power_on" ? "active" : "off";
      continue;
    case StepKind::wait_unlock:
      planned.push_back({step.kind, std::nullopt, ""});
      return planned;
    case StepKind::shutdown:
    case StepKind::power_off:
      obs.status = "off";
      break;
    case StepKind::resize:
      obs.size_slug = target_size;
      memory.resize_completed = true;
      break;
    case StepKind::power_on:
      obs.status = "active";
      break;
    case StepKind::already_done:
    case StepKind::done:
    case StepKind::fail:
      return planned;
    }
    planned.push_back({step.kind, std::nullopt, ""});
    memory.anything_issued = true;
  }
  return planned;
}

}  // namespace scalectl::core
