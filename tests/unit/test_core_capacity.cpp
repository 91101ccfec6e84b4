#include <doctest/doctest.h>

#include <scalectl/core/capacity.hpp>

using namespace scalectl::core;

TEST_SUITE("core.capacity")
{
  TEST_CASE("conversions are exact integers")
  {
    CHECK(resources_from(1.5, 0.75) == Resources{1500, 768});
    CHECK(resources_from(0.1, 0.5) == Resources{100, 512});
    CHECK(format_vcpus(1400) == "1.4");
    CHECK(format_vcpus(3000) == "3");
    CHECK(format_gb(768) == "0.75");
  }

  TEST_CASE("fit uses the seed's wording")
  {
    const auto usable = resources_from(6.4, 12.8);
    auto fit = check_fit(usable, resources_from(5, 1), resources_from(3, 1));
    CHECK_FALSE(fit.fits);
    CHECK(fit.reason == "Insufficient CPU (need 3, available 1.4)");
    fit = check_fit(usable, resources_from(3, 1), resources_from(3, 1));
    CHECK(fit.fits);
    CHECK(fit.reason.empty());
  }
}
