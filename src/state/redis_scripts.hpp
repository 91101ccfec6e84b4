#pragma once
// The Lua scripts of the Redis backend. Each multi-key operation is one script, so it is atomic
// on the server; scripts get keys only through KEYS and values through ARGV (Redis Cluster
// safe), and read time with redis.call('TIME'), never from the client. Redis does not roll a
// script back when it fails, so every script validates all it reads before its first write.

#include <string>

namespace scalectl::state {

struct LuaScript {
  std::string name;    // for messages, e.g. "lease-allocate"
  std::string source;  // the Lua text sent with EVAL
  std::string sha1;    // its SHA-1, sent with EVALSHA
};

// Lease scripts. KEYS: <pool>:workers, <pool>:cpu:allocated, <pool>:ram:allocated,
// <pool>:scalectl:totals, <pool>:scalectl:expiry, then <pool>:<name>:allocated for each name of
// A.names, then the three waiter-queue keys (see redis_scripts.cpp). ARGV[1]: one JSON document A of arguments. Each returns one JSON document: {"now",
// "mc", "mib", "res" (usage before the change), "outcome", "lease" (raw JSON), "reaped" /
// "leases" ([id, raw] pairs)}, or {"outcome": "retry", "names"} when the pool counts a named
// resource whose key was not passed (nothing written).
const LuaScript& lease_allocate_script();  // A: id, lease, ttl ms (0 = none), need and usable {mc, mib, res}
const LuaScript& lease_renew_script();     // A: id, ttl ms
const LuaScript& lease_release_script();   // A: id
const LuaScript& lease_purge_script();     // A: {}
const LuaScript& lease_snapshot_script();  // A: {}
const LuaScript& lease_repair_script();    // A: {}
// Fair waiting: lease_allocate_script also takes A.priority, A.queue_ttl ms (0: a one-shot
// request that never queues) and A.waiter (waiter JSON without seq/since), and returns
// "blocker" ([id, raw, heartbeat expiry]) and "position"; the snapshot returns "waiters".
const LuaScript& waiter_leave_script();    // A: id; returns {"outcome": "left" | "absent"}

// Operation-lock scripts. KEYS: the lock key. ARGV[1]: the exact value the holder set.
const LuaScript& lock_renew_script();    // ARGV[2]: ttl ms; returns 1 if still ours and extended, else 0
const LuaScript& lock_release_script();  // returns 1 if it was ours and is deleted, else 0

// Record compare-and-set. KEYS: the record key. ARGV: "1" if a value was read else "0", the value
// read, the new value. Returns 1 if written, 0 if the record changed since it was read.
const LuaScript& record_cas_script();

}  // namespace scalectl::state
