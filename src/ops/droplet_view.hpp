#pragma once
// Private to ops: a droplet as the list and get endpoints return it, with its addresses and tags,
// the size catalogue cached in the state store, and the guard against a store on the droplet.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/core/reconcile.hpp>
#include <scalectl/digitalocean/client.hpp>
#include <scalectl/ops/droplet_claims.hpp>
#include <scalectl/state/store.hpp>

namespace scalectl::ops::detail {

struct DropletView {
  digitalocean::Droplet droplet;
  std::vector<std::string> addresses;  // public and private IPv4/IPv6, normalised
  std::vector<std::string> tags;
};

// Returns the view of a droplet object of the API.
DropletView parse_droplet_view(const nlohmann::json& j);

// Returns the droplet by id with one GET /v2/droplets/{id}.
DropletView get_droplet_view(digitalocean::Api& api, std::int64_t id);

// Returns every droplet tagged `tag`: GET /v2/droplets?tag_name=&per_page=200, one request a page.
std::vector<DropletView> list_tagged(digitalocean::Api& api, const std::string& tag);

// Returns the size catalogue, from the state store when fetched in the last 6 hours, else from
// GET /v2/sizes (and stores it).
std::vector<core::SizeSpec> size_catalogue(digitalocean::Api& api, state::Store& store, std::int64_t now_ms);

// Returns the time claims, their expiry and reconcile's down_delay are measured in: the state
// store's clock when it has one (Redis TIME, shared by the droplet that claims and the control
// host that reconciles, whatever their clocks say), else the host's.
std::int64_t shared_now_ms(state::Store& store, Clock& clock);

// Throws Error(refused) when the Redis host of `state` resolves to one of `view`'s addresses.
void refuse_state_on_droplet(const StateLocation& state, const DropletView& view);

}  // namespace scalectl::ops::detail
