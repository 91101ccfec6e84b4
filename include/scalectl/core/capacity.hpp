#pragma once
// Pure capacity arithmetic in integers (millicores, MiB). No I/O.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <scalectl/core/numeric.hpp>

namespace scalectl::core {

struct Resources {
  std::int64_t millicores = 0;
  std::int64_t mib = 0;

  // Saturating: amounts that come from state files or Redis may be hostile, and a sum that wrapped
  // past INT64_MAX would turn an over-committed pool into free room.
  friend Resources operator+(Resources a, Resources b)
  {
    return {saturating_add(a.millicores, b.millicores), saturating_add(a.mib, b.mib)};
  }
  friend Resources operator-(Resources a, Resources b)
  {
    return {saturating_sub(a.millicores, b.millicores), saturating_sub(a.mib, b.mib)};
  }
  friend Resources operator*(Resources a, std::int64_t n)
  {
    return {saturating_mul(a.millicores, n), saturating_mul(a.mib, n)};
  }
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

// --- server limits ----------------------------------------------------------------------------

// The server as configured (or detected) and the share of it kept for the system.
struct ServerLimits {
  Resources total;                   // max_cpu, max_ram_gb
  double reserved_cpu_percent = 20;  // 0 <= percent < 100
  double reserved_ram_percent = 20;
};

// Returns what workers may use: each total minus its reserve. The percent is taken to 0.01 %
// and the usable amount is rounded to the nearest whole millicore / MiB (halves up), so it is
// within half a MiB of the exact value: 8 vCPUs, 16 GB at 20 % -> 6400 millicores, 13107 MiB
// (13107.2; shown as 6.4 vCPUs, 12.8 GB); 8 GB at 20 % -> 6554 MiB (6553.6; shown as 6.4 GB).
Resources usable_resources(const ServerLimits& limits);

// Returns "" if `limits` is valid, else why not (non-positive totals, percent outside [0, 100)).
std::string validate_limits(const ServerLimits& limits);

// Returns MemTotal of a /proc/meminfo text in MiB (kB / 1024, rounded down), or nullopt.
std::optional<std::int64_t> meminfo_total_mib(std::string_view meminfo);

// Returns part/whole as a whole percent, rounded half up (93.75 -> 94); 0 when whole <= 0.
std::int64_t percent_of(std::int64_t part, std::int64_t whole);

// --- worker types -----------------------------------------------------------------------------

// One configured kind of worker ([capacity.worker_types.NAME]).
struct WorkerType {
  std::string name;
  Resources need;            // per worker
  std::int64_t priority = 5; // 1-10, higher is more important
};

// Returns "" if `type` is valid, else why not (negative amounts, both zero, priority outside 1-10).
std::string validate_worker_type(const WorkerType& type);

// Returns the type called `name`, or nullptr.
const WorkerType* find_worker_type(const std::vector<WorkerType>& types, std::string_view name);

// Returns how many workers needing `need` fit in `available` (0 if none; `need` must not be zero).
std::int64_t fit_count(Resources available, Resources need);

// --- plan -------------------------------------------------------------------------------------

enum class WorkerPlanStrategy {
  // Rounds: in each round every type, in priority order, takes one more worker if it fits and
  // is below its want; rounds repeat until one adds nothing. Gives mixes like the seed's tables.
  balanced,
  // Each type in priority order takes as many workers as fit (up to its want) before the next.
  priority,
};

struct WorkerPlanRow {
  WorkerType type;
  std::optional<std::int64_t> want;  // --want cap, nullopt when uncapped
  std::int64_t count = 0;
  Resources total;                   // type.need * count
};

struct WorkerPlan {
  Resources usable;
  std::vector<WorkerPlanRow> rows;  // priority order (higher first, ties in config order)
  Resources used;             // sum of rows[].total
  std::int64_t workers = 0;   // sum of rows[].count
};

// Recommends how many workers of each type fit in `usable`. `types` is in config order; `wants`
// caps types by name (types not named are uncapped; names must be known types, counts >= 0).
// Every type needs a non-zero amount. The result fits (used <= usable) and is maximal: no type
// below its want can take one more worker.
WorkerPlan plan_workers(Resources usable, const std::vector<WorkerType>& types,
                        const std::map<std::string, std::int64_t>& wants, WorkerPlanStrategy strategy);

}  // namespace scalectl::core
