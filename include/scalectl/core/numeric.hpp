#pragma once
// Float-to-integer conversion without undefined behaviour: every double that comes from a file,
// a flag, Redis or the API goes through here before it becomes an integer.

#include <cmath>
#include <cstdint>

namespace scalectl::core {

// Largest magnitude accepted for counts and amounts from outside (2^53: exact in a double, and
// far from INT64 overflow when a few are added or multiplied by 1000).
inline constexpr std::int64_t k_max_amount = std::int64_t{1} << 53;

// Bounds of what a user may ask for, checked where a flag or key enters (exit 2 beyond them):
// worker counts, and a server's vCPUs and RAM. The config schema uses the same figures.
inline constexpr std::int64_t k_max_workers = 100'000;
inline constexpr double k_max_vcpus = 100'000;
inline constexpr double k_max_ram_gb = 10'000'000;

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

// Integer arithmetic that clamps to [INT64_MIN, INT64_MAX] instead of overflowing.
inline std::int64_t saturating_add(std::int64_t a, std::int64_t b)
{
  std::int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) {
    return b > 0 ? INT64_MAX : INT64_MIN;
  }
  return out;
}

inline std::int64_t saturating_sub(std::int64_t a, std::int64_t b)
{
  std::int64_t out = 0;
  if (__builtin_sub_overflow(a, b, &out)) {
    return b < 0 ? INT64_MAX : INT64_MIN;
  }
  return out;
}

inline std::int64_t saturating_mul(std::int64_t a, std::int64_t b)
{
  std::int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) {
    return (a < 0) == (b < 0) ? INT64_MAX : INT64_MIN;
  }
  return out;
}

}  // namespace scalectl::core
