// Named resources ([capacity.resources.NAME]): exact decimal amounts, the seed's formatting,
// fit checks next to CPU and RAM, and plans limited by an API budget.

#include <doctest/doctest.h>

#include <limits>

#include <scalectl/core/capacity.hpp>

using namespace scalectl::core;

namespace {

Amount dec(const char* text)
{
  const auto amount = amount_from_text(text);
  REQUIRE(amount.has_value());
  return *amount;
}

// The seed's worker types with its Gemini figures: RPM 0 / 6.7 / 7.2, TPM 0 / 53K / 242K.
std::vector<WorkerType> seed_api_types()
{
  return {{"registre", resources_from(3, 1), 10},
          {"index-ocr", Resources{1500, 768, {{"gemini_rpm", dec("6.7")}, {"gemini_tpm", dec("53000")}}}, 5},
          {"acte-ocr", Resources{1000, 512, {{"gemini_rpm", dec("7.2")}, {"gemini_tpm", dec("242000")}}}, 5}};
}

}  // namespace

TEST_SUITE("core.capacity.named")
{
  TEST_CASE("amounts are exact decimals with their own scale")
  {
    struct Row {
      double value;
      std::int64_t units;
      int decimals;
    };
    for (const Row row : {Row{7.2, 72, 1}, Row{242000, 242000, 0}, Row{0.1, 1, 1}, Row{6.7, 67, 1},
                          Row{0.125, 125, 3}, Row{1600, 1600, 0}, Row{0.000001, 1, 6}, Row{0, 0, 0}}) {
      CAPTURE(row.value);
      const auto amount = amount_from_double(row.value);
      REQUIRE(amount.has_value());
      CHECK(amount->units == row.units);
      CHECK(amount->decimals == row.decimals);
    }
    CHECK_FALSE(amount_from_double(-1).has_value());
    CHECK_FALSE(amount_from_double(0.0000001).has_value());  // 7 decimals
    CHECK_FALSE(amount_from_double(2e9).has_value());
    CHECK_FALSE(amount_from_double(std::numeric_limits<double>::quiet_NaN()).has_value());

    CHECK(dec("7.2") + dec("0.05") == dec("7.25"));
    CHECK((dec("7.2") + dec("0.05")).decimals == 2);
    CHECK(dec("7.2") == Amount{720, 2});
    CHECK(dec("3.1") < dec("7.2"));
    CHECK(dec("6.7") * 2 + dec("7.2") * 3 == dec("35"));
    for (const char* bad : {"", "-1", "1.", ".5", "1e3", "1.2345678", "abc", "1234567890123456"}) {
      CAPTURE(bad);
      CHECK_FALSE(amount_from_text(bad).has_value());
    }
  }

  TEST_CASE("10,000 additions and subtractions of 0.1 leave exactly 0")
  {
    Amount total;
    for (int i = 0; i < 10'000; ++i) {
      total = total + dec("0.1");
    }
    CHECK(total == dec("1000"));
    for (int i = 0; i < 10'000; ++i) {
      total = total - dec("0.1");
    }
    CHECK(total == Amount{});
    CHECK(decimal_text(total) == "0");
  }

  TEST_CASE("texts: decimal, the seed's K/M form and its percentages")
  {
    struct Row {
      const char* value;
      const char* decimal;
      const char* compact;
    };
    for (const Row row : {Row{"35", "35", "35"}, Row{"7.2", "7.2", "7.2"}, Row{"1600", "1600", "1600"},
                          Row{"832000", "832000", "832K"}, Row{"6400000", "6400000", "6.4M"},
                          Row{"53000", "53000", "53K"}, Row{"2685000", "2685000", "2.69M"},
                          Row{"9999.5", "9999.5", "9999.5"}, Row{"13.40", "13.4", "13.4"}}) {
      CAPTURE(row.value);
      CHECK(decimal_text(dec(row.value)) == row.decimal);
      CHECK(compact_text(dec(row.value)) == row.compact);
    }
    CHECK(percent_text(dec("35"), dec("1600")) == "2.2%");      // the seed's Large Server RPM
    CHECK(percent_text(dec("832000"), dec("6400000")) == "13%");  // and TPM
    CHECK(percent_text(dec("106"), dec("1600")) == "6.6%");
    CHECK(percent_text(dec("12"), dec("12.8")) == "94%");
    CHECK(percent_text(dec("0"), dec("1600")) == "0%");
    CHECK(percent_text(dec("1"), dec("0")) == "0%");
    CHECK(percent_text(dec("1600"), dec("1600")) == "100%");
  }

  TEST_CASE("fit checks every named resource in the seed's words")
  {
    Resources usable{8000, 16384, {{"gemini_rpm", dec("10.3")}}};
    const Resources need{1000, 512, {{"gemini_rpm", dec("7.2")}}};
    auto fit = check_fit(usable, need, need);
    CHECK_FALSE(fit.fits);
    CHECK(fit.reason == "Insufficient gemini_rpm (need 7.2, available 3.1)");
    CHECK(named_amount(fit.available, "gemini_rpm") == dec("3.1"));
    CHECK(check_fit(usable, Resources{}, need).fits);
    // CPU and RAM are checked first, in the seed's order.
    fit = check_fit(Resources{500, 16384, usable.named}, need, need);
    CHECK(fit.reason == "Insufficient CPU (need 1, available 0)");
    // A resource the pool does not declare has no room.
    fit = check_fit(Resources{8000, 16384}, Resources{}, need);
    CHECK(fit.reason == "Insufficient gemini_rpm (need 7.2, available 0)");
    CHECK(fit_count(usable, need) == 1);
    CHECK(fit_count(Resources{8000, 16384, {{"gemini_rpm", dec("1600")}}}, need) == 8);
    CHECK(fit_count(Resources{80000, 163840, {{"gemini_rpm", dec("36")}}}, need) == 5);
  }

  TEST_CASE("resources and worker types are validated")
  {
    CHECK(validate_resource_name("gemini_rpm").empty());
    CHECK(validate_resource_name("gpu").empty());
    for (const char* bad : {"", "Gemini", "1gpu", "gemini-rpm", "cpu", "ram_gb", "priority", "a b"}) {
      CAPTURE(bad);
      CHECK_FALSE(validate_resource_name(bad).empty());
    }
    CHECK(validate_named_resource({"gpu", dec("1"), dec("0"), ""}).empty());
    CHECK(validate_named_resource({"gpu", dec("0"), dec("0"), ""}).empty());
    CHECK(validate_named_resource({"gpu", dec("1"), dec("2"), ""}) ==
          "resource 'gpu' keeps a reserve of 2, more than its limit 1");
    CHECK(usable_amount({"rpm", dec("1600"), dec("100.5"), "RPM"}) == dec("1499.5"));
    CHECK(resource_label({"gemini_rpm", dec("1600"), {}, "RPM"}) == "RPM");
    CHECK(resource_label({"gpu", dec("1"), {}, ""}) == "gpu");

    CHECK(validate_worker_type({"api-only", Resources{0, 0, {{"gemini_rpm", dec("7.2")}}}, 5}).empty());
    CHECK(validate_worker_type({"neg", Resources{1000, 0, {{"gpu", Amount{-1, 0}}}}, 5}) ==
          "worker type 'neg' needs a negative amount of gpu; use 0 or more");
    CHECK_FALSE(validate_worker_type({"none", Resources{0, 0, {{"gpu", Amount{}}}}, 5}).empty());
  }

  TEST_CASE("the seed's Large Server: the plan's API totals are computed, not copied")
  {
    Resources usable = usable_resources({resources_from(16, 32), 20, 20});
    usable.named = {{"gemini_rpm", dec("1600")}, {"gemini_tpm", dec("6400000")}};
    const auto plan = plan_workers(usable, seed_api_types(),
                                   {{"registre", 2}, {"index-ocr", 2}, {"acte-ocr", 3}}, WorkerPlanStrategy::balanced);
    REQUIRE(plan.rows.size() == 3);
    CHECK(plan.rows[0].count == 2);
    CHECK(plan.rows[1].count == 2);
    CHECK(plan.rows[2].count == 3);
    CHECK(format_vcpus(plan.used.millicores) == "12");
    CHECK(format_gb(plan.used.mib) == "5");
    const auto rpm = named_amount(plan.used, "gemini_rpm");
    const auto tpm = named_amount(plan.used, "gemini_tpm");
    CHECK(decimal_text(rpm) == "35");
    CHECK(compact_text(tpm) == "832K");
    CHECK(percent_text(rpm, dec("1600")) == "2.2%");
    CHECK(percent_text(tpm, dec("6400000")) == "13%");
  }

  TEST_CASE("a plan limited by an API budget rather than CPU")
  {
    Resources usable{100'000, 100'000, {{"gemini_rpm", dec("36")}, {"gemini_tpm", dec("6400000")}}};
    const auto plan = plan_workers(usable, seed_api_types(), {{"registre", 0}}, WorkerPlanStrategy::priority);
    // 36 RPM: index-ocr (6.7) takes 5 (33.5), then acte-ocr (7.2) finds 2.5 left.
    CHECK(plan.rows[1].count == 5);
    CHECK(plan.rows[2].count == 0);
    CHECK(named_amount(plan.used, "gemini_rpm") == dec("33.5"));
    CHECK_FALSE(named_amount(plan.usable, "gemini_rpm") < named_amount(plan.used, "gemini_rpm"));
  }
}
