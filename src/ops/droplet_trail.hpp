#pragma once
// Private to ops: the optional trail tag on a droplet naming scalectl's last action and result.

#include <string>
#include <string_view>

#include <scalectl/digitalocean/client.hpp>
#include <scalectl/ops/droplet_claims.hpp>
#include <scalectl/report.hpp>

#include "ops/droplet_view.hpp"

namespace scalectl::ops::detail {

// The prefix of every trail tag.
inline constexpr std::string_view k_trail_prefix = "scalectl:";

// Returns the trail tag for `outcome`, e.g. "scalectl:resized:s-8vcpu-16gb", made of the
// characters the API allows in tag names (letters, digits, ':', '-', '_'), at most 255.
std::string trail_tag(const ReconcileOutcome& outcome);

// Tags the droplet with trail_tag(outcome) and removes its older trail tags. Failures are
// warnings: the trail is informational and must not fail a reconcile.
void set_trail_tag(digitalocean::Api& api, Reporter& reporter, const DropletView& view,
                   const ReconcileOutcome& outcome);

}  // namespace scalectl::ops::detail
