#include "toml_reader.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/error.hpp>

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

std::vector<TomlNode> read_toml(std::string_view text, const std::string& path)
{
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
