#include <doctest/doctest.h>

#include <scalectl/clock.hpp>

using namespace scalectl;

TEST_SUITE("util.rfc3339")
{
  TEST_CASE("timestamps, offsets, fractions and dates")
  {
    const auto ms = [](const char* text) {
      const auto t = parse_rfc3339(text);
      REQUIRE(t.has_value());
      return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
    };
    CHECK(ms("1970-01-01T00:00:00Z") == 0);
    CHECK(ms("2026-11-24T21:53:34Z") == 1'795'557'214'000);
    CHECK(ms("2026-11-24T22:53:34.250+01:00") == 1'795'557'214'250);
    CHECK(ms("2026-11-24") == 1'795'478'400'000);
    CHECK(format_rfc3339(*parse_rfc3339("2024-02-29T23:59:59-00:30")) == "2024-03-01T00:29:59Z");
    for (const char* bad : {"", "2026-13-01", "2026-02-30", "2026-11-24T25:00:00Z", "2026-11-24T10:00:00",
                            "2026-11-24T10:00:00Zjunk", "30d", "2026-11-24T10:00Z", "2999-01-01"}) {
      CHECK_MESSAGE(!parse_rfc3339(bad).has_value(), bad);
    }
  }
}
