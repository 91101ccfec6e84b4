#include <doctest/doctest.h>

#include <cstddef>
#include <optional>
#include <string>

#include <scalectl/core/text.hpp>

using scalectl::core::escape_control;
using scalectl::core::invalid_utf8_offset;

TEST_SUITE("core.text")
{
  TEST_CASE("invalid_utf8_offset accepts well-formed UTF-8 and points at the first bad byte")
  {
    struct Row {
      std::string text;
      std::optional<std::size_t> offset;
    };
    const Row rows[] = {
        {"", std::nullopt},
        {"plain ascii", std::nullopt},
        {"caf\xc3\xa9", std::nullopt},                  // U+00E9, two bytes
        {"\xe2\x82\xac", std::nullopt},                 // U+20AC, three bytes
        {"\xf0\x9f\x98\x80", std::nullopt},             // U+1F600, four bytes
        {"\xf4\x8f\xbf\xbf", std::nullopt},             // U+10FFFF, the last code point
        {"ab\xa1", 2},                                  // a lone continuation byte
        {"\xc0\xaf", 0},                                // overlong '/'
        {"\xc1\xbf", 0},                                // overlong
        {"\xe0\x80\xaf", 0},                            // overlong three-byte form
        {"\xf0\x80\x80\xaf", 0},                        // overlong four-byte form
        {"x\xed\xa0\x80", 1},                           // U+D800, a surrogate
        {"\xf4\x90\x80\x80", 0},                        // above U+10FFFF
        {"\xf5\x80\x80\x80", 0},                        // lead byte that is never valid
        {"ok\xe2\x82", 2},                              // truncated at the end
        {"\xc3(", 0},                                   // continuation byte missing
        {"name: app\n  instance\xa1\x8c\x96\x8d" "e_slug", 20},  // the fuzz finding
    };
    for (const auto& row : rows) {
      CAPTURE(escape_control(row.text));
      CHECK(invalid_utf8_offset(row.text) == row.offset);
    }
  }

  TEST_CASE("escape_control shows control characters and DEL as \\xHH and keeps the rest")
  {
    CHECK(escape_control("a\nb\x1b[31m\x7f") == "a\\x0ab\\x1b[31m\\x7f");
    CHECK(escape_control("caf\xc3\xa9") == "caf\xc3\xa9");
  }
}
