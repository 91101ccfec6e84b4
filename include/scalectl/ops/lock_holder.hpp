#pragma once
// The one form of an operation-lock holder, shared by every noun's status (droplet, app, autoscale).

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include <scalectl/state/store.hpp>

namespace scalectl::ops {

// Returns {"pid","host","user","command","since"} (since as RFC 3339), or null when the lock is free.
nlohmann::json lock_holder_json(const std::optional<state::LockOwner>& holder);

// Returns "held by pid P on HOST by USER (COMMAND) since TIME" for the JSON form above, or "free" for null.
std::string lock_holder_text(const nlohmann::json& holder);

}  // namespace scalectl::ops
