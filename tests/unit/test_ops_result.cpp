// The one result vocabulary of droplet, app and autoscale reports, and its audit-event words.

#include <doctest/doctest.h>

#include <scalectl/ops/result.hpp>

using scalectl::ops::Result;

TEST_SUITE("ops.result")
{
  TEST_CASE("every result has one report word and one audit-event word")
  {
    struct Row {
      Result result;
      const char* word;
      const char* event;
    };
    const Row rows[] = {
      {Result::changed, "changed", "ok"},
      {Result::noop, "noop", "noop"},
      {Result::dry_run, "dry_run", "dry_run"},
      {Result::submitted, "submitted", "submitted"},
      {Result::powered_on, "powered_on", "ok"},
    };
    for (const auto& row : rows) {
      CAPTURE(row.word);
      CHECK(scalectl::ops::to_string(row.result) == row.word);
      CHECK(scalectl::ops::event_result(row.result) == row.event);
    }
  }
}
