#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include <scalectl/core/schedule.hpp>
#include <scalectl/error.hpp>

using namespace scalectl::core;
using std::chrono::system_clock;

namespace {

// 2026-03-27T06:30 as a UTC instant.
system_clock::time_point utc(int y, unsigned mo, unsigned d, int h, int mi)
{
  const auto day = std::chrono::sys_days(std::chrono::year(y) / std::chrono::month(mo) / std::chrono::day(d));
  return system_clock::time_point(day) + std::chrono::hours(h) + std::chrono::minutes(mi);
}

constexpr const char* k_big = "s-8vcpu-16gb";

}  // namespace

TEST_SUITE("core.schedule")
{
  TEST_CASE("parse: good windows")
  {
    const auto w = parse_schedule_window("Mon-Fri 08:00-20:00 Europe/Paris", k_big);
    CHECK(w.days == 0x1f);
    CHECK(w.start_minute == 8 * 60);
    CHECK(w.end_minute == 20 * 60);
    CHECK(w.zone == "Europe/Paris");
    CHECK(parse_schedule_window("Sat,Sun 00:00-24:00 UTC", k_big).days == 0x60);
    CHECK(parse_schedule_window("Fri-Mon 22:00-06:00 UTC", k_big).days == (0x10 | 0x20 | 0x40 | 0x01));
    CHECK(parse_schedule_window("daily 01:00-02:00 America/New_York", k_big).days == 0x7f);
  }

  TEST_CASE("parse: bad windows are usage errors")
  {
    struct Row {
      const char* text;
      const char* says;
    };
    const std::vector<Row> rows{
      {"Mon-Fri 08:00-20:00", "three parts"},
      {"Mon-Fry 08:00-20:00 UTC", "unknown day"},
      {"Mon-Fri 8:00-20:00 UTC", "not a time"},
      {"Mon-Fri 08:00-25:00 UTC", "not a time of day"},
      {"Mon-Fri 08:00 UTC", "not a range"},
      {"Mon-Fri 08:00-08:00 UTC", "same time"},
      {"Mon-Fri 08:00-20:00 Europe/Pariss", "unknown time zone"},
      {"Mon-Fri 08:00-20:00 Mars/Olympus", "unknown time zone"},
    };
    for (const auto& row : rows) {
      CAPTURE(row.text);
      try {
        (void)parse_schedule_window(row.text, k_big);
        FAIL("accepted");
      } catch (const scalectl::Error& e) {
        CHECK(e.code() == scalectl::ExitCode::usage);
        CHECK(std::string(e.what()).find(row.says) != std::string::npos);
      }
    }
  }

  TEST_CASE("Europe/Paris: the same UTC time is inside the window only after the spring change")
  {
    const std::vector<ScheduleWindow> ws{parse_schedule_window("Mon-Fri 08:00-20:00 Europe/Paris", k_big)};
    struct Row {
      system_clock::time_point at;
      bool open;
    };
    const std::vector<Row> rows{
      {utc(2026, 3, 27, 6, 59), false},  // Fri 07:59 CET
      {utc(2026, 3, 27, 7, 0), true},    // Fri 08:00 CET
      {utc(2026, 3, 27, 18, 59), true},  // Fri 19:59 CET
      {utc(2026, 3, 27, 19, 0), false},  // Fri 20:00 CET
      {utc(2026, 3, 28, 12, 0), false},  // Saturday
      {utc(2026, 3, 30, 6, 0), true},    // Mon 08:00 CEST (UTC+2 after 29 March)
      {utc(2026, 3, 30, 5, 59), false},  // Mon 07:59 CEST
      {utc(2026, 3, 30, 18, 0), false},  // Mon 20:00 CEST
      {utc(2026, 10, 26, 6, 30), false}, // Mon 07:30 CET again after 25 October
      {utc(2026, 10, 26, 7, 0), true},   // Mon 08:00 CET
    };
    for (const auto& row : rows) {
      CAPTURE(system_clock::to_time_t(row.at));
      CHECK(window_open(ws[0], row.at) == row.open);
      CHECK(scheduled_sizes(ws, row.at).size() == (row.open ? 1U : 0U));
    }
  }

  TEST_CASE("Europe/Paris: next ten transitions straddle the spring change")
  {
    const std::vector<ScheduleWindow> ws{parse_schedule_window("Mon-Fri 08:00-20:00 Europe/Paris", k_big)};
    const auto tr = next_transitions(ws, utc(2026, 3, 27, 12, 0), 10);
    REQUIRE(tr.size() == 10);
    CHECK(tr[0].at == utc(2026, 3, 27, 19, 0));  // Fri close, CET
    CHECK(tr[0].sizes.empty());
    CHECK(tr[1].at == utc(2026, 3, 30, 6, 0));   // Mon open, CEST
    CHECK(tr[1].sizes == std::vector<std::string>{k_big});
    CHECK(tr[2].at == utc(2026, 3, 30, 18, 0));  // Mon close, CEST
    for (std::size_t i = 1; i < tr.size(); ++i) {
      CHECK(tr[i - 1].at < tr[i].at);
    }
  }

  TEST_CASE("America/New_York: windows inside the skipped and the repeated hour")
  {
    // 8 March 2026: 02:00 EST jumps to 03:00 EDT (07:00 UTC). 02:30 does not exist.
    const std::vector<ScheduleWindow> spring{parse_schedule_window("Sun 01:30-02:30 America/New_York", k_big)};
    CHECK(window_open(spring[0], utc(2026, 3, 8, 6, 30)));   // 01:30 EST
    CHECK(window_open(spring[0], utc(2026, 3, 8, 6, 59)));   // 01:59 EST
    CHECK_FALSE(window_open(spring[0], utc(2026, 3, 8, 7, 0)));  // 03:00 EDT
    auto tr = next_transitions(spring, utc(2026, 3, 8, 0, 0), 2);
    REQUIRE(tr.size() == 2);
    CHECK(tr[0].at == utc(2026, 3, 8, 6, 30));
    CHECK(tr[1].at == utc(2026, 3, 8, 7, 0));  // the close falls on the change itself

    // 1 November 2026: 02:00 EDT falls back to 01:00 EST (06:00 UTC); 01:00-01:30 happens twice.
    const std::vector<ScheduleWindow> fall{parse_schedule_window("Sun 01:00-01:30 America/New_York", k_big)};
    tr = next_transitions(fall, utc(2026, 11, 1, 0, 0), 4);
    REQUIRE(tr.size() == 4);
    CHECK(tr[0].at == utc(2026, 11, 1, 5, 0));   // 01:00 EDT
    CHECK(tr[1].at == utc(2026, 11, 1, 5, 30));  // 01:30 EDT
    CHECK(tr[2].at == utc(2026, 11, 1, 6, 0));   // 01:00 EST
    CHECK(tr[3].at == utc(2026, 11, 1, 6, 30));  // 01:30 EST
    // Mon-Fri 09:00 New York is 14:00 UTC in winter, 13:00 UTC in summer.
    const std::vector<ScheduleWindow> work{parse_schedule_window("Mon-Fri 09:00-17:00 America/New_York", k_big)};
    CHECK_FALSE(window_open(work[0], utc(2026, 3, 6, 13, 30)));  // Fri 08:30 EST
    CHECK(window_open(work[0], utc(2026, 3, 9, 13, 30)));        // Mon 09:30 EDT
  }

  TEST_CASE("overnight windows belong to the day they start")
  {
    const auto w = parse_schedule_window("Fri 22:00-06:00 UTC", k_big);
    CHECK(window_open(w, utc(2026, 3, 27, 23, 0)));   // Fri 23:00
    CHECK(window_open(w, utc(2026, 3, 28, 5, 59)));   // Sat 05:59
    CHECK_FALSE(window_open(w, utc(2026, 3, 28, 22, 30)));  // Sat 22:30
    CHECK_FALSE(window_open(w, utc(2026, 3, 27, 5, 0)));    // Fri 05:00 (Thursday did not open it)
  }

  TEST_CASE("no windows, no transitions")
  {
    CHECK(next_transitions({}, utc(2026, 1, 1, 0, 0)).empty());
  }
}
