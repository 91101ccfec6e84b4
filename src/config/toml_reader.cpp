#include "toml_reader.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/core/text.hpp>
#include <scalectl/error.hpp>

// toml++ 3.3 asserts on some malformed input that its parser then reports as an error anyway
// ("[" then a newline; found by fuzz_toml_config). A config file is user input, so in every
// build type that is an error, not an abort; release builds with GCC already behave so.
#define TOML_ASSERT(expr) static_cast<void>(0)
#define TOML_ENABLE_FORMATTERS 0
#define TOML_ENABLE_WINDOWS_COMPAT 0
#include <toml++/toml.h>

namespace scalectl::config::detail {

namespace {

std::string kind_name(toml::node_type type)
{
  switch (type) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// An inline table of scalars as one JSON object text, for arrays of tables such as
// `policies = [{ pods = 4, period = "15s" }]`; nullopt when a value is not a scalar.
std::optional<std::string> table_as_json(const toml::table& table)
{
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, node] : table) {
    if (const auto* text = node.as_string()) {
      out[std::string(key.str())] = text->get();
    } else if (const auto* integer = node.as_integer()) {
      out[std::string(key.str())] = integer->get();
    } else if (const auto* number = node.as_floating_point()) {
      out[std::string(key.str())] = number->get();
    } else if (const auto* flag = node.as_boolean()) {
      out[std::string(key.str())] = flag->get();
    } else {
      return std::nullopt;
    }
  }
  return out.dump();
}

std::optional<Value> to_value(const toml::node& node)
{
  if (const auto* text = node.as_string()) {
    return Value(text->get());
  }
  if (const auto* integer = node.as_integer()) {
    return Value(integer->get());
  }
  if (const auto* number = node.as_floating_point()) {
    return Value(number->get());
  }
  if (const auto* flag = node.as_boolean()) {
    return Value(flag->get());
  }
  if (const auto* array = node.as_array()) {
    std::vector<std::string> items;
    for (const toml::node& item : *array) {
      if (const auto* table = item.as_table()) {
        auto json = table_as_json(*table);
        if (!json) {
          return std::nullopt;
        }
        items.push_back(std::move(*json));
        continue;
      }
      const auto* text = item.as_string();
      if (text == nullptr) {
        return std::nullopt;
      }
      items.push_back(text->get());
    }
    return Value(std::move(items));
  }
  return std::nullopt;
}

void walk(const toml::table& table, std::vector<std::string>& path, std::vector<TomlNode>& out)
{
  for (const auto& [key, node] : table) {
    path.emplace_back(key.str());
    const toml::source_position& at = key.source().begin;
    out.push_back(TomlNode{.path = path, .kind = kind_name(node.type()), .value = to_value(node),
                           .line = at.line, .column = at.column});
    if (const auto* child = node.as_table()) {
      walk(*child, path, out);
    }
    path.pop_back();
  }
}

}  // namespace

namespace {

// Refuses what TOML 1.0 forbids everywhere before toml++ sees it: a document that is not UTF-8,
// and control characters other than tab, LF and CR (allowed in no key, value or comment).
// toml++ 3.3 asserts (debug) or reaches __builtin_unreachable (release) on some such inputs;
// the fuzz target fuzz_toml_config found both.
void require_toml_text(std::string_view text, const std::string& path)
{
  const auto where = [&](std::size_t offset) {
    const std::string_view before = text.substr(0, offset);
    const auto line = 1 + static_cast<std::size_t>(std::ranges::count(before, '\n'));
    const auto line_start = before.rfind('\n');
    const auto column = offset - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
    return fmt::format("{}:{}:{}", path, line, column);
  };
  if (const auto bad = core::invalid_utf8_offset(text)) {
    throw usage_error(fmt::format("{}: invalid TOML: not UTF-8 (byte 0x{:02x}); save the file as UTF-8", where(*bad),
                                  static_cast<unsigned char>(text[*bad])));
  }
  // Outside strings and comments TOML 1.0 is ASCII (bare keys, numbers, punctuation). toml++ 3.3
  // classifies a non-ASCII character there with a table that reaches __builtin_unreachable for
  // most of U+00A1..U+FEFF, so such a character is refused here, naming its position.
  enum class In { code, comment, basic, literal, multi_basic, multi_literal } in = In::code;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if ((byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') || byte == 0x7f) {
      throw usage_error(fmt::format("{}: invalid TOML: control character 0x{:02x}; write it as an escape inside a "
                                    "string, or remove it",
                                    where(i), byte));
    }
    const std::string_view rest = text.substr(i);
    switch (in) {
    case In::code:
      if (byte >= 0x80) {
        throw usage_error(fmt::format("{}: invalid TOML: a non-ASCII character outside a string or comment; quote "
                                      "the key or value",
                                      where(i)));
      }
      if (byte == '#') {
        in = In::comment;
      } else if (rest.starts_with("\"\"\"") || rest.starts_with("'''")) {
        in = byte == '"' ? In::multi_basic : In::multi_literal;
        i += 2;
      } else if (byte == '"' || byte == '\'') {
        in = byte == '"' ? In::basic : In::literal;
      }
      break;
    case In::comment:
      in = byte == '\n' ? In::code : In::comment;
      break;
    case In::basic:
    case In::multi_basic:
      if (byte == '\\') {
        ++i;  // an escaped character never ends the string
      } else if (in == In::basic ? (byte == '"' || byte == '\n') : rest.starts_with("\"\"\"")) {
        i += in == In::basic ? 0 : 2;
        in = In::code;
      }
      break;
    case In::literal:
    case In::multi_literal:
      if (in == In::literal ? (byte == '\'' || byte == '\n') : rest.starts_with("'''")) {
        i += in == In::literal ? 0 : 2;
        in = In::code;
      }
      break;
    }
  }
}

}  // namespace

std::vector<TomlNode> read_toml(std::string_view text, const std::string& path)
{
  require_toml_text(text, path);
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& error) {
    const toml::source_position& at = error.source().begin;
    throw usage_error(fmt::format("{}:{}:{}: invalid TOML: {}", path, at.line, at.column, error.description()));
  }
  std::vector<TomlNode> nodes;
  std::vector<std::string> key_path;
  walk(root, key_path, nodes);
  std::ranges::stable_sort(nodes, [](const TomlNode& a, const TomlNode& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return nodes;
}

}  // namespace scalectl::config::detail
