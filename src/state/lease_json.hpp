#pragma once
// Lease and lock-owner <-> JSON, shared by both backends.
//
// A lease is stored as the JSON object the seed's TypeScript workers write,
//   {"type","cpu","ram","startedAt"}   (cpu in vCPUs, ram in GB, startedAt in Unix ms),
// plus scalectl's fields "expiresAt" (Unix ms, absent without TTL), "host", "pid",
// "millicores", "mib" and, when the worker type needs named resources, "resources": {name:
// decimal text, e.g. "7.2"} (text, so the amount stays exact). Leases that only carry the seed's
// fields are read too: their amounts are llround(cpu * 1000) millicores and llround(ram * 1024) MiB.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include <scalectl/state/store.hpp>

namespace scalectl::state {

// Returns the stored JSON of `lease` (its id is the key it is stored under, not a field).
nlohmann::json lease_to_json(const Lease& lease);

// Returns the lease stored under `id`, with `expired` set against `now_ms`, or why it is invalid.
std::expected<Lease, std::string> lease_from_json(std::string_view id, const nlohmann::json& value,
                                                  std::int64_t now_ms);

// Same, parsing `text` first.
std::expected<Lease, std::string> lease_from_text(std::string_view id, std::string_view text, std::int64_t now_ms);

// Returns the lease stored under `id`, or, if it is invalid, a placeholder with only the id and
// type "(invalid)" (purge reports what it removed even when it cannot be parsed).
Lease lease_or_placeholder(std::string_view id, const nlohmann::json& value, std::int64_t now_ms);

// Returns true if `lease` has a TTL that has run out at `now_ms`.
bool lease_expired(const Lease& lease, std::int64_t now_ms);

// Sorts leases by started_at_ms, then id.
void sort_leases(std::vector<Lease>& leases);

// Returns the JSON of a lock owner: {"pid","host","user","command","since_ms"}.
nlohmann::json owner_to_json(const LockOwner& owner);

// Returns the owner described by `value`, or why it is not one.
std::expected<LockOwner, std::string> owner_from_json(const nlohmann::json& value);

}  // namespace scalectl::state
