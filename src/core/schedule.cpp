// Schedule windows: parsing "DAYS HH:MM-HH:MM ZONE" and evaluating them in the zone's wall-clock
// time with Howard Hinnant's date/tz over the system tzdata (USE_OS_TZDB=1).

#include <scalectl/core/schedule.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <set>
#include <stdexcept>

#include <date/tz.h>
#include <fmt/format.h>

#include <scalectl/error.hpp>

namespace scalectl::core {

namespace {

constexpr std::array<std::string_view, 7> k_day_names{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::size_t k_max_window_text = 200;

std::string lower(std::string_view text)
{
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

int day_index(std::string_view name)
{
  const auto l = lower(name);
  for (std::size_t i = 0; i < k_day_names.size(); ++i) {
    if (l == k_day_names[i]) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

Error malformed(std::string_view text, std::string_view why)
{
  return usage_error(fmt::format("malformed schedule window \"{}\": {}; write it like \"Mon-Fri 08:00-20:00 "
                                 "Europe/Paris\"",
                                 text, why));
}

unsigned parse_days(std::string_view text, std::string_view days)
{
  const auto l = lower(days);
  if (l == "daily" || l == "*" || l == "mon-sun") {
    return 0x7f;
  }
  unsigned mask = 0;
  std::size_t pos = 0;
  while (pos <= days.size()) {
    const auto comma = days.find(',', pos);
    const auto part = days.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    const auto dash = part.find('-');
    if (dash == std::string_view::npos) {
      const int d = day_index(part);
      if (d < 0) {
        throw malformed(text, fmt::format("unknown day '{}' (use Mon, Tue, ... Sun, ranges like Mon-Fri, or Daily)",
                                          part));
      }
      mask |= 1U << d;
    } else {
      const int a = day_index(part.substr(0, dash));
      const int b = day_index(part.substr(dash + 1));
      if (a < 0 || b < 0) {
        throw malformed(text, fmt::format("unknown day range '{}'", part));
      }
      for (int d = a;; d = (d + 1) % 7) {
        mask |= 1U << d;
        if (d == b) {
          break;
        }
      }
    }
    if (comma == std::string_view::npos) {
      break;
    }
    pos = comma + 1;
  }
  return mask;
}

int parse_clock(std::string_view text, std::string_view hhmm, bool is_end)
{
  if (hhmm.size() != 5 || hhmm[2] != ':' || !std::isdigit(static_cast<unsigned char>(hhmm[0])) ||
      !std::isdigit(static_cast<unsigned char>(hhmm[1])) || !std::isdigit(static_cast<unsigned char>(hhmm[3])) ||
      !std::isdigit(static_cast<unsigned char>(hhmm[4]))) {
    throw malformed(text, fmt::format("'{}' is not a time HH:MM", hhmm));
  }
  const int h = (hhmm[0] - '0') * 10 + (hhmm[1] - '0');
  const int m = (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && (m != 0 || !is_end))) {
    throw malformed(text, fmt::format("'{}' is not a time of day", hhmm));
  }
  return h * 60 + m;
}

const date::time_zone* zone_of(const ScheduleWindow& window)
{
  return date::locate_zone(window.zone);
}

}  // namespace

ScheduleWindow parse_schedule_window(std::string_view text, std::string_view size)
{
  if (text.size() > k_max_window_text) {
    throw malformed(text.substr(0, 40), fmt::format("longer than {} characters", k_max_window_text));
  }
  std::vector<std::string_view> words;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') {
      ++pos;
    }
    const auto end = std::min(text.find(' ', pos), text.size());
    if (end > pos) {
      words.push_back(text.substr(pos, end - pos));
    }
    pos = end;
  }
  if (words.size() != 3) {
    throw malformed(text, "expected three parts: days, HH:MM-HH:MM and a time zone");
  }
  ScheduleWindow w;
  w.text = std::string(text);
  w.size = std::string(size);
  w.days = parse_days(text, words[0]);
  const auto dash = words[1].find('-');
  if (dash == std::string_view::npos) {
    throw malformed(text, fmt::format("'{}' is not a range HH:MM-HH:MM", words[1]));
  }
  w.start_minute = parse_clock(text, words[1].substr(0, dash), false);
  w.end_minute = parse_clock(text, words[1].substr(dash + 1), true);
  if (w.start_minute == w.end_minute) {
    throw malformed(text, "the window starts and ends at the same time");
  }
  w.zone = std::string(words[2]);
  try {
    (void)zone_of(w);
  } catch (const std::runtime_error&) {
    throw usage_error(fmt::format("unknown time zone '{}' in schedule window \"{}\"; use an IANA name from the "
                                  "system tzdata such as Europe/Paris, America/New_York or UTC",
                                  w.zone, text));
  }
  if (size.empty()) {
    throw malformed(text, "no size given");
  }
  return w;
}

bool window_open(const ScheduleWindow& window, std::chrono::system_clock::time_point at)
{
  const auto zone = zone_of(window);
  const auto local = zone->to_local(std::chrono::time_point_cast<std::chrono::seconds>(at));
  const auto day = date::floor<date::days>(local);
  const auto minute = static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
  const auto wd = static_cast<int>(date::weekday(day).iso_encoding()) - 1;  // 0 = Monday
  const auto has = [&](int d) { return (window.days & (1U << ((d + 7) % 7))) != 0; };
  if (window.end_minute > window.start_minute) {
    return has(wd) && minute >= window.start_minute && minute < window.end_minute;
  }
  return (has(wd) && minute >= window.start_minute) || (has(wd - 1) && minute < window.end_minute);
}

std::vector<std::string> scheduled_sizes(const std::vector<ScheduleWindow>& windows,
                                         std::chrono::system_clock::time_point at)
{
  std::vector<std::string> out;
  for (const auto& w : windows) {
    if (window_open(w, at)) {
      out.push_back(w.size);
    }
  }
  return out;
}

std::vector<ScheduleTransition> next_transitions(const std::vector<ScheduleWindow>& windows,
                                                 std::chrono::system_clock::time_point after, std::size_t count)
{
  using std::chrono::system_clock;
  std::vector<ScheduleTransition> out;
  if (windows.empty() || count == 0) {
    return out;
  }
  const auto open_set = [&](system_clock::time_point t) {
    std::vector<bool> open;
    for (const auto& w : windows) {
      open.push_back(window_open(w, t));
    }
    return open;
  };
  auto state = open_set(after);
  constexpr int k_chunk_days = 14;
  constexpr int k_horizon_days = 366;
  for (int first = -1; first < k_horizon_days && out.size() < count; first += k_chunk_days) {
    std::set<system_clock::time_point> candidates;
    for (const auto& w : windows) {
      const auto zone = zone_of(w);
      const auto base = date::floor<date::days>(zone->to_local(std::chrono::time_point_cast<std::chrono::seconds>(after)));
      for (int i = first; i < first + k_chunk_days; ++i) {
        const auto day = base + date::days(i);
        const auto start = day + std::chrono::minutes(w.start_minute);
        const auto end = day + std::chrono::minutes(w.end_minute) + date::days(w.end_minute > w.start_minute ? 0 : 1);
        for (const auto local : {start, end}) {
          // Both mappings: a wall time repeated when clocks fall back opens (or closes) twice.
          for (const auto choose : {date::choose::earliest, date::choose::latest}) {
            const auto t = zone->to_sys(local, choose);
            if (t > after) {
              candidates.insert(t);
            }
          }
        }
      }
    }
    for (const auto t : candidates) {
      auto now_open = open_set(t);
      if (now_open == state) {
        continue;
      }
      state = now_open;
      ScheduleTransition tr;
      tr.at = t;
      for (std::size_t i = 0; i < windows.size(); ++i) {
        if (state[i]) {
          tr.sizes.push_back(windows[i].size);
          tr.windows.push_back(windows[i].text);
        }
      }
      out.push_back(std::move(tr));
      if (out.size() >= count) {
        break;
      }
    }
  }
  return out;
}

}  // namespace scalectl::core
