#pragma once
// Waiter <-> JSON, shared by both backends. A waiter is stored as a lease-shaped object (type,
// host, pid, millicores, mib, resources; see lease_json.hpp) plus "priority", "seq", "since" and,
// in the file backend, "expiresAt" (Redis keeps the heartbeat expiry in a sorted set instead).

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include <scalectl/state/store.hpp>

namespace scalectl::state {

// Returns the stored JSON of `waiter` (its id is the key it is stored under, not a field).
nlohmann::json waiter_to_json(const Waiter& waiter);

// Returns the waiter stored under `id`, or why it is invalid.
std::expected<Waiter, std::string> waiter_from_json(std::string_view id, const nlohmann::json& value);

// Returns the waiter a request would queue as (seq, since and expiry left at 0).
Waiter waiter_of(const AllocateRequest& request);

}  // namespace scalectl::state
