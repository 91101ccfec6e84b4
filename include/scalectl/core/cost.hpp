#pragma once
// The droplet cost report as a pure function: recorded resizes and size prices in, hours and
// dollars out.
//
// Billing model (DigitalOcean's for Droplets): a size is billed per hour used at price_hourly,
// and what one size costs in one calendar month (UTC) never exceeds its price_monthly (the cap is
// reached after price_monthly / price_hourly = 672 hours). Time is counted exactly, in fractional
// hours, from one recorded resize to the next; a droplet is billed while off, so the minutes of a
// resize count at the size it was leaving. The cap is applied to the hours inside the window
// only. Each size's cost in each month is rounded to the cent, then the cents are summed.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace scalectl::core {

struct SizePrice {
  double price_hourly = 0;
  double price_monthly = 0;
};

// One completed resize, as the resize driver records it in the `droplet-resizes` log.
struct ResizeRecord {
  std::int64_t time_ms = 0;  // Unix milliseconds when the resize action completed
  std::string from;
  std::string to;
};

struct CostInput {
  std::int64_t start_ms = 0;  // window start, inclusive (Unix milliseconds)
  std::int64_t end_ms = 0;    // window end, exclusive
  std::vector<ResizeRecord> resizes;  // this droplet's resizes at or after start_ms, in any order
  std::string current_size;           // the droplet's size now
  std::string baseline_size;          // the size it would otherwise have stayed at (up_size)
  std::map<std::string, SizePrice> prices;  // by slug, from GET /v2/sizes
};

struct SizeCost {
  std::string size;
  double hours = 0;
  std::int64_t cost_cents = 0;
  bool capped = false;  // the monthly cap applied in at least one month
  bool priced = true;   // false when the size has no price; its cost then counts as 0
  SizePrice price;
};

struct CostReport {
  std::string start_size;             // the size at the window start
  std::vector<SizeCost> sizes;        // in order of first use inside the window
  double hours = 0;                   // length of the window
  std::int64_t actual_cents = 0;
  std::int64_t baseline_cents = 0;    // had it stayed at baseline_size all the window
  std::int64_t saving_cents = 0;      // baseline - actual; negative when the history cost more
  bool baseline_capped = false;
  int resizes = 0;                    // resizes inside the window
  std::vector<std::string> warnings;  // gaps in the history, sizes without a price
};

// Returns the hours and cost per size over [start_ms, end_ms), the baseline and the saving.
// The size at the window start is the `from` of the first resize at or after start_ms, or
// current_size when there is none. Throws std::invalid_argument when end_ms <= start_ms.
CostReport compute_cost(const CostInput& input);

// Formats cents as dollars with two decimals, e.g. 2621 -> "26.21", -5 -> "-0.05".
std::string format_dollars(std::int64_t cents);

}  // namespace scalectl::core
