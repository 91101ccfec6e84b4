#pragma once
// Schedule windows of `[droplet.schedule]`: "Mon-Fri 08:00-20:00 Europe/Paris" = "s-8vcpu-16gb".
// Windows are wall-clock times in an IANA zone of the system tzdata, so they follow daylight
// saving changes. Pure: time in, sizes out.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace scalectl::core {

// One parsed window. Days are ISO weekdays as bits (bit 0 = Monday ... bit 6 = Sunday); an end
// at or before the start runs past midnight into the next day.
struct ScheduleWindow {
  std::string text;  // the key as written
  unsigned days = 0;
  int start_minute = 0;  // minutes after local midnight
  int end_minute = 0;    // 1..1440
  std::string zone;
  std::string size;
};

// Returns the window `text` mapped to `size`; throws Error(usage) naming the text when it is
// malformed (days, times) or names a time zone the system tzdata does not know.
ScheduleWindow parse_schedule_window(std::string_view text, std::string_view size);

// Returns true when `window` is open at `at`.
bool window_open(const ScheduleWindow& window, std::chrono::system_clock::time_point at);

// Returns the sizes of the windows open at `at`, in the order the windows are given.
std::vector<std::string> scheduled_sizes(const std::vector<ScheduleWindow>& windows,
                                         std::chrono::system_clock::time_point at);

// A moment where the set of open windows changes.
struct ScheduleTransition {
  std::chrono::system_clock::time_point at;
  std::vector<std::string> sizes;    // sizes of the windows open from `at` on (empty: none)
  std::vector<std::string> windows;  // texts of the windows open from `at` on
};

// Returns up to `count` transitions strictly after `after`, in time order, looking at most 366
// days ahead.
std::vector<ScheduleTransition> next_transitions(const std::vector<ScheduleWindow>& windows,
                                                 std::chrono::system_clock::time_point after, std::size_t count = 10);

}  // namespace scalectl::core
