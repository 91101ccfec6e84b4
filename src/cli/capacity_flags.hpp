#pragma once
// Duration flags shared by the `capacity` verbs of one pool (capacity_cmd.cpp) and of several
// pools (capacity_pools_cmd.cpp).

#include <chrono>
#include <optional>
#include <string>

namespace scalectl::cli {

// Returns the duration `text` names; throws Error(usage) naming `flag` unless it is positive.
std::chrono::milliseconds positive_duration(const std::string& text, const char* flag);

// Returns the lease TTL `--ttl TEXT` asks for: nullopt (no expiry) for "none", the positive
// duration given, or `fallback` when TEXT is empty; throws Error(usage) otherwise.
std::optional<std::chrono::milliseconds> lease_ttl(const std::string& text,
                                                   std::optional<std::chrono::milliseconds> fallback);

}  // namespace scalectl::cli
