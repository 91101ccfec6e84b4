#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <scalectl/core/raw_json.hpp>
#include <scalectl/error.hpp>

using namespace scalectl;
using namespace scalectl::core;

TEST_SUITE("core.raw_json")
{
  TEST_CASE("compact JSON survives a parse and dump byte for byte")
  {
    const std::vector<std::string> texts = {
      R"({"z":1,"a":2,"m":{"y":true,"b":null}})",          // key order, not sorted
      R"({"percent":1.50,"ratio":1e3,"neg":-2.50E-3})",     // float spelling
      R"({"big":123456789012345678901234567890})",          // beyond 64 bits
      R"({"max":18446744073709551615,"min":-9223372036854775808})",
      R"({"value":"EV[1:abc/def+ghi==:jkl]"})",              // encrypted SECRET value
      R"({"s":"caf\u00e9 \"q\" \\ \n\t","u":"日本"})",
      R"([1,[2,[3,{}]],[],"x",false])",
      R"({"dup":{"a":[{"k":1},{"k":2}]}})",
    };
    for (const auto& text : texts) {
      CAPTURE(text);
      const auto parsed = parse_raw_json(text, "test");
      const auto dumped = dump_raw_json(parsed);
      if (text.find("\\u00e9") != std::string::npos) {
        // \u escapes of printable characters come back as UTF-8, as nlohmann::json writes them.
        CHECK(dumped == R"({"s":"café \"q\" \\ \n\t","u":"日本"})");
      } else {
        CHECK(dumped == text);
      }
    }
  }

  TEST_CASE("whitespace is dropped but nothing else changes")
  {
    const auto parsed = parse_raw_json("{ \"b\" : [ 1 , 2.0 ] ,\n \"a\" : { } }", "test");
    CHECK(dump_raw_json(parsed) == R"({"b":[1,2.0],"a":{}})");
  }

  TEST_CASE("numbers read back as values")
  {
    const auto j = parse_raw_json(R"({"i":7,"f":1.50,"e":1e3,"x":2.5,"s":"3"})", "test");
    CHECK(integral_value(j["i"]) == 7);
    CHECK(integral_value(j["e"]) == 1000);
    CHECK_FALSE(integral_value(j["f"]).has_value());
    CHECK_FALSE(integral_value(j["s"]).has_value());
    CHECK(number_value(j["f"]) == doctest::Approx(1.5));
    CHECK(number_value(j["x"]) == doctest::Approx(2.5));
    CHECK_FALSE(number_value(j["s"]).has_value());
    CHECK(to_plain_json(j)["f"].get<double>() == doctest::Approx(1.5));
    CHECK(to_plain_json(j)["i"].get<int>() == 7);
    CHECK(to_plain_json(j)["s"] == "3");
  }

  TEST_CASE("a number beyond the range of a double is refused, not rounded")
  {
    // nlohmann's lexer converts every float token; one that overflows is a parse error.
    CHECK_THROWS_WITH_AS(parse_raw_json(R"({"x":1e400})", "spec"), doctest::Contains("number overflow"), Error);
  }

  TEST_CASE("equal spellings compare equal, different spellings do not")
  {
    CHECK(parse_raw_json("[1.50]", "t") == parse_raw_json("[1.50]", "t"));
    CHECK(parse_raw_json("[1.50]", "t") != parse_raw_json("[1.5]", "t"));
    CHECK(parse_raw_json(R"({"a":1,"b":2})", "t") != parse_raw_json(R"({"b":2,"a":1})", "t"));
  }

  TEST_CASE("malformed JSON is an error naming the source")
  {
    for (const char* text : {"{", "{\"a\":}", "[1,]", "", "nul"}) {
      CAPTURE(text);
      try {
        parse_raw_json(text, "the answer to GET /v2/apps/x");
        FAIL("no error");
      } catch (const Error& e) {
        CHECK(std::string(e.what()).starts_with("the answer to GET /v2/apps/x is not valid JSON"));
      }
    }
  }
}
