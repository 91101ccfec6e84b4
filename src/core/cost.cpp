#include <scalectl/core/cost.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include <scalectl/clock.hpp>

namespace scalectl::core {

namespace {

constexpr double k_ms_per_hour = 3'600'000.0;

using Months = std::map<int, std::int64_t>;  // year * 12 + month index -> milliseconds

// Returns the calendar month (UTC) of `ms` as year * 12 + month - 1, and where that month ends.
std::pair<int, std::int64_t> month_of(std::int64_t ms)
{
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(ms)));
  const year_month_day ymd(day);
  const year_month next = year_month(ymd.year(), ymd.month()) + months(1);
  const sys_days next_start(next / 1);
  const auto key = static_cast<int>(ymd.year()) * 12 + static_cast<int>(static_cast<unsigned>(ymd.month())) - 1;
  return {key, duration_cast<milliseconds>(next_start.time_since_epoch()).count()};
}

// Adds the milliseconds of [from, to) to `months`, split at calendar-month boundaries.
void add_span(Months& months, std::int64_t from, std::int64_t to)
{
  while (from < to) {
    const auto [key, month_end] = month_of(from);
    const std::int64_t until = std::min(to, month_end);
    months[key] += until - from;
    from = until;
  }
}

struct Priced {
  std::int64_t cents = 0;
  bool capped = false;
};

// Returns the cost of `months` at `price`: hourly, capped at the monthly price in each month.
Priced price_months(const Months& months, const SizePrice& price)
{
  Priced out;
  for (const auto& [key, ms] : months) {
    double dollars = static_cast<double>(ms) / k_ms_per_hour * price.price_hourly;
    if (price.price_monthly > 0 && dollars > price.price_monthly) {
      dollars = price.price_monthly;
      out.capped = true;
    }
    out.cents += std::llround(dollars * 100.0);
  }
  return out;
}

std::string format_ms(std::int64_t ms)
{
  return format_rfc3339(SystemTime(std::chrono::milliseconds(ms)));
}

}  // namespace

std::string format_dollars(std::int64_t cents)
{
  const std::int64_t magnitude = cents < 0 ? -cents : cents;
  return fmt::format("{}{}.{:02}", cents < 0 ? "-" : "", magnitude / 100, magnitude % 100);
}

CostReport compute_cost(const CostInput& input)
{
  if (input.end_ms <= input.start_ms) {
    throw std::invalid_argument("the cost window must end after it starts");
  }
  std::vector<ResizeRecord> resizes;
  for (const auto& r : input.resizes) {
    if (r.time_ms >= input.start_ms) {
      resizes.push_back(r);
    }
  }
  std::stable_sort(resizes.begin(), resizes.end(),
                   [](const ResizeRecord& a, const ResizeRecord& b) { return a.time_ms < b.time_ms; });

  CostReport report;
  report.hours = static_cast<double>(input.end_ms - input.start_ms) / k_ms_per_hour;
  report.start_size = resizes.empty() ? input.current_size : resizes.front().from;

  std::vector<std::string> order;
  std::map<std::string, Months> usage;
  auto use = [&](const std::string& size, std::int64_t from, std::int64_t to) {
    if (from >= to) {
      return;
    }
    if (!usage.contains(size)) {
      order.push_back(size);
    }
    add_span(usage[size], from, to);
  };

  std::string size = report.start_size;
  std::int64_t since = input.start_ms;
  std::size_t next = 0;
  for (; next < resizes.size() && resizes[next].time_ms < input.end_ms; ++next) {
    const auto& r = resizes[next];
    if (r.from != size) {
      report.warnings.push_back(fmt::format("the resize at {} went from {}, but the history before it left the "
                                            "droplet at {}; a resize is missing from the history",
                                            format_ms(r.time_ms), r.from, size));
    }
    use(size, since, r.time_ms);
    size = r.to;
    since = r.time_ms;
    ++report.resizes;
  }
  use(size, since, input.end_ms);
  const std::string after = next < resizes.size() ? resizes[next].from : input.current_size;
  if (!after.empty() && after != size) {
    report.warnings.push_back(fmt::format("the history ends at {} but the droplet was at {} afterwards; a resize is "
                                          "missing from the history",
                                          size, after));
  }

  for (const auto& slug : order) {
    SizeCost row;
    row.size = slug;
    for (const auto& [key, ms] : usage[slug]) {
      row.hours += static_cast<double>(ms) / k_ms_per_hour;
    }
    const auto price = input.prices.find(slug);
    if (price == input.prices.end()) {
      row.priced = false;
      report.warnings.push_back(fmt::format("size {} has no price in /v2/sizes; its {:.1f} hours count as $0",
                                            slug, row.hours));
    } else {
      row.price = price->second;
      const auto cost = price_months(usage[slug], row.price);
      row.cost_cents = cost.cents;
      row.capped = cost.capped;
    }
    report.actual_cents += row.cost_cents;
    report.sizes.push_back(row);
  }

  const auto baseline = input.prices.find(input.baseline_size);
  if (baseline == input.prices.end()) {
    report.warnings.push_back(fmt::format("the baseline size {} has no price in /v2/sizes; the saving is unknown",
                                          input.baseline_size.empty() ? "(none)" : input.baseline_size));
  } else {
    Months window;
    add_span(window, input.start_ms, input.end_ms);
    const auto cost = price_months(window, baseline->second);
    report.baseline_cents = cost.cents;
    report.baseline_capped = cost.capped;
  }
  report.saving_cents = report.baseline_cents - report.actual_cents;
  return report;
}

}  // namespace scalectl::core
