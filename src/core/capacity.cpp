#include <scalectl/core/capacity.hpp>

#include <cmath>

#include <fmt/format.h>

namespace scalectl::core {

namespace {

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

}  // namespace

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
  result.fits = true;
  return result;
}

}  // namespace scalectl::core
