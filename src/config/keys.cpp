#include "keys.hpp"

#include <algorithm>
#include <cctype>

namespace scalectl::config::detail {

namespace {

enum class Match { none, full, key_is_prefix };

// Splits off the next dotted segment of `rest`.
std::string_view next_segment(std::string_view& rest)
{
  const std::size_t dot = rest.find('.');
  const std::string_view segment = rest.substr(0, dot);
  rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
  return segment;
}

// Compares `key` with the schema `pattern` segment by segment; "*" matches one table name.
Match match(std::string_view pattern, std::string_view key)
{
  while (!key.empty()) {
    if (pattern.empty()) {
      return Match::none;
    }
    const std::string_view want = next_segment(pattern);
    const std::string_view have = next_segment(key);
    if (have.empty() || (want != "*" && want != have)) {
      return Match::none;
    }
  }
  return pattern.empty() ? Match::full : Match::key_is_prefix;
}

}  // namespace

ValueType value_type(const KeyInfo& info)
{
  if (info.type == "int") {
    return ValueType::integer;
  }
  if (info.type == "number") {
    return ValueType::number;
  }
  if (info.type == "bool") {
    return ValueType::boolean;
  }
  if (info.type == "duration") {
    return ValueType::duration;
  }
  if (info.type == "strings") {
    return ValueType::strings;
  }
  if (info.type == "slugs") {
    return ValueType::slugs;
  }
  return ValueType::string;
}

std::string_view describe_type(ValueType type)
{
  switch (type) {
    case ValueType::string:
      return "string";
    case ValueType::integer:
      return "integer";
    case ValueType::number:
      return "number";
    case ValueType::boolean:
      return "boolean";
    case ValueType::duration:
      return "duration (\"30s\", \"5m\" or an integer of seconds)";
    case ValueType::strings:
      return "array of strings";
    case ValueType::slugs:
      return "string or non-empty array of strings";
  }
  return "string";
}

const KeyInfo* find_key_info(std::string_view key)
{
  for (const KeyInfo& info : schema()) {
    if (match(info.key, key) == Match::full) {
      return &info;
    }
  }
  return nullptr;
}

bool is_table(std::string_view key)
{
  return std::ranges::any_of(schema(), [&](const KeyInfo& info) { return match(info.key, key) == Match::key_is_prefix; });
}

std::optional<std::string> wildcard_table_of(std::string_view key)
{
  for (const KeyInfo& info : schema()) {
    const std::size_t star = info.key.find(".*");
    if (star == std::string::npos) {
      continue;
    }
    const std::string_view table_pattern = std::string_view(info.key).substr(0, star + 2);
    std::string_view rest = key;
    bool matched = true;
    for (std::string_view pattern = table_pattern; matched && !pattern.empty();) {
      const std::string_view want = next_segment(pattern);
      const std::string_view have = next_segment(rest);
      matched = !have.empty() && (want == "*" || want == have);
    }
    if (matched) {
      return std::string(key.substr(0, rest.empty() ? key.size() : key.size() - rest.size() - 1));
    }
  }
  return std::nullopt;
}

std::optional<std::string> instantiate(std::string_view pattern, std::string_view table)
{
  const std::size_t star = pattern.find(".*");
  if (star == std::string_view::npos || match(pattern.substr(0, star + 2), table) != Match::full) {
    return std::nullopt;
  }
  return std::string(table) + std::string(pattern.substr(star + 2));
}

std::string generic_env_name(std::string_view key)
{
  std::string name = "SCALECTL_";
  for (const char c : key) {
    name += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

bool is_bare_name(std::string_view name)
{
  return !name.empty() && std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

}  // namespace scalectl::config::detail
