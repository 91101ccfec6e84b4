// The one dlopen() loader behind libcurl, OpenSSL and the HTTP module.

#include <doctest/doctest.h>

#include <string>

#include "util/dyn_library.hpp"

using scalectl::util::DynLibrary;

TEST_SUITE("util.dyn_library")
{
  TEST_CASE("a library opens and its symbols resolve to callable functions")
  {
    auto libm = DynLibrary::open("libm.so.6");
    REQUIRE_MESSAGE(libm.has_value(), libm.error());
    double (*cosine)(double) = nullptr;
    REQUIRE(libm->resolve("cos", cosine));
    CHECK(cosine(0.0) == doctest::Approx(1.0));
  }

  TEST_CASE("a missing library or symbol is the dynamic loader's message")
  {
    const auto missing = DynLibrary::open("libscalectl-no-such-library.so.1");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().find("libscalectl-no-such-library.so.1") != std::string::npos);
    auto libm = DynLibrary::open("libm.so.6");
    REQUIRE(libm.has_value());
    void (*nothing)() = nullptr;
    CHECK_FALSE(libm->resolve("scalectl_no_such_symbol", nothing));
    const bool left_unset = nothing == nullptr;
    CHECK(left_unset);
    CHECK(DynLibrary::last_error().find("scalectl_no_such_symbol") != std::string::npos);
  }
}
