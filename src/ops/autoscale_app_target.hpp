#pragma once
// Private: the do-app replica target (an App Platform component's instance_count).

#include <memory>

#include <scalectl/ops/autoscale.hpp>

namespace scalectl::ops {

// Returns the do-app target for spec.app / spec.component, using deps.digitalocean lazily.
std::unique_ptr<ReplicaTarget> make_app_target(const TargetSpec& spec, TargetDeps deps);

}  // namespace scalectl::ops
