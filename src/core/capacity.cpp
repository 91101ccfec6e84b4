#include <scalectl/core/capacity.hpp>
#include <scalectl/core/numeric.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include <fmt/format.h>

namespace scalectl::core {

namespace {

constexpr std::int64_t k_unlimited = std::numeric_limits<std::int64_t>::max();

// Formats value/1000 (or /1024) with up to 3 decimals and no trailing zeros.
std::string format_scaled(std::int64_t value, double unit)
{
  std::string text = fmt::format("{:.3f}", static_cast<double>(value) / unit);
  while (!text.empty() && text.back() == '0') {
    text.pop_back();
  }
  if (!text.empty() && text.back() == '.') {
    text.pop_back();
  }
  return text == "-0" ? "0" : text;
}

// Returns `total` minus `percent` of it, rounded to nearest (halves up); percent is taken in
// basis points. Split as q * 10000 + r so that it cannot overflow.
std::int64_t after_reserve(std::int64_t total, double percent)
{
  const auto keep = 10'000 - static_cast<std::int64_t>(std::llround(percent * 100.0));
  return total / 10'000 * keep + (total % 10'000 * keep + 5'000) / 10'000;
}

bool valid_percent(double percent)
{
  return std::isfinite(percent) && percent >= 0 && percent < 100;
}

std::int64_t fit_one_dimension(std::int64_t available, std::int64_t need)
{
  if (need <= 0) {
    return k_unlimited;
  }
  return available <= 0 ? 0 : available / need;
}

// 128-bit intermediates for products of two int64 amounts (a GCC/Clang extension).
__extension__ typedef __int128 Wide;

constexpr std::int64_t k_pow10[k_max_decimals + 1] = {1, 10, 100, 1'000, 10'000, 100'000, 1'000'000};

// Returns `units` * 10^`by`, saturated to the int64 range.
std::int64_t scale_up(std::int64_t units, int by)
{
  std::int64_t out = 0;
  if (__builtin_mul_overflow(units, k_pow10[std::clamp(by, 0, k_max_decimals)], &out)) {
    return units < 0 ? std::numeric_limits<std::int64_t>::min() : k_unlimited;
  }
  return out;
}

std::int64_t saturate(Wide value)
{
  return static_cast<std::int64_t>(std::clamp<Wide>(value, std::numeric_limits<std::int64_t>::min(), k_unlimited));
}

// Returns a and b in units of the finer of their two scales, and that scale.
struct Common {
  std::int64_t a = 0;
  std::int64_t b = 0;
  int decimals = 0;
};

Common common(Amount a, Amount b)
{
  const int d = std::max(a.decimals, b.decimals);
  return {scale_up(a.units, d - a.decimals), scale_up(b.units, d - b.decimals), d};
}

// Returns num / den rounded half up (den > 0, num >= 0).
Wide round_div(Wide num, Wide den)
{
  return (2 * num + den) / (2 * den);
}

// Formats `whole`.`frac` (frac has `digits` digits) without trailing zeros.
std::string fixed_text(Wide value, int digits)
{
  const bool negative = value < 0;
  const Wide magnitude = negative ? -value : value;
  const auto unit = static_cast<Wide>(k_pow10[digits]);
  std::string text = fmt::format("{}{}", negative ? "-" : "", static_cast<std::int64_t>(magnitude / unit));
  if (const auto frac = static_cast<std::int64_t>(magnitude % unit); frac != 0) {
    std::string digits_text = fmt::format("{:0{}}", frac, digits);
    while (digits_text.back() == '0') {
      digits_text.pop_back();
    }
    text += "." + digits_text;
  }
  return text;
}

std::int64_t fit_named(Amount available, Amount need)
{
  const auto c = common(available, need);
  if (c.b <= 0) {
    return k_unlimited;
  }
  return c.a <= 0 ? 0 : c.a / c.b;
}

}  // namespace

Amount operator+(Amount a, Amount b)
{
  const auto c = common(a, b);
  return {saturate(static_cast<Wide>(c.a) + c.b), c.decimals};
}

Amount operator-(Amount a, Amount b)
{
  const auto c = common(a, b);
  return {saturate(static_cast<Wide>(c.a) - c.b), c.decimals};
}

Amount operator*(Amount a, std::int64_t n)
{
  return {saturate(static_cast<Wide>(a.units) * n), a.decimals};
}

bool operator==(Amount a, Amount b)
{
  const auto c = common(a, b);
  return c.a == c.b;
}

bool operator<(Amount a, Amount b)
{
  const auto c = common(a, b);
  return c.a < c.b;
}

std::optional<Amount> amount_from_double(double value)
{
  if (!std::isfinite(value) || value < 0 || value > k_max_named_amount) {
    return std::nullopt;
  }
  for (int d = 0; d <= k_max_decimals; ++d) {
    const auto scale = static_cast<double>(k_pow10[d]);
    const auto units = std::llround(value * scale);
    if (static_cast<double>(units) / scale == value) {
      return Amount{units, d};
    }
  }
  return std::nullopt;
}

std::optional<Amount> amount_from_text(std::string_view text)
{
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  const auto digits = [](std::string_view part) {
    return std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || !digits(whole) || !digits(frac) || (dot != std::string_view::npos && frac.empty()) ||
      frac.size() > static_cast<std::size_t>(k_max_decimals) || whole.size() + frac.size() > 15) {
    return std::nullopt;
  }
  std::int64_t units = 0;
  for (const char c : whole) {
    units = units * 10 + (c - '0');
  }
  for (const char c : frac) {
    units = units * 10 + (c - '0');
  }
  return Amount{units, static_cast<int>(frac.size())};
}

std::string decimal_text(Amount amount)
{
  return fixed_text(amount.units, std::clamp(amount.decimals, 0, k_max_decimals));
}

std::string compact_text(Amount amount)
{
  const auto d = std::clamp(amount.decimals, 0, k_max_decimals);
  const Wide magnitude = amount.units < 0 ? -static_cast<Wide>(amount.units) : amount.units;
  const char* sign = amount.units < 0 ? "-" : "";
  const auto unit = static_cast<Wide>(k_pow10[d]);
  if (magnitude >= 1'000'000 * unit) {
    return sign + fixed_text(round_div(magnitude * 100, 1'000'000 * unit), 2) + "M";
  }
  if (magnitude >= 10'000 * unit) {
    return sign + fixed_text(round_div(magnitude * 100, 1'000 * unit), 2) + "K";
  }
  return decimal_text(amount);
}

std::string percent_text(Amount used, Amount usable)
{
  const auto c = common(used, usable);
  if (c.b <= 0) {
    return "0%";
  }
  const Wide part = std::max<std::int64_t>(0, c.a);
  const auto tenths = round_div(part * 1000, c.b);
  if (tenths < 100) {
    return fixed_text(tenths, 1) + "%";
  }
  return fmt::format("{}%", static_cast<std::int64_t>(round_div(part * 100, c.b)));
}

namespace {

template <class Op>
std::map<std::string, Amount> merge(const std::map<std::string, Amount>& a, const std::map<std::string, Amount>& b,
                                    Op op)
{
  std::map<std::string, Amount> out = a;
  for (const auto& [name, amount] : b) {
    out[name] = op(out[name], amount);
  }
  return out;
}

}  // namespace

Resources operator+(const Resources& a, const Resources& b)
{
  // Saturating: amounts from state files or Redis may be hostile, and a sum that wrapped past
  // INT64_MAX would turn an over-committed pool into free room.
  return {saturating_add(a.millicores, b.millicores), saturating_add(a.mib, b.mib),
          merge(a.named, b.named, std::plus<>())};
}

Resources operator-(const Resources& a, const Resources& b)
{
  return {saturating_sub(a.millicores, b.millicores), saturating_sub(a.mib, b.mib),
          merge(a.named, b.named, std::minus<>())};
}

Resources operator*(const Resources& a, std::int64_t n)
{
  Resources out{saturating_mul(a.millicores, n), saturating_mul(a.mib, n), a.named};
  for (auto& [name, amount] : out.named) {
    amount = amount * n;
  }
  return out;
}

bool operator==(const Resources& a, const Resources& b)
{
  if (a.millicores != b.millicores || a.mib != b.mib) {
    return false;
  }
  const auto same = [](const std::map<std::string, Amount>& x, const Resources& y) {
    return std::all_of(x.begin(), x.end(), [&](const auto& entry) { return entry.second == named_amount(y, entry.first); });
  };
  return same(a.named, b) && same(b.named, a);
}

Amount named_amount(const Resources& r, const std::string& name)
{
  const auto it = r.named.find(name);
  return it == r.named.end() ? Amount{} : it->second;
}

std::string validate_resource_name(std::string_view name)
{
  static constexpr std::string_view k_reserved[] = {"cpu", "ram", "ram_gb", "priority", "workers", "scalectl", "pool"};
  const bool shape = !name.empty() && name.size() <= 40 && name.front() >= 'a' && name.front() <= 'z' &&
                     std::all_of(name.begin(), name.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                     });
  if (!shape) {
    return fmt::format("resource name '{}' must start with a-z and use only a-z, 0-9 and '_' (at most 40)", name);
  }
  if (std::find(std::begin(k_reserved), std::end(k_reserved), name) != std::end(k_reserved)) {
    return fmt::format("'{}' cannot name a resource; it is a built-in key", name);
  }
  return {};
}

std::string validate_named_resource(const NamedResource& resource)
{
  if (auto why = validate_resource_name(resource.name); !why.empty()) {
    return why;
  }
  if (resource.limit < resource.reserve) {
    return fmt::format("resource '{}' keeps a reserve of {}, more than its limit {}", resource.name,
                       decimal_text(resource.reserve), decimal_text(resource.limit));
  }
  return {};
}

Amount usable_amount(const NamedResource& resource)
{
  return resource.limit - resource.reserve;
}

std::string resource_label(const NamedResource& resource)
{
  return resource.unit.empty() ? resource.name : resource.unit;
}

Resources resources_from(double vcpus, double ram_gb)
{
  return {std::llround(vcpus * 1000.0), std::llround(ram_gb * 1024.0)};
}

std::string format_vcpus(std::int64_t millicores)
{
  return format_scaled(millicores, 1000.0);
}

std::string format_gb(std::int64_t mib)
{
  return format_scaled(mib, 1024.0);
}

FitResult check_fit(Resources usable, Resources allocated, Resources need, std::int64_t count)
{
  FitResult result;
  result.available = usable - allocated;
  const Resources total_need = need * count;
  if (total_need.millicores > result.available.millicores) {
    result.reason = fmt::format("Insufficient CPU (need {}, available {})", format_vcpus(total_need.millicores),
                                format_vcpus(std::max<std::int64_t>(0, result.available.millicores)));
    return result;
  }
  if (total_need.mib > result.available.mib) {
    result.reason = fmt::format("Insufficient RAM (need {}GB, available {}GB)", format_gb(total_need.mib),
                                format_gb(std::max<std::int64_t>(0, result.available.mib)));
    return result;
  }
  for (const auto& [name, amount] : total_need.named) {
    const Amount available = named_amount(result.available, name);
    if (amount.units > 0 && available < amount) {
      result.reason = fmt::format("Insufficient {} (need {}, available {})", name, decimal_text(amount),
                                  decimal_text(available.units < 0 ? Amount{} : available));
      return result;
    }
  }
  result.fits = true;
  return result;
}

Resources usable_resources(const ServerLimits& limits)
{
  return {after_reserve(limits.total.millicores, limits.reserved_cpu_percent),
          after_reserve(limits.total.mib, limits.reserved_ram_percent)};
}

std::string validate_limits(const ServerLimits& limits)
{
  if (limits.total.millicores <= 0) {
    return "max_cpu must be more than 0 vCPUs";
  }
  if (limits.total.mib <= 0) {
    return "max_ram_gb must be more than 0 GB";
  }
  if (!valid_percent(limits.reserved_cpu_percent)) {
    return fmt::format("reserved_cpu_percent must be at least 0 and below 100, not {}", limits.reserved_cpu_percent);
  }
  if (!valid_percent(limits.reserved_ram_percent)) {
    return fmt::format("reserved_ram_percent must be at least 0 and below 100, not {}", limits.reserved_ram_percent);
  }
  return {};
}

std::optional<std::int64_t> meminfo_total_mib(std::string_view meminfo)
{
  constexpr std::string_view k_label = "MemTotal:";
  std::size_t pos = 0;
  while (pos < meminfo.size()) {
    const auto end = std::min(meminfo.find('\n', pos), meminfo.size());
    std::string_view line = meminfo.substr(pos, end - pos);
    pos = end + 1;
    if (!line.starts_with(k_label)) {
      continue;
    }
    line.remove_prefix(k_label.size());
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      line.remove_prefix(1);
    }
    std::int64_t kib = 0;
    const auto [rest, ec] = std::from_chars(line.data(), line.data() + line.size(), kib);
    if (ec != std::errc() || kib <= 0) {
      return std::nullopt;
    }
    std::string_view unit(rest, static_cast<std::size_t>(line.data() + line.size() - rest));
    while (!unit.empty() && unit.front() == ' ') {
      unit.remove_prefix(1);
    }
    if (unit != "kB") {
      return std::nullopt;
    }
    return kib / 1024;
  }
  return std::nullopt;
}

std::int64_t percent_of(std::int64_t part, std::int64_t whole)
{
  if (whole <= 0) {
    return 0;
  }
  const auto twice = part * 200 + whole;
  const auto divisor = 2 * whole;
  return twice >= 0 ? twice / divisor : -((-twice + divisor - 1) / divisor);
}

std::string validate_worker_type(const WorkerType& type)
{
  if (type.need.millicores < 0 || type.need.mib < 0) {
    return fmt::format("worker type '{}' needs a negative amount; cpu and ram_gb must be 0 or more", type.name);
  }
  bool needs_named = false;
  for (const auto& [name, amount] : type.need.named) {
    if (amount.units < 0) {
      return fmt::format("worker type '{}' needs a negative amount of {}; use 0 or more", type.name, name);
    }
    needs_named = needs_named || amount.units > 0;
  }
  if (type.need.millicores == 0 && type.need.mib == 0 && !needs_named) {
    return fmt::format("worker type '{}' needs no CPU and no RAM; set cpu or ram_gb above 0", type.name);
  }
  if (type.priority < 1 || type.priority > 10) {
    return fmt::format("worker type '{}' has priority {}; use 1 to 10", type.name, type.priority);
  }
  return {};
}

const WorkerType* find_worker_type(const std::vector<WorkerType>& types, std::string_view name)
{
  const auto it = std::find_if(types.begin(), types.end(), [&](const WorkerType& t) { return t.name == name; });
  return it == types.end() ? nullptr : &*it;
}

std::int64_t fit_count(Resources available, Resources need)
{
  bool needs_named = false;
  auto fit = std::min(fit_one_dimension(available.millicores, need.millicores), fit_one_dimension(available.mib, need.mib));
  for (const auto& [name, amount] : need.named) {
    if (amount.units > 0) {
      needs_named = true;
      fit = std::min(fit, fit_named(named_amount(available, name), amount));
    }
  }
  if (need.millicores <= 0 && need.mib <= 0 && !needs_named) {
    return 0;
  }
  return fit;
}

WorkerPlan plan_workers(Resources usable, const std::vector<WorkerType>& types,
                        const std::map<std::string, std::int64_t>& wants, WorkerPlanStrategy strategy)
{
  std::vector<std::size_t> order(types.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return types[a].priority > types[b].priority; });

