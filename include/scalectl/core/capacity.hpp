#pragma once
// Pure capacity arithmetic in integers (millicores, MiB). No I/O.

#include <cstdint>
#include <string>
#include <vector>

namespace scalectl::core {

struct Resources {
  std::int64_t millicores = 0;
  std::int64_t mib = 0;

  friend Resources operator+(Resources a, Resources b) { return {a.millicores + b.millicores, a.mib + b.mib}; }
  friend Resources operator-(Resources a, Resources b) { return {a.millicores - b.millicores, a.mib - b.mib}; }
  friend Resources operator*(Resources a, std::int64_t n) { return {a.millicores * n, a.mib * n}; }
  friend bool operator==(Resources, Resources) = default;
};

// Converts vCPUs and GB (as users write them: 1.5, 0.75) to exact integers, rounding to nearest.
Resources resources_from(double vcpus, double ram_gb);

// Formats millicores as vCPUs without trailing zeros: 1400 -> "1.4", 3000 -> "3".
std::string format_vcpus(std::int64_t millicores);
// Formats MiB as GB without trailing zeros: 768 -> "0.75", 1024 -> "1".
std::string format_gb(std::int64_t mib);

struct FitResult {
  bool fits = false;
  std::string reason;      // seed wording: "Insufficient CPU (need 3, available 1.4)"; "" when it fits
  Resources available;     // usable - allocated (may be negative if over-committed)
};

// Returns whether `count` workers needing `need` each fit next to `allocated` within `usable`.
FitResult check_fit(Resources usable, Resources allocated, Resources need, std::int64_t count = 1);

}  // namespace scalectl::core
