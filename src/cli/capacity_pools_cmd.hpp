#pragma once
// `capacity` verbs for worker types that draw from several pools (this host's and shared ones):
// flags to ops:: calls in src/ops/capacity_multi.cpp, then text or JSON.

#include <cstdint>
#include <string>

#include <scalectl/core/capacity.hpp>
#include <scalectl/ops/capacity.hpp>

#include "cli/capacity_view.hpp"

namespace scalectl::cli {

class Context;

// The allocate flags as given.
struct PoolsAllocateFlags {
  std::string id;
  std::string ttl;
  std::string wait;
  bool notify = false;
};

// Returns true when the configuration declares [capacity.shared_pools.*].
bool has_shared_pools(Context& ctx);

// `capacity check TYPE` against every pool TYPE draws from; sets exit 3 when it does not fit.
void run_check_pools(Context& ctx, const ops::CapacitySettings& settings, const core::WorkerType& type,
                     std::int64_t count);

// `capacity allocate TYPE` in every pool TYPE draws from, all or nothing; prints the worker id.
void run_allocate_pools(Context& ctx, const ops::CapacitySettings& settings, const core::WorkerType& type,
                        const PoolsAllocateFlags& flags);

// `capacity renew ID` in every pool; exit 3 when a pool the worker draws from lost the lease.
void run_renew_pools(Context& ctx, const std::string& id, const std::string& ttl_text);

// `capacity release ID` in every pool.
void run_release_pools(Context& ctx, const std::string& id);

// `capacity status` with one section per shared pool after this host's pool.
void run_status_pools(Context& ctx, const capacity_view::StatusView& view);

// Returns the lines naming which pool holds which resources ("" without shared pools).
std::string shared_pools_note(const ops::CapacitySettings& settings);

}  // namespace scalectl::cli
