#include "net/http_date.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

namespace scalectl::net {

namespace {

constexpr std::array<const char*, 12> k_months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::optional<unsigned> month_number(const char* name)
{
  for (std::size_t i = 0; i < k_months.size(); ++i) {
    if (std::strcmp(name, k_months[i]) == 0) {
      return static_cast<unsigned>(i + 1);
    }
  }
  return std::nullopt;
}

std::optional<double> to_unix(int year, const char* month_name, int day, int hour, int minute, int second)
{
  const auto month = month_number(month_name);
  if (!month || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{*month},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (day < 1 || !date.ok()) {
    return std::nullopt;
  }
  const auto midnight = std::chrono::sys_days{date}.time_since_epoch();
  return std::chrono::duration<double>(midnight).count() + hour * 3600.0 + minute * 60.0 + second;
}

}  // namespace

std::optional<double> parse_http_date(std::string_view text)
{
  if (text.size() > 64) {
    return std::nullopt;
  }
  const std::string input(text);
  std::array<char, 16> weekday{};
  std::array<char, 4> month{};
  std::array<char, 4> zone{};
  int day = 0;
  int year = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int consumed = 0;

  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
  if (std::sscanf(input.c_str(), "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3[A-Z]%n", weekday.data(), &day,
                  month.data(), &year, &hour, &minute, &second, zone.data(), &consumed) == 8 &&
      static_cast<std::size_t>(consumed) == input.size() && std::strcmp(zone.data(), "GMT") == 0) {
    return to_unix(year, month.data(), day, hour, minute, second);
  }
  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (two-digit years below 70 are 20xx)
  if (std::sscanf(input.c_str(), "%15[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d %3[A-Z]%n", weekday.data(), &day,
                  month.data(), &year, &hour, &minute, &second, zone.data(), &consumed) == 8 &&
      static_cast<std::size_t>(consumed) == input.size() && std::strcmp(zone.data(), "GMT") == 0) {
    return to_unix(year < 70 ? 2000 + year : 1900 + year, month.data(), day, hour, minute, second);
  }
  // asctime: Sun Nov  6 08:49:37 1994
  if (std::sscanf(input.c_str(), "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", weekday.data(), month.data(), &day,
                  &hour, &minute, &second, &year, &consumed) == 7 &&
      static_cast<std::size_t>(consumed) == input.size()) {
    return to_unix(year, month.data(), day, hour, minute, second);
  }
  return std::nullopt;
}

}  // namespace scalectl::net
