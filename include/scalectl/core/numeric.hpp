#pragma once
// Float-to-integer conversion without undefined behaviour: every double that comes from a file,
// a flag, Redis or the API goes through here before it becomes an integer.

#include <cmath>
#include <cstdint>

namespace scalectl::core {

// Largest magnitude accepted for counts and amounts from outside (2^53: exact in a double, and
// far from INT64 overflow when a few are added or multiplied by 1000).
inline constexpr std::int64_t k_max_amount = std::int64_t{1} << 53;

// Returns `value` truncated toward zero and clamped to [lo, hi]; NaN gives `lo`.
inline std::int64_t clamp_to_int64(double value, std::int64_t lo, std::int64_t hi)
{
  if (std::isnan(value) || value <= static_cast<double>(lo)) {
    return lo;
  }
  if (value >= static_cast<double>(hi)) {
    return hi;
  }
  return static_cast<std::int64_t>(value);
}

}  // namespace scalectl::core
