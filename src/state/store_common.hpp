#pragma once
// Helpers shared by both state-store backends: name checks, the lock-wait loop and its
// message, log-entry times, random tokens and request validation.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/error.hpp>
#include <scalectl/state/store.hpp>

namespace scalectl::state {

// Throws Error(usage) unless `name` is non-empty, at most 200 bytes and free of control characters.
void check_name(std::string_view what, std::string_view name);

// Returns `name` as one safe file-name component: [A-Za-z0-9_.-] are kept, every other byte
// (and a leading '.') becomes %XX, so distinct names map to distinct files; an escaped name
// longer than 200 bytes is cut and suffixed with "~" and the SHA-1 of the whole name.
std::string file_component(std::string_view name);

// Returns `me` with pid and host filled in from this process when they are unset.
LockOwner complete_owner(const LockOwner& me);

// Returns Unix milliseconds for `t`.
std::int64_t unix_ms(SystemTime t);

// Returns the Error(lock_held) that tells the user who holds `resource` and what to do.
Error lock_held_error(std::string_view resource, const std::optional<LockOwner>& holder, SystemTime now);

// Polls `try_once` about every 100 ms until it returns a lock or `wait` has elapsed (at least
// once); then throws lock_held_error with `holder()`. Throws Interrupted on SIGINT/SIGTERM.
std::unique_ptr<OperationLock> wait_for_lock(std::string_view resource, std::chrono::milliseconds wait, Clock& clock,
                                             const std::function<std::unique_ptr<OperationLock>()>& try_once,
                                             const std::function<std::optional<LockOwner>()>& holder);

// Returns the entry's "time_ms" as an integer, or 0 when it has none.
std::int64_t log_entry_time(const nlohmann::json& entry);

// Returns 32 lowercase hex characters read from /dev/urandom; throws Error(failure) if it cannot.
std::string random_token();

// Throws Error(usage) unless the pool, id, amounts and TTL of `request` are valid.
void check_allocate_request(const AllocateRequest& request);

// Throws Error(usage) unless `ttl` is positive.
void check_ttl(std::chrono::milliseconds ttl);

// Returns the fit result reported for an allocation decided against `allocated` (live leases
// before it); for an already-held lease, `allocated` includes `need` itself.
core::FitResult fit_against(core::Resources usable, core::Resources allocated, core::Resources need,
                            bool already_held);

}  // namespace scalectl::state