  WorkerPlan plan;
  plan.usable = usable;
  for (const auto index : order) {
    WorkerPlanRow row;
    row.type = types[index];
    if (const auto it = wants.find(row.type.name); it != wants.end()) {
      row.want = std::max<std::int64_t>(0, it->second);
    }
    plan.rows.push_back(std::move(row));
  }

  Resources remaining = usable;
  const auto room = [](const WorkerPlanRow& row) { return row.want ? *row.want - row.count : k_unlimited; };
  const auto take = [&](WorkerPlanRow& row, std::int64_t n) {
    row.count += n;
    remaining = remaining - row.type.need * n;
  };

  if (strategy == WorkerPlanStrategy::priority) {
    for (auto& row : plan.rows) {
      take(row, std::min(room(row), fit_count(remaining, row.type.need)));
    }
  } else {
    std::vector<bool> active(plan.rows.size());
    for (std::size_t i = 0; i < plan.rows.size(); ++i) {
      active[i] = room(plan.rows[i]) > 0 && fit_count(remaining, plan.rows[i].type.need) > 0;
    }
    for (;;) {
      // Whole rounds in which every active type takes one worker, done in bulk.
      Resources round;
      std::int64_t rounds = k_unlimited;
      bool any = false;
      for (std::size_t i = 0; i < plan.rows.size(); ++i) {
        if (active[i]) {
          any = true;
          round = round + plan.rows[i].type.need;
          rounds = std::min(rounds, room(plan.rows[i]));
        }
      }
      if (!any) {
        break;
      }
      rounds = std::min(rounds, fit_count(remaining, round));
      if (rounds > 0) {
        for (std::size_t i = 0; i < plan.rows.size(); ++i) {
          if (active[i]) {
            take(plan.rows[i], rounds);
          }
        }
      }
      // Then one round worker by worker; a type that cannot take one now never can again.
      bool added = false;
      for (std::size_t i = 0; i < plan.rows.size(); ++i) {
        if (!active[i]) {
          continue;
        }
        if (room(plan.rows[i]) > 0 && fit_count(remaining, plan.rows[i].type.need) > 0) {
          take(plan.rows[i], 1);
          added = true;
        } else {
          active[i] = false;
        }
      }
      if (!added) {
        break;
      }
    }
  }

  for (auto& row : plan.rows) {
    row.total = row.type.need * row.count;
    plan.used = plan.used + row.total;
    plan.workers += row.count;
  }
  return plan;
}

}  // namespace scalectl::core
