#pragma once
// Private: the TOML parser boundary. toml_reader.cpp is the only file that includes toml++, so
// its compile cost and its types stay behind this header.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <scalectl/config/config.hpp>

namespace scalectl::config::detail {

// One table or value of a TOML document.
struct TomlNode {
  std::vector<std::string> path;  // key segments, e.g. {"capacity", "worker_types", "registre"}
  std::string kind;               // TOML type: "table", "string", "integer", "float", "boolean",
                                  // "array", "date", "time", "date-time"
  std::optional<Value> value;     // set for the kinds scalectl stores (arrays only of strings)
  std::uint32_t line = 0;         // position of the key, 1-based
  std::uint32_t column = 0;
};

// Parses `text`, read from `path`, and returns every table and value in document order.
// Throws Error(usage) "path:line:col: invalid TOML: what is wrong" on a syntax error.
std::vector<TomlNode> read_toml(std::string_view text, const std::string& path);

}  // namespace scalectl::config::detail
