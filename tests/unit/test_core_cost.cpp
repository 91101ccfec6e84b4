#include <doctest/doctest.h>

#include <stdexcept>

#include <scalectl/clock.hpp>
#include <scalectl/core/cost.hpp>

using namespace scalectl;
using namespace scalectl::core;

namespace {

constexpr const char* k_down = "s-2vcpu-4gb";
constexpr const char* k_up = "s-8vcpu-16gb";

std::int64_t at(const char* rfc3339)
{
  const auto t = parse_rfc3339(rfc3339);
  REQUIRE(t.has_value());
  return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

CostInput october()
{
  CostInput in;
  in.start_ms = at("2025-10-01T00:00:00Z");
  in.end_ms = at("2025-11-01T00:00:00Z");
  in.current_size = k_down;
  in.baseline_size = k_up;
  in.prices = {{k_down, {0.03571, 24}}, {k_up, {0.14286, 96}}, {"s-4vcpu-8gb", {0.07143, 48}}};
  return in;
}

const SizeCost& row(const CostReport& r, const std::string& size)
{
  for (const auto& s : r.sizes) {
    if (s.size == size) {
      return s;
    }
  }
  FAIL("no row for " << size);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_SUITE("core.cost")
{
  TEST_CASE("the seed's month: 15.5 hours at 16 GB, the rest at 4 GB capped at $24")
  {
    auto in = october();
    in.resizes = {{at("2025-10-20T05:30:00Z"), k_up, k_down},  // any order
                  {at("2025-10-10T00:00:00Z"), k_down, k_up},
                  {at("2025-10-10T10:00:00Z"), k_up, k_down},
                  {at("2025-10-20T00:00:00Z"), k_down, k_up}};
    const auto r = compute_cost(in);
    CHECK(r.hours == doctest::Approx(744.0));
    CHECK(r.start_size == k_down);
    CHECK(r.resizes == 4);
    REQUIRE(r.sizes.size() == 2);
    CHECK(r.sizes[0].size == k_down);  // order of first use
    CHECK(row(r, k_down).hours == doctest::Approx(728.5));
    CHECK(row(r, k_down).cost_cents == 2400);  // 728.5 h x 0.03571 = 26.01, over the $24 cap
    CHECK(row(r, k_down).capped);
    CHECK(row(r, k_up).hours == doctest::Approx(15.5));
    CHECK(row(r, k_up).cost_cents == 221);  // 15.5 h x 0.14286 = 2.2143
    CHECK_FALSE(row(r, k_up).capped);
    CHECK(r.actual_cents == 2621);
    CHECK(r.baseline_cents == 9600);  // 744 h x 0.14286 = 106.29, capped at $96
    CHECK(r.baseline_capped);
    CHECK(r.saving_cents == 6979);
    CHECK(r.warnings.empty());
    CHECK(format_dollars(r.actual_cents) == "26.21");
    CHECK(format_dollars(r.saving_cents) == "69.79");
  }

  TEST_CASE("a window across a month boundary is capped and rounded per calendar month")
  {
    CostInput in = october();
    in.start_ms = at("2025-10-31T12:00:00Z");
    in.end_ms = at("2025-11-02T12:00:00Z");
    in.current_size = k_up;
    in.resizes = {{at("2025-11-01T06:00:00Z"), k_down, k_up}};
    const auto r = compute_cost(in);
    CHECK(r.hours == doctest::Approx(48.0));
    CHECK(row(r, k_down).hours == doctest::Approx(18.0));
    CHECK(row(r, k_down).cost_cents == 64);  // 18 h x 0.03571 = 0.6428
    CHECK(row(r, k_up).hours == doctest::Approx(30.0));
    CHECK(row(r, k_up).cost_cents == 429);  // 30 h x 0.14286 = 4.2858
    CHECK(r.actual_cents == 493);
    // October's 12 h (1.7143 -> 1.71) and November's 36 h (5.1430 -> 5.14), each rounded.
    CHECK(r.baseline_cents == 685);
    CHECK_FALSE(r.baseline_capped);
    CHECK(r.saving_cents == 192);
  }

  TEST_CASE("two whole months at the small size cost two monthly caps")
  {
    CostInput in = october();
    in.end_ms = at("2025-12-01T00:00:00Z");
    const auto r = compute_cost(in);
    CHECK(r.hours == doctest::Approx(744.0 + 720.0));
    REQUIRE(r.sizes.size() == 1);
    CHECK(r.sizes[0].cost_cents == 4800);
    CHECK(r.baseline_cents == 19200);
    CHECK(r.saving_cents == 14400);
  }

  TEST_CASE("the size at the window start comes from the first resize after it")
  {
    CostInput in = october();
    in.current_size = k_down;
    SUBCASE("a resize inside the window")
    {
      in.resizes = {{at("2025-09-15T00:00:00Z"), k_down, k_up},  // before the window: ignored
                    {at("2025-10-31T00:00:00Z"), "s-4vcpu-8gb", k_down}};
      const auto r = compute_cost(in);
      CHECK(r.start_size == "s-4vcpu-8gb");
      CHECK(row(r, "s-4vcpu-8gb").hours == doctest::Approx(720.0));
      CHECK(row(r, "s-4vcpu-8gb").cost_cents == 4800);  // 720 h x 0.07143 = 51.43, capped at $48
      CHECK(row(r, k_down).hours == doctest::Approx(24.0));
      CHECK(row(r, k_down).cost_cents == 86);  // 24 h x 0.03571 = 0.857
      CHECK(r.warnings.empty());
    }
    SUBCASE("only a resize after the window")
    {
      in.resizes = {{at("2025-11-05T00:00:00Z"), k_up, k_down}};
      const auto r = compute_cost(in);
      CHECK(r.start_size == k_up);
      CHECK(r.resizes == 0);
      REQUIRE(r.sizes.size() == 1);
      CHECK(r.sizes[0].size == k_up);
      CHECK(r.sizes[0].cost_cents == 9600);
      CHECK(r.saving_cents == 0);
      CHECK(r.warnings.empty());
    }
    SUBCASE("no resize at all: the current size all the window")
    {
      const auto r = compute_cost(in);
      CHECK(r.start_size == k_down);
      REQUIRE(r.sizes.size() == 1);
      CHECK(r.sizes[0].hours == doctest::Approx(744.0));
    }
  }

  TEST_CASE("gaps in the history and unknown prices are warnings, not guesses")
  {
    CostInput in = october();
    in.resizes = {{at("2025-10-10T00:00:00Z"), k_down, k_up}, {at("2025-10-11T00:00:00Z"), k_down, "s-retired"}};
    in.current_size = k_down;
    const auto r = compute_cost(in);
    REQUIRE(r.warnings.size() == 3);
    CHECK(r.warnings[0].find("2025-10-11T00:00:00Z went from s-2vcpu-4gb") != std::string::npos);
    CHECK(r.warnings[1].find("ends at s-retired but the droplet was at s-2vcpu-4gb") != std::string::npos);
    CHECK(r.warnings[2].find("s-retired has no price") != std::string::npos);
    CHECK_FALSE(row(r, "s-retired").priced);
    CHECK(row(r, "s-retired").cost_cents == 0);
    CHECK(row(r, k_up).hours == doctest::Approx(24.0));
  }

  TEST_CASE("an empty window is refused; dollars format with a sign")
  {
    CostInput in = october();
    in.end_ms = in.start_ms;
    CHECK_THROWS_AS(compute_cost(in), std::invalid_argument);
    CHECK(format_dollars(-5) == "-0.05");
    CHECK(format_dollars(0) == "0.00");
    CHECK(format_dollars(123456) == "1234.56");
  }
}
