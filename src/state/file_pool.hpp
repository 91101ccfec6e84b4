#pragma once
// Capacity-lease operations of the file backend on one pool's JSON object, {"workers": {id:
// lease}}. Pure: data and the current time in, the changed pool and a result out. The caller
// holds the state-file lock around read, operation and write.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <scalectl/state/store.hpp>

namespace scalectl::state {

// Allocates `request` in `pool` at `now_ms`, reaping expired leases first.
AllocateResult pool_allocate(nlohmann::json& pool, const AllocateRequest& request, std::int64_t now_ms,
                             const std::string& where);

// Extends the live lease `id` to now + ttl; expired and unknown leases are not re-acquired.
RenewResult pool_renew(nlohmann::json& pool, std::string_view id, std::chrono::milliseconds ttl, std::int64_t now_ms,
                       const std::string& where);

// Removes lease `id` if present (idempotent); reaps expired leases.
ReleaseResult pool_release(nlohmann::json& pool, std::string_view id, std::int64_t now_ms, const std::string& where);

// Removes every lease and returns them; entries that do not parse are returned with type "(invalid)".
std::vector<Lease> pool_purge(nlohmann::json& pool, std::int64_t now_ms);

// Returns all leases (expired ones flagged, not reaped) and the sum of the live ones.
PoolSnapshot pool_snapshot(const nlohmann::json& pool, std::int64_t now_ms, const std::string& where);

}  // namespace scalectl::state
