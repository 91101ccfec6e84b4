#pragma once
// Human durations: "500ms", "30s", "5m", "2h", "1d", "1h30m"; a bare number means seconds.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace scalectl {

// Returns the parsed duration, or nullopt if `text` is not a valid non-negative duration.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Formats a duration compactly, e.g. 90s -> "1m30s", 1500ms -> "1.5s".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace scalectl
