#include <scalectl/duration.hpp>

#include <cctype>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace scalectl {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text)
{
  if (text.empty()) {
    return std::nullopt;
  }
  double total_ms = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    const std::size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) != 0 || text[i] == '.')) {
      ++i;
    }
    if (i == start) {
      return std::nullopt;
    }
    const std::string number(text.substr(start, i - start));
    char* end = nullptr;
    const double value = std::strtod(number.c_str(), &end);
    if (end == nullptr || *end != '\0' || !std::isfinite(value)) {
      return std::nullopt;
    }
    const std::size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])) != 0) {
      ++i;
    }
    const std::string_view unit = text.substr(unit_start, i - unit_start);
    double scale = 0;
    if (unit.empty()) {
      if (any || i != text.size()) {
        return std::nullopt;  // a bare number is allowed only on its own
      }
      scale = 1000;
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "h") {
      scale = 3'600'000;
    } else if (unit == "d") {
      scale = 86'400'000;
    } else {
      return std::nullopt;
    }
    total_ms += value * scale;
    any = true;
  }
  if (total_ms > 1e15) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(std::llround(total_ms));
}

std::string format_duration(std::chrono::milliseconds d)
{
  auto ms = d.count();
  if (ms < 0) {
    return "-" + format_duration(std::chrono::milliseconds(-ms));
  }
  if (ms < 1000) {
    return fmt::format("{}ms", ms);
  }
  if (ms < 60'000) {
    if (ms % 1000 == 0) {
      return fmt::format("{}s", ms / 1000);
    }
    return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  }
  auto secs = ms / 1000;
  const auto days = secs / 86'400;
  secs %= 86'400;
  const auto hours = secs / 3600;
  secs %= 3600;
  const auto mins = secs / 60;
  secs %= 60;
  std::string out;
  if (days > 0) {
    out += fmt::format("{}d", days);
  }
  if (hours > 0) {
    out += fmt::format("{}h", hours);
  }
  if (mins > 0) {
    out += fmt::format("{}m", mins);
  }
  if (secs > 0 || out.empty()) {
    out += fmt::format("{}s", secs);
  }
  return out;
}

}  // namespace scalectl
