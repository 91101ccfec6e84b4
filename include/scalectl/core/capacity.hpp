#pragma once
// Pure capacity arithmetic in integers (millicores, MiB, and exact decimals for named
// resources). No I/O.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <scalectl/core/numeric.hpp>

namespace scalectl::core {

// An exact decimal amount of a named resource: units / 10^decimals. Each amount carries its own
// fixed-point scale (the fewest decimals that write it exactly, at most k_max_decimals), and
// arithmetic rescales to the finer of two scales, so sums of 7.2 and 0.1 stay exact.
struct Amount {
  std::int64_t units = 0;
  int decimals = 0;

  friend Amount operator+(Amount a, Amount b);
  friend Amount operator-(Amount a, Amount b);
  friend Amount operator*(Amount a, std::int64_t n);
  // Compares values, not representations: {72, 1} == {720, 2}.
  friend bool operator==(Amount a, Amount b);
  friend bool operator<(Amount a, Amount b);
};

inline constexpr int k_max_decimals = 6;
// Largest named amount accepted from a file or flag (a billion: 10^15 units at 6 decimals).
inline constexpr double k_max_named_amount = 1e9;

// Returns the exact amount written as `value` with at most 6 decimals (7.2 -> {72, 1}), or
// nullopt when it is negative, not finite, above k_max_named_amount or needs more decimals.
std::optional<Amount> amount_from_double(double value);
// Returns the amount written as decimal text ("7.2", "242000"), or nullopt if it is not one.
std::optional<Amount> amount_from_text(std::string_view text);
// Returns the decimal text without trailing zeros: {72, 1} -> "7.2", {35000, 3} -> "35".
std::string decimal_text(Amount amount);
// Returns the seed's short form: 832000 -> "832K", 6400000 -> "6.4M", 1600 -> "1600", 7.2 -> "7.2".
std::string compact_text(Amount amount);
// Returns used/usable as the seed writes percentages: one decimal below 10 % ("2.2%"), else a
// whole percent rounded half up ("13%"); "0%" when usable is not positive.
std::string percent_text(Amount used, Amount usable);

struct Resources {
  std::int64_t millicores = 0;
  std::int64_t mib = 0;
  std::map<std::string, Amount> named;  // [capacity.resources.NAME] amounts; missing means 0

  Resources() = default;
  Resources(std::int64_t millicores_, std::int64_t mib_, std::map<std::string, Amount> named_ = {})
      : millicores(millicores_), mib(mib_), named(std::move(named_))
  {
  }

  friend Resources operator+(const Resources& a, const Resources& b);
  friend Resources operator-(const Resources& a, const Resources& b);
  friend Resources operator*(const Resources& a, std::int64_t n);
  // Equal when CPU, RAM and every named amount are equal (a missing name equals 0).
  friend bool operator==(const Resources& a, const Resources& b);
};

// Returns the named amount `name` of `r`, 0 when absent.
Amount named_amount(const Resources& r, const std::string& name);

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

// Returns whether `count` workers needing `need` each fit next to `allocated` within `usable`:
// CPU first, then RAM, then each named resource by name ("Insufficient gemini_rpm (need 7.2,
// available 3.1)").
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

// --- named resources --------------------------------------------------------------------------

// One [capacity.resources.NAME] table: an extra budget next to CPU and RAM (an API's requests or
// tokens per minute, GPUs).
struct NamedResource {
  std::string name;
  Amount limit;
  Amount reserve;    // kept back, like the CPU/RAM reserve; 0 by default
  std::string unit;  // display label, e.g. "RPM"; "" shows the name
};

// Returns "" if `name` can name a resource (a-z first, then a-z, 0-9, _; at most 40; not a
// worker type's own key such as cpu), else why not.
std::string validate_resource_name(std::string_view name);

// Returns "" if `resource` is valid (good name, reserve at most the limit), else why not.
std::string validate_named_resource(const NamedResource& resource);

// Returns what workers may use of `resource`: limit - reserve.
Amount usable_amount(const NamedResource& resource);

// Returns the label used in usage lines: the unit, else the name.
std::string resource_label(const NamedResource& resource);

// --- worker types -----------------------------------------------------------------------------

// One configured kind of worker ([capacity.worker_types.NAME]).
struct WorkerType {
  std::string name;
  Resources need;            // per worker
  std::int64_t priority = 5; // 1-10, higher is more important
};

// Returns "" if `type` is valid, else why not (negative amounts, needs nothing at all, priority
// outside 1-10).
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
