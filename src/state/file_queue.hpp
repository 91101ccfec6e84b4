#pragma once
// The waiter queue of the file backend on one pool's JSON object: {"waiters": {id: waiter},
// "wait_seq": last seq}. Pure: data and the current time in, the changed pool out. The caller
// holds the state-file lock (the file backend reads the whole file anyway, so this is O(n)).

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <scalectl/state/store.hpp>

namespace scalectl::state {

// Removes the waiters whose heartbeat ran out at `now_ms`, and entries that do not parse.
void queue_reap(nlohmann::json& pool, std::int64_t now_ms);

// Adds the waiter of `request` at the back of its priority (a new seq), or, if it is queued
// already, extends its heartbeat to now + request.queue_ttl keeping its place.
void queue_join(nlohmann::json& pool, const AllocateRequest& request, std::int64_t now_ms);

// Removes waiter `id`; returns true if it was queued.
bool queue_leave(nlohmann::json& pool, std::string_view id);

// Returns the live waiters of `pool` in admission order (priority desc, then seq, then id).
std::vector<Waiter> queue_list(const nlohmann::json& pool, std::int64_t now_ms);

// Where `request` stands against the live queue `order`.
struct QueuePlace {
  std::optional<Waiter> blocker;  // the first waiter ahead that does not fit yet, when it refuses the request
  core::Resources reserved;       // the needs of the waiters ahead (room the request must leave them)
  std::int64_t position = 0;      // the request's 1-based place when it is queued, else 0
};

// Waiters ahead of `request` are all before it in `order` (for a one-shot request: those of at
// least its priority); they keep room for their needs in order, next to `allocated` within
// `request.usable`. Returns the first of them that does not fit as the blocker; else, when the
// request fits alone but not next to them, the first of them. More than k_queue_ahead waiters
// ahead count as not fitting (the cost per call stays bounded, as in the Redis backend).
QueuePlace queue_place(const std::vector<Waiter>& order, const AllocateRequest& request,
                       const core::Resources& allocated);

// The number of waiters ahead whose needs are reserved (redis_scripts.cpp's k_ahead).
inline constexpr std::size_t k_queue_ahead = 32;

}  // namespace scalectl::state
