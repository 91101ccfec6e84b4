#pragma once
// Redis Cluster support of RedisConnection (src/state/redis_cluster.cpp): routing by key slot,
// MOVED/ASK redirects, TRYAGAIN retries, and the message for keys in different slots.

#include <span>
#include <string>
#include <string_view>

namespace scalectl::state {

// Throws the Error(failure) for a -CROSSSLOT reply from `address` to an operation on `keys`:
// one line naming every key with its slot and what to do (a pool name with a hash tag).
[[noreturn]] void throw_cross_slot(const std::string& address, std::span<const std::string_view> keys,
                                   std::string_view doing);

}  // namespace scalectl::state
